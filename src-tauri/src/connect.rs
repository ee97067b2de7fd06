//! `loopgate connect`: a stdio MCP server that bridges to the running gateway, for clients
//! that only launch stdio servers (Claude Desktop).
//!
//! It is the gateway's own machinery pointed at one backend — the running gateway's `/mcp`,
//! authenticated with its token (or a client's own token) — with tool names passed through
//! unchanged (`"toolPrefix": ""`): the stdio side speaks both protocol eras and relays
//! everything the gateway does (sampling, elicitation, roots, logs, progress, cancellation,
//! subscriptions, list changes); if the gateway restarts it reconnects with backoff. It sets no
//! time limit of its own ([`BRIDGE_TIMEOUT_MS`]): the gateway applies each server's. When no gateway is running at start, it says so on stderr and
//! exits non-zero (it never starts a gateway of its own, so one gateway owns the servers).

use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::gateway::{Gateway, GatewayHandler};
use crate::secrets::SecretStore;
use crate::upstream::{ServerState, Supervisor};

/// Name of the single backend (the gateway) inside the bridge.
const UPSTREAM: &str = "gateway";

/// The bridge's own request timeout (a day): the gateway behind it enforces every server's
/// `timeoutMs`, so the bridge must not cut a long call short.
pub const BRIDGE_TIMEOUT_MS: u64 = 24 * 3600 * 1000;

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nothing answers at the gateway's address.
    #[error("no Loopgate gateway is running on {0}; start it with `loopgate serve` (or open the Loopgate app), then restart this client")]
    NotRunning(String),
    /// The gateway refused the token or the handshake failed.
    #[error("cannot use the gateway at {addr}: {message}")]
    Refused {
        /// The gateway address.
        addr: String,
        /// Why.
        message: String,
    },
    /// stdio failed.
    #[error("stdio: {0}")]
    Stdio(String),
}

/// The bridge's own config: the gateway at `addr` as its one server, names unchanged, no time
/// limit of its own, never an OAuth sign-in (the token is the credential); with `profile`, the
/// gateway is asked for that profile only ([`crate::gateway::scope::PROFILE_HEADER`]).
pub fn bridge_config(addr: &str, token: &str, profile: Option<&str>) -> Config {
    let mut headers = json!({"Authorization": format!("Bearer {token}")});
    if let Some(p) = profile {
        headers[crate::gateway::scope::PROFILE_HEADER] = json!(p);
    }
    let entry = json!({
        "url": format!("http://{addr}/mcp"),
        "headers": headers,
        "auth": "none",
        "toolPrefix": "",
        "timeoutMs": BRIDGE_TIMEOUT_MS,
    });
    serde_json::from_value(json!({ "mcpServers": { UPSTREAM: entry } })).expect("bridge config")
}

/// Serves MCP on stdin/stdout until stdin closes, forwarding to the gateway at `addr`
/// (`host:port`) with `token`, seeing `profile` (or what the token sees).
///
/// Errors: [`ConnectError::NotRunning`] when nothing listens at `addr`,
/// [`ConnectError::Refused`] when the gateway does not accept the connection within 30 s.
pub async fn run(
    addr: &str,
    token: &str,
    profile: Option<&str>,
    secrets: SecretStore,
) -> Result<(), ConnectError> {
    if tokio::net::TcpStream::connect(addr).await.is_err() {
        return Err(ConnectError::NotRunning(addr.to_string()));
    }
    let config = bridge_config(addr, token, profile);
    let supervisor = Supervisor::new(secrets);
    let gateway = Gateway::new(supervisor.clone());
    let shutdown = CancellationToken::new();
    let follower = gateway.spawn(shutdown.clone());
    supervisor.apply(&config).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let snap = supervisor.snapshot();
        let status = &snap[UPSTREAM].status;
        if status.state == ServerState::Ready {
            break;
        }
        if Instant::now() > deadline
            || (status.state == ServerState::Failed && status.restarts >= 1)
        {
            let message = status
                .last_error
                .clone()
                .unwrap_or_else(|| "no answer".into());
            supervisor.shutdown().await;
            return Err(ConnectError::Refused {
                addr: addr.to_string(),
                message,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gateway.rebuild().await;

    let result = match GatewayHandler::new(gateway.clone())
        .serve(rmcp::transport::stdio())
        .await
    {
        Ok(service) => {
            let _ = service.waiting().await;
            Ok(())
        }
        Err(e) => Err(ConnectError::Stdio(e.to_string())),
    };
    shutdown.cancel();
    follower.abort();
    supervisor.shutdown().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_cuts_no_call_short() {
        let config = bridge_config("127.0.0.1:7337", "t", Some("coding"));
        config.validate(std::path::Path::new("bridge")).unwrap();
        let entry = &config.mcp_servers[UPSTREAM];
        // Longer than any server's `timeoutMs` a user would set (it used to be the 120 s default).
        assert!(entry.request_timeout(&config.gateway) >= std::time::Duration::from_secs(3600));
        assert_eq!(entry.tool_prefix.as_deref(), Some(""));
        assert_eq!(entry.headers["loopgate-profile"], "coding");
    }
}
