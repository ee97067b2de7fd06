//! Which caller a server's messages belong to (ARCHITECTURE.md rule 9).
//!
//! While a server serves a call it may turn to its client — sampling, elicitation, roots — or
//! report progress. The gateway (the caller) registers a [`CallRoute`] for each request
//! *before* sending it (rule 19: a server can answer faster than `send_request` returns) and
//! adds the request's id and progress token once rmcp has assigned them; [`Routes`] finds the
//! route of each message that comes back (a lookup by id or token that misses while a request
//! is still being sent waits for it):
//!
//! - **Progress** carries the request's progress token.
//! - **Server→client requests** on Streamable HTTP arrive on the response stream of the request
//!   they belong to (rmcp marks them [`InboundStreamOrigin::OutboundRequest`]).
//! - Otherwise (stdio, or the GET stream) nothing links a request to a call. Then it goes to
//!   the one client session that has calls in flight on this connection; with none, or with
//!   calls of several sessions in flight, nobody can be named and the server gets a clear error
//!   ([`Unroutable`]) — never a guess, never an answer on the user's behalf.
//!
//! Server-wide notifications (log messages, resource updates, task status) go to the
//! [`Downstream`] the gateway installs.

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rmcp::model::{
    ClientResult, ErrorData, LoggingMessageNotificationParam, ProgressNotificationParam,
    ProgressToken, RequestId, ServerRequest, TaskStatusNotificationParams,
};
use rmcp::service::InboundStreamOrigin;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

/// A request a server sent to its client (Loopgate) while serving a call.
#[derive(Debug)]
pub struct Inbound {
    /// The request as the server sent it (sampling, elicitation, roots, or another method).
    pub request: ServerRequest,
    /// Where the client's answer (or an error for the server) goes.
    pub reply: oneshot::Sender<Result<ClientResult, ErrorData>>,
    /// Cancelled when the server withdraws the request (`notifications/cancelled`).
    pub withdrawn: CancellationToken,
}

/// Identifies the client session a call belongs to: calls of one initialize-based session
/// share it; every stateless (2026-07-28) request has its own.
pub type OwnerKey = u64;

/// Where the messages belonging to one call go.
///
/// The channels carry each message in a [`Box`]: tokio's `mpsc` allocates a block of 32 slots
/// with every channel, and slots of these messages (136–328 bytes) made that 4–10 KB per
/// channel and call, allocations glibc serves from its slow path (`tests/bench/RESULTS.md`, run N).
/// Most calls send nothing on them; a message that does go pays one small allocation.
#[derive(Debug)]
pub struct CallRoute {
    /// The client session that made the call.
    pub owner: OwnerKey,
    /// Server→client requests.
    pub inbound: mpsc::Sender<Box<Inbound>>,
    /// What the server says about the call ([`CallNotification`]), on one channel so that
    /// their order holds (ARCHITECTURE.md rule 21); `None` when nobody listens.
    pub notifications: Option<mpsc::Sender<Box<CallNotification>>>,
    /// Whether the caller takes the log messages that arrive while this is the only call in
    /// flight, or on its response stream: a 2026-07-28 caller, which has no session to get
    /// them on.
    pub takes_logs: bool,
}

/// What a server says about a call while serving it, for the call's caller.
#[derive(Debug)]
pub enum CallNotification {
    /// A progress notification, with the server's token (the caller maps it).
    Progress(ProgressNotificationParam),
    /// A log message (only to a route that [takes them](CallRoute::takes_logs)).
    Log(LoggingMessageNotificationParam),
}

impl CallRoute {
    /// Hands the call's progress `params` to its caller; `false` when nobody listens. As
    /// rmcp's client service does, a caller that cannot keep up misses some.
    pub fn progress(&self, params: ProgressNotificationParam) -> bool {
        match &self.notifications {
            Some(tx) => {
                let _ = tx.try_send(Box::new(CallNotification::Progress(params)));
                true
            }
            None => false,
        }
    }

    /// Hands a log message to the caller when it [takes them](CallRoute::takes_logs) (a
    /// caller that cannot keep up misses some).
    pub fn log(&self, params: LoggingMessageNotificationParam) {
        if let (true, Some(tx)) = (self.takes_logs, &self.notifications) {
            let _ = tx.try_send(Box::new(CallNotification::Log(params)));
        }
    }
}

/// Which of a connection's two channels a message came on: the initialize-based session or
/// the stateless 2026-07-28 requests (their request ids and progress tokens are separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The initialize-based session.
    Session,
    /// Stateless 2026-07-28 requests.
    Stateless,
}

/// Notifications a server sends that belong to no single call.
pub trait Downstream: Send + Sync {
    /// A `notifications/message` from `server`.
    fn logging_message(&self, server: &str, message: LoggingMessageNotificationParam);
    /// A `notifications/resources/updated` for `uri` from `server`.
    fn resource_updated(&self, server: &str, uri: &str);
    /// A `notifications/tasks` (task status) from `server`.
    fn task_status(&self, server: &str, params: TaskStatusNotificationParams);
}

/// Why a server's request reached nobody.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unroutable {
    /// No call is in flight on this connection.
    #[error("{}, so no client can answer it", crate::logging::NO_CALL_IN_PROGRESS)]
    NoCall,
    /// Calls of several client sessions are in flight and nothing says which one this is for.
    #[error("calls of {0} clients are in progress on this server's connection and the request does not say which one it belongs to; Loopgate refuses rather than guess — retry when only one client is calling this server")]
    Ambiguous(usize),
    /// The call it belongs to has already ended.
    #[error("the call this request belongs to has already ended")]
    Ended,
}

#[derive(Debug)]
struct Entry {
    channel: Channel,
    route: Arc<CallRoute>,
    /// Set once the request is on its way ([`Registration::sent`]).
    keys: Option<(RequestId, ProgressToken)>,
}

#[derive(Default)]
struct Table {
    /// Every call in flight by registration number (ascending = registration order).
    entries: BTreeMap<u64, Entry>,
    calls: HashMap<(Channel, RequestId), u64>,
    tokens: HashMap<(Channel, ProgressToken), u64>,
    next: u64,
}

impl Table {
    /// Whether a call on `channel` is registered but its request id not known yet.
    fn sending(&self, channel: Channel) -> bool {
        self.entries
            .values()
            .any(|e| e.channel == channel && e.keys.is_none())
    }
}

/// The calls in flight on one connection. Shared by the connection (which registers) and its
/// client handlers (which look up).
#[derive(Default)]
pub struct Routes {
    table: Mutex<Table>,
    /// Woken whenever a registration learns its request id.
    keyed: Notify,
    downstream: OnceLock<Arc<dyn Downstream>>,
}

/// A call's place in [`Routes`], taken before its request is sent; removed when dropped.
pub struct Registration {
    routes: Arc<Routes>,
    slot: u64,
}

impl Registration {
    /// Records the id and progress token rmcp gave the request, so messages naming either
    /// find this call (and lookups waiting for them wake up).
    pub fn sent(&self, id: RequestId, token: ProgressToken) {
        let mut t = self.routes.lock();
        let Some(entry) = t.entries.get_mut(&self.slot) else {
            return;
        };
        let channel = entry.channel;
        entry.keys = Some((id.clone(), token.clone()));
        t.calls.insert((channel, id), self.slot);
        t.tokens.insert((channel, token), self.slot);
        drop(t);
        self.routes.keyed.notify_waiters();
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut t = self.routes.lock();
        if let Some(entry) = t.entries.remove(&self.slot) {
            if let Some((id, token)) = entry.keys {
                t.calls.remove(&(entry.channel, id));
                t.tokens.remove(&(entry.channel, token));
            }
        }
        drop(t);
        // A lookup waiting for this call's id gives up now.
        self.routes.keyed.notify_waiters();
    }
}

/// How long a lookup by request id or progress token waits for a call whose request is still
/// being handed to rmcp (normally microseconds; bounded so a stuck send cannot hold a handler).
const KEYING_WAIT: Duration = Duration::from_secs(5);

impl Routes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs where server-wide notifications go (once; later calls are ignored).
    pub fn set_downstream(&self, downstream: Arc<dyn Downstream>) {
        let _ = self.downstream.set(downstream);
    }

    /// The installed downstream, if any.
    pub fn downstream(&self) -> Option<&Arc<dyn Downstream>> {
        self.downstream.get()
    }

    /// Registers the route of a call about to be sent on `channel`, before it is sent: the
    /// server may turn to its client before `send_request` returns. The route lives until the
    /// returned guard is dropped; [`Registration::sent`] adds the request's id and token.
    pub fn register(self: &Arc<Self>, channel: Channel, route: Arc<CallRoute>) -> Registration {
        let mut t = self.lock();
        let slot = t.next;
        t.next += 1;
        t.entries.insert(
            slot,
            Entry {
                channel,
                route,
                keys: None,
            },
        );
        Registration {
            routes: self.clone(),
            slot,
        }
    }

    /// Looks `find` up; while it finds nothing and a call on `channel` is still being sent,
    /// waits (at most [`KEYING_WAIT`]) for that call's id and looks again.
    async fn keyed_lookup<T>(
        &self,
        channel: Channel,
        find: impl Fn(&Table) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + KEYING_WAIT;
        loop {
            let notified = self.keyed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let t = self.lock();
                if let Some(found) = find(&t) {
                    return Some(found);
                }
                if !t.sending(channel) {
                    return None;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// The route of progress `token` on `channel`.
    pub async fn by_token(
        &self,
        channel: Channel,
        token: &ProgressToken,
    ) -> Option<Arc<CallRoute>> {
        let key = (channel, token.clone());
        self.keyed_lookup(channel, |t| {
            t.tokens
                .get(&key)
                .and_then(|slot| t.entries.get(slot))
                .map(|e| e.route.clone())
        })
        .await
    }

    /// The route of a server→client request that arrived on `channel` (see the module rules).
    pub async fn for_request(
        &self,
        channel: Channel,
        origin: Option<&InboundStreamOrigin>,
    ) -> Result<Arc<CallRoute>, Unroutable> {
        if let Some(InboundStreamOrigin::OutboundRequest(id)) = origin {
            let key = (channel, id.clone());
            return self
                .keyed_lookup(channel, |t| {
                    t.calls
                        .get(&key)
                        .and_then(|slot| t.entries.get(slot))
                        .map(|e| e.route.clone())
                })
                .await
                .ok_or(Unroutable::Ended);
        }
        let t = self.lock();
        let mut owners: Vec<OwnerKey> = t.entries.values().map(|e| e.route.owner).collect();
        owners.sort_unstable();
        owners.dedup();
        match owners.len() {
            0 => Err(Unroutable::NoCall),
            // The one session's most recent call.
            1 => t
                .entries
                .values()
                .next_back()
                .map(|e| e.route.clone())
                .ok_or(Unroutable::NoCall),
            n => Err(Unroutable::Ambiguous(n)),
        }
    }

    /// The route of the only call in flight, when there is exactly one (for notifications that
    /// carry no token, e.g. log messages meant for a stateless caller).
    pub fn only_call(&self) -> Option<Arc<CallRoute>> {
        let t = self.lock();
        (t.entries.len() == 1)
            .then(|| t.entries.values().next().map(|e| e.route.clone()))
            .flatten()
    }

    /// How many calls are in flight.
    pub fn in_flight(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(owner: OwnerKey) -> (Arc<CallRoute>, mpsc::Receiver<Box<Inbound>>) {
        let (tx, rx) = mpsc::channel(4);
        (
            Arc::new(CallRoute {
                owner,
                inbound: tx,
                notifications: None,
                takes_logs: false,
            }),
            rx,
        )
    }

    fn id(n: i64) -> RequestId {
        RequestId::Number(n)
    }

    fn token(n: i64) -> ProgressToken {
        ProgressToken(rmcp::model::NumberOrString::Number(n))
    }

    #[tokio::test]
    async fn requests_reach_their_call_or_nobody() {
        let routes = Arc::new(Routes::default());
        assert_eq!(
            routes
                .for_request(Channel::Session, None)
                .await
                .unwrap_err(),
            Unroutable::NoCall
        );
        let (a, _ra) = route(1);
        let (b, _rb) = route(1);
        let (c, _rc) = route(2);
        let ga = routes.register(Channel::Session, a.clone());
        ga.sent(id(1), token(1));
        let gb = routes.register(Channel::Session, b.clone());
        gb.sent(id(2), token(2));
        // One session with two calls: its most recent call takes it.
        let got = routes.for_request(Channel::Session, None).await.unwrap();
        assert!(Arc::ptr_eq(&got, &b));
        // A second session: only a request that names its call can be routed.
        let gc = routes.register(Channel::Session, c.clone());
        gc.sent(id(3), token(3));
        assert_eq!(
            routes
                .for_request(Channel::Session, None)
                .await
                .unwrap_err(),
            Unroutable::Ambiguous(2)
        );
        let named = InboundStreamOrigin::OutboundRequest(id(3));
        assert!(Arc::ptr_eq(
            &routes
                .for_request(Channel::Session, Some(&named))
                .await
                .unwrap(),
            &c
        ));
        // Ids of the two channels are separate.
        assert_eq!(
            routes
                .for_request(Channel::Stateless, Some(&named))
                .await
                .unwrap_err(),
            Unroutable::Ended
        );
        assert!(Arc::ptr_eq(
            &routes.by_token(Channel::Session, &token(1)).await.unwrap(),
            &a
        ));
        drop((ga, gb));
        assert!(Arc::ptr_eq(&routes.only_call().unwrap(), &c));
        drop(gc);
        assert_eq!(routes.in_flight(), 0);
        assert!(routes.by_token(Channel::Session, &token(3)).await.is_none());
    }

    /// The race CI hit: a stdio server asked for elicitation before `send_request` returned
    /// (the call was registered only afterwards, so the server was told no call was in flight).
    #[tokio::test]
    async fn a_call_is_routable_before_its_request_id_is_known() {
        let routes = Arc::new(Routes::default());
        let (a, _ra) = route(1);
        let reg = routes.register(Channel::Session, a.clone());
        // Unnamed (stdio): routed at once.
        assert!(Arc::ptr_eq(
            &routes.for_request(Channel::Session, None).await.unwrap(),
            &a
        ));
        // Named by id or token (HTTP response stream, progress): waits until the id is known.
        let named = InboundStreamOrigin::OutboundRequest(id(7));
        let lookup = {
            let routes = routes.clone();
            tokio::spawn(async move {
                let by_id = routes.for_request(Channel::Session, Some(&named)).await;
                let by_token = routes.by_token(Channel::Session, &token(7)).await;
                (by_id.map(|r| r.owner), by_token.map(|r| r.owner))
            })
        };
        tokio::task::yield_now().await;
        assert!(!lookup.is_finished());
        reg.sent(id(7), token(7));
        assert_eq!(lookup.await.unwrap(), (Ok(1), Some(1)));
        // A lookup for an id nobody is sending gives up at once, and so does one whose call
        // ends before it is keyed.
        let other = InboundStreamOrigin::OutboundRequest(id(8));
        assert_eq!(
            routes
                .for_request(Channel::Session, Some(&other))
                .await
                .unwrap_err(),
            Unroutable::Ended
        );
        let (b, _rb) = route(2);
        let pending = routes.register(Channel::Session, b);
        let waiting = {
            let routes = routes.clone();
            tokio::spawn(
                async move { routes.by_token(Channel::Session, &token(9)).await.is_none() },
            )
        };
        tokio::task::yield_now().await;
        drop(pending);
        drop(reg);
        assert!(waiting.await.unwrap());
        assert_eq!(routes.in_flight(), 0);
    }

    #[test]
    fn a_calls_progress_and_log_messages_reach_it_in_order_and_logs_only_when_taken() {
        let progress = |n: f64| ProgressNotificationParam::new(ProgressToken(id(1)), n);
        let log = || {
            LoggingMessageNotificationParam::new(
                rmcp::model::LoggingLevel::Info,
                serde_json::json!("m"),
            )
        };
        let (inbound, _) = mpsc::channel(1);
        let (tx, mut rx) = mpsc::channel(4);
        let mut stateless = CallRoute {
            owner: 1,
            inbound,
            notifications: Some(tx),
            takes_logs: true,
        };
        assert!(stateless.progress(progress(1.0)));
        stateless.log(log());
        assert!(stateless.progress(progress(2.0)));
        let order: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|n| match *n {
                CallNotification::Progress(p) => format!("progress {}", p.progress),
                CallNotification::Log(_) => "log".into(),
            })
            .collect();
        assert_eq!(order, ["progress 1", "log", "progress 2"]);
        // A session's caller gets its log messages on its session, not with the call.
        stateless.takes_logs = false;
        stateless.log(log());
        assert!(rx.try_recv().is_err());
        // Nobody listening: the progress is not taken.
        let (nobody, _rx) = route(2);
        assert!(!nobody.progress(progress(1.0)));
    }
}
