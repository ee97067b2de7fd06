//! What the tray menu shows and does, without any Tauri type, so the desktop shell stays thin
//! and the logic is tested headless.
//!
//! [`model`] turns the supervisor's snapshot into menu rows (a status line, one check item per
//! server, the fixed actions); [`Action::parse`] reads a clicked item's id; [`toggle_server`]
//! is what a server's check item does — it goes through the one config writer, so the
//! dashboard updates live and clients get `tools/list_changed`.

use crate::config::{ConfigError, Store};
use crate::oauth::Trigger;
use crate::upstream::ServerState;
use crate::upstream::Snapshot;
use crate::upstream::Supervisor;

/// Menu item ids.
pub mod ids {
    /// Prefix of a server's check item: `server:<name>`.
    pub const SERVER_PREFIX: &str = "server:";
    /// Prefix of a server's "Sign in to …" item: `signin:<name>`.
    pub const SIGN_IN_PREFIX: &str = "signin:";
    /// The status line (disabled item).
    pub const STATUS: &str = "status";
    /// "Open dashboard".
    pub const OPEN: &str = "open";
    /// "Copy client connection info".
    pub const COPY: &str = "copy";
    /// "Start at login".
    pub const AUTOSTART: &str = "autostart";
    /// "Notifications" (on/off).
    pub const NOTIFICATIONS: &str = "notifications";
    /// "Quit".
    pub const QUIT: &str = "quit";
}

/// A clicked menu item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Flip server `name` on/off.
    ToggleServer(String),
    /// Sign in to server `name` (OAuth; opens the browser).
    SignIn(String),
    /// Show the dashboard window.
    Open,
    /// Copy the endpoint URL and header to the clipboard.
    Copy,
    /// Flip "start at login".
    Autostart,
    /// Flip desktop notifications.
    Notifications,
    /// Quit the app (gateway stopped cleanly).
    Quit,
}

impl Action {
    /// The action of a menu item id; `None` for the status line or unknown ids.
    pub fn parse(id: &str) -> Option<Action> {
        if let Some(name) = id.strip_prefix(ids::SERVER_PREFIX) {
            return Some(Action::ToggleServer(name.to_string()));
        }
        if let Some(name) = id.strip_prefix(ids::SIGN_IN_PREFIX) {
            return Some(Action::SignIn(name.to_string()));
        }
        match id {
            ids::OPEN => Some(Action::Open),
            ids::COPY => Some(Action::Copy),
            ids::AUTOSTART => Some(Action::Autostart),
            ids::NOTIFICATIONS => Some(Action::Notifications),
            ids::QUIT => Some(Action::Quit),
            _ => None,
        }
    }
}

/// One server row of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerItem {
    /// Item id (`server:<name>`).
    pub id: String,
    /// Label, e.g. `github — 12 tools` or `remote — failed`.
    pub label: String,
    /// Checked = enabled.
    pub checked: bool,
}

/// The menu's content and the tray's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuModel {
    /// Status line, e.g. `4 servers · 57 tools` or `1 server failing · 57 tools`.
    pub status: String,
    /// One row per server, in config order.
    pub servers: Vec<ServerItem>,
    /// "Sign in to …" items (id, label) for servers that need an OAuth sign-in.
    pub sign_ins: Vec<(String, String)>,
    /// True when some enabled server is failing or degraded (the tray shows attention).
    pub attention: bool,
}

/// Builds the menu model from the supervisor snapshot and the number of tools clients see.
pub fn model(snapshot: &Snapshot, tool_count: usize) -> MenuModel {
    let failing = snapshot
        .values()
        .filter(|v| {
            matches!(
                v.status.state,
                ServerState::Failed | ServerState::Degraded | ServerState::NeedsSignIn
            )
        })
        .count();
    let enabled = snapshot.values().filter(|v| v.status.enabled).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let status = if failing > 0 {
        format!(
            "{} failing · {}",
            plural(failing, "server"),
            plural(tool_count, "tool")
        )
    } else if snapshot.is_empty() {
        "No servers configured".to_string()
    } else {
        format!(
            "{} · {}",
            plural(enabled, "server"),
            plural(tool_count, "tool")
        )
    };
    let servers = snapshot
        .iter()
        .map(|(name, v)| {
            let detail = match v.status.state {
                ServerState::Ready => plural(v.status.tool_count, "tool"),
                ServerState::NeedsSignIn => "needs sign-in".to_string(),
                other => other.as_str().to_string(),
            };
            ServerItem {
                id: format!("{}{name}", ids::SERVER_PREFIX),
                label: format!("{name} — {detail}"),
                checked: v.status.enabled,
            }
        })
        .collect();
    let sign_ins = snapshot
        .iter()
        .filter(|(_, v)| v.status.state == ServerState::NeedsSignIn)
        .map(|(name, _)| {
            (
                format!("{}{name}", ids::SIGN_IN_PREFIX),
                format!("Sign in to {name}…"),
            )
        })
        .collect();
    MenuModel {
        status,
        servers,
        sign_ins,
        attention: failing > 0,
    }
}

/// One line per profile in use (bound to an installed client or to the gateway's own token):
/// its name, how many tools its clients see and who uses it, e.g. `coding · 12 tools (cursor,
/// zed)`; search-mode profiles say so. Profiles nobody uses are left out.
pub fn profile_lines(
    gateway: &crate::gateway::Gateway,
    config: &crate::config::Config,
) -> Vec<String> {
    let reg = gateway.registry();
    let profiles = gateway.profiles();
    config
        .profiles
        .keys()
        .filter_map(|name| {
            let mut users: Vec<&str> = config
                .client_profiles
                .iter()
                .filter(|(_, p)| *p == name)
                .map(|(c, _)| c.as_str())
                .collect();
            if config.gateway.profile.as_deref() == Some(name.as_str()) {
                users.push("gateway token");
            }
            if users.is_empty() {
                return None;
            }
            let scope = profiles.scope(Some(name)).ok()?;
            let tools = crate::gateway::View::new(&reg, &scope)
                .exposed_tools()
                .count();
            let plural = if tools == 1 { "" } else { "s" };
            let mode = if scope.tool_search() {
                ", search mode"
            } else {
                ""
            };
            Some(format!(
                "{name} · {tools} tool{plural}{mode} ({})",
                users.join(", ")
            ))
        })
        .collect()
}

/// What a server's check item does: enable it if disabled, disable it if enabled, through the
/// config writer. Returns the new enabled state.
///
/// Errors: [`ConfigError::UnknownServer`] when the server was removed meanwhile.
pub async fn toggle_server(store: &Store, name: &str) -> Result<bool, ConfigError> {
    let enabled = !store
        .current()
        .mcp_servers
        .get(name)
        .ok_or_else(|| ConfigError::UnknownServer(name.to_string()))?
        .disabled;
    store.set_server_enabled(name, !enabled).await?;
    Ok(!enabled)
}

/// What a "Sign in to …" item does: starts the OAuth sign-in of server `name` (the gateway's
/// hub opens the browser), or re-opens the page of the one already pending.
///
/// Errors: a text for the user (unknown server, not an OAuth server, unreadable secret).
pub async fn sign_in(supervisor: &Supervisor, store: &Store, name: &str) -> Result<(), String> {
    let hub = supervisor.oauth();
    let (url, settings) =
        crate::oauth::sign_in_target(&store.current(), hub.secrets(), name).await?;
    hub.begin(name, &url, &settings, None, Trigger::User);
    Ok(())
}

/// The text "Copy client connection info" puts on the clipboard.
pub fn connection_info(mcp_url: &str) -> String {
    format!(
        "Loopgate MCP endpoint: {mcp_url}\nHeader: Authorization: Bearer <token>   (run `loopgate token`, or `loopgate client install <client>`)\nstdio clients: loopgate connect"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        assert_eq!(
            Action::parse("server:github"),
            Some(Action::ToggleServer("github".into()))
        );
        assert_eq!(Action::parse(ids::QUIT), Some(Action::Quit));
        assert_eq!(
            Action::parse(ids::NOTIFICATIONS),
            Some(Action::Notifications)
        );
        assert_eq!(
            Action::parse("signin:linear"),
            Some(Action::SignIn("linear".into()))
        );
        assert_eq!(Action::parse(ids::STATUS), None);
    }

    #[tokio::test]
    async fn the_tray_shows_the_profiles_in_use() {
        let supervisor = Supervisor::new(crate::secrets::SecretStore::with_backend(
            std::sync::Arc::new(crate::secrets::MemoryBackend::default()),
        ));
        let gateway = crate::gateway::Gateway::new(supervisor);
        let config: crate::config::Config = serde_json::from_value(serde_json::json!({
            "profiles": {"coding": {}, "research": {"toolSearch": true}, "unused": {}},
            "clientProfiles": {"cursor": "coding", "zed": "coding"},
            "gateway": {"profile": "research"}
        }))
        .unwrap();
        gateway.apply_config(&config).await;
        assert_eq!(
            profile_lines(&gateway, &config),
            [
                "coding · 0 tools (cursor, zed)",
                "research · 0 tools, search mode (gateway token)"
            ]
        );
    }
}
