//! The bodies of every `/api` answer, as typed structs: the handlers build them, the CLI reads
//! them back (`cli::client`), and the dashboard gets them as TypeScript declarations generated
//! from these types (`ui/src/api-types.gen.ts`, written and checked by the unit test in
//! `types/typescript.rs`). Field names are camelCase on the wire; `Option` fields are `null`
//! when absent unless a field's docs say it is left out.
//!
//! Types defined lower down and sent as they are: [`ServerStatus`], [`ServerState`],
//! [`SignInView`], [`SignedOut`], [`AuthStatus`]'s stored part ([`StoredSignIn`]) and
//! [`ClientState`], [`Suggestion`].

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use crate::clients::ClientState;
pub use crate::config::model::ServerAuth;
pub use crate::config::suggestions::Suggestion;
pub use crate::oauth::hub::SignInView;
pub use crate::oauth::revoke::{Revocation, SignedOut};
pub use crate::oauth::store::Status as StoredSignIn;
pub use crate::upstream::{ServerState, ServerStatus};

/// The one error shape of `/api`: every failure, from a handler, an extractor (a body that is
/// not JSON or has an unknown key, an unknown server), an unknown route or method, or the guard
/// (a missing or refused credential), answers `{"error": "…"}` with an HTTP error status, plus
/// `"field"` when one input field is at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ApiErrorBody {
    /// What is wrong and how to fix it; the dashboard shows it verbatim.
    pub error: String,
    /// The input field at fault (`name`, `url`, `headers`, `oauth.clientSecret`, `args[2]`, …);
    /// left out when the error is not about one field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `GET /api/info`: the gateway itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Info {
    /// Loopgate's version.
    pub version: String,
    /// The MCP endpoint clients use.
    pub mcp_url: String,
    /// The config file.
    pub config_path: String,
    /// Tools clients see.
    pub tool_count: usize,
    /// `"gateway": {"auth": "none"}` turns token checking on `/mcp` off.
    pub auth_none: bool,
    /// Why the last hand edit of the config file was refused (the last good config runs).
    pub config_error: Option<String>,
    /// The gateway opens OAuth sign-in pages itself (the desktop app).
    pub sign_in_opens_browser: bool,
}

/// One entry of `GET /api/servers` (and of the `servers` event): the server's status, its
/// sign-in and its config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ServerInfo {
    /// Its status (state, counters, last error), inline.
    #[serde(flatten)]
    pub status: ServerStatus,
    /// Its OAuth sign-in, if one is pending or failed.
    pub sign_in: SignInView,
    /// Its config entry (never a secret value).
    pub config: ServerConfigView,
}

/// A server's config entry as the API shows it: `${secret:…}` references as written, never
/// secret values; the OAuth client secret not even as a reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ServerConfigView {
    /// Tools (as the server names them) hidden from clients.
    pub disabled_tools: Vec<String>,
    /// How Loopgate reaches it, inline.
    #[serde(flatten)]
    pub connection: ConnectionView,
}

/// The connection part of a [`ServerConfigView`]: the keys of a stdio or of an HTTP server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ConnectionView {
    /// A stdio server.
    Stdio(StdioView),
    /// A Streamable HTTP server.
    Http(HttpView),
    /// An entry with neither a command nor a URL (the config's validation refuses those, so
    /// a running gateway never shows one): no keys.
    #[cfg_attr(test, ts(skip))]
    Neither {},
}

/// The config of a stdio server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StdioView {
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its extra environment (values or `${secret:…}` references).
    pub env: IndexMap<String, String>,
    /// Its working directory.
    pub cwd: Option<String>,
}

/// The config of a Streamable HTTP server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HttpView {
    /// The endpoint.
    pub url: String,
    /// Extra headers (values or `${secret:…}` references).
    pub headers: IndexMap<String, String>,
    /// `oauth` or `none` when set; `null`: sign in when the server asks.
    pub auth: Option<ServerAuth>,
    /// Its OAuth client options, if any.
    pub oauth: Option<OAuthView>,
}

/// A server's OAuth client options; the client secret is never shown, only whether one is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OAuthView {
    /// A pre-registered client id.
    pub client_id: Option<String>,
    /// Whether a client secret is stored for it.
    pub has_client_secret: bool,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// A Client ID Metadata Document URL.
    pub client_metadata_url: Option<String>,
}

/// One entry of `GET /api/servers/{name}/tools`: a tool the server lists (disabled ones too).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ServerTool {
    /// The name clients see.
    pub name: String,
    /// The name the server gives it.
    pub original_name: String,
    /// Its display title.
    pub title: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its MCP annotations (hints), as the server sent them.
    #[cfg_attr(test, ts(type = "ToolAnnotations | null"))]
    pub annotations: Option<rmcp::model::ToolAnnotations>,
    /// The JSON Schema of its arguments.
    #[cfg_attr(test, ts(type = "JsonSchema"))]
    pub input_schema: rmcp::model::JsonObject,
    /// The JSON Schema of its structured result, if it declares one.
    #[cfg_attr(test, ts(type = "JsonSchema | null"))]
    pub output_schema: Option<rmcp::model::JsonObject>,
    /// False when listed in the server's `disabledTools`.
    pub enabled: bool,
}

/// `GET /api/tools`: the tools clients see.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ToolList {
    /// How many.
    pub count: usize,
    /// The tools.
    pub tools: Vec<ExposedTool>,
}

/// A tool as clients see it, with the server it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ExposedTool {
    /// The name clients see.
    pub name: String,
    /// Its server.
    pub server: String,
    /// The name the server gives it.
    pub original_name: String,
    /// Its description.
    pub description: Option<String>,
}

/// The `tools` event of `GET /api/events`: how many tools clients see now.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ToolCount {
    /// How many.
    pub count: usize,
}

/// One entry of `GET /api/servers/{name}/logs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LogLine {
    /// When, in milliseconds since the Unix epoch.
    pub ts_ms: u64,
    /// `stderr` (the server's own output) or `gateway` (Loopgate's notes).
    pub source: String,
    /// The text.
    pub line: String,
}

impl From<crate::upstream::logs::LogLine> for LogLine {
    fn from(l: crate::upstream::logs::LogLine) -> Self {
        Self {
            ts_ms: l.ts_ms,
            source: l.source.to_string(),
            line: l.line,
        }
    }
}

/// `{ ok: true }`: the change was made (switches, edit, remove, restart, quit, token reload).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct OkAnswer {
    /// Always true.
    pub ok: bool,
}

impl OkAnswer {
    /// `{ ok: true }`.
    pub const fn new() -> Self {
        Self { ok: true }
    }
}

impl Default for OkAnswer {
    fn default() -> Self {
        Self::new()
    }
}

/// `POST /api/servers` (201): the server was added under `name`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AddedAnswer {
    /// Always true.
    pub ok: bool,
    /// Its name.
    pub name: String,
}

/// `POST /api/servers/import`: the servers added, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ImportedAnswer {
    /// Their names.
    pub added: Vec<String>,
}

/// `POST /api/secrets/{name}/changed`: the servers using the secret, restarted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RestartedAnswer {
    /// Their names.
    pub restarted: Vec<String>,
}

/// `POST /api/config/reload`: whether the file differed from the running config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReloadedAnswer {
    /// True when the file changed and was applied.
    pub changed: bool,
}

/// `{ url }`: a one-time dashboard link (`POST /api/dashboard/link`) or a sign-in page to open
/// (`POST /api/servers/{name}/auth/login`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct UrlAnswer {
    /// The URL.
    pub url: String,
}

/// `POST /api/servers/{name}/auth/cancel`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CancelledAnswer {
    /// Whether a sign-in was pending (and is now cancelled).
    pub cancelled: bool,
}

/// One entry of `GET /api/auth`: an HTTP server that may sign in with OAuth (never a token).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AuthStatus {
    /// What the keychain holds for it, inline.
    #[serde(flatten)]
    pub stored: StoredSignIn,
    /// The server's state; `null` when it is not running (or no gateway runs: `loopgate auth
    /// status` without one).
    pub state: Option<ServerState>,
    /// Its sign-in in progress or last failure.
    pub sign_in: SignInView,
}

/// `GET /api/clients`: the desktop clients and what to paste into others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClientList {
    /// Every known client.
    pub clients: Vec<ClientState>,
    /// For clients Loopgate cannot wire itself.
    pub snippets: ClientSnippets,
}

/// `GET /api/suggestions`: well-known servers to add, detected ones first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SuggestionList {
    /// The suggestions.
    pub suggestions: Vec<Suggestion>,
}

/// How any MCP client reaches Loopgate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClientSnippets {
    /// The Streamable HTTP endpoint.
    pub mcp_url: String,
    /// The command line of the stdio bridge (`loopgate connect`).
    pub stdio_command: String,
}

/// `POST /api/clients/{id}/install` and `uninstall`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClientChangeAnswer {
    /// Always true.
    pub ok: bool,
    /// What happened to the client's config file.
    pub change: ClientChange,
}

/// What an install or uninstall did to a client's config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClientChange {
    /// Whether the file was written (false: it already was as wanted).
    pub written: bool,
    /// Where the previous file was copied to, when there was one.
    pub backup: Option<String>,
}

impl From<&crate::clients::writer::Change> for ClientChange {
    fn from(change: &crate::clients::writer::Change) -> Self {
        use crate::clients::writer::Change;
        match change {
            Change::Unchanged => Self {
                written: false,
                backup: None,
            },
            Change::Written { backup } => Self {
                written: true,
                backup: backup.as_ref().map(|p| p.display().to_string()),
            },
        }
    }
}

#[cfg(test)]
mod typescript;
