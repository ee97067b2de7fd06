//! The MCP client side of one live backend connection.
//!
//! [`connect`] opens the transport (child process or Streamable HTTP), runs the lifecycle —
//! `server/discover` first (2026-07-28), falling back to `initialize` with the newest
//! initialize-based revision (DESIGN.md rule 5; rmcp's plain `.serve()` would send
//! `initialize` with "2026-07-28", which strict servers refuse) — and returns a [`Live`]
//! connection. [`Connection`] is the shared handle the gateway routes calls through: every
//! request has a timeout, can be cancelled (the backend gets `notifications/cancelled`), and
//! progress notifications for a call are handed to the caller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CancelledNotificationParam,
    ClientCapabilities, ClientConfig, ClientRequest, Implementation, ListPromptsRequest,
    ListResourceTemplatesRequest, ListResourcesRequest, ListToolsRequest, PaginatedRequestParams,
    ProgressNotificationParam, ProgressToken, Prompt, ProtocolVersion, Resource, ResourceTemplate,
    ServerPeerInfo, ServerResult, Tool,
};
use rmcp::service::{
    ClientLifecycleMode, ClientServiceExt, NotificationContext, PeerRequestOptions, RunningService,
    ServiceError,
};
use rmcp::{ClientHandler, ErrorData, Peer, RoleClient};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::http::{self as http_transport, SessionObserver};
use super::logs::LogBuffer;
use super::stdio::{self, ChildProcess, StdioSpec};
use crate::config::Backend;
use crate::oauth::Challenge;

/// Most pages followed when listing one kind of item from a backend (guards against a backend
/// whose cursors never end).
pub const MAX_LIST_PAGES: usize = 1000;

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

type ProgressRoutes = Arc<Mutex<HashMap<ProgressToken, mpsc::Sender<ProgressNotificationParam>>>>;

/// The `ClientHandler` Loopgate runs for each backend: relays progress to the waiting caller,
/// and wakes the supervisor on list-changed notifications.
#[derive(Clone)]
pub struct BackendClient {
    progress: ProgressRoutes,
    changed: Arc<Notify>,
}

impl ClientHandler for BackendClient {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("loopgate", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let route = self
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&params.progress_token)
            .cloned();
        if let Some(tx) = route {
            let _ = tx.try_send(params);
        }
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changed.notify_one();
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changed.notify_one();
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changed.notify_one();
    }
}

/// The shared handle to one live backend, used by the gateway to route requests.
pub struct Connection {
    name: String,
    oversized: Arc<Notify>,
    peer: Peer<RoleClient>,
    progress: ProgressRoutes,
    request_timeout: Duration,
    observer: Option<Arc<SessionObserver>>,
    url: Option<String>,
    auth_failure: Mutex<Option<Challenge>>,
    auth_failed: Notify,
}

/// Everything a connected backend consists of; owned by the supervisor.
pub struct Live {
    /// Shared handle for routing.
    pub connection: Arc<Connection>,
    /// The rmcp service (closing it ends the session / closes stdin).
    pub service: RunningService<RoleClient, BackendClient>,
    /// The child process, for stdio servers.
    pub child: Option<ChildProcess>,
    /// Notified when the backend sends a list-changed notification.
    pub changed: Arc<Notify>,
}

/// Opens a connection to `backend` and completes the MCP handshake within `connect_timeout`.
///
/// `env`/`headers` values in `backend` must already be resolved. With `auth` (HTTP servers
/// Loopgate signed in to) requests carry its OAuth tokens. Stdio stderr goes to `logs`.
///
/// Errors: [`UpstreamError::Setup`] (process not started, bad transport settings),
/// [`UpstreamError::Auth`] (the server answered 401/403 with a challenge) or
/// [`UpstreamError::Handshake`] (including timeouts).
pub async fn connect(
    name: &str,
    backend: &Backend,
    auth: Option<rmcp::transport::auth::AuthorizationManager>,
    connect_timeout: Duration,
    request_timeout: Duration,
    logs: Arc<LogBuffer>,
) -> Result<Live, UpstreamError> {
    let progress: ProgressRoutes = Default::default();
    let changed = Arc::new(Notify::new());
    let oversized = Arc::new(Notify::new());
    let handler = BackendClient {
        progress: progress.clone(),
        changed: changed.clone(),
    };
    let setup = |message: String| UpstreamError::Setup {
        server: name.to_string(),
        message,
    };
    let handshake = |message: String| UpstreamError::Handshake {
        server: name.to_string(),
        message,
    };
    let lifecycle = ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
    };
    let (service, child, observer) = match backend {
        Backend::Stdio {
            command,
            args,
            env,
            cwd,
            inherit_env,
        } => {
            let spec = StdioSpec {
                command: command.clone(),
                args: args.clone(),
                env: env.clone(),
                cwd: cwd.clone(),
                inherit_env: inherit_env.clone(),
            };
            let mut spawned =
                stdio::spawn(name, &spec, logs.clone()).map_err(|e| setup(e.to_string()))?;
            let stdout = stdio::WatchedStdout::new(spawned.stdout, oversized.clone());
            let serve = handler.serve_with_lifecycle((stdout, spawned.stdin), lifecycle);
            tokio::select! {
                r = tokio::time::timeout(connect_timeout, serve) => match r {
                    Ok(Ok(service)) => (service, Some(spawned.process), None),
                    Ok(Err(e)) => {
                        let exit = spawned.process.stop().await;
                        return Err(handshake(format!("{e} (process {exit})")));
                    }
                    Err(_) => {
                        spawned.process.stop().await;
                        return Err(handshake(format!("no answer within {} ms", connect_timeout.as_millis())));
                    }
                },
                exit = spawned.process.wait() => {
                    let tail = logs.tail(3).into_iter().map(|l| l.line).collect::<Vec<_>>().join(" | ");
                    let hint = if tail.is_empty() { String::new() } else { format!("; last stderr: {tail}") };
                    return Err(handshake(format!("the process {exit} before answering{hint}")));
                }
            }
        }
        Backend::Http { url, headers, .. } => {
            let (transport, observer) =
                http_transport::transport(url, headers, auth, connect_timeout)
                    .map_err(|e| setup(e.to_string()))?;
            match tokio::time::timeout(
                connect_timeout,
                handler.serve_with_lifecycle(transport, lifecycle),
            )
            .await
            {
                Ok(Ok(service)) => (service, None, Some(observer)),
                Ok(Err(e)) => {
                    if let Some(header) = e.auth_challenge() {
                        return Err(UpstreamError::Auth {
                            server: name.to_string(),
                            challenge: Challenge::classify(header, url),
                        });
                    }
                    return Err(handshake(format!("{e} (url {url})")));
                }
                Err(_) => {
                    return Err(handshake(format!(
                        "no answer from {url} within {} ms",
                        connect_timeout.as_millis()
                    )))
                }
            }
        }
    };
    let connection = Arc::new(Connection {
        name: name.to_string(),
        oversized,
        peer: service.peer().clone(),
        progress,
        request_timeout,
        observer,
        url: match backend {
            Backend::Http { url, .. } => Some(url.clone()),
            Backend::Stdio { .. } => None,
        },
        auth_failure: Mutex::new(None),
        auth_failed: Notify::new(),
    });
    Ok(Live {
        connection,
        service,
        child,
        changed,
    })
}

impl Connection {
    /// The server name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying rmcp peer (for subscriptions).
    pub fn peer(&self) -> &Peer<RoleClient> {
        &self.peer
    }

    /// What the backend told us about itself (protocol version, capabilities, implementation).
    pub fn peer_info(&self) -> Option<Arc<ServerPeerInfo>> {
        self.peer.peer_info()
    }

    /// The negotiated protocol version, e.g. `"2025-11-25"` or `"2026-07-28"`.
    pub fn protocol_version(&self) -> Option<String> {
        self.peer_info().map(|i| i.protocol_version.to_string())
    }

    /// HTTP session facts (issued id, handshakes, 404s); `None` for stdio servers.
    pub fn session(&self) -> Option<&Arc<SessionObserver>> {
        self.observer.as_ref()
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

    /// Sends `request` and waits for the answer, up to the request timeout. If `ct` is
    /// cancelled first, the backend is sent `notifications/cancelled` and
    /// [`UpstreamError::Cancelled`] is returned. `progress` receives the backend's progress
    /// notifications for this request (with the backend's token; the caller maps it).
    pub async fn request(
        &self,
        request: ClientRequest,
        ct: &CancellationToken,
        progress: Option<mpsc::Sender<ProgressNotificationParam>>,
    ) -> Result<ServerResult, UpstreamError> {
        let handle = self
            .peer
            .send_request_with_option(
                request,
                PeerRequestOptions::with_timeout(self.request_timeout),
            )
            .await
            .map_err(|e| self.map_err(e))?;
        let token = handle.progress_token.clone();
        let id = handle.id.clone();
        let _route = progress.map(|tx| {
            self.progress
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(token.clone(), tx);
            RouteGuard {
                routes: self.progress.clone(),
                token,
            }
        });
        tokio::select! {
            r = handle.await_response() => r.map_err(|e| self.map_err(e)),
            _ = self.oversized.notified() => {
                let _ = self.peer.notify_cancelled(CancelledNotificationParam::new(Some(id), Some("response too large".into()))).await;
                Err(UpstreamError::TooLarge { server: self.name.clone(), limit_mib: stdio::MAX_MESSAGE_BYTES >> 20 })
            }
            _ = ct.cancelled() => {
                let _ = self.peer.notify_cancelled(CancelledNotificationParam::new(Some(id), Some("cancelled by the client".into()))).await;
                Err(UpstreamError::Cancelled { server: self.name.clone() })
            }
        }
    }

    /// `tools/call` on this backend (see [`Connection::request`] for timeout, cancellation and
    /// progress). Returns the complete result, an input-required result or a task, as sent.
    pub async fn call_tool(
        &self,
        params: CallToolRequestParams,
        ct: &CancellationToken,
        progress: Option<mpsc::Sender<ProgressNotificationParam>>,
    ) -> Result<CallToolResponse, UpstreamError> {
        match self
            .request(
                ClientRequest::CallToolRequest(CallToolRequest::new(params)),
                ct,
                progress,
            )
            .await?
        {
            ServerResult::CallToolResult(r) => Ok(CallToolResponse::Complete(r)),
            ServerResult::InputRequiredResult(r) => Ok(CallToolResponse::InputRequired(r)),
            ServerResult::CreateTaskResult(r) => Ok(CallToolResponse::Task(r)),
            ServerResult::EmptyResult(_) => Ok(CallToolResponse::Complete(
                rmcp::model::CallToolResult::success(vec![]),
            )),
            _ => Err(UpstreamError::Disconnected {
                server: self.name.clone(),
                message: "unexpected answer to tools/call".into(),
            }),
        }
    }

    /// Every tool the backend lists (all pages, bypassing any cache).
    pub async fn list_tools(&self) -> Result<Vec<Tool>, UpstreamError> {
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_LIST_PAGES {
            let req = ClientRequest::ListToolsRequest(ListToolsRequest::with_param(
                PaginatedRequestParams::default().with_cursor(cursor),
            ));
            match self.request(req, &CancellationToken::new(), None).await? {
                ServerResult::ListToolsResult(page) => {
                    out.extend(page.tools);
                    cursor = page.next_cursor;
                }
                _ => return Err(self.unexpected("tools/list")),
            }
            if cursor.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Every prompt the backend lists; empty when it has no prompts capability.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, UpstreamError> {
        if self
            .peer_info()
            .is_none_or(|i| i.capabilities.prompts.is_none())
        {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_LIST_PAGES {
            let req = ClientRequest::ListPromptsRequest(ListPromptsRequest::with_param(
                PaginatedRequestParams::default().with_cursor(cursor),
            ));
            match self.request(req, &CancellationToken::new(), None).await? {
                ServerResult::ListPromptsResult(page) => {
                    out.extend(page.prompts);
                    cursor = page.next_cursor;
                }
                _ => return Err(self.unexpected("prompts/list")),
            }
            if cursor.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Every resource and resource template the backend lists; empty when it has no resources
    /// capability.
    pub async fn list_resources(
        &self,
    ) -> Result<(Vec<Resource>, Vec<ResourceTemplate>), UpstreamError> {
        if self
            .peer_info()
            .is_none_or(|i| i.capabilities.resources.is_none())
        {
            return Ok((vec![], vec![]));
        }
        let mut resources = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_LIST_PAGES {
            let req = ClientRequest::ListResourcesRequest(ListResourcesRequest::with_param(
                PaginatedRequestParams::default().with_cursor(cursor),
            ));
            match self.request(req, &CancellationToken::new(), None).await? {
                ServerResult::ListResourcesResult(page) => {
                    resources.extend(page.resources);
                    cursor = page.next_cursor;
                }
                _ => return Err(self.unexpected("resources/list")),
            }
            if cursor.is_none() {
                break;
            }
        }
        let mut templates = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_LIST_PAGES {
            let req = ClientRequest::ListResourceTemplatesRequest(
                ListResourceTemplatesRequest::with_param(
                    PaginatedRequestParams::default().with_cursor(cursor),
                ),
            );
            match self.request(req, &CancellationToken::new(), None).await {
                Ok(ServerResult::ListResourceTemplatesResult(page)) => {
                    templates.extend(page.resource_templates);
                    cursor = page.next_cursor;
                }
                // Templates are optional even with the resources capability.
                Err(UpstreamError::Mcp { .. }) => break,
                Ok(_) => return Err(self.unexpected("resources/templates/list")),
                Err(e) => return Err(e),
            }
            if cursor.is_none() {
                break;
            }
        }
        Ok((resources, templates))
    }

    fn unexpected(&self, method: &str) -> UpstreamError {
        UpstreamError::Disconnected {
            server: self.name.clone(),
            message: format!("unexpected answer to {method}"),
        }
    }
}

struct RouteGuard {
    routes: ProgressRoutes,
    token: ProgressToken,
}

impl Drop for RouteGuard {
    fn drop(&mut self) {
        self.routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.token);
    }
}

/// On 2026-07-28 connections list-changed notifications only arrive on a
/// `subscriptions/listen` stream: opens one and notifies `changed` for each notification.
/// Returns the task (abort it when the connection ends), or `None` on initialize-based
/// connections, where notifications reach [`BackendClient`] directly.
pub fn follow_list_changes(
    connection: &Arc<Connection>,
    changed: Arc<Notify>,
) -> Option<tokio::task::JoinHandle<()>> {
    let modern = connection
        .protocol_version()
        .is_some_and(|v| v.as_str() >= "2026-07-28");
    if !modern {
        return None;
    }
    let peer = connection.peer().clone();
    let name = connection.name().to_string();
    Some(tokio::spawn(async move {
        let filter = rmcp::model::SubscriptionFilter::builder()
            .tools_list_changed()
            .prompts_list_changed()
            .resources_list_changed()
            .build();
        match peer.listen(filter).await {
            Ok(mut sub) => {
                while let Ok(Some(_)) = sub.next().await {
                    changed.notify_one();
                }
            }
            Err(e) => tracing::debug!(server = %name, "subscriptions/listen not available: {e}"),
        }
    }))
}
