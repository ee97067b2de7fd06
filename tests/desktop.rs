//! The real desktop build (feature `desktop`), each test under its own Xvfb display and D-Bus
//! session (`desktop/session.rs`), driven and watched through that bus as a desktop would
//! (`desktop/bus.rs`: the tray menu over dbusmenu, a notification service):
//!
//! - the app starts the gateway in-process, shows the dashboard window (screenshot saved to
//!   `target/desktop-screenshots/`), serves real backends, follows a click on a server in the
//!   tray (a real MCP client sees the tools go and come back), and on Quit or a signal stops
//!   every backend process;
//! - started as a graphical session starts it (a minimal `PATH`, no terminal, in the tray
//!   only), it finds a server only the login shell's `PATH` has, and tells the user once
//!   through the desktop's notification service when a server stops for good and when a
//!   client's token keeps being refused (switchable off in the tray);
//! - (`--ignored`, run by `.ci/deb` after it built and installed the `.deb`) the installed
//!   app, started as its menu entry says, does all that, and its "Start at login" entry starts
//!   the installed program.
//!
//! Runs only with `cargo test --features desktop` (`.ci/run` does).
#![cfg(feature = "desktop")]

#[path = "desktop/bus.rs"]
mod bus;
mod common;
#[path = "desktop/session.rs"]
mod session;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use bus::{Notifications, Tray};
use session::{
    alive, all_ready, home_with_login_only_server, parent_of, server_pids, wait_servers, Display,
    Launch, GUI_PATH,
};

/// The built app with `--config config` and `extra` arguments.
fn built_app(config: &Path, extra: &[&str]) -> Vec<String> {
    let mut command = vec![
        env!("CARGO_BIN_EXE_loopgate").to_string(),
        "--config".into(),
        config.display().to_string(),
    ];
    command.extend(extra.iter().map(|a| a.to_string()));
    command
}

/// Sends `n` MCP requests with a token the gateway does not know, as client `agent`.
async fn knock(port: u16, token: &str, agent: &str, n: usize) {
    let http = reqwest::Client::new();
    for _ in 0..n {
        let r = http
            .post(format!("http://127.0.0.1:{port}/mcp"))
            .bearer_auth(token)
            .header("user-agent", agent)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_app_shows_the_dashboard_and_quits_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let display = Display::start();
    let port = common::free_port();
    let config = home.path().join("config.json");
    std::fs::write(&config, json!({"gateway": {"port": port}, "mcpServers": {"memory": common::memory_stdio(), "everything": common::everything_stdio()}}).to_string()).unwrap();
    let own_path = std::env::var("PATH").unwrap();
    let launch = |log| Launch {
        command: built_app(&config, &[]),
        home: home.path(),
        display: &display,
        path: &own_path,
        log,
    };
    let mut app = launch("app.log").start();

    // The gateway answers, with both servers ready.
    let http = reqwest::Client::new();
    let (token, servers) =
        wait_servers(&app, port, &config, "both servers ready", all_ready(2)).await;
    let pids = server_pids(&servers);
    assert_eq!(pids.len(), 2);

    // The dashboard window exists; give the webview time to render, then take a screenshot.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !display.has_window() {
        assert!(
            Instant::now() < deadline,
            "no Loopgate window on {}",
            display.name
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/desktop-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("dashboard.png");
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(&shot)
        .env("DISPLAY", &display.name)
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

    // A click on `memory` in the tray (over dbusmenu, as a panel clicks) switches it off in
    // the config and a real MCP client sees its tools go; a second click brings them back.
    let tray = Tray::find(&app.bus);
    let client = common::mcp_client(&format!("http://127.0.0.1:{port}/mcp"), &token).await;
    let names = async || common::tool_names(client.peer()).await;
    assert!(names().await.contains(&"memory__read_graph".to_string()));
    tray.wait_checked("memory", true).await;
    tray.click("memory");
    tray.wait_checked("memory", false).await;
    // (GTK flips the check mark at once; the config is written by the app's handler.)
    let disabled = || {
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        saved["mcpServers"]["memory"]["disabled"] == true
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !disabled() {
        assert!(
            Instant::now() < deadline,
            "the tray's click did not disable memory in the config"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while names().await.iter().any(|t| t.starts_with("memory__")) {
        assert!(
            Instant::now() < deadline,
            "memory's tools still listed after the tray switched it off"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tray.click("memory");
    tray.wait_checked("memory", true).await;
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
    app.exited().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for pid in pids {
        assert!(!alive(pid), "backend process {pid} outlived the app");
    }

    drop(app);

    // A signal (a logout, a service manager) quits the app as cleanly as Quit does.
    let mut app = launch("app2.log").start();
    let (_, servers) = wait_servers(
        &app,
        port,
        &config,
        "both servers ready again",
        all_ready(2),
    )
    .await;
    let pids = server_pids(&servers);
    let gateway = parent_of(pids[0]);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(gateway as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    app.exited().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for pid in pids {
        assert!(
            !alive(pid),
            "backend process {pid} outlived the app after SIGTERM"
        );
    }
}

/// Acceptance: a graphical session's launch (minimal PATH, no terminal, `--hidden` as at
/// login) finds a server only the login shell's PATH has; a server that stops for good while
/// the window is hidden, and a client refused three times, each give exactly one notification;
/// switched off in the tray, nothing more is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gui_launch_finds_login_shell_programs_and_notifies_once() {
    let home = home_with_login_only_server();
    let display = Display::start();
    let port = common::free_port();
    let config = home.path().join("config.json");
    let broken = json!({"command": "sh", "args": ["-c", "echo broken on purpose >&2; exit 1"]});
    std::fs::write(&config, json!({"gateway": {"port": port}, "mcpServers": {"memory": {"command": "memory-mcp"}, "broken": broken}}).to_string()).unwrap();
    let mut app = Launch {
        command: built_app(&config, &["--hidden"]),
        home: home.path(),
        display: &display,
        path: GUI_PATH,
        log: "app.log",
    }
    .start();
    let notes = Notifications::serve(&app.bus);

    // `memory-mcp` lives in ~/.local/bin, which only the login shell's PATH has: it starts.
    let (token, servers) = wait_servers(&app, port, &config, "memory ready, broken parked", |a| {
        a.len() == 2
            && a[0]["state"] == "ready"
            && a[1]["state"] == "failed"
            && a[1]["lastError"]
                .as_str()
                .is_some_and(|e| e.contains("gave up"))
    })
    .await;
    assert!(
        app.output()
            .contains("servers start with the PATH of your login shell /bin/bash"),
        "{}",
        app.output()
    );
    let client = common::mcp_client(&format!("http://127.0.0.1:{port}/mcp"), &token).await;
    assert!(common::tool_names(client.peer())
        .await
        .contains(&"memory__read_graph".to_string()));
    client.cancel().await.unwrap();
    assert!(!display.has_window(), "--hidden opened the dashboard");

    // The parked server: one notification, and no second one for the same cause.
    let shown = notes.wait_for(1, 30).await;
    assert_eq!(shown[0].summary, "broken stopped", "{shown:?}");
    assert!(
        shown[0].body.contains("gave up after 5 failed starts"),
        "{shown:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(notes.shown().len(), 1, "{:?}", notes.shown());

    // A client knocking three times with a token the gateway does not know: one notification.
    knock(port, "revoked-client-token", "test-client/1.0", 5).await;
    let shown = notes.wait_for(2, 10).await;
    assert_eq!(shown[1].summary, "A client is being refused");
    assert!(shown[1].body.contains("(test-client/1.0)"), "{shown:?}");

    // Switched off in the tray (and saved), nothing more is told.
    let tray = Tray::find(&app.bus);
    tray.wait_checked("Notifications", true).await;
    tray.click("Notifications");
    tray.wait_checked("Notifications", false).await;
    // The menu shows the check mark change as soon as it is clicked; the app's handler, which
    // saves the switch, runs on the app's event loop just after.
    let settings = home.path().join("desktop.json");
    let saved = || {
        std::fs::read(&settings)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    for _ in 0..50 {
        if saved().is_some_and(|v| v["notifications"] == false) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        saved().map(|v| v["notifications"].clone()),
        Some(false.into())
    );
    knock(port, "another-old-token", "other-client/2.0", 3).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(notes.shown().len(), 2, "{:?}", notes.shown());

    // Quit from the tray: the app exits and the server process is gone.
    let pids = server_pids(&servers);
    assert_eq!(pids.len(), 1, "{servers}");
    tray.click("Quit Loopgate");
    app.exited().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!alive(pids[0]), "memory-mcp outlived the app");
}

/// The value of `key` in the `[Desktop Entry]` text `entry`.
fn entry_value<'a>(entry: &'a str, key: &str) -> &'a str {
    entry
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in\n{entry}"))
}

/// Acceptance: the `.deb` (`.ci/deb` builds it with the README's command, installs it with
/// `dpkg -i`, then runs this) is the desktop app: started as its menu entry says in a
/// graphical session, its tray and window appear, the gateway serves `/mcp` to a real client
/// (one server found through the login shell's PATH), "Start at login" writes an entry that
/// starts the installed program and removes it again, and Quit from the tray stops every
/// server process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the installed .deb: .ci/deb builds and installs it, then runs this"]
async fn the_installed_deb_runs_from_its_menu_entry() {
    let entry = std::fs::read_to_string("/usr/share/applications/Loopgate.desktop")
        .expect("the .deb's menu entry (run .ci/deb)");
    assert_eq!(entry_value(&entry, "Terminal"), "false");
    let command: Vec<String> = entry_value(&entry, "Exec")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let program = which::which_in(&command[0], Some(GUI_PATH), "/").unwrap();
    assert_eq!(program, Path::new("/usr/bin/loopgate"), "{entry}");
    let ldd = Command::new("ldd").arg(&program).output().unwrap();
    assert!(
        String::from_utf8_lossy(&ldd.stdout).contains("libwebkit2gtk-4.1"),
        "the installed loopgate is not the desktop build"
    );

    let home = home_with_login_only_server();
    let display = Display::start();
    let port = common::free_port();
    // The default config location, as a user's first start would use it.
    let config = home.path().join(".config/loopgate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, json!({"gateway": {"port": port}, "mcpServers": {"memory": {"command": "memory-mcp"}, "everything": common::everything_stdio()}}).to_string()).unwrap();
    let mut app = Launch {
        command,
        home: home.path(),
        display: &display,
        path: GUI_PATH,
        log: "app.log",
    }
    .start();
    let (token, servers) =
        wait_servers(&app, port, &config, "both servers ready", all_ready(2)).await;

    // The tray icon and the dashboard window appear.
    let tray = Tray::find(&app.bus);
    let status = tray.items()[0].label.clone();
    assert!(status.starts_with("2 servers · "), "{status}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !display.has_window() {
        assert!(
            Instant::now() < deadline,
            "no Loopgate window\n{}",
            app.output()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // A real client lists the tools of both servers.
    let client = common::mcp_client(&format!("http://127.0.0.1:{port}/mcp"), &token).await;
    let names = common::tool_names(client.peer()).await;
    assert!(
        names.contains(&"memory__read_graph".to_string()),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("everything__")),
        "{names:?}"
    );
    client.cancel().await.unwrap();

    // "Start at login" writes an entry that starts the installed app in the tray; off removes it.
    let autostart = home.path().join(".config/autostart/Loopgate.desktop");
    tray.click("Start at login");
    tray.wait_checked("Start at login", true).await;
    let written = std::fs::read_to_string(&autostart).unwrap();
    assert_eq!(entry_value(&written, "Exec"), "/usr/bin/loopgate --hidden");
    assert_eq!(
        written,
        loopgate::autostart::desktop_entry(Path::new("/usr/bin/loopgate"))
    );
    tray.click("Start at login");
    tray.wait_checked("Start at login", false).await;
    assert!(!autostart.exists(), "the autostart entry was not removed");

    // Quit from the tray: the app exits and no server process remains.
    let pids = server_pids(&servers);
    assert_eq!(pids.len(), 2, "{servers}");
    tray.click("Quit Loopgate");
    app.exited().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for pid in pids {
        assert!(!alive(pid), "server process {pid} outlived the app");
    }
}
