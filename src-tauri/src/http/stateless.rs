//! A 2026-07-28 client's relayed call (`tools/call`, `prompts/get`, `resources/read`) served
//! on the request's own task, without rmcp's stateless service.
//!
//! A 2026-07-28 request names no session: rmcp serves each one by starting a service of its
//! own for it (`serve_directly`: a service task, a task for the request, channels between
//! them and the HTTP response), then dropping it. For a relayed call that was most of what
//! the gateway added to it: a plain POST of a 2026-07-28 `tools/call` took 446 µs through
//! Loopgate against 158 µs to the backend directly, where a session's call adds about 200 µs
//! (`tests/bench/RESULTS.md`, runs O and P). [`Stateless::serve`] runs the call as rmcp's
//! stateless path would, on the request's task, as [`super::direct`] does for sessions:
//!
//! - the same handler rmcp's service factory makes for such a request ([`Recorded`] over a
//!   new [`GatewayHandler`]), through rmcp's own dispatch;
//! - the request's context as rmcp builds it: its `_meta`, the HTTP request's parts, a
//!   cancellation token of its own, and a peer whose client info is what rmcp builds for a
//!   stateless request of this revision (one peer for all of them; it reaches no client: what
//!   goes back during the call goes through the call's
//!   [`crate::gateway::direct::CallChannel`], and a 2026-07-28 server asks its client nothing
//!   but through `inputRequests`);
//! - the answer as rmcp gives it: when the first message is the answer, `application/json`
//!   with rmcp's HTTP status for it (400 or 404 for some errors, `status_of`); otherwise an
//!   event stream of every message, then the answer. A client that goes away before the
//!   answer cancels the call, as with rmcp (its stateless requests have no
//!   `notifications/cancelled`); the call still finishes, and tells the server.
//!
//! Only a request rmcp would take exactly as it is comes here (`takes`): revision
//! 2026-07-28 in both the `MCP-Protocol-Version` header and `_meta`, the `_meta` keys that
//! revision requires, and the SEP-2243 headers (`Mcp-Method`, `Mcp-Name`, once each, plain
//! text, matching the body; no `Mcp-Param-*`). Anything else goes to rmcp unchanged, which
//! answers it or says what is wrong.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use rmcp::model::{
    ClientCapabilities, ClientRequest, ErrorCode, GetMeta, Implementation, InitializeRequestParams,
    JsonRpcMessage, JsonRpcRequest, ProtocolVersion, ServerJsonRpcMessage,
};
use rmcp::transport::common::http_header::{
    BASE64_HEADER_PREFIX, HEADER_MCP_METHOD, HEADER_MCP_NAME, HEADER_MCP_PARAM_PREFIX,
    HEADER_MCP_PROTOCOL_VERSION,
};
use rmcp::{Peer, RoleServer};
use tokio_util::sync::CancellationToken;

use super::served::{self, event_stream, fits, json_with, relayed_call, Call, Streamed};
use crate::activity::Recorder;
use crate::gateway::direct::Calls;
use crate::gateway::{Gateway, GatewayHandler, Recorded};
use crate::wire::{self, Envelope};

/// The revision whose calls are served here.
const REVISION: ProtocolVersion = ProtocolVersion::V_2026_07_28;

/// The 2026-07-28 calls `/mcp` serves itself (see the module docs).
pub struct Stateless {
    /// Records the calls, as the handlers of rmcp's service do.
    recorder: Recorder,
    /// The peer every such call's context holds (made on first use: it needs the runtime).
    peer: OnceLock<Peer<RoleServer>>,
}

impl Stateless {
    /// Calls served with handlers that record into `recorder`.
    pub fn new(recorder: Recorder) -> Self {
        Self {
            recorder,
            peer: OnceLock::new(),
        }
    }

    /// Serves `request` when it is a 2026-07-28 relayed call rmcp would take as it is
    /// (`takes`); otherwise hands it back unchanged, for rmcp. Its event stream, when it
    /// gets one, ends when `shutdown` is cancelled. A body over
    /// [`super::MAX_BODY_BYTES`] gets 413.
    pub async fn serve(
        &self,
        gw: &Arc<Gateway>,
        shutdown: &CancellationToken,
        request: Request,
    ) -> Result<Response, Request> {
        if request.method() != Method::POST || !names_revision(request.headers()) {
            return Err(request);
        }
        let (parts, body) = request.into_parts();
        let bytes = match served::body(body).await {
            Ok(bytes) => bytes,
            Err(refusal) => return Ok(refusal),
        };
        let envelope = Envelope::read(&bytes).filter(relayed_call);
        let request = match envelope.map(|e| wire::client_message(&bytes, e)) {
            Some(Ok(JsonRpcMessage::Request(r))) if takes(&parts.headers, &r.request) => r,
            _ => return Err(Request::from_parts(parts, Body::from(bytes))),
        };
        let handler = Recorded::new(
            GatewayHandler::new(gw.clone()),
            gw.clone(),
            self.recorder.clone(),
        );
        Ok(self.call(handler, request, parts, shutdown.clone()).await)
    }

    /// Runs the call `r` with `handler` and answers it (see the module docs).
    async fn call(
        &self,
        handler: Recorded,
        r: JsonRpcRequest<ClientRequest>,
        parts: axum::http::request::Parts,
        shutdown: CancellationToken,
    ) -> Response {
        let ct = CancellationToken::new();
        let (channel, rx) = Arc::new(Calls::default()).channel();
        let peer = self.peer().clone();
        let answer = Call::run(handler, r, (parts, channel), (peer, ct.clone()), ());
        let mut streamed = Streamed::new(answer, rx);
        // The client going away before the first message cancels the call, as with rmcp.
        let cancel = ct.drop_guard();
        streamed.step().await;
        if streamed.answer.finished() && streamed.queue.len() == 1 {
            if let Some(answer) = streamed.queue.pop_front() {
                cancel.disarm();
                return json_with(status_of(&answer), &answer);
            }
        }
        event_stream(streamed, shutdown, Some(cancel))
    }

    /// The peer of every call's context: no client behind it (its transport is closed at
    /// once, so anything sent on it fails), and the client info rmcp gives a stateless
    /// request of [`REVISION`] (its version, no capabilities, an unnamed client).
    fn peer(&self) -> &Peer<RoleServer> {
        self.peer.get_or_init(|| {
            let info = InitializeRequestParams::new(
                ClientCapabilities::default(),
                Implementation::default(),
            )
            .with_protocol_version(REVISION);
            let closed = (
                futures::sink::drain::<ServerJsonRpcMessage>(),
                futures::stream::empty(),
            );
            rmcp::service::serve_directly(NoClient, closed, Some(info))
                .peer()
                .clone()
        })
    }
}

/// The service behind [`Stateless::peer`]: it never gets a message.
struct NoClient;

impl rmcp::ServerHandler for NoClient {}

/// Whether the request's `MCP-Protocol-Version` header is exactly one value, [`REVISION`].
fn names_revision(headers: &HeaderMap) -> bool {
    one(headers, HEADER_MCP_PROTOCOL_VERSION) == Some(REVISION.as_str())
        && fits(headers, Some(REVISION.as_str()))
}

/// Whether rmcp would take `request`, with `headers` ([`names_revision`]), as it is, and serve
/// it statelessly: its `_meta` names [`REVISION`] and has the keys that revision requires,
/// and its SEP-2243 headers match it (see the module docs).
fn takes(headers: &HeaderMap, request: &ClientRequest) -> bool {
    let meta = request.get_meta();
    let name = match request {
        ClientRequest::CallToolRequest(r) => r.params.name.as_ref(),
        ClientRequest::GetPromptRequest(r) => r.params.name.as_str(),
        ClientRequest::ReadResourceRequest(r) => r.params.uri.as_str(),
        _ => return false,
    };
    meta.protocol_version().as_ref() == Some(&REVISION)
        && meta.missing_required_keys(&REVISION).is_empty()
        && one(headers, HEADER_MCP_METHOD) == Some(request.method())
        && one(headers, HEADER_MCP_NAME)
            .is_some_and(|n| n == name && !n.starts_with(BASE64_HEADER_PREFIX))
        && !headers.keys().any(|k| {
            k.as_str()
                .get(..HEADER_MCP_PARAM_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(HEADER_MCP_PARAM_PREFIX))
        })
}

/// The value of header `name` when it is given exactly once, as text.
fn one<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    values
        .next()
        .is_none()
        .then(|| value.to_str().ok())
        .flatten()
}

/// The HTTP status rmcp gives a 2026-07-28 request's answer `message`: 400 for an unsupported
/// revision, a missing client capability or a header that does not match the body, 404 for
/// an unknown method, 200 for everything else (rmcp's `jsonrpc_http_status`).
fn status_of(message: &ServerJsonRpcMessage) -> StatusCode {
    let JsonRpcMessage::Error(error) = message else {
        return StatusCode::OK;
    };
    match error.error.code {
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::HEADER_MISMATCH => StatusCode::BAD_REQUEST,
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{ErrorData, RequestId};

    /// The headers a 2026-07-28 client sends with `tools/call` of tool `echo`.
    fn headers(extra: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
        ]
        .iter()
        .chain(extra)
        {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    /// `tools/call` of `echo` whose `_meta` is `meta`, read as the front end reads it.
    fn call(meta: serde_json::Value) -> ClientRequest {
        let text = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "echo", "_meta": meta}})
        .to_string();
        let envelope = Envelope::read(text.as_bytes()).unwrap();
        match wire::client_message(text.as_bytes(), envelope).unwrap() {
            JsonRpcMessage::Request(r) => r.request,
            other => panic!("{other:?}"),
        }
    }

    fn meta_2026() -> serde_json::Value {
        serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        })
    }

    #[test]
    fn only_a_request_rmcp_takes_as_it_is_is_served_here() {
        assert!(names_revision(&headers(&[])));
        assert!(takes(&headers(&[]), &call(meta_2026())));

        // Another revision, or none, in the header: rmcp's.
        let mut other = headers(&[]);
        other.insert("mcp-protocol-version", "2025-11-25".parse().unwrap());
        assert!(!names_revision(&other));
        let mut none = headers(&[]);
        none.remove("mcp-protocol-version");
        assert!(!names_revision(&none));
        // The header twice (rmcp reads the first): rmcp's.
        assert!(!names_revision(&headers(&[(
            "mcp-protocol-version",
            "2026-07-28"
        )])));
        // A client that does not accept both answers: rmcp says 406.
        let mut json_only = headers(&[]);
        json_only.insert("accept", "application/json".parse().unwrap());
        assert!(!names_revision(&json_only));

        // `_meta` without the revision, or without the capabilities it requires.
        assert!(!takes(&headers(&[]), &call(serde_json::json!({}))));
        assert!(!takes(
            &headers(&[]),
            &call(serde_json::json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"}))
        ));
        // SEP-2243 headers missing, different, repeated, Base64-wrapped, or with parameters:
        // rmcp checks (and refuses) them.
        for drop in ["mcp-method", "mcp-name"] {
            let mut h = headers(&[]);
            h.remove(drop);
            assert!(!takes(&h, &call(meta_2026())), "without {drop}");
        }
        let mut wrong = headers(&[]);
        wrong.insert("mcp-name", "other".parse().unwrap());
        assert!(!takes(&wrong, &call(meta_2026())));
        assert!(!takes(
            &headers(&[("mcp-method", "tools/call")]),
            &call(meta_2026())
        ));
        let mut wrapped = headers(&[]);
        wrapped.insert("mcp-name", "=?base64?ZWNobw==?=".parse().unwrap());
        assert!(!takes(&wrapped, &call(meta_2026())));
        assert!(!takes(
            &headers(&[("Mcp-Param-Region", "eu")]),
            &call(meta_2026())
        ));
    }

    #[test]
    fn answers_get_rmcps_http_status() {
        let error = |code| {
            JsonRpcMessage::error(ErrorData::new(code, "x", None), Some(RequestId::Number(1)))
        };
        assert_eq!(
            status_of(&error(ErrorCode::METHOD_NOT_FOUND)),
            StatusCode::NOT_FOUND
        );
        for code in [
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
            ErrorCode::HEADER_MISMATCH,
        ] {
            assert_eq!(status_of(&error(code)), StatusCode::BAD_REQUEST);
        }
        assert_eq!(status_of(&error(ErrorCode::INVALID_PARAMS)), StatusCode::OK);
        let result =
            JsonRpcMessage::response(rmcp::model::ServerResult::empty(()), RequestId::Number(1));
        assert_eq!(status_of(&result), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_calls_peer_has_the_revisions_client_info_and_reaches_no_client() {
        let stateless = Stateless::new(Recorder::off());
        let peer = stateless.peer();
        let info = peer.peer_info().expect("client info");
        assert_eq!(info.protocol_version, REVISION);
        assert_eq!(info.capabilities, ClientCapabilities::default());
        // Nothing sent on it reaches anyone, and saying so is an error, not a wait.
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while !peer.is_transport_closed() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the peer's transport closes");
        let sent = peer
            .send_notification(
                rmcp::model::ServerNotification::ToolListChangedNotification(Default::default()),
            )
            .await;
        assert!(sent.is_err());
        // One peer for every call.
        assert!(std::ptr::eq(peer, stateless.peer()));
    }
}
