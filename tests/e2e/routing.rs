//! Routing and list bugs found in review, each performed against a real gateway: a 2026-07-28
//! listener of some lists keeps its stream when another list changes; a server without tools
//! still offers its prompts and resources; `prompts/get` relays progress; progress extends a
//! call's time limit up to a hard cap; and the transport answers clients expect (DELETE 204,
//! 400 with a JSON-RPC error for a body that is not JSON or not JSON-RPC).

use std::time::{Duration, Instant};

use crate::common::*;
use rmcp::model::{
    CallToolRequestParams, GetPromptRequestParams, ProgressNotificationParam, ProtocolVersion,
    SubscriptionFilter,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext};
use rmcp::{ClientHandler, RoleClient};
use serde_json::{json, Value};

fn conformance_backend_stdio(env: serde_json::Value) -> serde_json::Value {
    let dir = ensure_peers();
    json!({
        "command": "node",
        "args": [dir.join("conformance-backend.mjs").to_str().unwrap(), "stdio"],
        "env": env,
    })
}

/// A 2026-07-28 client listening only to prompt changes: a change of the tool list must not
/// end its stream; a later prompt change still arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_of_some_lists_keeps_its_stream_when_others_change() {
    let gw = Gw::start(
        json!({ "conf": conformance_backend_stdio(json!({})), "memory": memory_stdio() }),
    )
    .await;
    gw.wait_ready(30).await;
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            gw.url.as_str(),
        );
    cfg.auth_header = Some(gw.token.clone());
    let client = ()
        .serve_with_lifecycle(
            rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap();
    let mut sub = client
        .peer()
        .listen(SubscriptionFilter::builder().prompts_list_changed().build())
        .await
        .unwrap();
    let store = gw.running().store.clone();
    // Tools only: memory has no prompts.
    store.set_server_enabled("memory", false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Prompts too: conf has some.
    store.set_server_enabled("conf", false).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a notification within 10 s")
        .expect("the stream is still open");
    let got = got.expect("a notification, not the end of the stream");
    assert!(format!("{got:?}").contains("PromptListChanged"), "{got:?}");
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// A server that declares prompts and resources but no tools is offered with its prompts and
/// resources (it used to fail listing tools and vanish).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_tools_still_offers_prompts_and_resources() {
    let gw =
        Gw::start(json!({ "prompts": conformance_backend_stdio(json!({"PROMPTS_ONLY": "1"})) }))
            .await;
    gw.wait_ready(30).await;
    assert_eq!(gw.status("prompts")["state"], "ready");
    let client = mcp_client(&gw.url, &gw.token).await;
    let prompts = client.peer().list_all_prompts().await.unwrap();
    assert!(
        prompts
            .iter()
            .any(|p| p.name == "prompts__test_prompt_with_arguments"),
        "{prompts:?}"
    );
    let resources = client.peer().list_all_resources().await.unwrap();
    assert!(resources.iter().any(|r| r.uri == "test://watched-resource"));
    assert!(client.peer().list_all_tools().await.unwrap().is_empty());
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// Counts the progress notifications it receives.
#[derive(Clone, Default)]
struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl ClientHandler for Counting {
    async fn on_progress(
        &self,
        _params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `prompts/get` relays the server's progress to the client under the client's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_get_relays_progress() {
    let gw = Gw::start(json!({ "conf": conformance_backend_stdio(json!({})) })).await;
    gw.wait_ready(30).await;
    let counting = Counting::default();
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            gw.url.as_str(),
        );
    cfg.auth_header = Some(gw.token.clone());
    let client = counting
        .clone()
        .serve_with_lifecycle(
            rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
            ClientLifecycleMode::Initialize,
        )
        .await
        .unwrap();
    let request = rmcp::model::ClientRequest::GetPromptRequest(rmcp::model::GetPromptRequest::new(
        GetPromptRequestParams::new("conf__test_prompt_with_progress"),
    ));
    let handle = client
        .peer()
        .send_request_with_option(request, rmcp::service::PeerRequestOptions::no_options())
        .await
        .unwrap();
    handle.await_response().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(counting.0.load(std::sync::atomic::Ordering::SeqCst), 3);
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// A call that keeps reporting progress outlives the time limit (progress extends it), but not
/// beyond ten times the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_extends_a_calls_time_limit_up_to_a_hard_cap() {
    let mut patient = everything_stdio();
    patient["timeoutMs"] = 1000.into();
    let mut strict = everything_stdio();
    strict["timeoutMs"] = 200.into();
    time_limits(patient, strict).await;
}

/// The same over Streamable HTTP, where the gateway reads the answer and the progress from the
/// POST's event stream itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_extends_an_http_calls_time_limit_up_to_a_hard_cap() {
    let (_a, patient) = everything_http(json!({ "timeoutMs": 1000 }));
    let (_b, strict) = everything_http(json!({ "timeoutMs": 200 }));
    time_limits(patient, strict).await;
}

/// Runs server-everything's long-running operation on `patient` (1 s limit) and `strict`
/// (0.2 s limit) and checks that progress extends the limit, up to ten times.
async fn time_limits(patient: Value, strict: Value) {
    let gw = Gw::start(json!({ "patient": patient, "strict": strict })).await;
    gw.wait_ready(60).await;
    let client = mcp_client(&gw.url, &gw.token).await;
    let run = |tool: &str, duration: f64, steps: u32| {
        let mut p = CallToolRequestParams::new(tool.to_string());
        p.arguments = json!({"duration": duration, "steps": steps})
            .as_object()
            .cloned();
        let peer = client.peer().clone();
        async move {
            let started = Instant::now();
            let r = peer.call_tool(p).await;
            (r, started.elapsed())
        }
    };
    // 3 s of work reporting progress every 0.5 s, with a 1 s limit: it completes.
    let (r, took) = run("patient__trigger-long-running-operation", 3.0, 6).await;
    let r = r.expect("completes");
    assert_ne!(r.is_error, Some(true), "{r:?}");
    assert!(took >= Duration::from_secs(3));
    // 4 s of work reporting every 0.1 s, with a 0.2 s limit: cut at the 2 s hard cap.
    let (r, took) = run("strict__trigger-long-running-operation", 4.0, 40).await;
    let text = match r {
        Ok(r) => serde_json::to_string(&r.content).unwrap(),
        Err(e) => e.to_string(),
    };
    assert!(text.contains("did not answer within"), "{text}");
    assert!(took < Duration::from_millis(3500), "took {took:?}");
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// What clients expect of the transport: `DELETE` of a session answers 204; a body that is not
/// JSON, or JSON that is not JSON-RPC, gets 400 with the JSON-RPC error and `id: null`; an
/// answer with nothing before it is `application/json`, in a session too; a call still
/// running after the window gets an event stream; GET streams carry no priming event for
/// clients below 2025-11-25. A server's request during a call comes on the call's stream with
/// a numeric id, and the client's answer, POSTed back, reaches the server; another client's
/// does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transport_answers_as_clients_expect() {
    use crate::common::mock::{MockBackend, Mode};
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "mock": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let http = reqwest::Client::new();
    let post = |body: String, session: Option<(&str, &str)>| {
        let id = session.map(|(id, _)| id);
        let mut r = mcp_request(&http, reqwest::Method::POST, &gw.url, &gw.token, id);
        if let Some((_, version)) = session {
            r = r.header("mcp-protocol-version", version);
        }
        r.body(body).send()
    };
    for (body, code) in [
        ("{not json", -32700),
        (r#"{"hello": "world"}"#, -32600),
        ("[1, 2]", -32600),
    ] {
        let r = post(body.to_string(), None).await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], code, "{body}: {v}");
        assert_eq!(v["id"], serde_json::Value::Null);
    }
    let content_type =
        |r: &reqwest::Response| r.headers()["content-type"].to_str().unwrap().to_string();
    let mut sessions = Vec::new();
    for version in ["2025-06-18", "2025-11-25"] {
        let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": version, "capabilities": {"roots": {}}, "clientInfo": {"name": "t", "version": "1"}}});
        let init = post(initialize.to_string(), None).await.unwrap();
        assert_eq!(init.status(), 200);
        assert_eq!(content_type(&init), "application/json", "{version}");
        let session = init.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_string();
        let v: Value = init.json().await.unwrap();
        assert_eq!(v["id"], 1, "{v}");
        assert_eq!(v["result"]["protocolVersion"], version, "{v}");
        let list = post(
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#.to_string(),
            Some((&session, version)),
        )
        .await
        .unwrap();
        assert_eq!(content_type(&list), "application/json", "{version}");
        let v: Value = list.json().await.unwrap();
        assert_eq!(v["id"], 2, "{v}");
        assert!(v["result"]["tools"].as_array().unwrap().len() > 3, "{v}");
        sessions.push((version, session));
    }
    // Gemini CLI parses every SSE event's data as JSON: a client below 2025-11-25 gets no
    // empty-data priming event on its GET stream.
    let (old, old_session) = &sessions[0];
    let mut get = http
        .get(&gw.url)
        .bearer_auth(&gw.token)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", old_session)
        .header("mcp-protocol-version", *old)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    if let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_millis(1500), get.chunk()).await
    {
        assert_sse_events_carry_json(&String::from_utf8_lossy(&chunk));
    }
    drop(get);
    // The check above fails on a priming event.
    assert!(std::panic::catch_unwind(|| assert_sse_events_carry_json(
        "id: 0\nretry: 3000\ndata:\n\n"
    ))
    .is_err());
    // A call still running after the window (the mock's `slow` answers after 10 s) gets its
    // event stream, headers first.
    let (new, new_session) = &sessions[1];
    let started = Instant::now();
    let slow = post(
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"mock__slow","arguments":{}}}"#.to_string(),
        Some((new_session, new)),
    )
    .await
    .unwrap();
    assert_eq!(content_type(&slow), "text/event-stream");
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    drop(slow);
    // The mock's `asks` puts a `roots/list` request before its answer: the call's stream
    // carries it with a numeric id (a string would read as a 2026-07-28 input key to SDK
    // clients), the answer POSTed back is taken (202) and reaches the mock, which then answers.
    let notify = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    post(notify.to_string(), Some((new_session, new)))
        .await
        .unwrap();
    let mut asks = post(
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"mock__asks","arguments":{}}}"#.to_string(),
        Some((new_session, new)),
    )
    .await
    .unwrap();
    assert_eq!(content_type(&asks), "text/event-stream");
    let mut events = String::new();
    let asked: Value = loop {
        let chunk = tokio::time::timeout(Duration::from_secs(5), asks.chunk())
            .await
            .unwrap()
            .unwrap()
            .expect("the stream ended before the server's request");
        events.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(data) = json_data(&events).next() {
            break serde_json::from_str(data).unwrap();
        }
    };
    assert_eq!(asked["method"], "roots/list", "{asked}");
    assert!(asked["id"].is_u64(), "{asked}");
    let answer = json!({"jsonrpc": "2.0", "id": asked["id"], "result": {"roots": []}});
    // Another client (a token of its own) that knows the session id answers first: its answer
    // reaches nothing of this session's call, which goes on waiting.
    let config = gw.dir.path().join("config.json");
    let other = loopgate::token::issue_client_token(&config, &gw.running().secrets, "cursor")
        .await
        .unwrap();
    let reload = gw.url.replace("/mcp", "/api/clients/tokens/reload");
    let r = http
        .post(&reload)
        .bearer_auth(&gw.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    http.post(&gw.url)
        .bearer_auth(&other)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", new_session)
        .header("mcp-protocol-version", *new)
        .body(answer.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), asks.chunk())
            .await
            .is_err(),
        "another client's answer ended the call"
    );
    let r = post(answer.to_string(), Some((new_session, new)))
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let started = Instant::now();
    let rest = tokio::time::timeout(Duration::from_secs(5), asks.text())
        .await
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let answer: Value = json_data(&rest)
        .next()
        .map(|d| serde_json::from_str(d).unwrap())
        .unwrap_or_else(|| panic!("no answer after the server's request: {rest:?}"));
    assert_eq!(answer["id"], 4, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], "asked", "{answer}");
    assert!(mock
        .state
        .received()
        .iter()
        .any(|r| r.method == "<response>"));
    let r = http
        .delete(&gw.url)
        .bearer_auth(&gw.token)
        .header("mcp-session-id", old_session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    gw.stop().await;
}

/// Once `notifications/initialized` is acknowledged, the session's calls are served on their
/// own task: its registration is not left to race the client's next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_served_directly_once_its_initialized_is_acknowledged() {
    use crate::common::mock::{MockBackend, Mode};
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "mock": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let http = reqwest::Client::new();
    let post = |body: &str, session: Option<&str>| {
        let r = mcp_request(&http, reqwest::Method::POST, &gw.url, &gw.token, session);
        r.body(body.to_string()).send()
    };
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    for _ in 0..20 {
        let init = post(initialize, None).await.unwrap();
        let session = init.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_string();
        let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let r = post(initialized, Some(&session)).await.unwrap();
        assert_eq!(r.status(), 202);
        let direct = &gw.running().gateway.direct;
        assert!(
            direct.get(&session).is_some(),
            "{session} not registered yet"
        );
    }
    gw.stop().await;
}

/// The non-empty `data:` lines of an SSE body, trimmed (skipping priming events).
fn json_data(body: &str) -> impl Iterator<Item = &str> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .filter(|d| !d.is_empty())
}

/// Every event in an SSE body carries JSON data (no empty priming events).
fn assert_sse_events_carry_json(body: &str) {
    for event in body.split("\n\n").filter(|e| !e.trim().is_empty()) {
        let data: String = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .collect();
        assert!(
            serde_json::from_str::<serde_json::Value>(&data).is_ok(),
            "an SSE event without JSON data: {event:?}"
        );
    }
}

/// A 2026-07-28-only server's `subscriptions/listen` stream ends when the server restarts; the
/// gateway reopens it and lists again, so a tool the restarted server added reaches clients
/// (the stream used to be opened once and never again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_servers_listen_stream_is_reopened_after_it_ends() {
    let port = free_port();
    let script = ensure_peers().join("ts-v2-server.mjs");
    let script = script.to_str().unwrap();
    let first = spawn_bg(
        std::path::Path::new("node"),
        &[script],
        &[("PORT", port.to_string()), ("LEGACY", "reject".into())],
    );
    wait_port(port);
    let gw = Gw::start(json!({ "ts": { "url": format!("http://127.0.0.1:{port}/mcp") } })).await;
    gw.wait_ready(30).await;
    assert_eq!(gw.status("ts")["eras"], json!(["2026-07-28"]));
    assert_eq!(gw.status("ts")["toolCount"], 2);
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _second = spawn_bg(
        std::path::Path::new("node"),
        &[script],
        &[
            ("PORT", port.to_string()),
            ("LEGACY", "reject".into()),
            ("EXTRA_TOOL", "1".into()),
        ],
    );
    wait_port(port);
    // The registry clients list from, not the server's status: the status counts the new
    // catalog first, and the registry is rebuilt from it a moment later.
    gw.wait_until("the restarted server's new tool is listed", 30, |gw| {
        gw.running().gateway.registry().tool_count() == 3
    })
    .await;
    let client = mcp_client(&gw.url, &gw.token).await;
    assert!(tool_names(client.peer())
        .await
        .contains(&"ts__extra".to_string()));
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// A 2026-07-28 client cancels a call by ending its request: the server hears
/// `notifications/cancelled` as an initialize-based client's cancellation would make it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_clients_cancellation_reaches_the_server() {
    use crate::common::mock::{MockBackend, Mode};
    use rmcp::service::PeerRequestOptions;
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "strict": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            gw.url.as_str(),
        );
    cfg.auth_header = Some(gw.token.clone());
    let client = ()
        .serve_with_lifecycle(
            rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap();
    let call = rmcp::model::ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(
        CallToolRequestParams::new("strict__slow"),
    ));
    let handle = client
        .peer()
        .send_request_with_option(call, PeerRequestOptions::no_options())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    handle
        .cancel(Some("user pressed stop".into()))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !mock
        .state
        .received()
        .iter()
        .any(|r| r.method == "notifications/cancelled")
    {
        assert!(
            Instant::now() < deadline,
            "the server never heard of the 2026-07-28 client's cancellation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// A server may end a call's response stream after an event id and send the answer when the
/// client resumes (Streamable HTTP, "Resumability and Redelivery"): the gateway resumes with a
/// GET carrying `Last-Event-ID` on the session, and the client gets the answer. An error
/// without an id on the stream fails the call at once.
#[tokio::test]
async fn a_response_stream_that_ends_early_is_resumed() {
    use crate::common::mock::{MockBackend, Mode};
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "cut": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let client = mcp_client(&gw.url, &gw.token).await;
    let res = client
        .peer()
        .call_tool(CallToolRequestParams::new("cut__interrupted"))
        .await
        .expect("answered");
    assert_eq!(
        res.content[0].as_text().unwrap().text,
        "answered on the resumed stream"
    );
    let resumed: Vec<_> = mock
        .state
        .received()
        .into_iter()
        .filter(|r| r.method.starts_with("GET Last-Event-ID"))
        .collect();
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(resumed[0].status, 200);
    assert_eq!(
        resumed[0].session_id.as_deref(),
        gw.status("cut")["sessionId"].as_str()
    );
    // An error without an id on the call's stream is the call's error, at once (not a wait
    // for the timeout).
    let started = std::time::Instant::now();
    let err = client
        .peer()
        .call_tool(CallToolRequestParams::new("cut__unreadable"))
        .await
        .expect_err("the server's error");
    assert!(
        err.to_string().contains("could not read the request"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    gw.stop().await;
}
