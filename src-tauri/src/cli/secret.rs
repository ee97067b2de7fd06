//! `loopgate secret set|list|rm` and `loopgate import`.

use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::client::{self, ApiError};
use crate::config::{import, store, Store};
use crate::http::api::servers::ImportBody;
use crate::http::api::types::{ImportedAnswer, RestartedAnswer};
use crate::secrets::{self, SecretStore};

/// Tells a running gateway that `name` changed so servers using it reconnect. Returns the
/// servers it restarted, or `None` when no gateway is running.
async fn notify_gateway(path: &Path, secrets: &SecretStore, name: &str) -> Option<Vec<String>> {
    match client::post::<RestartedAnswer>(path, secrets, &format!("secrets/{name}/changed")).await {
        Ok(answer) => Some(answer.restarted),
        Err(ApiError::NotRunning(_)) => None,
        Err(ApiError::Other(e)) => {
            eprintln!("warning: the running gateway was not told about the change: {e:#}");
            None
        }
    }
}

/// `loopgate secret set NAME`: value from a no-echo prompt, or stdin when piped.
pub async fn set(path: &Path, secrets: &SecretStore, name: &str) -> Result<()> {
    secrets::validate_name(name)?;
    secrets.status().await?;
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Value for secret {name} (not shown): "))
            .context("reading the value")?
    } else {
        let mut v = String::new();
        std::io::stdin()
            .read_to_string(&mut v)
            .context("reading the value from stdin")?;
        v.strip_suffix("\r\n")
            .or_else(|| v.strip_suffix('\n'))
            .unwrap_or(&v)
            .to_string()
    };
    if value.is_empty() {
        bail!("the value is empty; nothing stored");
    }
    secrets.set(name, &value).await?;
    println!("Stored secret {name} in the OS keychain.");
    report_users(path, secrets, name).await;
    Ok(())
}

async fn report_users(path: &Path, secrets: &SecretStore, name: &str) {
    match notify_gateway(path, secrets, name).await {
        Some(restarted) if !restarted.is_empty() => {
            println!("Reconnected servers using it: {}", restarted.join(", "))
        }
        Some(_) => {}
        None => {
            let users = store::load(path)
                .map(|c| c.servers_using(name))
                .unwrap_or_default();
            if !users.is_empty() {
                println!(
                    "Used by: {} (they pick it up when the gateway starts)",
                    users.join(", ")
                );
            }
        }
    }
}

/// `loopgate secret list`: names, whether set, and the servers that use each.
pub async fn list(path: &Path, secrets: &SecretStore) -> Result<()> {
    secrets.status().await?;
    let config = store::load(path).ok();
    let mut names = secrets.names().await?;
    if let Some(c) = &config {
        for e in c.mcp_servers.values() {
            names.extend(e.secret_refs());
        }
    }
    names.retain(|n| !crate::secrets::is_internal(n));
    if names.is_empty() {
        println!("No secrets. Add one with `loopgate secret set NAME` and reference it as ${{secret:NAME}} in env or headers.");
        return Ok(());
    }
    println!("{:<40} {:<8} USED BY", "NAME", "STATE");
    for name in names {
        let state = match secrets.get(&name).await {
            Ok(_) => "set",
            Err(secrets::SecretError::NotSet(_)) => "MISSING",
            Err(e) => return Err(e.into()),
        };
        let users = config
            .as_ref()
            .map(|c| c.servers_using(&name))
            .unwrap_or_default();
        println!(
            "{name:<40} {state:<8} {}",
            if users.is_empty() {
                "-".to_string()
            } else {
                users.join(", ")
            }
        );
    }
    Ok(())
}

/// `loopgate secret rm NAME`.
pub async fn rm(path: &Path, secrets: &SecretStore, name: &str) -> Result<()> {
    if !secrets.delete(name).await? {
        bail!("there is no secret named {name} (see `loopgate secret list`)");
    }
    println!("Deleted secret {name}.");
    report_users(path, secrets, name).await;
    Ok(())
}

/// Where imported servers came from (for messages).
pub enum ImportSource<'a> {
    /// A config file.
    File(&'a Path),
    /// A known client's config.
    Client(&'static str),
}

/// Stores an import plan's secrets, adds its servers and tells a running gateway to reload.
pub async fn apply_import(
    path: &Path,
    secrets: &SecretStore,
    store: &Store,
    plan: import::ImportPlan,
    source: ImportSource<'_>,
) -> Result<()> {
    if !plan.secrets.is_empty() {
        secrets
            .status()
            .await
            .context("not imported: the secret values would have no safe place to go")?;
    }
    for s in &plan.secrets {
        secrets.set(&s.name, &s.value).await?;
        println!(
            "moved {}.{} to the keychain as secret {}",
            s.server, s.key, s.name
        );
    }
    for (name, why) in &plan.skipped {
        println!("skipped {name}: {why}");
    }
    let added: Vec<String> = plan.servers.keys().cloned().collect();
    // A running gateway is the one writer of its config: it adds the servers (and starts them
    // at once); only without one is the file written here.
    let body = ImportBody {
        servers: plan.servers,
    };
    let running = match client::call::<ImportedAnswer>(
        path,
        secrets,
        reqwest::Method::POST,
        "servers/import",
        Some(&body),
    )
    .await
    {
        Ok(_) => true,
        Err(ApiError::NotRunning(_)) => {
            let servers = body.servers;
            store
                .update(move |c| {
                    c.mcp_servers.extend(servers);
                    Ok(())
                })
                .await?;
            false
        }
        Err(ApiError::Other(e)) => {
            return Err(e.context("the running gateway did not add the servers"))
        }
    };
    println!(
        "imported {} server(s) into {}: {}",
        added.len(),
        path.display(),
        added.join(", ")
    );
    if running {
        println!("The running gateway added them and is starting them.");
    }
    match source {
        ImportSource::File(file) => println!("{} was not modified.", file.display()),
        ImportSource::Client(name) => println!("{name}'s config was not modified."),
    }
    Ok(())
}

/// `loopgate import FILE`: add another client's servers, moving secret values to the keychain.
pub async fn import(path: &Path, secrets: &SecretStore, file: &Path) -> Result<()> {
    let (store, _) = Store::open_or_init(path)?;
    let plan = import::plan(file, &store.current())?;
    apply_import(path, secrets, &store, plan, ImportSource::File(file)).await
}
