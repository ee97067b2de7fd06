//! The desktop app (Tauri 2, cargo feature `desktop`): the gateway runs in-process, a tray icon
//! puts the servers one click away, and the dashboard opens in a window.
//!
//! - [`tray`]: the tray icon and its menu, rebuilt on every server change.
//! - [`window`]: the dashboard window (signed in without typing a token; closing hides it).
//! - [`notify`]: desktop notifications when a server stops for good, needs a sign-in, or a
//!   client's token keeps being refused.
//!
//! `loopgate` with no sub-command runs this (`loopgate --hidden`: in the tray only, as at
//! login); `loopgate serve` stays headless and never touches GTK. Started from a menu or at
//! login, the app first reads the login shell's environment
//! ([`crate::upstream::login_env`]), so stdio servers find what a terminal finds. Quitting
//! (tray, or `POST /api/quit`) stops the gateway cleanly — backend sessions ended, child
//! processes stopped — before the app exits.

pub mod notify;
pub mod tray;
pub mod window;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tauri::{Manager, RunEvent, WindowEvent};

use crate::app;
use crate::config::Store;
use crate::gateway::Gateway;

/// What the shell needs from the running gateway.
pub struct Shared {
    /// The gateway (snapshot, registry, events).
    pub gateway: Arc<Gateway>,
    /// The config writer (tray toggles go through it).
    pub store: Store,
    /// `http://127.0.0.1:<port>/mcp`.
    pub mcp_url: String,
    /// The gateway's address (for dashboard links).
    pub addr: std::net::SocketAddr,
    /// Mints the window's one-time dashboard links.
    pub sessions: Arc<crate::http::session::DashboardSessions>,
    /// The client tokens the gateway refused (for notifications).
    pub refusals: Arc<crate::http::refusals::Refusals>,
    /// When the window last signed in (a session lasts
    /// [`crate::http::session::SESSION_TTL`]).
    pub signed_in_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Cancelling it stops the gateway (then the app exits).
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// Runs the desktop app with the config at `config_path` until Quit; `hidden` starts it in the
/// tray only (the dashboard window opens from the tray), as "Start at login" does.
///
/// Errors: the gateway could not start (bad config, port taken), or the window system is not
/// available.
pub fn run(config_path: PathBuf, hidden: bool) -> anyhow::Result<()> {
    tracing::info!("{}", crate::upstream::login_env::adopt_login_shell());
    let runtime = app::runtime().context("starting the async runtime")?;
    tauri::async_runtime::set(runtime.handle().clone());
    let notifications = notify::Notifications::new(config_path.clone());
    let running = runtime.block_on(app::start(app::Options {
        config_path,
        port: None,
        secrets: None,
        sign_in: crate::oauth::Presenter::Browser,
    }))?;
    let shared = Arc::new(Shared {
        gateway: running.gateway.clone(),
        store: running.store.clone(),
        mcp_url: running.mcp_url(),
        addr: running.addr,
        sessions: running.sessions(),
        refusals: running.refusals(),
        signed_in_at: Default::default(),
        shutdown: running.shutdown_token(),
    });
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::show(app)
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init());
    let app = builder
        .manage(shared.clone())
        .manage(notifications)
        .setup(move |app| {
            tray::create(app.handle())?;
            if !hidden {
                window::create(app.handle())?;
            }
            notify::start(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                // Closing the dashboard hides it; the app keeps running in the tray.
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .build(tauri::generate_context!())
        .context("starting the desktop app (is a display available?)")?;

    // A signal (logout, service manager, closed terminal) quits like the tray's Quit: the
    // gateway stops cleanly first.
    let on_signal = shared.shutdown.clone();
    runtime.spawn(async move {
        app::stop_signal().await;
        on_signal.cancel();
    });
    // When the gateway stops (Quit from the tray or the API), exit the app.
    let handle = app.handle().clone();
    runtime.spawn(async move {
        running.stopped().await;
        handle.exit(0);
    });
    app.run(|app, event| {
        if let RunEvent::ExitRequested { api, code, .. } = event {
            // Windows closing must not end the app; only Quit (an explicit exit code) does.
            if code.is_none() && !app.state::<Arc<Shared>>().shutdown.is_cancelled() {
                api.prevent_exit();
            }
        }
    });
    Ok(())
}

/// Quits: stops the gateway cleanly; the app exits once it has stopped.
pub fn quit(app: &tauri::AppHandle) {
    app.state::<Arc<Shared>>().shutdown.cancel();
}
