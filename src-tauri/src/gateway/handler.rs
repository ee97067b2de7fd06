//! The MCP server every client talks to: one [`GatewayHandler`] per client session (or per
//! request, for stateless 2026-07-28 clients), all reading the shared [`Gateway`].
//!
//! Thin by design: it finds where a request goes (the registry's routes), renames it back to
//! the server's name, and hands it to the [`relay`]; server-wide matters (log levels,
//! subscriptions, roots changes) go to the gateway's shared state. What it offers clients —
//! capabilities and instructions — is what the connected servers offer together. A session
//! belongs to the credential it started with; a request with another is refused.

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use std::sync::Arc;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams,
    CancelTaskRequest, ClientNotification, ClientRequest, CompleteRequest, CompleteRequestParams,
    CompleteResult, ContentBlock, DiscoverResult, ErrorData, GetPromptRequest,
    GetPromptRequestParams, GetPromptResponse, GetTaskParams, GetTaskRequest, GetTaskResult,
    Implementation, InitializeRequestParams, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequest, ReadResourceRequestParams, ReadResourceResponse, Reference, ResultType,
    RootsListChangedNotification, ServerConfig, ServerResult, SetLevelRequestParams,
    SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams, UpdateTaskParams,
    UpdateTaskRequest,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{RoleServer, ServerHandler};

use super::registry::Registry;
use super::relay::{self, UpstreamOrState};
use super::scope::Scope;
use super::session::ClientSession;
use super::view::View;
use super::{search, Gateway};
use crate::caller::Caller;
use crate::upstream::{Connection, RequestOptions, UpstreamError};

/// Serves one client session from the shared [`Gateway`].
#[derive(Clone)]
pub struct GatewayHandler {
    gw: Arc<Gateway>,
    session: Arc<ClientSession>,
}

/// The credential a request came with (the HTTP guard put it in the request's extensions;
/// the stdio bridge's requests have none and count as the gateway's own).
pub(crate) fn caller_of(context: &RequestContext<RoleServer>) -> Caller {
    Caller::of_message(&context.extensions)
}

/// The profile the request asks for with [`super::scope::PROFILE_HEADER`] (the stdio bridge's
/// `--profile`), if any.
fn asked_profile(context: &RequestContext<RoleServer>) -> Option<String> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.headers.get(super::scope::PROFILE_HEADER))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl GatewayHandler {
    /// A handler (a new client session) over `gw`.
    pub fn new(gw: Arc<Gateway>) -> Self {
        Self {
            gw,
            session: Arc::new(ClientSession::new()),
        }
    }

    /// Checks the request comes with the session's credential (and the profile it started
    /// with), and returns the registry and the [`Scope`] the caller sees.
    fn enter(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<(Arc<Registry>, Scope), ErrorData> {
        let caller = caller_of(context);
        if !self.session.bind(&caller) {
            return Err(ErrorData::invalid_request(
                "this session belongs to another client (a different access token)",
                None,
            ));
        }
        let asked = asked_profile(context);
        if !self.session.ask_profile(asked.as_deref()) {
            return Err(ErrorData::invalid_request(
                "this session was opened with another profile",
                None,
            ));
        }
        let scope = self
            .gw
            .profiles()
            .scope_for(&caller, asked.as_deref())
            .map_err(|m| ErrorData::invalid_request(m, None))?;
        Ok((self.gw.registry(), scope))
    }

    /// Whether the session is bound to `caller` (its first request's credential); `false`
    /// before its first request.
    pub fn belongs_to(&self, caller: &Caller) -> bool {
        self.session.caller() == Some(caller)
    }

    /// Checks the caller (see [`GatewayHandler::enter`]).
    fn check_caller(&self, context: &RequestContext<RoleServer>) -> Result<(), ErrorData> {
        self.enter(context).map(|_| ())
    }

    fn connection(&self, server: &str) -> Result<Arc<Connection>, ErrorData> {
        self.gw
            .supervisor()
            .snapshot()
            .get(server)
            .and_then(|v| v.connection.clone())
            .ok_or_else(|| {
                ErrorData::internal_error(
                    format!(
                        "server \"{server}\" is not connected right now; see `loopgate servers`"
                    ),
                    None,
                )
            })
    }

    /// Relays `request` to `server` for this request's caller.
    async fn relay(
        &self,
        server: &str,
        request: ClientRequest,
        context: &RequestContext<RoleServer>,
    ) -> Result<ServerResult, UpstreamOrState> {
        let connection = self.connection(server).map_err(UpstreamOrState::Refused)?;
        let caller = relay::Caller::new(&self.session, context);
        // Boxed: the relay's future is large, and unboxed it is copied into every handler
        // future that awaits it, and again when rmcp spawns the request (measured: 0.6% of the
        // gateway's CPU in `memmove` under load, RESULTS.md run I).
        Box::pin(relay::call(&self.gw, server, connection, request, &caller)).await
    }
}

/// Errors a client should read (timeouts, lost connections) become tool results with
/// `isError: true`; protocol errors from the backend stay JSON-RPC errors.
fn tool_error(e: UpstreamOrState) -> Result<CallToolResponse, ErrorData> {
    note_if_timeout(&e);
    match e {
        UpstreamOrState::Upstream(e @ UpstreamError::Mcp { .. }) => Err(e.to_mcp_error()),
        UpstreamOrState::Upstream(e @ UpstreamError::Cancelled { .. }) => {
            Err(ErrorData::internal_error(e.to_string(), None))
        }
        UpstreamOrState::Upstream(other) => {
            Ok(CallToolResponse::Complete(CallToolResult::error(vec![
                ContentBlock::text(other.to_string()),
            ])))
        }
        other => Err(mcp_error(other)),
    }
}

/// The error for the client.
fn mcp_error(e: UpstreamOrState) -> ErrorData {
    note_if_timeout(&e);
    match e {
        UpstreamOrState::Upstream(e) => e.to_mcp_error(),
        UpstreamOrState::State(e) => e.to_error(),
        UpstreamOrState::Refused(e) => e,
    }
}

/// Narrows an initialize or discover answer to what `view` offers (a profile's servers).
fn scoped_info(info: &mut ServerConfig, view: &View<'_>) {
    if !view.scope().is_everything() {
        info.capabilities = view.capabilities();
        info.instructions = Some(view.instructions());
    }
}

/// Tells the activity log a request timed out (it records the outcome as `timeout`).
fn note_if_timeout(e: &UpstreamOrState) {
    if matches!(e, UpstreamOrState::Upstream(UpstreamError::Timeout { .. })) {
        crate::activity::note_timeout();
    }
}

fn unexpected(server: &str, method: &str) -> ErrorData {
    ErrorData::internal_error(
        format!("server \"{server}\" sent an unexpected answer to {method}"),
        None,
    )
}

impl ServerHandler for GatewayHandler {
    fn get_info(&self) -> ServerConfig {
        let registry = self.gw.registry();
        ServerConfig::new(registry.capabilities().clone())
            .with_server_info(Implementation::new("loopgate", env!("CARGO_PKG_VERSION")))
            .with_instructions(registry.instructions())
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        context.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        scoped_info(&mut result, &View::new(&reg, &scope));
        Ok(result)
    }

    async fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        let mut info = self.get_info();
        scoped_info(&mut info, &View::new(&reg, &scope));
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            info,
        ))
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.session.set_peer(context.peer);
        self.gw.sessions().add(&self.session);
    }

    async fn on_roots_list_changed(&self, _context: NotificationContext<RoleServer>) {
        // The servers this client has used may hold its roots: tell them.
        for server in self.session.servers_used() {
            if let Ok(c) = self.connection(&server) {
                c.notify(ClientNotification::RootsListChangedNotification(
                    RootsListChangedNotification::default(),
                ))
                .await;
            }
        }
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::builder()
            .tools_list_changed()
            .prompts_list_changed()
            .resources_list_changed();
        if let Some(uris) = &requested.resource_subscriptions {
            accepted = accepted.resource_subscriptions(uris.clone());
        }
        Some(accepted.build())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        self.check_caller(context.request_context())?;
        let caller = caller_of(context.request_context());
        let asked = asked_profile(context.request_context());
        super::listen::serve(&self.gw, context, caller, asked).await
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        if scope.tool_search() {
            return Ok(ListToolsResult::with_all_items(search::meta_tools()));
        }
        Ok(ListToolsResult::with_all_items(
            View::new(&reg, &scope).tools(),
        ))
    }

    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        let view = View::new(&reg, &scope);
        if scope.tool_search() {
            match search::meta_call(&view, &self.gw.search, &mut request)? {
                search::MetaCall::Answered(result) => {
                    return Ok(CallToolResponse::Complete(result))
                }
                search::MetaCall::Call => {}
            }
        }
        let Some(exposed) = view.tool(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool \"{}\"; call tools/list for the tools available now",
                    request.name
                ),
                None,
            ));
        };
        let server = exposed.route.server.clone();
        request.name = exposed.route.original.clone().into();
        request.meta = None;
        let call = ClientRequest::CallToolRequest(CallToolRequest::new(request));
        match self.relay(&server, call, &context).await {
            Ok(ServerResult::CallToolResult(mut r)) => {
                // Older backends omit `resultType`; 2026-07-28 clients require it (rmcp strips
                // it again for older clients).
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(CallToolResponse::Complete(r))
            }
            Ok(ServerResult::InputRequiredResult(r)) => Ok(CallToolResponse::InputRequired(r)),
            Ok(ServerResult::CreateTaskResult(r)) => {
                let ttl = r.task.ttl_ms.map(std::time::Duration::from_millis);
                self.gw
                    .tasks
                    .record(&server, &r.task.task_id, &caller_of(&context), ttl)
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                Ok(CallToolResponse::Task(r))
            }
            Ok(ServerResult::EmptyResult(_)) => {
                Ok(CallToolResponse::Complete(CallToolResult::success(vec![])))
            }
            Ok(_) => Err(unexpected(&server, "tools/call")),
            Err(e) => tool_error(e),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        Ok(ListPromptsResult::with_all_items(
            View::new(&reg, &scope).prompts(),
        ))
    }

    async fn get_prompt(
        &self,
        mut request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        let Some(route) = View::new(&reg, &scope).prompt(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("unknown prompt \"{}\"; call prompts/list", request.name),
                None,
            ));
        };
        let server = route.server.clone();
        request.name = route.original.clone();
        request.meta = None;
        let call = ClientRequest::GetPromptRequest(GetPromptRequest::new(request));
        match self
            .relay(&server, call, &context)
            .await
            .map_err(mcp_error)?
        {
            ServerResult::GetPromptResult(mut r) => {
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(GetPromptResponse::Complete(r))
            }
            ServerResult::InputRequiredResult(r) => Ok(GetPromptResponse::InputRequired(r)),
            _ => Err(unexpected(&server, "prompts/get")),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        Ok(ListResourcesResult::with_all_items(
            View::new(&reg, &scope).resources(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        Ok(ListResourceTemplatesResult::with_all_items(
            View::new(&reg, &scope).resource_templates(),
        ))
    }

    async fn read_resource(
        &self,
        mut request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        let server = self.owner(&View::new(&reg, &scope), &request.uri)?;
        request.meta = None;
        let call = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(request));
        match self
            .relay(&server, call, &context)
            .await
            .map_err(mcp_error)?
        {
            ServerResult::ReadResourceResult(mut r) => {
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(ReadResourceResponse::Complete(r))
            }
            ServerResult::InputRequiredResult(r) => Ok(ReadResourceResponse::InputRequired(r)),
            _ => Err(unexpected(&server, "resources/read")),
        }
    }

    async fn complete(
        &self,
        mut request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        let reg = View::new(&reg, &scope);
        let server = match &mut request.r#ref {
            Reference::Prompt(p) => {
                let route = reg.prompt(&p.name).ok_or_else(|| {
                    ErrorData::invalid_params(format!("unknown prompt \"{}\"", p.name), None)
                })?;
                p.name = route.original.clone();
                route.server.clone()
            }
            Reference::Resource(r) => reg
                .template_owner(&r.uri)
                .map(str::to_string)
                .or_else(|| reg.resource_owner(&r.uri).map(str::to_string))
                .ok_or_else(|| {
                    ErrorData::invalid_params(
                        format!("no server offers resource template \"{}\"", r.uri),
                        None,
                    )
                })?,
            _ => {
                return Err(ErrorData::invalid_params(
                    "unknown completion reference type",
                    None,
                ))
            }
        };
        let connection = self.connection(&server)?;
        let offers = connection
            .peer_info()
            .is_some_and(|i| i.capabilities.completions.is_some());
        if !offers {
            return Err(ErrorData::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                format!("server \"{server}\" does not offer completions"),
                None,
            ));
        }
        request.meta = None;
        let call = ClientRequest::CompleteRequest(CompleteRequest::new(request));
        let options = RequestOptions {
            cancel: context.ct.clone(),
            ..Default::default()
        };
        match connection.request(call, options).await {
            Ok(ServerResult::CompleteResult(mut r)) => {
                // Older servers omit `resultType`; 2026-07-28 clients require it.
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(r)
            }
            Ok(_) => Err(unexpected(&server, "completion/complete")),
            Err(e) => Err(e.to_mcp_error()),
        }
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.check_caller(&context)?;
        self.session.set_log_level(request.level);
        self.gw.sync_log_levels().await;
        Ok(())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let (reg, scope) = self.enter(&context)?;
        self.owner(&View::new(&reg, &scope), &request.uri)?;
        self.session.subscribe(&request.uri, true);
        self.gw.subscriptions.reconcile(&self.gw).await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.check_caller(&context)?;
        self.session.subscribe(&request.uri, false);
        self.gw.subscriptions.reconcile(&self.gw).await
    }

    async fn get_task(
        &self,
        mut request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        let server = self.task_owner(&request.task_id, &context)?;
        request.meta = None;
        let call = ClientRequest::GetTaskRequest(GetTaskRequest::new(request));
        match self
            .relay(&server, call, &context)
            .await
            .map_err(mcp_error)?
        {
            ServerResult::GetTaskResult(r) => Ok(r),
            _ => Err(unexpected(&server, "tasks/get")),
        }
    }

    async fn update_task(
        &self,
        mut request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let server = self.task_owner(&request.task_id, &context)?;
        request.meta = None;
        let call = ClientRequest::UpdateTaskRequest(UpdateTaskRequest::new(request));
        // The answer is an empty acknowledgement (`{"resultType": "complete"}`).
        self.relay(&server, call, &context)
            .await
            .map_err(mcp_error)?;
        Ok(())
    }

    async fn cancel_task(
        &self,
        mut request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let server = self.task_owner(&request.task_id, &context)?;
        request.meta = None;
        let call = ClientRequest::CancelTaskRequest(CancelTaskRequest::new(request));
        // The answer is an empty acknowledgement (`{"resultType": "complete"}`).
        self.relay(&server, call, &context)
            .await
            .map_err(mcp_error)?;
        Ok(())
    }
}

impl GatewayHandler {
    /// The server that owns task `task_id`, for this request's caller (SEP-2663: an unknown
    /// task is invalid params).
    fn task_owner(
        &self,
        task_id: &str,
        context: &RequestContext<RoleServer>,
    ) -> Result<String, ErrorData> {
        self.check_caller(context)?;
        self.gw
            .tasks
            .owner(task_id, &caller_of(context))
            .ok_or_else(|| ErrorData::invalid_params(format!("unknown task \"{task_id}\""), None))
    }

    /// The server that owns resource `uri` (listed, by template, an app's, or a link a server
    /// handed out).
    fn owner(&self, view: &View<'_>, uri: &str) -> Result<String, ErrorData> {
        view.resource_owner(uri)
            .map(str::to_string)
            .or_else(|| {
                self.gw
                    .links
                    .owner(uri)
                    .filter(|s| view.scope().has_server(s))
            })
            .ok_or_else(|| {
                ErrorData::resource_not_found(format!("no server offers resource \"{uri}\""), None)
            })
    }
}
