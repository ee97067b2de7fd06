//! OAuth for remote servers, end to end.
//!
//! 1. The official conformance suite's client auth scenarios (`client --suite auth`,
//!    `@modelcontextprotocol/conformance` on Node 22) against `loopgate auth probe`, which
//!    connects exactly as the gateway does (supervisor, sign-in hub, credential store) and plays
//!    the browser itself.
//! 2. A real authorization server — the official Python SDK's (`tests/peers/oauth-server.py`:
//!    its OAuth routes, PKCE and token checks, with an in-memory provider) — and the real
//!    `loopgate serve` on a private Secret Service: sign-in through the dashboard's URL, tokens
//!    in the keychain and nowhere on disk or in logs, transparent refresh (expiry and 401), and
//!    a revoked refresh token moving the server to `needs-sign-in` with exactly one new sign-in.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::cli::{lg, server, text, wait_servers, Serve};
use crate::common::keyring::PrivateKeyring;
use crate::common::*;
use rmcp::model::CallToolRequestParams;
use serde_json::{json, Value};

fn node22() -> Option<PathBuf> {
    if Command::new("node").arg("--version").output().is_err() {
        return None;
    }
    Some(ensure_peers().join("conformance/node_modules/node/bin/node"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_client_auth_scenarios_pass() {
    let Some(node) = node22() else {
        eprintln!("SKIPPED: Node.js is not installed, so the MCP conformance suite cannot run");
        return;
    };
    let suite = ensure_peers()
        .join("conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js");
    let out_dir = tempfile::tempdir().unwrap();
    // Loopgate has no hosted Client ID Metadata Document of its own; like the SDKs' conformance
    // clients it is given the suite's URL (users set `oauth.clientMetadataUrl`).
    let command = format!(
        "{} auth probe --client-metadata-url https://conformance-test.local/client-metadata.json",
        env!("CARGO_BIN_EXE_loopgate")
    );
    let output = tokio::process::Command::new(&node)
        .arg(&suite)
        .args(["client", "--suite", "auth", "--command", &command, "-o"])
        .arg(out_dir.path())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .split("=== SUITE SUMMARY ===")
        .nth(1)
        .unwrap_or_else(|| {
            panic!(
                "no suite summary:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    eprintln!("conformance client --suite auth:{summary}");
    let scenarios: Vec<&str> = summary.lines().filter(|l| l.contains("auth/")).collect();
    assert!(
        scenarios.len() >= 14,
        "expected the 14 auth scenarios:\n{summary}"
    );
    let failed: Vec<&&str> = scenarios.iter().filter(|l| !l.starts_with('✓')).collect();
    assert!(
        failed.is_empty(),
        "auth scenarios failed: {failed:#?}\n{summary}"
    );
    assert!(
        summary.contains("Total:") && summary.contains(" 0 failed, 0 warnings"),
        "{summary}"
    );

    // The scenarios of the 2026-07-28 revision and the 2025-03-26 back-compat ones, one by one
    // (the negative ones expect the sign-in to be refused, which the probe reports).
    for scenario in EXTRA_SCENARIOS {
        let out_dir = tempfile::tempdir().unwrap();
        let output = tokio::process::Command::new(&node)
            .arg(&suite)
            .args([
                "client",
                "--scenario",
                scenario,
                "--command",
                &command,
                "-o",
            ])
            .arg(out_dir.path())
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        // The one-scenario summary goes to stderr.
        let stdout = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with("Passed: "))
            .unwrap_or_else(|| panic!("{scenario}: no result line\n{stdout}"));
        eprintln!("{scenario}: {line}");
        assert!(
            line.contains(" 0 failed, 0 warnings"),
            "{scenario}: {line}\n{stdout}"
        );
    }
}

const EXTRA_SCENARIOS: &[&str] = &[
    "auth/resource-mismatch",
    "auth/offline-access-scope",
    "auth/offline-access-not-supported",
    "auth/authorization-server-migration",
    "auth/iss-supported",
    "auth/iss-not-advertised",
    "auth/iss-supported-missing",
    "auth/iss-wrong-issuer",
    "auth/iss-unexpected",
    "auth/iss-normalized",
    "auth/metadata-issuer-mismatch",
    "auth/2025-03-26-oauth-metadata-backcompat",
    "auth/2025-03-26-oauth-endpoint-fallback",
];

/// `loopgate auth login secure --show follow`: must succeed; returns its stdout.
fn login_follow(env: &[(String, String)], config: &Path) -> String {
    let login = lg(
        env,
        config,
        &["auth", "login", "secure", "--show", "follow"],
        None,
    );
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    String::from_utf8_lossy(&login.stdout).into_owned()
}

/// Polls the `secure` server's status until `done` holds (panics naming `what` after 40 s).
fn wait_secure(
    env: &[(String, String)],
    config: &Path,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let all = wait_servers(env, config, what, |v| done(server(v, "secure")));
    server(&all, "secure").clone()
}

async fn stats(base: &str) -> Value {
    reqwest::get(format!("{base}/test/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn echo(url: &str, token: &str, message: &str) -> Result<String, String> {
    let client = mcp_client(url, token).await;
    let mut params = CallToolRequestParams::new("secure__echo");
    params.arguments = json!({ "message": message }).as_object().cloned();
    let res = client.peer().call_tool(params).await;
    let _ = client.cancel().await;
    match res {
        Ok(r) if r.is_error != Some(true) => Ok(serde_json::to_string(&r.content).unwrap()),
        Ok(r) => Err(serde_json::to_string(&r.content).unwrap()),
        Err(e) => Err(e.to_string()),
    }
}

/// Plays the user's browser: opens the authorization URL and follows the redirects back to
/// Loopgate's loopback listener.
async fn browse(url: &str) {
    let page = reqwest::get(url).await.unwrap();
    assert!(page.status().is_success(), "browser got {}", page.status());
    let text = page.text().await.unwrap();
    assert!(text.contains("Signed in"), "unexpected page: {text}");
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_keychain_refresh_and_revocation() {
    let kr = PrivateKeyring::start();
    let env = kr.env();
    let (_auth_server, as_port) = python_peer("oauth-server.py", &[("ACCESS_TTL", "4".into())]);
    let base = format!("http://127.0.0.1:{as_port}");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("config.json");
    // No "auth" key: the server's 401 challenge alone starts OAuth.
    std::fs::write(
        &config,
        json!({"gateway": {"port": port}, "mcpServers": {"secure": {"url": format!("{base}/mcp")}}}).to_string(),
    )
    .unwrap();
    let log = dir.path().join("serve.log");
    let serve = Serve::start(&env, &config, log.clone());

    // 1. The 401 puts the server in "needs sign-in" with one sign-in started, URL shown.
    let status = wait_secure(&env, &config, "needs sign-in with a URL", |s| {
        s["state"] == "needs-sign-in" && s["signIn"]["url"].is_string()
    });
    assert_eq!(status["signIn"]["started"], 1);
    assert!(status["lastError"]
        .as_str()
        .unwrap()
        .contains("loopgate auth login secure"));
    let url = status["signIn"]["url"].as_str().unwrap().to_string();
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("resource="),
        "{url}"
    );
    browse(&url).await;
    let status = wait_secure(&env, &config, "ready after sign-in", |s| {
        s["state"] == "ready"
    });
    assert_eq!(status["signedIn"], true);
    assert_eq!(status["toolCount"], 2);
    let token_out = lg(&env, &config, &["token"], None);
    let token = String::from_utf8(token_out.stdout)
        .unwrap()
        .trim()
        .to_string();
    let mcp = format!("http://127.0.0.1:{port}/mcp");
    assert_eq!(
        echo(&mcp, &token, "one").await.unwrap(),
        r#"[{"type":"text","text":"echo: one"}]"#
    );
    let s = stats(&base).await;
    assert_eq!(
        (s["authorize"].as_u64(), s["token_code"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );

    // 2. The access token expires (4 s): the next call refreshes it transparently.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(echo(&mcp, &token, "two")
        .await
        .unwrap()
        .contains("echo: two"));
    let s = stats(&base).await;
    assert!(s["token_refresh"].as_u64().unwrap() >= 1, "no refresh: {s}");
    assert_eq!(
        s["authorize"], 1,
        "a refresh must not need the browser: {s}"
    );

    // 3. The server rejects a token Loopgate still thinks valid (401): refreshed and retried.
    let refreshes = s["token_refresh"].as_u64().unwrap();
    reqwest::Client::new()
        .post(format!("{base}/test/expire-access"))
        .send()
        .await
        .unwrap();
    assert!(echo(&mcp, &token, "three")
        .await
        .unwrap()
        .contains("echo: three"));
    let s = stats(&base).await;
    assert!(
        s["token_refresh"].as_u64().unwrap() > refreshes,
        "no refresh after 401: {s}"
    );
    assert_eq!(s["authorize"], 1, "{s}");

    // 4. Tokens live in the Secret Service: `auth status` reads them there (gateway and
    //    keychain), and no token is in any file, the config, the trace log or the API.
    let auth = lg(&env, &config, &["auth", "status", "--json"], None);
    assert!(
        auth.status.success(),
        "{}",
        String::from_utf8_lossy(&auth.stderr)
    );
    let auth: Value = serde_json::from_slice(&auth.stdout).unwrap();
    assert_eq!(auth[0]["signedIn"], true, "{auth:#}");
    assert_eq!(auth[0]["refreshable"], true, "{auth:#}");
    let issued: Vec<String> = reqwest::get(format!("{base}/test/tokens"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(issued.len() >= 4);
    let mut files = Vec::new();
    files_under(dir.path(), &mut files);
    files_under(kr.home.path(), &mut files);
    let api = text(&lg(&env, &config, &["servers", "--json"], None)) + &auth.to_string();
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for t in &issued {
            assert!(!text.contains(t.as_str()), "a token is in {}", f.display());
        }
    }
    for t in &issued {
        assert!(!api.contains(t.as_str()), "a token is in an API answer");
    }

    // 5. Revocation: the refresh is refused, the server needs sign-in, and exactly one more
    //    sign-in is started however often clients call.
    reqwest::Client::new()
        .post(format!("{base}/test/revoke"))
        .send()
        .await
        .unwrap();
    let err = echo(&mcp, &token, "four").await.unwrap_err();
    assert!(err.contains("sign in"), "{err}");
    let status = wait_secure(&env, &config, "needs sign-in after revocation", |s| {
        s["state"] == "needs-sign-in" && s["signIn"]["url"].is_string()
    });
    assert_eq!(status["signedIn"], false);
    for _ in 0..3 {
        let _ = echo(&mcp, &token, "again").await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = wait_secure(&env, &config, "still one pending sign-in", |s| {
        s["state"] == "needs-sign-in"
    });
    assert_eq!(status["signIn"]["started"], 2, "{status:#}");
    assert_eq!(status["signIn"]["pending"], true);
    let s = stats(&base).await;
    assert!(s["refresh_rejected"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(
        s["register"], 1,
        "the second sign-in reuses the client registered by the first: {s}"
    );
    // `auth login` while one is pending returns that one, not a second.
    assert!(login_follow(&env, &config).contains("Signed in to \"secure\""));
    let status = wait_secure(&env, &config, "ready again", |s| s["state"] == "ready");
    assert_eq!(status["signIn"]["started"], 2);
    assert!(echo(&mcp, &token, "five")
        .await
        .unwrap()
        .contains("echo: five"));
    let s = stats(&base).await;
    assert_eq!(s["authorize"], 2, "{s}");

    // 6. Sign-out deletes the tokens, revokes them at the authorization server (RFC 7009) and
    //    leaves the server waiting, with no new sign-in.
    let out = lg(&env, &config, &["auth", "logout", "secure"], None);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("deleted from the OS keychain and the authorization server revoked them"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let s = stats(&base).await;
    assert!(s["revoked"].as_u64().unwrap() >= 1, "nothing revoked: {s}");
    let status = wait_secure(&env, &config, "needs sign-in after logout", |s| {
        s["state"] == "needs-sign-in"
    });
    assert_eq!(status["signIn"]["pending"], false, "{status:#}");
    let log_text = std::fs::read_to_string(&log).unwrap();
    for t in &issued {
        assert!(
            !log_text.contains(t.as_str()),
            "a token is in the trace log"
        );
    }

    // 7. Without a running gateway, `auth login` runs the flow itself and `auth status` reads
    //    the keychain directly.
    drop(serve);
    assert!(login_follow(&env, &config).contains("refreshed automatically"));
    let auth = lg(&env, &config, &["auth", "status"], None);
    let table = String::from_utf8_lossy(&auth.stdout);
    assert!(
        table.contains("secure")
            && table.contains("signed in")
            && table.contains("refreshes automatically"),
        "{table}"
    );
    let s = stats(&base).await;
    assert_eq!(s["authorize"], 3, "{s}");
    assert_eq!(
        s["register"], 1,
        "sign-out keeps the client registration: {s}"
    );

    // 8. Removing the server deletes its keychain record at once and revokes its tokens in the
    //    background.
    let revoked = s["revoked"].as_u64().unwrap();
    let _serve = Serve::start(&env, &config, dir.path().join("serve2.log"));
    wait_secure(&env, &config, "ready with the standalone sign-in", |s| {
        s["state"] == "ready"
    });
    let token = text(&lg(&env, &config, &["token"], None))
        .trim()
        .to_string();
    let removed = reqwest::Client::new()
        .delete(format!("http://127.0.0.1:{port}/api/servers/secure"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while stats(&base).await["revoked"].as_u64().unwrap() == revoked {
        assert!(
            std::time::Instant::now() < deadline,
            "the removed server's tokens were not revoked"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let login = lg(&env, &config, &["auth", "login", "secure"], None);
    assert!(
        !login.status.success() && text(&login).contains("no server named"),
        "{}",
        text(&login)
    );
}
