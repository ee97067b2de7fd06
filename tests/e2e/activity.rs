//! The activity log end to end: a real client's calls (the Python SDK, with a client token)
//! appear in `/api/activity` within a second, attributed to that client, with the right
//! outcome and a duration; filters work; a timeout is told apart; the log survives a restart;
//! a tiny size limit deletes the oldest calls; `loopgate call` and `loopgate activity` work
//! against the running gateway.

use std::time::{Duration, Instant};

use loopgate::app;
use serde_json::{json, Value};

use crate::common::*;

async fn get(base: &str, token: &str, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{base}/api/{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}

fn base_of(gw: &Gw) -> String {
    gw.url.trim_end_matches("/mcp").to_string()
}

/// Polls `GET /api/activity?<query>` until `done` holds for its items; returns them, or
/// panics after `within` with what was there.
async fn wait_for(
    gw: &Gw,
    query: &str,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let page = get(&base_of(gw), &gw.token, &format!("activity?{query}")).await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if done(&items) {
            return items;
        }
        assert!(
            start.elapsed() < within,
            "activity?{query} after {within:?}: {}",
            serde_json::to_string_pretty(&items).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn find<'a>(items: &'a [Value], target: &str) -> Option<&'a Value> {
    items.iter().find(|c| c["target"] == target)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_clients_calls_are_recorded_attributed_and_kept_across_a_restart() {
    let (_py, py_url) = python_http_server("stateful");
    let mut everything = everything_stdio();
    everything["timeoutMs"] = 400.into();
    let mut gw = Gw::start(json!({ "py": { "url": py_url }, "everything": everything })).await;
    gw.wait_ready(60).await;
    let config = gw.dir.path().join("config.json");
    let secrets = gw.running().secrets.clone();
    let client_token = loopgate::token::issue_client_token(&config, &secrets, "cursor")
        .await
        .unwrap();
    let reload = reqwest::Client::new()
        .post(format!("{}/api/clients/tokens/reload", base_of(&gw)))
        .bearer_auth(&gw.token)
        .send()
        .await
        .unwrap();
    assert!(reload.status().is_success());

    let plan = json!({"calls": [
        {"name": "py__add", "arguments": {"a": 2, "b": 3}},
        {"name": "py__add", "arguments": {"a": "not a number", "b": 3}},
        {"name": "everything__trigger-long-running-operation", "arguments": {"duration": 3, "steps": 3}},
    ]});
    let run = run_client("py-client.py", "legacy", &gw.url, &client_token, plan)
        .await
        .expect("the Python SDK client runs");
    let done_at = Instant::now();
    assert_eq!(run.calls.len(), 3, "{:?}", run.raw);

    // Within a second, all three calls are there, attributed to the client's token.
    let items = wait_for(
        &gw,
        "client=client:cursor&method=tools/call",
        Duration::from_secs(1),
        |items| items.len() >= 3,
    )
    .await;
    assert!(done_at.elapsed() < Duration::from_millis(1500));
    let ok = items
        .iter()
        .find(|c| c["target"] == "py__add" && c["outcome"] == "ok")
        .expect("the good add call");
    assert_eq!(ok["server"], "py");
    assert_eq!(ok["caller"], "client:cursor");
    assert!(ok["durationMs"].as_f64().unwrap() > 0.0);
    assert!(ok["requestBytes"].as_i64().unwrap() > 0);
    assert!(ok["responseBytes"].as_i64().unwrap() > 0);
    let bad = items
        .iter()
        .find(|c| c["target"] == "py__add" && c["outcome"] != "ok")
        .expect("the bad add call");
    assert_eq!(bad["outcome"], "isError", "{bad}");
    let slow = find(&items, "everything__trigger-long-running-operation").unwrap();
    assert_eq!(slow["outcome"], "timeout", "{slow}");
    assert_eq!(slow["server"], "everything");
    let d = slow["durationMs"].as_f64().unwrap();
    assert!((300.0..3000.0).contains(&d), "timed out after {d} ms");

    // The session's other requests are there too (initialize, tools/list), and the client's
    // notifications.
    let all = wait_for(&gw, "client=client:cursor", Duration::from_secs(1), |i| {
        i.iter().any(|c| c["method"] == "notifications/initialized")
    })
    .await;
    assert!(all.iter().any(|c| c["method"] == "initialize"));
    assert!(all.iter().any(|c| c["method"] == "tools/list"));

    // Filters: by server, by tool, by outcome; details carry the bodies.
    let py = wait_for(&gw, "server=py", Duration::from_secs(1), |_| true).await;
    assert!(py.iter().all(|c| c["server"] == "py") && py.len() >= 2);
    let failed = wait_for(
        &gw,
        "outcome=failed&server=py",
        Duration::from_secs(1),
        |_| true,
    )
    .await;
    assert_eq!(failed.len(), 1);
    let id = ok["id"].as_i64().unwrap();
    let detail = get(&base_of(&gw), &gw.token, &format!("activity/{id}")).await;
    assert!(
        detail["request"].as_str().unwrap().contains("\"a\":2"),
        "{detail}"
    );
    assert!(
        detail["response"].as_str().unwrap().contains('5'),
        "{detail}"
    );

    // Figures over the last hour.
    let stats = get(&base_of(&gw), &gw.token, "activity/stats").await;
    let py_fig = stats["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "py")
        .expect("py's figures");
    assert!(py_fig["calls"].as_u64().unwrap() >= 2, "{py_fig}");
    assert!(py_fig["errorRate"].as_f64().unwrap() > 0.0);
    assert!(stats["clients"]
        .as_array()
        .unwrap()
        .contains(&json!("client:cursor")));

    // A restart keeps them.
    let running = gw.running.take().unwrap();
    running.stop().await;
    let running = app::start(app::Options {
        config_path: config.clone(),
        port: None,
        secrets: Some(secrets.clone()),
        sign_in: loopgate::oauth::Presenter::Log,
    })
    .await
    .unwrap();
    gw.url = running.mcp_url();
    gw.running = Some(running);
    let after = wait_for(
        &gw,
        "client=client:cursor&method=tools/call",
        Duration::from_secs(1),
        |i| i.len() >= 3,
    )
    .await;
    assert!(find(&after, "everything__trigger-long-running-operation").is_some());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_size_limit_deletes_the_oldest_calls() {
    let (_py, py_url) = python_http_server("stateful");
    let gw = Gw::start_with(json!({
        "gateway": {"activity": {"maxMb": 0.15}},
        "mcpServers": { "py": { "url": py_url } },
    }))
    .await;
    gw.wait_ready(30).await;
    let client = mcp_client(&gw.url, &gw.token).await;
    let big = "x".repeat(8000);
    for i in 0..60 {
        let mut p = rmcp::model::CallToolRequestParams::new("py__echo");
        p.arguments = json!({"message": format!("{i} {big}")})
            .as_object()
            .cloned();
        client.peer().call_tool(p).await.unwrap();
    }
    client.cancel().await.unwrap();
    assert!(gw.running().activity.flush(Duration::from_secs(5)).await);
    let items = wait_for(
        &gw,
        "tool=py__echo&limit=500",
        Duration::from_secs(1),
        |_| true,
    )
    .await;
    assert!(
        !items.is_empty() && items.len() < 60,
        "{} calls kept of 60",
        items.len()
    );
    // The newest are the ones kept.
    let detail = get(
        &base_of(&gw),
        &gw.token,
        &format!("activity/{}", items[0]["id"]),
    )
    .await;
    assert!(
        detail["request"].as_str().unwrap().contains("59 "),
        "{}",
        &detail["request"].as_str().unwrap()[..80]
    );
    let file = gw.running().activity.path().unwrap().to_path_buf();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 1_000_000, "{} is {size} bytes", file.display());
    gw.stop().await;
}

/// `loopgate call` and `loopgate activity` against a real `loopgate serve` (token from a
/// private keychain, as a user has it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopgate_call_and_activity_use_the_running_gateway() {
    use crate::common::cli::{lg, text, wait_servers, Serve};
    let kr = crate::common::keyring::PrivateKeyring::start();
    let env = kr.env();
    let (_py, py_url) = python_http_server("stateful");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let port = free_port();
    std::fs::write(
        &config,
        json!({"gateway": {"port": port}, "mcpServers": {"py": {"url": py_url}}}).to_string(),
    )
    .unwrap();
    let mut serve = Serve::start(&env, &config, dir.path().join("serve.log"));
    wait_servers(&env, &config, "py ready", |v| v[0]["state"] == "ready");

    let out = lg(
        &env,
        &config,
        &["call", "py", "add", r#"{"a": 20, "b": 22}"#],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "42");
    let out = lg(&env, &config, &["call", "py", "nope"], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("no tool \"nope\""), "{}", text(&out));
    let out = lg(&env, &config, &["call", "py", "add", "[1]"], None);
    assert!(
        !out.status.success() && text(&out).contains("JSON object"),
        "{}",
        text(&out)
    );

    let deadline = Instant::now() + Duration::from_secs(5);
    let lines = loop {
        let out = lg(
            &env,
            &config,
            &["activity", "--server", "py", "--json"],
            None,
        );
        assert!(out.status.success(), "{}", text(&out));
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.iter().any(|c| c["target"] == "py__add") || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        lines
            .iter()
            .any(|c| c["target"] == "py__add" && c["caller"] == "gateway" && c["outcome"] == "ok"),
        "{lines:?}"
    );
    let out = lg(&env, &config, &["activity"], None);
    assert!(
        text(&out).contains("tools/call") && text(&out).contains("py__add"),
        "{}",
        text(&out)
    );
    serve.stop();
}
