//! Wiring desktop AI clients, with the real `loopgate` binary and a temporary HOME holding
//! realistic client configs: install / re-install / uninstall for every client; real SDK
//! clients launching `loopgate connect` as a stdio server in both protocol eras (and seeing
//! `tools/list_changed`); importing a Claude Desktop config with three servers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::cli::{lg, text, Serve};
use crate::common::*;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient};
use serde_json::{json, Value};

/// A temporary home with client configs, and the env that points the binary at it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.path().display().to_string()),
            (
                "XDG_CONFIG_HOME".into(),
                self.path().join(".config").display().to_string(),
            ),
            // No keychain: tokens go to owner-only files inside this home.
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                format!("unix:path={}/no-bus", self.path().display()),
            ),
        ]
    }
    fn config(&self) -> PathBuf {
        self.path().join("loopgate/config.json")
    }
    fn lg(&self, args: &[&str]) -> Output {
        lg(&self.env(), &self.config(), args, None)
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn write(p: &Path, v: &Value) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// `(client id, file relative to home, realistic content, servers key)`.
fn realistic() -> Vec<(&'static str, &'static str, Value, &'static str)> {
    vec![
        (
            "claude-desktop",
            ".config/Claude/claude_desktop_config.json",
            json!({"mcpServers": {"filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me"]}}, "globalShortcut": "Ctrl+Space", "preferences": {"menuBarEnabled": true}}),
            "mcpServers",
        ),
        (
            "claude-code",
            ".claude.json",
            json!({"numStartups": 12, "theme": "dark", "mcpServers": {"sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"}}, "projects": {"/home/me/app": {"allowedTools": []}}}),
            "mcpServers",
        ),
        (
            "cursor",
            ".cursor/mcp.json",
            json!({"mcpServers": {"linear": {"url": "https://mcp.linear.app/mcp"}}}),
            "mcpServers",
        ),
        (
            "vscode",
            ".config/Code/User/mcp.json",
            json!({"servers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}}, "inputs": [{"id": "token", "type": "promptString"}]}),
            "servers",
        ),
        (
            "windsurf",
            ".codeium/windsurf/mcp_config.json",
            json!({"mcpServers": {"brave": {"command": "npx", "args": ["-y", "brave"], "env": {"X": "1"}}}}),
            "mcpServers",
        ),
    ]
}

#[test]
fn install_reinstall_uninstall_every_client() {
    let home = Home::new();
    write(
        &home.config(),
        &json!({"gateway": {"port": 7399}, "mcpServers": {}}),
    );
    for (id, rel, original, key) in realistic() {
        let file = home.path().join(rel);
        write(&file, &original);
        let out = home.lg(&["client", "install", id]);
        assert!(out.status.success(), "{id}: {}", text(&out));
        let installed = read_json(&file);
        let entry = &installed[key]["loopgate"];
        match id {
            "claude-desktop" => {
                assert!(
                    entry["command"].as_str().unwrap().ends_with("loopgate"),
                    "{entry}"
                );
                assert_eq!(entry["args"][0], "connect");
            }
            "windsurf" => assert_eq!(entry["serverUrl"], "http://127.0.0.1:7399/mcp"),
            _ => {
                assert_eq!(entry["url"], "http://127.0.0.1:7399/mcp");
                assert!(entry["headers"]["Authorization"]
                    .as_str()
                    .unwrap()
                    .starts_with("Bearer "));
            }
        }
        if id == "claude-code" || id == "vscode" {
            assert_eq!(entry["type"], "http");
        }
        // Every prior key is intact.
        for (k, v) in original.as_object().unwrap() {
            if k == key {
                for (name, server) in v.as_object().unwrap() {
                    assert_eq!(&installed[key][name], server, "{id}: {name} changed");
                }
            } else {
                assert_eq!(&installed[k], v, "{id}: {k} changed");
            }
        }
        let backups: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .contains(".loopgate-backup-")
            })
            .collect();
        assert_eq!(backups.len(), 1, "{id}: one backup");
        assert_eq!(
            read_json(&backups[0].path()),
            original,
            "{id}: the backup is the original"
        );

        // Idempotent: installing again changes nothing.
        let before = std::fs::read(&file).unwrap();
        let out = home.lg(&["client", "install", id]);
        assert!(
            out.status.success() && text(&out).contains("nothing written"),
            "{id}: {}",
            text(&out)
        );
        assert_eq!(std::fs::read(&file).unwrap(), before);

        let list = text(&home.lg(&["client", "list"]));
        let row = list.lines().find(|l| l.starts_with(id)).unwrap();
        assert!(row.contains("yes"), "{row}");

        // Uninstall restores the original content model.
        let out = home.lg(&["client", "uninstall", id]);
        assert!(out.status.success(), "{id}: {}", text(&out));
        assert_eq!(
            read_json(&file),
            original,
            "{id}: uninstall did not restore the original"
        );
    }
    // Each HTTP client had its own token, and uninstall revoked it.
    let tokens: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("loopgate/client-tokens.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(tokens, json!({}), "revoked on uninstall");
    let out = home.lg(&["client", "install", "nope"]);
    assert!(!out.status.success() && text(&out).contains("known clients"));
}

fn serve(home: &Home) -> Serve {
    let child = Command::new(env!("CARGO_BIN_EXE_loopgate"))
        .arg("--config")
        .arg(home.config())
        .arg("serve")
        .envs(home.env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Serve::adopt(child)
}

fn wait_ready(home: &Home, names: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let out = home.lg(&["servers", "--json"]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let ready = names.iter().all(|n| {
                v.as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["name"] == *n && s["state"] == "ready")
            });
            if ready {
                return;
            }
        }
        assert!(Instant::now() < deadline, "not ready: {}", text(&out));
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[derive(Clone, Default)]
struct Changes(std::sync::Arc<std::sync::atomic::AtomicU32>);

impl ClientHandler for Changes {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("stdio-e2e", "0"),
        )
    }
    async fn on_tool_list_changed(&self, _c: NotificationContext<RoleClient>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_clients_reach_the_gateway_through_loopgate_connect() {
    let home = Home::new();
    let port = free_port();
    write(
        &home.config(),
        &json!({"gateway": {"port": port}, "mcpServers": {"everything": everything_stdio(), "memory": memory_stdio()}}),
    );

    // No gateway yet: a clear message on stderr and a non-zero exit.
    let out = home.lg(&["connect"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no Loopgate gateway is running"),
        "{}",
        text(&out)
    );

    let _gw = serve(&home);
    wait_ready(&home, &["everything", "memory"]);
    let target = format!(
        "{} --config {} connect",
        env!("CARGO_BIN_EXE_loopgate"),
        home.config().display()
    );
    let plan = json!({"calls": [{"name": "everything__echo", "arguments": {"message": "via stdio"}}, {"name": "memory__read_graph", "arguments": {}}]});
    for (script, era) in [
        ("ts-v2-client.mjs", "legacy"),
        ("ts-v2-client.mjs", "2026-07-28"),
        ("py-client.py", "legacy"),
        ("py-client.py", "2026-07-28"),
    ] {
        let result = run_client_with(script, era, &target, &home.env(), plan.clone())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .raw;
        assert!(
            result["tools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "memory__read_graph"),
            "{script} {era}: {result}"
        );
        assert!(
            result["calls"][0]["text"]
                .as_str()
                .unwrap()
                .contains("via stdio"),
            "{script} {era}: {result}"
        );
        assert_eq!(
            result["calls"][1]["isError"], false,
            "{script} {era}: {result}"
        );
        if era == "2026-07-28" {
            assert_eq!(result["protocol"], "2026-07-28");
        }
    }

    // list_changed reaches a stdio client when a server is disabled on the gateway.
    let changes = Changes::default();
    let seen = changes.0.clone();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_loopgate"));
    cmd.arg("--config")
        .arg(home.config())
        .arg("connect")
        .envs(home.env())
        .stderr(Stdio::null());
    let client = changes
        .serve_with_lifecycle(
            TokioChildProcess::new(cmd).unwrap(),
            ClientLifecycleMode::Initialize,
        )
        .await
        .unwrap();
    let before = client.peer().list_all_tools().await.unwrap();
    assert!(before.iter().any(|t| t.name == "memory__read_graph"));
    let out = tokio::task::spawn_blocking({
        let cfg = home.config();
        let env = home.env();
        move || {
            Command::new(env!("CARGO_BIN_EXE_loopgate"))
                .arg("--config")
                .arg(cfg)
                .arg("token")
                .envs(env)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let r = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/api/servers/memory/disable"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "no tools/list_changed over stdio"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = client.peer().list_all_tools().await.unwrap();
    assert!(
        after.iter().all(|t| !t.name.starts_with("memory__")),
        "memory tools still listed"
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_from_claude_desktop_runs_its_servers() {
    let home = Home::new();
    let port = free_port();
    write(
        &home.config(),
        &json!({"gateway": {"port": port}, "mcpServers": {}}),
    );
    let everything = everything_stdio();
    let memory = memory_stdio();
    let claude = home
        .path()
        .join(".config/Claude/claude_desktop_config.json");
    let original = json!({"mcpServers": {
        "everything": everything,
        "memory": memory,
        "py": {"command": python(), "args": [ensure_peers().join("py-server.py")], "env": {"MODE": "stdio"}}
    }, "globalShortcut": "Ctrl+Space"});
    write(&claude, &original);
    let _gw = serve(&home);
    wait_ready(&home, &[]);

    let out = home.lg(&["client", "import", "claude-desktop", "--replace"]);
    assert!(out.status.success(), "{}", text(&out));
    wait_ready(&home, &["everything", "memory", "py"]);
    let tools = text(&home.lg(&["tools"]));
    for t in ["everything__echo", "memory__read_graph", "py__add"] {
        assert!(tools.contains(t), "{t} missing: {tools}");
    }
    // Claude Desktop now has only Loopgate, and everything else it had.
    let after = read_json(&claude);
    assert_eq!(
        after["mcpServers"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["loopgate"]
    );
    assert_eq!(after["globalShortcut"], "Ctrl+Space");
    assert_eq!(after["mcpServers"]["loopgate"]["args"][0], "connect");
}
