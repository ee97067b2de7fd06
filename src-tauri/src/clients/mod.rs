//! Desktop AI clients: where each keeps its MCP config, in which format, and how to wire
//! Loopgate into it (or take its servers out of it).
//!
//! The clients and every fact about them are in one table, [`table::CLIENTS`]. Loopgate's
//! entry for a client is built in [`entry`] (Streamable HTTP with the client's own access token
//! in a header, or `loopgate connect` for clients that only start stdio servers, or when asked
//! for); [`writer`] merges it into the client's file, keeping every other key and the user's
//! formatting and comments (JSON and JSONC in [`jsonc`], TOML in [`toml`], Goose's YAML in
//! [`yaml`]), atomically, with a private backup, idempotently. [`doctor`] checks a wired
//! client the way it will reach Loopgate.

pub mod doctor;
pub mod entry;
pub mod jsonc;
pub mod table;
pub mod toml;
pub mod writer;
pub mod yaml;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::config::Transport;
pub use table::{Client, Paths, CLIENTS};

/// The name of Loopgate's entry in client configs.
pub const ENTRY_NAME: &str = "loopgate";

/// How a client's config file is shaped: its syntax, where its servers are, and the shape of
/// one server entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Format {
    /// `{"mcpServers": {name: {"command", "args", "env"}}}`, stdio only (Claude Desktop).
    McpServersStdio,
    /// `{"mcpServers": {name: {"type": "http", "url", "headers"}}}` (Claude Code, Gemini CLI,
    /// Copilot CLI).
    McpServersTypedHttp,
    /// `{"mcpServers": {name: {"url", "headers"}}}` (Cursor, LM Studio, Kiro).
    McpServersUrl,
    /// `{"mcpServers": {name: {"serverUrl", "headers"}}}` (Windsurf).
    McpServersServerUrl,
    /// `{"servers": {name: {"type": "http" | "stdio", …}}}`, JSONC (VS Code).
    VsCodeServers,
    /// `{"mcpServers": {name: {"httpUrl", "headers"}}}`; `url` means SSE (Qwen Code).
    McpServersHttpUrl,
    /// `{"mcpServers": {name: {"type": "streamableHttp", "url", "headers"}}}` (Cline).
    ClineServers,
    /// `{"mcpServers": {name: {"type": "streamable-http", "url", "headers"}}}` (Roo Code).
    RooServers,
    /// `[mcp_servers.name]` tables with `url` and `http_headers`, TOML (Codex CLI).
    CodexToml,
    /// `{"mcp": {name: {"type": "remote" | "local", …}}}`, JSONC (opencode).
    OpencodeMcp,
    /// `{"context_servers": {name: {"url", "headers"}}}` in the editor's JSONC settings (Zed).
    ZedContextServers,
    /// A file of Loopgate's own in the client's drop-in folder, Claude's shape (Continue).
    ContinueDropIn,
    /// `extensions: {name: {type: streamable_http, uri, headers, …}}`, YAML (Goose).
    GooseYaml,
}

/// The syntax of a client's config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// JSON, with comments and trailing commas kept where the file has them.
    Json,
    /// TOML.
    Toml,
    /// YAML.
    Yaml,
}

impl Format {
    /// The top-level key holding the servers.
    pub fn servers_key(self) -> &'static str {
        match self {
            Format::VsCodeServers => "servers",
            Format::OpencodeMcp => "mcp",
            Format::ZedContextServers => "context_servers",
            Format::CodexToml => "mcp_servers",
            Format::GooseYaml => "extensions",
            _ => "mcpServers",
        }
    }

    /// The file's syntax.
    pub fn syntax(self) -> Syntax {
        match self {
            Format::CodexToml => Syntax::Toml,
            Format::GooseYaml => Syntax::Yaml,
            _ => Syntax::Json,
        }
    }
}

/// A client's config file parsed for editing, whatever its syntax: the servers under a
/// top-level key, read and changed in place so that everything else in the file (other keys,
/// comments, formatting) stays as it was.
pub trait ConfigDoc {
    /// The entries under `key` (empty when there is no such key). Errors: `key` is not a map.
    fn servers(&self, key: &str) -> Result<indexmap::IndexMap<String, Value>, String>;
    /// Sets entry `name` under `key` (created when missing) to `entry`.
    fn set(&mut self, key: &str, name: &str, entry: &Value) -> Result<(), String>;
    /// Removes entry `name` under `key`, and `key` itself when that leaves it empty; whether
    /// there was such an entry.
    fn remove(&mut self, key: &str, name: &str) -> Result<bool, String>;
    /// Whether the document holds nothing at all (no key, no comment).
    fn is_empty(&self) -> bool;
    /// The whole document's content as JSON (comments and formatting aside).
    fn value(&self) -> Value;
    /// The file's new text.
    fn text(&self) -> String;
}

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

/// Expands one path template (see [`table`]); `None` without a home directory.
pub fn expand(template: &str) -> Option<PathBuf> {
    let (home, config) = dirs()?;
    let (base, rest) = if let Some(r) = template.strip_prefix("~/") {
        (home.clone(), r)
    } else if let Some(r) = template.strip_prefix("$CONFIG/") {
        (config, r)
    } else if let Some(r) = template.strip_prefix("$XDG/") {
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(".config"));
        (xdg, r)
    } else {
        (PathBuf::new(), template)
    };
    Some(rest.split('/').fold(base, |p, part| p.join(part)))
}

impl Client {
    /// The client's MCP config file on this OS (its environment variable honoured), `None`
    /// without a home directory.
    pub fn config_path(&self) -> Option<PathBuf> {
        if let Some((var, rel)) = self.paths.env {
            if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                return Some(rel.split('/').fold(PathBuf::from(dir), |p, s| p.join(s)));
            }
        }
        let candidates: Vec<PathBuf> = self.paths.here().split('|').filter_map(expand).collect();
        candidates
            .iter()
            .find(|p| p.exists())
            .or(candidates.first())
            .cloned()
    }

    /// What shows the client is installed here: its config file, one of its directories, or
    /// its program on `PATH`; `None` when nothing does.
    pub fn detected_by(&self) -> Option<String> {
        if let Some(p) = self.config_path().filter(|p| p.exists()) {
            return Some(p.display().to_string());
        }
        if let Some((var, _)) = self.paths.env {
            if let Some(dir) = std::env::var_os(var).map(PathBuf::from) {
                if dir.is_dir() {
                    return Some(dir.display().to_string());
                }
            }
        }
        for d in self.detect_dirs {
            if let Some(p) = expand(d).filter(|p| p.is_dir()) {
                return Some(p.display().to_string());
            }
        }
        self.detect_programs
            .iter()
            .find_map(|p| which::which(p).ok())
            .map(|p| p.display().to_string())
    }

    /// Whether the client looks installed (see [`Client::detected_by`]).
    pub fn installed(&self) -> bool {
        self.detected_by().is_some()
    }

    /// The transport Loopgate uses unless told otherwise: HTTP where the client speaks it.
    pub fn default_transport(&self) -> Transport {
        if self.speaks_http {
            Transport::Http
        } else {
            Transport::Stdio
        }
    }

    /// Whether the client supports `transport`.
    pub fn supports(&self, transport: Transport) -> bool {
        match transport {
            Transport::Http => self.speaks_http,
            Transport::Stdio => self.speaks_stdio,
        }
    }
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
    /// The client cannot use that transport.
    #[error("{client} does not support {transport} servers")]
    Unsupported {
        /// The client's name.
        client: &'static str,
        /// The transport asked for.
        transport: &'static str,
    },
}

/// A known client and how it stands on this machine: a row of `loopgate client list` and of
/// `GET /api/clients`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClientState {
    /// Id used on the command line and in the API: `claude-desktop`, `codex`, `gemini`, …
    /// (`loopgate client list` shows them all).
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
    /// `loopgate connect` — the wired entry's, else the one an install would write.
    pub transport: Transport,
    /// Whether it connects to Streamable HTTP servers.
    pub speaks_http: bool,
    /// Whether it starts stdio servers (`loopgate client install --stdio`).
    pub speaks_stdio: bool,
    /// The most tools it takes per request, when it has a limit.
    pub tool_limit: Option<u32>,
    /// Where Loopgate's facts about it come from.
    pub source: String,
    /// What shows it is installed (its file, a directory, a program on `PATH`).
    pub detected_by: Option<String>,
}

/// The state of every known client.
pub fn states() -> Vec<ClientState> {
    CLIENTS.iter().map(state).collect()
}

/// The state of one client.
pub fn state(c: &Client) -> ClientState {
    let current = writer::entry(c).ok();
    let transport = current
        .as_ref()
        .and_then(|e| e.as_ref())
        .and_then(|e| entry::transport_of(c.format, e))
        .unwrap_or_else(|| c.default_transport());
    let detected_by = c.detected_by();
    ClientState {
        id: c.id.to_string(),
        name: c.name.to_string(),
        format: c.format,
        config_path: c.config_path(),
        installed: detected_by.is_some(),
        wired: current.map(|e| e.is_some()),
        transport,
        speaks_http: c.speaks_http,
        speaks_stdio: c.speaks_stdio,
        tool_limit: c.tool_limit,
        source: c.source.to_string(),
        detected_by,
    }
}

/// What Loopgate's entry is built from.
pub struct Wiring<'a> {
    /// The gateway's MCP endpoint.
    pub mcp_url: &'a str,
    /// The `loopgate` binary (for `loopgate connect`).
    pub exe: &'a Path,
    /// The gateway's config file, passed to `loopgate connect` when it is not the default.
    pub config: Option<&'a Path>,
    /// The profile the client is bound to (`clientProfiles`), passed to `loopgate connect`:
    /// over stdio the client uses the gateway's token, so its binding travels in the command.
    pub profile: Option<&'a str>,
}

impl Wiring<'_> {
    /// The arguments of `loopgate connect` for this gateway.
    pub fn connect_args(&self) -> Vec<String> {
        let mut args = vec!["connect".to_string()];
        if let Some(c) = self.config {
            args.push("--config".to_string());
            args.push(c.display().to_string());
        }
        if let Some(p) = self.profile {
            args.push("--profile".to_string());
            args.push(p.to_string());
        }
        args
    }
}

/// The entry Loopgate wants in `client`'s file for `transport` (issuing the client's token for
/// HTTP).
pub async fn wanted_entry(
    client: &Client,
    transport: Transport,
    config_path: &Path,
    secrets: &crate::secrets::SecretStore,
    mcp_url: &str,
    exe: &Path,
) -> Result<Value, WireError> {
    if !client.supports(transport) {
        return Err(WireError::Unsupported {
            client: client.name,
            transport: transport.as_str(),
        });
    }
    let token = match transport {
        Transport::Http => {
            crate::token::issue_client_token(config_path, secrets, client.id).await?
        }
        Transport::Stdio => String::new(),
    };
    let non_default = crate::config::default_config_path().is_none_or(|d| d != config_path);
    let profile = bound_profile(config_path, client);
    let wiring = Wiring {
        mcp_url,
        exe,
        config: non_default.then_some(config_path),
        profile: profile.as_deref(),
    };
    Ok(entry::build(client.format, transport, &wiring, &token))
}

/// The profile `client` is bound to in the config at `config_path` (`clientProfiles`), if any.
pub fn bound_profile(config_path: &Path, client: &Client) -> Option<String> {
    crate::config::store::load(config_path)
        .ok()?
        .client_profiles
        .get(client.id)
        .cloned()
}

/// Wires Loopgate into `client` over its default transport (see [`install_with`]).
pub async fn install(
    client: &Client,
    config_path: &Path,
    secrets: &crate::secrets::SecretStore,
    mcp_url: &str,
    exe: &Path,
) -> Result<writer::Change, WireError> {
    let t = client.default_transport();
    install_with(client, t, config_path, secrets, mcp_url, exe).await
}

/// Wires Loopgate into `client` over `transport`: issues the client's own token (HTTP) and
/// merges the entry into its file. `exe` is the `loopgate` binary for stdio entries; `config`
/// is passed to `loopgate connect` when it is not the default config.
pub async fn install_with(
    client: &Client,
    transport: Transport,
    config_path: &Path,
    secrets: &crate::secrets::SecretStore,
    mcp_url: &str,
    exe: &Path,
) -> Result<writer::Change, WireError> {
    let entry = wanted_entry(client, transport, config_path, secrets, mcp_url, exe).await?;
    Ok(writer::install(client, &entry)?)
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
