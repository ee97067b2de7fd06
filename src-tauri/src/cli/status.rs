//! `loopgate servers` and `loopgate tools`.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::Value;

use super::client;
use crate::secrets::SecretStore;

/// `loopgate servers`: a table (or JSON) of the running gateway's servers.
pub async fn servers(path: &Path, secrets: &SecretStore, json: bool) -> Result<()> {
    let body = client::get(path, secrets, "servers").await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    let rows = body.as_array().cloned().unwrap_or_default();
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
    for s in rows {
        let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let session = match s.get("sessionIssued").and_then(Value::as_bool) {
            Some(true) => "session issued",
            Some(false) => "stateless",
            None => "",
        };
        let detail = s
            .get("lastError")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| session.to_string());
        println!(
            "{:<24} {:<6} {:<13} {:>5}  {:<11} {}",
            get("name"),
            get("transport"),
            get("state"),
            s.get("toolCount").and_then(Value::as_u64).unwrap_or(0),
            get("protocolVersion"),
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
    let body = client::get(path, secrets, "tools").await?;
    let mut tools = body
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(server) = server {
        let servers = client::get(path, secrets, "servers").await?;
        let known = servers.as_array().is_some_and(|a| {
            a.iter()
                .any(|s| s.get("name").and_then(Value::as_str) == Some(server))
        });
        if !known {
            bail!("no server named \"{server}\" (see `loopgate servers`)");
        }
        tools.retain(|t| t.get("server").and_then(Value::as_str) == Some(server));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&tools)?);
        return Ok(());
    }
    for t in &tools {
        let name = t.get("name").and_then(Value::as_str).unwrap_or("");
        let desc = t
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        let desc: String = desc.chars().take(80).collect();
        println!("{name:<48} {desc}");
    }
    println!("{} tools", tools.len());
    Ok(())
}
