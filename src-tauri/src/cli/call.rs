//! `loopgate call SERVER TOOL [JSON]`: runs one tool through the running gateway, as a client
//! would (its `/mcp`, with the gateway's token, so routing, timeouts and the activity log are
//! the ones every client gets), and prints the result.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};
use rmcp::ServiceExt;
use serde_json::Value;

use super::client;
use crate::http::api::types::{Info, ServerInfo, ToolList};
use crate::secrets::SecretStore;

/// The name clients call `tool` of `server` by, from the running gateway's `GET /api/tools`
/// (`tools`): the exposed name whose server and original name match, or `tool` itself when it
/// is already the exposed name of one of `server`'s tools.
pub fn exposed_name(tools: &ToolList, server: &str, tool: &str) -> Option<String> {
    tools
        .tools
        .iter()
        .filter(|t| t.server == server)
        .find(|t| t.original_name == tool || t.name == tool)
        .map(|t| t.name.clone())
}

/// `loopgate call`: `args` is a JSON object (or empty for none). Prints text content as text,
/// other content as a line saying what it is, `structuredContent` as JSON when there is no
/// content; `json` prints the
/// whole result as JSON instead. Fails (exit 1) when the tool answers `isError`.
pub async fn call(
    path: &Path,
    secrets: &SecretStore,
    server: &str,
    tool: &str,
    args: Option<&str>,
    json: bool,
) -> Result<()> {
    let arguments = match args {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text)
            .context("the arguments are not valid JSON (give an object, e.g. '{\"a\": 1}')")?
        {
            Value::Object(map) => Some(map),
            _ => bail!("the arguments must be a JSON object, e.g. '{{\"a\": 1}}'"),
        },
    };
    let tools: ToolList = client::get(path, secrets, "tools").await?;
    let Some(name) = exposed_name(&tools, server, tool) else {
        let servers: Vec<ServerInfo> = client::get(path, secrets, "servers").await?;
        let known = servers.iter().any(|s| s.status.name == server);
        if !known {
            bail!("no server named \"{server}\" (see `loopgate servers`)");
        }
        bail!("server \"{server}\" offers no tool \"{tool}\" now (see `loopgate tools {server}`)");
    };
    let info: Info = client::get(path, secrets, "info").await?;
    let url = info.mcp_url;
    let token = crate::token::read(path, secrets)
        .await?
        .context("no access token; has `loopgate serve` run with this config?")?;
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            url.as_str(),
        );
    cfg.auth_header = Some(token);
    let client_info = rmcp::model::ClientConfig::new(
        Default::default(),
        rmcp::model::Implementation::new("loopgate-cli", env!("CARGO_PKG_VERSION")),
    );
    let running = client_info
        .serve(rmcp::transport::StreamableHttpClientTransport::from_config(
            cfg,
        ))
        .await
        .with_context(|| format!("connecting to the gateway at {url}"))?;
    let mut params = CallToolRequestParams::new(name.clone());
    params.arguments = arguments;
    let started = std::time::Instant::now();
    let result = running.peer().call_tool(params).await;
    let _ = running.cancel().await;
    let result = result.with_context(|| format!("calling {name}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_result(&result);
        eprintln!("({name}, {} ms)", started.elapsed().as_millis());
    }
    if result.is_error == Some(true) {
        bail!("the tool answered with an error (isError)");
    }
    Ok(())
}

/// Prints a tool result for people.
fn print_result(result: &CallToolResult) {
    for block in &result.content {
        match block {
            ContentBlock::Text(t) => println!("{}", t.text),
            ContentBlock::Image(i) => {
                println!("[image {}, {} bytes base64]", i.mime_type, i.data.len())
            }
            ContentBlock::Audio(a) => {
                println!("[audio {}, {} bytes base64]", a.mime_type, a.data.len())
            }
            ContentBlock::Resource(r) => println!(
                "[embedded resource] {}",
                serde_json::to_string(&r.resource).unwrap_or_default()
            ),
            ContentBlock::ResourceLink(l) => println!("[resource link] {} ({})", l.uri, l.name),
            other => println!("{}", serde_json::to_string(other).unwrap_or_default()),
        }
    }
    // Tools that return structuredContent also return its text form; print it when they don't.
    if let (Some(s), true) = (&result.structured_content, result.content.is_empty()) {
        println!(
            "structuredContent: {}",
            serde_json::to_string_pretty(s).unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_exposed_name_by_server_and_original_name() {
        let tools: ToolList = serde_json::from_value(json!({"count": 3, "tools": [
            {"name": "a__echo", "server": "a", "originalName": "echo", "description": null},
            {"name": "b__echo", "server": "b", "originalName": "echo", "description": null},
            {"name": "sum", "server": "c", "originalName": "sum", "description": null},
        ]}))
        .unwrap();
        assert_eq!(
            exposed_name(&tools, "b", "echo").as_deref(),
            Some("b__echo")
        );
        assert_eq!(
            exposed_name(&tools, "a", "a__echo").as_deref(),
            Some("a__echo")
        );
        assert_eq!(exposed_name(&tools, "c", "sum").as_deref(), Some("sum"));
        assert_eq!(exposed_name(&tools, "a", "sum"), None);
    }
}
