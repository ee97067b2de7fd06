//! A desktop session for the app under test: its own Xvfb display, its own D-Bus session bus
//! (`dbus-run-session`; the test reads its address to watch and drive the bus), and the
//! environment a graphical session gives a program started from a menu or at login: no
//! terminal, a minimal `PATH`, the user's `SHELL`, nothing else of the test's.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `PATH` a graphical session hands to what it starts (what `/etc/environment` or systemd
/// give; nothing the user's shell start-up files add).
pub const GUI_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A child process killed (and reaped) when dropped.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An Xvfb display of its own (Xvfb picks a free number, so tests run side by side).
pub struct Display {
    /// E.g. `:3`.
    pub name: String,
    _pipe: std::io::BufReader<ChildStdout>,
    _xvfb: Kill,
}

impl Display {
    /// Starts Xvfb and waits until it accepts clients (it prints its number then).
    pub fn start() -> Display {
        let mut xvfb = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x900x24"])
            .args(["-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb not found: apt-get install xvfb (tests/run.sh does this)");
        let mut pipe = std::io::BufReader::new(xvfb.stdout.take().unwrap());
        let mut line = String::new();
        pipe.read_line(&mut line).expect("Xvfb prints its display");
        let number: u32 = line.trim().parse().expect("a display number");
        Display {
            name: format!(":{number}"),
            _pipe: pipe,
            _xvfb: Kill(xvfb),
        }
    }

    /// Whether a window titled exactly "Loopgate" is mapped on this display.
    pub fn has_window(&self) -> bool {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", "^Loopgate$"])
            .env("DISPLAY", &self.name)
            .output()
            .expect("xdotool not found: apt-get install xdotool");
        out.status.success() && !out.stdout.is_empty()
    }
}

/// The running app: its process (`dbus-run-session` around it) and its bus address.
pub struct App {
    /// `dbus-run-session`, which exits when the app does.
    pub process: Kill,
    /// The app's session bus (`DBUS_SESSION_BUS_ADDRESS`).
    pub bus: String,
    /// Where its output goes.
    pub log: PathBuf,
}

/// How to start the app.
pub struct Launch<'a> {
    /// The program and its arguments (the built binary, or a menu entry's `Exec`).
    pub command: Vec<String>,
    /// The user's home (config, token, start-up files, autostart entries live under it).
    pub home: &'a Path,
    /// The display.
    pub display: &'a Display,
    /// `PATH` ([`GUI_PATH`] for a graphical session).
    pub path: &'a str,
    /// Log file name in `home`.
    pub log: &'a str,
}

impl Launch<'_> {
    /// Starts the app in a fresh session bus with only a graphical session's variables, from
    /// `home` as its working directory, with no terminal.
    pub fn start(&self) -> App {
        let log = self.home.join(self.log);
        let out = std::fs::File::create(&log).unwrap();
        let bus_file = self.home.join(format!("{}.bus", self.log));
        let _ = std::fs::remove_file(&bus_file);
        // The bus address is written where the test can read it, then the app replaces sh.
        let script = "printf %s \"$DBUS_SESSION_BUS_ADDRESS\" > \"$0\"; exec \"$@\"";
        let child = Command::new("dbus-run-session")
            .args(["--", "/bin/sh", "-c", script])
            .arg(&bus_file)
            .args(&self.command)
            .env_clear()
            .env("PATH", self.path)
            .env("HOME", self.home)
            .env(
                "USER",
                std::env::var("USER").unwrap_or_else(|_| "root".into()),
            )
            .env("SHELL", "/bin/bash")
            .env("LANG", "C.UTF-8")
            .env("DISPLAY", &self.display.name)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_RUNTIME_DIR", self.home)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .current_dir(self.home)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("dbus-run-session not found: apt-get install dbus");
        let process = Kill(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let bus = loop {
            if let Ok(bus) = std::fs::read_to_string(&bus_file) {
                if !bus.is_empty() {
                    break bus;
                }
            }
            assert!(Instant::now() < deadline, "no session bus for the app");
            std::thread::sleep(Duration::from_millis(50));
        };
        App { process, bus, log }
    }
}

impl App {
    /// Its output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (up to 60 s) until the app has exited.
    pub async fn exited(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.process.0.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the app did not exit\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A user's home as a desktop session has it: `.profile` (what `bash -l` reads when there is
/// no `.bash_profile`) adds `~/.local/bin` to `PATH` the way Debian's default one does, and
/// `~/.local/bin/memory-mcp` starts the real server-memory — so only the login shell finds it.
pub fn home_with_login_only_server() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".profile"),
        "# as Debian's /etc/skel/.profile\nif [ -d \"$HOME/.local/bin\" ] ; then\n    PATH=\"$HOME/.local/bin:$PATH\"\nfi\n",
    )
    .unwrap();
    let bin = home.path().join(".local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let main = crate::common::ensure_peers()
        .join("node_modules/@modelcontextprotocol/server-memory/dist/index.js");
    let wrapper = bin.join("memory-mcp");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec node {} \"$@\"\n", main.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    home
}

/// Whether process `pid` is alive (not gone, not a zombie).
pub fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z"))
}

/// Process ids of the stdio servers in a `GET /api/servers` answer.
pub fn server_pids(servers: &Value) -> Vec<u64> {
    servers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["pid"].as_u64())
        .collect()
}

/// The parent process id of `pid`.
pub fn parent_of(pid: u64) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// `GET /api/servers` with `token` on `port`, once the token file beside `config` exists;
/// `None` while the gateway does not answer.
pub async fn servers(http: &reqwest::Client, port: u16, config: &Path) -> Option<(String, Value)> {
    let token = std::fs::read_to_string(config.with_file_name("token")).ok()?;
    let token = token.trim().to_string();
    let r = http
        .get(format!("http://127.0.0.1:{port}/api/servers"))
        .bearer_auth(&token)
        .send()
        .await
        .ok()?;
    Some((token, r.json().await.ok()?))
}

/// Waits (up to 90 s) until `done` holds for the servers of the gateway on `port`; returns
/// the token and the servers.
pub async fn wait_servers(
    app: &App,
    port: u16,
    config: &Path,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> (String, Value) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some((token, v)) = servers(&http, port, config).await {
            if v.as_array().is_some_and(|a| done(a)) {
                return (token, v);
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not reached\n{}",
            app.output()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Every server is ready (and there are `n`).
pub fn all_ready(n: usize) -> impl Fn(&[Value]) -> bool {
    move |a| a.len() == n && a.iter().all(|s| s["state"] == "ready")
}
