//! Local stdio servers: the whole lifecycle of one — spawn the process, complete the MCP
//! handshake, and hand over a [`Live`] connection whose child the runner watches and stops.
//!
//! The era (ARCHITECTURE.md rule 5): a process has one stdio stream, so one era. Loopgate
//! starts with `initialize`, which every server that is not 2026-only accepts and which keeps
//! everything a server may offer in that era (its own requests to the client mid-call, which
//! some dual-era servers refuse on 2026-07-28 connections). A server that refuses `initialize`
//! is started again and spoken to with `server/discover` (2026-07-28); the gateway translates
//! for clients of the other era.
//!
//! The pipes: rmcp's client service runs on a [`pipe::Pipe`], which shares stdin and stdout
//! with the session's [`exchange::Exchange`]: the relayed calls are written and answered past
//! rmcp's service tasks (ARCHITECTURE.md "How a request travels", step 3).

pub mod exchange;
pub mod pipe;
pub mod process;
pub mod stdout;

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::ProtocolVersion;
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use tokio::sync::{broadcast, Notify};

pub use process::{spawn, ChildProcess, SpawnError, StdioSpec, STOP_GRACE};
pub use stdout::{WatchedStdout, MAX_MESSAGE_BYTES};

use super::backend_client::{BackendClient, LogOf};
use super::connection::{Channels, Direct, Live, Parts, UpstreamError};
use super::logs::LogBuffer;
use super::routes::{Channel, Routes};

/// What connecting needs besides the process spec.
pub struct ConnectOptions {
    /// Time for spawning plus the handshake.
    pub connect_timeout: Duration,
    /// Per-request timeout of the connection.
    pub request_timeout: Duration,
    /// The server's log buffer (stderr, log messages).
    pub logs: Arc<LogBuffer>,
}

/// Why one handshake attempt failed.
enum Attempt {
    /// The server refused this era; another may work.
    Refused(String),
    /// It failed in a way another era cannot fix (exit, timeout).
    Failed(UpstreamError),
}

/// Spawns `spec` for server `name` and completes the handshake (see the module docs for the
/// era). Errors: [`UpstreamError::Setup`] (not started), [`UpstreamError::Handshake`] (exited,
/// refused, or silent within the connect timeout).
pub async fn connect(
    name: &str,
    spec: &StdioSpec,
    options: &ConnectOptions,
) -> Result<Live, UpstreamError> {
    let initialize = ClientLifecycleMode::Initialize;
    match attempt(name, spec, options, initialize).await {
        Ok(live) => Ok(live),
        Err(Attempt::Failed(e)) => Err(e),
        Err(Attempt::Refused(why)) => {
            tracing::info!(server = %name, "initialize refused ({why}); trying the 2026-07-28 revision");
            let discover = ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            };
            match attempt(name, spec, options, discover).await {
                Ok(live) => Ok(live),
                Err(Attempt::Failed(e)) => Err(e),
                Err(Attempt::Refused(why2)) => Err(UpstreamError::Handshake {
                    server: name.to_string(),
                    message: format!("it refused initialize ({why}) and server/discover ({why2})"),
                }),
            }
        }
    }
}

/// The last `n` stderr lines this process wrote (since `since`, ms since the epoch): not
/// Loopgate's own notes, which quote earlier errors, nor an earlier process's output.
fn stderr_since(logs: &LogBuffer, since: u64, n: usize) -> Vec<String> {
    let mut lines: Vec<String> = logs
        .tail(64)
        .into_iter()
        .filter(|l| l.source == "stderr" && l.ts_ms >= since)
        .map(|l| l.line)
        .collect();
    lines.drain(..lines.len().saturating_sub(n));
    lines
}

async fn attempt(
    name: &str,
    spec: &StdioSpec,
    options: &ConnectOptions,
    lifecycle: ClientLifecycleMode,
) -> Result<Live, Attempt> {
    let setup = |message: String| {
        Attempt::Failed(UpstreamError::Setup {
            server: name.to_string(),
            message,
        })
    };
    let handshake = |message: String| {
        Attempt::Failed(UpstreamError::Handshake {
            server: name.to_string(),
            message,
        })
    };
    let routes = Arc::new(Routes::default());
    let changed = Arc::new(Notify::new());
    let (oversized, _) = broadcast::channel(16);
    let logs = options.logs.clone();
    let spawned_at = super::state::now_ms();
    let mut spawned = spawn(name, spec, logs.clone()).map_err(|e| setup(e.to_string()))?;
    let stateless = matches!(lifecycle, ClientLifecycleMode::Discover { .. });
    let channel = if stateless {
        Channel::Stateless
    } else {
        Channel::Session
    };
    let client = BackendClient::new(name, channel, routes.clone(), changed.clone(), logs.clone());
    let stdout = WatchedStdout::new(spawned.stdout, oversized.clone());
    let (transport, pipe) = pipe::pipe(stdout, spawned.stdin);
    // Log messages are handled as the pipe reads them, in order (ARCHITECTURE.md rule 21).
    let logging = client.clone();
    let transport = transport.with_logging(Box::new(move |m| {
        logging.logging_message(m, LogOf::Unknown)
    }));
    let serve = client.serve_with_lifecycle(transport, lifecycle);
    let service = tokio::select! {
        r = tokio::time::timeout(options.connect_timeout, serve) => match r {
            Ok(Ok(service)) => service,
            Ok(Err(e)) => {
                // It answered, just not in this era (another era may work). Its stdin closes
                // first (the transport is gone; this is its last handle), as stopping expects.
                drop(pipe);
                let exit = spawned.process.stop().await;
                return Err(Attempt::Refused(format!("{e} (process {exit})")));
            }
            Err(_) => {
                drop(pipe);
                spawned.process.stop().await;
                return Err(handshake(format!(
                    "no answer within {} ms",
                    options.connect_timeout.as_millis()
                )));
            }
        },
        exit = spawned.process.wait() => {
            let tail = stderr_since(&logs, spawned_at, 3).join(" | ");
            let hint = if tail.is_empty() { String::new() } else { format!("; last stderr: {tail}") };
            return Err(handshake(format!("the process {exit} before answering{hint}")));
        }
    };
    // Direct exchanges serve the session; stateless requests carry `_meta` rmcp adds.
    let exchange = (!stateless).then(|| {
        Direct::Pipe(exchange::Exchange::new(
            name,
            pipe,
            service.peer().clone(),
            routes.clone(),
            oversized.clone(),
        ))
    });
    let channels = if stateless {
        Channels {
            session: None,
            stateless: Some(service),
        }
    } else {
        Channels {
            session: Some(service),
            stateless: None,
        }
    };
    Ok(Live::new(Parts {
        name: name.to_string(),
        channels,
        routes,
        changed,
        oversized: Some(oversized),
        request_timeout: options.request_timeout,
        observer: None,
        url: None,
        child: Some(spawned.process),
        exchange,
        stateless_exchange: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_server_refusing_both_eras_is_stopped_by_closing_its_stdin() {
        // Answers every request with an error, and exits when its stdin closes.
        let script = r#"sed -u -n 's/.*"id":\([0-9]*\).*/{"jsonrpc":"2.0","id":\1,"error":{"code":-32601,"message":"refused"}}/p'"#;
        let spec = StdioSpec {
            command: "sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![],
            cwd: None,
            inherit_env: vec![],
        };
        let options = ConnectOptions {
            connect_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(20),
            logs: Arc::new(LogBuffer::default()),
        };
        let Err(UpstreamError::Handshake { message, .. }) = connect("t", &spec, &options).await
        else {
            panic!("both eras refused")
        };
        // Not "killed by signal 15": each start ended on its own once its stdin closed.
        assert_eq!(
            message.matches("process exited with code 0").count(),
            2,
            "{message}"
        );
    }

    #[test]
    fn the_stderr_hint_quotes_only_this_process() {
        let logs = LogBuffer::default();
        logs.push("stderr", "from an earlier start");
        std::thread::sleep(Duration::from_millis(5));
        let since = super::super::state::now_ms();
        logs.push("gateway", "server \"x\" did not complete the MCP handshake");
        for line in ["one", "two", "three", "four"] {
            logs.push("stderr", line);
        }
        assert_eq!(stderr_since(&logs, since, 3), ["two", "three", "four"]);
    }
}
