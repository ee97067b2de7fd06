//! The tray icon: a status line, one check item per server (enable/disable with one click,
//! through the config writer), Open dashboard, Copy client connection info, Start at login,
//! Quit. The menu and the icon's health are rebuilt whenever a server changes.

use std::sync::Arc;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt as _;

use super::{window, Shared};
use crate::tray_menu::{self, ids, Action};

/// Id of the tray icon.
pub const TRAY_ID: &str = "loopgate";

fn icon(attention: bool) -> Image<'static> {
    let bytes: &[u8] = if attention {
        include_bytes!("../../../icons/tray-attention.png")
    } else {
        include_bytes!("../../../icons/tray.png")
    };
    Image::from_bytes(bytes).expect("tray icon decodes")
}

fn build_menu(app: &AppHandle) -> tauri::Result<(Menu<Wry>, bool)> {
    let shared = app.state::<Arc<Shared>>();
    let model = tray_menu::model(
        &shared.gateway.supervisor().snapshot(),
        shared.gateway.registry().tool_count(),
    );
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(
        app,
        ids::STATUS,
        &model.status,
        false,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    for s in &model.servers {
        menu.append(&CheckMenuItem::with_id(
            app,
            &s.id,
            &s.label,
            true,
            s.checked,
            None::<&str>,
        )?)?;
    }
    if !model.servers.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    // The profiles in use, with what their clients see (information only).
    let profiles = tray_menu::profile_lines(&shared.gateway, &shared.store.current());
    for (i, line) in profiles.iter().enumerate() {
        let id = format!("profile-line:{i}");
        menu.append(&MenuItem::with_id(
            app,
            &id,
            format!("Profile {line}"),
            false,
            None::<&str>,
        )?)?;
    }
    if !profiles.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    for (id, label) in &model.sign_ins {
        menu.append(&MenuItem::with_id(app, id, label, true, None::<&str>)?)?;
    }
    if !model.sign_ins.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    menu.append(&MenuItem::with_id(
        app,
        ids::OPEN,
        "Open dashboard",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        ids::COPY,
        "Copy client connection info",
        true,
        None::<&str>,
    )?)?;
    let autostart = app.autolaunch().is_enabled().unwrap_or(false);
    menu.append(&CheckMenuItem::with_id(
        app,
        ids::AUTOSTART,
        "Start at login",
        true,
        autostart,
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        ids::QUIT,
        "Quit Loopgate",
        true,
        None::<&str>,
    )?)?;
    Ok((menu, model.attention))
}

fn on_menu(app: &AppHandle, id: &str) {
    let Some(action) = Action::parse(id) else {
        return;
    };
    let shared = app.state::<Arc<Shared>>().inner().clone();
    match action {
        Action::ToggleServer(name) => {
            tauri::async_runtime::spawn(async move {
                if let Err(e) = tray_menu::toggle_server(&shared.store, &name).await {
                    tracing::warn!("tray: could not switch {name}: {e}");
                }
            });
        }
        Action::SignIn(name) => {
            tauri::async_runtime::spawn(async move {
                if let Err(e) =
                    tray_menu::sign_in(shared.gateway.supervisor(), &shared.store, &name).await
                {
                    tracing::warn!("tray: could not sign in to {name}: {e}");
                }
            });
        }
        Action::Open => window::show(app),
        Action::Copy => {
            let _ = app
                .clipboard()
                .write_text(tray_menu::connection_info(&shared.mcp_url));
        }
        Action::Autostart => {
            let launcher = app.autolaunch();
            let _ = if launcher.is_enabled().unwrap_or(false) {
                launcher.disable()
            } else {
                launcher.enable()
            };
            refresh(app);
        }
        Action::Quit => super::quit(app),
    }
}

/// Rebuilds the menu and the icon from the current state.
pub fn refresh(app: &AppHandle) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    if let Ok((menu, attention)) = build_menu(app) {
        let _ = tray.set_menu(Some(menu));
        let _ = tray.set_icon(Some(icon(attention)));
    }
}

/// Creates the tray icon and keeps it in step with the gateway.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let (menu, attention) = build_menu(app)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(attention))
        .tooltip("Loopgate")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window::show(tray.app_handle());
            }
        })
        .build(app)?;
    let handle = app.clone();
    let shared = app.state::<Arc<Shared>>().inner().clone();
    let mut events = shared.gateway.supervisor().events();
    let mut registry = shared.gateway.registry_changes();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::select! {
                r = events.recv() => if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) { return },
                r = registry.changed() => if r.is_err() { return },
            }
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            while events.try_recv().is_ok() {}
            let h = handle.clone();
            let _ = handle.run_on_main_thread(move || refresh(&h));
        }
    });
    Ok(())
}
