//! The attacks of the second security round, each performed against a real gateway: a leaked
//! client token, a hostile authorization server, references to Loopgate's own keychain
//! records, a config edit racing a dashboard toggle, floods of sessions and idle connections,
//! secrets in the gateway's environment, and a gateway that is hung up on or killed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::cli::{lg, server, text, wait_servers, Serve};
use crate::common::*;
use serde_json::{json, Value};

/// `METHOD /api/<path>` with `bearer`; returns the status and the JSON body.
async fn api(
    base: &str,
    bearer: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}/api/{path}"))
        .bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn base_of(gw: &Gw) -> String {
    gw.url.trim_end_matches("/mcp").to_string()
}

/// A token written into a client's config reaches `/mcp`, and nothing of `/api`: it cannot
/// add a stdio server (= run code), quit the gateway or rewire clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_token_reaches_the_mcp_endpoint_only() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let base = base_of(&gw);
    let config = gw.dir.path().join("config.json");
    let client_token =
        loopgate::token::issue_client_token(&config, &gw.running().secrets, "cursor")
            .await
            .unwrap();
    let (status, _) = api(
        &base,
        &gw.token,
        reqwest::Method::POST,
        "clients/tokens/reload",
        None,
    )
    .await;
    assert_eq!(status, 200);

    // The MCP endpoint takes it.
    let client = mcp_client(&gw.url, &client_token).await;
    assert!(!tool_names(client.peer()).await.is_empty());
    client.cancel().await.unwrap();

    // The admin API refuses it, whatever the route, and changes nothing.
    let before = std::fs::read_to_string(&config).unwrap();
    let attacks = [
        (
            reqwest::Method::POST,
            "servers",
            Some(json!({"name": "pwn", "command": "sh", "args": ["-c", "touch /tmp/pwned"]})),
        ),
        (reqwest::Method::POST, "quit", None),
        (reqwest::Method::POST, "clients/cursor/uninstall", None),
        (reqwest::Method::POST, "dashboard/link", None),
        (reqwest::Method::GET, "servers", None),
    ];
    for (method, path, body) in attacks {
        let (status, answer) = api(&base, &client_token, method.clone(), path, body).await;
        assert_eq!(status, 403, "{method} /api/{path}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .contains("only the MCP endpoint"),
            "{answer}"
        );
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    // The gateway still runs and the gateway token still works.
    let (status, _) = api(&base, &gw.token, reqwest::Method::GET, "servers", None).await;
    assert_eq!(status, 200);
    gw.stop().await;
}

/// `${secret:oauth.github}` would hand GitHub's OAuth tokens to any server: refused through
/// the API and in the file; so are server names whose form secrets would land among
/// Loopgate's own records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_to_internal_records_are_refused() {
    let gw = Gw::start(json!({})).await;
    let base = base_of(&gw);
    let config = gw.dir.path().join("config.json");
    for reference in [
        "${secret:oauth.github}",
        "${secret:gateway-token.0123}",
        "${secret:client-tokens.0123}",
    ] {
        let form = json!({"name": "evil", "url": "https://evil.example/mcp", "headers": {"Authorization": format!("Bearer {reference}")}});
        let (status, answer) = api(
            &base,
            &gw.token,
            reqwest::Method::POST,
            "servers",
            Some(form),
        )
        .await;
        assert_eq!(status, 400, "{reference}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("reserved"),
            "{answer}"
        );
    }
    let (status, answer) = api(
        &base,
        &gw.token,
        reqwest::Method::POST,
        "servers",
        Some(json!({"name": "oauth", "command": "x"})),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    // A hand edit with such a reference is refused like any invalid edit.
    std::fs::write(
        &config,
        json!({"gateway": {"port": 0}, "mcpServers": {"evil": {"url": "https://evil.example/mcp", "headers": {"Authorization": "Bearer ${secret:oauth.github}"}}}}).to_string(),
    )
    .unwrap();
    gw.wait_until("the edit to be refused", 10, |g| {
        g.running().store.rejected_edit().is_some()
    })
    .await;
    let why = gw.running().store.rejected_edit().unwrap();
    assert!(
        why.contains("mcpServers.evil.headers.Authorization") && why.contains("reserved"),
        "{why}"
    );
    assert!(gw.running().store.current().mcp_servers.is_empty());
    gw.stop().await;
}

/// A hand edit followed at once by a dashboard toggle: both survive. An edit Loopgate cannot
/// read is never written over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_edit_and_a_dashboard_toggle_lose_nothing() {
    let gw = Gw::start(json!({ "a": {"command": "true", "disabled": true}, "b": {"command": "true", "disabled": true} })).await;
    let base = base_of(&gw);
    let config = gw.dir.path().join("config.json");
    let mut edited: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    edited["mcpServers"]["mine"] =
        json!({"command": "true", "disabled": true, "args": ["added by hand"]});
    std::fs::write(&config, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    // No waiting for the watcher: the toggle races the edit.
    let (status, answer) = api(
        &base,
        &gw.token,
        reqwest::Method::POST,
        "servers/a/enable",
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let now: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        now["mcpServers"]["mine"]["args"][0], "added by hand",
        "{now:#}"
    );
    assert_eq!(now["mcpServers"]["a"]["disabled"], Value::Null, "{now:#}");

    // A half-done edit (invalid JSON) is refused, and the toggle does not overwrite it.
    let half_done = "{ \"mcpServers\": { \"a\": { \"command\": \"true\" }, // still typing\n";
    std::fs::write(&config, half_done).unwrap();
    let (status, answer) = api(
        &base,
        &gw.token,
        reqwest::Method::POST,
        "servers/b/enable",
        None,
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("did not write over it"),
        "{answer}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), half_done);
    gw.stop().await;
}

/// What `loopgate serve` prints and `loopgate open` opens are one-time links, never the
/// token; the browser's cookie holds a session id, not the token; the dashboard may not be
/// framed by another page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_links_are_one_time_and_the_cookie_holds_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"gateway": {"port": port}, "mcpServers": {}}).to_string(),
    )
    .unwrap();
    let mut serve = Serve::start(&[], &config, dir.path().join("serve.log"));
    wait_servers(&[], &config, "gateway up", |_| true);
    let token = text(&lg(&[], &config, &["token"], None)).trim().to_string();
    assert_eq!(token.len(), 64);
    let open = lg(&[], &config, &["open", "--print"], None);
    assert!(open.status.success(), "{}", text(&open));
    let link = String::from_utf8(open.stdout).unwrap().trim().to_string();
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/auth?nonce=")),
        "{link}"
    );
    assert!(!link.contains(&token), "{link}");

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = http.get(&link).send().await.unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!cookie.contains(&token), "{cookie}");
    assert!(
        cookie.starts_with(&format!("loopgate_session_{port}=")),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let servers = http
        .get(format!("http://127.0.0.1:{port}/api/servers"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(servers.status(), 200);
    // The session reaches the MCP endpoint (the playground) only from the dashboard's own
    // page: another site's page (a foreign Origin), or no sign of a page at all, is refused.
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let mcp = |origin: Option<&'static str>| {
        let mut req = http
            .post(format!("http://127.0.0.1:{port}/mcp"))
            .header("cookie", &pair)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(initialize);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    assert_eq!(mcp(None).await.unwrap().status(), 403, "no Origin");
    for foreign in ["http://evil.example", "http://127.0.0.1:1", "null"] {
        assert_eq!(mcp(Some(foreign)).await.unwrap().status(), 403, "{foreign}");
    }
    let own: &'static str = Box::leak(format!("http://127.0.0.1:{port}").into_boxed_str());
    assert_eq!(
        mcp(Some(own)).await.unwrap().status(),
        200,
        "the dashboard's own page"
    );
    assert_eq!(
        http.get(&link).send().await.unwrap().status(),
        401,
        "a link works once"
    );

    let page = http
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );

    serve.stop();
    let banner = serve.output();
    assert!(banner.contains("/auth?nonce="), "{banner}");
    assert!(!banner.contains(&token), "the banner shows the token");
}

/// A hostile authorization server names a `javascript:` page as its authorization endpoint:
/// the gateway never opens, logs as a link or hands out that URL; the API and the CLI say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_authorization_endpoint_is_never_used() {
    let hostile = "javascript:fetch('/api/servers',{method:'POST'})//";
    let (_hostile, port) = python_peer("oauth-server.py", &[("HOSTILE_AUTHORIZE", hostile.into())]);
    let gw = Gw::start(json!({ "hostile": {"url": format!("http://127.0.0.1:{port}/mcp")} })).await;
    gw.wait_until("the automatic sign-in to fail", 30, |g| {
        let s = g.status("hostile");
        s["state"] == "needs-sign-in"
            && g.running()
                .gateway
                .supervisor()
                .oauth()
                .view("hostile")
                .last_error
                .is_some()
    })
    .await;
    let view = gw.running().gateway.supervisor().oauth().view("hostile");
    assert_eq!(view.url, None);
    let why = view.last_error.unwrap();
    assert!(
        why.contains("authorization_endpoint") && why.contains("\"javascript:\""),
        "{why}"
    );

    let (status, answer) = api(
        &base_of(&gw),
        &gw.token,
        reqwest::Method::POST,
        "servers/hostile/auth/login",
        None,
    )
    .await;
    assert_eq!(status, 502, "{answer}");
    let message = answer["error"].as_str().unwrap();
    assert!(message.contains("javascript:"), "{message}");
    let (_, auth) = api(&base_of(&gw), &gw.token, reqwest::Method::GET, "auth", None).await;
    assert_eq!(
        auth[0]["signIn"]["url"],
        Value::Null,
        "the API hands out the hostile URL: {auth}"
    );
    gw.stop().await;

    // The CLI's own sign-in (no gateway running) refuses it the same way.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"gateway": {"port": free_port()}, "mcpServers": {"hostile": {"url": format!("http://127.0.0.1:{port}/mcp")}}}).to_string(),
    )
    .unwrap();
    let out = lg(
        &[],
        &config,
        &["auth", "login", "hostile", "--show", "print"],
        None,
    );
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("\"javascript:\"") && !said.contains("Sign in at"),
        "{said}"
    );
}

fn write_config(dir: &Path, port: u16, gateway: Value, servers: Value) -> PathBuf {
    let mut gateway = gateway;
    gateway["port"] = port.into();
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        json!({"gateway": gateway, "mcpServers": servers}).to_string(),
    )
    .unwrap();
    path
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap()
}

/// 3,000 sessions opened and abandoned, and 500 connections that never send a request: the
/// sessions are capped and expire, the connections are capped and closed, memory comes back
/// near its idle figure, and a real client still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_sessions_and_idle_connections_are_bounded_and_reclaimed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let limits = json!({"limits": {"sessionIdleMs": 3000, "maxSessions": 200, "maxConnections": 300, "headerTimeoutMs": 2000}});
    let config = write_config(dir.path(), port, limits, json!({}));
    let serve = Serve::start(&[], &config, dir.path().join("serve.log"));
    wait_servers(&[], &config, "gateway up", |_| true);
    let pid = serve.pid();
    let token = text(&lg(&[], &config, &["token"], None)).trim().to_string();
    let url = format!("http://127.0.0.1:{port}/mcp");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(pid);

    // 3,000 initialize requests, never followed by DELETE.
    let http = reqwest::Client::new();
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"flood","version":"1"}}}"#;
    let mut ids = std::collections::HashSet::new();
    for chunk in 0..(3000 / 25) {
        let batch = (0..25).map(|_| {
            http.post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(init)
                .send()
        });
        for r in futures::future::join_all(batch).await {
            let r = r.unwrap();
            assert_eq!(r.status(), 200, "initialize #{chunk}");
            ids.insert(r.headers()["mcp-session-id"].to_str().unwrap().to_string());
        }
    }
    assert_eq!(ids.len(), 3000);
    let flooded = rss_kib(pid);
    // Bounded: at most 200 live sessions, plus the ones rmcp is still winding down (it lets a
    // closed session drain for up to 5 s). Uncapped, this test build grows by ~120 MiB.
    assert!(
        flooded < idle + 100 * 1024,
        "3,000 abandoned sessions grew RSS from {idle} KiB to {flooded} KiB"
    );
    // After the idle timeout they are gone: an old session id is unknown (404).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let old = ids.iter().next().unwrap();
    let r = http
        .post(&url)
        .bearer_auth(&token)
        .header("mcp-session-id", old)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Their memory goes back to the OS once the burst has settled.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut reclaimed = rss_kib(pid);
    while reclaimed >= idle + 16 * 1024 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        reclaimed = rss_kib(pid);
    }

    // 500 connections that send nothing: at most 300 are open at once (the others wait in the
    // backlog), and each is closed after the header timeout.
    let started = Instant::now();
    let silent = (0..500).map(|_| async move {
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let mut buf = [0u8; 1];
        use tokio::io::AsyncReadExt;
        // The gateway closes it: EOF (or a reset).
        Ok::<bool, std::io::Error>(matches!(c.read(&mut buf).await, Ok(0) | Err(_)))
    });
    let closed = tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(silent))
        .await
        .expect("the gateway closed 500 silent connections within 30 s");
    assert!(closed.iter().all(|c| matches!(c, Ok(true))), "{closed:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "closed only after the header timeout"
    );
    // A real client still gets through.
    let client = mcp_client(&url, &token).await;
    client.peer().list_all_tools().await.unwrap();
    client.cancel().await.unwrap();
    let log = serve.output();
    assert!(
        reclaimed < idle + 16 * 1024,
        "RSS after the sessions expired: {reclaimed} KiB (idle {idle} KiB, flooded {flooded} KiB)\n{}",
        &log[log.len().saturating_sub(2000)..]
    );
}

/// A stdio server sees the basics of the gateway's environment (PATH, HOME) but none of its
/// other variables, unless its entry lists them in `inheritEnv`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_servers_do_not_inherit_the_gateways_secrets() {
    const PLANTED: &str = "planted-aws-secret-51c0";
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut opted_in = everything_stdio();
    opted_in["inheritEnv"] = json!(["AWS_SECRET_ACCESS_KEY"]);
    let config = write_config(
        dir.path(),
        port,
        json!({}),
        json!({"plain": everything_stdio(), "optedin": opted_in}),
    );
    let env = vec![("AWS_SECRET_ACCESS_KEY".to_string(), PLANTED.to_string())];
    let _serve = Serve::start(&env, &config, dir.path().join("serve.log"));
    wait_servers(&env, &config, "both ready", |v| {
        server(v, "plain")["state"] == "ready" && server(v, "optedin")["state"] == "ready"
    });
    let token = text(&lg(&env, &config, &["token"], None))
        .trim()
        .to_string();
    let client = mcp_client(&format!("http://127.0.0.1:{port}/mcp"), &token).await;
    let env_of = |name: &str| {
        let peer = client.peer().clone();
        let name = name.to_string();
        async move {
            let r = peer
                .call_tool(rmcp::model::CallToolRequestParams::new(format!(
                    "{name}__get-env"
                )))
                .await
                .unwrap();
            serde_json::to_string(&r.content).unwrap()
        }
    };
    let plain = env_of("plain").await;
    assert!(!plain.contains(PLANTED), "{plain}");
    assert!(plain.contains("PATH") && plain.contains("HOME"), "{plain}");
    let opted = env_of("optedin").await;
    assert!(opted.contains(PLANTED), "inheritEnv passes it on: {opted}");
    client.cancel().await.unwrap();
}

/// Whether process `pid` is gone (or a zombie).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.split_whitespace().nth(2) == Some("Z"),
    }
}

fn wait_gone(pid: u32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !gone(pid) {
        assert!(
            Instant::now() < deadline,
            "{what}: server process {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGHUP stops the gateway cleanly, and even `kill -9` leaves no server process behind.
#[test]
fn hangup_and_kill_leave_no_server_process_behind() {
    for signal in [
        nix::sys::signal::Signal::SIGHUP,
        nix::sys::signal::Signal::SIGKILL,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(
            dir.path(),
            free_port(),
            json!({}),
            json!({"everything": everything_stdio()}),
        );
        let mut serve = Serve::start(&[], &config, dir.path().join("serve.log"));
        let servers = wait_servers(&[], &config, "everything ready", |v| {
            server(v, "everything")["state"] == "ready"
        });
        let child = server(&servers, "everything")["pid"].as_u64().unwrap() as u32;
        assert!(!gone(child));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(serve.pid() as i32), signal).unwrap();
        let status = serve.wait();
        if signal == nix::sys::signal::Signal::SIGHUP {
            assert!(
                status.success(),
                "SIGHUP is a clean stop: {status:?}\n{}",
                serve.output()
            );
        }
        wait_gone(child, &format!("after {signal}"));
    }
}
