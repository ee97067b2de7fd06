//! The config's types, as the file holds them (validation is in the `validate` module).
//!
//! The file is JSON:
//!
//! ```json
//! {
//!   "gateway": { "port": 7337, "bind": "127.0.0.1" },
//!   "mcpServers": {
//!     "everything": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything", "stdio"] },
//!     "remote":     { "url": "https://example.com/mcp", "headers": { "X-Team": "blue" } }
//!   }
//! }
//! ```
//!
//! Each server entry is either a stdio server (`command`, `args`, `env`, `cwd`) or a Streamable
//! HTTP server (`url`, `headers`), plus Loopgate's keys `disabled`, `disabledTools` and
//! `timeoutMs`. Unknown keys are kept as they are, so a rewrite never loses what a user (or
//! another tool) put there.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

pub use super::error::ConfigError;
pub use super::profiles::Profile;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Default TCP port of the gateway endpoint.
pub const DEFAULT_PORT: u16 = 7337;
/// Default time a backend gets to connect and finish its handshake, in milliseconds.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 30_000;
/// Default time a single request to a backend may take, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 120_000;
/// Longest server name accepted, in characters (leaves room for tool names under the spec's
/// 128-character limit).
pub const MAX_SERVER_NAME_LEN: usize = 48;

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// Settings of the gateway endpoint itself.
    #[serde(default)]
    pub gateway: GatewaySettings,
    /// The backends, by name, in file order.
    #[serde(default)]
    pub mcp_servers: IndexMap<String, ServerEntry>,
    /// Named sets of servers and tools ([`super::profiles`]).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub profiles: IndexMap<String, Profile>,
    /// The profile each installed client's token is bound to: client id (as in `loopgate
    /// client list`) → profile name. A client not listed sees every server.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub client_profiles: IndexMap<String, String>,
    /// Keys Loopgate does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: IndexMap<String, Value>,
}

/// The `gateway` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySettings {
    /// TCP port of the endpoint (default [`DEFAULT_PORT`]; `0` picks a free port).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Address to bind; must be a loopback address (default `127.0.0.1`).
    #[serde(default = "default_bind")]
    pub bind: IpAddr,
    /// Connect + handshake timeout for backends, in milliseconds.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_ms: u64,
    /// Per-request timeout for calls to backends, in milliseconds.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_ms: u64,
    /// Client authentication: `"token"` (default; every request needs the access token) or
    /// `"none"` (no token; loopback binding and Host/Origin checks stay on). `"none"` exists for
    /// test suites that cannot send a token; Loopgate warns loudly while it is set.
    #[serde(default, skip_serializing_if = "AuthMode::is_token")]
    pub auth: AuthMode,
    /// Allows `bind` to be a non-loopback address. Anyone who can reach that address can then
    /// try to connect; only for setups where the network itself is trusted. Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unsafe_allow_non_loopback: bool,
    /// The profile the gateway's own token (the CLI, `loopgate connect`) and, with `auth:
    /// "none"`, unauthenticated clients see; absent: every server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Limits of the endpoint (advanced; the defaults suit desktop use).
    #[serde(default, skip_serializing_if = "Limits::is_default")]
    pub limits: Limits,
    /// The activity log (`gateway.activity`; the `activity` module keeps it).
    #[serde(default, skip_serializing_if = "ActivitySettings::is_default")]
    pub activity: ActivitySettings,
    /// Keys Loopgate does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: IndexMap<String, Value>,
}

/// `gateway.limits`: how much any local program can make the gateway hold. Every field is
/// optional; absent means the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// A client session with no traffic for this long ends, in ms (default 24 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_idle_ms: Option<u64>,
    /// Most client sessions at once; one more ends the least recently used (default 512).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<usize>,
    /// Most open TCP connections; more wait until one closes (default 512).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Time a connection gets to send a request's headers, also between requests on a
    /// kept-alive connection, in ms (default 30 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_timeout_ms: Option<u64>,
}

impl Limits {
    fn is_default(&self) -> bool {
        *self == Limits::default()
    }
}

/// Default days the activity log keeps a call.
pub const DEFAULT_ACTIVITY_RETENTION_DAYS: f64 = 7.0;
/// Default most megabytes (10^6 bytes) the activity log's database holds.
pub const DEFAULT_ACTIVITY_MAX_MB: f64 = 100.0;

/// `gateway.activity`: the log of every request and notification through the gateway
/// (the `activity` module). Every field is optional; absent means the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivitySettings {
    /// Whether calls are recorded (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Calls older than this many days are deleted (default 7; fractions allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<f64>,
    /// The database is kept below this many megabytes (10^6 bytes) by deleting the oldest
    /// calls (default 100; fractions allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mb: Option<f64>,
}

impl ActivitySettings {
    fn is_default(&self) -> bool {
        *self == ActivitySettings::default()
    }

    /// Whether recording is on (default true).
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }

    /// How long a call is kept.
    pub fn retention(&self) -> Duration {
        Duration::from_secs_f64(
            self.retention_days
                .unwrap_or(DEFAULT_ACTIVITY_RETENTION_DAYS)
                .clamp(0.0, 36_500.0)
                * 86_400.0,
        )
    }

    /// The most bytes the database may hold.
    pub fn max_bytes(&self) -> u64 {
        (self
            .max_mb
            .unwrap_or(DEFAULT_ACTIVITY_MAX_MB)
            .clamp(0.0, 1e7)
            * 1e6) as u64
    }
}

/// How clients authenticate to the gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// The access token is required (default).
    #[default]
    Token,
    /// No token is checked.
    None,
}

impl AuthMode {
    fn is_token(&self) -> bool {
        *self == AuthMode::Token
    }
}

fn default_port() -> u16 {
    DEFAULT_PORT
}
fn default_bind() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}
fn default_connect_timeout() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_request_timeout() -> u64 {
    DEFAULT_REQUEST_TIMEOUT_MS
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            bind: default_bind(),
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            auth: AuthMode::Token,
            unsafe_allow_non_loopback: false,
            profile: None,
            limits: Limits::default(),
            activity: ActivitySettings::default(),
            extra: IndexMap::new(),
        }
    }
}

/// One entry of `mcpServers`, as written in the file.
///
/// Exactly one of `command` (stdio) or `url` (Streamable HTTP) must be set; see
/// [`ServerEntry::backend`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerEntry {
    /// Transport hint used by some clients (`stdio`, `http`, `streamable-http`); optional.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Program to spawn (stdio servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Arguments of `command`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Extra environment variables of `command`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, String>,
    /// Working directory of `command`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// Variables of the gateway's environment `command` inherits beyond the default set
    /// (`upstream::child_env`); `["*"]` inherits everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherit_env: Vec<String>,
    /// Endpoint URL (Streamable HTTP servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Extra HTTP headers sent with every request to `url`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// How Loopgate authenticates to an HTTP server: `"oauth"` (sign in with OAuth; also
    /// what happens without this key when the server answers 401 with a challenge) or `"none"`
    /// (never sign in; a 401 is an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<ServerAuth>,
    /// OAuth client options for an HTTP server (pre-registered client, scopes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthSettings>,
    /// When true the server is not started and its tools are not listed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disabled: bool,
    /// Tool names (as the server names them) hidden from clients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_tools: Vec<String>,
    /// What clients see before this server's tool and prompt names (default `<server>__`;
    /// `""` exposes them as the server names them, collisions made unique).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_prefix: Option<String>,
    /// Per-request timeout for this server in milliseconds (overrides the gateway default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Keys Loopgate does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: IndexMap<String, Value>,
}

/// The `auth` key of a server entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ServerAuth {
    /// Sign in with OAuth (MCP authorization spec) when the server asks for it.
    #[serde(rename = "oauth")]
    OAuth,
    /// Never sign in.
    None,
}

/// OAuth client options of an HTTP server (`"oauth": {…}` in its entry). All optional: by
/// default Loopgate registers itself with dynamic client registration and lets the server's
/// metadata choose the scopes.
///
/// `Debug` never shows the client secret.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthSettings {
    /// A client id registered with the authorization server beforehand; used instead of
    /// registering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The secret of `clientId`, for confidential clients; normally `${secret:NAME}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Scopes to ask for (default: what the server's challenge or metadata names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// HTTPS URL of a Client ID Metadata Document describing Loopgate, used as the client id
    /// where the authorization server supports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata_url: Option<String>,
}

impl std::fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("scopes", &self.scopes)
            .field("client_metadata_url", &self.client_metadata_url)
            .finish()
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A validated, runnable backend description.
///
/// Its `Debug` output shows env and header names only, never values (they may be resolved
/// secrets).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A local server spoken to over stdin/stdout of a child process.
    Stdio {
        /// Program to run (looked up on `PATH`).
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Extra environment variables, in file order.
        env: Vec<(String, String)>,
        /// Working directory, if set.
        cwd: Option<PathBuf>,
        /// Names of the gateway's variables it inherits beyond the default set (`"*"`: all).
        inherit_env: Vec<String>,
    },
    /// A remote server spoken to over MCP Streamable HTTP.
    Http {
        /// The endpoint URL (http or https).
        url: String,
        /// Extra headers, in file order.
        headers: Vec<(String, String)>,
        /// OAuth options when Loopgate may sign in to this server; `None` when it must not
        /// (`"auth": "none"`, or an `Authorization` header is configured).
        oauth: Option<OAuthSettings>,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Stdio {
                command,
                args,
                env,
                cwd,
                inherit_env,
            } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.iter().map(|(k, _)| k).collect::<Vec<_>>())
                .field("cwd", cwd)
                .field("inherit_env", inherit_env)
                .finish(),
            Backend::Http {
                url,
                headers,
                oauth,
            } => f
                .debug_struct("Http")
                .field("url", url)
                .field(
                    "headers",
                    &headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                )
                .field("oauth", oauth)
                .finish(),
        }
    }
}

/// How a server is reached, or how a client reaches Loopgate: serialized `"stdio"` or `"http"`
/// (Streamable HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Transport {
    /// A child process speaking MCP on stdin/stdout.
    Stdio,
    /// Streamable HTTP.
    Http,
}

impl Transport {
    /// `"stdio"` or `"http"`, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Http => "http",
        }
    }
}

impl Backend {
    /// The transport, for status output.
    pub fn transport(&self) -> Transport {
        match self {
            Backend::Stdio { .. } => Transport::Stdio,
            Backend::Http { .. } => Transport::Http,
        }
    }

    /// A one-line human description (command line or URL); never includes env or header values.
    pub fn describe(&self) -> String {
        match self {
            Backend::Stdio { command, args, .. } => std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            Backend::Http { url, .. } => url.clone(),
        }
    }
}

impl Config {
    /// Parses config JSON, reporting the line and column of syntax/shape errors.
    ///
    /// `path` is used only in error messages. Does not validate semantics: call
    /// [`Config::validate`] for that.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        serde_json::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Names of the servers whose `env` or `headers` reference secret `name`.
    pub fn servers_using(&self, name: &str) -> Vec<String> {
        self.mcp_servers
            .iter()
            .filter(|(_, e)| e.secret_refs().iter().any(|n| n == name))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// All server entries (enabled or not), in file order.
    pub fn servers(&self) -> impl Iterator<Item = (&String, &ServerEntry)> {
        self.mcp_servers.iter()
    }
}

impl ServerEntry {
    /// Names of the secrets referenced as `${secret:NAME}` in this entry's `env`, `headers` and
    /// `oauth.clientSecret`.
    pub fn secret_refs(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let client_secret = self.oauth.as_ref().and_then(|o| o.client_secret.as_ref());
        for value in self
            .env
            .values()
            .chain(self.headers.values())
            .chain(client_secret)
        {
            for n in crate::secrets::references(value) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }

    /// The per-request timeout for this server: its `timeoutMs`, or the gateway default.
    pub fn request_timeout(&self, gateway: &GatewaySettings) -> Duration {
        Duration::from_millis(self.timeout_ms.unwrap_or(gateway.request_timeout_ms))
    }
}
