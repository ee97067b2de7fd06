//! Nothing lost through the gateway: real SDK clients (Python SDK 2.3, TS SDK v2) that declare
//! sampling, elicitation and roots get, through Loopgate, everything the real
//! server-everything offers them directly — in either protocol era; a 2026-07-28-only server
//! reaches a client of the older era through translation; a server's request never reaches a
//! client that did not cause it, and a client that cannot answer is never answered for.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    Implementation,
};
use rmcp::service::{ClientServiceExt, RequestContext};
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::{json, Value};

/// Runs a fidelity client script (`tests/peers/fidelity-client.*`) against `url` in `era` with
/// tool names under `prefix`; returns its report.
async fn fidelity(script: &str, era: &str, url: &str, token: &str, prefix: &str) -> Value {
    let dir = ensure_peers();
    let program = if script.ends_with(".py") {
        python()
    } else {
        PathBuf::from("node")
    };
    let out = tokio::process::Command::new(program)
        .arg(dir.join(script))
        .arg(url)
        .env("ERA", era)
        .env("PREFIX", prefix)
        .env("MCP_AUTH", format!("Bearer {token}"))
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(150), out)
        .await
        .expect("the fidelity client finished")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "{script} {era}: no RESULT\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

/// The steps of a report that did not pass, with their details.
fn failed(report: &Value) -> Vec<String> {
    report
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| *k != "summary" && v["ok"] != true)
        .map(|(k, v)| format!("{k}: {}", v["detail"]))
        .collect()
}

/// Acceptance 1: both official SDK clients, each era, through Loopgate to server-everything
/// over stdio — its capability-gated tools are listed, sampling / elicitation / roots round-trip
/// through the client's own handlers, log messages arrive at the level asked for, completions
/// and resource updates work, and the server's own instructions reach the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_reaches_real_sdk_clients_in_both_eras() {
    let runs = [
        ("fidelity-client.py", "legacy"),
        ("fidelity-client.py", "2026-07-28"),
        ("fidelity-client.mjs", "legacy"),
        ("fidelity-client.mjs", "2026-07-28"),
    ];
    // One gateway (one server-everything) per client: a stdio server cannot tell which of two
    // clients' concurrent calls its own requests belong to (the gateway would refuse them).
    let mut gateways = Vec::new();
    for _ in &runs {
        gateways.push(Gw::start(json!({ "everything": everything_stdio() })).await);
    }
    for gw in &gateways {
        gw.wait_ready(60).await;
    }
    // server-everything asks its client for roots 350 ms after connecting, outside any call
    // (the gateway refuses that: nobody's call caused it); let that pass before the clients
    // start, so each run is the same.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reports = futures::future::join_all(
        runs.iter()
            .zip(&gateways)
            .map(|((script, era), gw)| fidelity(script, era, &gw.url, &gw.token, "everything__")),
    )
    .await;
    let mut problems = Vec::new();
    for ((script, era), report) in runs.iter().zip(&reports) {
        for f in failed(report) {
            problems.push(format!("{script} {era}: {f}"));
        }
        let tools = report["tools"]["detail"]["names"].to_string();
        for gated in [
            "everything__trigger-sampling-request",
            "everything__trigger-elicitation-request",
            "everything__get-roots-list",
        ] {
            if !tools.contains(gated) {
                problems.push(format!("{script} {era}: {gated} not listed"));
            }
        }
        let protocol = report["protocol"]["detail"]["version"]
            .as_str()
            .unwrap_or_default();
        let want = if *era == "legacy" {
            "2025-11-25"
        } else {
            "2026-07-28"
        };
        if protocol != want {
            problems.push(format!("{script} {era}: negotiated {protocol}"));
        }
    }
    // The server's own instructions follow Loopgate's, under its name.
    let client = mcp_client(&gateways[0].url, &gateways[0].token).await;
    let instructions = client
        .peer()
        .peer_info()
        .and_then(|i| i.instructions.clone())
        .unwrap_or_default();
    client.cancel().await.unwrap();
    let direct = "## everything\n";
    if !instructions.contains(direct) || instructions.trim_end().len() < 400 {
        problems.push(format!(
            "server-everything's instructions missing: {instructions}"
        ));
    }
    for gw in gateways {
        gw.stop().await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Over Streamable HTTP the gateway reads a relayed call's answer from the POST's own event
/// stream (`upstream::streamable::exchange`): server-everything's requests on that stream
/// (sampling, elicitation, roots) reach the official SDK clients of both languages and their
/// answers reach the server; log messages, completions and resource updates arrive as
/// directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_reaches_real_sdk_clients_through_an_http_server() {
    let mut problems = Vec::new();
    for script in ["fidelity-client.py", "fidelity-client.mjs"] {
        // One server per client: a server's request reaches the one client calling it.
        let (_everything, entry) = everything_http(json!({}));
        let gw = Gw::start(json!({ "everything": entry })).await;
        gw.wait_ready(60).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let report = fidelity(script, "legacy", &gw.url, &gw.token, "everything__").await;
        problems.extend(
            failed(&report)
                .into_iter()
                .map(|f| format!("{script}: {f}")),
        );
        // Asked on the call's own stream, answered by the client's handler.
        for step in ["sampling", "elicitation"] {
            let via = report[step]["detail"]["handler"][0]["via"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !via.starts_with("request:") {
                problems.push(format!("{script}: {step} via {via:?}"));
            }
        }
        assert_eq!(gw.status("everything")["eras"], json!(["initialize"]));
        gw.stop().await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Starts `tests/peers/conformance-backend.mjs` over HTTP on a free port (with `env`).
fn conformance_backend(env: &[(&str, String)]) -> (Bg, String) {
    let port = free_port();
    let dir = ensure_peers();
    let bg = spawn_bg(
        std::path::Path::new("node"),
        &[
            dir.join("conformance-backend.mjs").to_str().unwrap(),
            &port.to_string(),
        ],
        env,
    );
    wait_port(port);
    (bg, format!("http://127.0.0.1:{port}/mcp"))
}

/// Acceptance 2: a server that speaks only 2026-07-28 answers with `InputRequiredResult`; a
/// client of the initialize-based era gets the real sampling, elicitation and roots requests
/// (answered by its own handlers) and then the tool's final result; its log level reaches the
/// server per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_only_server_reaches_an_older_client_through_translation() {
    let (_backend, url) = conformance_backend(&[("ONLY_2026", "1".into())]);
    let gw = Gw::start(json!({ "c26": { "url": url } })).await;
    gw.wait_ready(30).await;
    assert_eq!(gw.status("c26")["eras"], json!(["2026-07-28"]));
    let report = fidelity("fidelity-client.py", "legacy", &gw.url, &gw.token, "c26__").await;
    for step in ["sampling", "elicitation", "roots", "logging", "completion"] {
        assert_eq!(report[step]["ok"], true, "{step}: {}", report[step]);
    }
    // The client was really asked (a server→client request), not answered for.
    for step in ["sampling", "elicitation"] {
        let via = report[step]["detail"]["handler"][0]["via"]
            .as_str()
            .unwrap_or_default();
        assert!(via.starts_with("request:"), "{step} via {via}");
    }
    assert_eq!(report["protocol"]["detail"]["version"], "2025-11-25");
    gw.stop().await;
}

/// A client of rmcp (the official Rust SDK) with an elicitation handler that answers with its
/// own name after a pause, recording every message it was asked.
#[derive(Clone)]
struct Answering {
    name: &'static str,
    asked: Arc<Mutex<Vec<String>>>,
    elicitation: bool,
}

impl ClientHandler for Answering {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let message = serde_json::to_value(&request).unwrap()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.asked.lock().unwrap().push(message);
        tokio::time::sleep(Duration::from_millis(700)).await;
        // Every field the form asks for: the e-mail address, or the name.
        let schema =
            serde_json::to_value(&request).unwrap()["requestedSchema"]["properties"].clone();
        let content: serde_json::Map<String, serde_json::Value> = schema
            .as_object()
            .into_iter()
            .flatten()
            .map(|(field, _)| {
                let value = if field == "email" {
                    format!("{}@example.com", self.name)
                } else {
                    self.name.to_string()
                };
                (field.clone(), json!(value))
            })
            .collect();
        Ok(serde_json::from_value(json!({ "action": "accept", "content": content })).unwrap())
    }

    fn get_info(&self) -> ClientConfig {
        let caps: ClientCapabilities = if self.elicitation {
            serde_json::from_value(json!({"elicitation": {"form": {}}})).unwrap()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(caps, Implementation::new(self.name, "1"))
    }
}

async fn answering_client(
    url: &str,
    token: &str,
    handler: Answering,
) -> rmcp::service::RunningService<RoleClient, Answering> {
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url);
    if !token.is_empty() {
        cfg.auth_header = Some(token.to_string());
    }
    handler
        .serve_with_lifecycle(
            rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
            rmcp::service::ClientLifecycleMode::Initialize,
        )
        .await
        .expect("client connects")
}

async fn elicit(
    client: &rmcp::service::RunningService<RoleClient, Answering>,
    message: &str,
) -> Result<String, String> {
    let mut params = CallToolRequestParams::new("conf__test_elicitation");
    params.arguments = json!({"message": message}).as_object().cloned();
    match client.peer().call_tool(params).await {
        Ok(r) => Ok(serde_json::to_string(&r).unwrap()),
        Err(e) => Err(e.to_string()),
    }
}

/// Acceptance 3: two clients call the same stdio server's elicitation tool at once. Each is
/// asked only its own question (the second, which nothing ties to its call while the first is
/// in flight, is refused with a clear error rather than guessed); a client that did not
/// declare elicitation gets an honest error and the server is never told "declined".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_request_never_reaches_the_wrong_client() {
    let dir = ensure_peers();
    let backend = json!({"command": "node", "args": [dir.join("conformance-backend.mjs").to_str().unwrap(), "stdio"]});
    let gw = Gw::start(json!({ "conf": backend })).await;
    gw.wait_ready(30).await;
    let alice_asked = Arc::new(Mutex::new(Vec::new()));
    let bob_asked = Arc::new(Mutex::new(Vec::new()));
    let alice = answering_client(
        &gw.url,
        &gw.token,
        Answering {
            name: "alice",
            asked: alice_asked.clone(),
            elicitation: true,
        },
    )
    .await;
    let bob = answering_client(
        &gw.url,
        &gw.token,
        Answering {
            name: "bob",
            asked: bob_asked.clone(),
            elicitation: true,
        },
    )
    .await;
    // Alice's call is in flight (her handler takes 700 ms) when Bob calls.
    let a = elicit(&alice, "question for alice");
    let b = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        elicit(&bob, "question for bob").await
    };
    let (a, b) = tokio::join!(a, b);
    let a = a.expect("alice's call completes");
    assert!(a.contains("alice@example.com") && !a.contains("bob"), "{a}");
    assert_eq!(*alice_asked.lock().unwrap(), ["question for alice"]);
    // Bob is never asked Alice's question; his own was refused, or (if Alice's call was
    // already over) answered by him alone.
    let asked = bob_asked.lock().unwrap().clone();
    assert!(
        asked.is_empty() || asked == ["question for bob"],
        "{asked:?}"
    );
    let b = b.unwrap_or_else(|e| e);
    if asked.is_empty() {
        assert!(
            b.contains("refuses rather than guess") || b.contains("does not say which"),
            "{b}"
        );
    } else {
        assert!(b.contains("bob@example.com") && !b.contains("alice"), "{b}");
    }

    // Without the capability: an honest error; nobody declined on the user's behalf.
    let mute = answering_client(
        &gw.url,
        &gw.token,
        Answering {
            name: "mute",
            asked: Default::default(),
            elicitation: false,
        },
    )
    .await;
    let r = elicit(&mute, "anyone?").await.unwrap_or_else(|e| e);
    assert!(!r.to_lowercase().contains("decline"), "{r}");
    assert!(
        r.contains("does not support elicitation")
            || r.contains("Client does not support elicitation"),
        "{r}"
    );
    for c in [alice, bob] {
        c.cancel().await.unwrap();
    }
    mute.cancel().await.unwrap();
    gw.stop().await;
}

/// Point 13: a dual-era server that offers a feature in one era only keeps it. FastMCP 4.2
/// refuses server-initiated elicitation on 2026-07-28 connections; a client in an
/// initialize-based session gets the elicitation directly, and must through Loopgate too (its
/// calls go to the server on the session channel, in the client's own era).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dual_era_server_keeps_what_it_offers_in_the_clients_era() {
    let (_server, port) = python_peer("fastmcp-server.py", &[]);
    let direct = format!("http://127.0.0.1:{port}/mcp");
    let gw = Gw::start(json!({ "fm": { "url": direct } })).await;
    gw.wait_ready(30).await;
    assert!(
        gw.status("fm")["eras"]
            .as_array()
            .is_some_and(|e| e.len() == 2),
        "the gateway speaks both eras with it: {}",
        gw.status("fm")
    );
    let ask = |url: String, token: String, tool: &'static str| async move {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let client = answering_client(
            &url,
            &token,
            Answering {
                name: "carol",
                asked: asked.clone(),
                elicitation: true,
            },
        )
        .await;
        let r = client
            .peer()
            .call_tool(CallToolRequestParams::new(tool))
            .await
            .map(|r| serde_json::to_string(&r).unwrap())
            .unwrap_or_else(|e| e.to_string());
        client.cancel().await.unwrap();
        let asked = asked.lock().unwrap().clone();
        (r, asked)
    };
    let (direct_result, direct_asked) = ask(direct.clone(), String::new(), "ask_name").await;
    assert!(
        direct_result.contains("hello carol"),
        "directly: {direct_result}"
    );
    let (result, asked) = ask(gw.url.clone(), gw.token.clone(), "fm__ask_name").await;
    assert_eq!(
        asked, direct_asked,
        "asked the same question through Loopgate"
    );
    assert!(result.contains("hello carol"), "through Loopgate: {result}");
    gw.stop().await;
}
