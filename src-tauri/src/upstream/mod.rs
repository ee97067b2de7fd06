//! Upstream: one supervised connection per enabled backend.
//!
//! - [`supervisor`]: starts and stops one task per backend as the config changes;
//!   `runner` is that task (a state machine: secrets → connect → watch → retry, wait or
//!   park), `watch` its connected phase, [`restart`] the pure backoff and parking rules.
//! - [`state`]: the published view of every server (status, connection, catalog) and its
//!   change events.
//! - Transports, each owning its lifecycle: [`stdio`] (a child process: spawn, handshake,
//!   stderr, graceful stop; [`child_env`] is the environment it gets, [`login_env`] what the
//!   desktop app adds of the login shell's) and [`streamable`] (a remote Streamable HTTP
//!   server: the shared HTTP client, session observation, both eras' channels).
//! - [`connection`]: the shared handle the gateway sends requests through; on a session the
//!   relayed calls go past rmcp's client service, by the transport's own exchange ([`call`]
//!   is what the two share: timeouts, progress, cancellation); [`routes`] ties a
//!   server's own requests and notifications to the call they belong to; [`backend_client`] is
//!   the MCP client Loopgate is to each server; [`catalog`] lists what a server offers.
//! - [`logs`]: bounded per-server buffers of stderr/log lines.
//!
//! Nothing here knows about the gateway or HTTP front end above it: the gateway registers
//! routes and a [`routes::Downstream`] to receive what servers send.

pub mod backend_client;
pub mod call;
pub mod catalog;
pub mod child_env;
pub mod connection;
pub mod error;
pub mod login_env;
pub mod logs;
pub mod restart;
pub mod routes;
mod runner;
pub mod state;
pub mod stdio;
pub mod streamable;
pub mod supervisor;
mod watch;

use serde::{Deserialize, Serialize};

pub use connection::{Connection, Era, RequestOptions, UpstreamError};
pub use routes::{CallNotification, CallRoute, Downstream, Inbound, OwnerKey};
pub use state::{Catalog, Event, ServerStatus, ServerView, Snapshot};
pub use supervisor::Supervisor;

/// The lifecycle state of one server, as shown in `loopgate servers` and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
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
