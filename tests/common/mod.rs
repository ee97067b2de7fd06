//! Shared helpers for the end-to-end tests: real peers (installed by `tests/peers/install.sh`
//! on first use), background processes that die with the test, an in-process gateway, and
//! running the official SDK clients.
#![allow(dead_code)]

pub mod cli;
pub mod forwarder;
pub mod keyring;
pub mod mock;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use loopgate::app::{self, Running};
use loopgate::secrets::{MemoryBackend, SecretStore};
use serde_json::Value;

/// `tests/peers` in the source tree.
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Installs the real peers (npm + PyPI, pinned) once per test process; the script itself is
/// idempotent and locked, so parallel test binaries are safe.
pub fn ensure_peers() -> PathBuf {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let status = Command::new("bash")
            .arg(peers_dir().join("install.sh"))
            .stdin(Stdio::null())
            .status()
            .expect("run tests/peers/install.sh");
        assert!(
            status.success(),
            "tests/peers/install.sh failed; see its output above"
        );
    });
    peers_dir()
}

/// The venv Python with the `mcp` SDK.
pub fn python() -> PathBuf {
    ensure_peers().join("venv/bin/python")
}

/// A free TCP port on 127.0.0.1 for a peer that binds it itself: one no `bind(0)` or outgoing
/// connection on this machine can be given meanwhile, and not one handed out before in this
/// test process (until all 12,000 have been).
///
/// The peer binds the port a moment after it was found free. A port found with `bind(0)`
/// comes from the kernel's ephemeral range, from which the kernel may hand it to the next
/// `bind(0)` (a gateway, a mock server) in that moment: two tests side by side got one port,
/// one test's Python server failed to bind it ("address already in use"), and its gateway
/// talked to the other test's server until that test ended. So the ports come from the 12,000
/// below the ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`, 32768 by default),
/// in turn from an offset of this process's own, each checked free by binding it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static TURN: AtomicU32 = AtomicU32::new(0);
    let ephemeral_from: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let span = ephemeral_from.saturating_sub(1024).clamp(1, 12_000);
    let offset = std::process::id().wrapping_mul(7919);
    for _ in 0..span {
        let turn = TURN.fetch_add(1, Ordering::Relaxed);
        let port = (ephemeral_from - span + offset.wrapping_add(turn) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below the ephemeral range ({ephemeral_from})");
}

/// Waits until something listens on 127.0.0.1:`port` (panics after 30 s).
pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listens on port {port} after 30 s");
}

/// A background process killed (with its process group) when dropped.
pub struct Bg(pub Child);

impl Drop for Bg {
    fn drop(&mut self) {
        let pid = self.0.id() as i32;
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program args` in `tests/peers` with `env`, in its own process group.
pub fn spawn_bg(program: &Path, args: &[&str], env: &[(&str, String)]) -> Bg {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(peers_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Bg(cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display())))
}

/// A raw request to the MCP endpoint `url` with `token` and `method`, as a Streamable HTTP
/// client sends it: a JSON body, `Accept` of both answer kinds (JSON and an event stream),
/// and `Mcp-Session-Id: session` when given. The caller adds the body and sends it.
pub fn mcp_request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    session: Option<&str>,
) -> reqwest::RequestBuilder {
    let r = http
        .request(method, url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    match session {
        Some(id) => r.header("mcp-session-id", id),
        None => r,
    }
}

/// Starts the Python peer `script` (a file in `tests/peers`) on a free port, given to it as
/// `PORT` besides `env`, and waits until the port accepts connections (at most 30 s); returns
/// the process and the port.
pub fn python_peer(script: &str, env: &[(&str, String)]) -> (Bg, u16) {
    let port = free_port();
    let mut env = env.to_vec();
    env.push(("PORT", port.to_string()));
    let path = ensure_peers().join(script);
    let bg = spawn_bg(&python(), &[path.to_str().unwrap()], &env);
    wait_port(port);
    (bg, port)
}

/// Starts the Python SDK server (`mode` = stateful | stateless) on a free port; returns the
/// process and its URL.
pub fn python_http_server(mode: &str) -> (Bg, String) {
    let (bg, port) = python_peer("py-server.py", &[("MODE", mode.into())]);
    (bg, format!("http://127.0.0.1:{port}/mcp"))
}

/// Starts the TS SDK v2 server (2026-07-28) on a free port; returns the process and its URL.
pub fn ts_v2_server() -> (Bg, String) {
    let dir = ensure_peers();
    let port = free_port();
    let bg = spawn_bg(
        Path::new("node"),
        &[dir.join("ts-v2-server.mjs").to_str().unwrap()],
        &[("PORT", port.to_string())],
    );
    wait_port(port);
    (bg, format!("http://127.0.0.1:{port}/mcp"))
}

/// The stdio command of a real npm server: `(command, args)`.
pub fn npm_stdio(package_main: &str, args: &[&str]) -> Value {
    let main = ensure_peers().join("node_modules").join(package_main);
    let mut all = vec![Value::from(main.to_str().unwrap())];
    all.extend(args.iter().map(|a| Value::from(*a)));
    serde_json::json!({ "command": "node", "args": all })
}

/// server-everything over stdio.
pub fn everything_stdio() -> Value {
    npm_stdio(
        "@modelcontextprotocol/server-everything/dist/index.js",
        &["stdio"],
    )
}

/// server-everything over Streamable HTTP on a free port (stateful sessions, resumable
/// streams): the process and the server's config entry with `extra` fields merged in.
pub fn everything_http(extra: Value) -> (Bg, Value) {
    let port = free_port();
    let main =
        ensure_peers().join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let bg = spawn_bg(
        Path::new("node"),
        &[main.to_str().unwrap(), "streamableHttp"],
        &[("PORT", port.to_string())],
    );
    wait_port(port);
    let mut entry = serde_json::json!({ "url": format!("http://127.0.0.1:{port}/mcp") });
    if let (Some(e), Some(x)) = (entry.as_object_mut(), extra.as_object()) {
        e.extend(x.clone());
    }
    (bg, entry)
}

/// server-memory over stdio.
pub fn memory_stdio() -> Value {
    npm_stdio("@modelcontextprotocol/server-memory/dist/index.js", &[])
}

/// An in-process gateway on a free port with `servers` as `mcpServers`; the temp dir holds
/// its config and token.
pub struct Gw {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub url: String,
    pub token: String,
}

impl Gw {
    /// Writes a config with `servers` and starts the gateway.
    pub async fn start(servers: Value) -> Gw {
        Self::start_with(serde_json::json!({ "mcpServers": servers })).await
    }

    /// Writes `config` (port forced to 0) and starts the gateway.
    pub async fn start_with(mut config: Value) -> Gw {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        config
            .as_object_mut()
            .unwrap()
            .entry("gateway")
            .or_insert(serde_json::json!({}))["port"] = 0.into();
        std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
        Self::open(dir).await
    }

    /// Starts a gateway on the config already in `dir` (`config.json`).
    async fn open(dir: tempfile::TempDir) -> Gw {
        let path = dir.path().join("config.json");
        let running = app::start(app::Options {
            config_path: path,
            port: None,
            // In-process gateways never touch the developer's real keychain.
            secrets: Some(SecretStore::with_backend(
                Arc::new(MemoryBackend::default()),
            )),
            sign_in: loopgate::oauth::Presenter::Log,
        })
        .await
        .expect("gateway starts");
        let url = running.mcp_url();
        let token = running
            .token()
            .expect("the in-memory keychain has the token");
        Gw {
            running: Some(running),
            dir,
            url,
            token,
        }
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    /// Waits until every server is `ready` (panics with the statuses after `secs`).
    pub async fn wait_ready(&self, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let snap = self.running().gateway.supervisor().snapshot();
            if snap
                .values()
                .all(|v| v.status.state == loopgate::upstream::ServerState::Ready)
            {
                // Let the registry rebuild catch up.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return;
            }
            if Instant::now() > deadline {
                let statuses: Vec<_> = snap.values().map(|v| &v.status).collect();
                panic!(
                    "servers not ready after {secs} s: {}",
                    serde_json::to_string_pretty(&statuses).unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls `done` every 100 ms until it holds; panics after `secs` with `what` and the
    /// statuses of all servers.
    pub async fn wait_until(&self, what: &str, secs: u64, mut done: impl FnMut(&Gw) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            if Instant::now() > deadline {
                let snap = self.running().gateway.supervisor().snapshot();
                let statuses: Vec<_> = snap.values().map(|v| &v.status).collect();
                panic!(
                    "{what} (after {secs} s): {}",
                    serde_json::to_string_pretty(&statuses).unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The status of server `name` as JSON.
    pub fn status(&self, name: &str) -> Value {
        let snap = self.running().gateway.supervisor().snapshot();
        serde_json::to_value(&snap.get(name).expect("server exists").status).unwrap()
    }

    /// Stops the gateway and starts a new one on the same config file (a fresh in-memory
    /// keychain, so a new token).
    pub async fn restart(mut self) -> Gw {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        Self::open(std::mem::replace(
            &mut self.dir,
            tempfile::tempdir().unwrap(),
        ))
        .await
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// What an SDK client script printed.
#[derive(Debug)]
pub struct ClientRun {
    pub protocol: String,
    pub tools: Vec<String>,
    pub calls: Vec<Value>,
    pub raw: Value,
}

/// Runs one official SDK client script (`ts-v1-client.mjs`, `ts-v2-client.mjs`,
/// `py-client.py`) with `era` against `url`, authenticating with `token`.
pub async fn run_client(
    script: &str,
    era: &str,
    url: &str,
    token: &str,
    plan: Value,
) -> Result<ClientRun, String> {
    let auth = [("MCP_AUTH".to_string(), format!("Bearer {token}"))];
    run_client_with(script, era, url, &auth, plan).await
}

/// Like [`run_client`], with any `target` the script accepts (a URL or a stdio command line)
/// and extra environment `env`; at most 90 s.
pub async fn run_client_with(
    script: &str,
    era: &str,
    target: &str,
    env: &[(String, String)],
    plan: Value,
) -> Result<ClientRun, String> {
    let dir = ensure_peers();
    let program = if script.ends_with(".py") {
        python()
    } else {
        PathBuf::from("node")
    };
    let out = tokio::process::Command::new(program)
        .arg(dir.join(script))
        .arg(target)
        .arg(plan.to_string())
        .env("ERA", era)
        .envs(env.iter().cloned())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), out)
        .await
        .map_err(|_| format!("{script} {era}: timed out"))?
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| {
            format!(
                "{script} {era}: no RESULT line\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let raw: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    Ok(ClientRun {
        protocol: raw["protocol"].as_str().unwrap_or_default().to_string(),
        tools: raw["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect(),
        calls: raw["calls"].as_array().cloned().unwrap_or_default(),
        raw,
    })
}

/// Resident memory of this test process, in MiB (from /proc/self/status).
pub fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

/// Names of every tool `peer` lists (all pages), as a client sees them.
pub async fn tool_names(peer: &rmcp::Peer<rmcp::RoleClient>) -> Vec<String> {
    peer.list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

/// A plain MCP client (rmcp, the official Rust SDK) on `url` with `token`, initialize-based.
pub async fn mcp_client(
    url: &str,
    token: &str,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url);
    cfg.auth_header = Some(token.to_string());
    ().serve_with_lifecycle(
        rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
        ClientLifecycleMode::Initialize,
    )
    .await
    .expect("MCP client connects")
}
