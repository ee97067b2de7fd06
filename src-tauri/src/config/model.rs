//! Config types and validation.
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
    /// Limits of the endpoint (advanced; the defaults suit desktop use).
    #[serde(default, skip_serializing_if = "Limits::is_default")]
    pub limits: Limits,
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
            limits: Limits::default(),
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

impl Backend {
    /// Short transport name for status output: `"stdio"` or `"http"`.
    pub fn transport(&self) -> &'static str {
        match self {
            Backend::Stdio { .. } => "stdio",
            Backend::Http { .. } => "http",
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

/// Everything that can go wrong reading or writing the config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("config file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON or does not have the config's shape.
    #[error("config file {path}, line {line}, column {column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A value is well-formed JSON but not acceptable.
    #[error("config file {path}: {location}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where: `mcpServers.<name>.<field>` or `gateway.<field>`.
        location: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A change names a server that is not in the config.
    #[error("no server named \"{0}\" in the config (see `loopgate servers`)")]
    UnknownServer(String),
    /// The file changed on disk in a way Loopgate cannot build on (an edit it cannot read, or
    /// the file was removed); the change was not written, so nothing of the edit is lost.
    #[error("config file {path} was changed outside Loopgate and {why}; Loopgate did not write over it — fix or undo that edit, then try again")]
    Conflict {
        /// The file.
        path: PathBuf,
        /// What is wrong with the file as it is now.
        why: String,
    },
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

    /// Checks every rule a running gateway relies on; the first problem is returned, naming the
    /// file (`path`), the server and the field.
    ///
    /// Rules: `gateway.bind` is a loopback address; server names are 1–48 characters of
    /// `A-Z a-z 0-9 _ -`, start with a letter or digit and do not contain `__` (the namespace
    /// separator); each server has exactly one of `command` / `url`; URLs are http(s); header
    /// names and values are valid HTTP.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |location: String, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            location,
            message,
        };
        if !self.gateway.bind.is_loopback() && !self.gateway.unsafe_allow_non_loopback {
            return Err(invalid(
                "gateway.bind".into(),
                format!(
                    "{} is not a loopback address; Loopgate only listens on 127.0.0.1 or ::1 \
                     (set \"unsafeAllowNonLoopback\": true in \"gateway\" only if the network is trusted)",
                    self.gateway.bind
                ),
            ));
        }
        for (name, entry) in &self.mcp_servers {
            validate_server_name(name).map_err(|m| invalid(format!("mcpServers.\"{name}\""), m))?;
            if let Some(prefix) = &entry.tool_prefix {
                let ok = prefix.len() <= 64
                    && prefix
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if !ok {
                    return Err(invalid(
                        format!("mcpServers.{name}.toolPrefix"),
                        format!("\"{prefix}\" is not usable in tool names: use at most 64 letters, digits, '_', '-' or '.' (\"\" for none)"),
                    ));
                }
            }
            entry
                .backend()
                .map_err(|(field, m)| invalid(format!("mcpServers.{name}.{field}"), m))?;
            entry
                .check_secret_refs()
                .map_err(|(field, m)| invalid(format!("mcpServers.{name}.{field}"), m))?;
        }
        Ok(())
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

/// Checks a server name against the rules in [`Config::validate`]; `Err` says what is wrong.
pub fn validate_server_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > MAX_SERVER_NAME_LEN {
        return Err(format!(
            "server names must be 1 to {MAX_SERVER_NAME_LEN} characters"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || !name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err("server names may use only letters, digits, '_' and '-', and start with a letter or digit".into());
    }
    if name.contains("__") || name.ends_with('_') {
        return Err(
            "server names may not contain \"__\" or end with \"_\" (\"__\" separates server and tool in tool names, so neither may blur it)"
                .into(),
        );
    }
    if RESERVED_SERVER_NAMES.contains(&name) {
        return Err(format!(
            "\"{name}\" is reserved (Loopgate's own keychain records start with it); choose another name"
        ));
    }
    Ok(())
}

/// Server names that would make a server's form secrets (`<server>.<KEY>`) collide with
/// Loopgate's own keychain records ([`crate::secrets::INTERNAL_PREFIXES`]).
pub const RESERVED_SERVER_NAMES: [&str; 3] = ["oauth", "gateway-token", "client-tokens"];

impl ServerEntry {
    /// Validates the entry into a [`Backend`].
    ///
    /// Errors are `(field, message)`: e.g. `("url", "…")` when neither or both of `command`
    /// and `url` are set, or the URL is not http(s).
    pub fn backend(&self) -> Result<Backend, (&'static str, String)> {
        match (&self.command, &self.url) {
            (Some(_), Some(_)) => Err((
                "url",
                "set either \"command\" (stdio server) or \"url\" (HTTP server), not both".into(),
            )),
            (None, None) => Err((
                "command",
                "missing \"command\" (stdio server) or \"url\" (HTTP server)".into(),
            )),
            (Some(command), None) => {
                if command.trim().is_empty() {
                    return Err(("command", "is empty".into()));
                }
                if let Some(kind) = &self.kind {
                    if kind != "stdio" {
                        return Err((
                            "type",
                            format!(
                                "\"{kind}\" does not match a stdio server (\"command\" is set)"
                            ),
                        ));
                    }
                }
                Ok(Backend::Stdio {
                    command: command.clone(),
                    args: self.args.clone(),
                    env: self
                        .env
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    cwd: self.cwd.clone(),
                    inherit_env: self.inherit_env.clone(),
                })
            }
            (None, Some(url)) => {
                let parsed = url::Url::parse(url)
                    .map_err(|e| ("url", format!("\"{url}\" is not a valid URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err((
                        "url",
                        format!("\"{url}\" must start with http:// or https://"),
                    ));
                }
                if let Some(kind) = &self.kind {
                    if !matches!(kind.as_str(), "http" | "streamable-http" | "streamableHttp") {
                        return Err(("type", format!("\"{kind}\" is not supported for URL servers; Loopgate speaks Streamable HTTP (\"http\")")));
                    }
                }
                for (k, v) in &self.headers {
                    if ["accept", "mcp-session-id", "last-event-id", "content-type"]
                        .contains(&k.to_ascii_lowercase().as_str())
                    {
                        return Err((
                            "headers",
                            format!("\"{k}\" is set by Loopgate itself and cannot be configured"),
                        ));
                    }
                    http::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                        (
                            "headers",
                            format!("\"{k}\" is not a valid HTTP header name"),
                        )
                    })?;
                    http::HeaderValue::from_str(v).map_err(|_| {
                        (
                            "headers",
                            format!("the value of \"{k}\" is not a valid HTTP header value"),
                        )
                    })?;
                }
                let static_auth = self
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("authorization"));
                let oauth = match self.auth {
                    Some(ServerAuth::None) => None,
                    Some(ServerAuth::OAuth) if static_auth => {
                        return Err((
                            "auth",
                            "\"oauth\" cannot be combined with an Authorization header; remove one of them".into(),
                        ))
                    }
                    _ if static_auth => None,
                    _ => Some(self.oauth.clone().unwrap_or_default()),
                };
                if let Some(o) = &oauth {
                    if let Some(u) = &o.client_metadata_url {
                        if !u.starts_with("https://") {
                            return Err((
                                "oauth",
                                format!("clientMetadataUrl \"{u}\" must be an https:// URL"),
                            ));
                        }
                    }
                    if o.client_secret.is_some() && o.client_id.is_none() {
                        return Err((
                            "oauth",
                            "clientSecret needs the clientId it belongs to".into(),
                        ));
                    }
                }
                Ok(Backend::Http {
                    url: url.clone(),
                    headers: self
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    oauth,
                })
            }
        }
    }

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

    /// Checks every `${secret:NAME}` reference: a valid user secret name, never one of
    /// Loopgate's own records (`${secret:oauth.github}` would send GitHub's OAuth tokens to this
    /// server). Errors are `(field, message)`, e.g. `("headers.Authorization", "…")`.
    pub fn check_secret_refs(&self) -> Result<(), (String, String)> {
        let client_secret = self
            .oauth
            .as_ref()
            .and_then(|o| o.client_secret.as_ref())
            .map(|v| ("oauth.clientSecret".to_string(), v));
        let fields = self
            .env
            .iter()
            .map(|(k, v)| (format!("env.{k}"), v))
            .chain(
                self.headers
                    .iter()
                    .map(|(k, v)| (format!("headers.{k}"), v)),
            )
            .chain(client_secret);
        for (field, value) in fields {
            for name in crate::secrets::references(value) {
                crate::secrets::validate_name(&name)
                    .map_err(|e| (field.clone(), format!("${{secret:{name}}}: {e}")))?;
            }
        }
        Ok(())
    }

    /// The per-request timeout for this server: its `timeoutMs`, or the gateway default.
    pub fn request_timeout(&self, gateway: &GatewaySettings) -> Duration {
        Duration::from_millis(self.timeout_ms.unwrap_or(gateway.request_timeout_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let c = Config::parse(text, Path::new("c.json"))?;
        c.validate(Path::new("c.json"))?;
        Ok(c)
    }

    #[test]
    fn parses_both_kinds_and_keeps_unknown_keys() {
        let c = parse(
            r#"{"mcpServers":{"a":{"command":"node","args":["x"],"env":{"K":"v"},"disabledTools":["t"],"foo":1},
                "b":{"url":"http://127.0.0.1:1/mcp","headers":{"X-A":"1"}}},"other":true}"#,
        )
        .unwrap();
        assert!(matches!(
            c.mcp_servers["a"].backend().unwrap(),
            Backend::Stdio { .. }
        ));
        assert!(matches!(
            c.mcp_servers["b"].backend().unwrap(),
            Backend::Http { .. }
        ));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["mcpServers"]["a"]["foo"], 1);
        assert_eq!(back["other"], true);
        assert_eq!(back["mcpServers"]["a"]["disabledTools"][0], "t");
        assert_eq!(c.gateway.port, DEFAULT_PORT);
    }

    #[test]
    fn oauth_keys_decide_whether_a_server_may_sign_in() {
        let oauth = |entry: &str| {
            let c = Config::parse(
                &format!(r#"{{"mcpServers":{{"s":{entry}}}}}"#),
                Path::new("c.json"),
            )
            .unwrap();
            match c.mcp_servers["s"].backend() {
                Ok(Backend::Http { oauth, .. }) => Ok(oauth),
                Ok(other) => panic!("not http: {other:?}"),
                Err((field, message)) => Err(format!("{field}: {message}")),
            }
        };
        let url = r#""url":"https://mcp.example.com/mcp""#;
        assert_eq!(
            oauth(&format!("{{{url}}}")),
            Ok(Some(OAuthSettings::default())),
            "on by default"
        );
        assert_eq!(oauth(&format!(r#"{{{url},"auth":"none"}}"#)), Ok(None));
        assert_eq!(
            oauth(&format!(
                r#"{{{url},"headers":{{"authorization":"Bearer x"}}}}"#
            )),
            Ok(None),
            "a static Authorization header turns OAuth off"
        );
        let both = oauth(&format!(
            r#"{{{url},"auth":"oauth","headers":{{"Authorization":"Bearer x"}}}}"#
        ));
        assert!(both.unwrap_err().starts_with("auth: "));
        let settings = oauth(&format!(
            r#"{{{url},"oauth":{{"clientId":"c","clientSecret":"${{secret:S}}","scopes":["a","b"]}}}}"#
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            (settings.client_id.as_deref(), settings.scopes.len()),
            (Some("c"), 2)
        );
        assert!(
            !format!("{settings:?}").contains("secret:S"),
            "Debug hides the client secret"
        );
        let c = Config::parse(
            &format!(r#"{{"mcpServers":{{"s":{{{url},"oauth":{{"clientId":"c","clientSecret":"${{secret:S}}"}}}}}}}}"#),
            Path::new("c.json"),
        )
        .unwrap();
        assert_eq!(c.mcp_servers["s"].secret_refs(), ["S"]);
        assert!(
            oauth(&format!(r#"{{{url},"oauth":{{"clientSecret":"x"}}}}"#))
                .unwrap_err()
                .contains("clientId")
        );
        assert!(oauth(&format!(
            r#"{{{url},"oauth":{{"clientMetadataUrl":"http://x/c.json"}}}}"#
        ))
        .unwrap_err()
        .contains("https://"));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse("{\n  \"mcpServers\": {,}\n}").unwrap_err();
        match err {
            ConfigError::Parse { line, column, .. } => assert_eq!((line, column), (2, 18)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn invalid_entries_name_server_and_field() {
        let err = parse(r#"{"mcpServers":{"srv":{"url":"ftp://x"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mcpServers.srv.url"), "{err}");
        let err = parse(r#"{"mcpServers":{"srv":{}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mcpServers.srv.command"), "{err}");
        let err = parse(r#"{"mcpServers":{"a__b":{"command":"x"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"__\""), "{err}");
        let err = parse(r#"{"gateway":{"bind":"0.0.0.0"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("gateway.bind"), "{err}");
        let err = parse(r#"{"mcpServers":{"s":{"url":"http://x","headers":{"Bad Name":"v"}}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mcpServers.s.headers"), "{err}");
    }

    #[test]
    fn internal_records_are_out_of_reach() {
        // A reference to Loopgate's own records (here: GitHub's OAuth tokens) is refused.
        let err = parse(
            r#"{"mcpServers":{"s":{"url":"https://x","headers":{"Authorization":"Bearer ${secret:oauth.github}"}}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mcpServers.s.headers.Authorization") && err.contains("reserved"),
            "{err}"
        );
        for reference in ["${secret:gateway-token.x}", "${secret:client-tokens.x}"] {
            let text = format!(
                r#"{{"mcpServers":{{"s":{{"command":"x","env":{{"K":"{reference}"}}}}}}}}"#
            );
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains("mcpServers.s.env.K"), "{err}");
        }
        // Server names whose form secrets would land among the records.
        for name in RESERVED_SERVER_NAMES {
            let text = format!(r#"{{"mcpServers":{{"{name}":{{"command":"x"}}}}}}"#);
            assert!(
                parse(&text).unwrap_err().to_string().contains("reserved"),
                "{name}"
            );
        }
        // A trailing "_" would blur the server/tool separator: a_ + b vs a + _b.
        let err = parse(r#"{"mcpServers":{"a_":{"command":"x"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("end with"), "{err}");
        assert!(
            parse(r#"{"mcpServers":{"a_b":{"command":"x","env":{"K":"${secret:MY_KEY}"}}}}"#)
                .is_ok()
        );
    }
}
