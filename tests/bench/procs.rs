//! Processes the bench starts (gateways, backends, peer gateways) and what /proc says about
//! them: CPU seconds (utime + stime) and peak / current resident memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bench executable itself (it doubles as the test backend: `<exe> backend ...`).
pub fn self_exe() -> String {
    std::env::current_exe()
        .expect("current_exe")
        .to_string_lossy()
        .into_owned()
}

/// `target/release/loopgate`, built by `cargo bench` together with this bench.
pub fn loopgate_exe() -> &'static str {
    env!("CARGO_BIN_EXE_loopgate")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub fn wait_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// A process started by the bench, in its own process group. Dropping it sends SIGTERM,
/// waits up to 10 s, then SIGKILLs the whole group.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
}

impl Proc {
    /// Starts `program args` with `env`; stdout and stderr go to `log` (or nowhere).
    pub fn spawn(
        name: &str,
        program: &str,
        args: &[String],
        env: &[(&str, String)],
        cwd: Option<&Path>,
        log: Option<&Path>,
    ) -> Proc {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .process_group(0);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        match log {
            Some(path) => {
                let f = std::fs::File::create(path).expect("log file");
                cmd.stdout(f.try_clone().unwrap()).stderr(f);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({program}): {e}"));
        Proc {
            name: name.to_string(),
            child: Some(child),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// (VmHWM, VmRSS) in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        memory_kib(self.pid())
    }

    /// Panics with the log tail if the process has exited.
    pub fn assert_alive(&mut self, log: Option<&Path>) {
        if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
            let tail = log
                .and_then(|p| std::fs::read_to_string(p).ok())
                .map(|t| t.lines().rev().take(20).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default();
            panic!("{} exited early ({status}); log tail:\n{tail}", self.name);
        }
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL the group. Returns how long it took to exit.
    pub fn stop(&mut self, grace: Duration) -> Duration {
        let t = Instant::now();
        let Some(mut child) = self.child.take() else {
            return Duration::ZERO;
        };
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pgid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let elapsed = t.elapsed();
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        elapsed
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(10));
    }
}

pub fn clk_tck() -> f64 {
    static TCK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// utime + stime of `pid` in seconds (from /proc/<pid>/stat).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime = field 14, stime = field 15.
    let utime: f64 = fields
        .get(11)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    let stime: f64 = fields
        .get(12)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    (utime + stime) / clk_tck()
}

/// This process's own CPU seconds (the bench client).
pub fn self_cpu_seconds() -> f64 {
    cpu_seconds(std::process::id())
}

/// (VmHWM, VmRSS) of `pid` in KiB (from /proc/<pid>/status).
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A `loopgate serve` process with its temp dir (config, token file, log).
pub struct Gateway {
    pub proc: Proc,
    pub dir: tempfile::TempDir,
    /// The log lives outside the config folder: the gateway watches that folder for config
    /// edits, and its own log writes would wake the watcher.
    logs: tempfile::TempDir,
    pub port: u16,
    pub token: String,
    pub started: Instant,
}

impl Gateway {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    pub fn log(&self) -> PathBuf {
        self.logs.path().join("gateway.log")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.json")
    }

    /// Writes a config with `servers` as `mcpServers` on a free port and a fresh token file,
    /// then starts `loopgate serve` (returns at once; see [`Gateway::wait_listening`]).
    pub fn start(servers: Value) -> Gateway {
        Gateway::start_with(serde_json::json!({ "mcpServers": servers }))
    }

    /// Like [`Gateway::start`] with a whole config (`gateway.port` is set to a free port).
    pub fn start_with(mut config: Value) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        config
            .as_object_mut()
            .expect("a config object")
            .entry("gateway")
            .or_insert(serde_json::json!({}))["port"] = port.into();
        let path = dir.path().join("config.json");
        std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
        // The gateway reads this file (no keychain is reachable: DBUS points nowhere).
        let token = format!("bench{:032x}", rand::random::<u128>());
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(dir.path().join("token"))
                .unwrap();
            f.write_all(token.as_bytes()).unwrap();
        }
        let logs = tempfile::tempdir().unwrap();
        let log = logs.path().join("gateway.log");
        // Experiments only (see experiments/): e.g. a shim that sets TCP_NODELAY.
        let env: Vec<(&str, String)> = std::env::var("BENCH_GATEWAY_LD_PRELOAD")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| vec![("LD_PRELOAD", v)])
            .unwrap_or_default();
        let started = Instant::now();
        let proc = Proc::spawn(
            "loopgate",
            loopgate_exe(),
            &[
                "--config".into(),
                path.to_string_lossy().into_owned(),
                "serve".into(),
            ],
            &env,
            None,
            Some(&log),
        );
        Gateway {
            proc,
            dir,
            logs,
            port,
            token,
            started,
        }
    }

    /// Waits until the gateway accepts connections; panics with its log otherwise.
    pub fn wait_listening(&mut self) {
        if !wait_port(self.port, Duration::from_secs(20)) {
            let log = self.log();
            self.proc.assert_alive(Some(&log));
            panic!("loopgate did not listen on {} within 20 s", self.port);
        }
    }

    /// `loopgate --config PATH token`, as a user would read it.
    pub fn cli_token(&self) -> String {
        let out = Command::new(loopgate_exe())
            .arg("--config")
            .arg(self.config_path())
            .arg("token")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .expect("loopgate token");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// `tests/peers/venv/bin/python` (the Python `mcp` SDK, installed by setup.sh).
pub fn peers_python() -> String {
    root()
        .join("tests/peers/venv/bin/python")
        .to_string_lossy()
        .into_owned()
}

/// `tests/peers/py-server.py`.
pub fn py_server() -> String {
    root()
        .join("tests/peers/py-server.py")
        .to_string_lossy()
        .into_owned()
}

/// Runs tests/bench/setup.sh (idempotent) so the peers are installed.
pub fn setup() {
    let status = Command::new("bash")
        .arg(root().join("tests/bench/setup.sh"))
        .stdin(Stdio::null())
        .status()
        .expect("run tests/bench/setup.sh");
    assert!(status.success(), "tests/bench/setup.sh failed");
}

/// `tests/bench/mcp-proxy-rs/bin/mcp-proxy`: the Rust mcp-proxy 0.6.0 (installed by setup.sh).
pub fn mcp_proxy_rs_exe() -> String {
    root()
        .join("tests/bench/mcp-proxy-rs/bin/mcp-proxy")
        .to_string_lossy()
        .into_owned()
}

/// A Rust `mcp-proxy` 0.6.0 process (joshrotenberg's tower-mcp gateway) fronting the same
/// backends as a Loopgate config's `mcpServers`: a TOML config in a temp dir, tools named
/// `<server>__<tool>` like Loopgate's (`separator = "__"`; its default is `/`), no auth, logs
/// at `warn`, the MCP endpoint at `/`.
pub struct McpProxyRs {
    pub proc: Proc,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl McpProxyRs {
    /// Writes `proxy.toml` from `servers` (Loopgate `mcpServers` entries: `{"url"}` or
    /// `{"command", "args", "env"}`) and starts `mcp-proxy --config proxy.toml`; it connects to
    /// every backend before it listens (see [`McpProxyRs::wait_listening`]).
    pub fn start(servers: &Value) -> McpProxyRs {
        // JSON string literals are valid TOML basic strings.
        let s = |v: &str| serde_json::to_string(v).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut toml = format!(
            "[proxy]\nname = \"bench\"\nseparator = \"__\"\n\n[proxy.listen]\nhost = \
             \"127.0.0.1\"\nport = {port}\n\n[observability]\nlog_level = \"warn\"\n"
        );
        for (name, entry) in servers.as_object().expect("mcpServers object") {
            toml.push_str(&format!("\n[[backends]]\nname = {}\n", s(name)));
            if let Some(url) = entry["url"].as_str() {
                toml.push_str(&format!("transport = \"http\"\nurl = {}\n", s(url)));
                continue;
            }
            let args: Vec<String> = entry["args"]
                .as_array()
                .map(|a| a.iter().map(|v| s(v.as_str().unwrap())).collect())
                .unwrap_or_default();
            toml.push_str(&format!(
                "transport = \"stdio\"\ncommand = {}\nargs = [{}]\n",
                s(entry["command"].as_str().expect("command")),
                args.join(", ")
            ));
            if let Some(env) = entry["env"].as_object() {
                let pairs: Vec<String> = env
                    .iter()
                    .map(|(k, v)| format!("{} = {}", s(k), s(v.as_str().unwrap())))
                    .collect();
                toml.push_str(&format!("env = {{ {} }}\n", pairs.join(", ")));
            }
        }
        let config = dir.path().join("proxy.toml");
        std::fs::write(&config, toml).unwrap();
        let proc = Proc::spawn(
            "mcp-proxy 0.6.0",
            &mcp_proxy_rs_exe(),
            &["--config".into(), config.to_string_lossy().into_owned()],
            &[],
            Some(dir.path()),
            Some(&dir.path().join("mcp-proxy.log")),
        );
        McpProxyRs { proc, dir, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("mcp-proxy.log")
    }

    /// Waits until it accepts connections; panics with its log otherwise.
    pub fn wait_listening(&mut self) {
        if !wait_port(self.port, Duration::from_secs(60)) {
            let log = self.log();
            self.proc.assert_alive(Some(&log));
            panic!(
                "mcp-proxy 0.6.0 did not listen on {} within 60 s",
                self.port
            );
        }
    }
}

/// The floor (`floor.rs`): `<bench-exe> floor --port P --to 127.0.0.1:backend_port`, a
/// byte-forwarding hyper reverse proxy. Returns the process and its port.
pub fn start_floor(backend_port: u16) -> (Proc, u16) {
    let port = free_port();
    let mut p = Proc::spawn(
        "floor (hyper reverse proxy)",
        &self_exe(),
        &[
            "floor".into(),
            "--port".into(),
            port.to_string(),
            "--to".into(),
            format!("127.0.0.1:{backend_port}"),
        ],
        &[],
        None,
        None,
    );
    if !wait_port(port, Duration::from_secs(20)) {
        p.assert_alive(None);
        panic!("the floor did not listen on {port}");
    }
    (p, port)
}

/// Starts the floor + pipe (`floor.rs`, [`crate::floor`]'s `--stdio`) in front of the stdio
/// server `cmd` (program, arguments); returns it and its port.
pub fn start_stdio_floor(cmd: &(String, Vec<String>)) -> (Proc, u16) {
    let port = free_port();
    let mut args = vec![
        "floor".into(),
        "--port".into(),
        port.to_string(),
        "--stdio".into(),
    ];
    args.push(cmd.0.clone());
    args.extend(cmd.1.iter().cloned());
    let mut p = Proc::spawn(
        "floor + pipe (HTTP to stdio)",
        &self_exe(),
        &args,
        &[],
        None,
        None,
    );
    if !wait_port(port, Duration::from_secs(20)) {
        p.assert_alive(None);
        panic!("the floor + pipe did not listen on {port}");
    }
    (p, port)
}
