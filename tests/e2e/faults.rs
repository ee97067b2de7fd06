//! Backend faults, produced by a real Python SDK stdio server whose tools misbehave on request
//! (`tests/peers/faulty-server.py`): a hanging call times out with an error naming the server
//! while other servers keep answering; a stderr flood and a 50 MB result leave memory bounded
//! with a clear error; a crash mid-call fails that call and the server comes back; a crash loop
//! is parked as `failed`, not restarted forever. And one fault no real peer produces, from the
//! spec-following mock: a server that refuses its client's answer to its own request. A call
//! still running when the gateway stops does not hold the stop up. The same server over
//! Streamable HTTP: an oversized answer is refused whether it comes as JSON or as an event.

use std::time::{Duration, Instant};

use crate::common::mock::{MockBackend, Mode};
use crate::common::*;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::RoleClient;
use serde_json::{json, Value};

fn faulty(extra_env: Value) -> Value {
    let dir = ensure_peers();
    json!({
        "command": python(),
        "args": [dir.join("faulty-server.py")],
        "env": extra_env,
        // Long enough for a 50 MiB answer to be read and refused on a loaded machine (a call
        // waiting behind it on the same pipe must not time out), short enough for the hang.
        "timeoutMs": 4000
    })
}

async fn client(gw: &Gw) -> RunningService<RoleClient, ()> {
    mcp_client(&gw.url, &gw.token).await
}

/// Calls a tool; returns (is_error, text) whether the failure came as a tool error or a
/// JSON-RPC error.
async fn call(c: &RunningService<RoleClient, ()>, name: &str, args: Value) -> (bool, String) {
    let mut p = CallToolRequestParams::new(name.to_string());
    p.arguments = args.as_object().cloned();
    match c.peer().call_tool(p).await {
        Ok(r) => (
            r.is_error == Some(true),
            r.content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                .collect::<Vec<_>>()
                .join(""),
        ),
        Err(e) => (true, e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_flood_big_and_crash_are_contained() {
    let gw = Gw::start(json!({ "faulty": faulty(json!({})), "memory": memory_stdio() })).await;
    gw.wait_ready(40).await;
    let c = client(&gw).await;
    assert_eq!(
        call(&c, "faulty__echo", json!({"message": "hi"})).await,
        (false, "echo: hi".to_string())
    );

    // A hanging call times out after the configured 4 s; another server answers meanwhile.
    let started = Instant::now();
    let (hang, other) = tokio::join!(call(&c, "faulty__hang", json!({})), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = call(&c, "memory__read_graph", json!({})).await;
        (r, started.elapsed())
    });
    assert!(
        hang.0 && hang.1.contains("server \"faulty\"") && hang.1.contains("4000 ms"),
        "{hang:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(12));
    assert!(
        !other.0 .0 && other.1 < Duration::from_millis(1900),
        "other server was held up: {other:?}"
    );

    // A 20 MiB stderr flood: bounded log buffer, bounded memory, the call still answers.
    let before = rss_mb();
    assert_eq!(
        call(&c, "faulty__flood", json!({"mb": 20})).await,
        (false, "flooded".to_string())
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let logs = gw.running().gateway.supervisor().snapshot()["faulty"]
        .logs
        .tail(10_000);
    assert!(logs.len() <= 500, "{} log lines kept", logs.len());
    // A 50 MiB result: refused with a clear error, memory bounded, the server stays usable;
    // a call in flight on the same server meanwhile is not affected.
    let (big, slow) = tokio::join!(
        call(&c, "faulty__big", json!({"mb": 50})),
        call(&c, "faulty__slow", json!({"ms": 1500}))
    );
    let (err, text) = big;
    assert!(
        err && text.contains("server \"faulty\"") && text.contains("larger than 16 MiB"),
        "{text}"
    );
    assert_eq!(
        slow,
        (false, "slow done".to_string()),
        "the other call failed too"
    );
    let grown = rss_mb().saturating_sub(before);
    assert!(grown < 150, "memory grew by {grown} MiB");
    assert_eq!(
        call(&c, "faulty__echo", json!({"message": "still"})).await,
        (false, "echo: still".to_string())
    );

    // A crash mid-call fails that call with the server named; the server is restarted.
    let (err, text) = call(&c, "faulty__crash", json!({})).await;
    assert!(err && text.contains("faulty"), "{text}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = gw.status("faulty");
        if s["state"] == "ready" && s["restarts"].as_u64() >= Some(1) {
            break;
        }
        assert!(Instant::now() < deadline, "not restarted: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        call(&c, "faulty__echo", json!({"message": "back"})).await,
        (false, "echo: back".to_string())
    );
    c.cancel().await.unwrap();
    gw.stop().await;
}

/// An HTTP server's answer over the size limit is refused with the same clear error, whether
/// it comes as one JSON body or as an event on a stream, and the server stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_servers_oversized_answer_is_refused_in_either_form() {
    let (_json, json_port) = python_peer(
        "faulty-server.py",
        &[("MODE", "stateful".into()), ("JSON", "1".into())],
    );
    let (_sse, sse_port) = python_peer("faulty-server.py", &[("MODE", "stateful".into())]);
    let url = |port: u16| format!("http://127.0.0.1:{port}/mcp");
    let gw = Gw::start(json!({
        "json": { "url": url(json_port), "timeoutMs": 20000 },
        "sse": { "url": url(sse_port), "timeoutMs": 20000 },
    }))
    .await;
    gw.wait_ready(40).await;
    let c = client(&gw).await;
    for server in ["json", "sse"] {
        let (err, text) = call(&c, &format!("{server}__big"), json!({"mb": 20})).await;
        assert!(
            err && text.contains(&format!("server \"{server}\""))
                && text.contains("larger than 16 MiB"),
            "{server}: {text}"
        );
        assert_eq!(
            call(&c, &format!("{server}__echo"), json!({"message": "still"})).await,
            (false, "echo: still".to_string()),
            "{server}"
        );
    }
    c.cancel().await.unwrap();
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_is_parked_as_failed() {
    let gw = Gw::start(
        json!({ "loop": faulty(json!({"CRASH_ON_START": "1"})), "memory": memory_stdio() }),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let parked = loop {
        let s = gw.status("loop");
        if s["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("gave up"))
        {
            break s;
        }
        assert!(Instant::now() < deadline, "never parked: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(parked["state"], "failed");
    let reason = parked["lastError"].as_str().unwrap();
    assert!(
        reason.contains("exited with code 7") && reason.contains("5 failed starts"),
        "{reason}"
    );
    let restarts = parked["restarts"].clone();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        gw.status("loop")["restarts"],
        restarts,
        "kept restarting after being parked"
    );
    assert_eq!(
        gw.status("memory")["state"],
        "ready",
        "other servers unaffected"
    );
    gw.stop().await;
}

/// A client's answer to a server's request that the server does not take (here HTTP 500) is
/// not dropped silently: the server's own log says so, naming the failure, because the server
/// is left waiting for it.
#[tokio::test]
async fn an_answer_the_server_refuses_is_reported_in_its_log() {
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "asker": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let client = mcp_client(&gw.url, &gw.token).await;
    let res = client
        .peer()
        .call_tool(CallToolRequestParams::new("asker__asks"))
        .await
        .expect("the call ends");
    assert_eq!(res.content[0].as_text().unwrap().text, "asked");
    let answers: Vec<_> = mock
        .state
        .received()
        .into_iter()
        .filter(|r| r.method == "<response>")
        .collect();
    assert_eq!(answers.len(), 1, "one answer was posted: {answers:?}");
    assert_eq!(answers[0].status, 500);
    let logs_url = gw.url.replace("/mcp", "/api/servers/asker/logs");
    let mut logs = String::new();
    for _ in 0..50 {
        logs = reqwest::Client::new()
            .get(&logs_url)
            .bearer_auth(&gw.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if logs.contains("could not be delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        logs.contains("could not be delivered") && logs.contains("500"),
        "{logs}"
    );
    gw.stop().await;
}

/// A call still running when the gateway stops does not hold the stop up: its client's event
/// stream ends at once, as rmcp's own streams do, instead of keeping its connection open
/// until the server answers (the mock's `slow` takes 10 s; the stop waits at most 5 s for
/// open connections).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_does_not_hold_up_the_stop() {
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "mock": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let client = mcp_client(&gw.url, &gw.token).await;
    let peer = client.peer().clone();
    let _call = tokio::spawn(async move {
        peer.call_tool(CallToolRequestParams::new("mock__slow"))
            .await
    });
    // Past the one-second window: the call's answer is an event stream by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    gw.stop().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "stopping took {took:?}");
}
