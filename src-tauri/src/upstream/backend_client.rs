//! The MCP client Loopgate is to each server: what it declares, and where everything the
//! server sends on its own goes.
//!
//! [`BackendClient`] implements rmcp's `Service<RoleClient>` directly, so every server→client
//! request — sampling, elicitation, roots, and methods Loopgate does not know — takes the same
//! path: [`Routes`] names the call it belongs to and the request is handed to that call's
//! caller, whose client answers it (ARCHITECTURE.md rule 9). Nothing is answered here on the
//! user's behalf; a request that reaches nobody gets an error saying why.
//!
//! Notifications: progress goes to its call; list changes wake the runner (re-list); log
//! messages ([`BackendClient::logging_message`]) land in the server's log buffer and go to the
//! only call in flight and the [`super::routes::Downstream`]; resource updates and task status
//! go to the downstream too.

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use std::sync::Arc;

use rmcp::model::{
    ClientCapabilities, ClientConfig, ClientResult, ErrorCode, ErrorData, Implementation,
    LoggingMessageNotificationParam, ServerNotification, ServerRequest,
};
use rmcp::service::{
    InboundStreamOrigin, NotificationContext, RequestContext, RoleClient, Service,
};
use tokio::sync::{oneshot, Notify};
use tokio_util::sync::CancellationToken;

use super::logs::LogBuffer;
use super::routes::{CallRoute, Channel, Inbound, Routes};

/// The MCP extension for interactive UIs (MCP Apps), which Loopgate relays.
pub const UI_EXTENSION: &str = "io.modelcontextprotocol/ui";

/// The client capabilities Loopgate declares to servers: everything it can relay to a client
/// — sampling (with tools and context), elicitation (form and URL), roots (with list changes)
/// and the MCP Apps extension. Whether the client behind a particular call supports it is
/// checked when the server asks; a client that does not gets the spec's error, never a fake
/// answer.
pub fn relayed_capabilities() -> ClientCapabilities {
    serde_json::from_value(serde_json::json!({
        "sampling": { "tools": {}, "context": {} },
        "elicitation": { "form": {}, "url": {} },
        "roots": { "listChanged": true },
        "extensions": { UI_EXTENSION: { "mimeTypes": ["text/html;profile=mcp-app"] } }
    }))
    .expect("static capabilities parse")
}

/// Which call a server's log message is about ([`BackendClient::logging_message`]).
pub enum LogOf<'a> {
    /// The call on whose response stream it came (`None`: a call nobody waits on, e.g. one
    /// the gateway made itself).
    Call(Option<&'a CallRoute>),
    /// Not known: it came on its own (a stdio server's pipe, rmcp's service).
    Unknown,
}

/// One channel's client handler for one server (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct BackendClient {
    server: Arc<str>,
    channel: Channel,
    routes: Arc<Routes>,
    changed: Arc<Notify>,
    logs: Arc<LogBuffer>,
}

impl BackendClient {
    /// The handler for `channel` of server `server`: routes calls through `routes`, wakes
    /// `changed` on list changes, records log messages in `logs`.
    pub fn new(
        server: &str,
        channel: Channel,
        routes: Arc<Routes>,
        changed: Arc<Notify>,
        logs: Arc<LogBuffer>,
    ) -> Self {
        Self {
            server: server.into(),
            channel,
            routes,
            changed,
            logs,
        }
    }

    /// Writes `line` into the server's own log (the dashboard's log view), marked as the
    /// gateway's.
    pub fn note(&self, line: &str) {
        self.logs.push("gateway", line);
    }

    /// Hands `request` to the caller of the call it belongs to and waits for the answer.
    async fn relay(
        &self,
        request: ServerRequest,
        context: &RequestContext<RoleClient>,
    ) -> Result<ClientResult, ErrorData> {
        let method = method_of(&request);
        let refuse = |why: String| {
            let message = format!("Loopgate could not pass {method} on to a client: {why}");
            self.logs.push("gateway", &message);
            ErrorData::new(ErrorCode::INTERNAL_ERROR, message, None)
        };
        let route = self
            .routes
            .for_request(
                self.channel,
                context.extensions.get::<InboundStreamOrigin>(),
            )
            .await
            .map_err(|e| refuse(e.to_string()))?;
        let (reply, answer) = oneshot::channel();
        let withdrawn = CancellationToken::new();
        route
            .inbound
            .send(Box::new(Inbound {
                request,
                reply,
                withdrawn: withdrawn.clone(),
            }))
            .await
            .map_err(|_| refuse(super::routes::Unroutable::Ended.to_string()))?;
        tokio::select! {
            a = answer => a.map_err(|_| refuse(super::routes::Unroutable::Ended.to_string()))?,
            _ = context.ct.cancelled() => {
                withdrawn.cancel();
                Err(ErrorData::new(ErrorCode::INTERNAL_ERROR, "cancelled by the server", None))
            }
        }
    }
}

/// The JSON-RPC method of a server→client request, for messages.
pub fn method_of(request: &ServerRequest) -> String {
    match request {
        ServerRequest::PingRequest(_) => "ping".into(),
        ServerRequest::CreateMessageRequest(_) => "sampling/createMessage".into(),
        ServerRequest::ListRootsRequest(_) => "roots/list".into(),
        ServerRequest::ElicitRequest(_) => "elicitation/create".into(),
        ServerRequest::CustomRequest(r) => r.method.clone(),
        _ => "a request".into(),
    }
}

impl Service<RoleClient> for BackendClient {
    async fn handle_request(
        &self,
        request: ServerRequest,
        context: RequestContext<RoleClient>,
    ) -> Result<ClientResult, ErrorData> {
        match request {
            ServerRequest::PingRequest(_) => Ok(ClientResult::empty(())),
            other => self.relay(other, &context).await,
        }
    }

    async fn handle_notification(
        &self,
        notification: ServerNotification,
        _context: NotificationContext<RoleClient>,
    ) -> Result<(), ErrorData> {
        self.notification(notification).await;
        Ok(())
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            relayed_capabilities(),
            Implementation::new("loopgate", env!("CARGO_PKG_VERSION")),
        )
    }
}

impl BackendClient {
    /// Takes a notification from the server, wherever it arrived (rmcp's service or a direct
    /// exchange's response stream): see the module docs for where each kind goes.
    pub async fn notification(&self, notification: ServerNotification) {
        match notification {
            ServerNotification::ProgressNotification(n) => {
                let route = self
                    .routes
                    .by_token(self.channel, &n.params.progress_token)
                    .await;
                if let Some(route) = route {
                    route.progress(n.params);
                }
            }
            ServerNotification::ToolListChangedNotification(_)
            | ServerNotification::PromptListChangedNotification(_)
            | ServerNotification::ResourceListChangedNotification(_) => self.changed.notify_one(),
            ServerNotification::LoggingMessageNotification(n) => {
                self.logging_message(n.params, LogOf::Unknown)
            }
            ServerNotification::ResourceUpdatedNotification(n) => {
                if let Some(d) = self.routes.downstream() {
                    d.resource_updated(&self.server, &n.params.uri);
                }
            }
            ServerNotification::TaskStatusNotification(n) => {
                if let Some(d) = self.routes.downstream() {
                    d.task_status(&self.server, n.params);
                }
            }
            other => tracing::debug!(server = %self.server, "ignored notification: {other:?}"),
        }
    }

    /// Handles a log message of the server (`notifications/message`): into the server's log
    /// (the dashboard's log view); to the call it is about ([`LogOf::Call`]: it came on that
    /// call's response stream), or, when that is not known, to the only call in flight if
    /// there is exactly one (a 2026-07-28 caller has no session to get it otherwise; a call's
    /// route takes them only for such a caller); and to every client session whose log
    /// level admits it. A stdio server's pipe calls this as it reads the message
    /// ([`super::stdio::pipe::Pipe::with_logging`]), so the message stays before the answer
    /// that follows it.
    pub fn logging_message(&self, params: LoggingMessageNotificationParam, of: LogOf<'_>) {
        let level = serde_json::to_value(params.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let data = match &params.data {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let logger = params
            .logger
            .as_deref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        self.logs
            .push("server", &format!("[{level}] {logger}{data}"));
        let only;
        let route = match of {
            LogOf::Call(call) => call,
            LogOf::Unknown => {
                only = self.routes.only_call();
                only.as_deref()
            }
        };
        if let Some(route) = route {
            route.log(params.clone());
        }
        if let Some(d) = self.routes.downstream() {
            d.logging_message(&self.server, params);
        }
    }
}
