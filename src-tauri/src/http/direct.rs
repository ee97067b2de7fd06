//! A session's relayed calls (`tools/call`, `prompts/get`, `resources/read`) served on the
//! request's own task, without rmcp's session worker.
//!
//! rmcp hands every request of a session to the session's worker task, which hands it to the
//! session's service task, which spawns a task to run it; the answer goes back the same way
//! as an event stream. For a call that is several task hand-offs and a stream to frame, per
//! call, and it was most of what the gateway added to a call (`tests/bench/RESULTS.md` run
//! K). [`serve`] takes a call of an initialized session ([`crate::gateway::direct`]) off that
//! path: it builds the request's context as rmcp does (the `_meta`, the HTTP request's parts,
//! the session's peer, a cancellation token) and runs the same handler rmcp would
//! ([`crate::gateway::Recorded`], through rmcp's own dispatch, so checks, recording and the
//! shaping of results per revision are rmcp's).
//!
//! What the relay sends the client during the call (a server's request, progress, log
//! messages) comes through the call's [`CallChannel`]. The client gets:
//!
//! - the answer alone as `application/json` when it comes first and within
//!   [`super::single_answer::WINDOW`];
//! - otherwise `text/event-stream`: every message in order, then the answer, with keep-alive
//!   comments every [`KEEP_ALIVE`] (as rmcp's streams). The client's answers to the server's
//!   requests and its `notifications/cancelled` for the call come back here too.
//!
//! Unlike rmcp's session streams, these carry no event ids: a client whose connection is cut
//! mid-call cannot resume the stream (on loopback that is rare); the call itself finishes.
//!
//! Anything else, or anything rmcp would check differently (another protocol version in the
//! header or in `_meta`, a missing `Accept`, a session that ended), goes to rmcp unchanged.
//! Only the message's envelope ([`crate::wire::Envelope`]: its shape and method) is read
//! before that; what is served here is then read as its own type ([`wire::client_message`]),
//! not by trying each of rmcp's request types in turn.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, request::Parts, HeaderMap, Method, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rmcp::model::{
    ClientNotification, ClientRequest, Extensions, GetExtensions, GetMeta, JsonRpcMessage,
    JsonRpcRequest, RequestMetaObject, ServerJsonRpcMessage,
};
use rmcp::service::RequestContext;
use rmcp::transport::common::http_header::{HEADER_MCP_PROTOCOL_VERSION, HEADER_SESSION_ID};
use rmcp::Service;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::mcp_sessions::ManagedSessions;
use super::single_answer::WINDOW;
use super::MAX_BODY_BYTES;
use crate::gateway::direct::{CallChannel, DirectSession};
use crate::gateway::Gateway;
use crate::wire::{self, Envelope, Method as WireMethod, Shape};

/// Interval of keep-alive comments on a call's event stream (rmcp's default as well).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The calls `/mcp` serves itself: what they need of the gateway and the front end.
pub struct Direct {
    /// The gateway, whose initialized sessions ([`crate::gateway::direct::DirectSessions`])
    /// are served here.
    pub gw: Arc<Gateway>,
    /// rmcp's sessions, told of the traffic served here (idle expiry).
    pub sessions: ManagedSessions,
    /// Cancelled when the gateway stops: open event streams end then, as rmcp's do.
    pub shutdown: CancellationToken,
}

impl Direct {
    /// Serves `request` when it is a relayed call of an initialized session, a client's
    /// answer to a request asked during such a call, or its cancellation; otherwise hands the
    /// request back, unchanged, for rmcp.
    ///
    /// A request of any method that names an initialized session of another client (another
    /// access token, [`crate::caller::Caller`]) gets rmcp's 404 for an unknown session, so
    /// the answer does not tell that the session exists. The session's handler checks its
    /// requests, but rmcp hands a GET stream, a DELETE and a client's answers to a server's
    /// requests to the session unchecked: another client that learnt the id could have read
    /// the session's messages, answered its server's requests or ended it.
    pub async fn serve(&self, request: Request) -> Result<Response, Request> {
        serve(&self.gw, &self.sessions, &self.shutdown, request).await
    }
}

/// See [`Direct::serve`].
async fn serve(
    gw: &Gateway,
    sessions: &ManagedSessions,
    shutdown: &CancellationToken,
    request: Request,
) -> Result<Response, Request> {
    let Some((id, session)) = session_of(gw, request.headers()) else {
        return Err(request);
    };
    let caller = request
        .extensions()
        .get::<crate::caller::Caller>()
        .cloned()
        .unwrap_or(crate::caller::Caller::Gateway);
    if !session.handler.belongs_to(&caller) {
        return Ok((StatusCode::NOT_FOUND, "Not Found: Session not found").into_response());
    }
    if request.method() != Method::POST {
        return Err(request);
    }
    let negotiated = session
        .peer
        .peer_info()
        .map(|info| info.protocol_version.to_string());
    if !fits(request.headers(), negotiated.as_deref()) {
        return Err(request);
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let refusal = format!(
                "the request body is larger than {} MiB",
                MAX_BODY_BYTES >> 20
            );
            return Ok((StatusCode::PAYLOAD_TOO_LARGE, refusal).into_response());
        }
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

/// The initialized session the request names, with its id.
fn session_of(gw: &Gateway, headers: &HeaderMap) -> Option<(String, Arc<DirectSession>)> {
    let id = headers.get(HEADER_SESSION_ID)?.to_str().ok()?;
    Some((id.to_string(), gw.direct.get(id)?))
}

/// Whether rmcp would take the request as it is and in session mode: the client accepts
/// both answers (JSON and an event stream), sends JSON, and names no protocol version other
/// than the one its session negotiated (`negotiated`).
fn fits(headers: &HeaderMap, negotiated: Option<&str>) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .collect::<Vec<_>>();
    let accepts = |t: &str| accept.iter().any(|a| a == t);
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
    let version_fits = match headers.get(HEADER_MCP_PROTOCOL_VERSION) {
        None => true,
        Some(v) => v.to_str().ok().is_some_and(|v| Some(v) == negotiated),
    };
    accepts("application/json") && accepts("text/event-stream") && json && version_fits
}

/// Whether a message with `envelope` may be served here: one of the relay's calls, an answer
/// (to a request asked during one) or a cancellation.
fn may_serve(envelope: &Envelope) -> bool {
    match envelope.shape {
        Shape::Request => matches!(
            envelope.method,
            WireMethod::CallTool | WireMethod::GetPrompt | WireMethod::ReadResource
        ),
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
    let JsonRpcRequest {
        id, mut request, ..
    } = r;
    let ct = CancellationToken::new();
    let running = session.calls.start(id.clone(), ct.clone());
    let (channel, rx) = session.calls.channel();
    // The context as rmcp's service builds it for a request, plus the call's channel.
    let mut meta = RequestMetaObject::new();
    std::mem::swap(&mut meta, request.get_meta_mut());
    let mut extensions = Extensions::new();
    std::mem::swap(&mut extensions, request.extensions_mut());
    extensions.insert(parts);
    extensions.insert::<CallChannel>(channel);
    let mut context = RequestContext::new(id.clone(), session.peer.clone());
    context.ct = ct;
    context.meta = meta;
    context.extensions = extensions;
    let handler = session.handler.clone();
    let answer = Call(Some(Box::pin(async move {
        let result = handler.handle_request(request, context).await;
        drop(running);
        match result {
            Ok(result) => JsonRpcMessage::response(result, id),
            Err(error) => JsonRpcMessage::error(error, Some(id)),
        }
    })));
    let mut streamed = Streamed {
        answer,
        rx,
        queue: VecDeque::new(),
    };
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
    event_stream(streamed, shutdown)
}

/// A running call, which yields its answer. Dropped before it finished (the client went away
/// or closed the stream), it finishes on a task of its own: the spec does not take a
/// disconnection for a cancellation, and the server is told of a cancellation the client sent
/// (which the call may still be relaying) as it would be through rmcp, where calls run on
/// tasks of their own.
struct Call(
    Option<std::pin::Pin<Box<dyn std::future::Future<Output = ServerJsonRpcMessage> + Send>>>,
);

impl Call {
    /// Whether the answer was taken.
    fn finished(&self) -> bool {
        self.0.is_none()
    }
}

impl std::future::Future for Call {
    type Output = ServerJsonRpcMessage;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<ServerJsonRpcMessage> {
        let Some(running) = self.0.as_mut() else {
            return std::task::Poll::Pending;
        };
        let answer = std::task::ready!(running.as_mut().poll(cx));
        self.0 = None;
        std::task::Poll::Ready(answer)
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if let (Some(running), Ok(rt)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(running);
        }
    }
}

/// `message` as an `application/json` answer.
fn json(message: &ServerJsonRpcMessage) -> Response {
    match serde_json::to_vec(message) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the answer could not be serialized: {e}"),
        )
            .into_response(),
    }
}

/// What is left to send of a call answered as an event stream.
struct Streamed {
    /// The call (finished once its answer is in the queue).
    answer: Call,
    /// What the relay sends the client during the call.
    rx: mpsc::Receiver<Box<ServerJsonRpcMessage>>,
    /// Messages received but not sent yet (the answer last). Boxed, as they come off the
    /// channel: a queue of whole messages allocated 2 KB (4 × 496 bytes) for every call.
    queue: VecDeque<Box<ServerJsonRpcMessage>>,
}

impl Streamed {
    /// Waits for the next message the relay sends, or for the answer; either joins the
    /// queue. With the answer, what the relay sent before it is queued first.
    async fn step(&mut self) {
        tokio::select! {
            biased;
            Some(message) = self.rx.recv() => self.queue.push_back(message),
            message = &mut self.answer => {
                while let Ok(m) = self.rx.try_recv() {
                    self.queue.push_back(m);
                }
                self.queue.push_back(Box::new(message));
            }
        }
    }
}

/// The call's messages, then its answer, as an event stream, which ends early when the gateway
/// stops (`shutdown`). The call runs while the stream is read; when the stream is dropped
/// first (the client went away, the gateway stops) the call finishes on its own ([`Call`]).
fn event_stream(streamed: Streamed, shutdown: CancellationToken) -> Response {
    let messages = futures::stream::unfold(streamed, |mut s| async move {
        loop {
            if let Some(message) = s.queue.pop_front() {
                return Some((message, s));
            }
            if s.answer.finished() {
                return None;
            }
            s.step().await;
        }
    });
    let messages = messages.take_until(shutdown.cancelled_owned());
    Sse::new(events(messages))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// Each message as one event whose data is its JSON.
fn events(
    messages: impl Stream<Item = Box<ServerJsonRpcMessage>> + Send,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    messages.map(|message| {
        let data = serde_json::to_string(&message).unwrap_or_else(|e| {
            // A message that cannot be serialized cannot be sent; say so in its place.
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "error", "logger": "loopgate",
                    "data": format!("a message could not be serialized: {e}")}})
            .to_string()
        });
        Ok(Event::default().data(data))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_what_rmcp_takes_as_it_is_is_served_here() {
        let both = ("accept", "application/json, text/event-stream");
        let json = ("content-type", "application/json; charset=utf-8");
        let v = Some("2025-11-25");
        assert!(fits(&headers(&[both, json]), v));
        assert!(fits(
            &headers(&[both, json, ("mcp-protocol-version", "2025-11-25")]),
            v
        ));
        // Two Accept headers count together, parameters and case aside.
        assert!(fits(
            &headers(&[
                ("accept", "Application/JSON;q=0.9"),
                ("accept", "text/event-stream"),
                json
            ]),
            v
        ));
        // rmcp answers these itself (406, 415, 400), or serves another era.
        assert!(!fits(&headers(&[("accept", "application/json"), json]), v));
        assert!(!fits(&headers(&[both, ("content-type", "text/plain")]), v));
        assert!(!fits(&headers(&[both]), v));
        assert!(!fits(
            &headers(&[both, json, ("mcp-protocol-version", "2026-07-28")]),
            v
        ));
        assert!(!fits(
            &headers(&[both, json, ("mcp-protocol-version", "2025-06-18")]),
            None
        ));
    }

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
