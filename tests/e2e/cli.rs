//! The `loopgate` binary as a user runs it: help, errors a user can act on, and a whole
//! serve → servers → tools → stop session with a real stdio server.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn loopgate(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loopgate"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["servers", "--help"],
        vec!["tools", "--help"],
        vec!["token", "--help"],
        vec!["auth", "--help"],
        vec!["auth", "login", "--help"],
        vec!["auth", "status", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_loopgate"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn malformed_config_is_reported_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\",}\n  }\n}\n",
    )
    .unwrap();
    let out = loopgate(&path, &["serve", "--port", "0"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("line 3") && err.contains(&path.display().to_string()),
        "{err}"
    );

    std::fs::write(
        &path,
        r#"{"mcpServers": {"remote": {"url": "ftp://example.com"}}}"#,
    )
    .unwrap();
    let err = stderr(&loopgate(&path, &["serve", "--port", "0"]));
    assert!(
        err.contains("mcpServers.remote.url") && err.contains("http://"),
        "{err}"
    );
}

#[test]
fn taken_port_and_missing_gateway_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    std::fs::write(
        &path,
        json!({"gateway": {"port": port}, "mcpServers": {}}).to_string(),
    )
    .unwrap();
    let out = loopgate(&path, &["serve"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{}",
        stderr(&out)
    );

    let err = stderr(&loopgate(&path, &["token"]));
    assert!(err.contains("loopgate serve"), "{err}");
    drop(taken);
    std::fs::write(dir.path().join("token"), "abc").unwrap();
    let out = loopgate(&path, &["servers"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no gateway is running"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn serve_lists_servers_and_tools_then_stops_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let port = crate::common::free_port();
    let config = json!({"gateway": {"port": port}, "mcpServers": {"memory": crate::common::memory_stdio(), "off": {"command": "true", "disabled": true}}});
    std::fs::write(&path, config.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loopgate"))
        .arg("--config")
        .arg(&path)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let servers = loop {
        let out = loopgate(&path, &["servers", "--json"]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            if v[0]["state"] == "ready" {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "not ready: {}", stderr(&out));
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(servers[1]["name"], "off");
    assert_eq!(servers[1]["state"], "disabled");
    let pid = servers[0]["pid"].as_u64().unwrap() as i32;

    let table = String::from_utf8(loopgate(&path, &["servers"]).stdout).unwrap();
    assert!(
        table.contains("memory") && table.contains("ready") && table.contains("disabled"),
        "{table}"
    );
    let tools = String::from_utf8(loopgate(&path, &["tools", "memory"]).stdout).unwrap();
    assert!(tools.contains("memory__read_graph"), "{tools}");
    let err = stderr(&loopgate(&path, &["tools", "nope"]));
    assert!(err.contains("no server named \"nope\""), "{err}");
    let token = String::from_utf8(loopgate(&path, &["token"]).stdout).unwrap();
    assert_eq!(token.trim().len(), 64);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert!(
        out.contains(&format!("http://127.0.0.1:{port}/mcp"))
            && out.contains(&format!("http://127.0.0.1:{port}/auth?nonce=")),
        "{out}"
    );
    // The banner names no long-lived credential (it ends up in terminals and logs).
    assert!(!out.contains(token.trim()), "{out}");
    // The stdio server was stopped with the gateway: no orphan.
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z"))
        .unwrap_or(false);
    assert!(!alive, "server process {pid} outlived the gateway");
}

/// `loopgate auth` without any gateway ever started: actionable errors for servers that cannot
/// sign in, and a status that needs no keychain when no server uses OAuth.
#[test]
fn auth_commands_explain_what_cannot_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        json!({"gateway": {"port": crate::common::free_port()}, "mcpServers": {
            "local": {"command": "true"},
            "static": {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer x"}},
            "off": {"url": "http://127.0.0.1:9/mcp", "auth": "none"}
        }})
        .to_string(),
    )
    .unwrap();
    let out = loopgate(&config, &["auth", "login", "local", "--show", "print"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is a local (stdio) server; only HTTP servers sign in"),
        "{}",
        stderr(&out)
    );
    for name in ["static", "off"] {
        let out = loopgate(&config, &["auth", "login", name, "--show", "print"]);
        assert!(
            stderr(&out).contains("does not use OAuth"),
            "{}",
            stderr(&out)
        );
    }
    let out = loopgate(&config, &["auth", "login", "nope"]);
    assert!(
        stderr(&out).contains("no server named \"nope\""),
        "{}",
        stderr(&out)
    );
    let out = loopgate(&config, &["auth", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No HTTP servers that may sign in"));
}
