//! Which caller a server's messages belong to (ARCHITECTURE.md rule 9).
//!
//! While a server serves a call it may turn to its client — sampling, elicitation, roots — or
//! report progress. The gateway (the caller) registers a [`CallRoute`] for each request it
//! sends; [`Routes`] finds the route of each message that comes back:
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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rmcp::model::{
    ClientResult, ErrorData, LoggingMessageNotificationParam, ProgressNotificationParam,
    ProgressToken, RequestId, ServerRequest, TaskStatusNotificationParams,
};
use rmcp::service::InboundStreamOrigin;
use tokio::sync::{mpsc, oneshot};
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
#[derive(Debug)]
pub struct CallRoute {
    /// The client session that made the call.
    pub owner: OwnerKey,
    /// Server→client requests.
    pub inbound: mpsc::Sender<Inbound>,
    /// Progress notifications (with the server's token; the caller maps it).
    pub progress: Option<mpsc::Sender<ProgressNotificationParam>>,
    /// Log messages, for a caller that receives them per request (2026-07-28): sent the
    /// messages that arrive while this is the only call in flight.
    pub logs: Option<mpsc::Sender<LoggingMessageNotificationParam>>,
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

#[derive(Default)]
struct Table {
    calls: HashMap<(Channel, RequestId), Arc<CallRoute>>,
    tokens: HashMap<(Channel, ProgressToken), Arc<CallRoute>>,
    /// Registration order, to pick the most recent call of the one session in flight.
    order: Vec<(Channel, RequestId)>,
}

/// The calls in flight on one connection. Shared by the connection (which registers) and its
/// client handlers (which look up).
#[derive(Default)]
pub struct Routes {
    table: Mutex<Table>,
    downstream: OnceLock<Arc<dyn Downstream>>,
}

/// Removes a call's route when dropped.
pub struct Registration {
    routes: Arc<Routes>,
    key: (Channel, RequestId),
    token: (Channel, ProgressToken),
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut t = self.routes.table.lock().unwrap_or_else(|e| e.into_inner());
        t.calls.remove(&self.key);
        t.tokens.remove(&self.token);
        t.order.retain(|k| k != &self.key);
    }
}

impl Routes {
    /// Installs where server-wide notifications go (once; later calls are ignored).
    pub fn set_downstream(&self, downstream: Arc<dyn Downstream>) {
        let _ = self.downstream.set(downstream);
    }

    /// The installed downstream, if any.
    pub fn downstream(&self) -> Option<&Arc<dyn Downstream>> {
        self.downstream.get()
    }

    /// Registers the route of the request `id` (with progress `token`) sent on `channel`; the
    /// route lives until the returned guard is dropped.
    pub fn register(
        self: &Arc<Self>,
        channel: Channel,
        id: RequestId,
        token: ProgressToken,
        route: Arc<CallRoute>,
    ) -> Registration {
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        t.calls.insert((channel, id.clone()), route.clone());
        t.tokens.insert((channel, token.clone()), route);
        t.order.push((channel, id.clone()));
        Registration {
            routes: self.clone(),
            key: (channel, id),
            token: (channel, token),
        }
    }

    /// The route of progress `token` on `channel`.
    pub fn by_token(&self, channel: Channel, token: &ProgressToken) -> Option<Arc<CallRoute>> {
        let t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        t.tokens.get(&(channel, token.clone())).cloned()
    }

    /// The route of a server→client request that arrived on `channel` (see the module rules).
    pub fn for_request(
        &self,
        channel: Channel,
        origin: Option<&InboundStreamOrigin>,
    ) -> Result<Arc<CallRoute>, Unroutable> {
        let t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(InboundStreamOrigin::OutboundRequest(id)) = origin {
            return t
                .calls
                .get(&(channel, id.clone()))
                .cloned()
                .ok_or(Unroutable::Ended);
        }
        let mut owners: Vec<OwnerKey> = t.calls.values().map(|r| r.owner).collect();
        owners.sort_unstable();
        owners.dedup();
        match owners.len() {
            0 => Err(Unroutable::NoCall),
            1 => t
                .order
                .iter()
                .rev()
                .find_map(|k| t.calls.get(k))
                .cloned()
                .ok_or(Unroutable::NoCall),
            n => Err(Unroutable::Ambiguous(n)),
        }
    }

    /// The route of the only call in flight, when there is exactly one (for notifications that
    /// carry no token, e.g. log messages meant for a stateless caller).
    pub fn only_call(&self) -> Option<Arc<CallRoute>> {
        let t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        (t.calls.len() == 1)
            .then(|| t.calls.values().next().cloned())
            .flatten()
    }

    /// How many calls are in flight.
    pub fn in_flight(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .calls
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(owner: OwnerKey) -> (Arc<CallRoute>, mpsc::Receiver<Inbound>) {
        let (tx, rx) = mpsc::channel(4);
        (
            Arc::new(CallRoute {
                owner,
                inbound: tx,
                progress: None,
                logs: None,
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

    #[test]
    fn requests_reach_their_call_or_nobody() {
        let routes = Arc::new(Routes::default());
        assert_eq!(
            routes.for_request(Channel::Session, None).unwrap_err(),
            Unroutable::NoCall
        );
        let (a, _ra) = route(1);
        let (b, _rb) = route(1);
        let (c, _rc) = route(2);
        let ga = routes.register(Channel::Session, id(1), token(1), a.clone());
        let gb = routes.register(Channel::Session, id(2), token(2), b.clone());
        // One session with two calls: its most recent call takes it.
        let got = routes.for_request(Channel::Session, None).unwrap();
        assert!(Arc::ptr_eq(&got, &b));
        // A second session: only a request that names its call can be routed.
        let gc = routes.register(Channel::Session, id(3), token(3), c.clone());
        assert_eq!(
            routes.for_request(Channel::Session, None).unwrap_err(),
            Unroutable::Ambiguous(2)
        );
        let named = InboundStreamOrigin::OutboundRequest(id(3));
        assert!(Arc::ptr_eq(
            &routes.for_request(Channel::Session, Some(&named)).unwrap(),
            &c
        ));
        // Ids of the two channels are separate.
        assert_eq!(
            routes
                .for_request(Channel::Stateless, Some(&named))
                .unwrap_err(),
            Unroutable::Ended
        );
        assert!(Arc::ptr_eq(
            &routes.by_token(Channel::Session, &token(1)).unwrap(),
            &a
        ));
        drop((ga, gb));
        assert!(Arc::ptr_eq(&routes.only_call().unwrap(), &c));
        drop(gc);
        assert_eq!(routes.in_flight(), 0);
        assert!(routes.by_token(Channel::Session, &token(3)).is_none());
    }
}
