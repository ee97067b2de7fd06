//! A session's relayed calls (`tools/call`, `prompts/get`, `resources/read`) served on the
//! request's own task, without rmcp's session worker.
//!
//! rmcp hands every request of a session to the session's worker task, which hands it to the
//! session's service task, which spawns a task to run it; the answer goes back the same way
//! as an event stream. For a call that is several task hand-offs and a stream to frame, per
//! call, and it was most of what the gateway added to a call (`tests/bench/RESULTS.md` run
//! K). [`Direct::serve`] takes a call of an initialized session ([`crate::gateway::direct`])
//! off that path: it builds the request's context as rmcp does (the `_meta`, the HTTP request's parts,
//! the session's peer, a cancellation token) and runs the same handler rmcp would
//! ([`crate::gateway::Recorded`], through rmcp's own dispatch, so checks, recording and the
//! shaping of results per revision are rmcp's).
//!
//! What the relay sends the client during the call (a server's request, progress, log
//! messages) comes through the call's [`crate::gateway::direct::CallChannel`]. The client
//! gets:
//!
//! - the answer alone as `application/json` when it comes first and within
//!   [`super::single_answer::WINDOW`];
//! - otherwise `text/event-stream`: every message in order, then the answer, with keep-alive
//!   comments every [`super::served::KEEP_ALIVE`] (as rmcp's streams). The client's answers
//!   to the server's requests and its `notifications/cancelled` for the call come back here.
//!
//! Unlike rmcp's session streams, these carry no event ids: a client whose connection is cut
//! mid-call cannot resume the stream (on loopback that is rare); the call itself finishes.
//!
//! A 2026-07-28 client's call names no session; [`super::stateless`] serves it with the same
//! parts ([`super::served`]).
//!
//! Anything else, or anything rmcp would check differently (another protocol version in the
//! header or in `_meta`, a missing `Accept`, a session that ended), goes to rmcp unchanged.
//! Only the message's envelope ([`crate::wire::Envelope`]: its shape and method) is read
//! before that; what is served here is then read as its own type ([`wire::client_message`]),
//! not by trying each of rmcp's request types in turn.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{request::Parts, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    ClientNotification, ClientRequest, Extensions, GetMeta, JsonRpcMessage, JsonRpcRequest,
};
use rmcp::transport::common::http_header::HEADER_SESSION_ID;
use tokio_util::sync::CancellationToken;

use super::mcp_sessions::ManagedSessions;
use super::served::{event_stream, fits, json, relayed_call, Call, Streamed};
use super::single_answer::WINDOW;
use crate::gateway::direct::DirectSession;
use crate::gateway::Gateway;
use crate::wire::{self, Envelope, Method as WireMethod, Shape};

/// The calls `/mcp` serves itself: what they need of the gateway and the front end.
pub struct Direct {
    /// The gateway, whose initialized sessions ([`crate::gateway::direct::DirectSessions`])
    /// are served here.
    gw: Arc<Gateway>,
    /// rmcp's sessions, told of the traffic served here (idle expiry).
    sessions: ManagedSessions,
    /// Cancelled when the gateway stops: open event streams end then, as rmcp's do.
    shutdown: CancellationToken,
    /// The 2026-07-28 calls served here ([`super::stateless`]).
    stateless: super::stateless::Stateless,
}

impl Direct {
    /// The calls of `gw`'s initialized sessions (rmcp's `sessions`, told of their traffic)
    /// and its 2026-07-28 calls (recorded by `recorder`, as rmcp's service records them);
    /// their event streams end when `shutdown` is cancelled.
    pub fn new(
        gw: Arc<Gateway>,
        sessions: ManagedSessions,
        shutdown: CancellationToken,
        recorder: crate::activity::Recorder,
    ) -> Self {
        Self {
            gw,
            sessions,
            shutdown,
            stateless: super::stateless::Stateless::new(recorder),
        }
    }

    /// The gateway served.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gw
    }

    /// Serves `request` when it is a relayed call of an initialized session, a client's
    /// answer to a request asked during such a call, or its cancellation; otherwise hands the
    /// request back, unchanged, for rmcp.
    ///
    /// A request of any method that names a session of another client (another access
    /// token, [`crate::caller::Caller`]) gets rmcp's 404 for an unknown session, so the
    /// answer does not tell that the session exists: an initialized session is checked
    /// against its handler's caller, one between `initialize` and
    /// `notifications/initialized` against the caller rmcp's sessions recorded for its
    /// `initialize` ([`ManagedSessions::foreign`]). The session's handler checks its
    /// requests, but rmcp hands a GET stream, a DELETE and a client's answers to a server's
    /// requests to the session unchecked: another client that learnt the id could have read
    /// the session's messages, answered its server's requests or ended it.
    ///
    /// A request that names no session may be a 2026-07-28 client's call, served by
    /// [`super::stateless`] on the same terms.
    pub async fn serve(&self, request: Request) -> Result<Response, Request> {
        let Direct {
            gw,
            sessions,
            shutdown,
            stateless,
        } = self;
        if !request.headers().contains_key(HEADER_SESSION_ID) {
            return stateless.serve(gw, shutdown, request).await;
        }
        let gateway = crate::caller::Caller::Gateway;
        let caller = request
            .extensions()
            .get::<crate::caller::Caller>()
            .unwrap_or(&gateway);
        let Some((id, session)) = session_of(gw, request.headers()) else {
            // Not registered here (yet): between `initialize` and `notifications/initialized`
            // only rmcp's sessions know the session's owner.
            let named = request.headers().get(HEADER_SESSION_ID);
            if let Some(id) = named.and_then(|v| v.to_str().ok()) {
                if sessions.foreign(id, caller) {
                    return Ok(not_found());
                }
            }
            return Err(request);
        };
        if !session.handler.belongs_to(caller) {
            return Ok(not_found());
        }
        if request.method() != Method::POST {
            return Err(request);
        }
        let info = session.peer.peer_info();
        let negotiated = info.as_ref().map(|info| info.protocol_version.as_str());
        if !fits(request.headers(), negotiated) {
            return Err(request);
        }
        let (parts, body) = request.into_parts();
        let bytes = match super::served::body(body).await {
            Ok(bytes) => bytes,
            Err(refusal) => return Ok(refusal),
        };
        // Anything else goes to rmcp unread: it reads the message itself.
        let envelope = Envelope::read(&bytes).filter(may_serve);
        let Some(Ok(message)) = envelope.map(|e| wire::client_message(&bytes, e)) else {
            return Err(Request::from_parts(parts, Body::from(bytes)));
        };
        let served = match message {
            JsonRpcMessage::Request(r) if relayed(&r.request) => {
                sessions.touch(&id);
                return Ok(call(session, r, parts, shutdown.clone()).await);
            }
            answer @ (JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_)) => {
                session.calls.answer(answer)
            }
            JsonRpcMessage::Notification(n) => match &n.notification {
                ClientNotification::CancelledNotification(c) => {
                    let ran_here = c
                        .params
                        .request_id
                        .as_ref()
                        .is_some_and(|id| session.calls.cancel(id));
                    if ran_here {
                        let mut extensions = Extensions::new();
                        extensions.insert(parts.clone());
                        session.handler.cancelled(&c.params, &extensions);
                    }
                    ran_here
                }
                _ => false,
            },
            _ => false,
        };
        if served {
            sessions.touch(&id);
            Ok(StatusCode::ACCEPTED.into_response())
        } else {
            Err(Request::from_parts(parts, Body::from(bytes)))
        }
    }
}

/// rmcp's answer to a request that names a session it does not know (404, its text).
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response()
}

/// The initialized session the request names, with its id.
fn session_of(gw: &Gateway, headers: &HeaderMap) -> Option<(String, Arc<DirectSession>)> {
    let id = headers.get(HEADER_SESSION_ID)?.to_str().ok()?;
    Some((id.to_string(), gw.direct.get(id)?))
}

/// Whether a message with `envelope` may be served here: one of the relay's calls, an answer
/// (to a request asked during one) or a cancellation.
fn may_serve(envelope: &Envelope) -> bool {
    match envelope.shape {
        Shape::Request => relayed_call(envelope),
        Shape::Response | Shape::Error => true,
        Shape::Notification => envelope.method == WireMethod::Cancelled,
    }
}

/// Whether `request` is one of the relay's calls (and carries no per-request protocol
/// version, which makes it a 2026-07-28 request that rmcp serves statelessly).
fn relayed(request: &ClientRequest) -> bool {
    matches!(
        request,
        ClientRequest::CallToolRequest(_)
            | ClientRequest::GetPromptRequest(_)
            | ClientRequest::ReadResourceRequest(_)
    ) && request.get_meta().protocol_version().is_none()
}

/// Runs the call `r` of `session` and answers it (see the module docs).
async fn call(
    session: Arc<DirectSession>,
    r: JsonRpcRequest<ClientRequest>,
    parts: Parts,
    shutdown: CancellationToken,
) -> Response {
    let ct = CancellationToken::new();
    let running = session.calls.start(r.id.clone(), ct.clone());
    let (channel, rx) = session.calls.channel();
    let peer = session.peer.clone();
    let handler = session.handler.clone();
    let answer = Call::run(handler, r, (parts, channel), (peer, ct), running);
    let mut streamed = Streamed::new(answer, rx);
    // Within the window, the answer alone goes as JSON; anything before it, or no answer
    // yet, makes an event stream. A `step` cut short by the window loses nothing: a message
    // is only taken off the channel when it is queued, and the call runs on in `Call`.
    if tokio::time::timeout(WINDOW, streamed.step()).await.is_ok()
        && streamed.answer.finished()
        && streamed.queue.len() == 1
    {
        if let Some(answer) = streamed.queue.pop_front() {
            return json(&answer);
        }
    }
    event_stream(streamed, shutdown, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relays_calls_are_served_here_and_nothing_else() {
        let parse = |body: &str| -> ClientRequest {
            let envelope = Envelope::read(body.as_bytes()).unwrap();
            assert!(may_serve(&envelope), "{body}");
            match wire::client_message(body.as_bytes(), envelope).unwrap() {
                JsonRpcMessage::Request(r) => r.request,
                other => panic!("{other:?}"),
            }
        };
        for call in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__b"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"a__b"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///x"}}"#,
        ] {
            assert!(relayed(&parse(call)), "{call}");
        }
        // Not even read here: rmcp reads them.
        for other in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        ] {
            assert!(
                !may_serve(&Envelope::read(other.as_bytes()).unwrap()),
                "{other}"
            );
        }
        for answer in [
            r#"{"jsonrpc":"2.0","id":4294967296,"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":4294967296,"error":{"code":1,"message":"m"}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
        ] {
            assert!(
                may_serve(&Envelope::read(answer.as_bytes()).unwrap()),
                "{answer}"
            );
        }
        // A 2026-07-28 request: rmcp serves it statelessly.
        let stateless = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__b","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
        assert!(!relayed(&parse(stateless)));
    }
}
