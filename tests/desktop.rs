//! The real desktop build (feature `desktop`) under its own Xvfb display and D-Bus session:
//! the app starts the gateway in-process, shows the dashboard window (screenshot saved to
//! `target/desktop-screenshots/`), serves real backends, follows the tray's server switch (a
//! real MCP client sees the tools go and come back), and on Quit stops every backend process. Runs only with `cargo test --features desktop` (`.ci/run` does).
#![cfg(feature = "desktop")]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z"))
}

/// Process ids of the stdio servers in a `GET /api/servers` answer.
fn server_pids(servers: &Value) -> Vec<u64> {
    servers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["pid"].as_u64())
        .collect()
}

/// Starts the desktop app (`loopgate` with no command) in its own D-Bus session on `display`,
/// its output going to `log` in `home`.
fn start_app(home: &std::path::Path, config: &std::path::Path, display: &str, log: &str) -> Kill {
    let log = std::fs::File::create(home.join(log)).unwrap();
    Kill(
        Command::new("dbus-run-session")
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_loopgate"))
            .arg("--config")
            .arg(config)
            .env("DISPLAY", display)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_RUNTIME_DIR", home)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dbus-run-session not found: apt-get install dbus"),
    )
}

/// The parent process id of `pid`.
fn parent_of(pid: u64) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// Waits until `token`'s gateway on `port` answers with every server ready; returns the servers.
async fn ready_servers(http: &reqwest::Client, port: u16, token: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/api/servers"))
            .bearer_auth(token)
            .send()
            .await
        {
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if v.as_array()
                .is_some_and(|a| a.len() == n && a.iter().all(|s| s["state"] == "ready"))
            {
                return v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the servers did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_app_shows_the_dashboard_and_quits_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let display = format!(":{}", 90 + std::process::id() % 100);
    let _xvfb = Kill(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x900x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb not found: apt-get install xvfb (tests/run.sh does this)"),
    );
    std::thread::sleep(Duration::from_millis(800));

    let port = common::free_port();
    let config = home.path().join("config.json");
    std::fs::write(&config, json!({"gateway": {"port": port}, "mcpServers": {"memory": common::memory_stdio(), "everything": common::everything_stdio()}}).to_string()).unwrap();
    let app = start_app(home.path(), &config, &display, "app.log");

    // The gateway answers, with both servers ready.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    let (token, servers) = loop {
        let token = std::fs::read_to_string(home.path().join("token")).ok();
        if let Some(token) = token {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/api/servers"))
                .bearer_auth(token.trim())
                .send()
                .await
            {
                let v: Value = r.json().await.unwrap_or(Value::Null);
                if v.as_array()
                    .is_some_and(|a| a.len() == 2 && a.iter().all(|s| s["state"] == "ready"))
                {
                    break (token.trim().to_string(), v);
                }
            }
        }
        let log = std::fs::read_to_string(home.path().join("app.log")).unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "the desktop app's gateway never became ready\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let pids = server_pids(&servers);
    assert_eq!(pids.len(), 2);

    // The dashboard window exists; give the webview time to render, then take a screenshot.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = Command::new("xdotool")
            .args(["search", "--name", "^Loopgate$"])
            .env("DISPLAY", &display)
            .output()
            .unwrap();
        if out.status.success() && !out.stdout.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "no Loopgate window on {display}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/desktop-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("dashboard.png");
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(&shot)
        .env("DISPLAY", &display)
        .status()
        .unwrap();
    assert!(status.success() && shot.exists(), "screenshot failed");
    let colors = Command::new("identify")
        .args(["-format", "%k"])
        .arg(&shot)
        .output()
        .unwrap();
    let colors: u64 = String::from_utf8_lossy(&colors.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(colors > 30, "the screenshot is blank ({colors} colors)");

    // The tray's check-item handler (`tray_menu::toggle_server`, what a click on a server
    // runs) switches `memory` off and on; a real MCP client sees its tools go and come back.
    let (store, _) = loopgate::config::Store::open_or_init(&config).unwrap();
    let client = common::mcp_client(&format!("http://127.0.0.1:{port}/mcp"), &token).await;
    let names = async || common::tool_names(client.peer()).await;
    assert!(names().await.contains(&"memory__read_graph".to_string()));
    assert!(!loopgate::tray_menu::toggle_server(&store, "memory")
        .await
        .unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    while names().await.iter().any(|t| t.starts_with("memory__")) {
        assert!(
            Instant::now() < deadline,
            "memory's tools still listed after the tray switched it off"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(loopgate::tray_menu::toggle_server(&store, "memory")
        .await
        .unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !names().await.contains(&"memory__read_graph".to_string()) {
        assert!(
            Instant::now() < deadline,
            "memory's tools did not come back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client.cancel().await.unwrap();
    let servers: Value = http
        .get(format!("http://127.0.0.1:{port}/api/servers"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pids = server_pids(&servers);
    assert_eq!(pids.len(), 2, "{servers}");

    // Quit (the same shutdown the tray's Quit triggers): the app exits and no backend remains.
    let r = http
        .post(format!("http://127.0.0.1:{port}/api/quit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut app = app;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the app did not exit after Quit");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for pid in pids {
        assert!(!alive(pid), "backend process {pid} outlived the app");
    }

    drop(app);

    // A signal (a logout, a service manager) quits the app as cleanly as Quit does.
    let app = start_app(home.path(), &config, &display, "app2.log");
    let servers = ready_servers(&http, port, &token, 2).await;
    let pids = server_pids(&servers);
    let gateway = parent_of(pids[0]);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(gateway as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let mut app = app;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the app did not exit on SIGTERM");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for pid in pids {
        assert!(
            !alive(pid),
            "backend process {pid} outlived the app after SIGTERM"
        );
    }
}
