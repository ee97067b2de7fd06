//! Real AI clients wired by `loopgate client install`, asked — without a model, without an
//! account — whether Loopgate is connected and which tools it has. The pinned CLIs come from
//! npm (`tests/clients/install.sh`): Claude Code, Gemini CLI, Qwen Code, opencode, Codex and
//! Copilot CLI. Each runs with its own scratch HOME, every proxy variable pointing at a closed
//! local port (NO_PROXY for 127.0.0.1 and localhost, so the only traffic that works is
//! loopback), and its telemetry and update checks off. Each is checked over Streamable HTTP
//! and through `loopgate connect` (stdio), then uninstalled, which must give back the file as
//! it was before. The clients run two at a time; a failure prints the client's output.
//!
//! What each client can tell without a model: Claude Code, Gemini, Qwen and opencode print a
//! per-server status (`mcp list`) but no tool names; Codex's `app-server` lists the tools and
//! calls one; Copilot's headless protocol lists the tools.

mod claude_backend;
mod rpc;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::common::cli::{lg, text, wait_servers, Serve};
use crate::common::*;
use rpc::{Framing, Rpc};
use serde_json::{json, Value};

/// `tests/clients`, installed once per test process.
fn clients_dir() -> PathBuf {
    static DONE: OnceLock<()> = OnceLock::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    DONE.get_or_init(|| {
        let ok = Command::new("bash")
            .arg(dir.join("install.sh"))
            .stdin(Stdio::null())
            .status()
            .expect("run tests/clients/install.sh")
            .success();
        assert!(ok, "tests/clients/install.sh failed; see its output above");
    });
    dir
}

fn bin(name: &str) -> PathBuf {
    clients_dir().join("node_modules/.bin").join(name)
}

/// The gateway every client is wired to: `loopgate serve` with server-everything.
struct Gateway {
    dir: tempfile::TempDir,
    serve: Serve,
    /// Installs and uninstalls share the gateway's token file: one at a time.
    lock: Mutex<()>,
    closed_port: u16,
}

impl Gateway {
    fn config(&self) -> PathBuf {
        self.dir.path().join("loopgate/config.json")
    }
    fn env(&self) -> Vec<(String, String)> {
        scratch_env(self.dir.path(), self.closed_port)
    }
}

/// HOME, XDG and no keychain (tokens in owner-only files), every proxy at a closed port,
/// loopback exempt.
fn scratch_env(home: &Path, closed_port: u16) -> Vec<(String, String)> {
    let proxy = format!("http://127.0.0.1:{closed_port}");
    let mut env = vec![
        ("HOME".to_string(), home.display().to_string()),
        (
            "XDG_CONFIG_HOME".into(),
            home.join(".config").display().to_string(),
        ),
        (
            "XDG_DATA_HOME".into(),
            home.join(".local/share").display().to_string(),
        ),
        (
            "XDG_CACHE_HOME".into(),
            home.join(".cache").display().to_string(),
        ),
        (
            "XDG_STATE_HOME".into(),
            home.join(".local/state").display().to_string(),
        ),
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}/no-bus", home.display()),
        ),
        ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
        ("no_proxy".into(), "127.0.0.1,localhost".into()),
        ("CI".into(), "true".into()),
        ("NO_COLOR".into(), "1".into()),
    ];
    for k in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        env.push((k.into(), proxy.clone()));
        env.push((k.to_lowercase(), proxy.clone()));
    }
    // Node 22 first: Qwen Code needs it; the others run on it too.
    let node22 = clients_dir().join("node_modules/node/bin");
    let path = std::env::var("PATH").unwrap_or_default();
    env.push(("PATH".into(), format!("{}:{path}", node22.display())));
    env
}

/// Each client's telemetry and update-check switches, and what else it needs to list servers.
fn client_env(id: &str, home: &Path) -> Vec<(String, String)> {
    let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
    match id {
        "claude-code" => vec![
            kv("DISABLE_TELEMETRY", "1"),
            kv("DISABLE_AUTOUPDATER", "1"),
            kv("DISABLE_ERROR_REPORTING", "1"),
            kv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
        ],
        "gemini" => {
            // Usage statistics and auto-update are settings only: a system settings file.
            let system = home.join("gemini-system-settings.json");
            std::fs::write(&system, r#"{"privacy": {"usageStatisticsEnabled": false}, "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false}}"#).unwrap();
            vec![
                kv("GEMINI_TELEMETRY_ENABLED", "false"),
                kv(
                    "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
                    &system.display().to_string(),
                ),
                // In an untrusted folder every server shows "Disabled" and stdio ones never run.
                kv("GEMINI_CLI_TRUST_WORKSPACE", "true"),
            ]
        }
        "qwen" => vec![
            kv("QWEN_TELEMETRY_ENABLED", "false"),
            kv("QWEN_USAGE_STATISTICS_ENABLED", "false"),
        ],
        "opencode" => vec![
            kv("OPENCODE_DISABLE_AUTOUPDATE", "1"),
            kv("OPENCODE_DISABLE_MODELS_FETCH", "1"),
            kv("OPENCODE_DISABLE_DEFAULT_PLUGINS", "1"),
            kv("OPENCODE_DISABLE_LSP_DOWNLOAD", "1"),
            kv("OPENCODE_DISABLE_SHARE", "1"),
        ],
        "copilot" => vec![kv("COPILOT_AUTO_UPDATE", "false")],
        _ => vec![],
    }
}

/// The client's config file as the user had it before Loopgate: comments (and trailing
/// commas where the client takes them) that must survive the install and the uninstall.
fn seed(id: &str) -> Option<(&'static str, &'static str)> {
    match id {
        "codex" => Some((
            ".codex/config.toml",
            "# my Codex settings\ncheck_for_update_on_startup = false # no update checks\n\n[analytics]\nenabled = false\n\n[feedback]\nenabled = false\n",
        )),
        "gemini" => Some((
            ".gemini/settings.json",
            "// my Gemini settings\n{\n  \"ui\": {\"theme\": \"Default\"} /* keep */\n}\n",
        )),
        "qwen" => Some((
            ".qwen/settings.json",
            // `$version` as Qwen Code writes it (it adds it to a file without one).
            "{\n  // my Qwen settings\n  \"general\": {\"enableAutoUpdate\": false},\n  \"$version\": 4\n}\n",
        )),
        "opencode" => Some((
            ".config/opencode/opencode.jsonc",
            "// my opencode settings\n{\n  \"$schema\": \"https://opencode.ai/config.json\",\n  \"autoupdate\": false,\n  \"share\": \"disabled\",\n}\n",
        )),
        _ => None,
    }
}

fn run(cmd: &mut Command, secs: u64) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let pid = child.id();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs));
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().unwrap();
    drop(killer);
    out
}

/// Asks the client whether Loopgate is connected; `Err(what it said)` when not.
fn ask(id: &str, home: &Path, env: &[(String, String)], transport: &str) -> Result<String, String> {
    let cmd = |program: &str| {
        let mut c = Command::new(bin(program));
        c.envs(env.iter().cloned()).current_dir(home);
        c
    };
    let listed = |out: Output, connected: &dyn Fn(&str) -> bool| {
        let t = text(&out);
        let line = t.lines().find(|l| l.contains("loopgate")).unwrap_or("");
        if connected(line) || (id == "opencode" && connected(&t)) {
            Ok(t)
        } else {
            Err(format!("exit {:?}\n{t}", out.status.code()))
        }
    };
    match id {
        "claude-code" => listed(run(cmd("claude").args(["mcp", "list"]), 120), &|l| {
            l.contains("✔ Connected")
        }),
        "gemini" => listed(run(cmd("gemini").args(["mcp", "list"]), 120), &|l| {
            l.contains("✓") && l.contains("Connected")
        }),
        "qwen" => listed(run(cmd("qwen").args(["mcp", "list"]), 120), &|l| {
            l.contains("✓") && l.contains("Connected")
        }),
        "opencode" => listed(run(cmd("opencode").args(["mcp", "list"]), 120), &|t| {
            t.lines()
                .any(|l| l.contains("loopgate") && l.contains("connected") && !l.contains("failed"))
        }),
        "codex" => codex(home, env, transport),
        "copilot" => copilot(home, env),
        _ => unreachable!(),
    }
}

/// Codex's app-server: the tools Loopgate offers, and a call of one.
fn codex(home: &Path, env: &[(String, String)], transport: &str) -> Result<String, String> {
    let mut cmd = Command::new(bin("codex"));
    cmd.args([
        "app-server",
        "-c",
        "check_for_update_on_startup=false",
        "-c",
        "analytics.enabled=false",
        "-c",
        "feedback.enabled=false",
    ])
    .envs(env.iter().cloned())
    .current_dir(home);
    let mut c = Rpc::start(
        cmd,
        Framing::Lines,
        home.join(format!("codex-{transport}.err")),
    );
    let init = json!({"method": "initialize", "params": {"clientInfo": {"name": "loopgate_e2e", "title": "Loopgate e2e", "version": "1"}, "capabilities": null}});
    c.call(0, init, 60).ok_or_else(|| c.story())?;
    c.send(json!({"method": "initialized"}));
    let status = c
        .call(
            1,
            json!({"method": "mcpServerStatus/list", "params": {"detail": "toolsAndAuthOnly"}}),
            120,
        )
        .ok_or_else(|| c.story())?;
    let servers = status["result"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lg = servers
        .iter()
        .find(|s| s["name"] == "loopgate")
        .ok_or_else(|| c.story())?;
    let tools: Vec<&String> = lg["tools"]
        .as_object()
        .map(|t| t.keys().collect())
        .unwrap_or_default();
    if !lg["toolsError"].is_null() || !tools.iter().any(|t| *t == "everything__echo") {
        return Err(format!("loopgate: {lg}\n{}", c.story()));
    }
    let thread = c
        .call(
            2,
            json!({"method": "thread/start", "params": {"ephemeral": true}}),
            60,
        )
        .ok_or_else(|| c.story())?;
    let tid = thread["result"]["thread"]["id"].clone();
    let call = json!({"method": "mcpServer/tool/call", "params": {"threadId": tid, "server": "loopgate", "tool": "everything__echo", "arguments": {"message": format!("codex via {transport}")}}});
    let answer = c.call(3, call, 60).ok_or_else(|| c.story())?;
    let said = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("");
    if !said.contains(&format!("codex via {transport}")) {
        return Err(format!("tool call answered {answer}\n{}", c.story()));
    }
    Ok(format!(
        "{} tools; everything__echo answered {said:?}",
        tools.len()
    ))
}

/// Copilot CLI's headless protocol: the server's status and its tools.
fn copilot(home: &Path, env: &[(String, String)]) -> Result<String, String> {
    let mut cmd = Command::new(bin("copilot"));
    cmd.args([
        "--headless",
        "--stdio",
        "--no-auto-update",
        "--no-auto-login",
        "--disable-client-telemetry",
        "--log-level",
        "error",
    ])
    .envs(env.iter().cloned())
    .current_dir(home);
    let mut c = Rpc::start(cmd, Framing::ContentLength, home.join("copilot.err"));
    let rpc =
        |method: &str, params: Value| json!({"jsonrpc": "2.0", "method": method, "params": params});
    c.call(0, rpc("connect", json!({})), 60)
        .ok_or_else(|| c.story())?;
    let sid = format!("loopgate-e2e-{}", std::process::id());
    let create = rpc(
        "session.create",
        json!({"sessionId": sid, "workingDirectory": home, "requestPermission": false}),
    );
    c.call(1, create, 60).ok_or_else(|| c.story())?;
    let list = c
        .call(2, rpc("session.mcp.list", json!({"sessionId": sid})), 120)
        .ok_or_else(|| c.story())?;
    let servers = list["result"]["servers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lg = servers.iter().find(|s| s["name"] == "loopgate");
    if lg.is_none_or(|s| s["status"] != "connected") {
        return Err(format!("servers: {servers:?}\n{}", c.story()));
    }
    let tools = c
        .call(
            3,
            rpc(
                "session.mcp.listTools",
                json!({"sessionId": sid, "serverName": "loopgate"}),
            ),
            60,
        )
        .ok_or_else(|| c.story())?;
    let names: Vec<String> = tools["result"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(String::from))
        .collect();
    if !names.iter().any(|n| n.contains("everything__echo")) {
        return Err(format!("tools: {tools}\n{}", c.story()));
    }
    let _ = c.call(4, rpc("session.detach", json!({"sessionId": sid})), 10);
    let _ = c.call(5, rpc("runtime.shutdown", json!({})), 10);
    Ok(format!("connected, {} tools", names.len()))
}

/// Installs Loopgate into `id` over `transport`, asks the client, uninstalls; returns what
/// failed.
fn wire_and_ask(gw: &Gateway, id: &str, home: &Path, transports: &[&str]) -> Vec<String> {
    let mut env = scratch_env(home, gw.closed_port);
    env.extend(client_env(id, home));
    let client = loopgate::clients::find(id).unwrap();
    let file = |env: &[(String, String)]| {
        let out = lg(env, &gw.config(), &["client", "list"], None);
        let row = text(&out)
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
            .to_string();
        PathBuf::from(row.split_whitespace().last().unwrap_or_default())
    };
    if let Some((rel, content)) = seed(id) {
        let seeded = home.join(rel);
        std::fs::create_dir_all(seeded.parent().unwrap()).unwrap();
        std::fs::write(&seeded, content).unwrap();
    }
    let path = file(&env);
    if let Some((rel, _)) = seed(id) {
        assert_eq!(path, home.join(rel), "{id}: Loopgate's idea of its file");
    }
    let mut failures = vec![];
    for transport in transports {
        let before = std::fs::read(&path).ok();
        let mut args = vec!["client", "install", id];
        if *transport == "stdio" {
            args.push("--stdio");
        }
        let out = {
            let _one = gw.lock.lock().unwrap();
            lg(&env, &gw.config(), &args, None)
        };
        assert!(out.status.success(), "{id}: install: {}", text(&out));
        match ask(id, home, &env, transport) {
            Ok(said) => eprintln!(
                "real client {id} over {transport}: connected — {}",
                said.lines()
                    .find(|l| l.contains("loopgate"))
                    .unwrap_or(&said)
            ),
            Err(e) => failures.push(format!(
                "{} ({id}) over {transport}: not connected:\n{e}",
                client.name
            )),
        }
        let out = {
            let _one = gw.lock.lock().unwrap();
            lg(&env, &gw.config(), &["client", "uninstall", id], None)
        };
        assert!(out.status.success(), "{id}: uninstall: {}", text(&out));
        let after = std::fs::read(&path).ok();
        let untouched_by_client = seed(id).is_some();
        if untouched_by_client && after != before {
            failures.push(format!(
                "{id} over {transport}: uninstall did not restore the file:\nbefore:\n{}\nafter:\n{}",
                String::from_utf8_lossy(before.as_deref().unwrap_or_default()),
                String::from_utf8_lossy(after.as_deref().unwrap_or_default())
            ));
        }
        let text_after = String::from_utf8_lossy(after.as_deref().unwrap_or_default()).into_owned();
        if text_after.contains("\"loopgate\"") || text_after.contains("mcp_servers.loopgate") {
            failures.push(format!(
                "{id}: loopgate still in {} after uninstall",
                path.display()
            ));
        }
    }
    failures
}

#[test]
fn real_clients_connect_over_http_and_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("loopgate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let port = free_port();
    std::fs::write(
        &config,
        json!({"gateway": {"port": port}, "mcpServers": {"everything": everything_stdio()}})
            .to_string(),
    )
    .unwrap();
    let closed_port = free_port();
    let log = dir.path().join("serve.log");
    let serve = Serve::start(&scratch_env(dir.path(), closed_port), &config, log);
    let gw = Gateway {
        dir,
        serve,
        lock: Mutex::new(()),
        closed_port,
    };
    clients_dir();
    wait_servers(&gw.env(), &gw.config(), "everything ready", |v| {
        v.as_array().is_some_and(|a| {
            a.iter()
                .any(|s| s["name"] == "everything" && s["state"] == "ready")
        })
    });
    let cases: &[(&str, &[&str])] = &[
        ("claude-code", &["http", "stdio"]),
        ("gemini", &["http", "stdio"]),
        ("qwen", &["http", "stdio"]),
        ("opencode", &["http", "stdio"]),
        ("codex", &["http", "stdio"]),
        ("copilot", &["http", "stdio"]),
    ];
    // Two clients at a time: fast enough, and the other e2e tests running beside this one on a
    // 2-core machine keep their timing (six Node clients at once starved them).
    let mut failures: Vec<String> = vec![];
    for pair in cases.chunks(2) {
        failures.extend(std::thread::scope(|s| {
            let gw = &gw;
            let handles: Vec<_> = pair
                .iter()
                .map(|(id, transports)| {
                    s.spawn(move || {
                        let home = tempfile::tempdir().unwrap();
                        wire_and_ask(gw, id, home.path(), transports)
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }));
    }
    assert!(
        failures.is_empty(),
        "{}\n\ngateway log (tail):\n{}",
        failures.join("\n\n"),
        gw.serve
            .output()
            .lines()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
