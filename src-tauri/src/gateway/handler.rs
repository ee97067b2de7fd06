//! The MCP server every client talks to: one [`GatewayHandler`] per client session (or per
//! request, for stateless 2026-07-28 clients), all reading the shared [`Gateway`].
//!
//! Routing: `tools/call` and `prompts/get` look the exposed name up in the registry, rename it
//! back to the backend's name and forward it to the owning server's connection;
//! `resources/read` goes to the server owning the URI. The client's `_meta` is not forwarded
//! (its session and protocol facts belong to the client side, DESIGN.md rule 4); a client's
//! progress token is mapped to the backend's and back, and a client's cancellation cancels the
//! backend request. Backend errors keep their code and name the server.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientRequest, ContentBlock,
    GetPromptRequest, GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequest, ReadResourceRequestParams, ReadResourceResponse, ResultType,
    ServerCapabilities, ServerConfig, ServerResult, SubscriptionFilter,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio::sync::mpsc;

use super::Gateway;
use crate::upstream::{Connection, UpstreamError};

/// Instructions sent to clients in the `initialize` result.
pub const INSTRUCTIONS: &str =
    "Loopgate aggregates several MCP servers. Tool and prompt names are \
<server>__<name>; the part before the double underscore names the server that runs it.";

/// Serves one client session from the shared [`Gateway`].
#[derive(Clone)]
pub struct GatewayHandler {
    gw: Arc<Gateway>,
}

impl GatewayHandler {
    /// A handler over `gw`.
    pub fn new(gw: Arc<Gateway>) -> Self {
        Self { gw }
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
}

/// Errors a client should read (timeouts, lost connections) become tool results with
/// `isError: true`; protocol errors from the backend stay JSON-RPC errors.
fn tool_error(e: UpstreamError) -> Result<CallToolResponse, ErrorData> {
    match e {
        UpstreamError::Mcp { .. } => Err(e.to_mcp_error()),
        UpstreamError::Cancelled { .. } => Err(ErrorData::internal_error(e.to_string(), None)),
        other => Ok(CallToolResponse::Complete(CallToolResult::error(vec![
            ContentBlock::text(other.to_string()),
        ]))),
    }
}

impl ServerHandler for GatewayHandler {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_resources()
            .enable_resources_list_changed()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("loopgate", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.gw.clients().add_session(context.peer);
    }

    fn accepted_subscription_filter(
        &self,
        _requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(
            SubscriptionFilter::builder()
                .tools_list_changed()
                .prompts_list_changed()
                .resources_list_changed()
                .build(),
        )
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let mut rx = self.gw.clients().subscribe();
        loop {
            let changed = tokio::select! {
                _ = context.cancelled() => return Ok(()),
                c = rx.recv() => c,
            };
            let changed = match changed {
                Ok(c) => c,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => super::ListsChanged {
                    tools: true,
                    prompts: true,
                    resources: true,
                },
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            };
            let sink = context.sink();
            let sent = async {
                if changed.tools {
                    sink.notify_tool_list_changed().await?;
                }
                if changed.prompts {
                    sink.notify_prompt_list_changed().await?;
                }
                if changed.resources {
                    sink.notify_resource_list_changed().await?;
                }
                Ok::<_, rmcp::service::SubscriptionSendError>(())
            };
            if sent.await.is_err() {
                return Ok(());
            }
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let reg = self.gw.registry();
        Ok(ListToolsResult::with_all_items(
            reg.tools().cloned().collect(),
        ))
    }

    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let reg = self.gw.registry();
        let Some(exposed) = reg.tool(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool \"{}\"; call tools/list for the tools available now",
                    request.name
                ),
                None,
            ));
        };
        let conn = self.connection(&exposed.route.server)?;
        request.name = exposed.route.original.clone().into();
        request.meta = None;
        let progress = context.meta.get_progress_token().map(|client_token| {
            let (tx, mut rx) = mpsc::channel::<rmcp::model::ProgressNotificationParam>(64);
            let peer = context.peer.clone();
            tokio::spawn(async move {
                while let Some(mut p) = rx.recv().await {
                    p.progress_token = client_token.clone();
                    let _ = peer.notify_progress(p).await;
                }
            });
            tx
        });
        match conn.call_tool(request, &context.ct, progress).await {
            Ok(CallToolResponse::Complete(mut r)) => {
                // Older backends omit `resultType`; 2026-07-28 clients require it (rmcp strips
                // it again for older clients).
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(CallToolResponse::Complete(r))
            }
            Ok(other) => Ok(other),
            Err(e) => tool_error(e),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(
            self.gw.registry().prompts().to_vec(),
        ))
    }

    async fn get_prompt(
        &self,
        mut request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let reg = self.gw.registry();
        let Some(route) = reg.prompt(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("unknown prompt \"{}\"; call prompts/list", request.name),
                None,
            ));
        };
        let conn = self.connection(&route.server)?;
        request.name = route.original.clone();
        request.meta = None;
        match conn
            .request(
                ClientRequest::GetPromptRequest(GetPromptRequest::new(request)),
                &context.ct,
                None,
            )
            .await
        {
            Ok(ServerResult::GetPromptResult(mut r)) => {
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(GetPromptResponse::Complete(r))
            }
            Ok(ServerResult::InputRequiredResult(r)) => Ok(GetPromptResponse::InputRequired(r)),
            Ok(_) => Err(ErrorData::internal_error(
                format!(
                    "server \"{}\" sent an unexpected answer to prompts/get",
                    route.server
                ),
                None,
            )),
            Err(e) => Err(e.to_mcp_error()),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(
            self.gw.registry().resources().to_vec(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            self.gw.registry().resource_templates().to_vec(),
        ))
    }

    async fn read_resource(
        &self,
        mut request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let reg = self.gw.registry();
        let Some(server) = reg.resource_owner(&request.uri) else {
            return Err(ErrorData::resource_not_found(
                format!("no server offers resource \"{}\"", request.uri),
                None,
            ));
        };
        let conn = self.connection(server)?;
        request.meta = None;
        match conn
            .request(
                ClientRequest::ReadResourceRequest(ReadResourceRequest::new(request)),
                &context.ct,
                None,
            )
            .await
        {
            Ok(ServerResult::ReadResourceResult(mut r)) => {
                r.result_type.get_or_insert(ResultType::COMPLETE);
                Ok(ReadResourceResponse::Complete(r))
            }
            Ok(ServerResult::InputRequiredResult(r)) => Ok(ReadResourceResponse::InputRequired(r)),
            Ok(_) => Err(ErrorData::internal_error(
                format!("server \"{server}\" sent an unexpected answer to resources/read"),
                None,
            )),
            Err(e) => Err(e.to_mcp_error()),
        }
    }
}
