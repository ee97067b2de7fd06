//! What the tray menu shows and does, without any Tauri type, so the desktop shell stays thin
//! and the logic is tested headless.
//!
//! [`model`] turns the supervisor's snapshot into menu rows (a status line, one check item per
//! server, the fixed actions); [`Action::parse`] reads a clicked item's id; [`toggle_server`]
//! is what a server's check item does — it goes through the one config writer, so the
//! dashboard updates live and clients get `tools/list_changed`.

use crate::config::{ConfigError, Store};
use crate::upstream::supervisor::Snapshot;
use crate::upstream::ServerState;

/// Menu item ids.
pub mod ids {
    /// Prefix of a server's check item: `server:<name>`.
    pub const SERVER_PREFIX: &str = "server:";
    /// The status line (disabled item).
    pub const STATUS: &str = "status";
    /// "Open dashboard".
    pub const OPEN: &str = "open";
    /// "Copy client connection info".
    pub const COPY: &str = "copy";
    /// "Start at login".
    pub const AUTOSTART: &str = "autostart";
    /// "Quit".
    pub const QUIT: &str = "quit";
}

/// A clicked menu item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Flip server `name` on/off.
    ToggleServer(String),
    /// Show the dashboard window.
    Open,
    /// Copy the endpoint URL and header to the clipboard.
    Copy,
    /// Flip "start at login".
    Autostart,
    /// Quit the app (gateway stopped cleanly).
    Quit,
}

impl Action {
    /// The action of a menu item id; `None` for the status line or unknown ids.
    pub fn parse(id: &str) -> Option<Action> {
        if let Some(name) = id.strip_prefix(ids::SERVER_PREFIX) {
            return Some(Action::ToggleServer(name.to_string()));
        }
        match id {
            ids::OPEN => Some(Action::Open),
            ids::COPY => Some(Action::Copy),
            ids::AUTOSTART => Some(Action::Autostart),
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
    /// True when some enabled server is failing or degraded (the tray shows attention).
    pub attention: bool,
}

/// Builds the menu model from the supervisor snapshot and the number of tools clients see.
pub fn model(snapshot: &Snapshot, tool_count: usize) -> MenuModel {
    let failing = snapshot
        .values()
        .filter(|v| matches!(v.status.state, ServerState::Failed | ServerState::Degraded))
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
                other => other.as_str().to_string(),
            };
            ServerItem {
                id: format!("{}{name}", ids::SERVER_PREFIX),
                label: format!("{name} — {detail}"),
                checked: v.status.enabled,
            }
        })
        .collect();
    MenuModel {
        status,
        servers,
        attention: failing > 0,
    }
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
        assert_eq!(Action::parse(ids::STATUS), None);
    }
}
