//! The `/mcp` endpoint: rmcp's Streamable HTTP service over [`GatewayHandler`].
//!
//! Serves initialize-based clients with Loopgate's own session ids (bounded and expired when
//! idle, see [`super::mcp_sessions`]) and 2026-07-28 clients statelessly, on one endpoint.
//! The relayed calls of initialized sessions are served without rmcp's session worker
//! ([`super::direct`]), and those of 2026-07-28 clients without rmcp's per-request service
//! ([`super::stateless`]); everything else goes through rmcp. A request of any method that
//! names an initialized session of another client gets the 404 of an unknown session first
//! ([`super::direct::Direct::serve`]), and a session's `notifications/initialized` is
//! acknowledged once the session is registered for that serving.
//! A request whose answer is a single response gets it as `application/json` (no event
//! stream to open, frame and parse): rmcp does so for stateless requests, and
//! [`super::single_answer`] for those of a session and for `initialize`. One that produces
//! notifications or requests first (progress, logging, sampling) still gets
//! `text/event-stream`, so nothing is lost.
//! rmcp validates `Host` itself; its Origin check is off by default and is turned on here
//! (the [`super::guard`]'s check, which comes first, checks both as well as the token).
//!
//! The endpoint is mounted as one service that does in order what layers of the router would:
//! the guard's check ([`super::guard::guarded`], before anything else reads the request),
//! [`normalize`], the endpoint itself, and the [`super::security_headers`] on whatever it
//! answers. As router layers they cost every call a clone of each layer's inner service and a
//! boxed future per layer, and the nested router a rewritten URI (tests/bench/RESULTS.md, run
//! S).

use std::sync::Arc;

use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::guard::{self, GuardConfig};
use super::mcp_sessions::ManagedSessions;
use crate::activity::Recorder;
use crate::gateway::{Gateway, GatewayHandler, Recorded};

pub use super::MAX_BODY_BYTES;

/// The rmcp service type behind `/mcp`.
pub type McpService = StreamableHttpService<Recorded, ManagedSessions>;

/// The `/mcp` endpoint as mounted: the guard, rmcp's service behind an [`Arc`], and the calls
/// of initialized sessions served without it ([`super::direct`]); see the module docs.
///
/// The router clones its service for every request, and rmcp's `call` clones it once more;
/// a clone of [`StreamableHttpService`] copies its whole configuration (the allowed hosts and
/// origins, each a `String`) and a cancellation token. This clone is one reference count, and
/// every request is served by [`StreamableHttpService::handle`] on the one shared service.
/// A POST's event stream that carries only its answer is turned into an `application/json`
/// answer by [`super::single_answer::collapse`].
#[derive(Clone)]
pub struct McpEndpoint(Arc<Endpoint>);

/// What [`McpEndpoint`] shares between requests.
struct Endpoint {
    guard: Arc<GuardConfig>,
    service: McpService,
    direct: super::direct::Direct,
}

impl tower::Service<axum::extract::Request> for McpEndpoint {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::extract::Request) -> Self::Future {
        let endpoint = self.0.clone();
        Box::pin(async move {
            let response = guard::guarded(&endpoint.guard, guard::Route::Mcp, request, |r| {
                normalize(r, |r| serve(&endpoint, r))
            })
            .await;
            Ok(super::security_headers(response).await)
        })
    }
}

/// Serves a request the guard let through: a relayed call of an initialized session or of a
/// 2026-07-28 client on the request's own task ([`super::direct::Direct::serve`]), anything
/// else with rmcp's service.
async fn serve(endpoint: &Endpoint, request: axum::extract::Request) -> axum::response::Response {
    let request = match endpoint.direct.serve(request).await {
        Ok(response) => return response,
        Err(request) => request,
    };
    // rmcp's path in a box of its own: its future is more than twice the size of the direct
    // path's, and this future is moved whole into its box on every request.
    Box::pin(through_rmcp(endpoint, request)).await
}

/// Serves `request` with rmcp's service; a POST's answer that is a single response becomes
/// `application/json` ([`super::single_answer::collapse`]). A session's
/// `notifications/initialized` is acknowledged once the session is registered for the front
/// end's own serving of its calls, for at most [`REGISTER_WITHIN`] (ARCHITECTURE.md rule 19).
async fn through_rmcp(
    endpoint: &Endpoint,
    request: axum::extract::Request,
) -> axum::response::Response {
    let post = request.method() == axum::http::Method::POST;
    let (request, initializes) = initialized_session(request).await;
    let response = endpoint
        .service
        .handle(request)
        .await
        .map(axum::body::Body::new);
    if let Some(id) = initializes.filter(|_| response.status().is_success()) {
        // Register before the client hears back (ARCHITECTURE.md rule 19), so its next call
        // is served on its own task.
        if !endpoint
            .direct
            .gateway()
            .direct
            .registered(&id, REGISTER_WITHIN)
            .await
        {
            tracing::debug!("session {id} was not registered within {REGISTER_WITHIN:?}");
        }
    }
    if post {
        super::single_answer::collapse(response, super::single_answer::WINDOW).await
    } else {
        response
    }
}

/// Longest the acknowledgement of `notifications/initialized` waits for the session's
/// registration ([`crate::gateway::direct::DirectSessions::registered`]).
const REGISTER_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

/// `request` unchanged, and the session id it names when it is a POST of
/// `notifications/initialized` (its body read from memory: [`normalize`] collected it).
async fn initialized_session(
    request: axum::extract::Request,
) -> (axum::extract::Request, Option<String>) {
    use crate::wire::{Envelope, Method, Shape};
    use rmcp::transport::common::http_header::HEADER_SESSION_ID;
    let session = request
        .headers()
        .get(HEADER_SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(session) = session.filter(|_| request.method() == axum::http::Method::POST) else {
        return (request, None);
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        // Only a body that is not JSON comes here unread (`normalize` collects JSON ones), and
        // rmcp refuses that for its content type, whatever it holds.
        let empty = axum::body::Body::empty();
        return (axum::extract::Request::from_parts(parts, empty), None);
    };
    let initializes = Envelope::read(&bytes)
        .is_some_and(|e| e.shape == Shape::Notification && e.method == Method::Initialized);
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    (request, initializes.then_some(session))
}

/// Builds the `/mcp` service behind `guard` (its check, and the hosts and browser origins it
/// allows), over `sessions`; `shutdown` ends every client session when cancelled. Every
/// request and notification is recorded by `recorder` (the activity log; [`Recorder::off`]
/// for none).
pub fn service(
    gw: Arc<Gateway>,
    recorder: Recorder,
    guard: Arc<GuardConfig>,
    sessions: ManagedSessions,
    shutdown: CancellationToken,
) -> McpEndpoint {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .map(String::from)
        .to_vec();
    if let Some(ip) = guard.extra_host {
        hosts.push(ip.to_string());
    }
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(guard.allowed_origins())
        .enforce_origin_validation()
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_json_response(true)
        .with_cancellation_token(shutdown.clone());
    // No priming event on `initialize` answers and GET streams: they are sent before the
    // client's revision is known to the stream, and clients below 2025-11-25 (Gemini CLI)
    // choke on them. Request streams of newer clients still get theirs (ManagedSessions).
    config.sse_retry = None;
    let handlers = gw.clone();
    let recorded_here = recorder.clone();
    let service = StreamableHttpService::new(
        move || {
            Ok(Recorded::new(
                GatewayHandler::new(handlers.clone()),
                handlers.clone(),
                recorder.clone(),
            ))
        },
        Arc::new(sessions.clone()),
        config,
    );
    McpEndpoint(Arc::new(Endpoint {
        guard,
        service,
        direct: super::direct::Direct::new(gw, sessions, shutdown, recorded_here),
    }))
}

/// Serves `request` with `endpoint`, giving the answers clients expect where rmcp's differ:
///
/// - `DELETE` of a session answers `204 No Content` (rmcp says 202, which clients such as the
///   Python SDK report as "Session termination failed: 202").
/// - A body that is not JSON gets `400` with the JSON-RPC parse error (-32700); JSON that is
///   not a JSON-RPC message gets `400` with invalid request (-32600), both with `id: null`
///   (rmcp answers 415 "fail to deserialize request body").
pub async fn normalize<F>(
    request: axum::extract::Request,
    endpoint: impl FnOnce(axum::extract::Request) -> F,
) -> axum::response::Response
where
    F: std::future::Future<Output = axum::response::Response>,
{
    use axum::http::{header, Method, StatusCode};
    use axum::response::IntoResponse;
    let method = request.method().clone();
    let json_body = method == Method::POST
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
    let rpc_error = |code: i32, message: &str| {
        let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    };
    // The body is collected here (to answer 413 in words) and checked only when rmcp refuses
    // it: parsing it twice on every request cost a JSON scan per call for the rare bad one.
    let mut collected = None;
    let request = if json_body {
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the request body is larger than {} MiB",
                        MAX_BODY_BYTES >> 20
                    ),
                )
                    .into_response()
            }
        };
        collected = Some(bytes.clone());
        axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))
    } else {
        request
    };
    let mut response = endpoint(request).await;
    match (method, response.status()) {
        (Method::DELETE, StatusCode::ACCEPTED) => {
            *response.status_mut() = StatusCode::NO_CONTENT;
        }
        (Method::POST, StatusCode::UNSUPPORTED_MEDIA_TYPE) if json_body => {
            let bytes = collected.unwrap_or_default();
            if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                return rpc_error(-32700, "Parse error: the request body is not valid JSON");
            }
            return rpc_error(
                -32600,
                "Invalid Request: the body is JSON but not a JSON-RPC request, notification or response",
            );
        }
        _ => {}
    }
    response
}
