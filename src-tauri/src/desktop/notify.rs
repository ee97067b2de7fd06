//! Desktop notifications through tauri-plugin-notification (the desktop's notification
//! service: D-Bus `org.freedesktop.Notifications` on Linux). Watches the servers and the
//! refused client tokens, asks [`crate::notices`] what to tell, and shows that.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt as _;

use super::{window, Shared};
use crate::notices::{self, Notifier};

/// What was told, the switch, and where the switch is saved.
pub struct Notifications {
    notifier: Mutex<Notifier>,
    config_path: PathBuf,
}

impl Notifications {
    /// The saved switch for the config at `config_path`, nothing told yet.
    pub fn new(config_path: PathBuf) -> Self {
        Self {
            notifier: Mutex::new(Notifier::new(notices::load_enabled(&config_path))),
            config_path,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Notifier> {
        self.notifier.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether notifications are on.
    pub fn enabled(&self) -> bool {
        self.lock().enabled()
    }

    /// Flips the switch and saves it; returns the new state.
    pub fn toggle(&self) -> bool {
        let on = {
            let mut n = self.lock();
            let on = !n.enabled();
            n.set_enabled(on);
            on
        };
        if let Err(e) = notices::save_enabled(&self.config_path, on) {
            tracing::warn!("could not save the notifications setting: {e}");
        }
        on
    }
}

/// Whether the dashboard window is visible and focused.
fn dashboard_in_front(app: &AppHandle) -> bool {
    app.get_webview_window(window::LABEL)
        .is_some_and(|w| w.is_visible().unwrap_or(false) && w.is_focused().unwrap_or(false))
}

/// Shows what [`Notifier::decide`] says about the current state.
fn check(app: &AppHandle) {
    let shared = app.state::<Arc<Shared>>();
    let current = notices::current(
        &shared.gateway.supervisor().snapshot(),
        &shared.refusals.list(),
    );
    let in_front = dashboard_in_front(app);
    let shown = app
        .state::<Notifications>()
        .lock()
        .decide(current, in_front);
    for notice in shown {
        tracing::info!("notification: {}: {}", notice.title, notice.body);
        if let Err(e) = app
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show()
        {
            tracing::warn!("could not show a notification: {e}");
        }
    }
}

/// Follows the servers and the refused tokens, notifying as [`check`] decides.
pub fn start(app: &AppHandle) {
    let handle = app.clone();
    let shared = app.state::<Arc<Shared>>().inner().clone();
    let mut events = shared.gateway.supervisor().events();
    let mut refusals = shared.refusals.changed();
    tauri::async_runtime::spawn(async move {
        loop {
            let h = handle.clone();
            let _ = handle.run_on_main_thread(move || check(&h));
            tokio::select! {
                r = events.recv() => if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) { return },
                r = refusals.changed() => if r.is_err() { return },
            }
            // A burst of changes (a restart publishes several) is looked at once.
            tokio::time::sleep(Duration::from_millis(150)).await;
            while events.try_recv().is_ok() {}
        }
    });
}
