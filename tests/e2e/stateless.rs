//! A 2026-07-28 client's calls as raw HTTP requests, against the real gateway in front of
//! server-everything: the front end serves them on the request's own task
//! (`http::stateless`), and a client must get what rmcp's stateless service gives it — the
//! answer alone as JSON, an event stream when progress or a log message comes first, rmcp's
//! refusal of headers that do not match the body, and the session-free requests it does not
//! serve itself.

use crate::common::*;
use serde_json::{json, Value};

/// A 2026-07-28 `tools/call` of `tool` with `arguments`; `progress` adds a progress token.
fn call(id: u64, tool: &str, arguments: Value, progress: Option<&str>) -> Value {
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    if let Some(token) = progress {
        meta["progressToken"] = json!(token);
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": meta}})
}

/// The JSON of every non-empty `data:` line of an SSE body.
fn events(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_clients_calls_are_answered_as_rmcps_stateless_service_answers_them() {
    let logs = json!({
        "command": python(),
        "args": [ensure_peers().join("logging-server.py")],
    });
    let gw = Gw::start(json!({ "everything": everything_stdio(), "logs": logs })).await;
    gw.wait_ready(60).await;
    let http = reqwest::Client::new();
    let post = |body: &Value, name: &str| {
        mcp_request(&http, reqwest::Method::POST, &gw.url, &gw.token, None)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", name.to_string())
            .body(body.to_string())
            .send()
    };

    // The answer alone: JSON, with the revision's `resultType`.
    let echo = call(1, "everything__echo", json!({"message": "hello"}), None);
    let r = post(&echo, "everything__echo").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["id"], 1, "{answer}");
    assert_eq!(answer["result"]["resultType"], "complete", "{answer}");
    assert!(
        answer["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("hello")),
        "{answer}"
    );

    // Progress first: an event stream of the progress, with the client's token, then the
    // answer, last.
    let slow = call(
        2,
        "everything__trigger-long-running-operation",
        json!({"duration": 1, "steps": 2}),
        Some("p-1"),
    );
    let r = post(&slow, "everything__trigger-long-running-operation")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let messages = events(&r.text().await.unwrap());
    let (answer, before) = messages.split_last().expect("messages");
    assert_eq!(answer["id"], 2, "{messages:?}");
    assert!(answer.get("result").is_some(), "{messages:?}");
    assert_eq!(before.len(), 2, "{messages:?}");
    for progress in before {
        assert_eq!(progress["method"], "notifications/progress", "{messages:?}");
        assert_eq!(progress["params"]["progressToken"], "p-1", "{messages:?}");
    }

    // A log message the server writes just before its answer (the Python SDK's, over stdio)
    // comes before the answer too, named by the gateway's name for the server (ARCHITECTURE.md
    // rule 21: through rmcp's service it could come after the answer, to nobody).
    let tool = "logs__log_then_echo";
    let mut logging = call(3, tool, json!({"message": "hi"}), None);
    logging["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("debug");
    for _ in 0..5 {
        let r = post(&logging, tool).await.unwrap();
        assert_eq!(r.status(), 200);
        let messages = events(&r.text().await.unwrap());
        let (answer, before) = messages.split_last().expect("messages");
        assert_eq!(answer["id"], 3, "{messages:?}");
        assert_eq!(before.len(), 1, "{messages:?}");
        assert_eq!(before[0]["method"], "notifications/message", "{messages:?}");
        assert_eq!(before[0]["params"]["logger"], "logs", "{messages:?}");
        assert_eq!(
            before[0]["params"]["data"], "about to echo hi",
            "{messages:?}"
        );
    }

    // An `Mcp-Name` that does not match the body: rmcp's refusal (400, -32020), not a call.
    let r = post(&echo, "everything__other").await.unwrap();
    assert_eq!(r.status(), 400);
    let refusal: Value = r.json().await.unwrap();
    assert_eq!(refusal["error"]["code"], -32020, "{refusal}");

    // Another client's token is no token: the guard refuses it before anything is served.
    let r = reqwest::Client::new()
        .post(&gw.url)
        .bearer_auth("not-the-token")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "everything__echo")
        .body(echo.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Without `Mcp-Method` the request is rmcp's to judge, and rmcp refuses it.
    let r = mcp_request(&http, reqwest::Method::POST, &gw.url, &gw.token, None)
        .header("mcp-protocol-version", "2026-07-28")
        .body(echo.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "rmcp requires Mcp-Method on 2026-07-28");
    gw.stop().await;
}

/// Two 2026-07-28 calls in flight at once, to an HTTP server that logs during each (the
/// Python SDK's, stateless): each call gets the log message its own response stream carried,
/// before its answer. (Told apart by nothing but the stream they came on: with two calls in
/// flight, a message that reaches the gateway on its own belongs to neither.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_2026_calls_each_get_their_own_log_messages() {
    let (_server, port) = python_peer("logging-server.py", &[("MODE", "http".into())]);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let gw = Gw::start(json!({ "logs": { "url": url } })).await;
    gw.wait_ready(30).await;
    assert!(
        gw.status("logs")["eras"]
            .as_array()
            .is_some_and(|e| e.contains(&json!("2026-07-28"))),
        "{}",
        gw.status("logs")
    );
    let http = reqwest::Client::new();
    let tool = "logs__log_then_echo";
    let post = |id: u64, message: &str| {
        let mut body = call(id, tool, json!({"message": message, "pause_ms": 700}), None);
        body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("debug");
        let request = mcp_request(&http, reqwest::Method::POST, &gw.url, &gw.token, None)
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", tool)
            .body(body.to_string());
        async move { events(&request.send().await.unwrap().text().await.unwrap()) }
    };
    let (a, b) = tokio::join!(post(1, "a"), post(2, "b"));
    for (messages, id, message) in [(a, 1, "a"), (b, 2, "b")] {
        let (answer, before) = messages.split_last().expect("messages");
        assert_eq!(answer["id"], id, "{messages:?}");
        assert_eq!(before.len(), 1, "{messages:?}");
        assert_eq!(before[0]["method"], "notifications/message", "{messages:?}");
        assert_eq!(
            before[0]["params"]["data"],
            format!("about to echo {message}"),
            "{messages:?}"
        );
    }
    gw.stop().await;
}
