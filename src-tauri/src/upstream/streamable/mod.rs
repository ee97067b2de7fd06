//! Remote Streamable HTTP servers: the whole lifecycle of one connection — set up the HTTP
//! client, complete the handshakes, and hand over a [`Live`] connection (closing its services
//! DELETEs the session).
//!
//! The eras (ARCHITECTURE.md rule 5): over HTTP a server can be spoken to in both at once, so
//! Loopgate opens up to two channels on one shared client — an initialize-based **session**
//! (what a client of that era gets from the server directly, including the server's own
//! requests mid-call) and **stateless** 2026-07-28 requests (`server/discover` answered;
//! each request then carries its caller's capabilities). Both handshakes run at once; a server
//! that has only one era gets only that channel.

pub mod client;
pub mod exchange;
pub mod post;
pub mod stateless;

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::ProtocolVersion;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::auth::AuthorizationManager;
use rmcp::RoleClient;
use tokio::sync::Notify;

pub use client::{HttpSetupError, ObservedClient, SessionObserver, SharedClient};
use exchange::Exchange;
pub use post::MAX_RESPONSE_BYTES;

use super::backend_client::BackendClient;
use super::connection::{Channels, Direct, Live, Parts, UpstreamError};
use super::logs::LogBuffer;
use super::routes::{Channel, Routes};
use crate::oauth::Challenge;

/// How long the probe for the 2026-07-28 channel may take when the session already works.
pub const STATELESS_PROBE: Duration = Duration::from_secs(10);

/// What connecting needs.
pub struct ConnectOptions {
    /// Time for TCP/TLS set-up plus the handshakes.
    pub connect_timeout: Duration,
    /// Per-request timeout of the connection.
    pub request_timeout: Duration,
    /// The server's log buffer.
    pub logs: Arc<LogBuffer>,
}

type Service = RunningService<RoleClient, BackendClient>;

/// Connects to server `name` at `url` with `headers` (values resolved) and, when signed in,
/// `auth`'s OAuth tokens.
///
/// Errors: [`UpstreamError::Setup`] (bad header, TLS), [`UpstreamError::Auth`] (the server
/// answered 401/403 with a challenge), [`UpstreamError::Handshake`] (neither era's handshake
/// worked within the connect timeout).
pub async fn connect(
    name: &str,
    url: &str,
    headers: &[(String, String)],
    auth: Option<AuthorizationManager>,
    options: &ConnectOptions,
) -> Result<Live, UpstreamError> {
    let client = SharedClient::new(headers, auth, options.connect_timeout).map_err(|e| {
        UpstreamError::Setup {
            server: name.to_string(),
            message: e.to_string(),
        }
    })?;
    let routes = Arc::new(Routes::default());
    let changed = Arc::new(Notify::new());
    let handler = |channel| {
        BackendClient::new(
            name,
            channel,
            routes.clone(),
            changed.clone(),
            options.logs.clone(),
        )
    };
    let session = handshake(
        handler(Channel::Session)
            .serve_with_lifecycle(client.transport(url), ClientLifecycleMode::Initialize),
        options.connect_timeout,
    );
    let stateless = handshake(
        handler(Channel::Stateless).serve_with_lifecycle(
            client.transport(url),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        ),
        options.connect_timeout.min(STATELESS_PROBE),
    );
    let (session, stateless) = tokio::join!(session, stateless);
    let fail = |e: Failure| match e {
        Failure::Auth(header) => UpstreamError::Auth {
            server: name.to_string(),
            challenge: Challenge::classify(&header, url),
        },
        Failure::Other(message) => UpstreamError::Handshake {
            server: name.to_string(),
            message: format!("{message} (url {url})"),
        },
    };
    let channels = match (session, stateless) {
        (Err(Failure::Auth(h)), _) | (_, Err(Failure::Auth(h))) => {
            return Err(fail(Failure::Auth(h)))
        }
        (Err(e), Err(_)) => return Err(fail(e)),
        (session, stateless) => {
            if let Err(Failure::Other(why)) = &stateless {
                tracing::debug!(server = %name, "no 2026-07-28 channel: {why}");
            }
            Channels {
                session: session.ok(),
                stateless: stateless.ok(),
            }
        }
    };
    let exchange = |channel, s: &Service| {
        let handler = (channel, s.service().clone(), s.peer().clone());
        Exchange::new(name, client.clone(), url, handler, routes.clone())
    };
    let stateless_exchange = channels
        .stateless
        .as_ref()
        .map(|s| exchange(Channel::Stateless, s));
    let exchange = channels
        .session
        .as_ref()
        .map(|s| Direct::Http(Box::new(exchange(Channel::Session, s))));
    Ok(Live::new(Parts {
        name: name.to_string(),
        channels,
        routes,
        changed,
        oversized: None,
        request_timeout: options.request_timeout,
        observer: Some(client.observer().clone()),
        url: Some(url.to_string()),
        child: None,
        exchange,
        stateless_exchange,
    }))
}

/// Why one handshake failed.
enum Failure {
    /// The server wants OAuth (the `WWW-Authenticate` value).
    Auth(String),
    /// Anything else.
    Other(String),
}

async fn handshake(
    serve: impl std::future::Future<Output = Result<Service, rmcp::service::ClientInitializeError>>,
    timeout: Duration,
) -> Result<Service, Failure> {
    match tokio::time::timeout(timeout, serve).await {
        Ok(Ok(service)) => Ok(service),
        Ok(Err(e)) => Err(match e.auth_challenge() {
            Some(header) => Failure::Auth(header.to_string()),
            None => Failure::Other(e.to_string()),
        }),
        Err(_) => Err(Failure::Other(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
    }
}
