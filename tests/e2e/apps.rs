//! MCP Apps (`io.modelcontextprotocol/ui`) through the gateway, against the Python SDK's own
//! Apps extension (`tests/peers/apps-server.py`): the extension is offered to clients, a tool's
//! `_meta.ui.resourceUri` is readable through Loopgate with its `text/html;profile=mcp-app`
//! document, and the app's own `tools/call` — by the name its server gave the tool — reaches
//! that server's tool.

use crate::common::*;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ReadResourceRequestParams,
    ResourceContents,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use serde_json::json;

const UI: &str = "io.modelcontextprotocol/ui";

fn apps_stdio() -> serde_json::Value {
    let dir = ensure_peers();
    json!({
        "command": python().to_str().unwrap(),
        "args": [dir.join("apps-server.py").to_str().unwrap()],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_app_works_through_the_gateway() {
    let gw = Gw::start(json!({ "apps": apps_stdio(), "memory": memory_stdio() })).await;
    gw.wait_ready(60).await;

    // A host that renders apps declares the extension.
    let mut caps = ClientCapabilities::default();
    caps.extensions = Some(
        serde_json::from_value(json!({ UI: { "mimeTypes": ["text/html;profile=mcp-app"] } }))
            .unwrap(),
    );
    let mut info = ClientConfig::default();
    info.capabilities = caps;
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            gw.url.as_str(),
        );
    cfg.auth_header = Some(gw.token.clone());
    let client = info
        .serve_with_lifecycle(
            rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
            ClientLifecycleMode::Initialize,
        )
        .await
        .expect("the host connects");

    // The tool names its UI resource, unchanged.
    let tools = client.peer().list_all_tools().await.unwrap();
    let clock = tools
        .iter()
        .find(|t| t.name == "apps__show_clock")
        .expect("the app's tool is listed under its gateway name");
    let meta = serde_json::to_value(&clock.meta).unwrap();
    assert_eq!(meta["ui"]["resourceUri"], "ui://clock/app.html", "{meta}");
    let tick = tools.iter().find(|t| t.name == "apps__tick").unwrap();
    assert_eq!(
        serde_json::to_value(&tick.meta).unwrap()["ui"]["visibility"],
        json!(["app"]),
        "an app-only tool keeps its visibility"
    );

    // The resource the tool names is readable through the gateway, as an app document.
    let read = client
        .peer()
        .read_resource(ReadResourceRequestParams::new("ui://clock/app.html"))
        .await
        .expect("the tool's UI resource is readable through Loopgate");
    let (mime, text) = match &read.contents[..] {
        [ResourceContents::TextResourceContents {
            mime_type, text, ..
        }] => (mime_type.clone(), text.clone()),
        other => panic!("unexpected contents {other:?}"),
    };
    assert_eq!(mime.as_deref(), Some("text/html;profile=mcp-app"));
    assert!(text.contains("loopgate apps test"), "{text}");

    // The model's call and the app's own call (by the server's name for its tool).
    let shown = client
        .peer()
        .call_tool(CallToolRequestParams::new("apps__show_clock"))
        .await
        .unwrap();
    assert!(format!("{shown:?}").contains("clock app"), "{shown:?}");
    let ticked = client
        .peer()
        .call_tool(CallToolRequestParams::new("tick"))
        .await
        .expect("the app's own tools/call reaches its server");
    assert!(format!("{ticked:?}").contains("tick 1"), "{ticked:?}");
    let again = client
        .peer()
        .call_tool(CallToolRequestParams::new("apps__tick"))
        .await
        .unwrap();
    assert!(
        format!("{again:?}").contains("tick 2"),
        "the same server and tool: {again:?}"
    );
    client.cancel().await.unwrap();
    gw.stop().await;
}
