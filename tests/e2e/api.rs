//! The admin API and dashboard sign-in, against a real gateway with a real stdio server:
//! guard (401/403), validation errors naming the field with the config unchanged, add / edit /
//! remove, per-server and per-tool switches taking effect for MCP clients, and the live event
//! stream. The error shape of every kind of failure is in [`super::api_errors`].

use std::time::{Duration, Instant};

use crate::common::*;
use futures::StreamExt;
use serde_json::{json, Value};

/// The gateway's `/api` with its gateway token.
pub(crate) struct Api {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(gw: &Gw) -> Api {
        Api {
            base: gw.url.trim_end_matches("/mcp").to_string(),
            token: gw.token.clone(),
            http: reqwest::Client::new(),
        }
    }
    /// `method /api/<path>` with a JSON body; the status and the JSON answer (`null` if none).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
    /// `GET /api/<path>`, which must answer 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
    /// `POST /api/<path>`.
    pub async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }
    /// The names of the tools clients see (`GET /api/tools`).
    async fn tool_names(&self) -> Vec<String> {
        self.get("tools").await["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Guard: no token → 401, a foreign Origin → 403; the dashboard signs in with a one-time link
/// that becomes an HttpOnly session cookie (never the token); the page itself is public.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_and_the_dashboard_sign_in() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let api = Api::new(&gw);

    // Guard: no token → 401; wrong Origin → 403; the sign-in link sets an HttpOnly cookie.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        plain
            .get(format!("{}/api/servers", api.base))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let r = plain
        .get(format!("{}/api/servers", api.base))
        .bearer_auth(&gw.token)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = plain
        .post(format!("{}/api/servers/memory/disable", api.base))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Dashboard sign-in: a one-time link (never the token) turns into a session cookie.
    assert_eq!(
        plain
            .get(format!("{}/auth?nonce=nope", api.base))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        plain
            .get(format!("{}/auth?token={}", api.base, gw.token))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "the token is no dashboard link"
    );
    let (status, link) = api.post("dashboard/link", None).await;
    assert_eq!(status, 200, "{link}");
    let link = link["url"].as_str().unwrap().to_string();
    assert!(
        link.contains("/auth?nonce=") && !link.contains(&gw.token),
        "{link}"
    );
    let signin = plain.get(&link).send().await.unwrap();
    assert_eq!(signin.status(), 303);
    let cookie = signin.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains(&gw.token),
        "the cookie holds no token: {cookie}"
    );
    assert_eq!(
        plain.get(&link).send().await.unwrap().status(),
        401,
        "a link works once"
    );
    let cookie_pair = cookie.split(';').next().unwrap().to_string();
    let with_cookie = plain
        .get(format!("{}/api/servers", api.base))
        .header("cookie", &cookie_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 200);
    // The dashboard page itself is served (no data in it) at `/`.
    let page = plain.get(format!("{}/", api.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().to_lowercase().contains("<html"));

    let info = api.get("info").await;
    assert_eq!(info["mcpUrl"], gw.url);
    gw.stop().await;
}

/// Refused input answers 400 (409 for a taken name) naming the field, and the config file stays
/// as it was; an unknown server or tool is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_edits_name_the_field_and_change_nothing() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let api = Api::new(&gw);
    let config_path = gw.dir.path().join("config.json");

    // Invalid edits: 400 naming the field; the config file is unchanged.
    let before = std::fs::read_to_string(&config_path).unwrap();
    let cases = [
        (json!({"name": "bad name", "command": "x"}), "name"),
        (json!({"name": "ok"}), "command"),
        (json!({"name": "ok", "url": "ftp://x"}), "url"),
        (
            json!({"name": "ok", "command": "x", "url": "http://x"}),
            "url",
        ),
        (
            json!({"name": "ok", "url": "http://x", "headers": {"Bad Header": "1"}}),
            "headers",
        ),
        (json!({"name": "memory", "command": "x"}), "name"),
    ];
    for (body, field) in cases {
        let (status, err) = api.post("servers", Some(body.clone())).await;
        assert!(status == 400 || status == 409, "{body}: {status} {err}");
        assert_eq!(err["field"], field, "{body}: {err}");
        assert!(!err["error"].as_str().unwrap().is_empty());
    }
    let (status, err) = api
        .send(
            reqwest::Method::PUT,
            "servers/memory",
            Some(json!({"url": "notaurl"})),
        )
        .await;
    assert_eq!((status, err["field"].as_str()), (400, Some("url")), "{err}");
    assert_eq!(
        std::fs::read_to_string(&config_path).unwrap(),
        before,
        "config unchanged after refused edits"
    );
    assert_eq!(api.post("servers/nope/disable", None).await.0, 404);
    assert_eq!(
        api.post("servers/memory/tools/nope/disable", None).await.0,
        404
    );
    gw.stop().await;
}

/// A tool switch hides the tool from clients and is recorded in the config; the event stream
/// sends the server list at once and again after the changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_switches_and_the_live_event_stream() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let api = Api::new(&gw);
    let config_path = gw.dir.path().join("config.json");

    // Live events: the stream sends the server list at once and after changes.
    let events = api
        .http
        .get(format!("{}/api/events", api.base))
        .bearer_auth(&gw.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut stream = events.bytes_stream();
    let first = String::from_utf8(stream.next().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(
        first.contains("event: servers") && first.contains("\"memory\""),
        "{first}"
    );

    // Per-tool switch: hidden from clients and recorded in the config.
    assert!(api
        .tool_names()
        .await
        .contains(&"memory__read_graph".to_string()));
    assert_eq!(
        api.post("servers/memory/tools/read_graph/disable", None)
            .await
            .0,
        200
    );
    eventually("read_graph hidden", async || {
        !api.tool_names()
            .await
            .contains(&"memory__read_graph".to_string())
    })
    .await;
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(
        saved["mcpServers"]["memory"]["disabledTools"],
        json!(["read_graph"])
    );
    let tools = api.get("servers/memory/tools").await;
    let rg = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["originalName"] == "read_graph")
        .unwrap();
    assert_eq!(rg["enabled"], false);
    assert!(rg["inputSchema"].is_object());
    assert_eq!(
        api.post("servers/memory/tools/read_graph/enable", None)
            .await
            .0,
        200
    );
    eventually("read_graph back", async || {
        api.tool_names()
            .await
            .contains(&"memory__read_graph".to_string())
    })
    .await;

    // The event stream reported the changes.
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.contains("event: tools") || seen.matches("event: servers").count() < 2 {
        assert!(Instant::now() < deadline, "no live updates: {seen}");
        if let Ok(Some(Ok(chunk))) =
            tokio::time::timeout(Duration::from_secs(1), stream.next()).await
        {
            seen += &String::from_utf8_lossy(&chunk);
        }
    }
    gw.stop().await;
}

/// The server switch, and add / edit / remove with a secret field: the secret goes to the
/// keychain, the config keeps a reference, an edit keeps it, a removal deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_switch_add_edit_and_remove_with_form_secrets() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let api = Api::new(&gw);
    let config_path = gw.dir.path().join("config.json");

    // Server switch, add (with a secret field), edit, remove.
    assert_eq!(api.post("servers/memory/disable", None).await.0, 200);
    eventually("memory disabled", async || {
        let s = api.get("servers").await;
        s[0]["state"] == "disabled"
            && api
                .tool_names()
                .await
                .iter()
                .all(|t| !t.starts_with("memory__"))
    })
    .await;
    assert_eq!(api.post("servers/memory/enable", None).await.0, 200);
    eventually("memory back", async || {
        api.tool_names()
            .await
            .iter()
            .any(|t| t.starts_with("memory__"))
    })
    .await;

    let mem = memory_stdio();
    let (status, body) = api.post("servers", Some(json!({"name": "mem2", "command": mem["command"], "args": mem["args"], "env": {"PLAIN": "1"}, "secrets": {"API_KEY": "form-s3cret"}}))).await;
    assert_eq!(status, 201, "{body}");
    eventually("mem2 tools", async || {
        api.tool_names()
            .await
            .contains(&"mem2__read_graph".to_string())
    })
    .await;
    let servers = api.get("servers").await;
    let mem2 = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "mem2")
        .unwrap();
    assert_eq!(mem2["config"]["env"]["API_KEY"], "${secret:mem2.API_KEY}");
    let saved = std::fs::read_to_string(&config_path).unwrap();
    assert!(saved.contains("${secret:mem2.API_KEY}") && !saved.contains("form-s3cret"));
    assert_eq!(
        gw.running().secrets.get("mem2.API_KEY").await.unwrap(),
        "form-s3cret"
    );

    let (status, body) = api
        .send(reqwest::Method::PUT, "servers/mem2", Some(json!({"command": mem["command"], "args": mem["args"], "env": {"PLAIN": "2"}, "secrets": {"API_KEY": ""}})))
        .await;
    assert_eq!(status, 200, "{body}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(
        saved["mcpServers"]["mem2"]["env"],
        json!({"PLAIN": "2", "API_KEY": "${secret:mem2.API_KEY}"}),
        "secret kept on edit"
    );

    let (status, _) = api
        .send(reqwest::Method::DELETE, "servers/mem2", None)
        .await;
    assert_eq!(status, 200);
    eventually("mem2 gone", async || {
        api.tool_names()
            .await
            .iter()
            .all(|t| !t.starts_with("mem2__"))
    })
    .await;
    assert!(
        gw.running().secrets.get("mem2.API_KEY").await.is_err(),
        "its form secret was removed"
    );
    gw.stop().await;
}

/// An HTTP server with its OAuth client from the form: the client secret goes to the
/// keychain, the config keeps a reference, the API never shows either; edits keep, change and
/// remove the sign-in options.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_with_an_oauth_client_from_the_form() {
    let gw = Gw::start(json!({})).await;
    let api = Api::new(&gw);
    let config_path = gw.dir.path().join("config.json");

    let remote = |extra: Value| {
        let mut body = json!({"name": "remote", "url": "http://127.0.0.1:1/mcp"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let (status, body) = api
        .post(
            "servers",
            Some(remote(
                json!({"oauth": {"clientSecret": "cs-s3cret", "scopes": "read"}}),
            )),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("oauth.clientSecret")),
        "{body}"
    );
    let (status, body) = api
        .post("servers", Some(remote(json!({"auth": "sometimes"}))))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("auth")),
        "{body}"
    );
    let (status, body) = api
        .post(
            "servers",
            Some(remote(json!({"auth": "auto", "oauth": {
                "clientId": " lg-app ", "clientSecret": "cs-s3cret", "scopes": "read  write"
            }}))),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(
        saved["mcpServers"]["remote"],
        json!({"url": "http://127.0.0.1:1/mcp", "oauth": {
            "clientId": "lg-app",
            "clientSecret": "${secret:remote.OAUTH_CLIENT_SECRET}",
            "scopes": ["read", "write"]
        }})
    );
    assert_eq!(
        gw.running()
            .secrets
            .get("remote.OAUTH_CLIENT_SECRET")
            .await
            .unwrap(),
        "cs-s3cret"
    );
    let servers = api.get("servers").await.to_string();
    assert!(
        !servers.contains("cs-s3cret") && !servers.contains("OAUTH_CLIENT_SECRET"),
        "{servers}"
    );
    assert!(servers.contains(r#""hasClientSecret":true"#), "{servers}");
    // Edit: an empty secret keeps the stored one; sign-in can be turned off.
    let (status, body) = api
        .send(
            reqwest::Method::PUT,
            "servers/remote",
            Some(
                json!({"url": "http://127.0.0.1:1/mcp", "auth": "none", "oauth": {
                    "clientId": "lg-app", "clientSecret": "", "scopes": "read"
                }}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(saved["mcpServers"]["remote"]["auth"], "none");
    assert_eq!(
        saved["mcpServers"]["remote"]["oauth"]["clientSecret"],
        "${secret:remote.OAUTH_CLIENT_SECRET}"
    );
    // Edit without the sign-in fields keeps them; emptying them removes the OAuth options.
    let (status, _) = api
        .send(
            reqwest::Method::PUT,
            "servers/remote",
            Some(json!({"url": "http://127.0.0.1:1/mcp"})),
        )
        .await;
    assert_eq!(status, 200);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(saved["mcpServers"]["remote"]["auth"], "none");
    assert_eq!(saved["mcpServers"]["remote"]["oauth"]["clientId"], "lg-app");
    let (status, _) = api
        .send(
            reqwest::Method::PUT,
            "servers/remote",
            Some(json!({"url": "http://127.0.0.1:1/mcp", "auth": "auto", "oauth": {"clientId": "", "clientSecret": null}})),
        )
        .await;
    assert_eq!(status, 200);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(
        saved["mcpServers"]["remote"],
        json!({"url": "http://127.0.0.1:1/mcp"})
    );
    assert!(
        gw.running()
            .secrets
            .get("remote.OAUTH_CLIENT_SECRET")
            .await
            .is_err(),
        "the client secret the edit stopped using left the keychain"
    );
    // Removing the server takes its remaining form secrets with it.
    let (status, body) = api
        .send(
            reqwest::Method::PUT,
            "servers/remote",
            Some(json!({"url": "http://127.0.0.1:1/mcp", "secrets": {"X-Api-Key": "k3y"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        gw.running().secrets.get("remote.X-Api-Key").await.unwrap(),
        "k3y"
    );
    let (status, _) = api
        .send(reqwest::Method::DELETE, "servers/remote", None)
        .await;
    assert_eq!(status, 200);
    assert!(
        gw.running().secrets.get("remote.X-Api-Key").await.is_err(),
        "its form secret was removed with it"
    );
    gw.stop().await;
}
