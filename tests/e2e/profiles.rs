//! Profiles: each client token sees its profile's servers and tools only — in its lists, its
//! calls and its list-changed notifications — with real clients (the official Python SDK, the
//! official TS SDK v2 in the 2026-07-28 era, rmcp).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext};
use rmcp::{ClientHandler, RoleClient};
use serde_json::json;

/// Counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
struct Changes(Arc<AtomicU32>);

impl ClientHandler for Changes {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("profiles", "1"),
        )
    }
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn counting_client(
    gw: &Gw,
    token: &str,
) -> (
    rmcp::service::RunningService<RoleClient, Changes>,
    Arc<AtomicU32>,
) {
    let changes = Changes::default();
    let count = changes.0.clone();
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            gw.url.as_str(),
        );
    cfg.auth_header = Some(token.to_string());
    let client = changes
        .serve_with_lifecycle(
            rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
            ClientLifecycleMode::Initialize,
        )
        .await
        .unwrap();
    (client, count)
}

async fn client_token(gw: &Gw, id: &str) -> String {
    let config = gw.dir.path().join("config.json");
    let token = loopgate::token::issue_client_token(&config, &gw.running().secrets, id)
        .await
        .unwrap();
    let reload = gw.url.replace("/mcp", "/api/clients/tokens/reload");
    let r = reqwest::Client::new()
        .post(reload)
        .bearer_auth(&gw.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_sees_only_its_profile() {
    let gw = Gw::start_with(json!({
        "mcpServers": { "everything": everything_stdio(), "memory": memory_stdio() },
        "profiles": {
            "notes": { "servers": ["memory"] },
            "demo": { "servers": ["everything", "memory"], "disabledTools": { "everything": ["echo"] } }
        },
        "clientProfiles": { "cursor": "notes", "zed": "demo" }
    }))
    .await;
    gw.wait_ready(90).await;
    let cursor = client_token(&gw, "cursor").await;
    let zed = client_token(&gw, "zed").await;

    // The Python SDK client bound to "notes" lists and calls memory's tools only.
    let notes = run_client(
        "py-client.py",
        "legacy",
        &gw.url,
        &cursor,
        json!({"calls": [{"name": "memory__read_graph", "arguments": {}}]}),
    )
    .await
    .unwrap();
    assert!(!notes.tools.is_empty());
    assert!(
        notes.tools.iter().all(|t| t.starts_with("memory__")),
        "{:?}",
        notes.tools
    );
    assert_eq!(notes.calls[0]["isError"], false, "{:?}", notes.calls);

    // The TS SDK v2 client (2026-07-28) bound to "demo" sees both servers, without `echo`.
    let demo = run_client("ts-v2-client.mjs", "2026-07-28", &gw.url, &zed, json!({}))
        .await
        .unwrap();
    assert!(demo.tools.iter().any(|t| t.starts_with("everything__")));
    assert!(demo.tools.iter().any(|t| t.starts_with("memory__")));
    assert!(!demo.tools.contains(&"everything__echo".to_string()));

    // A tool outside the profile is unknown, exactly as one no server offers.
    let outside = run_client(
        "py-client.py",
        "legacy",
        &gw.url,
        &cursor,
        json!({"calls": [{"name": "everything__get-sum", "arguments": {"a": 1, "b": 2}}]}),
    )
    .await
    .expect_err("a call outside the profile fails");
    assert!(outside.contains("unknown tool"), "{outside}");
    let hidden = run_client(
        "py-client.py",
        "legacy",
        &gw.url,
        &zed,
        json!({"calls": [{"name": "everything__echo", "arguments": {"message": "x"}}]}),
    )
    .await
    .expect_err("a tool the profile hides is unknown");
    assert!(hidden.contains("unknown tool"), "{hidden}");

    // Taking memory out of "demo" tells demo's clients, and nobody else.
    let (notes_client, notes_changes) = counting_client(&gw, &cursor).await;
    let (demo_client, demo_changes) = counting_client(&gw, &zed).await;
    let store = gw.running().store.clone();
    store
        .update(|c| {
            c.profiles["demo"].servers = Some(vec!["everything".into()]);
            Ok(())
        })
        .await
        .unwrap();
    gw.wait_until("demo's client is told", 10, |_| {
        demo_changes.load(Ordering::SeqCst) >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        notes_changes.load(Ordering::SeqCst),
        0,
        "notes did not change"
    );
    let now = tool_names(demo_client.peer()).await;
    assert!(now.iter().all(|t| t.starts_with("everything__")), "{now:?}");

    // A profile naming an unknown server is refused with a clear error.
    let err = store
        .update(|c| {
            c.profiles["demo"].servers = Some(vec!["nope".into()]);
            Ok(())
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("profiles.demo") && err.contains("\"nope\""),
        "{err}"
    );
    for c in [notes_client, demo_client] {
        c.cancel().await.unwrap();
    }
    gw.stop().await;
}

/// `loopgate client install cursor --profile coding` writes Cursor a token bound to `coding`:
/// with the real binary and a scratch HOME, Cursor's token then lists coding's tools only; an
/// unknown profile is refused and names the ones there are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_install_binds_the_clients_token_to_a_profile() {
    use crate::common::cli::{lg, text, Serve};
    let home = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = vec![
        ("HOME".into(), home.path().display().to_string()),
        (
            "XDG_CONFIG_HOME".into(),
            home.path().join(".config").display().to_string(),
        ),
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}/no-bus", home.path().display()),
        ),
    ];
    let config = home.path().join("loopgate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let port = free_port();
    std::fs::write(
        &config,
        serde_json::to_string_pretty(&json!({
            "gateway": { "port": port },
            "mcpServers": { "everything": everything_stdio(), "memory": memory_stdio() },
            "profiles": { "coding": { "servers": ["memory"] } }
        }))
        .unwrap(),
    )
    .unwrap();

    let out = lg(
        &env,
        &config,
        &["client", "install", "cursor", "--profile", "nope"],
        None,
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("no profile named \"nope\"") && text(&out).contains("coding"),
        "{}",
        text(&out)
    );
    let out = lg(
        &env,
        &config,
        &["client", "install", "cursor", "--profile", "coding"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("sees the profile \"coding\""),
        "{}",
        text(&out)
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(written["clientProfiles"]["cursor"], "coding");
    let cursor: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join(".cursor/mcp.json")).unwrap(),
    )
    .unwrap();
    let token = cursor["mcpServers"]["loopgate"]["headers"]["Authorization"]
        .as_str()
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_string();

    let _serve = Serve::start(&env, &config, home.path().join("serve.log"));
    wait_port(port);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let client = mcp_client(&url, &token).await;
        let names = tool_names(client.peer()).await;
        client.cancel().await.unwrap();
        assert!(
            names.iter().all(|n| n.starts_with("memory__")),
            "Cursor's token sees more than coding: {names:?}"
        );
        if !names.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "memory never listed");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Acceptance 4: a profile saved through `PUT /api/profiles/{name}` (what the Profiles page
/// sends) is in the config file and is still there after the gateway restarts on that file; a
/// profile naming a server that does not exist is refused with its field and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_saved_through_the_api_survive_a_restart() {
    let servers = json!({
        "everything": { "command": "true", "disabled": true },
        "memory": { "command": "true", "disabled": true }
    });
    let gw = Gw::start(servers).await;
    let api = |url: &str, token: &str, path: &str| {
        let base = url.trim_end_matches("/mcp").to_string();
        (format!("{base}/api/profiles{path}"), token.to_string())
    };
    let http = reqwest::Client::new();
    let (url, token) = api(&gw.url, &gw.token, "/coding");
    let put = |body: serde_json::Value| http.put(&url).bearer_auth(&token).json(&body).send();
    let r = put(json!({"servers": ["everything"], "disabledTools": {"everything": ["echo"]}, "toolSearch": true})).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let refused = put(json!({"servers": ["nope"], "disabledTools": {}, "toolSearch": false}))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let said: serde_json::Value = refused.json().await.unwrap();
    let text = said.to_string();
    assert!(
        text.contains("profiles.coding") && text.contains("nope"),
        "{text}"
    );

    let path = gw.dir.path().join("config.json");
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let expected = json!({"servers": ["everything"], "disabledTools": {"everything": ["echo"]}, "toolSearch": true});
    assert_eq!(on_disk["profiles"]["coding"], expected, "{on_disk}");

    // A new gateway on the same file serves the same profile.
    let gw = gw.restart().await;
    let (url, token) = api(&gw.url, &gw.token, "");
    let listed: serde_json::Value = http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let coding = listed["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "coding")
        .unwrap_or_else(|| panic!("no coding profile after the restart: {listed}"));
    assert_eq!(coding["settings"], expected, "{coding}");
    gw.stop().await;
}

/// A session answers only the client it belongs to: another client's token with the session's
/// id gets rmcp's 404 for an unknown session on every method (a GET stream would carry the
/// session's messages, a POSTed answer would answer its server's requests, a DELETE would end
/// it), and the session goes on. So it is between `initialize` and
/// `notifications/initialized`, before the front end has registered the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_session_is_not_found() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let other = client_token(&gw, "cursor").await;
    let http = reqwest::Client::new();
    let request = |method: reqwest::Method, token: &str, session: Option<&str>, body: &str| {
        let r = mcp_request(&http, method, &gw.url, token, session);
        r.body(body.to_string()).send()
    };
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{}},"clientInfo":{"name":"t","version":"1"}}}"#;
    let init = request(reqwest::Method::POST, &gw.token, None, initialize)
        .await
        .unwrap();
    let id = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let answer = r#"{"jsonrpc":"2.0","id":0,"result":{"roots":[]}}"#;
    let refused = |when: &'static str| {
        let (id, other, request) = (&id, &other, &request);
        async move {
            for (method, body) in [
                (reqwest::Method::GET, ""),
                (reqwest::Method::POST, list),
                (reqwest::Method::POST, answer),
                (reqwest::Method::DELETE, ""),
            ] {
                let r = request(method.clone(), other, Some(id), body)
                    .await
                    .unwrap();
                assert_eq!(r.status(), 404, "{when}: {method} {body}");
                assert_eq!(r.text().await.unwrap(), "Not Found: Session not found");
            }
        }
    };
    // Between `initialize` and `notifications/initialized` the session is rmcp's alone.
    refused("before initialized").await;
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let r = request(reqwest::Method::POST, &gw.token, Some(&id), initialized)
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    refused("initialized").await;
    let r = request(reqwest::Method::POST, &gw.token, Some(&id), list)
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the session went on");
    assert!(r.text().await.unwrap().contains("memory__read_graph"));
    gw.stop().await;
}
