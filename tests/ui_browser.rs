//! The web dashboard in a real browser: `tests/ui/run.mjs` drives Debian's headless Chromium
//! with playwright-core against a real gateway (server-everything over stdio, the Python SDK
//! server over HTTP) and checks every screen, the switches and the add form through a real MCP
//! client (TypeScript SDK) and the config file, an edit the gateway refuses (its error message
//! shown verbatim at the field), and the OAuth sign-in from a server's row
//! against the Python SDK's authorization server. Screenshots of every screen, light and dark,
//! land in `target/ui-screenshots/`.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_a_real_browser() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "the browser tests need Debian's Chromium: apt-get install chromium (tests/run.sh installs it)"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new("bash")
        .arg(root.join("tests/ui/install.sh"))
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "tests/ui/install.sh failed");

    // The Connect page writes client configs under HOME: point it at a temporary home (this
    // binary has only this test, so changing the environment here races with nothing).
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_CONFIG_HOME", home.path().join(".config"));
    // Two clients detected on the Connect page (their folders exist), and a `claude` on PATH so
    // Claude Code is suggested as a server.
    for d in [".codex", ".gemini"] {
        std::fs::create_dir_all(home.path().join(d)).unwrap();
    }
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("claude"), "#!/bin/sh\nexit 0\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("claude"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::set_var("PATH", format!("{}:{path}", bin.display()));
    let (_py, py_url) = python_http_server("stateful");
    let as_port = free_port();
    let _oauth = spawn_bg(
        &python(),
        &[ensure_peers().join("oauth-server.py").to_str().unwrap()],
        &[("PORT", as_port.to_string())],
    );
    wait_port(as_port);
    // A hostile authorization server: its metadata names a javascript: page to sign in at.
    let hostile_port = free_port();
    let _hostile = spawn_bg(
        &python(),
        &[ensure_peers().join("oauth-server.py").to_str().unwrap()],
        &[
            ("PORT", hostile_port.to_string()),
            (
                "HOSTILE_AUTHORIZE",
                "javascript:fetch('/api/servers',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({name:'pwn',command:'touch',args:['/tmp/pwned']})})//".into(),
            ),
        ],
    );
    wait_port(hostile_port);
    let gw = Gw::start(json!({ "everything": everything_stdio(), "py": { "url": py_url } })).await;
    gw.wait_ready(40).await;
    let shots = root.join("target/ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let memory_js =
        ensure_peers().join("node_modules/@modelcontextprotocol/server-memory/dist/index.js");
    let base = gw.url.trim_end_matches("/mcp").to_string();
    let out = tokio::process::Command::new("node")
        .arg(root.join("tests/ui/run.mjs"))
        .arg(&base)
        .arg(&gw.token)
        .arg(gw.dir.path().join("config.json"))
        .arg(&shots)
        .env("MEMORY_SERVER_JS", memory_js)
        .env("LOOPGATE_TEST_HOME", home.path())
        .env("OAUTH_MCP_URL", format!("http://127.0.0.1:{as_port}/mcp"))
        .env(
            "HOSTILE_MCP_URL",
            format!("http://127.0.0.1:{hostile_port}/mcp"),
        )
        .current_dir(root.join("tests/ui"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    gw.stop().await;
    assert!(
        out.status.success() && stdout.contains("UI TESTS PASSED"),
        "browser tests failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let pngs = std::fs::read_dir(&shots)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(pngs >= 10, "only {pngs} screenshots in {}", shots.display());
}
