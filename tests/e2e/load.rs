//! Load: 64 concurrent client sessions, each making calls spread across several backends (a
//! real Python SDK server over HTTP, server-memory over stdio, and the fast mock), with zero
//! errors and bounded memory. CI uses 40 calls per session; `LOOPGATE_LOAD_CALLS=2000` runs the
//! full 64 × 2,000. And the calls of one session reuse the gateway's connection to an HTTP
//! server instead of opening one per call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::common::forwarder::Forwarder;
use crate::common::mock::{MockBackend, Mode};
use crate::common::*;
use rmcp::model::CallToolRequestParams;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_sessions_without_errors() {
    let calls: usize = std::env::var("LOOPGATE_LOAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let (_py, py_url) = python_http_server("stateless");
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(
        json!({ "py": { "url": py_url }, "memory": memory_stdio(), "mock": { "url": mock.url } }),
    )
    .await;
    gw.wait_ready(40).await;
    let targets = [
        ("py__add", json!({"a": 1, "b": 2}), "3"),
        ("memory__read_graph", json!({}), "entities"),
        ("mock__echo", json!({"message": "m"}), "mock echo: m"),
    ];

    let errors = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let rss_start = rss_mb();
    let mut sessions = Vec::new();
    for s in 0..64usize {
        let (url, token) = (gw.url.clone(), gw.token.clone());
        let targets = targets.clone();
        let (errors, done) = (errors.clone(), done.clone());
        sessions.push(tokio::spawn(async move {
            let client = mcp_client(&url, &token).await;
            for i in 0..calls {
                let (tool, args, expect) = &targets[(s + i) % targets.len()];
                let mut p = CallToolRequestParams::new(tool.to_string());
                p.arguments = args.as_object().cloned();
                match client.peer().call_tool(p).await {
                    Ok(r)
                        if r.is_error != Some(true)
                            && serde_json::to_string(&r.content).unwrap().contains(expect) => {}
                    other => {
                        if errors.fetch_add(1, Ordering::SeqCst) < 3 {
                            eprintln!("session {s} call {i} {tool}: {other:?}");
                        }
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
            client.cancel().await.unwrap();
        }));
    }
    let mut peak = rss_start;
    for s in sessions {
        s.await.unwrap();
        peak = peak.max(rss_mb());
    }
    assert_eq!(done.load(Ordering::SeqCst), 64 * calls as u64);
    assert_eq!(errors.load(Ordering::SeqCst), 0, "calls failed under load");
    assert!(
        peak.saturating_sub(rss_start) < 200,
        "memory grew from {rss_start} to {peak} MiB"
    );
    gw.stop().await;
}

/// Sequential calls to a real HTTP server (the Python SDK's, which answers each call on an
/// event stream and closes it) go on the gateway's pooled connection: a connection dropped
/// with its response unread cannot go back to the pool, and the next call opens another (7 of
/// these 20 calls did, before the stream was read to its end after the answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_reuse_the_connection_to_an_http_server() {
    let (_py, py_url) = python_http_server("stateful");
    let backend = py_url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_string();
    let forwarder = Forwarder::start(&backend).await;
    let url = format!("http://127.0.0.1:{}/mcp", forwarder.port);
    let gw = Gw::start(json!({ "py": { "url": url } })).await;
    gw.wait_ready(40).await;
    let client = mcp_client(&gw.url, &gw.token).await;
    let call = |a: i64| {
        let mut p = CallToolRequestParams::new("py__add");
        p.arguments = json!({"a": a, "b": 1}).as_object().cloned();
        client.peer().call_tool(p)
    };
    call(0).await.unwrap();
    let before = forwarder.accepted();
    for a in 1..=20 {
        let r = call(a).await.unwrap();
        let text = serde_json::to_string(&r.content).unwrap();
        assert!(text.contains(&(a + 1).to_string()), "call {a}: {text}");
    }
    let opened = forwarder.accepted() - before;
    assert!(
        opened <= 2,
        "20 sequential calls opened {opened} connections to the server (before: {before})"
    );
    client.cancel().await.unwrap();
    gw.stop().await;
}
