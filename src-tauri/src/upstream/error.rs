//! What can go wrong talking to a server, as the gateway reports it: every message names the
//! server and says what to do where there is something to do.

use rmcp::model::ErrorData;

use crate::oauth::Challenge;

/// What can go wrong talking to a backend. Messages name the server.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The transport could not be set up or the process not started.
    #[error("server \"{server}\": {message}")]
    Setup {
        /// Server name.
        server: String,
        /// What failed and how to fix it.
        message: String,
    },
    /// The handshake (`server/discover` / `initialize`) failed.
    #[error("server \"{server}\" did not complete the MCP handshake: {message}")]
    Handshake {
        /// Server name.
        server: String,
        /// Why.
        message: String,
    },
    /// The backend answered with a JSON-RPC error.
    #[error("server \"{server}\" returned an error: {error}")]
    Mcp {
        /// Server name.
        server: String,
        /// The backend's error, as it sent it.
        error: ErrorData,
    },
    /// No answer within the configured time.
    #[error("server \"{server}\" did not answer within {timeout_ms} ms")]
    Timeout {
        /// Server name.
        server: String,
        /// The timeout, in milliseconds.
        timeout_ms: u128,
    },
    /// The connection is gone (process exited, transport closed).
    #[error("server \"{server}\" is not connected: {message}")]
    Disconnected {
        /// Server name.
        server: String,
        /// Details.
        message: String,
    },
    /// The server sent a message larger than Loopgate accepts; it was dropped.
    #[error("server \"{server}\" sent a message larger than {limit_mib} MiB; it was dropped (the tool result is too large)")]
    TooLarge {
        /// Server name.
        server: String,
        /// The limit, in MiB.
        limit_mib: usize,
    },
    /// The caller cancelled the request.
    #[error("request to server \"{server}\" was cancelled")]
    Cancelled {
        /// Server name.
        server: String,
    },
    /// The server wants OAuth: no valid token (401), or the token lacks a scope (403
    /// `insufficient_scope`). Refreshing, where possible, was already tried.
    #[error("{}", auth_message(server, challenge))]
    Auth {
        /// Server name.
        server: String,
        /// The server's challenge.
        challenge: Challenge,
    },
}

fn auth_message(server: &str, challenge: &Challenge) -> String {
    match challenge {
        Challenge::SignIn(_) => format!(
            "server \"{server}\" needs you to sign in (HTTP 401): use \"Sign in\" in the Loopgate window or tray, or run `loopgate auth login {server}`"
        ),
        Challenge::MoreScope(_) => format!(
            "server \"{server}\" needs more permissions for this request (HTTP 403 insufficient_scope): sign in again to grant them (\"Sign in\" or `loopgate auth login {server}`)"
        ),
    }
}

impl UpstreamError {
    /// The same failure as an MCP error for a client: a backend's own error keeps its code and
    /// data with the server named in the message; everything else is an internal error naming
    /// the server.
    pub fn to_mcp_error(&self) -> ErrorData {
        match self {
            UpstreamError::Mcp { server, error } => ErrorData::new(
                error.code,
                format!("server \"{server}\": {}", error.message),
                error.data.clone(),
            ),
            other => ErrorData::internal_error(other.to_string(), None),
        }
    }
}
