//! The dashboard window: the web UI served by the in-process gateway, opened through its
//! one-time sign-in link (no token to type). Hidden, not destroyed, when closed.

use std::sync::Arc;

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

use super::Shared;

/// Label of the dashboard window.
pub const LABEL: &str = "dashboard";

/// Creates the dashboard window (visible).
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let shared = app.state::<Arc<Shared>>();
    let url = shared.dashboard_url.parse().expect("dashboard URL parses");
    WebviewWindowBuilder::new(app, LABEL, WebviewUrl::External(url))
        .title("Loopgate")
        .inner_size(1100.0, 760.0)
        .min_inner_size(640.0, 480.0)
        .build()?;
    Ok(())
}

/// Shows and focuses the dashboard, re-creating it if it was destroyed.
pub fn show(app: &AppHandle) {
    match app.get_webview_window(LABEL) {
        Some(w) => {
            let _ = w.show();
            let _ = w.unminimize();
            let _ = w.set_focus();
        }
        None => {
            let _ = create(app);
        }
    }
}
