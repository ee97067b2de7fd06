//! Secrets in a real OS keychain (a private Secret Service: D-Bus + gnome-keyring, see
//! `common/keyring.rs`), used by the real `loopgate` binary: references in env and headers,
//! `secret set/list/rm`, reconnection on change, redaction everywhere, no plaintext fallback,
//! and `import` of a Claude Desktop config.

use std::path::{Path, PathBuf};

use crate::common::cli::{lg, server, text, wait_servers, Serve};
use crate::common::keyring::PrivateKeyring;
use crate::common::mock::{MockBackend, Mode};
use rmcp::model::CallToolRequestParams;
use serde_json::{json, Value};

fn write_config(dir: &Path, port: u16, servers: Value) -> PathBuf {
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        json!({"gateway": {"port": port}, "mcpServers": servers}).to_string(),
    )
    .unwrap();
    path
}

async fn call_tool(url: &str, token: &str, name: &str, args: Value) -> String {
    let client = crate::common::mcp_client(url, token).await;
    let mut params = CallToolRequestParams::new(name.to_string());
    params.arguments = args.as_object().cloned();
    let res = client.peer().call_tool(params).await.unwrap();
    client.cancel().await.unwrap();
    serde_json::to_string(&res.content).unwrap()
}

/// Acceptance 1 + 2: secrets set through the CLI reach a real stdio server's environment and an
/// HTTP server's headers; list/rm work; a missing secret fails only its server with the
/// actionable message and setting it reconnects that server; the planted values appear nowhere
/// in Loopgate's config, trace-level log, API responses or CLI output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_servers_and_never_leak() {
    let kr = PrivateKeyring::start();
    let env = kr.env();
    let dir = tempfile::tempdir().unwrap();
    let port = crate::common::free_port();
    let mock = MockBackend::start(Mode::Strict).await;
    const ENV_SECRET: &str = "env-s3cret-value-8c1f";
    const HDR_SECRET: &str = "hdr-s3cret-value-42aa";
    const LATE_SECRET: &str = "late-s3cret-value-77";
    let mut everything = crate::common::everything_stdio();
    everything["env"] = json!({"PLANTED_ENV": "${secret:e2e.ENV}"});
    let mut late = crate::common::memory_stdio();
    late["env"] = json!({"LATE": "${secret:e2e.LATE}"});
    let config = write_config(
        dir.path(),
        port,
        json!({
            "everything": everything,
            "remote": {"url": mock.url, "headers": {"Authorization": "Bearer ${secret:e2e.HDR}"}},
            "late": late,
            "plain": crate::common::memory_stdio(),
        }),
    );
    let mut cli_output = String::new();
    for (name, value) in [("e2e.ENV", ENV_SECRET), ("e2e.HDR", HDR_SECRET)] {
        let out = lg(
            &env,
            &config,
            &["secret", "set", name],
            Some(&format!("{value}\n")),
        );
        assert!(out.status.success(), "{}", text(&out));
        cli_output += &text(&out);
    }

    let serve = Serve::start(&env, &config, dir.path().join("serve.log"));
    let servers = wait_servers(&env, &config, "servers settle", |v| {
        ["everything", "remote", "plain"]
            .iter()
            .all(|n| server(v, n)["state"] == "ready")
            && server(v, "late")["state"] == "failed"
    });
    assert_eq!(
        server(&servers, "late")["lastError"],
        "server \"late\": secret e2e.LATE is not set — run `loopgate secret set e2e.LATE`"
    );
    let token_out = lg(&env, &config, &["token"], None);
    let token = String::from_utf8(token_out.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert!(
        !dir.path().join("token").exists(),
        "with a keychain the token is not on disk"
    );

    // The HTTP server observed the resolved header.
    let auths: Vec<Option<String>> = mock
        .state
        .received()
        .iter()
        .map(|r| r.authorization.clone())
        .collect();
    assert!(
        !auths.is_empty()
            && auths
                .iter()
                .all(|a| a.as_deref() == Some(&format!("Bearer {HDR_SECRET}"))),
        "{auths:?}"
    );

    // list shows names, states and users, never values.
    let list = text(&lg(&env, &config, &["secret", "list"], None));
    assert!(
        list.contains("e2e.ENV") && list.contains("everything"),
        "{list}"
    );
    assert!(
        list.contains("e2e.LATE") && list.contains("MISSING"),
        "{list}"
    );
    cli_output += &list;

    // Setting the missing secret reconnects the server that uses it.
    let out = lg(
        &env,
        &config,
        &["secret", "set", "e2e.LATE"],
        Some(LATE_SECRET),
    );
    assert!(
        out.status.success() && text(&out).contains("late"),
        "{}",
        text(&out)
    );
    cli_output += &text(&out);
    wait_servers(&env, &config, "late ready after its secret is set", |v| {
        server(v, "late")["state"] == "ready"
    });

    // API responses and CLI listings.
    let http = reqwest::Client::new();
    let mut api = String::new();
    for path in [
        "servers",
        "tools",
        "servers/everything/logs",
        "servers/remote/logs",
        "servers/everything/tools",
    ] {
        let body = http
            .get(format!("http://127.0.0.1:{port}/api/{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        api += &body;
    }
    for args in [&["servers"][..], &["tools"][..], &["servers", "--json"][..]] {
        cli_output += &text(&lg(&env, &config, args, None));
    }
    // A tool call that does not echo the env uses the server normally.
    let echoed = call_tool(
        &format!("http://127.0.0.1:{port}/mcp"),
        &token,
        "remote__echo",
        json!({"message": "ok"}),
    )
    .await;
    assert!(echoed.contains("mock echo: ok"));
    // A backend that echoes a secret: the client asked and gets it, but at trace level the
    // whole message passes through rmcp's logging — where it must show up redacted.
    let env_dump = call_tool(
        &format!("http://127.0.0.1:{port}/mcp"),
        &token,
        "everything__get-env",
        json!({}),
    )
    .await;
    assert!(env_dump.contains(ENV_SECRET), "the client gets its answer");

    // rm removes it; the server using it fails again with the actionable message.
    let out = lg(&env, &config, &["secret", "rm", "e2e.LATE"], None);
    assert!(out.status.success(), "{}", text(&out));
    wait_servers(
        &env,
        &config,
        "late failed after its secret is removed",
        |v| server(v, "late")["state"] == "failed",
    );
    let out = lg(&env, &config, &["secret", "rm", "e2e.LATE"], None);
    assert!(!out.status.success() && text(&out).contains("no secret named e2e.LATE"));

    let mut serve = serve;
    serve.stop();
    let log = serve.output();
    assert!(
        log.contains("TRACE") || log.contains("trace"),
        "the log was captured at trace level"
    );
    assert!(
        log.contains("[redacted]"),
        "the echoed secret was logged (redacted) at trace level"
    );
    let config_text = std::fs::read_to_string(&config).unwrap();
    for secret in [ENV_SECRET, HDR_SECRET, LATE_SECRET] {
        assert!(!config_text.contains(secret), "config file leaks {secret}");
        assert!(!log.contains(secret), "serve log leaks {secret}");
        assert!(!api.contains(secret), "API leaks {secret}");
        assert!(!cli_output.contains(secret), "CLI output leaks {secret}");
    }
}

/// Acceptance 1 (stdio read-back): the env value reaches the child process, shown by
/// server-everything's own `get-env` tool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_secret_reaches_the_child_process() {
    let kr = PrivateKeyring::start();
    let env = kr.env();
    let dir = tempfile::tempdir().unwrap();
    let port = crate::common::free_port();
    let mut everything = crate::common::everything_stdio();
    everything["env"] = json!({"PLANTED_ENV": "prefix-${secret:readback.ENV}"});
    let config = write_config(dir.path(), port, json!({ "everything": everything }));
    assert!(lg(
        &env,
        &config,
        &["secret", "set", "readback.ENV"],
        Some("v4lue-123")
    )
    .status
    .success());
    let _serve = Serve::start(&env, &config, dir.path().join("serve.log"));
    wait_servers(&env, &config, "everything ready", |v| {
        server(v, "everything")["state"] == "ready"
    });
    let token = String::from_utf8(lg(&env, &config, &["token"], None).stdout)
        .unwrap()
        .trim()
        .to_string();
    let out = call_tool(
        &format!("http://127.0.0.1:{port}/mcp"),
        &token,
        "everything__get-env",
        json!({}),
    )
    .await;
    assert!(
        out.contains("PLANTED_ENV") && out.contains("prefix-v4lue-123"),
        "{out}"
    );
}

/// Acceptance 3: with no Secret Service reachable the gateway still starts, servers without
/// secrets work, servers with secrets show the actionable error, and no secret is written.
#[test]
fn without_a_keychain_only_servers_with_secrets_fail() {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![(
        "DBUS_SESSION_BUS_ADDRESS".to_string(),
        format!("unix:path={}/no-bus", dir.path().display()),
    )];
    let port = crate::common::free_port();
    let mut with_secret = crate::common::memory_stdio();
    with_secret["env"] = json!({"K": "${secret:nokeychain.K}"});
    // An HTTP server that needs no sign-in must not care that OAuth tokens cannot be looked up.
    let (_py, py_url) = crate::common::python_http_server("stateless");
    let config = write_config(
        dir.path(),
        port,
        json!({"plain": crate::common::memory_stdio(), "needs": with_secret, "web": {"url": py_url}}),
    );

    let out = lg(
        &env,
        &config,
        &["secret", "set", "nokeychain.K"],
        Some("value-that-must-not-land"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no OS keychain is reachable") && text(&out).contains("Secret Service"),
        "{}",
        text(&out)
    );

    let _serve = Serve::start(&env, &config, dir.path().join("serve.log"));
    let servers = wait_servers(&env, &config, "plain and web ready, needs failed", |v| {
        server(v, "plain")["state"] == "ready"
            && server(v, "web")["state"] == "ready"
            && server(v, "needs")["state"] == "failed"
    });
    let err = server(&servers, "needs")["lastError"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.contains("no OS keychain is reachable") && err.contains("gnome-keyring-daemon"),
        "{err}"
    );
    // Nothing but the config, the access token file, the activity log and our own log is on
    // disk, and no secret is in any of them.
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| !f.starts_with("activity.sqlite3"))
        .collect();
    files.sort();
    assert_eq!(files, ["config.json", "serve.log", "token"]);
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!bytes
            .windows(b"value-that-must-not-land".len())
            .any(|w| w == b"value-that-must-not-land"));
    }
}

/// Acceptance 4: importing a realistic Claude Desktop config moves literal tokens into the
/// keychain, leaves references, does not touch the source, and the servers then run.
#[test]
fn import_moves_literal_tokens_into_the_keychain() {
    let kr = PrivateKeyring::start();
    let env = kr.env();
    let dir = tempfile::tempdir().unwrap();
    let port = crate::common::free_port();
    let config = write_config(dir.path(), port, json!({}));
    let everything = crate::common::everything_stdio();
    let memory = crate::common::memory_stdio();
    let source = dir.path().join("claude_desktop_config.json");
    let source_text = serde_json::to_string_pretty(&json!({
        "mcpServers": {
            "github": {"command": everything["command"], "args": everything["args"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_importedTOKEN123", "GITHUB_HOST": "github.com"}},
            "brave-search": {"command": memory["command"], "args": memory["args"], "env": {"BRAVE_API_KEY": "BSAimportedKEY456"}},
            "postgres": {"command": memory["command"], "args": memory["args"], "env": {"PGPASSWORD": "importedPW789"}},
            "linear": {"url": "https://mcp.linear.example/mcp", "headers": {"Authorization": "Bearer lin_importedAUTH", "X-Client": "loopgate"}, "disabled": true}
        },
        "globalShortcut": "Ctrl+Space"
    }))
    .unwrap();
    std::fs::write(&source, &source_text).unwrap();

    let out = lg(&env, &config, &["import", source.to_str().unwrap()], None);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    for moved in [
        "github.GITHUB_PERSONAL_ACCESS_TOKEN",
        "brave-search.BRAVE_API_KEY",
        "postgres.PGPASSWORD",
        "linear.Authorization",
    ] {
        assert!(
            said.contains(moved),
            "import did not report {moved}: {said}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&source).unwrap(),
        source_text,
        "source untouched"
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        written["mcpServers"]["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"],
        "${secret:github.GITHUB_PERSONAL_ACCESS_TOKEN}"
    );
    assert_eq!(
        written["mcpServers"]["github"]["env"]["GITHUB_HOST"],
        "github.com"
    );
    assert_eq!(
        written["mcpServers"]["linear"]["headers"]["Authorization"],
        "${secret:linear.Authorization}"
    );
    let config_text = written.to_string();
    for value in [
        "ghp_importedTOKEN123",
        "BSAimportedKEY456",
        "importedPW789",
        "lin_importedAUTH",
    ] {
        assert!(
            !config_text.contains(value) && !said.contains(value),
            "{value} leaked"
        );
    }
    // The keychain has them: the imported servers start with their secrets resolved.
    let _serve = Serve::start(&env, &config, dir.path().join("serve.log"));
    let servers = wait_servers(&env, &config, "imported servers ready", |v| {
        ["github", "brave-search", "postgres"]
            .iter()
            .all(|n| server(v, n)["state"] == "ready")
    });
    assert_eq!(server(&servers, "linear")["state"], "disabled");
    let list = text(&lg(&env, &config, &["secret", "list"], None));
    assert!(
        list.contains("github.GITHUB_PERSONAL_ACCESS_TOKEN") && list.contains("set"),
        "{list}"
    );
}

/// A gateway started while the keychain is locked mints no new token (every installed client
/// would get 401): it answers 503 until the keychain is unlocked, then works with the same
/// token; a server whose secret could not be read then starts by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_keychain_keeps_the_token_and_servers_start_once_unlocked() {
    let kr = PrivateKeyring::start();
    let env = kr.env();
    let dir = tempfile::tempdir().unwrap();
    let port = crate::common::free_port();
    let mut uses_secret = crate::common::memory_stdio();
    uses_secret["env"] = json!({"K": "${secret:locked.K}"});
    let config = write_config(dir.path(), port, json!({ "memory": uses_secret }));
    assert!(
        lg(&env, &config, &["secret", "set", "locked.K"], Some("v4lue"))
            .status
            .success()
    );
    let mut serve = Serve::start(&env, &config, dir.path().join("first.log"));
    wait_servers(&env, &config, "memory ready", |v| {
        server(v, "memory")["state"] == "ready"
    });
    let token = text(&lg(&env, &config, &["token"], None))
        .trim()
        .to_string();
    assert_eq!(token.len(), 64);
    serve.stop();

    kr.lock();
    let serve = Serve::start(&env, &config, dir.path().join("locked.log"));
    crate::common::wait_port(port);
    let http = reqwest::Client::new();
    let servers = |bearer: String| {
        let http = http.clone();
        async move {
            http.get(format!("http://127.0.0.1:{port}/api/servers"))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap()
        }
    };
    let locked = servers(token.clone()).await;
    assert_eq!(locked.status(), 503, "{}", serve.output());
    let said = locked.text().await.unwrap();
    assert!(said.contains("keychain is locked"), "{said}");
    assert!(
        !dir.path().join("token").exists(),
        "no new token was minted into a file"
    );
    let cli = text(&lg(&env, &config, &["token"], None));
    assert!(!cli.contains("no token yet"), "{cli}");

    kr.unlock();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let r = servers(token.clone()).await;
        if r.status() == 200 {
            let list: Value = r.json().await.unwrap();
            if list[0]["state"] == "ready" {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not serving with the old token after the unlock:\n{}",
            serve.output()
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
