//! The dashboard window: the web UI served by the in-process gateway, opened through a fresh
//! one-time sign-in link (no token to type, none in the URL). Hidden, not destroyed, when
//! closed; shown again after its session would have ended, it signs in anew.

use std::sync::Arc;

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

use super::Shared;

/// Label of the dashboard window.
pub const LABEL: &str = "dashboard";

/// A fresh one-time link for the window; records when it signed in.
fn sign_in_link(shared: &Shared) -> tauri::Url {
    *shared
        .signed_in_at
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
    format!(
        "http://{}/auth?nonce={}",
        shared.addr,
        shared.sessions.mint_link()
    )
    .parse()
    .expect("dashboard URL parses")
}

/// Whether the window's dashboard session is (nearly) over: older than its lifetime less an
/// hour.
fn session_ending(shared: &Shared) -> bool {
    let margin = std::time::Duration::from_secs(3600);
    shared
        .signed_in_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_none_or(|t| t.elapsed() + margin >= crate::http::session::SESSION_TTL)
}

/// Creates the dashboard window (visible).
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let shared = app.state::<Arc<Shared>>();
    let url = sign_in_link(&shared);
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
            let shared = app.state::<Arc<Shared>>();
            if session_ending(&shared) {
                let _ = w.navigate(sign_in_link(&shared));
            }
            let _ = w.show();
            let _ = w.unminimize();
            let _ = w.set_focus();
        }
        None => {
            let _ = create(app);
        }
    }
}
