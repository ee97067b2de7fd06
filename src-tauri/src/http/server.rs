//! The accept loop: serves the axum app on the listener with bounds any local program could
//! otherwise exhaust (no token is needed to open a TCP connection).
//!
//! - At most `max_connections` connections are open; further ones wait in the kernel's
//!   backlog until one closes (the gateway never runs out of file descriptors).
//! - HTTP/1.1 (MCP's Streamable HTTP transport needs nothing more).
//! - A connection must send a request's headers within `header_timeout`, also while idle
//!   between requests on a kept-alive connection (hyper's HTTP/1 header-read timeout), so
//!   connections that send nothing, or send headers a byte at a time (slowloris), are closed.
//!   Streams already answering (SSE) are not affected.
//! - Accepted sockets get `TCP_NODELAY`: rmcp writes an answer in two pieces, and Nagle would
//!   hold the second until the client's delayed ACK (~40 ms per call).
//!
//! On shutdown the listener closes at once and open connections finish gracefully.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Default most open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default time to send a request's headers.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The bounds of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most open connections.
    pub max_connections: usize,
    /// Time to send a request's headers (also between requests).
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
        }
    }
}

/// Raises this process's soft limit of open files to its hard limit (Unix), so the
/// connection cap, not the OS limit, is what bounds connections. Best effort.
pub fn raise_fd_limit() {
    #[cfg(unix)]
    {
        use nix::sys::resource::{getrlimit, setrlimit, Resource};
        if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
            if soft < hard {
                let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled, within `limits`; then waits for
/// open connections to finish (the caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // HTTP/1.1 only: every MCP client speaks it, and detecting HTTP/2 would read from the
    // connection before the header timeout is armed (a silent connection would stay forever).
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut warned = false;
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.cancelled() => break,
        };
        if permits.available_permits() == 0 && !warned {
            warned = true;
            tracing::warn!(
                "{} connections open (the most allowed); new ones wait until one closes",
                limits.max_connections
            );
        }
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        if permits.available_permits() > 0 {
            warned = false;
        }
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let conn = builder
            .serve_connection(TokioIo::new(tcp), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(limits: ConnectionLimits) -> (std::net::SocketAddr, CancellationToken) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", axum::routing::get(|| async { "hi" }));
        let stop = CancellationToken::new();
        tokio::spawn(serve(listener, app, limits, stop.clone()));
        (addr, stop)
    }

    #[tokio::test]
    async fn silent_connections_are_closed_after_the_header_timeout() {
        let limits = ConnectionLimits {
            max_connections: 2,
            header_timeout: Duration::from_millis(300),
        };
        let (addr, stop) = start(limits).await;
        let started = std::time::Instant::now();
        let mut silent = Vec::new();
        for _ in 0..4 {
            silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        for c in &mut silent {
            let mut buf = [0u8; 1];
            let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf))
                .await
                .expect("closed by the gateway");
            assert!(matches!(n, Ok(0) | Err(_)));
        }
        assert!(started.elapsed() >= Duration::from_millis(300));
        // A request still gets its answer.
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        assert!(
            out.starts_with("HTTP/1.1 200") && out.ends_with("hi"),
            "{out}"
        );
        stop.cancel();
    }
}
