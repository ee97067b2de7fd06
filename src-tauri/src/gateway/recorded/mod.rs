//! The activity log's view of the gateway: [`Recorded`] wraps a [`GatewayHandler`] and records
//! every request and notification a client sends (caller, method, server, tool/prompt/URI,
//! outcome, duration, bodies) into [`crate::activity`], then hands it on unchanged.
//!
//! It is a `ServerHandler` that forwards every method the gateway implements, so rmcp's
//! dispatch (eras, capability checks, result shaping) runs exactly as without it. Recording
//! costs the request a clock read, the route lookup and a clone of params and result; the
//! serialization, masking and SQLite insert happen on the activity writer's thread
//! ([`crate::activity::Recorder::record`] never waits). A request whose future is dropped
//! before it answers (the client went away) is recorded as `cancelled`; one cancelled by
//! `notifications/cancelled` too. A timeout is told apart from other failures by the handler
//! calling [`crate::activity::note_timeout`] while the request runs.
//!
//! rmcp's dispatch (`Service::handle_request`) is a future as large as the handler's largest
//! method's, which the front end allocates and copies for every relayed call. So the rare
//! methods with large futures (`completion/complete`, `resources/subscribe`, `unsubscribe`,
//! `logging/setLevel`, `subscriptions/listen`: they may reconcile subscriptions across
//! servers) run in boxes of their own (`tests/bench/RESULTS.md`, run N).

#![allow(deprecated)]

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use futures::future::Either;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, CancelledNotificationParam,
    CompleteRequestParams, CompleteResult, CustomNotification, CustomRequest, CustomResult,
    DiscoverResult, ErrorData, GetPromptRequestParams, GetPromptResponse, GetTaskParams,
    GetTaskResult, InitializeRequestParams, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse,
    Reference, ServerConfig, ServerResult, SetLevelRequestParams, SubscribeRequestParams,
    SubscriptionFilter, UnsubscribeRequestParams, UpdateTaskParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{RoleServer, ServerHandler};

use super::handler::{caller_of, GatewayHandler};
use super::Gateway;
use crate::activity::{now_ms, Body, Entry, Outcome, Recorder};

mod pending;

use crate::activity::TIMED_OUT;
use pending::{body, ok, tool_outcome, Pending};

/// A [`GatewayHandler`] whose every request and notification is recorded.
#[derive(Clone)]
pub struct Recorded {
    inner: GatewayHandler,
    gw: Arc<Gateway>,
    recorder: Recorder,
}

impl Recorded {
    /// `inner` with its requests recorded by `recorder` (`gw` names the servers they go to).
    pub fn new(inner: GatewayHandler, gw: Arc<Gateway>, recorder: Recorder) -> Self {
        Self {
            inner,
            gw,
            recorder,
        }
    }

    /// Starts timing a request; `None` while recording is off.
    fn start(
        &self,
        context: &RequestContext<RoleServer>,
        method: &str,
        server: Option<String>,
        target: Option<String>,
        request: Option<Body>,
    ) -> Option<Pending> {
        if !self.recorder.enabled() {
            return None;
        }
        Some(Pending {
            recorder: self.recorder.clone(),
            started: Instant::now(),
            cancel: context.ct.clone(),
            timed_out: Arc::default(),
            entry: Some(Entry {
                ts_ms: now_ms(),
                duration_us: 0,
                caller: caller_of(context).label(),
                kind: "request",
                method: method.to_string(),
                server,
                target,
                outcome: Outcome::Ok,
                error: None,
                request,
                response: None,
            }),
        })
    }

    /// Runs `fut` as the request `pending` times (when recording) and records how it ended.
    ///
    /// `fut` is awaited at one point only: awaited at two (one per branch), it was laid out
    /// twice in this future, which doubled the size of every recorded request's future.
    async fn timed<T, F>(
        pending: Option<Pending>,
        fut: F,
        judge: impl FnOnce(&T) -> Outcome,
    ) -> Result<T, ErrorData>
    where
        F: Future<Output = Result<T, ErrorData>>,
        T: Clone + Into<ServerResult>,
    {
        let fut = match &pending {
            Some(p) => Either::Left(TIMED_OUT.scope(p.timed_out.clone(), fut)),
            None => Either::Right(fut),
        };
        let result = fut.await;
        if let Some(pending) = pending {
            pending.finish(&result, judge);
        }
        result
    }

    /// Records a notification the client sent.
    fn notified(
        &self,
        extensions: &rmcp::model::Extensions,
        method: &str,
        target: Option<String>,
        params: Option<Body>,
    ) {
        if !self.recorder.enabled() {
            return;
        }
        let caller = crate::caller::Caller::of_message(extensions);
        self.recorder.record(Entry {
            ts_ms: now_ms(),
            duration_us: 0,
            caller: caller.label(),
            kind: "notification",
            method: method.to_string(),
            server: None,
            target,
            outcome: Outcome::Ok,
            error: None,
            request: params,
            response: None,
        });
    }

    /// Whether the session is bound to `caller` (its first request's credential).
    pub fn belongs_to(&self, caller: &crate::caller::Caller) -> bool {
        self.inner.belongs_to(caller)
    }

    /// Records `notifications/cancelled` for a request the front end serves itself (rmcp,
    /// which records the others through [`ServerHandler::on_cancelled`], never sees it);
    /// `extensions` are the notification's (its HTTP request's parts).
    pub fn cancelled(
        &self,
        notification: &CancelledNotificationParam,
        extensions: &rmcp::model::Extensions,
    ) {
        let target = notification.request_id.as_ref().map(|id| id.to_string());
        self.notified(
            extensions,
            "notifications/cancelled",
            target,
            Some(body(notification.clone())),
        );
    }

    fn resource_server(&self, uri: &str) -> Option<String> {
        self.gw
            .registry()
            .resource_owner(uri)
            .map(str::to_string)
            .or_else(|| self.gw.links.owner(uri))
    }

    fn task_server(&self, task_id: &str, context: &RequestContext<RoleServer>) -> Option<String> {
        self.gw.tasks.owner(task_id, &caller_of(context))
    }
}

impl ServerHandler for Recorded {
    fn get_info(&self) -> ServerConfig {
        self.inner.get_info()
    }

    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    async fn ping(&self, context: RequestContext<RoleServer>) -> Result<(), ErrorData> {
        let p = self.start(&context, "ping", None, None, None);
        Self::timed(
            p,
            async {
                self.inner
                    .ping(context)
                    .await
                    .map(|()| ServerResult::empty(()))
            },
            ok,
        )
        .await
        .map(|_| ())
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        let target = Some(request.client_info.name.clone());
        let p = self.start(
            &context,
            "initialize",
            None,
            target,
            Some(body(request.clone())),
        );
        Self::timed(p, self.inner.initialize(request, context), ok).await
    }

    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, ErrorData> {
        let p = self.start(&context, "server/discover", None, None, None);
        Self::timed(p, self.inner.discover(context), ok).await
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        if let Some(id) = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| {
                p.headers
                    .get(rmcp::transport::common::http_header::HEADER_SESSION_ID)
            })
            .and_then(|v| v.to_str().ok())
        {
            self.gw
                .direct
                .register(id, self.clone(), context.peer.clone());
        }
        self.notified(&context.extensions, "notifications/initialized", None, None);
        self.inner.on_initialized(context).await
    }

    async fn on_roots_list_changed(&self, context: NotificationContext<RoleServer>) {
        self.notified(
            &context.extensions,
            "notifications/roots/list_changed",
            None,
            None,
        );
        self.inner.on_roots_list_changed(context).await
    }

    async fn on_cancelled(
        &self,
        notification: CancelledNotificationParam,
        context: NotificationContext<RoleServer>,
    ) {
        self.cancelled(&notification, &context.extensions);
        self.inner.on_cancelled(notification, context).await
    }

    async fn on_progress(
        &self,
        notification: ProgressNotificationParam,
        context: NotificationContext<RoleServer>,
    ) {
        self.notified(
            &context.extensions,
            "notifications/progress",
            None,
            Some(body(notification.clone())),
        );
        self.inner.on_progress(notification, context).await
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        context: NotificationContext<RoleServer>,
    ) {
        let method = notification.method.clone();
        self.notified(&context.extensions, &method, None, None);
        self.inner
            .on_custom_notification(notification, context)
            .await
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let p = self.start(&context, &request.method.clone(), None, None, None);
        Self::timed(p, self.inner.on_custom_request(request, context), ok).await
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        // A listen stream lasts as long as the client stays; it is not a call to time.
        Box::pin(self.inner.listen(context)).await
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let p = self.start(&context, "tools/list", None, None, None);
        Self::timed(p, self.inner.list_tools(request, context), ok).await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let p = if self.recorder.enabled() {
            let server = self
                .gw
                .registry()
                .tool(&request.name)
                .map(|t| t.route.server.clone());
            self.start(
                &context,
                "tools/call",
                server,
                Some(request.name.to_string()),
                Some(body(request.clone())),
            )
        } else {
            None
        };
        Self::timed(p, self.inner.call_tool(request, context), tool_outcome).await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let p = self.start(&context, "prompts/list", None, None, None);
        Self::timed(p, self.inner.list_prompts(request, context), ok).await
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let p = if self.recorder.enabled() {
            let server = self
                .gw
                .registry()
                .prompt(&request.name)
                .map(|r| r.server.clone());
            self.start(
                &context,
                "prompts/get",
                server,
                Some(request.name.clone()),
                Some(body(request.clone())),
            )
        } else {
            None
        };
        Self::timed(p, self.inner.get_prompt(request, context), ok).await
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let p = self.start(&context, "resources/list", None, None, None);
        Self::timed(p, self.inner.list_resources(request, context), ok).await
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let p = self.start(&context, "resources/templates/list", None, None, None);
        Self::timed(p, self.inner.list_resource_templates(request, context), ok).await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let p = if self.recorder.enabled() {
            let server = self.resource_server(&request.uri);
            self.start(
                &context,
                "resources/read",
                server,
                Some(request.uri.clone()),
                Some(body(request.clone())),
            )
        } else {
            None
        };
        Self::timed(p, self.inner.read_resource(request, context), ok).await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let p = if self.recorder.enabled() {
            let (server, target) = match &request.r#ref {
                Reference::Prompt(p) => (
                    self.gw.registry().prompt(&p.name).map(|r| r.server.clone()),
                    Some(p.name.clone()),
                ),
                Reference::Resource(r) => (
                    self.gw
                        .registry()
                        .template_owner(&r.uri)
                        .map(str::to_string)
                        .or_else(|| self.resource_server(&r.uri)),
                    Some(r.uri.clone()),
                ),
                _ => (None, None),
            };
            self.start(
                &context,
                "completion/complete",
                server,
                target,
                Some(body(request.clone())),
            )
        } else {
            None
        };
        Self::timed(p, Box::pin(self.inner.complete(request, context)), ok).await
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let p = self.start(
            &context,
            "logging/setLevel",
            None,
            None,
            Some(body(request.clone())),
        );
        let fut = async {
            Box::pin(self.inner.set_level(request, context))
                .await
                .map(|()| ServerResult::empty(()))
        };
        Self::timed(p, fut, ok).await.map(|_| ())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let server = self.resource_server(&request.uri);
        let p = self.start(
            &context,
            "resources/subscribe",
            server,
            Some(request.uri.clone()),
            None,
        );
        let fut = async {
            Box::pin(self.inner.subscribe(request, context))
                .await
                .map(|()| ServerResult::empty(()))
        };
        Self::timed(p, fut, ok).await.map(|_| ())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let server = self.resource_server(&request.uri);
        let p = self.start(
            &context,
            "resources/unsubscribe",
            server,
            Some(request.uri.clone()),
            None,
        );
        let fut = async {
            Box::pin(self.inner.unsubscribe(request, context))
                .await
                .map(|()| ServerResult::empty(()))
        };
        Self::timed(p, fut, ok).await.map(|_| ())
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        let server = self.task_server(&request.task_id, &context);
        let p = self.start(
            &context,
            "tasks/get",
            server,
            Some(request.task_id.clone()),
            None,
        );
        Self::timed(p, self.inner.get_task(request, context), ok).await
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let server = self.task_server(&request.task_id, &context);
        let p = self.start(
            &context,
            "tasks/update",
            server,
            Some(request.task_id.clone()),
            None,
        );
        let fut = async {
            self.inner
                .update_task(request, context)
                .await
                .map(|()| ServerResult::empty(()))
        };
        Self::timed(p, fut, ok).await.map(|_| ())
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let server = self.task_server(&request.task_id, &context);
        let p = self.start(
            &context,
            "tasks/cancel",
            server,
            Some(request.task_id.clone()),
            None,
        );
        let fut = async {
            self.inner
                .cancel_task(request, context)
                .await
                .map(|()| ServerResult::empty(()))
        };
        Self::timed(p, fut, ok).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the futures a method of `Recorded` with two arguments returns.
    fn future_size<'a, P, C, Fut>(_: impl Fn(&'a Recorded, P, C) -> Fut) -> usize {
        std::mem::size_of::<Fut>()
    }

    #[test]
    fn rmcps_dispatch_future_is_about_the_size_of_a_calls() {
        let dispatch = future_size(<Recorded as rmcp::Service<RoleServer>>::handle_request);
        let call = future_size(<Recorded as ServerHandler>::call_tool);
        // See the module docs. Before: 48,816 bytes against 5,368 (release build).
        assert!(
            dispatch <= 2 * call,
            "dispatch {dispatch} bytes, call_tool {call}"
        );
    }
}
