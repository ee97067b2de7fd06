//! Client sessions whose requests the front end serves itself, on the request's own task,
//! and the channel that carries what goes back to the client during such a request.
//!
//! rmcp serves a session's request by handing it to the session's worker task, from there to
//! its service task, which spawns a task for the request; the answer travels the same tasks
//! back. For a relayed call that is most of what the gateway adds to a call (RESULTS.md run
//! K). Once a session is initialized (`notifications/initialized`), it is registered here
//! under the id its transport issued ([`DirectSessions`]); the front end then runs a relayed
//! call's handler itself, with the request's context built as rmcp builds it, and the same
//! [`Recorded`] handler rmcp would call, so recording, checks and result shaping are the same.
//!
//! What the relay sends the client *during* such a call (a server's request, progress, log
//! messages) cannot go through rmcp's session, which does not know the request and would put
//! it on the session's GET stream. It goes through the call's [`CallChannel`] instead, which
//! the front end turns into the request's own event stream; the client's answer to a
//! server's request comes back through [`Calls::answer`], its `notifications/cancelled`
//! through [`Calls::cancel`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientJsonRpcMessage, ClientResult, ErrorData, JsonRpcMessage, RequestId, ServerJsonRpcMessage,
    ServerNotification, ServerRequest,
};
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::Recorded;

/// The first id of the requests sent to a client on a [`CallChannel`] (2^32). They are
/// numbers, as a server's requests of the initialize-based era are (clients such as the
/// official SDKs tell a string id for a 2026-07-28 `inputRequests` key), and above every id
/// rmcp gives its own requests on the session (it counts from 0; 2^32 of them would take
/// billions of requests), and below 2^53, so JavaScript clients read them exactly.
const FIRST_ASK_ID: i64 = 1 << 32;

/// Most messages a call's stream holds that its client has not read yet.
pub const CHANNEL_CAPACITY: usize = 64;

/// The initialized client sessions, by the session id their transport issued.
#[derive(Default)]
pub struct DirectSessions {
    by_id: Mutex<HashMap<String, Arc<DirectSession>>>,
    /// Woken on every registration ([`DirectSessions::registered`]).
    registrations: tokio::sync::Notify,
}

impl DirectSessions {
    /// Registers the session `id` (its handler and its rmcp peer); sessions that ended since
    /// are forgotten at the same time.
    pub fn register(&self, id: &str, handler: Recorded, peer: Peer<RoleServer>) {
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| !s.peer.is_transport_closed());
        map.insert(
            id.to_string(),
            Arc::new(DirectSession {
                handler,
                peer,
                calls: Arc::default(),
            }),
        );
        drop(map);
        self.registrations.notify_waiters();
    }

    /// Waits until the session `id` is registered, for at most `within`; returns whether it
    /// is. The front end waits so before it acknowledges a session's
    /// `notifications/initialized`: rmcp's service registers the session on a task of its
    /// own, after the acknowledgement is sent, and a client that calls at once would
    /// otherwise race it (its call then goes rmcp's slower way, where an answer to a server's
    /// request is not checked against the session's owner).
    pub async fn registered(&self, id: &str, within: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.registrations.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.get(id).is_some() {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// The live session `id`, if registered; `None` once it ended (deleted, expired, gateway
    /// stopping), when rmcp's own answer (404) is the right one.
    pub fn get(&self, id: &str) -> Option<Arc<DirectSession>> {
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(id) {
            Some(s) if s.peer.is_transport_closed() => {
                map.remove(id);
                None
            }
            other => other.cloned(),
        }
    }

    /// Number of registered sessions (ended ones included until they are looked up or another
    /// registers).
    pub fn len(&self) -> usize {
        self.by_id.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The answer a client gives to a server's request: its result or its error.
type Answer = Result<ClientResult, ErrorData>;

/// One initialized client session, as [`DirectSessions`] holds it.
pub struct DirectSession {
    /// The handler rmcp serves the session with.
    pub handler: Recorded,
    /// The session's rmcp peer (its client's info and capabilities; notifications that are
    /// not about one call).
    pub peer: Peer<RoleServer>,
    /// The calls the front end runs for it.
    pub calls: Arc<Calls>,
}

/// The calls the front end runs for one session: which are running (to cancel them) and
/// which of the server's requests they asked the client and wait for.
#[derive(Default)]
pub struct Calls {
    next_ask: AtomicU64,
    asked: Mutex<HashMap<RequestId, oneshot::Sender<Answer>>>,
    running: Mutex<HashMap<RequestId, CancellationToken>>,
}

impl Calls {
    /// Marks the client's request `id` as running until the returned guard drops; its
    /// `notifications/cancelled` cancels `ct`.
    pub fn start(self: &Arc<Self>, id: RequestId, ct: CancellationToken) -> Running {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), ct);
        Running {
            session: self.clone(),
            id,
        }
    }

    /// Cancels the running request `id`; `false` when no such request runs here (it may be
    /// one rmcp serves).
    pub fn cancel(&self, id: &RequestId) -> bool {
        let ct = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        ct.map(|ct| ct.cancel()).is_some()
    }

    /// Hands the client's answer (a response or an error) to the request of a
    /// [`CallChannel`] that asked it. `false` when it answers nothing asked here (rmcp's own
    /// requests, a stray id, or not an answer at all): the message is rmcp's to handle.
    pub fn answer(&self, message: ClientJsonRpcMessage) -> bool {
        let (id, answer) = match message {
            JsonRpcMessage::Response(r) => (r.id, Ok(r.result)),
            JsonRpcMessage::Error(e) => match e.id {
                Some(id) => (id, Err(e.error)),
                None => return false,
            },
            _ => return false,
        };
        let waiting = self
            .asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        match waiting {
            Some(tx) => {
                // The asker may have stopped waiting (its call ended): then nobody needs it.
                let _ = tx.send(answer);
                true
            }
            None => false,
        }
    }

    /// A channel for one call and the receiver its messages arrive on, in order. It holds
    /// at most [`CHANNEL_CAPACITY`] messages the client has not read: then the relay waits
    /// (and with it the server's stream), as with rmcp's session. Each message is boxed, as
    /// on a [`crate::upstream::routes::CallRoute`]'s channels: a slot of a whole
    /// `ServerJsonRpcMessage` (496 bytes) made the block tokio allocates with every channel
    /// 16 KB per call.
    pub fn channel(self: &Arc<Self>) -> (CallChannel, mpsc::Receiver<Box<ServerJsonRpcMessage>>) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        (
            CallChannel {
                tx,
                session: self.clone(),
            },
            rx,
        )
    }
}

/// A request of the client's that runs in a session's [`Calls`] (see [`Calls::start`]).
pub struct Running {
    session: Arc<Calls>,
    id: RequestId,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.session
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

/// What goes back to the client during one call the front end serves itself: put into the
/// request context's extensions, where the relay finds it (and then uses it instead of the
/// session's rmcp peer).
#[derive(Clone)]
pub struct CallChannel {
    tx: mpsc::Sender<Box<ServerJsonRpcMessage>>,
    session: Arc<Calls>,
}

impl CallChannel {
    /// Sends `notification` on the call's stream, waiting while the client has
    /// [`CHANNEL_CAPACITY`] messages unread; `false` when the client went away.
    pub async fn notify(&self, notification: ServerNotification) -> bool {
        self.tx
            .send(Box::new(JsonRpcMessage::notification(notification)))
            .await
            .is_ok()
    }

    /// Asks the client `request` on the call's stream and waits for its answer (as long as
    /// the call lasts: the relay stops waiting when the server withdraws the question or the
    /// call ends). Errors: the client's own error, or an internal error when the client went
    /// away before answering.
    pub async fn ask(&self, request: ServerRequest) -> Answer {
        let n = self.session.next_ask.fetch_add(1, Ordering::Relaxed);
        let id = RequestId::Number(FIRST_ASK_ID + n as i64);
        let (tx, rx) = oneshot::channel();
        self.session
            .asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        let forget = Forget {
            session: &self.session,
            id: &id,
        };
        let gone = || {
            ErrorData::internal_error(
                "the client went away before it answered the server's request",
                None,
            )
        };
        if self
            .tx
            .send(Box::new(JsonRpcMessage::request(request, id.clone())))
            .await
            .is_err()
        {
            return Err(gone());
        }
        let answer = rx.await.unwrap_or_else(|_| Err(gone()));
        drop(forget);
        answer
    }
}

/// Removes an ask's entry however its future ends.
struct Forget<'a> {
    session: &'a Calls,
    id: &'a RequestId,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.session
            .asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(self.id);
    }
}

/// Where what goes back to a session client during its call (a server's request, progress,
/// log messages) is sent: the call's own [`CallChannel`] when the front end serves the call
/// itself (it put the channel into the request's extensions), otherwise the session's rmcp
/// peer, which routes it to the call's stream.
#[derive(Clone, Copy)]
pub enum Back<'a> {
    /// The session's rmcp peer (rmcp serves the call).
    Peer(&'a Peer<RoleServer>),
    /// The call's own channel (the front end serves the call).
    Channel(&'a CallChannel),
}

impl<'a> Back<'a> {
    /// The way back for the request of `context`.
    pub fn of(context: &'a RequestContext<RoleServer>) -> Self {
        match context.extensions.get::<CallChannel>() {
            Some(channel) => Back::Channel(channel),
            None => Back::Peer(&context.peer),
        }
    }

    /// Asks the client `request` on the stream of its call and waits for its answer. Errors:
    /// the client's own error, or an internal error when it could not be asked or went away.
    pub async fn ask(self, request: ServerRequest) -> Answer {
        match self {
            Back::Peer(peer) => peer.send_request(request).await.map_err(|e| match e {
                rmcp::ServiceError::McpError(e) => e,
                other => {
                    ErrorData::internal_error(format!("the client did not answer: {other}"), None)
                }
            }),
            Back::Channel(channel) => channel.ask(request).await,
        }
    }

    /// Sends the client a notification about its call; a client that went away misses it.
    pub async fn notify(self, notification: ServerNotification) {
        match self {
            Back::Peer(peer) => {
                let _ = peer.send_notification(notification).await;
            }
            Back::Channel(channel) => {
                channel.notify(notification).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{ListRootsResult, ProgressNotificationParam, ProgressToken};

    fn roots_list() -> ServerRequest {
        ServerRequest::ListRootsRequest(Default::default())
    }

    #[tokio::test]
    async fn an_ask_goes_out_with_a_numeric_id_and_its_answer_comes_back() {
        let calls = Arc::new(Calls::default());
        let (channel, mut rx) = calls.channel();
        let ask = tokio::spawn(async move { channel.ask(roots_list()).await });
        let JsonRpcMessage::Request(sent) = *rx.recv().await.unwrap() else {
            panic!("not a request");
        };
        assert_eq!(sent.id, RequestId::Number(FIRST_ASK_ID));
        assert!(matches!(sent.request, ServerRequest::ListRootsRequest(_)));
        // An answer to something not asked here is handed back (rmcp's own requests).
        let stray = JsonRpcMessage::response(
            ClientResult::ListRootsResult(ListRootsResult::new(vec![])),
            RequestId::Number(7),
        );
        assert!(!calls.answer(stray));
        let answer = JsonRpcMessage::response(
            ClientResult::ListRootsResult(ListRootsResult::new(vec![])),
            sent.id.clone(),
        );
        assert!(calls.answer(answer.clone()));
        assert!(matches!(
            ask.await.unwrap(),
            Ok(ClientResult::ListRootsResult(_))
        ));
        // Answered once: the same id again is not ours any more.
        assert!(!calls.answer(answer));
    }

    #[tokio::test]
    async fn a_clients_error_is_the_asks_error_and_a_client_gone_is_one_too() {
        let calls = Arc::new(Calls::default());
        let (channel, mut rx) = calls.channel();
        let asking = channel.clone();
        let ask = tokio::spawn(async move { asking.ask(roots_list()).await });
        let Some(JsonRpcMessage::Request(sent)) = rx.recv().await.map(|m| *m) else {
            panic!("not a request");
        };
        let refused = ErrorData::invalid_request("no roots here", None);
        assert!(calls.answer(JsonRpcMessage::error(refused, Some(sent.id.clone()))));
        let e = ask.await.unwrap().unwrap_err();
        assert_eq!(e.message, "no roots here");
        // The next ask has the next id; with the stream gone it fails at once.
        drop(rx);
        let e = channel.ask(roots_list()).await.unwrap_err();
        assert!(e.message.contains("went away"), "{}", e.message);
        assert!(calls.asked.lock().unwrap().is_empty());
        assert!(
            !channel
                .notify(ServerNotification::ProgressNotification(
                    rmcp::model::ProgressNotification::new(ProgressNotificationParam::new(
                        ProgressToken(RequestId::Number(1)),
                        0.5
                    ))
                ))
                .await
        );
    }

    #[tokio::test]
    async fn an_abandoned_ask_is_forgotten() {
        let calls = Arc::new(Calls::default());
        let (channel, _rx) = calls.channel();
        let ask = channel.ask(roots_list());
        let _ = tokio::time::timeout(std::time::Duration::from_millis(10), ask).await;
        assert!(calls.asked.lock().unwrap().is_empty());
    }

    #[test]
    fn a_running_call_can_be_cancelled_until_it_ends() {
        let calls = Arc::new(Calls::default());
        let ct = CancellationToken::new();
        let running = calls.start(RequestId::Number(3), ct.clone());
        assert!(!calls.cancel(&RequestId::Number(4)));
        assert!(calls.cancel(&RequestId::Number(3)));
        assert!(ct.is_cancelled());
        drop(running);
        assert!(!calls.cancel(&RequestId::Number(3)));
    }
}
