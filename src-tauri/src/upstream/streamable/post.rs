//! A relayed request's POST, written and read by Loopgate (ARCHITECTURE.md "How a request
//! travels", step 3).
//!
//! Through rmcp's reqwest client (`StreamableHttpClient::post_message_with_response_limits`)
//! a relayed call paid, besides reqwest's own work: its request written through a
//! `serde_json::Value` (rmcp's `WithMeta`), the URL parsed, the configured headers copied into
//! a `HashMap` and then one by one into the request, the `Accept` value joined, and a JSON
//! answer read by trying every result type in turn — a third of an HTTP call's allocations
//! (`tests/bench/RESULTS.md`, runs S and U). [`post`] makes the same POST with the same
//! reqwest client: the body from [`crate::wire::request_json`], the URL parsed once
//! ([`Target`]), the headers put together in one map, and a JSON answer read by
//! [`crate::wire::server_message`] as the result its request expects.
//!
//! What comes back is read as rmcp reads it (Streamable HTTP, "Sending Messages to the
//! Server"):
//! - HTTP 202 or 204: [`Posted::Accepted`] (no answer for a request; the exchange says so);
//! - 404 on a session, 401 and 403: [`Posted::NotTaken`]: the server did not take the request,
//!   and the exchange sends it rmcp's way, which re-initializes the session or reports the
//!   server's challenge;
//! - another success as `application/json`: the message, at most [`MAX_RESPONSE_BYTES`];
//! - as `text/event-stream`: the stream of events, each at most [`MAX_RESPONSE_BYTES`], so a
//!   server cannot make the gateway buffer an event without end;
//! - any other status: a JSON-RPC error in a JSON body is the answer (a 2026-07-28 server
//!   answers errors with HTTP 400 or 404); otherwise an error naming the status and the start
//!   of the body.
//!
//! Only servers Loopgate did not sign in to are posted to this way: for the others rmcp's
//! `AuthClient` adds the bearer token and refreshes it, so their requests go through rmcp's
//! client ([`super::client::SharedClient::send`]).

use std::sync::Arc;

use futures::StreamExt;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use rmcp::model::{ClientRequest, JsonRpcMessage, RequestId, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::StreamableHttpError;
use sse_stream::SseStream;

use crate::wire::{request_json, server_message, Answer};

/// Reading the answer failed (the server may have taken the request).
pub type Failure = StreamableHttpError<reqwest::Error>;

/// A response's event stream, as rmcp's HTTP client hands it over.
pub type EventStream = futures::stream::BoxStream<
    'static,
    Result<sse_stream::Sse, rmcp::transport::streamable_http_client::SseError>,
>;

/// Largest JSON response accepted from a backend, and largest event on its event streams, in
/// bytes (16 MiB, as for stdio servers).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How much of an error body goes into the error's message, in bytes.
const ERROR_BODY_PREFIX: usize = 512;

/// What a server did with a POSTed request.
pub enum Posted {
    /// The answer (or a JSON-RPC error) as one JSON body.
    Message(Box<ServerJsonRpcMessage>),
    /// An event stream that carries the answer.
    Stream(EventStream),
    /// HTTP 202 or 204: taken, with nothing to say.
    Accepted,
    /// HTTP 404 on a session, 401 or 403: the server did not take the request.
    NotTaken,
}

/// A server's endpoint: its URL as configured and, parsed once, as reqwest takes it.
#[derive(Clone)]
pub struct Target {
    /// The URL as configured (rmcp's client takes it as text).
    pub url: Arc<str>,
    /// The parsed URL; `None` if it does not parse (then rmcp's client reports why).
    pub parsed: Option<reqwest::Url>,
}

impl Target {
    /// The endpoint at `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: Arc::from(url),
            parsed: reqwest::Url::parse(url).ok(),
        }
    }
}

/// The headers of one POST: `configured` (the server's headers from the config), then
/// `Accept` (both answer forms), `Content-Type: application/json`, `MCP-Protocol-Version:
/// version` (unless empty or not a valid header value), `Mcp-Session-Id: session` and `extra` (a
/// 2026-07-28 request's SEP-2243 headers). Loopgate's own replace a configured one of the
/// same name.
pub fn headers(
    configured: &HeaderMap,
    version: &str,
    session: Option<&str>,
    extra: Vec<(HeaderName, HeaderValue)>,
) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(configured.len() + 5 + extra.len());
    map.extend(configured.iter().map(|(k, v)| (k.clone(), v.clone())));
    map.insert(
        ACCEPT,
        HeaderValue::from_static("text/event-stream, application/json"),
    );
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(v) = (!version.is_empty())
        .then(|| HeaderValue::from_str(version).ok())
        .flatten()
    {
        map.insert(HeaderName::from_static("mcp-protocol-version"), v);
    }
    if let Some(v) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        map.insert(HeaderName::from_static("mcp-session-id"), v);
    }
    for (name, value) in extra {
        map.insert(name, value);
    }
    map
}

/// POSTs request `request` with id `id` to `url` over `client` with `headers` ([`headers`]),
/// and reads what comes back (see the module docs); a JSON answer is read as `answer` says.
/// `on_session`: the request names a session (a 404 then means the session expired).
///
/// Errors: [`StreamableHttpError::Client`] (the request could not be sent or its body not be
/// read), `Deserialize` (a JSON body that is no JSON-RPC message), `ResponseBodyTooLarge`,
/// `UnexpectedServerResponse` (another status without a JSON-RPC error, or an unknown content
/// type), `Sse` (an event over the size limit, or a broken stream, as it is read).
pub async fn post(
    client: &reqwest::Client,
    url: &reqwest::Url,
    (id, mut request): (&RequestId, ClientRequest),
    (headers, on_session): (HeaderMap, bool),
    answer: Answer,
) -> Result<Posted, Failure> {
    let body = request_json(id, &mut request)?;
    drop(request);
    let response = client
        .post(url.clone())
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(StreamableHttpError::Client)?;
    let status = response.status();
    match status {
        StatusCode::ACCEPTED | StatusCode::NO_CONTENT => return Ok(Posted::Accepted),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Ok(Posted::NotTaken),
        StatusCode::NOT_FOUND if on_session => return Ok(Posted::NotTaken),
        _ => {}
    }
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let json = kind.is_some_and(|k| is(k, JSON));
    if !status.is_success() {
        return refused(status, json, response, answer).await;
    }
    if json {
        let body = bounded_body(response, MAX_RESPONSE_BYTES).await?;
        return Ok(Posted::Message(Box::new(server_message(
            utf8(&body)?,
            answer,
        )?)));
    }
    if !kind.is_some_and(|k| is(k, EVENT_STREAM)) {
        return Err(StreamableHttpError::UnexpectedContentType(
            kind.map(str::to_owned),
        ));
    }
    Ok(Posted::Stream(bounded_events(
        response.bytes_stream(),
        MAX_RESPONSE_BYTES,
    )))
}

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// Whether `Content-Type` value `value` is media type `expected` (parameters aside; media
/// types are case-insensitive, RFC 9110 section 8.3.1).
fn is(value: &str, expected: &str) -> bool {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case(expected)
}

/// A status that is neither success nor "not taken": the JSON-RPC error in a JSON body is
/// the answer; anything else is an error naming the status and the start of the body.
async fn refused(
    status: StatusCode,
    json: bool,
    response: reqwest::Response,
    answer: Answer,
) -> Result<Posted, Failure> {
    let body = if json {
        bounded_body(response, MAX_RESPONSE_BYTES).await?
    } else {
        body_prefix(response, ERROR_BODY_PREFIX).await
    };
    let text = String::from_utf8_lossy(&body);
    if json {
        if let Ok(message @ JsonRpcMessage::Error(_)) = server_message(&text, answer) {
            return Ok(Posted::Message(Box::new(message)));
        }
    }
    // The server's words reach the caller's error message: no control characters (a line
    // break or a terminal escape the server chose).
    let shown: String = text
        .chars()
        .take(ERROR_BODY_PREFIX)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Err(StreamableHttpError::UnexpectedServerResponse(
        format!("HTTP {status}: {shown}").into(),
    ))
}

fn utf8(body: &[u8]) -> Result<&str, Failure> {
    std::str::from_utf8(body).map_err(|_| {
        StreamableHttpError::UnexpectedServerResponse("a JSON body that is not UTF-8".into())
    })
}

/// The whole body of `response`, if it is at most `max` bytes.
///
/// Errors: `ResponseBodyTooLarge` past `max` (read no further), `Client` if reading fails.
async fn bounded_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, Failure> {
    let too_large = || StreamableHttpError::ResponseBodyTooLarge { max_size: max };
    let announced = response.content_length().unwrap_or(0);
    if announced > max as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(announced as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(StreamableHttpError::Client)?
    {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// At most the first `max` bytes of `response`'s body (fewer if reading it fails): for an
/// error's message, where the rest does not matter.
async fn body_prefix(mut response: reqwest::Response, max: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < max {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(max - body.len())]),
            _ => break,
        }
    }
    body
}

/// Why an event stream ended early.
#[derive(Debug, thiserror::Error)]
enum StreamFault {
    /// An event is larger than the limit.
    #[error("an event on the server's stream is larger than {max} bytes")]
    TooLarge { max: usize },
    /// Reading the body failed.
    #[error(transparent)]
    Read(reqwest::Error),
}

/// Whether `error`, from a stream of [`post`], is an event over the size limit.
pub fn event_too_large(error: &rmcp::transport::streamable_http_client::SseError) -> bool {
    matches!(
        error,
        sse_stream::Error::Body(e)
            if matches!(e.downcast_ref::<StreamFault>(), Some(StreamFault::TooLarge { .. }))
    )
}

/// The events of an event stream's `bytes`, none larger than `max` bytes: the stream ends
/// with an error ([`event_too_large`]) at the first byte past it.
fn bounded_events<S>(bytes: S, max: usize) -> EventStream
where
    S: futures::Stream<Item = reqwest::Result<tokio_util::bytes::Bytes>> + Send + 'static,
{
    let mut limit = EventLimit::new(max);
    let mut ended = false;
    let checked = bytes.scan((), move |(), item| {
        let item = match item {
            _ if ended => None,
            Ok(chunk) if limit.admits(&chunk) => Some(Ok(chunk)),
            Ok(_) => {
                ended = true;
                Some(Err(StreamFault::TooLarge { max }))
            }
            Err(e) => {
                ended = true;
                Some(Err(StreamFault::Read(e)))
            }
        };
        futures::future::ready(item)
    });
    SseStream::from_bytes_stream(checked).boxed()
}

/// Counts the bytes of the event being received on an event stream (its lines' content; an
/// empty line ends an event: HTML, "Server-sent events", parsing an event stream).
#[derive(Debug)]
struct EventLimit {
    max: usize,
    event: usize,
    line_has_content: bool,
    after_cr: bool,
}

impl EventLimit {
    fn new(max: usize) -> Self {
        Self {
            max,
            event: 0,
            line_has_content: false,
            after_cr: false,
        }
    }

    /// Counts `chunk` in; false once the event being received is over the limit.
    fn admits(&mut self, chunk: &[u8]) -> bool {
        for &b in chunk {
            match b {
                // The LF of a CRLF: the line ended at the CR.
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    if !self.line_has_content {
                        self.event = 0;
                    }
                    self.line_has_content = false;
                }
                _ => {
                    self.after_cr = false;
                    self.line_has_content = true;
                    self.event += 1;
                    if self.event > self.max {
                        return false;
                    }
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_counted_across_chunks_and_ends_at_an_empty_line() {
        for end in ["\n\n", "\r\n\r\n", "\r\r"] {
            let mut limit = EventLimit::new(10);
            assert!(limit.admits(b"data: 12"), "{end:?}");
            assert!(limit.admits(b"34"), "{end:?}: 10 bytes fit");
            assert!(limit.admits(end.as_bytes()), "{end:?}");
            assert!(
                limit.admits(b"data: 1234"),
                "{end:?}: a new event counts from 0"
            );
            assert!(!limit.admits(b"5"), "{end:?}: the 11th byte is over");
        }
        // Line ends inside an event do not end it.
        let mut limit = EventLimit::new(16);
        assert!(limit.admits(b"data: a\r\ndata: b"));
        assert!(!limit.admits(b"cde"), "7 + 7 + 3 bytes");
        // A CR and its LF in two chunks are one line end.
        let mut limit = EventLimit::new(12);
        assert!(limit.admits(b"data: a\r"));
        assert!(limit.admits(b"\ndata"));
        assert!(!limit.admits(b": bc"));
    }

    #[tokio::test]
    async fn a_stream_ends_with_an_error_at_an_event_over_the_limit() {
        let chunks: Vec<reqwest::Result<tokio_util::bytes::Bytes>> = vec![
            Ok(tokio_util::bytes::Bytes::from_static(b"data: {}\n\n")),
            Ok(tokio_util::bytes::Bytes::from_static(b"data: 0123456789")),
            Ok(tokio_util::bytes::Bytes::from_static(b"\n\ndata: {}\n\n")),
        ];
        let mut events = bounded_events(futures::stream::iter(chunks), 12);
        let first = events.next().await.unwrap().unwrap();
        assert_eq!(first.data.as_deref(), Some("{}"));
        let refused = events.next().await.unwrap().unwrap_err();
        assert!(
            event_too_large(&refused),
            "the 16-byte event is refused: {refused}"
        );
        assert!(
            events.next().await.is_none(),
            "and nothing is read after it"
        );
    }

    #[test]
    fn loopgates_headers_replace_configured_ones_of_the_same_name() {
        let mut configured = HeaderMap::new();
        configured.insert("x-team", HeaderValue::from_static("a"));
        configured.insert(ACCEPT, HeaderValue::from_static("text/html"));
        configured.insert("mcp-method", HeaderValue::from_static("configured"));
        let extra = vec![(
            HeaderName::from_static("mcp-method"),
            HeaderValue::from_static("tools/call"),
        )];
        let h = headers(&configured, "2025-11-25", Some("s-1"), extra);
        assert_eq!(h["x-team"], "a");
        assert_eq!(h[ACCEPT], "text/event-stream, application/json");
        assert_eq!(h[CONTENT_TYPE], "application/json");
        assert_eq!(h["mcp-protocol-version"], "2025-11-25");
        assert_eq!(h["mcp-session-id"], "s-1");
        assert_eq!(h["mcp-method"], "tools/call");
        assert_eq!(h.len(), 6);
        let h = headers(&HeaderMap::new(), "", None, Vec::new());
        assert!(!h.contains_key("mcp-session-id"));
        assert!(!h.contains_key("mcp-protocol-version"));
    }

    #[test]
    fn media_types_are_compared_without_parameters_or_case() {
        assert!(is("Application/JSON; charset=utf-8", JSON));
        assert!(is(" text/event-stream", EVENT_STREAM));
        assert!(!is("application/json-seq", JSON));
    }

    /// What a server's answer to a POST is taken as, for each kind of answer it can give: a
    /// local server answers each path the way one kind of server does.
    #[tokio::test]
    async fn each_kind_of_answer_is_taken_as_streamable_http_says() {
        use axum::response::IntoResponse;
        async fn answer(uri: http::Uri) -> axum::response::Response {
            let json = [(CONTENT_TYPE, "application/json")];
            let error = r#"{"jsonrpc":"2.0","id":"k-1","error":{"code":-32602,"message":"no"}}"#;
            match uri.path() {
                "/json" => (
                    json,
                    r#"{"jsonrpc":"2.0","id":"k-1","result":{"content":[]}}"#,
                )
                    .into_response(),
                "/events" => {
                    ([(CONTENT_TYPE, "text/event-stream")], "data: {}\n\n").into_response()
                }
                "/accepted" => StatusCode::ACCEPTED.into_response(),
                "/gone" => (StatusCode::NOT_FOUND, json, error).into_response(),
                "/challenge" => StatusCode::UNAUTHORIZED.into_response(),
                "/bad" => (StatusCode::BAD_REQUEST, json, error).into_response(),
                "/broken" => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "it\nbroke\x1b[2J").into_response()
                }
                "/moved" => (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(http::header::LOCATION, "/json")],
                )
                    .into_response(),
                _ => ([(CONTENT_TYPE, "text/html")], "<p>hi</p>").into_response(),
            }
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(
            async move { axum::serve(listener, axum::Router::new().fallback(answer)).await },
        );
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let id = RequestId::String("k-1".into());
        let send = |path: &str, on_session: bool| {
            let url = reqwest::Url::parse(&format!("{base}{path}")).unwrap();
            let client = client.clone();
            let id = id.clone();
            async move {
                let request = ClientRequest::CallToolRequest(rmcp::model::Request::new(
                    rmcp::model::CallToolRequestParams::new("t"),
                ));
                let headers = headers(&HeaderMap::new(), "2025-11-25", None, Vec::new());
                post(
                    &client,
                    &url,
                    (&id, request),
                    (headers, on_session),
                    Answer::ToolResult,
                )
                .await
            }
        };
        let answered = |p: Result<Posted, Failure>| match p {
            Ok(Posted::Message(m)) => *m,
            Ok(_) => panic!("not a message"),
            Err(e) => panic!("{e}"),
        };
        assert!(matches!(
            answered(send("/json", true).await),
            JsonRpcMessage::Response(_)
        ));
        assert!(matches!(send("/events", true).await, Ok(Posted::Stream(_))));
        assert!(matches!(
            send("/accepted", true).await,
            Ok(Posted::Accepted)
        ));
        assert!(matches!(send("/gone", true).await, Ok(Posted::NotTaken)));
        assert!(matches!(
            send("/challenge", false).await,
            Ok(Posted::NotTaken)
        ));
        // Without a session, a 404 or 400 carrying a JSON-RPC error is the answer (2026-07-28).
        assert!(matches!(
            answered(send("/gone", false).await),
            JsonRpcMessage::Error(_)
        ));
        assert!(matches!(
            answered(send("/bad", true).await),
            JsonRpcMessage::Error(_)
        ));
        let broken = send("/broken", true).await.err().unwrap().to_string();
        assert!(
            broken.contains("HTTP 500 Internal Server Error: it broke [2J"),
            "{broken}"
        );
        let moved = send("/moved", true).await.err().unwrap().to_string();
        assert!(
            moved.contains("HTTP 307"),
            "redirects are not followed: {moved}"
        );
        let other = send("/page", true).await.err().unwrap().to_string();
        assert!(other.contains("text/html"), "{other}");
    }
}
