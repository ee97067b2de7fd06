//! Desktop AI clients: where each keeps its MCP config, in which format, and how to wire
//! Loopgate into it (or take its servers out of it).
//!
//! Known clients: Claude Desktop (stdio only → `loopgate connect`), Claude Code, Cursor,
//! VS Code and Windsurf (Streamable HTTP with the client's own access token in a header).
//! [`writer`] merges the Loopgate entry into a client's file, keeping every other key, writing
//! atomically with a timestamped backup, idempotently.

pub mod writer;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::Transport;

/// The name of Loopgate's entry in client configs.
pub const ENTRY_NAME: &str = "loopgate";

/// How a client's config file is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Format {
    /// `{"mcpServers": {name: {"command", "args", "env"}}}`, stdio only (Claude Desktop).
    McpServersStdio,
    /// `{"mcpServers": {name: {"type": "http", "url", "headers"}}}` (Claude Code).
    McpServersTypedHttp,
    /// `{"mcpServers": {name: {"url", "headers"}}}` (Cursor).
    McpServersUrl,
    /// `{"mcpServers": {name: {"serverUrl", "headers"}}}` (Windsurf).
    McpServersServerUrl,
    /// `{"servers": {name: {"type": "http" | "stdio", …}}}` (VS Code).
    VsCodeServers,
}

impl Format {
    /// The top-level key holding the servers.
    pub fn servers_key(self) -> &'static str {
        match self {
            Format::VsCodeServers => "servers",
            _ => "mcpServers",
        }
    }
}

/// A known client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// Id used on the command line: `claude-desktop`, `claude-code`, `cursor`, `vscode`, `windsurf`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Its config format.
    pub format: Format,
}

/// Every client Loopgate can wire.
pub const CLIENTS: &[Client] = &[
    Client {
        id: "claude-desktop",
        name: "Claude Desktop",
        format: Format::McpServersStdio,
    },
    Client {
        id: "claude-code",
        name: "Claude Code",
        format: Format::McpServersTypedHttp,
    },
    Client {
        id: "cursor",
        name: "Cursor",
        format: Format::McpServersUrl,
    },
    Client {
        id: "vscode",
        name: "VS Code",
        format: Format::VsCodeServers,
    },
    Client {
        id: "windsurf",
        name: "Windsurf",
        format: Format::McpServersServerUrl,
    },
];

/// Looks a client up by id. Errors: the list of known ids.
pub fn find(id: &str) -> Result<Client, String> {
    CLIENTS.iter().copied().find(|c| c.id == id).ok_or_else(|| {
        format!(
            "unknown client \"{id}\"; known clients: {}",
            CLIENTS.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
        )
    })
}

/// The user's home and config directories (from `directories`: `$HOME`, `$XDG_CONFIG_HOME` on
/// Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows).
fn dirs() -> Option<(PathBuf, PathBuf)> {
    let base = directories::BaseDirs::new()?;
    Some((
        base.home_dir().to_path_buf(),
        base.config_dir().to_path_buf(),
    ))
}

impl Client {
    /// The client's MCP config file on this OS, `None` without a home directory.
    pub fn config_path(&self) -> Option<PathBuf> {
        let (home, config) = dirs()?;
        Some(match self.id {
            "claude-desktop" => config.join("Claude").join("claude_desktop_config.json"),
            "claude-code" => home.join(".claude.json"),
            "cursor" => home.join(".cursor").join("mcp.json"),
            "vscode" => config.join("Code").join("User").join("mcp.json"),
            "windsurf" => home
                .join(".codeium")
                .join("windsurf")
                .join("mcp_config.json"),
            _ => unreachable!("every client has a path"),
        })
    }

    /// Whether the client looks installed: its config file or its config directory exists.
    pub fn installed(&self) -> bool {
        let Some(path) = self.config_path() else {
            return false;
        };
        path.exists() || (self.id != "claude-code" && path.parent().is_some_and(Path::exists))
    }

    /// Whether the client supports Streamable HTTP servers (else `loopgate connect` is used).
    pub fn speaks_http(&self) -> bool {
        self.format != Format::McpServersStdio
    }

    /// Loopgate's entry for this client: the HTTP endpoint with `token` in an Authorization
    /// header, or for stdio-only clients the `loopgate connect` command (`exe` plus, when the
    /// config is not the default one, `--config <path>`).
    pub fn entry(&self, mcp_url: &str, token: &str, exe: &Path, config: Option<&Path>) -> Value {
        let headers = json!({"Authorization": format!("Bearer {token}")});
        match self.format {
            Format::McpServersStdio => {
                let mut args = vec![Value::from("connect")];
                if let Some(c) = config {
                    args.push("--config".into());
                    args.push(c.display().to_string().into());
                }
                json!({"command": exe.display().to_string(), "args": args})
            }
            Format::McpServersTypedHttp | Format::VsCodeServers => {
                json!({"type": "http", "url": mcp_url, "headers": headers})
            }
            Format::McpServersUrl => json!({"url": mcp_url, "headers": headers}),
            Format::McpServersServerUrl => json!({"serverUrl": mcp_url, "headers": headers}),
        }
    }
}

/// A client's server entry in Loopgate's own `mcpServers` shape (for import): `serverUrl`
/// becomes `url`, VS Code's `type` is dropped. `None` for an entry without command or URL.
pub fn to_loopgate_entry(entry: &Value) -> Option<Value> {
    let mut e = entry.as_object()?.clone();
    if let Some(u) = e.remove("serverUrl") {
        e.entry("url").or_insert(u);
    }
    if let Some(t) = e.get("type").and_then(Value::as_str) {
        if matches!(t, "stdio" | "http" | "streamable-http" | "sse") {
            e.remove("type");
        }
    }
    (e.contains_key("command") || e.contains_key("url")).then_some(Value::Object(e))
}

/// Errors of the wiring actions.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Editing the client's file failed.
    #[error(transparent)]
    File(#[from] writer::ClientError),
    /// The client's token could not be issued or revoked.
    #[error(transparent)]
    Token(#[from] crate::token::TokenError),
}

/// A known client and how it stands on this machine: a row of `loopgate client list` and of
/// `GET /api/clients`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClientState {
    /// Id used on the command line: `claude-desktop`, `claude-code`, `cursor`, `vscode`,
    /// `windsurf`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its config format.
    pub format: Format,
    /// Its config file (`None` without a home directory).
    pub config_path: Option<PathBuf>,
    /// Whether it seems installed here.
    pub installed: bool,
    /// Whether Loopgate is in its config (`None` when the file cannot be read).
    pub wired: Option<bool>,
    /// How it reaches Loopgate: Streamable HTTP with its own token, or stdio through
    /// `loopgate connect`.
    pub transport: Transport,
}

/// The state of every known client.
pub fn states() -> Vec<ClientState> {
    CLIENTS
        .iter()
        .map(|c| ClientState {
            id: c.id.to_string(),
            name: c.name.to_string(),
            format: c.format,
            config_path: c.config_path(),
            installed: c.installed(),
            wired: writer::is_wired(c).ok(),
            transport: if c.speaks_http() {
                Transport::Http
            } else {
                Transport::Stdio
            },
        })
        .collect()
}

/// Wires Loopgate into `client`: issues the client's own token (HTTP clients) and merges the
/// entry into its file. `exe` is the `loopgate` binary for stdio clients; `config` is passed to
/// `loopgate connect` when it is not the default config.
pub async fn install(
    client: &Client,
    config_path: &Path,
    secrets: &crate::secrets::SecretStore,
    mcp_url: &str,
    exe: &Path,
) -> Result<writer::Change, WireError> {
    let token = if client.speaks_http() {
        crate::token::issue_client_token(config_path, secrets, client.id).await?
    } else {
        String::new()
    };
    let non_default = crate::config::default_config_path().is_none_or(|d| d != config_path);
    let entry = client.entry(mcp_url, &token, exe, non_default.then_some(config_path));
    Ok(writer::install(client, entry)?)
}

/// Revokes the client's token, then removes Loopgate from `client`'s file. The token goes
/// first: a file Loopgate cannot edit (it fails to parse, say) still leaves the client cut off.
pub async fn uninstall(
    client: &Client,
    config_path: &Path,
    secrets: &crate::secrets::SecretStore,
) -> Result<writer::Change, WireError> {
    crate::token::revoke_client_token(config_path, secrets, client.id).await?;
    Ok(writer::uninstall(client)?)
}
