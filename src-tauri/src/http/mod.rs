//! The HTTP front end: one axum app on the loopback address.
//!
//! - [`guard`]: Host/Origin checks and the access token, in front of everything.
//! - [`mcp`]: `/mcp`, the MCP Streamable HTTP endpoint.
//! - [`api`]: `/api`, the admin JSON API and live events.
//! - [`assets`]: `/`, the embedded web dashboard, and `/auth`, which turns the tokenised
//!   dashboard link into an HttpOnly cookie.

pub mod api;
pub mod assets;
pub mod guard;
pub mod mcp;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Store;
use crate::gateway::Gateway;

pub use guard::GuardConfig;

/// State shared by the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The gateway (registry, supervisor).
    pub gw: Arc<Gateway>,
    /// The config writer.
    pub store: Store,
    /// The keychain.
    pub secrets: crate::secrets::SecretStore,
    /// The MCP endpoint URL clients use.
    pub mcp_url: String,
    /// The access token (for `/auth`).
    pub guard: Arc<GuardConfig>,
    /// Cancelling it stops the gateway (`POST /api/quit`, the tray's Quit).
    pub shutdown: CancellationToken,
}

/// Could not listen.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another program holds the port.
    #[error("port {port} on {ip} is already in use — is another Loopgate running? (`loopgate servers` asks it). Otherwise choose another \"gateway.port\" in {config}")]
    InUse {
        /// The address.
        ip: std::net::IpAddr,
        /// The port.
        port: u16,
        /// Config file to edit.
        config: String,
    },
    /// Any other socket error.
    #[error("cannot listen on {addr}: {source}")]
    Other {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// Binds the gateway's listener on `addr`; `config` names the config file for the error text.
pub async fn bind(addr: SocketAddr, config: &std::path::Path) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            BindError::InUse {
                ip: addr.ip(),
                port: addr.port(),
                config: config.display().to_string(),
            }
        } else {
            BindError::Other { addr, source }
        }
    })
}

/// The whole app: `/mcp` and `/api` behind the full guard (Host, Origin, token); the
/// dashboard's static files and `/auth` behind the Host/Origin checks only (they hold no data).
pub fn router(state: AppState, shutdown: CancellationToken) -> Router {
    let guard = state.guard.clone();
    let mcp = mcp::service(state.gw.clone(), &guard, shutdown);
    let protected = Router::new()
        .nest_service("/mcp", mcp)
        .nest("/api", api::routes())
        .layer(axum::middleware::from_fn_with_state(
            guard.clone(),
            guard::layer,
        ));
    let public = assets::routes().layer(axum::middleware::from_fn_with_state(
        guard,
        guard::origin_layer,
    ));
    protected.merge(public).with_state(state)
}
