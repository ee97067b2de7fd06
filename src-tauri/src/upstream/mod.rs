//! Upstream: one supervised connection per enabled backend.
//!
//! - [`stdio`]: spawning a local server as a child process (own process group, stderr captured,
//!   graceful stop); [`child_env`]: the environment it gets.
//! - [`http`]: the Streamable HTTP client transport, observing the backend-issued session.
//! - [`connection`]: the MCP client side of one live backend connection (handshake with both
//!   protocol eras, listing, calls with progress and cancellation).
//! - [`supervisor`]: starts and stops one task per backend and publishes the status of every
//!   server; each task (`runner`) connects, watches, restarts with backoff and waits for an
//!   OAuth sign-in when the server asks for one (sign-ins themselves are `crate::oauth`).
//! - [`logs`]: bounded per-server buffers of stderr/log lines.
//!
//! Nothing here knows about the gateway or HTTP front end above it.

pub mod child_env;
pub mod connection;
pub mod http;
pub mod logs;
mod runner;
pub mod stdio;
pub mod supervisor;

use serde::Serialize;

pub use connection::{Connection, UpstreamError};
pub use supervisor::{Event, ServerStatus, Supervisor};

/// The lifecycle state of one server, as shown in `loopgate servers` and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerState {
    /// Turned off in the config (`"disabled": true`).
    Disabled,
    /// Connecting, handshaking or listing; or waiting to restart.
    Starting,
    /// Connected, tools listed.
    Ready,
    /// Connected but not fully usable (e.g. listing failed); see the last error.
    Degraded,
    /// Not connected; see the last error. Stdio servers that crash repeatedly are parked here.
    Failed,
    /// An HTTP server that wants OAuth and has no usable tokens (never signed in, signed out,
    /// or the refresh token was refused). Waits for a sign-in; no retries meanwhile.
    #[serde(rename = "needs-sign-in")]
    NeedsSignIn,
}

impl ServerState {
    /// Lower-case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Disabled => "disabled",
            ServerState::Starting => "starting",
            ServerState::Ready => "ready",
            ServerState::Degraded => "degraded",
            ServerState::Failed => "failed",
            ServerState::NeedsSignIn => "needs-sign-in",
        }
    }
}
