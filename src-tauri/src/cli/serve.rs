//! `loopgate serve`.

use std::path::PathBuf;

use anyhow::Result;

use crate::app;
use crate::secrets::SecretStore;

/// Runs the gateway until Ctrl+C / SIGTERM, printing the endpoint, token and server state
/// changes.
///
/// `sign_in` decides how OAuth sign-in URLs reach the user.
pub async fn serve(
    path: PathBuf,
    port: Option<u16>,
    secrets: SecretStore,
    sign_in: crate::oauth::Presenter,
) -> Result<()> {
    let running = app::start(app::Options {
        config_path: path.clone(),
        port,
        secrets: Some(secrets),
        sign_in,
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
    match running.token() {
        Some(_) => println!(
            "  token:  clients send \"Authorization: Bearer <token>\"; `loopgate token` prints it"
        ),
        None => println!(
            "  token:  waiting for the OS keychain to unlock (requests get 503 until then)"
        ),
    }
    println!(
        "  dashboard: {}  (works once, for 5 minutes; `loopgate open` makes a new one)",
        running.dashboard_link()
    );
    if running.created_config {
        // First run: say which well-known servers this machine could add right away.
        for s in crate::config::suggestions::suggestions()
            .iter()
            .filter(|s| s.detected.is_some() && s.name == "claude-code")
        {
            println!(
                "  suggestion: {} is installed here; add it as a server from the dashboard (Add server → {}): {}",
                s.title, s.title, s.description
            );
        }
    }
    if running.store.current().gateway.auth == crate::config::model::AuthMode::None {
        println!("  WARNING: authentication is OFF (\"auth\": \"none\") — any program on this machine can use your servers.");
    }
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
        crate::app::stop_signal().await;
        eprintln!("stopping: ending backend sessions and stopping servers…");
        stop.cancel();
    });
    running.stopped().await;
    printer.abort();
    Ok(())
}
