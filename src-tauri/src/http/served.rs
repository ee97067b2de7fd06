//! A call the front end serves itself ([`super::direct`] for sessions, [`super::stateless`] for
//! 2026-07-28 clients): whether rmcp would take its request's headers as they are (`fits`),
//! the running call (`Call`), and its answer, as `application/json` (`json_with`) or as an
//! event stream of what the relay sent during the call, then the answer (`event_stream`).
//! Also what both read and build on the way: the request's body (`body`), whether its
//! envelope names one of the relay's calls (`relayed_call`); and how the call runs
//! (`Call::run`: its context as rmcp's service builds it, its answer message).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rmcp::model::{
    ClientRequest, ErrorData, Extensions, GetExtensions, GetMeta, JsonRpcMessage, JsonRpcRequest,
    RequestId, RequestMetaObject, ServerJsonRpcMessage, ServerResult,
};
use rmcp::service::RequestContext;
use rmcp::transport::common::http_header::HEADER_MCP_PROTOCOL_VERSION;
use rmcp::{Peer, RoleServer, Service};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::MAX_BODY_BYTES;
use crate::gateway::direct::CallChannel;
use crate::gateway::Recorded;
use crate::wire::{Envelope, Method as WireMethod, Shape};

/// Interval of keep-alive comments on a call's event stream (rmcp's default as well).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The whole request body; a body over [`MAX_BODY_BYTES`] gets `413 Payload Too Large`
/// (as the `Err`, the response to send), saying the limit in MiB.
pub(super) async fn body(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            let refusal = format!(
                "the request body is larger than {} MiB",
                MAX_BODY_BYTES >> 20
            );
            (StatusCode::PAYLOAD_TOO_LARGE, refusal).into_response()
        })
}

/// Whether `envelope` is a request of one of the relay's calls: `tools/call`, `prompts/get`,
/// `resources/read`.
pub(super) fn relayed_call(envelope: &Envelope) -> bool {
    envelope.shape == Shape::Request
        && matches!(
            envelope.method,
            WireMethod::CallTool | WireMethod::GetPrompt | WireMethod::ReadResource
        )
}

/// The context of the call `id` as rmcp's service builds it for a request (`request`'s
/// `_meta` and extensions taken out of it, the HTTP request's `parts`, `peer`, the call's
/// cancellation token `ct`), plus the call's `channel` for what goes back during it.
fn context(
    id: RequestId,
    request: &mut ClientRequest,
    parts: Parts,
    channel: CallChannel,
    peer: Peer<RoleServer>,
    ct: CancellationToken,
) -> RequestContext<RoleServer> {
    let mut meta = RequestMetaObject::new();
    std::mem::swap(&mut meta, request.get_meta_mut());
    let mut extensions = Extensions::new();
    std::mem::swap(&mut extensions, request.extensions_mut());
    extensions.insert(parts);
    extensions.insert::<CallChannel>(channel);
    let mut context = RequestContext::new(id, peer);
    context.ct = ct;
    context.meta = meta;
    context.extensions = extensions;
    context
}

/// The answer to the call `id` whose handler returned `result`: its response or its error.
fn message(result: Result<ServerResult, ErrorData>, id: RequestId) -> ServerJsonRpcMessage {
    match result {
        Ok(result) => JsonRpcMessage::response(result, id),
        Err(error) => JsonRpcMessage::error(error, Some(id)),
    }
}

/// Whether rmcp would take the request as it is and in session mode: the client accepts
/// both answers (JSON and an event stream), sends JSON, and names no protocol version other
/// than the one its session negotiated (`negotiated`).
pub(super) fn fits(headers: &HeaderMap, negotiated: Option<&str>) -> bool {
    let accepts = |wanted: &str| {
        headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case(wanted)
            })
    };
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

/// A running call, which yields its answer. Dropped before it finished (the client went away
/// or closed the stream), it finishes on a task of its own: the spec does not take a
/// disconnection for a cancellation, and the server is told of a cancellation the client sent
/// (which the call may still be relaying) as it would be through rmcp, where calls run on
/// tasks of their own.
pub(super) struct Call(
    Option<std::pin::Pin<Box<dyn std::future::Future<Output = ServerJsonRpcMessage> + Send>>>,
);

impl Call {
    /// The call `r` run by `handler` through rmcp's own dispatch, with its context as rmcp's
    /// service builds it ([`context`]: the HTTP request's `parts`, the `peer`, the call's
    /// cancellation token `ct` and its `channel`). `held` is dropped as soon as the handler
    /// returns, before the answer is taken (e.g. the call's place among a session's running
    /// calls).
    pub(super) fn run<G: Send + 'static>(
        handler: Recorded,
        r: JsonRpcRequest<ClientRequest>,
        (parts, channel): (Parts, CallChannel),
        (peer, ct): (Peer<RoleServer>, CancellationToken),
        held: G,
    ) -> Self {
        let JsonRpcRequest {
            id, mut request, ..
        } = r;
        let context = context(id.clone(), &mut request, parts, channel, peer, ct);
        Call(Some(Box::pin(async move {
            let result = handler.handle_request(request, context).await;
            drop(held);
            message(result, id)
        })))
    }

    /// Whether the answer was taken.
    pub(super) fn finished(&self) -> bool {
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
pub(super) fn json(message: &ServerJsonRpcMessage) -> Response {
    json_with(StatusCode::OK, message)
}

/// `message` as an `application/json` answer with HTTP status `status`.
pub(super) fn json_with(status: StatusCode, message: &ServerJsonRpcMessage) -> Response {
    match serde_json::to_vec(message) {
        Ok(body) => {
            let json = HeaderValue::from_static("application/json");
            (status, [(header::CONTENT_TYPE, json)], body).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the answer could not be serialized: {e}"),
        )
            .into_response(),
    }
}

/// What is left to send of a call answered as an event stream.
pub(super) struct Streamed {
    /// The call (finished once its answer is in the queue).
    pub(super) answer: Call,
    /// What the relay sends the client during the call.
    rx: mpsc::Receiver<Box<ServerJsonRpcMessage>>,
    /// Messages received but not sent yet (the answer last). Boxed, as they come off the
    /// channel: a queue of whole messages allocated 2 KB (4 × 496 bytes) for every call.
    pub(super) queue: VecDeque<Box<ServerJsonRpcMessage>>,
}

impl Streamed {
    /// The call `answer`, whose messages during the call arrive on `rx`.
    pub(super) fn new(answer: Call, rx: mpsc::Receiver<Box<ServerJsonRpcMessage>>) -> Self {
        Streamed {
            answer,
            rx,
            queue: VecDeque::new(),
        }
    }

    /// Waits for the next message the relay sends, or for the answer; either joins the
    /// queue. With the answer, what the relay sent before it is queued first.
    pub(super) async fn step(&mut self) {
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
/// first (the client went away, the gateway stops) the call finishes on its own ([`Call`]),
/// and `cancel`, when given, cancels it (disarmed once the answer is sent).
pub(super) fn event_stream(
    streamed: Streamed,
    shutdown: CancellationToken,
    cancel: Option<DropGuard>,
) -> Response {
    let messages = futures::stream::unfold((streamed, cancel), |(mut s, mut cancel)| async move {
        loop {
            if let Some(message) = s.queue.pop_front() {
                return Some((message, (s, cancel)));
            }
            if s.answer.finished() {
                cancel.take().map(DropGuard::disarm);
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
}
