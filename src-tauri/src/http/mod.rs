//! The HTTP front end: one axum app on the loopback address.
//!
//! - [`guard`]: Host/Origin checks and the access token, in front of everything;
//!   [`refusals`] counts the client tokens it refuses.
//! - [`mcp`]: `/mcp`, the MCP Streamable HTTP endpoint; [`mcp_sessions`] bounds its sessions;
//!   [`direct`] serves the relayed calls of initialized sessions on the request's own task;
//!   [`single_answer`] sends a single answer rmcp streamed as `application/json`.
//! - [`server`]: the accept loop (connection cap, header timeouts).
//! - [`api`]: `/api`, the admin JSON API and live events.
//! - [`assets`]: `/`, the embedded web dashboard, and `/auth`, which turns a one-time
//!   dashboard link into a session cookie ([`session`]).
//!
//! Every response carries headers that forbid framing and sniffing ([`security_headers`]).

pub mod api;
pub mod assets;
pub mod direct;
pub mod guard;
pub mod mcp;
pub mod mcp_sessions;
pub mod refusals;
pub mod served;
pub mod server;
pub mod session;
pub mod single_answer;
pub mod stateless;

/// Largest request body accepted on `/mcp`, in bytes (4 MiB); larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

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
    /// What the guard accepts (tokens, dashboard sessions).
    pub guard: Arc<GuardConfig>,
    /// Cancelling it stops the gateway (`POST /api/quit`, the tray's Quit).
    pub shutdown: CancellationToken,
    /// The activity log (`/mcp` records into it, `/api/activity` reads it).
    pub activity: crate::activity::Activity,
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

/// Connections the OS queues for the gateway before it accepts them.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds the gateway's listener on `addr`; `config` names the config file for the error text.
///
/// The listen backlog is [`LISTEN_BACKLOG`]: connections beyond the open-connection cap wait
/// there (see [`server`]) instead of having their SYNs dropped.
pub async fn bind(addr: SocketAddr, config: &std::path::Path) -> Result<TcpListener, BindError> {
    let listen = || -> std::io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(LISTEN_BACKLOG)
    };
    listen().map_err(|source| {
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

/// The whole app: `/mcp` and `/api` behind the guard (Host, Origin, and the credential each
/// accepts); the dashboard's static files and `/auth` behind the Host/Origin checks only (they
/// hold no data). Every response gets [`security_headers`].
pub fn router(state: AppState, shutdown: CancellationToken) -> Router {
    let guard = state.guard.clone();
    let limits = &state.store.current().gateway.limits;
    let sessions = mcp_sessions::ManagedSessions::new(
        limits
            .session_idle_ms
            .map_or(mcp_sessions::DEFAULT_IDLE, std::time::Duration::from_millis),
        limits
            .max_sessions
            .unwrap_or(mcp_sessions::DEFAULT_MAX_SESSIONS),
    );
    let mcp = mcp::service(
        state.gw.clone(),
        state.activity.recorder(),
        guard.clone(),
        sessions,
        shutdown,
    );
    let api = Router::new()
        .nest("/api", api::routes())
        // The nested router's fallback sees only paths below `/api/`; this one names nothing
        // either.
        .route("/api/", axum::routing::any(api::unknown_route))
        .layer(axum::middleware::from_fn_with_state(
            guard.clone(),
            guard::api_layer,
        ));
    let public = assets::routes().layer(axum::middleware::from_fn_with_state(
        guard,
        guard::origin_layer,
    ));
    // `/mcp` is added after the layer: it applies the guard and the security headers itself
    // (see `mcp`), and is served at `/mcp` and below, as a nested service was.
    api.merge(public)
        .layer(axum::middleware::map_response(security_headers))
        .route_service("/mcp", mcp.clone())
        .route_service("/mcp/", mcp.clone())
        .route_service("/mcp/{*rest}", mcp)
        .with_state(state)
}

/// The Content-Security-Policy of every response: the dashboard's own scripts, styles and
/// API only; no framing, plugins, `<base>` or foreign form targets. (Images may be `data:` and
/// `blob:` URLs: tool results carry images inline.)
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' data: blob:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Adds to `response` the headers that keep other web pages from framing the dashboard
/// (clickjacking) or sniffing its answers: `X-Frame-Options: DENY`,
/// [`CONTENT_SECURITY_POLICY`] (with `frame-ancestors 'none'`), `X-Content-Type-Options:
/// nosniff` and `Referrer-Policy: no-referrer`.
pub async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let h = response.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
