//! The command line (clap). Each command is a thin call into the library.
//!
//! - `loopgate serve` — run the gateway (headless; never touches GTK).
//! - `loopgate servers` — list servers of the running gateway with their state.
//! - `loopgate tools [SERVER]` — list the tools clients see.
//! - `loopgate token` — print the access token.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::app;
use crate::config::{self, store};

/// Loopgate: one local MCP endpoint in front of all your MCP servers.
#[derive(Debug, Parser)]
#[command(name = "loopgate", version, about, long_about = None)]
pub struct Cli {
    /// Config file (default: the platform config dir, e.g. ~/.config/loopgate/config.json).
    #[arg(long, global = true, env = "LOOPGATE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway on 127.0.0.1 (writes a working default config on first run).
    Serve {
        /// Listen on this port instead of the config's `gateway.port` (0 = any free port).
        #[arg(long)]
        port: Option<u16>,
    },
    /// List the servers of the running gateway with their state.
    Servers {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the tools clients see through the running gateway.
    Tools {
        /// Only this server's tools.
        server: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the access token clients must send (`Authorization: Bearer <token>`).
    Token,
}

/// Parses the command line, runs the command and maps errors to exit code 1 with a message.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn config_path(cli: &Cli) -> Result<PathBuf> {
    match &cli.config {
        Some(p) => Ok(p.clone()),
        None => config::default_config_path()
            .context("cannot find a config directory (no home directory?); pass --config PATH"),
    }
}

async fn run(cli: Cli) -> Result<()> {
    let path = config_path(&cli)?;
    match cli.command {
        Command::Serve { port } => serve(path, port).await,
        Command::Servers { json } => servers(&path, json).await,
        Command::Tools { server, json } => tools(&path, server.as_deref(), json).await,
        Command::Token => {
            let token = crate::token::read(&path)?.with_context(|| {
                format!(
                    "no token yet for {}; `loopgate serve` creates one on first run",
                    path.display()
                )
            })?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(path: PathBuf, port: Option<u16>) -> Result<()> {
    let running = app::start(app::Options {
        config_path: path.clone(),
        port,
    })
    .await?;
    let created = if running.created_config {
        " (created with defaults)"
    } else {
        ""
    };
    println!(
        "Loopgate {} — MCP endpoint: {}",
        env!("CARGO_PKG_VERSION"),
        running.mcp_url()
    );
    println!("  config: {}{created}", path.display());
    println!("  token:  {}  (clients send \"Authorization: Bearer <token>\"; `loopgate token` prints it)", running.token);
    println!("Press Ctrl+C to stop.");
    let gw = running.gateway.clone();
    let mut events = gw.supervisor().events();
    let printer = tokio::spawn(async move {
        let mut last: std::collections::HashMap<String, crate::upstream::ServerState> =
            Default::default();
        while let Ok(ev) = events.recv().await {
            if let crate::upstream::Event::StatusChanged(name) = ev {
                if let Some(v) = gw.supervisor().snapshot().get(&name) {
                    if last.insert(name.clone(), v.status.state) != Some(v.status.state) {
                        let extra = match (&v.status.last_error, v.status.state) {
                            (_, crate::upstream::ServerState::Ready) => {
                                format!(" — {} tools", v.status.tool_count)
                            }
                            (Some(e), _) => format!(" — {e}"),
                            _ => String::new(),
                        };
                        println!("  server {name}: {}{extra}", v.status.state.as_str());
                    }
                }
            }
        }
    });
    let stop = running.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        eprintln!("stopping: ending backend sessions and stopping servers…");
        stop.cancel();
    });
    running.stopped().await;
    printer.abort();
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// GETs `/api/<path>` from the gateway configured at `config_path`.
async fn api_get(config_path: &std::path::Path, path: &str) -> Result<Value> {
    let config = store::load(config_path)?;
    let token = crate::token::read(config_path)?.with_context(|| {
        format!(
            "no access token next to {}; has `loopgate serve` run with this config?",
            config_path.display()
        )
    })?;
    let base = std::net::SocketAddr::new(config.gateway.bind, config.gateway.port);
    let url = format!("http://{base}/api/{path}");
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) if e.is_connect() => {
            bail!("no gateway is running on {base} (start one with `loopgate serve`)")
        }
        Err(e) => return Err(e).context(format!("asking the gateway at {base}")),
    };
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let msg = body
            .pointer("/error/message")
            .or_else(|| body.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("");
        bail!("the gateway at {base} answered {status}: {msg}");
    }
    Ok(body)
}

async fn servers(path: &std::path::Path, json: bool) -> Result<()> {
    let body = api_get(path, "servers").await?;
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
        "{:<24} {:<6} {:<9} {:>5}  {:<11} DETAIL",
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
            "{:<24} {:<6} {:<9} {:>5}  {:<11} {}",
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

async fn tools(path: &std::path::Path, server: Option<&str>, json: bool) -> Result<()> {
    let body = api_get(path, "tools").await?;
    let mut tools = body
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(server) = server {
        let servers = api_get(path, "servers").await?;
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
