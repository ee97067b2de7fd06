//! The shared handle to one live server: how the gateway sends it requests.
//!
//! A [`Connection`] has up to two **channels** to its server, one per protocol era
//! (ARCHITECTURE.md rule 5):
//!
//! - the **session**: an initialize-based session (2024-11-05 … 2025-11-25), where the server
//!   can turn to its client mid-call (sampling, elicitation, roots) and send notifications;
//! - **stateless** 2026-07-28 requests, each carrying its caller's own capabilities and log
//!   level in `_meta`.
//!
//! Each request goes on the channel of its caller's era when the server has it, so nothing is
//! lost either way: a client of one era gets what it would get from the server directly, and
//! the gateway translates only where the server speaks just the other era. Every request has a
//! timeout (extended by progress, up to [`HARD_TIMEOUT_FACTOR`] times), can be cancelled (the
//! server gets `notifications/cancelled`), and everything the server sends back for it —
//! progress, its own requests — reaches the caller through a [`CallRoute`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CancelledNotificationParam, ClientRequest, RequestId, RequestMetaObject, ServerCapabilities,
    ServerPeerInfo, ServerResult,
};
use rmcp::service::{PeerRequestOptions, RunningService, ServiceError};
use rmcp::{Peer, RoleClient};
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

pub use super::error::UpstreamError;

use super::backend_client::BackendClient;
use super::call::{Call, Outcome};
use super::routes::{CallRoute, Channel, Routes};
use super::stdio::exchange::Exchange as PipeExchange;
use super::stdio::process::ChildProcess;
use super::stdio::stdout::{too_large, MAX_MESSAGE_BYTES};
use super::streamable::client::SessionObserver;
use super::streamable::exchange::Exchange as HttpExchange;
use crate::oauth::Challenge;

/// A request may take this many times its timeout when the server keeps reporting progress.
pub const HARD_TIMEOUT_FACTOR: u32 = 10;

/// Which era a caller speaks; its requests go on the matching channel when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// An initialize-based client session.
    Session,
    /// A stateless 2026-07-28 client.
    Stateless,
}

/// How one request is sent.
#[derive(Default)]
pub struct RequestOptions {
    /// The caller's era (default: session).
    pub era: Option<Era>,
    /// Where the server's messages for this request go.
    pub route: Option<Arc<CallRoute>>,
    /// Cancelling it cancels the request at the server.
    pub cancel: CancellationToken,
    /// `_meta` for a stateless request (the caller's capabilities, log level); merged over
    /// Loopgate's own.
    pub meta: Option<RequestMetaObject>,
}

/// The live channels of a connection, as the transport set them up.
pub struct Channels {
    /// The initialize-based session, if the server has one.
    pub session: Option<RunningService<RoleClient, BackendClient>>,
    /// Stateless 2026-07-28 requests, if the server takes them.
    pub stateless: Option<RunningService<RoleClient, BackendClient>>,
}

/// The shared handle to one live backend, used by the gateway to route requests.
pub struct Connection {
    name: String,
    session: Option<Peer<RoleClient>>,
    stateless: Option<Peer<RoleClient>>,
    routes: Arc<Routes>,
    oversized: Option<broadcast::Sender<Option<RequestId>>>,
    request_timeout: Duration,
    observer: Option<Arc<SessionObserver>>,
    url: Option<String>,
    auth_failure: Mutex<Option<Challenge>>,
    auth_failed: Notify,
    exchange: Option<Direct>,
    stateless_exchange: Option<HttpExchange>,
}

/// A connection's direct exchanges on its session ([`crate::upstream::call`]).
pub enum Direct {
    /// Over Streamable HTTP: each request its own POST (boxed: it is the larger by far).
    Http(Box<HttpExchange>),
    /// Over a stdio server's pipe.
    Pipe(PipeExchange),
}

impl Direct {
    async fn request(&self, request: ClientRequest, call: Call<'_>) -> Outcome {
        match self {
            Direct::Http(exchange) => exchange.request(request, call, None).await,
            Direct::Pipe(exchange) => exchange.request(request, call).await,
        }
    }
}

/// Everything a connected backend consists of; owned by its runner.
pub struct Live {
    /// Shared handle for routing.
    pub connection: Arc<Connection>,
    /// The rmcp services of its channels (closing them ends the session / closes stdin).
    pub services: Vec<RunningService<RoleClient, BackendClient>>,
    /// The child process, for stdio servers.
    pub child: Option<ChildProcess>,
    /// Notified when the backend sends a list-changed notification.
    pub changed: Arc<Notify>,
}

/// What a transport needs to build a [`Live`] connection.
pub struct Parts {
    /// Server name.
    pub name: String,
    /// The channels it set up.
    pub channels: Channels,
    /// The routes its client handlers use.
    pub routes: Arc<Routes>,
    /// Woken on list changes.
    pub changed: Arc<Notify>,
    /// Told the request id of each oversized message a stdio server sent (`None`: the id
    /// could not be read).
    pub oversized: Option<broadcast::Sender<Option<RequestId>>>,
    /// The per-request timeout.
    pub request_timeout: Duration,
    /// HTTP session facts (HTTP servers).
    pub observer: Option<Arc<SessionObserver>>,
    /// The server's URL (HTTP servers).
    pub url: Option<String>,
    /// The child process (stdio servers).
    pub child: Option<ChildProcess>,
    /// Direct exchanges on the session, when the server has one.
    pub exchange: Option<Direct>,
    /// Direct exchanges of 2026-07-28 callers' calls on the stateless channel (HTTP servers
    /// that have one).
    pub stateless_exchange: Option<HttpExchange>,
}

impl Live {
    /// Assembles a live connection from what a transport set up.
    pub fn new(parts: Parts) -> Live {
        let Channels { session, stateless } = parts.channels;
        let connection = Arc::new(Connection {
            name: parts.name,
            session: session.as_ref().map(|s| s.peer().clone()),
            stateless: stateless.as_ref().map(|s| s.peer().clone()),
            routes: parts.routes,
            oversized: parts.oversized,
            request_timeout: parts.request_timeout,
            observer: parts.observer,
            url: parts.url,
            auth_failure: Mutex::new(None),
            auth_failed: Notify::new(),
            exchange: parts.exchange,
            stateless_exchange: parts.stateless_exchange,
        });
        Live {
            connection,
            services: session.into_iter().chain(stateless).collect(),
            child: parts.child,
            changed: parts.changed,
        }
    }
}

impl Connection {
    /// The server name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The peer used for listing and server-wide requests: the session when there is one.
    pub fn peer(&self) -> &Peer<RoleClient> {
        self.session
            .as_ref()
            .or(self.stateless.as_ref())
            .expect("a connection has at least one channel")
    }

    /// The stateless 2026-07-28 channel, if the server takes such requests.
    pub fn stateless_peer(&self) -> Option<&Peer<RoleClient>> {
        self.stateless.as_ref()
    }

    /// Whether the server has an initialize-based session.
    pub fn has_session(&self) -> bool {
        self.session.is_some()
    }

    /// The eras Loopgate speaks with this server, for status output.
    pub fn eras(&self) -> Vec<&'static str> {
        let mut eras = Vec::new();
        if self.session.is_some() {
            eras.push("initialize");
        }
        if self.stateless.is_some() {
            eras.push("2026-07-28");
        }
        eras
    }

    /// The calls in flight and where their messages go.
    pub fn routes(&self) -> &Arc<Routes> {
        &self.routes
    }

    /// What the backend told us about itself (protocol version, capabilities, instructions).
    pub fn peer_info(&self) -> Option<Arc<ServerPeerInfo>> {
        self.peer().peer_info()
    }

    /// What the server offers across its channels: the capabilities of [`Connection::peer`],
    /// plus the extensions it offers only on the stateless 2026-07-28 channel (an SDK may leave
    /// `capabilities.extensions` out of an initialize result, where the older schema has no
    /// such field, and offer the tasks extension only in `server/discover`).
    pub fn capabilities(&self) -> Option<ServerCapabilities> {
        let mut caps = self.peer_info()?.capabilities.clone();
        let stateless = self.stateless.as_ref().and_then(|p| p.peer_info());
        if let Some(ext) = stateless.and_then(|i| i.capabilities.extensions.clone()) {
            let mine = caps.extensions.get_or_insert_with(Default::default);
            for (k, v) in ext {
                mine.entry(k).or_insert(v);
            }
        }
        Some(caps)
    }

    /// The negotiated protocol version of [`Connection::peer`], e.g. `"2025-11-25"`.
    pub fn protocol_version(&self) -> Option<String> {
        self.peer_info().map(|i| i.protocol_version.to_string())
    }

    /// HTTP session facts (issued id, handshakes, 404s); `None` for stdio servers.
    pub fn session(&self) -> Option<&Arc<SessionObserver>> {
        self.observer.as_ref()
    }

    /// Whether every channel's transport has closed.
    pub fn is_closed(&self) -> bool {
        self.session
            .iter()
            .chain(self.stateless.iter())
            .all(|p| p.is_transport_closed())
    }

    /// Resolves when a request was refused with an OAuth challenge (401 after refreshing
    /// failed, or 403 `insufficient_scope`); returns that challenge.
    pub async fn auth_failed(&self) -> Challenge {
        loop {
            let notified = self.auth_failed.notified();
            if let Some(c) = self
                .auth_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                return c;
            }
            notified.await;
        }
    }

    fn map_err(&self, e: ServiceError) -> UpstreamError {
        let server = self.name.clone();
        if let (Some(header), Some(url)) = (e.auth_challenge(), &self.url) {
            let challenge = Challenge::classify(header, url);
            *self.auth_failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(challenge.clone());
            self.auth_failed.notify_one();
            return UpstreamError::Auth { server, challenge };
        }
        match e {
            ServiceError::McpError(error) => UpstreamError::Mcp { server, error },
            ServiceError::Timeout { timeout } => UpstreamError::Timeout {
                server,
                timeout_ms: timeout.as_millis(),
            },
            ServiceError::Cancelled { .. } => UpstreamError::Cancelled { server },
            ServiceError::TransportClosed => UpstreamError::Disconnected {
                server,
                message: "the connection closed".into(),
            },
            other => UpstreamError::Disconnected {
                server,
                message: other.to_string(),
            },
        }
    }

    /// The channel a caller of `era` uses: its own era's when the server has it, else the
    /// other (the gateway then translates).
    fn channel_for(&self, era: Era) -> (Channel, &Peer<RoleClient>) {
        match (era, &self.session, &self.stateless) {
            (Era::Stateless, _, Some(p)) => (Channel::Stateless, p),
            (_, Some(p), _) => (Channel::Session, p),
            (_, None, Some(p)) => (Channel::Stateless, p),
            (_, None, None) => unreachable!("a connection has at least one channel"),
        }
    }

    /// Takes note of the `tools` the server listed (see
    /// [`HttpExchange::note_tools`]).
    pub fn note_tools(&self, tools: &[rmcp::model::Tool]) {
        if let Some(exchange) = &self.stateless_exchange {
            exchange.note_tools(tools);
        }
    }

    /// Whether a caller of `era` is served on the server's stateless 2026-07-28 channel (where
    /// requests carry their `_meta` and the server may ask for input by answering).
    pub fn goes_stateless(&self, era: Era) -> bool {
        self.channel_for(era).0 == Channel::Stateless
    }

    /// Sends `request` and waits for the answer (see the module docs for timeouts,
    /// cancellation and routing). Progress and server→client requests belonging to it go to
    /// `options.route`.
    pub async fn request(
        &self,
        request: ClientRequest,
        options: RequestOptions,
    ) -> Result<ServerResult, UpstreamError> {
        let (channel, peer) = self.channel_for(options.era.unwrap_or(Era::Session));
        // The request goes past rmcp's service (and worker) tasks: on a session over HTTP as
        // its own POST, over stdio written to the pipe; a 2026-07-28 caller's call on an HTTP
        // server's stateless channel as its own POST. One not sent goes rmcp's way.
        let call = || Call {
            route: options.route.clone(),
            cancel: &options.cancel,
            timeout: self.request_timeout,
            hard_timeout: self.request_timeout * HARD_TIMEOUT_FACTOR,
        };
        let outcome = match (channel, &self.exchange, &self.stateless_exchange) {
            (Channel::Session, Some(exchange), _) => exchange.request(request, call()).await,
            (Channel::Stateless, _, Some(exchange)) => {
                let meta = options.meta.clone();
                exchange.request(request, call(), meta).await
            }
            _ => Outcome::NotSent(request),
        };
        let request = match outcome {
            Outcome::Answered(result) => return result,
            Outcome::NotSent(request) => request,
        };
        let mut peer_options = PeerRequestOptions::with_timeout(self.request_timeout)
            .reset_timeout_on_progress()
            .with_max_total_timeout(self.request_timeout * HARD_TIMEOUT_FACTOR);
        if let (Channel::Stateless, Some(meta)) = (channel, options.meta) {
            peer_options = peer_options.with_meta(meta);
        }
        // Listening before sending: an oversized answer may come back at once.
        let oversized_rx = self.oversized.as_ref().map(|s| s.subscribe());
        // Registered before sending: the server may turn to its client (sampling, roots, …)
        // before `send_request_with_option` returns.
        let registration = options
            .route
            .map(|route| self.routes.register(channel, route));
        let handle = peer
            .send_request_with_option(request, peer_options)
            .await
            .map_err(|e| self.map_err(e))?;
        let id = handle.id.clone();
        if let Some(r) = &registration {
            r.sent(id.clone(), handle.progress_token.clone());
        }
        let oversized = too_large(oversized_rx, &id);
        tokio::select! {
            r = handle.await_response() => r.map_err(|e| self.map_err(e)),
            _ = oversized => {
                let _ = peer.notify_cancelled(CancelledNotificationParam::new(Some(id), Some("response too large".into()))).await;
                Err(UpstreamError::TooLarge { server: self.name.clone(), limit_mib: MAX_MESSAGE_BYTES >> 20 })
            }
            _ = options.cancel.cancelled() => {
                let _ = peer.notify_cancelled(CancelledNotificationParam::new(Some(id), Some("cancelled by the client".into()))).await;
                Err(UpstreamError::Cancelled { server: self.name.clone() })
            }
        }
    }

    /// Sends a notification to the server on its session (e.g. `roots/list_changed`); a no-op
    /// for servers without one.
    pub async fn notify(&self, notification: rmcp::model::ClientNotification) {
        if let Some(p) = &self.session {
            if let Err(e) = p.send_notification(notification).await {
                tracing::debug!(server = %self.name, "notification not delivered: {e}");
            }
        }
    }
}
