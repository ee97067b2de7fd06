//! `loopgate connect` and `loopgate client list|install|uninstall|import`.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::client as api;
use super::secret::{apply_import, ImportSource};
use crate::clients::{self, writer::Change};
use crate::config::{import, store, Config, ServerEntry};
use crate::http::api::types::OkAnswer;
use crate::secrets::SecretStore;

fn gateway_addr(config: &Config) -> String {
    std::net::SocketAddr::new(config.gateway.bind, config.gateway.port).to_string()
}

/// `loopgate connect`: the stdio bridge to the running gateway.
pub async fn connect(path: &Path, secrets: SecretStore, profile: Option<&str>) -> Result<()> {
    let config = store::load(path)?;
    let addr = gateway_addr(&config);
    let Some(token) = crate::token::read(path, &secrets).await? else {
        // Never started with this config: say what a user needs to hear first.
        return Err(crate::connect::ConnectError::NotRunning(addr).into());
    };
    if let Some(p) = profile.filter(|p| !config.profiles.contains_key(*p)) {
        anyhow::bail!(
            "there is no profile named \"{p}\" in {} (see \"profiles\")",
            path.display()
        );
    }
    crate::connect::run(&addr, &token, profile, secrets).await?;
    Ok(())
}

async fn reload_tokens(path: &Path, secrets: &SecretStore) {
    if let Err(api::ApiError::Other(e)) =
        api::post::<OkAnswer>(path, secrets, "clients/tokens/reload").await
    {
        eprintln!("warning: the running gateway did not reload client tokens: {e:#}");
    }
}

fn describe(change: &Change) -> String {
    match change {
        Change::Unchanged => "already up to date; nothing written".into(),
        Change::Written { backup: Some(b) } => {
            format!("written (previous file kept as {})", b.display())
        }
        Change::Written { backup: None } => "written (new file)".into(),
    }
}

/// `loopgate client list`.
pub fn list() {
    println!(
        "{:<16} {:<15} {:<10} {:<7} CONFIG FILE",
        "CLIENT", "NAME", "INSTALLED", "WIRED"
    );
    for s in clients::states() {
        let wired = match s.wired {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        let path = s
            .config_path
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        println!(
            "{:<16} {:<15} {:<10} {:<7} {path}",
            s.id,
            s.name,
            if s.installed { "yes" } else { "no" },
            wired
        );
    }
}

/// `loopgate client install NAME`.
pub async fn install(path: &Path, secrets: &SecretStore, id: &str) -> Result<()> {
    let client = clients::find(id).map_err(anyhow::Error::msg)?;
    let config = store::load(path)?;
    let url = format!("http://{}/mcp", gateway_addr(&config));
    let exe = std::env::current_exe().context("finding the loopgate binary")?;
    let change = clients::install(&client, path, secrets, &url, &exe).await?;
    let file = client
        .config_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!("{}: {file} {}", client.name, describe(&change));
    if client.speaks_http() {
        println!("{} reaches Loopgate at {url} with its own access token (revoke it with `loopgate client uninstall {}`).", client.name, client.id);
        reload_tokens(path, secrets).await;
    } else {
        println!(
            "{} starts `{} connect`, which bridges to the running gateway.",
            client.name,
            exe.display()
        );
    }
    println!("Restart {} to pick it up.", client.name);
    Ok(())
}

/// `loopgate client uninstall NAME`.
pub async fn uninstall(path: &Path, secrets: &SecretStore, id: &str) -> Result<()> {
    let client = clients::find(id).map_err(anyhow::Error::msg)?;
    let change = clients::uninstall(&client, path, secrets).await?;
    let file = client
        .config_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!("{}: {file} {}", client.name, describe(&change));
    reload_tokens(path, secrets).await;
    Ok(())
}

/// `loopgate client import NAME [--replace]`.
pub async fn import_from(
    path: &Path,
    secrets: &SecretStore,
    id: &str,
    replace: bool,
) -> Result<()> {
    let client = clients::find(id).map_err(anyhow::Error::msg)?;
    let found = clients::writer::servers(&client)?;
    if found.is_empty() {
        bail!(
            "{} has no MCP servers to import ({})",
            client.name,
            client
                .config_path()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    let mut entries = indexmap::IndexMap::new();
    for (name, value) in &found {
        match clients::to_loopgate_entry(value).map(serde_json::from_value::<ServerEntry>) {
            Some(Ok(e)) => {
                entries.insert(name.clone(), e);
            }
            _ => println!("skipped {name}: not a stdio or HTTP server entry"),
        }
    }
    let (store, _) = crate::config::Store::open_or_init(path)?;
    let plan = import::plan_entries(entries, &store.current());
    let imported: Vec<String> = found
        .keys()
        .filter(|k| plan.servers.contains_key(&import::safe_server_name(k)))
        .cloned()
        .collect();
    apply_import(
        path,
        secrets,
        &store,
        plan,
        ImportSource::Client(client.name),
    )
    .await?;
    if replace {
        if imported.is_empty() {
            println!("Nothing imported, so {} was left as it is.", client.name);
            return Ok(());
        }
        let config = store.current();
        let url = format!("http://{}/mcp", gateway_addr(&config));
        let exe = std::env::current_exe().context("finding the loopgate binary")?;
        let token = if client.speaks_http() {
            crate::token::issue_client_token(path, secrets, client.id).await?
        } else {
            String::new()
        };
        let non_default = crate::config::default_config_path().is_none_or(|d| d != path);
        let entry = client.entry(&url, &token, &exe, non_default.then_some(path));
        let change = clients::writer::replace(&client, &imported, entry)?;
        println!(
            "{}: replaced {} by the single Loopgate entry; {}",
            client.name,
            imported.join(", "),
            describe(&change)
        );
        reload_tokens(path, secrets).await;
    } else {
        println!("Run `loopgate client import {} --replace` to replace them in {} by the single Loopgate entry.", client.id, client.name);
    }
    Ok(())
}
