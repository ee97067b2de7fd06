//! `loopgate connect` and `loopgate client list|install|uninstall|import|doctor`.

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
        "{:<16} {:<19} {:<10} {:<7} CONFIG FILE",
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
            "{:<16} {:<19} {:<10} {:<7} {path}",
            s.id,
            s.name,
            if s.installed { "yes" } else { "no" },
            wired
        );
    }
}

/// `loopgate client install NAME [--stdio]`.
pub async fn install(
    path: &Path,
    secrets: &SecretStore,
    id: &str,
    stdio: bool,
    profile: Option<&str>,
) -> Result<()> {
    let client = clients::find(id).map_err(anyhow::Error::msg)?;
    let config = store::load(path)?;
    if let Some(p) = profile {
        if !config.profiles.contains_key(p) {
            let known: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
            bail!(
                "there is no profile named \"{p}\" in {} (profiles: {}); add it on the dashboard's Profiles page or under \"profiles\" in the config",
                path.display(),
                if known.is_empty() { "none yet".to_string() } else { known.join(", ") }
            );
        }
        bind_profile(path, secrets, client.id, p).await?;
    }
    let url = format!("http://{}/mcp", gateway_addr(&config));
    let exe = std::env::current_exe().context("finding the loopgate binary")?;
    let transport = if stdio {
        clients::Transport::Stdio
    } else {
        client.default_transport()
    };
    let change = clients::install_with(&client, transport, path, secrets, &url, &exe).await?;
    let file = client
        .config_path()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!("{}: {file} {}", client.name, describe(&change));
    if transport == clients::Transport::Http {
        println!("{} reaches Loopgate at {url} with its own access token (revoke it with `loopgate client uninstall {}`).", client.name, client.id);
        reload_tokens(path, secrets).await;
    } else {
        println!(
            "{} starts `{} connect`, which bridges to the running gateway.",
            client.name,
            exe.display()
        );
    }
    if let Some(p) = profile {
        println!("{} sees the profile \"{p}\" only.", client.name);
    }
    budget(path, secrets, &client, profile).await;
    println!("Restart {} to pick it up.", client.name);
    Ok(())
}

/// Binds client `id` to profile `profile` (`clientProfiles`): through the running gateway,
/// else in the config file directly.
async fn bind_profile(path: &Path, secrets: &SecretStore, id: &str, profile: &str) -> Result<()> {
    let body = serde_json::json!({ "profile": profile });
    match api::call::<serde_json::Value>(
        path,
        secrets,
        reqwest::Method::PUT,
        &format!("clients/{id}/profile"),
        Some(&body),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(api::ApiError::NotRunning(_)) => {
            let (store, _) = crate::config::Store::open_or_init(path)?;
            let (id, profile) = (id.to_string(), profile.to_string());
            store
                .update(move |c| {
                    c.client_profiles.insert(id, profile);
                    Ok(())
                })
                .await?;
            Ok(())
        }
        Err(api::ApiError::Other(e)) => Err(e),
    }
}

/// Tells the user how many tools `client` will see against the most it takes, and what to do
/// when that is too many (needs the running gateway; silent without one).
async fn budget(
    path: &Path,
    secrets: &SecretStore,
    client: &clients::Client,
    profile: Option<&str>,
) {
    let Some(limit) = client.tool_limit else {
        return;
    };
    let Ok(view) =
        api::get::<crate::http::api::profiles::ProfilesView>(path, secrets, "profiles").await
    else {
        return;
    };
    let cost = match profile {
        Some(p) => match view.profiles.iter().find(|v| v.name == p) {
            Some(v) => v.cost.clone(),
            None => return,
        },
        None => view.everything.clone(),
    };
    let what = profile.map_or("every server".to_string(), |p| format!("profile \"{p}\""));
    if cost.tool_count > limit as usize {
        println!(
            "warning: {} takes at most {limit} tools; {what} gives it {}. Bind it to a smaller profile (`loopgate client install {} --profile NAME`) or turn on search mode for the profile (\"toolSearch\": true: two tools that find and call the others).",
            client.name, cost.tool_count, client.id
        );
    } else {
        println!(
            "{} gets {} of the {limit} tools it takes ({what}).",
            client.name, cost.tool_count
        );
    }
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
        match clients::entry::to_loopgate(client.format, value)
            .and_then(|v| serde_json::from_value::<ServerEntry>(v).map_err(|e| e.to_string()))
        {
            Ok(e) => {
                entries.insert(name.clone(), e);
            }
            Err(why) => println!("skipped {name}: {why}"),
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
        let transport = client.default_transport();
        let entry = clients::wanted_entry(&client, transport, path, secrets, &url, &exe).await?;
        let change = clients::writer::replace(&client, &imported, &entry)?;
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

/// `loopgate client doctor [NAME] [--json]`: checks every wired or detected client (or NAME);
/// fails when a check of a wired client (or of NAME) fails.
pub async fn doctor(
    path: &Path,
    secrets: &SecretStore,
    id: Option<&str>,
    json: bool,
) -> Result<()> {
    use clients::doctor::{self, Outcome};
    let which: Vec<clients::Client> = match id {
        Some(id) => vec![clients::find(id).map_err(anyhow::Error::msg)?],
        None => clients::CLIENTS
            .iter()
            .filter(|c| c.installed() || clients::writer::is_wired(c).unwrap_or(false))
            .copied()
            .collect(),
    };
    let config = store::load(path)?;
    let url = format!("http://{}/mcp", gateway_addr(&config));
    let exe = std::env::current_exe().context("finding the loopgate binary")?;
    let client_tokens = crate::token::client_tokens(path, secrets).await?;
    let gateway_token = crate::token::read(path, secrets).await.ok().flatten();
    let gw = doctor::Gateway {
        config_path: path,
        mcp_url: &url,
        exe: &exe,
        client_tokens: &client_tokens,
        gateway_token: gateway_token.as_deref(),
    };
    let mut reports = Vec::new();
    for c in &which {
        reports.push(doctor::check(c, &gw).await);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        if reports.is_empty() {
            println!("No AI client detected here; `loopgate client list` shows the known ones.");
        }
        for r in &reports {
            let file = r
                .config_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            println!("{} ({}) — {file}", r.name, r.id);
            for c in &r.checks {
                let mark = match c.outcome {
                    Outcome::Ok => "ok  ",
                    Outcome::Warn => "warn",
                    Outcome::Fail => "FAIL",
                };
                println!("  {mark} {}: {}", c.what, c.detail);
                if let Some(fix) = &c.fix {
                    println!("       → {fix}");
                }
            }
        }
    }
    // A detected client without Loopgate is news, not a failure, unless it was asked about.
    let failed = reports.iter().any(|r| {
        r.failed() && (id.is_some() || r.checks.first().is_some_and(|c| c.outcome == Outcome::Ok))
    });
    if failed {
        bail!("some checks failed; see above");
    }
    Ok(())
}
