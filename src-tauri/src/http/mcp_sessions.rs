//! The client sessions of `/mcp`: rmcp's in-memory session manager, bounded and fitted to
//! the clients that use it.
//!
//! [`ManagedSessions`] wraps [`LocalSessionManager`] and adds what a gateway open to every
//! program of the user needs:
//!
//! - **Idle expiry:** a session with no traffic for the idle timeout ends; its client gets 404
//!   on its next request and, as the spec says, starts a new session. Traffic is every request
//!   through rmcp and every one the front end serves itself ([`super::direct`], which rmcp's
//!   own idle timer, `keep_alive`, would not see: it is off, and a sweep task ends idle
//!   sessions instead). The default, [`DEFAULT_IDLE`], outlasts a night with the laptop
//!   asleep. rmcp 3.11 ends the session's worker but keeps its entry in the session map
//!   forever; here the entry goes when the session's transport is dropped
//!   ([`TrackedTransport`]), so an expired session's memory is freed — and, once a burst of
//!   them settles, handed back to the OS ([`crate::memory::Trimmer`]).
//! - **A cap:** at most `max` sessions exist; creating one more ends the least recently used
//!   (a loop of `initialize` cannot grow memory without bound).
//! - **Priming events only for clients that understand them:** an SSE stream's first event
//!   may be an empty "priming" event (an id and a retry delay, for resumption; SEP-1699, new in
//!   2025-11-25). Older clients parse every event's data as JSON, and Gemini CLI lists no
//!   tools when it meets one, so sessions that negotiated an older revision get none — as the
//!   official SDK servers do.
//! - **An owner from the first message:** the credential ([`Caller`]) that sent a session's
//!   `initialize` is kept with the session ([`ManagedSessions::foreign`]), so the front end
//!   can refuse another client's requests to it even before `notifications/initialized`
//!   registers the session for its own serving ([`super::direct::Direct::serve`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, GetExtensions, ServerJsonRpcMessage};
use rmcp::transport::common::server_side_http::{ServerSseMessage, SessionId};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::SessionManager;

use crate::caller::Caller;

/// Default idle time after which a client session ends (24 hours).
pub const DEFAULT_IDLE: Duration = Duration::from_secs(24 * 3600);
/// Default most client sessions at once.
pub const DEFAULT_MAX_SESSIONS: usize = 512;
/// The first revision whose clients accept priming events.
const PRIMING_SINCE: &str = "2025-11-25";

#[derive(Debug)]
struct Meta {
    last_active: Instant,
    priming: bool,
    /// Who sent the session's `initialize` (`None` until it is answered).
    owner: Option<Caller>,
}

/// rmcp's [`LocalSessionManager`] with idle expiry, a cap and version-aware priming (see the
/// module docs). Clones share the same sessions.
#[derive(Clone)]
pub struct ManagedSessions {
    inner: Arc<LocalSessionManager>,
    meta: Arc<Mutex<HashMap<SessionId, Meta>>>,
    max: usize,
    trimmer: crate::memory::Trimmer,
}

/// The transport of one session (rmcp's), which forgets the session when dropped: the
/// session's handler stopped, because the client deleted it, it idled out or the gateway is
/// stopping.
pub struct TrackedTransport {
    inner: <LocalSessionManager as SessionManager>::Transport,
    id: SessionId,
    sessions: Weak<LocalSessionManager>,
    meta: Weak<Mutex<HashMap<SessionId, Meta>>>,
    trimmer: crate::memory::Trimmer,
}

impl Drop for TrackedTransport {
    fn drop(&mut self) {
        self.trimmer.released();
        if let Some(meta) = self.meta.upgrade() {
            meta.lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.id);
        }
        let (Some(sessions), id) = (self.sessions.upgrade(), self.id.clone()) else {
            return;
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                sessions.sessions.write().await.remove(&id);
            });
        }
    }
}

impl rmcp::transport::Transport<rmcp::RoleServer> for TrackedTransport {
    type Error =
        <<LocalSessionManager as SessionManager>::Transport as rmcp::transport::Transport<
            rmcp::RoleServer,
        >>::Error;

    fn send(
        &mut self,
        item: rmcp::service::TxJsonRpcMessage<rmcp::RoleServer>,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    fn receive(
        &mut self,
    ) -> impl std::future::Future<Output = Option<rmcp::service::RxJsonRpcMessage<rmcp::RoleServer>>>
           + Send {
        self.inner.receive()
    }

    fn close(&mut self) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

impl ManagedSessions {
    /// Sessions that end after `idle` without traffic, at most `max` at once. Idle sessions
    /// are ended by a task on the current tokio runtime (none outside one), which looks every
    /// quarter of `idle` (at least every 100 ms, at most every minute) and stops with the last
    /// clone.
    pub fn new(idle: Duration, max: usize) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = None;
        let sessions = Self {
            inner: Arc::new(inner),
            meta: Default::default(),
            max: max.max(1),
            trimmer: crate::memory::Trimmer::start(),
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(expire_idle(
                Arc::downgrade(&sessions.inner),
                Arc::downgrade(&sessions.meta),
                idle,
            ));
        }
        sessions
    }

    /// Number of live sessions.
    pub async fn len(&self) -> usize {
        self.inner.sessions.read().await.len()
    }

    /// Whether there are no live sessions.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// Records traffic on session `id` (it is not idle); returns whether its client accepts
    /// priming events (`true` for a session this manager does not know).
    pub fn touch(&self, id: &str) -> bool {
        let mut meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
        match meta.get_mut(id) {
            Some(m) => {
                m.last_active = Instant::now();
                m.priming
            }
            None => true,
        }
    }

    /// Whether session `id` was opened by a caller other than `caller` (the credential its
    /// `initialize` came with). `false` for a session this manager does not know, or whose
    /// `initialize` has not been answered yet: rmcp answers those itself.
    pub fn foreign(&self, id: &str, caller: &Caller) -> bool {
        let meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
        meta.get(id)
            .and_then(|m| m.owner.as_ref())
            .is_some_and(|owner| owner != caller)
    }

    /// Drops bookkeeping of sessions that ended, then, at the cap, ends the least recently
    /// used one.
    async fn make_room(&self) {
        let live: Vec<SessionId> = self.inner.sessions.read().await.keys().cloned().collect();
        let oldest = {
            let mut meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
            meta.retain(|id, _| live.contains(id));
            if live.len() < self.max {
                return;
            }
            meta.iter()
                .min_by_key(|(_, m)| m.last_active)
                .map(|(id, _)| id.clone())
                .or_else(|| live.first().cloned())
        };
        if let Some(id) = oldest {
            tracing::info!(
                "{} client sessions open (the most allowed); ending the least recently used",
                live.len()
            );
            self.meta
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            let _ = self.inner.close_session(&id).await;
        }
    }
}

/// Ends the sessions idle for `idle` or longer, every quarter of `idle` (see
/// [`ManagedSessions::new`]), until the sessions are gone.
async fn expire_idle(
    inner: Weak<LocalSessionManager>,
    meta: Weak<Mutex<HashMap<SessionId, Meta>>>,
    idle: Duration,
) {
    let every = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
    loop {
        tokio::time::sleep(every).await;
        let (Some(inner), Some(meta)) = (inner.upgrade(), meta.upgrade()) else {
            return;
        };
        let expired: Vec<SessionId> = {
            let mut meta = meta.lock().unwrap_or_else(|e| e.into_inner());
            let expired: Vec<SessionId> = meta
                .iter()
                .filter(|(_, m)| m.last_active.elapsed() >= idle)
                .map(|(id, _)| id.clone())
                .collect();
            for id in &expired {
                meta.remove(id);
            }
            expired
        };
        for id in expired {
            tracing::debug!("client session {id} idle for {idle:?}; ending it");
            let _ = inner.close_session(&id).await;
        }
    }
}

/// `stream` without priming events when `priming` is false.
fn primed(
    stream: impl Stream<Item = ServerSseMessage> + Send + Sync + 'static,
    priming: bool,
) -> impl Stream<Item = ServerSseMessage> + Send + Sync + 'static {
    stream.filter(move |m| std::future::ready(priming || m.message.is_some()))
}

impl SessionManager for ManagedSessions {
    type Error = <LocalSessionManager as SessionManager>::Error;
    type Transport = TrackedTransport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        self.make_room().await;
        let (id, inner) = self.inner.create_session().await?;
        let transport = TrackedTransport {
            inner,
            id: id.clone(),
            sessions: Arc::downgrade(&self.inner),
            meta: Arc::downgrade(&self.meta),
            trimmer: self.trimmer.clone(),
        };
        self.meta.lock().unwrap_or_else(|e| e.into_inner()).insert(
            id.clone(),
            Meta {
                last_active: Instant::now(),
                priming: false,
                owner: None,
            },
        );
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        if let ClientJsonRpcMessage::Request(r) = &message {
            if let ClientRequest::InitializeRequest(init) = &r.request {
                let version = init.params.protocol_version.to_string();
                if let Some(m) = self
                    .meta
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_mut(id)
                {
                    m.priming = version.as_str() >= PRIMING_SINCE;
                    // rmcp put the HTTP request's parts, with the guard's caller, on it.
                    m.owner = Some(Caller::of_message(r.request.extensions()));
                }
            }
        }
        self.touch(id);
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.meta
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let priming = self.touch(id);
        Ok(primed(
            self.inner.create_stream(id, message).await?,
            priming,
        ))
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.touch(id);
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let priming = self.touch(id);
        Ok(primed(
            self.inner.create_standalone_stream(id).await?,
            priming,
        ))
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let priming = self.touch(id);
        Ok(primed(self.inner.resume(id, last_event_id).await?, priming))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session whose traffic rmcp never sees (the calls `http::direct` serves) stays while
    /// it is used; one left alone ends after the idle time, and its bookkeeping goes with it.
    #[tokio::test]
    async fn a_used_session_stays_and_an_idle_one_ends() {
        let sessions = ManagedSessions::new(Duration::from_millis(300), 10);
        let (used, _used_transport) = sessions.create_session().await.unwrap();
        let (idle, _idle_transport) = sessions.create_session().await.unwrap();
        for _ in 0..16 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            sessions.touch(&used);
        }
        assert!(sessions.has_session(&used).await.unwrap());
        assert!(!sessions.has_session(&idle).await.unwrap());
        assert!(!sessions.meta.lock().unwrap().contains_key(&idle));
        assert_eq!(sessions.len().await, 1);
    }

    /// A session is another caller's only once its `initialize` recorded an owner; unknown
    /// sessions are rmcp's to refuse.
    #[tokio::test]
    async fn a_session_is_foreign_to_callers_other_than_its_owner() {
        let sessions = ManagedSessions::new(DEFAULT_IDLE, 10);
        let (id, _transport) = sessions.create_session().await.unwrap();
        let cursor = Caller::Client("cursor".into());
        assert!(
            !sessions.foreign(&id, &cursor),
            "no initialize answered yet"
        );
        sessions.meta.lock().unwrap().get_mut(&id).unwrap().owner = Some(Caller::Gateway);
        assert!(sessions.foreign(&id, &cursor));
        assert!(sessions.foreign(&id, &Caller::Anonymous));
        assert!(!sessions.foreign(&id, &Caller::Gateway));
        assert!(!sessions.foreign("unknown", &cursor));
    }
}
