//! `loopgate auth login|logout|status` and the hidden `loopgate auth probe` (conformance client).
//!
//! With a gateway running, `login`/`logout`/`status` go through its API, so there is only ever
//! one sign-in per server and the running server reconnects at once. Without one, they work on
//! the keychain directly (`login` runs the whole flow in this process).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rmcp::model::CallToolRequestParams;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::client::{self, ApiError};
use crate::config::model::ServerAuth;
use crate::config::{store, Config, ServerEntry};
use crate::http::api::types::{AuthStatus, ServerInfo, SignInView, SignedOut, UrlAnswer};
use crate::oauth::{self, flow, Hub, OAuthSettings, Presenter};
use crate::secrets::{MemoryBackend, SecretStore};
use crate::upstream::{ServerState, Supervisor, UpstreamError};

/// How `login` shows the authorization URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Show {
    /// Open the system browser (and print the URL).
    Browser,
    /// Only print the URL.
    Print,
    /// Fetch it without a human and deliver the redirect (authorization servers that approve
    /// without a login page only; for tests).
    Follow,
}

async fn show(how: Show, url: &str) -> Result<()> {
    // The URL comes from the server's metadata (through the gateway): never print, open or
    // fetch anything but https (http on loopback).
    oauth::endpoint::check(url, "the sign-in URL").map_err(|e| anyhow::anyhow!(e))?;
    eprintln!("Sign in at: {url}");
    match how {
        Show::Browser => {
            if let Err(e) = open::that_detached(url) {
                eprintln!("(could not open a browser: {e}; open the URL yourself)");
            }
        }
        Show::Print => {}
        Show::Follow => flow::follow(url).await?,
    }
    Ok(())
}

/// `loopgate auth login SERVER`.
pub async fn login(path: &Path, secrets: &SecretStore, server: &str, how: Show) -> Result<()> {
    let started: Result<UrlAnswer, _> =
        client::post(path, secrets, &format!("servers/{server}/auth/login")).await;
    match started {
        Ok(UrlAnswer { url }) => {
            show(how, &url).await?;
            eprintln!("Waiting for the browser to come back (Ctrl+C to stop waiting)…");
            let deadline = tokio::time::Instant::now() + flow::SIGN_IN_TIMEOUT;
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                // The server list carries each sign-in's state without reading the keychain.
                let all: Vec<ServerInfo> = client::get(path, secrets, "servers").await?;
                let done = all
                    .into_iter()
                    .find(|e| e.status.name == server)
                    .map(|e| e.sign_in)
                    .filter(|s| !s.pending);
                if let Some(sign_in) = done {
                    if let Some(e) = sign_in.last_error {
                        bail!("{e}");
                    }
                    println!("Signed in to \"{server}\"; tokens are in the OS keychain.");
                    return Ok(());
                }
                if tokio::time::Instant::now() > deadline {
                    bail!("sign-in did not complete in time");
                }
            }
        }
        Err(ApiError::NotRunning(_)) => {
            let config = store::load(path)?;
            let (url, settings) = oauth::sign_in_target(&config, secrets, server)
                .await
                .map_err(|e| anyhow!(e))?;
            let sign_in = flow::begin(secrets, server, &url, &settings, None).await?;
            show(how, sign_in.url()).await?;
            let cancel = CancellationToken::new();
            let ctrl_c = cancel.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                ctrl_c.cancel();
            });
            let record = sign_in.complete(flow::SIGN_IN_TIMEOUT, &cancel).await?;
            println!(
                "Signed in to \"{server}\"; tokens are in the OS keychain{}.",
                if record.has_refresh_token() {
                    " and will be refreshed automatically"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Err(ApiError::Other(e)) => Err(e),
    }
}

/// `loopgate auth logout SERVER`.
pub async fn logout(path: &Path, secrets: &SecretStore, server: &str) -> Result<()> {
    let out: SignedOut =
        match client::post(path, secrets, &format!("servers/{server}/auth/logout")).await {
            Ok(out) => out,
            Err(ApiError::NotRunning(_)) => oauth::revoke::sign_out(secrets, server).await?,
            Err(ApiError::Other(e)) => return Err(e),
        };
    if out.removed {
        println!(
            "Signed out of \"{server}\": its tokens were deleted from the OS keychain and {}.",
            out.revocation.describe()
        );
    } else {
        println!("\"{server}\" had no stored sign-in.");
    }
    Ok(())
}

/// `loopgate auth status`.
pub async fn status(path: &Path, secrets: &SecretStore, as_json: bool) -> Result<()> {
    let rows: Vec<AuthStatus> =
        match client::call(path, secrets, reqwest::Method::GET, "auth", None::<&()>).await {
            Ok(v) => v,
            Err(ApiError::NotRunning(_)) => offline_status(path, secrets).await?,
            Err(ApiError::Other(e)) => return Err(e),
        };
    if as_json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("No HTTP servers that may sign in with OAuth are configured.");
        return Ok(());
    }
    println!("{:<24} {:<14} DETAIL", "SERVER", "SIGN-IN");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    for r in rows {
        let state = if r.sign_in.pending {
            "signing in"
        } else if r.stored.signed_in {
            "signed in"
        } else if r.state == Some(ServerState::NeedsSignIn) {
            "needs sign-in"
        } else {
            "not signed in"
        };
        let mut detail = Vec::new();
        if let Some(url) = &r.sign_in.url {
            detail.push(format!("open {url}"));
        }
        if let Some(exp) = r.stored.expires_at_ms {
            let secs = (exp as i64 - now) / 1000;
            detail.push(if secs > 0 {
                format!("access token valid for {} min", secs / 60)
            } else {
                "access token expired".to_string()
            });
        }
        if r.stored.refreshable {
            detail.push("refreshes automatically".into());
        }
        if !r.stored.scopes.is_empty() {
            detail.push(format!("scopes {}", r.stored.scopes.join(" ")));
        }
        if let Some(e) = &r.sign_in.last_error {
            detail.push(e.clone());
        }
        println!("{:<24} {:<14} {}", r.stored.name, state, detail.join("; "));
    }
    Ok(())
}

/// `loopgate auth status` without a gateway: what the keychain holds, no state, no sign-in.
async fn offline_status(path: &Path, secrets: &SecretStore) -> Result<Vec<AuthStatus>> {
    let rows = oauth::store::statuses(&store::load(path)?, secrets).await?;
    Ok(rows
        .into_iter()
        .map(|stored| AuthStatus {
            stored,
            state: None,
            sign_in: SignInView::default(),
        })
        .collect())
}

/// Options of the hidden `loopgate auth probe` (the conformance suite's client command).
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// The MCP server URL (the conformance suite appends it).
    pub url: String,
    /// A pre-registered client id (default: `client_id` from `MCP_CONFORMANCE_CONTEXT`).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Its secret (default: `client_secret` from `MCP_CONFORMANCE_CONTEXT`).
    #[arg(long)]
    pub client_secret: Option<String>,
    /// Client ID Metadata Document URL to use where supported.
    #[arg(long)]
    pub client_metadata_url: Option<String>,
    /// Seconds to wait for each step.
    #[arg(long, default_value_t = 20)]
    pub timeout: u64,
}

/// Connects to `args.url` exactly as the gateway connects to an HTTP server (supervisor,
/// sign-in hub, keychain store — here in memory), completing OAuth by following the
/// authorization redirect itself, then lists the tools and calls each once (retrying after a
/// scope step-up). Exits non-zero when the server never becomes usable.
pub async fn probe(args: ProbeArgs) -> Result<()> {
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let settings = OAuthSettings {
        client_id: args
            .client_id
            .or_else(|| context["client_id"].as_str().map(str::to_string)),
        client_secret: args
            .client_secret
            .or_else(|| context["client_secret"].as_str().map(str::to_string)),
        scopes: vec![],
        client_metadata_url: args.client_metadata_url,
    };
    let secrets = SecretStore::with_backend(Arc::new(MemoryBackend::default()));
    let hub = Hub::new(secrets.clone(), Presenter::Follow);
    let supervisor = Supervisor::with_oauth(secrets, hub);
    let mut config = Config::default();
    config.mcp_servers.insert(
        "probe".into(),
        ServerEntry {
            url: Some(args.url.clone()),
            auth: Some(ServerAuth::OAuth),
            oauth: Some(settings),
            ..Default::default()
        },
    );
    supervisor.apply(&config).await;
    let step = Duration::from_secs(args.timeout);
    let result = exercise(&supervisor, step).await;
    supervisor.shutdown().await;
    result
}

async fn exercise(supervisor: &Supervisor, step: Duration) -> Result<()> {
    let connection = ready(supervisor, None, step).await?;
    let tools = supervisor
        .snapshot()
        .get("probe")
        .map(|v| v.catalog.tools.clone())
        .unwrap_or_default();
    eprintln!("listed {} tools", tools.len());
    let mut connection = connection;
    for tool in tools {
        for attempt in 1..=3 {
            let params = CallToolRequestParams::new(tool.name.clone());
            let call = rmcp::model::ClientRequest::CallToolRequest(
                rmcp::model::CallToolRequest::new(params),
            );
            match connection
                .request(call, crate::upstream::RequestOptions::default())
                .await
            {
                Err(e @ UpstreamError::Auth { .. }) if attempt < 3 => {
                    eprintln!("{}: {e}", tool.name);
                    match ready(supervisor, Some(&connection), step).await {
                        Ok(c) => connection = c,
                        Err(e) => {
                            eprintln!("no new sign-in: {e}");
                            return Ok(());
                        }
                    }
                }
                Err(e) => {
                    eprintln!("{}: {e}", tool.name);
                    break;
                }
                Ok(_) => {
                    eprintln!("{}: called", tool.name);
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Waits until the probe server is ready on a connection other than `old`.
async fn ready(
    supervisor: &Supervisor,
    old: Option<&Arc<crate::upstream::Connection>>,
    step: Duration,
) -> Result<Arc<crate::upstream::Connection>> {
    let deadline = tokio::time::Instant::now() + step;
    loop {
        if let Some(view) = supervisor.snapshot().get("probe") {
            let fresh = view
                .connection
                .as_ref()
                .filter(|c| old.is_none_or(|o| !Arc::ptr_eq(o, c)));
            match (view.status.state, fresh) {
                (ServerState::Ready, Some(c)) => return Ok(c.clone()),
                (ServerState::Failed, _) => {
                    bail!("{}", view.status.last_error.clone().unwrap_or_default())
                }
                (ServerState::NeedsSignIn, _) => {
                    let sign_in = supervisor.oauth().view("probe");
                    if !sign_in.pending {
                        if let Some(e) = sign_in.last_error {
                            bail!("{e}");
                        }
                    }
                }
                _ => {}
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(anyhow!("the server did not become ready")).context("probe");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
