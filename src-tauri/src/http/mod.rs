//! The HTTP front end: one axum app on the loopback address.
//!
//! - [`guard`]: Host/Origin checks and the access token, in front of everything.
//! - [`mcp`]: `/mcp`, the MCP Streamable HTTP endpoint.
//! - [`api`]: `/api`, the admin JSON API.

pub mod api;
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

/// The whole app: `/mcp` and `/api` behind the guard.
pub fn router(state: AppState, guard: GuardConfig, shutdown: CancellationToken) -> Router {
    let mcp = mcp::service(state.gw.clone(), guard.allowed_origins(), shutdown);
    Router::new()
        .nest_service("/mcp", mcp)
        .nest("/api", api::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard),
            guard::layer,
        ))
}
