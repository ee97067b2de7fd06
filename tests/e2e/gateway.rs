//! End-to-end tests of the gateway core against real MCP peers (official TypeScript and Python
//! SDK servers and clients, installed by `tests/peers/install.sh`) and, for faults real peers
//! cannot produce on demand, the spec-following mock in `common/mock.rs`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::mock::{MockBackend, Mode};
use crate::common::*;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest,
    Implementation, ProgressNotificationParam, ProgressToken, ServerResult,
};
use rmcp::service::PeerRequestOptions;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, RoleClient};
use serde_json::{json, Value};

/// An rmcp client that counts `notifications/tools/list_changed` and records progress tokens.
#[derive(Clone, Default)]
struct Counting(Arc<AtomicU32>, Arc<std::sync::Mutex<Vec<ProgressToken>>>);

impl ClientHandler for Counting {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("e2e", "0"),
        )
    }
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.1.lock().unwrap().push(params.progress_token);
    }
}

async fn rust_client(gw: &Gw) -> (RunningService<RoleClient, Counting>, Arc<AtomicU32>) {
    let (service, counter) = rust_client_full(gw).await;
    (service, counter.0)
}

async fn rust_client_full(gw: &Gw) -> (RunningService<RoleClient, Counting>, Counting) {
    let counter = Counting::default();
    let handle = counter.clone();
    let mut cfg = StreamableHttpClientTransportConfig::with_uri(gw.url.as_str());
    cfg.auth_header = Some(gw.token.clone());
    let transport = StreamableHttpClientTransport::from_config(cfg);
    let service = counter
        .serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
        .await
        .expect("client connects");
    (service, handle)
}

fn call(name: &str, args: Value) -> ClientRequest {
    let mut params = CallToolRequestParams::new(name.to_string());
    params.arguments = args.as_object().cloned();
    ClientRequest::CallToolRequest(CallToolRequest::new(params))
}

fn text_of(call: &Value) -> String {
    call["text"].as_str().unwrap_or_default().to_string()
}

/// Acceptance 2: five real backends of both transports and all protocol eras behind one
/// gateway; seven real client configurations each list the aggregated tools and call one tool
/// of every backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_reach_every_real_backend_through_one_gateway() {
    let (_py_stateful, py_stateful_url) = python_http_server("stateful");
    let (_py_stateless, py_stateless_url) = python_http_server("stateless");
    let (_ts_v2, ts_v2_url) = ts_v2_server();
    let gw = Gw::start(json!({
        "everything": everything_stdio(),
        "memory": memory_stdio(),
        "pystateful": { "url": py_stateful_url },
        "pystateless": { "url": py_stateless_url },
        "tsv2": { "type": "http", "url": ts_v2_url },
    }))
    .await;
    gw.wait_ready(60).await;
    // Eras were negotiated per backend: the npm servers only speak initialize-based revisions;
    // the TS v2 and Python servers speak both, so both channels are open.
    assert_eq!(gw.status("everything")["protocolVersion"], "2025-11-25");
    assert_eq!(gw.status("everything")["eras"], json!(["initialize"]));
    assert_eq!(
        gw.status("tsv2")["eras"],
        json!(["initialize", "2026-07-28"])
    );
    assert_eq!(
        gw.status("pystateful")["eras"],
        json!(["initialize", "2026-07-28"])
    );
    assert_eq!(gw.status("pystateless")["sessionIssued"], false);

    let plan = json!({"calls": [
        {"name": "everything__echo", "arguments": {"message": "hi-everything"}},
        {"name": "memory__read_graph", "arguments": {}},
        {"name": "pystateful__echo", "arguments": {"message": "hi-stateful"}},
        {"name": "pystateless__add", "arguments": {"a": 2, "b": 3}},
        {"name": "tsv2__echo", "arguments": {"message": "hi-v2"}}
    ]});
    let clients = [
        ("ts-v1-client.mjs", "legacy"),
        ("ts-v2-client.mjs", "legacy"),
        ("ts-v2-client.mjs", "auto"),
        ("ts-v2-client.mjs", "2026-07-28"),
        ("py-client.py", "legacy"),
        ("py-client.py", "auto"),
        ("py-client.py", "2026-07-28"),
    ];
    let runs = futures::future::join_all(
        clients
            .iter()
            .map(|(script, era)| run_client(script, era, &gw.url, &gw.token, plan.clone())),
    )
    .await;
    let mut failures = Vec::new();
    for ((script, era), run) in clients.iter().zip(runs) {
        let run = match run {
            Ok(r) => r,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for expected in [
            "everything__echo",
            "memory__read_graph",
            "pystateful__echo",
            "pystateless__add",
            "tsv2__add",
        ] {
            if !run.tools.contains(&expected.to_string()) {
                failures.push(format!(
                    "{script} {era}: tool {expected} missing from {:?}",
                    run.tools
                ));
            }
        }
        let texts: Vec<String> = run.calls.iter().map(text_of).collect();
        let errors: Vec<&Value> = run.calls.iter().filter(|c| c["isError"] == true).collect();
        if !errors.is_empty() || texts.len() != 5 {
            failures.push(format!("{script} {era}: failed calls {errors:?}"));
            continue;
        }
        let ok = texts[0].contains("hi-everything")
            && texts[1].contains("entities")
            && texts[2].contains("hi-stateful")
            && texts[3].trim() == "5"
            && texts[4].contains("hi-v2");
        if !ok {
            failures.push(format!("{script} {era}: unexpected results {texts:?}"));
        }
        if *era == "2026-07-28" && run.protocol != "2026-07-28" {
            failures.push(format!("{script} {era}: negotiated {}", run.protocol));
        }
    }
    gw.stop().await;
    assert!(
        failures.is_empty(),
        "client failures:\n{}",
        failures.join("\n")
    );
}

/// Acceptance 3: a strict backend that answers 400 to anything without exactly the id it
/// issued. All its tools register, calls succeed, and every request after `initialize` carried
/// the issued id (and an MCP-Protocol-Version header).
#[tokio::test]
async fn strict_backend_receives_exactly_the_session_id_it_issued() {
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "strict": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let status = gw.status("strict");
    assert_eq!(status["toolCount"], 7, "{status}");
    assert_eq!(status["sessionIssued"], true);
    let issued = mock.state.issued.lock().unwrap().clone();
    assert_eq!(issued.len(), 1, "one handshake");
    assert_eq!(status["sessionId"], issued[0]);

    let (client, _) = rust_client(&gw).await;
    let tools = client.peer().list_all_tools().await.unwrap();
    assert!(
        tools.iter().any(|t| t.name == "strict__echo")
            && tools.iter().any(|t| t.name == "strict__whoami")
    );
    let mut params = CallToolRequestParams::new("strict__whoami");
    params.arguments = Some(serde_json::Map::new());
    let res = client.peer().call_tool(params).await.unwrap();
    assert_eq!(
        res.content[0].as_text().unwrap().text,
        issued[0],
        "the backend saw its own id"
    );
    client.cancel().await.unwrap();
    gw.stop().await;

    let received = mock.state.received();
    // (The probe for a 2026-07-28 channel, `server/discover`, is not part of the session.)
    let after_init: Vec<_> = received
        .iter()
        .skip_while(|r| r.method != "initialize")
        .skip(1)
        .filter(|r| r.method != "server/discover")
        .collect();
    assert!(after_init.len() >= 3, "{received:?}");
    for r in &after_init {
        assert_eq!(
            r.session_id.as_deref(),
            Some(issued[0].as_str()),
            "request {} carried {:?}",
            r.method,
            r.session_id
        );
        assert!(
            r.status < 400,
            "request {} was refused: {}",
            r.method,
            r.status
        );
        assert!(
            r.protocol_header.is_some(),
            "request {} lacked MCP-Protocol-Version",
            r.method
        );
    }
    // The client's call went as its own POST from the relay (the direct exchange), with
    // Loopgate's own request id on the session; rmcp's client numbers its requests.
    let calls: Vec<_> = after_init
        .iter()
        .filter(|r| r.method == "tools/call")
        .collect();
    assert!(!calls.is_empty(), "{after_init:?}");
    for r in calls {
        let id = r.request_id.as_str().unwrap_or_default();
        assert!(id.starts_with("loopgate-"), "{r:?}");
    }
    // On shutdown the session was ended with DELETE (ARCHITECTURE.md rule 6).
    assert!(
        after_init.iter().any(|r| r.method == "DELETE"),
        "{after_init:?}"
    );
}

/// Acceptance 4: a backend forgets its sessions (404 for the issued id). The next client call
/// succeeds without a client-visible error; the gateway re-initialized, re-listed and shows it.
#[tokio::test]
async fn forgotten_session_is_reinitialized_transparently() {
    let mock = MockBackend::start(Mode::Forgetful).await;
    let gw = Gw::start(json!({ "flaky": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let first = gw.status("flaky")["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let (client, _) = rust_client(&gw).await;

    mock.state.forget();
    let mut params = CallToolRequestParams::new("flaky__echo");
    params.arguments = Some(
        json!({"message": "after restart"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let res = client
        .peer()
        .call_tool(params)
        .await
        .expect("no client-visible error");
    assert_eq!(res.is_error, None);
    assert_eq!(
        res.content[0].as_text().unwrap().text,
        "mock echo: after restart"
    );
    assert_eq!(
        mock.state.initializes.load(Ordering::SeqCst),
        2,
        "re-initialized once"
    );
    assert!(
        mock.state.received().iter().any(|r| r.status == 404),
        "the backend did answer 404"
    );

    // The status shows the re-initialization and the new session id, and tools were re-listed.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = gw.status("flaky");
        if s["reinitializations"] == 1 && s["sessionId"] != first.as_str() {
            assert_eq!(s["state"], "ready");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status never showed the re-initialization: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lists = mock
        .state
        .received()
        .iter()
        .filter(|r| r.method == "tools/list" && r.status == 200)
        .count();
    assert!(lists >= 2, "tools were re-listed after re-initialization");
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// Acceptance 5: killing a stdio backend's process restarts it, its tools come back, and a
/// connected client receives `notifications/tools/list_changed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_stdio_backend_restarts_and_clients_are_notified() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let pid = gw.status("memory")["pid"].as_u64().expect("pid") as i32;
    let (client, notified) = rust_client(&gw).await;
    assert!(client
        .peer()
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .any(|t| t.name == "memory__read_graph"));
    // Give the client's notification stream a moment to open.
    tokio::time::sleep(Duration::from_millis(500)).await;

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = gw.status("memory");
        if s["state"] == "ready" && s["restarts"] == 1 && s["pid"].as_u64() != Some(pid as u64) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not restarted: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tools = client.peer().list_all_tools().await.unwrap();
    assert!(
        tools.iter().any(|t| t.name == "memory__read_graph"),
        "tools came back"
    );
    assert!(
        notified.load(Ordering::SeqCst) >= 1,
        "client got tools/list_changed"
    );
    let logs = gw.running().gateway.supervisor().snapshot()["memory"]
        .logs
        .tail(50);
    assert!(
        logs.iter().any(|l| l.line.contains("killed by signal 9")),
        "{logs:?}"
    );
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// Acceptance 6: a foreign Origin or Host, or a missing/wrong token, is rejected (403/401)
/// and never reaches a backend.
#[tokio::test]
async fn foreign_origin_host_or_missing_token_never_reach_a_backend() {
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "strict": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let before = mock.state.received().len();
    let http = reqwest::Client::new();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "strict__echo", "arguments": {"message": "x"}}});
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let send = |headers: Vec<(&'static str, String)>, body: Value| {
        let mut req = http
            .post(&gw.url)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let bearer = format!("Bearer {}", gw.token);
    let cases: Vec<(Vec<(&str, String)>, u16)> = vec![
        (
            vec![
                ("authorization", bearer.clone()),
                ("origin", "http://evil.example".into()),
            ],
            403,
        ),
        (
            vec![
                ("authorization", bearer.clone()),
                ("host", "evil.example".into()),
            ],
            403,
        ),
        (vec![("origin", "http://evil.example".into())], 403),
        (vec![], 401),
        (vec![("authorization", "Bearer wrong".into())], 401),
    ];
    for body in [&call, &init] {
        for (headers, expected) in &cases {
            let resp = send(headers.clone(), body.clone()).await.unwrap();
            assert_eq!(resp.status().as_u16(), *expected, "headers {headers:?}");
            if *expected == 401 {
                assert!(resp.headers().contains_key("www-authenticate"));
            }
        }
    }
    // The admin API is guarded the same way.
    let api = gw.url.replace("/mcp", "/api/servers");
    assert_eq!(http.get(&api).send().await.unwrap().status(), 401);
    assert_eq!(
        http.get(&api)
            .bearer_auth(&gw.token)
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        http.get(&api)
            .bearer_auth(&gw.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        mock.state.received().len(),
        before,
        "nothing reached the backend"
    );
    // With the right token and the gateway's own origin, the same request works.
    let ok = send(
        vec![
            ("authorization", bearer),
            ("origin", gw.url.trim_end_matches("/mcp").to_string()),
        ],
        init,
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    gw.stop().await;
}

/// Progress notifications of a real backend reach the client under the client's own token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_relayed_with_the_clients_token() {
    let gw = Gw::start(json!({ "everything": everything_stdio() })).await;
    gw.wait_ready(30).await;
    let (client, seen) = rust_client_full(&gw).await;
    let handle = client
        .peer()
        .send_request_with_option(
            call(
                "everything__trigger-long-running-operation",
                json!({"duration": 1, "steps": 4}),
            ),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let token = handle.progress_token.clone();
    let result = handle.await_response().await.unwrap();
    assert!(
        matches!(result, ServerResult::CallToolResult(_)),
        "{result:?}"
    );
    let tokens = seen.1.lock().unwrap().clone();
    assert!(
        tokens.len() >= 3,
        "got {} progress notifications",
        tokens.len()
    );
    assert!(
        tokens.iter().all(|t| *t == token),
        "progress carried another token: {tokens:?} vs {token:?}"
    );
    client.cancel().await.unwrap();
    gw.stop().await;
}

/// Backend errors keep their code and name the server; a client's cancellation reaches the
/// backend as `notifications/cancelled`; `disabledTools` hides a tool from clients.
#[tokio::test]
async fn errors_name_the_server_cancellation_is_relayed_and_disabled_tools_are_hidden() {
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "strict": { "url": mock.url, "disabledTools": ["whoami"] } })).await;
    gw.wait_ready(20).await;
    let (client, _) = rust_client(&gw).await;
    let names = tool_names(client.peer()).await;
    assert!(
        names.contains(&"strict__echo".to_string())
            && !names.contains(&"strict__whoami".to_string()),
        "{names:?}"
    );

    let err = client
        .peer()
        .send_request(call("strict__fail", json!({})))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("server \"strict\"") && text.contains("boom"),
        "{text}"
    );
    match err {
        rmcp::service::ServiceError::McpError(e) => assert_eq!(e.code.0, -32603),
        other => panic!("{other:?}"),
    }
    let err = client
        .peer()
        .send_request(call("strict__whoami", json!({})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");

    let handle = client
        .peer()
        .send_request_with_option(
            call("strict__slow", json!({})),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    handle
        .cancel(Some("user pressed stop".into()))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !mock
        .state
        .received()
        .iter()
        .any(|r| r.method == "notifications/cancelled")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the backend never heard of the cancellation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.cancel().await.unwrap();
    gw.stop().await;
}
