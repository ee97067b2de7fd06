//! The tray icon: a status line, one check item per server (enable/disable with one click,
//! through the config writer), Open dashboard, Copy client connection info, Start at login,
//! Notifications, Quit. The menu and the icon's health are rebuilt whenever a server changes.

use std::sync::Arc;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_clipboard_manager::ClipboardExt as _;

use super::{notify::Notifications, window, Shared};
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
    menu.append(&CheckMenuItem::with_id(
        app,
        ids::AUTOSTART,
        "Start at login",
        true,
        login_item::enabled(app),
        None::<&str>,
    )?)?;
    menu.append(&CheckMenuItem::with_id(
        app,
        ids::NOTIFICATIONS,
        "Notifications",
        true,
        app.state::<Notifications>().enabled(),
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
            if let Err(e) = login_item::toggle(app) {
                tracing::warn!("tray: could not change \"Start at login\": {e}");
            }
            refresh(app);
        }
        Action::Notifications => {
            let on = app.state::<Notifications>().toggle();
            tracing::info!("notifications {}", if on { "on" } else { "off" });
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
    login_item::update_existing(app);
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

/// "Start at login": on Linux an XDG autostart entry ([`crate::autostart`]), elsewhere
/// tauri-plugin-autostart.
mod login_item {
    use tauri::AppHandle;

    /// Whether the app starts at login.
    pub fn enabled(app: &AppHandle) -> bool {
        #[cfg(target_os = "linux")]
        {
            let _ = app;
            crate::autostart::user_entry_path().is_some_and(|p| crate::autostart::is_enabled(&p))
        }
        #[cfg(not(target_os = "linux"))]
        {
            use tauri_plugin_autostart::ManagerExt as _;
            app.autolaunch().is_enabled().unwrap_or(false)
        }
    }

    /// Switches starting at login on or off.
    ///
    /// Errors: the entry could not be written or removed (a text for the log).
    pub fn toggle(app: &AppHandle) -> Result<(), String> {
        #[cfg(target_os = "linux")]
        {
            use crate::autostart;
            let path = autostart::user_entry_path().ok_or("no home directory")?;
            if autostart::is_enabled(&path) {
                autostart::disable(&path).map_err(|e| e.to_string())
            } else {
                let program = program(app)?;
                tracing::info!(
                    "start at login: {} runs {}",
                    path.display(),
                    program.display()
                );
                autostart::enable(&path, &program).map_err(|e| e.to_string())
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            use tauri_plugin_autostart::ManagerExt as _;
            let launcher = app.autolaunch();
            if launcher.is_enabled().unwrap_or(false) {
                launcher.disable()
            } else {
                launcher.enable()
            }
            .map_err(|e| e.to_string())
        }
    }

    /// The program the entry starts (the installed app, see [`crate::autostart::launch_target`]).
    #[cfg(target_os = "linux")]
    fn program(app: &AppHandle) -> Result<std::path::PathBuf, String> {
        use tauri::Manager as _;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let appimage = app.env().appimage.map(std::path::PathBuf::from);
        Ok(crate::autostart::launch_target(
            &exe,
            appimage.as_deref(),
            std::path::Path::new(crate::autostart::INSTALLED),
        ))
    }

    /// An entry an earlier version wrote (another program, no `--hidden`) is brought up to date
    /// at start; never by a build output, which would point the login at a build directory.
    pub fn update_existing(app: &AppHandle) {
        #[cfg(target_os = "linux")]
        {
            use crate::autostart;
            let Some(path) = autostart::user_entry_path().filter(|p| autostart::is_enabled(p))
            else {
                return;
            };
            let Ok(program) = program(app) else { return };
            if autostart::is_build_output(&program) {
                return;
            }
            let want = autostart::desktop_entry(&program);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
                match autostart::enable(&path, &program) {
                    Ok(()) => tracing::info!("start at login: updated {}", path.display()),
                    Err(e) => {
                        tracing::warn!("start at login: could not update {}: {e}", path.display())
                    }
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = app;
    }
}
