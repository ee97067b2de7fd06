//! `loopgate servers` and `loopgate tools`.

use std::path::Path;

use anyhow::{bail, Result};

use super::client;
use crate::http::api::types::{ServerInfo, ToolList};
use crate::secrets::SecretStore;

/// `loopgate servers`: a table (or JSON) of the running gateway's servers.
pub async fn servers(path: &Path, secrets: &SecretStore, json: bool) -> Result<()> {
    let rows: Vec<ServerInfo> = client::get(path, secrets, "servers").await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!(
            "No servers configured. Add one under \"mcpServers\" in {}.",
            path.display()
        );
        return Ok(());
    }
    println!(
        "{:<24} {:<6} {:<13} {:>5}  {:<11} DETAIL",
        "SERVER", "KIND", "STATE", "TOOLS", "PROTOCOL"
    );
    for ServerInfo { status: s, .. } in rows {
        let session = match s.session_issued {
            Some(true) => "session issued",
            Some(false) => "stateless",
            None => "",
        };
        let detail = s.last_error.unwrap_or_else(|| session.to_string());
        println!(
            "{:<24} {:<6} {:<13} {:>5}  {:<11} {}",
            s.name,
            s.transport.as_str(),
            s.state.as_str(),
            s.tool_count,
            s.protocol_version.unwrap_or_default(),
            detail
        );
    }
    Ok(())
}

/// `loopgate tools [SERVER]`: the tools clients see.
pub async fn tools(
    path: &Path,
    secrets: &SecretStore,
    server: Option<&str>,
    json: bool,
) -> Result<()> {
    let ToolList { mut tools, .. } = client::get(path, secrets, "tools").await?;
    if let Some(server) = server {
        let servers: Vec<ServerInfo> = client::get(path, secrets, "servers").await?;
        if !servers.iter().any(|s| s.status.name == server) {
            bail!("no server named \"{server}\" (see `loopgate servers`)");
        }
        tools.retain(|t| t.server == server);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&tools)?);
        return Ok(());
    }
    for t in &tools {
        let desc = t
            .description
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        let desc: String = desc.chars().take(80).collect();
        println!("{:<48} {desc}", t.name);
    }
    println!("{} tools", tools.len());
    Ok(())
}
