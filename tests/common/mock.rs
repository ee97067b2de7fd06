//! A small Streamable HTTP MCP backend (2025-11-25, initialize-based, JSON responses) for
//! faults real peers cannot be made to produce on demand: a strict server that refuses any
//! request without exactly the session id it issued, and one that forgets its sessions (as
//! after a restart or behind a load balancer). It follows the spec's transport rules
//! (2025-11-25 "Session Management"): issues `Mcp-Session-Id` on `initialize`, 404 for an
//! unknown session, 202 for notifications, DELETE ends a session. GET is 405 (no server stream)
//! except to resume a response stream: the `interrupted` tool answers with an event stream that
//! closes after its first event id, and the answer comes on a GET with that `Last-Event-ID`
//! ("Resumability and Redelivery"), as a server does whose connection was cut; `unreadable`
//! answers with a JSON-RPC error that has no id, as a server that could not read the request.
//! `asks` sends its client a `roots/list` request on the call's stream and refuses the answer
//! the client POSTs back (HTTP 500, as a server whose handler failed), then ends the call.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::{json, Value};

/// How the mock treats session ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Any request other than `initialize` without exactly an issued id gets HTTP 400.
    Strict,
    /// Unknown ids get HTTP 404 (the spec's "session expired"); see [`MockState::forget`].
    Forgetful,
}

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// The JSON-RPC request id (`null` for notifications, answers and non-POST requests).
    pub request_id: Value,
    pub session_id: Option<String>,
    pub protocol_header: Option<String>,
    pub authorization: Option<String>,
    pub status: u16,
}

/// Shared state, for assertions.
pub struct MockState {
    pub mode: Mode,
    sessions: Mutex<HashSet<String>>,
    pub issued: Mutex<Vec<String>>,
    pub received: Mutex<Vec<Received>>,
    pub initializes: AtomicU32,
    counter: AtomicU32,
    /// Answers waiting for a resuming GET, by the event id their stream stopped at.
    resumable: Mutex<HashMap<String, Value>>,
    /// Told when a client's answer to the mock's own request arrives (and is refused).
    answered: tokio::sync::Notify,
}

impl MockState {
    /// Forgets every session, as a restarted server would.
    pub fn forget(&self) {
        self.sessions.lock().unwrap().clear();
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A running mock; stops when dropped.
pub struct MockBackend {
    pub url: String,
    pub state: Arc<MockState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockBackend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockBackend {
    /// Starts a mock in `mode` on a free loopback port.
    pub async fn start(mode: Mode) -> MockBackend {
        let state = Arc::new(MockState {
            mode,
            sessions: Mutex::new(HashSet::new()),
            issued: Mutex::new(Vec::new()),
            received: Mutex::new(Vec::new()),
            initializes: AtomicU32::new(0),
            counter: AtomicU32::new(0),
            answered: tokio::sync::Notify::new(),
            resumable: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/mcp", post(handle).get(get_stream).delete(delete))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockBackend { url, state, task }
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn get_stream(State(s): State<Arc<MockState>>, headers: HeaderMap) -> Response {
    let last = header(&headers, "last-event-id");
    let answer = last
        .as_ref()
        .and_then(|id| s.resumable.lock().unwrap().remove(id));
    if let Some(last) = &last {
        s.received.lock().unwrap().push(Received {
            method: format!("GET Last-Event-ID {last}"),
            request_id: Value::Null,
            session_id: header(&headers, "mcp-session-id"),
            protocol_header: header(&headers, "mcp-protocol-version"),
            authorization: header(&headers, "authorization"),
            status: if answer.is_some() { 200 } else { 405 },
        });
    }
    match (answer, last) {
        (Some(answer), Some(last)) => event_stream(format!("id: {last}-1\ndata: {answer}\n\n")),
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

fn event_stream(body: impl Into<axum::body::Body>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/event-stream")],
        body.into(),
    )
        .into_response()
}

async fn delete(State(s): State<Arc<MockState>>, headers: HeaderMap) -> StatusCode {
    let sid = header(&headers, "mcp-session-id");
    let known = sid
        .as_ref()
        .is_some_and(|id| s.sessions.lock().unwrap().remove(id));
    s.received.lock().unwrap().push(Received {
        method: "DELETE".into(),
        request_id: Value::Null,
        session_id: sid,
        protocol_header: header(&headers, "mcp-protocol-version"),
        authorization: header(&headers, "authorization"),
        status: if known { 200 } else { 404 },
    });
    if known {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

async fn handle(State(s): State<Arc<MockState>>, headers: HeaderMap, body: Bytes) -> Response {
    let msg: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(rpc_error(&Value::Null, -32700, "parse error")),
            )
                .into_response()
        }
    };
    let method = msg["method"].as_str().unwrap_or("<response>").to_string();
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let sid = header(&headers, "mcp-session-id");
    let record = |status: u16| {
        s.received.lock().unwrap().push(Received {
            method: method.clone(),
            request_id: if method == "<response>" {
                Value::Null
            } else {
                msg.get("id").cloned().unwrap_or(Value::Null)
            },
            session_id: sid.clone(),
            protocol_header: header(&headers, "mcp-protocol-version"),
            authorization: header(&headers, "authorization"),
            status,
        })
    };

    if method == "initialize" {
        record(200);
        s.initializes.fetch_add(1, Ordering::SeqCst);
        let n = s.counter.fetch_add(1, Ordering::SeqCst);
        let new_id = format!("mock-session-{n}-{:08x}", rand::random::<u32>());
        s.sessions.lock().unwrap().insert(new_id.clone());
        s.issued.lock().unwrap().push(new_id.clone());
        let result = json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {"listChanged": true}},
            "serverInfo": {"name": "mock", "version": "1.0.0"}
        });
        let mut resp = Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response();
        resp.headers_mut()
            .insert("mcp-session-id", new_id.parse().unwrap());
        return resp;
    }

    let known = sid
        .as_ref()
        .is_some_and(|id| s.sessions.lock().unwrap().contains(id));
    if !known {
        let status = match (s.mode, &sid) {
            (Mode::Strict, _) | (Mode::Forgetful, None) => StatusCode::BAD_REQUEST,
            (Mode::Forgetful, Some(_)) => StatusCode::NOT_FOUND,
        };
        record(status.as_u16());
        return (
            status,
            Json(rpc_error(&id, -32000, "missing or unknown Mcp-Session-Id")),
        )
            .into_response();
    }
    if method == "<response>" {
        // The answer to `asks`'s request: refused, as by a server whose handler failed.
        record(500);
        s.answered.notify_one();
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the mock refuses answers",
        )
            .into_response();
    }
    record(if msg.get("id").is_some() { 200 } else { 202 });
    if msg.get("id").is_none() {
        return StatusCode::ACCEPTED.into_response();
    }
    let result = match method.as_str() {
        "ping" => json!({}),
        "tools/list" => json!({"tools": [
            {"name": "echo", "description": "Echo a message", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}},
            {"name": "whoami", "description": "The session id this request carried", "inputSchema": {"type": "object"}},
            {"name": "fail", "description": "Always answers with a JSON-RPC error", "inputSchema": {"type": "object"}},
            {"name": "slow", "description": "Answers after 10 s", "inputSchema": {"type": "object"}},
            {"name": "interrupted", "description": "Answers on a resumed stream", "inputSchema": {"type": "object"}},
            {"name": "unreadable", "description": "Answers with an error without an id", "inputSchema": {"type": "object"}},
            {"name": "asks", "description": "Asks its client for roots and refuses the answer", "inputSchema": {"type": "object"}}
        ]}),
        "tools/call" => {
            let text = match msg["params"]["name"].as_str() {
                Some("echo") => format!(
                    "mock echo: {}",
                    msg["params"]["arguments"]["message"].as_str().unwrap_or("")
                ),
                Some("whoami") => sid.clone().unwrap_or_default(),
                Some("fail") => return Json(rpc_error(&id, -32603, "boom")).into_response(),
                Some("interrupted") => {
                    let event = format!("stream-{}", s.counter.fetch_add(1, Ordering::SeqCst));
                    let answer = json!({"jsonrpc": "2.0", "id": id, "result": {
                        "content": [{"type": "text", "text": "answered on the resumed stream"}]
                    }});
                    s.resumable.lock().unwrap().insert(event.clone(), answer);
                    // The stream ends after its first event: the client resumes with a GET.
                    return event_stream(format!("id: {event}\nretry: 50\ndata: \n\n"));
                }
                Some("unreadable") => {
                    // What a server sends when it cannot tell which request it failed to read.
                    let error = rpc_error(&Value::Null, -32700, "could not read the request");
                    let mut error = error.as_object().unwrap().clone();
                    error.remove("id");
                    return event_stream(format!("data: {}\n\n", Value::Object(error)));
                }
                Some("asks") => {
                    let ask = json!({"jsonrpc": "2.0", "id": "mock-ask", "method": "roots/list"});
                    let answer = json!({"jsonrpc": "2.0", "id": id, "result": {
                        "content": [{"type": "text", "text": "asked"}]
                    }});
                    let state = s.clone();
                    // The call ends once the client's answer came (or after 10 s without it).
                    let events = futures::stream::iter([Ok::<_, std::convert::Infallible>(
                        Bytes::from(format!("data: {ask}\n\n")),
                    )])
                    .chain(futures::stream::once(async move {
                        let wait = std::time::Duration::from_secs(10);
                        let _ = tokio::time::timeout(wait, state.answered.notified()).await;
                        Ok(Bytes::from(format!("data: {answer}\n\n")))
                    }));
                    return event_stream(axum::body::Body::from_stream(events));
                }
                Some("slow") => {
                    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                    "finally".to_string()
                }
                other => {
                    return Json(rpc_error(&id, -32602, &format!("unknown tool {other:?}")))
                        .into_response()
                }
            };
            json!({"content": [{"type": "text", "text": text}]})
        }
        _ => return Json(rpc_error(&id, -32601, "method not found")).into_response(),
    };
    Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
}
