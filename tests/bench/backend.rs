//! The fast test backend: an rmcp `ServerHandler` with an `echo` tool, a `sleep` tool
//! (`{"ms": N}`) and, with `--tools N`, filler tools up to N tools in all (realistic schemas), served over Streamable HTTP (rmcp's
//! `StreamableHttpService` on axum) or stdio. The bench binary runs it as a child process of
//! itself: `<bench-exe> backend http --port P [--delay-ms D] [--tools N]` or
//! `<bench-exe> backend stdio [--delay-ms D] [--tools N]`.
//!
//! `--delay-ms` sleeps in the handshake (`initialize` and `server/discover`, whichever the
//! client uses), to model a slow-starting server.

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, DiscoverResult,
    Implementation, InitializeRequestParams, InitializeResult, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::json;

#[derive(Clone)]
pub struct EchoBackend {
    tools: Arc<Vec<Tool>>,
    delay: Duration,
}

impl EchoBackend {
    pub fn new(tools: usize, delay: Duration) -> Self {
        let mut list = vec![Tool::new(
            "echo",
            "Echo a message back",
            json!({
                "type": "object",
                "properties": {"message": {"type": "string", "description": "text to echo"}},
                "required": ["message"]
            })
            .as_object()
            .cloned()
            .unwrap(),
        )];
        list.push(Tool::new(
            "sleep",
            "Answer after `ms` milliseconds (a slow tool)",
            json!({
                "type": "object",
                "properties": {"ms": {"type": "integer", "minimum": 0}},
                "required": ["ms"]
            })
            .as_object()
            .cloned()
            .unwrap(),
        ));
        for i in 2..tools.max(2) {
            list.push(Tool::new(
                format!("t{i:02}"),
                format!(
                    "Filler tool number {i}: looks up records by id and returns them as JSON, \
                     with optional paging"
                ),
                json!({
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "description": "record id"},
                        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                        "cursor": {"type": "string"}
                    },
                    "required": ["id"]
                })
                .as_object()
                .cloned()
                .unwrap(),
            ));
        }
        EchoBackend {
            tools: Arc::new(list),
            delay,
        }
    }
}

impl ServerHandler for EchoBackend {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("bench-echo", "0"))
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    async fn discover(
        &self,
        _context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, ErrorData> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            self.get_info(),
        ))
    }

    async fn on_initialized(&self, _context: NotificationContext<RoleServer>) {}

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items((*self.tools).clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if request.name == "sleep" {
            let ms = request
                .arguments
                .as_ref()
                .and_then(|a| a.get("ms"))
                .and_then(|m| m.as_u64())
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return Ok(CallToolResult::success(vec![ContentBlock::text("slept")]).into());
        }
        let message = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or("");
        Ok(CallToolResult::success(vec![ContentBlock::text(format!("echo: {message}"))]).into())
    }
}

struct Args {
    mode: String,
    port: u16,
    delay: Duration,
    tools: usize,
}

fn parse(args: &[String]) -> Args {
    let mut out = Args {
        mode: args.first().cloned().unwrap_or_else(|| "stdio".into()),
        port: 0,
        delay: Duration::ZERO,
        tools: 1,
    };
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--port" => out.port = v.parse().expect("--port N"),
            "--delay-ms" => out.delay = Duration::from_millis(v.parse().expect("--delay-ms N")),
            "--tools" => out.tools = v.parse().expect("--tools N"),
            other => panic!("unknown backend flag {other}"),
        }
    }
    out
}

/// Entry point of `<bench-exe> backend ...`.
pub fn main(args: &[String]) {
    let args = parse(args);
    let backend = EchoBackend::new(args.tools, args.delay);
    match args.mode.as_str() {
        "stdio" => {
            // One pipe, one reader: a single-threaded runtime is all a stdio server needs.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let service = backend
                    .serve(rmcp::transport::stdio_pipes())
                    .await
                    .expect("stdio handshake");
                let _ = service.waiting().await;
            });
        }
        "http" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut sessions = LocalSessionManager::default();
                sessions.session_config.keep_alive = None;
                let mut config = StreamableHttpServerConfig::default();
                config.sse_keep_alive = None;
                // Plain JSON answers wherever the protocol allows (stateless 2026-07-28).
                config.json_response = true;
                let service = StreamableHttpService::new(
                    move || Ok(backend.clone()),
                    Arc::new(sessions),
                    config,
                );
                let app = axum::Router::new().nest_service("/mcp", service);
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
                    .await
                    .expect("bind backend port");
                // No Nagle: small responses leave at once (a fast server does this).
                let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, app).await.expect("serve");
            });
        }
        other => panic!("backend mode must be stdio or http, not {other}"),
    }
}
