//! A POST whose event stream carries nothing but its answer is answered as `application/json`.
//!
//! rmcp answers every request of an initialize-based session (and every `initialize`) with
//! `text/event-stream`, whatever the client accepts: the headers go out at once, then the
//! answer as one event, then the stream's end. For the usual call, with nothing sent before
//! its answer, that is three writes and three wake-ups of the client where one would do, and
//! a stream the client has to parse. Streamable HTTP lets a server answer a POST either way
//! when the client accepts both (spec 2025-06-18 and later, "Sending Messages to the
//! Server"), and rmcp already does so for stateless requests.
//!
//! [`collapse`] reads the stream's first events for a short window ([`WINDOW`]):
//!
//! - the first message is the **answer** (a JSON-RPC response or error): the client gets it as
//!   `application/json`, the same bytes rmcp serialised, with `Content-Length`. Priming
//!   events (empty data, for resuming a stream) before it are dropped: a JSON answer needs no
//!   resuming;
//! - the first message is **anything else** (progress, a log message, a server's request):
//!   the stream goes to the client as it is, every byte read so far first, so nothing is lost
//!   and the relay's event streams are unchanged;
//! - **no message within the window** (a slow call): the stream goes to the client as it is,
//!   so its headers and rmcp's keep-alive comments arrive as before (HTTP clients give up on
//!   a response whose headers do not come: undici's default is 300 s).
//!
//! The events are parsed with the `sse-stream` crate, which rmcp uses for its own.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures::{FutureExt, StreamExt};
use sse_stream::SseStream;

/// How long a POST's event stream is read for its answer before it goes to the client as a
/// stream (1 s).
pub const WINDOW: Duration = Duration::from_secs(1);

/// What the first message of a stream says about it.
enum First {
    /// The answer, as rmcp serialised it.
    Answer(String),
    /// Something else comes first, the stream ended, or the window passed.
    Stream,
}

/// Answers `response` (rmcp's answer to a POST) as `application/json` when it is an event
/// stream whose first message, within `window`, is the answer; otherwise returns it as a
/// stream with nothing lost (see the module docs). A response that is not an event stream is
/// returned unchanged.
pub async fn collapse(response: Response, window: Duration) -> Response {
    let is_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_stream || !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut data = body.into_data_stream();
    // What was read, in order (a body error included), for the stream when it stays one.
    let mut read: Vec<Result<Bytes, axum::Error>> = Vec::new();
    // The parser is fed what is read, so the bytes themselves stay at hand for the stream.
    let (feed, fed) = futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
    let mut events = SseStream::from_bytes_stream(fed);
    let deadline = tokio::time::Instant::now() + window;
    let first = 'read: loop {
        let chunk = match tokio::time::timeout_at(deadline, data.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            // The stream broke, ended or the window passed: the client gets what there is.
            Ok(Some(Err(e))) => {
                read.push(Err(e));
                break First::Stream;
            }
            Ok(None) | Err(_) => break First::Stream,
        };
        read.push(Ok(chunk.clone()));
        // An unbounded channel whose receiver is alive takes every chunk.
        let _ = feed.unbounded_send(Ok(chunk));
        while let Some(Some(event)) = events.next().now_or_never() {
            match event.map(|e| e.data) {
                Ok(None) => continue,
                Ok(Some(text)) if text.trim().is_empty() => continue,
                Ok(Some(text)) if is_answer(&text) => break 'read First::Answer(text),
                Ok(Some(_)) | Err(_) => break 'read First::Stream,
            }
        }
    };
    match first {
        First::Answer(text) => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            parts.headers.remove(header::CACHE_CONTROL);
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.remove(header::TRANSFER_ENCODING);
            Response::from_parts(parts, Body::from(text))
        }
        First::Stream => {
            let before = futures::stream::iter(read);
            Response::from_parts(parts, Body::from_stream(before.chain(data)))
        }
    }
}

/// Whether `text` is a JSON-RPC response or error: an object with a non-null `id` and no
/// `method`. Anything else (a notification, a request, an `id: null` error, not an object) is
/// not, and keeps the stream.
fn is_answer(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Envelope {
        method: Option<serde::de::IgnoredAny>,
        id: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Envelope>(text).is_ok_and(|e| e.method.is_none() && e.id.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn stream(chunks: Vec<&'static str>, then_wait: bool) -> Response {
        let chunks = futures::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::io::Error>(Bytes::from(c))),
        );
        let body = if then_wait {
            Body::from_stream(chunks.chain(futures::stream::pending()))
        } else {
            Body::from_stream(chunks)
        };
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .header("mcp-session-id", "s1")
            .body(body)
            .unwrap()
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    const ANSWER: &str = r#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#;

    #[tokio::test]
    async fn an_answer_alone_is_answered_as_json_with_the_same_bytes() {
        // Priming first, the event split over two chunks, and the stream kept open after it.
        let r = collapse(
            stream(
                vec![
                    "id: 0\nretry: 3000\ndata: \n\n",
                    "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,",
                    "\"result\":{\"content\":[]}}\n\n",
                ],
                true,
            ),
            WINDOW,
        )
        .await;
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()["mcp-session-id"], "s1");
        assert!(r.headers().get(header::CACHE_CONTROL).is_none());
        assert_eq!(text(r).await, ANSWER);
        let error = r#"{"jsonrpc":"2.0","id":"a","error":{"code":-32602,"message":"no"}}"#;
        let r = collapse(
            stream(vec![": keep-alive\n\n", "data: ", error, "\n\n"], false),
            WINDOW,
        )
        .await;
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(text(r).await, error);
    }

    #[tokio::test]
    async fn anything_before_the_answer_keeps_the_whole_stream() {
        let chunks = vec![
            "id: 0\nretry: 3000\ndata: \n\n",
            ": keep-alive\n\n",
            "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n",
            "data: {\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"roots/list\"}\n\n",
            "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n",
        ];
        let whole: String = chunks.concat();
        let r = collapse(stream(chunks, false), WINDOW).await;
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
        assert_eq!(text(r).await, whole);
    }

    #[tokio::test]
    async fn a_slow_answer_keeps_the_stream() {
        let window = Duration::from_millis(50);
        let r = collapse(stream(vec!["id: 0\ndata: \n\n"], true), window).await;
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
        let mut body = r.into_body().into_data_stream();
        assert_eq!(body.next().await.unwrap().unwrap(), "id: 0\ndata: \n\n");
    }

    #[tokio::test]
    async fn other_answers_are_left_alone() {
        let json = Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(ANSWER))
            .unwrap();
        let r = collapse(json, WINDOW).await;
        assert_eq!(text(r).await, ANSWER);
        let mut refused = stream(vec!["data: {}\n\n"], false);
        *refused.status_mut() = StatusCode::NOT_FOUND;
        let r = collapse(refused, WINDOW).await;
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
        // A stream that ends without an answer, or carries no JSON-RPC, stays a stream.
        for chunks in [vec!["id: 0\ndata: \n\n"], vec!["data: [1, 2]\n\n"]] {
            let whole = chunks.concat();
            let r = collapse(stream(chunks, false), WINDOW).await;
            assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
            assert_eq!(text(r).await, whole);
        }
    }

    #[test]
    fn answers_are_told_from_other_messages() {
        assert!(is_answer(ANSWER));
        assert!(!is_answer(
            r#"{"jsonrpc":"2.0","method":"notifications/message"}"#
        ));
        assert!(!is_answer(
            r#"{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}"#
        ));
        assert!(!is_answer("[1]"));
        assert!(!is_answer("not json"));
    }
}
