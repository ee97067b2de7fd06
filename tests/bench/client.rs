//! The measuring client: rmcp sessions over Streamable HTTP or stdio, sequential latency runs,
//! concurrent throughput runs, and a raw-HTTP session for measuring a response without any
//! client-side parsing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, ClientRequest, JsonObject, ListToolsRequest, PaginatedRequestParams,
    ProtocolVersion, ServerResult,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::RoleClient;

pub type Session = RunningService<RoleClient, ()>;

/// Where a client session goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// Streamable HTTP at `url`, with an optional bearer token.
    Http {
        url: String,
        token: Option<String>,
        /// Keep-alive connection pool (true, like the TS/Python SDKs' fetch/httpx) or a new
        /// TCP connection per request (false: rmcp's own default reqwest client).
        pooled: bool,
        /// `server/discover` + 2026-07-28 stateless requests instead of an `initialize` session.
        modern: bool,
    },
    /// A stdio server the client spawns itself.
    Stdio {
        program: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
}

impl Target {
    pub fn http(url: &str, token: Option<&str>) -> Target {
        Target::Http {
            url: url.to_string(),
            token: token.map(str::to_string),
            pooled: true,
            modern: false,
        }
    }

    /// The same HTTP target with other connection / protocol settings.
    pub fn with(&self, pooled_: bool, modern_: bool) -> Target {
        match self {
            Target::Http { url, token, .. } => Target::Http {
                url: url.clone(),
                token: token.clone(),
                pooled: pooled_,
                modern: modern_,
            },
            other => other.clone(),
        }
    }
}

/// Opens a session: by default initialize-based (2025-11-25), as most clients in the field do.
pub async fn connect(target: &Target) -> anyhow::Result<Session> {
    match target {
        Target::Http {
            url,
            token,
            pooled,
            modern,
        } => {
            let mut cfg = StreamableHttpClientTransportConfig::with_uri(url.as_str());
            cfg.auth_header = token.clone();
            let lifecycle = if *modern {
                cfg.allow_stateless = true;
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                }
            } else {
                ClientLifecycleMode::Initialize
            };
            let transport = if *pooled {
                let http = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .tcp_nodelay(true)
                    .build()?;
                StreamableHttpClientTransport::with_client(http, cfg)
            } else {
                StreamableHttpClientTransport::from_config(cfg)
            };
            Ok(().serve_with_lifecycle(transport, lifecycle).await?)
        }
        Target::Stdio { program, args, env } => {
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(args);
            for (k, v) in env {
                cmd.env(k, v);
            }
            let (transport, _stderr) = TokioChildProcess::builder(cmd)
                .stderr(std::process::Stdio::null())
                .spawn()?;
            Ok(
                ().serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
                    .await?,
            )
        }
    }
}

/// Connects, retrying for up to `timeout` (the server may still be starting).
pub async fn connect_retry(target: &Target, timeout: Duration) -> Session {
    let deadline = Instant::now() + timeout;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), connect(target)).await {
            Ok(Ok(s)) => return s,
            Ok(Err(e)) if Instant::now() >= deadline => panic!("connect {target:?}: {e}"),
            Err(_) if Instant::now() >= deadline => panic!("connect {target:?}: timed out"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// One `tools/call`: a tool name and its arguments.
#[derive(Clone, Debug)]
pub struct Call {
    pub tool: String,
    pub args: JsonObject,
}

impl Call {
    /// `echo {"message": "hello"}`.
    pub fn echo(tool: &str) -> Call {
        Call {
            tool: tool.to_string(),
            args: serde_json::json!({"message": "hello"})
                .as_object()
                .unwrap()
                .clone(),
        }
    }

    /// `sleep {"ms": ms}` (the Rust backend's slow tool).
    pub fn sleep(tool: &str, ms: u64) -> Call {
        Call {
            tool: tool.to_string(),
            args: serde_json::json!({ "ms": ms }).as_object().unwrap().clone(),
        }
    }
}

/// One `tools/call`; panics on a protocol error or an error result.
pub async fn call(session: &Session, c: &Call) {
    let params = CallToolRequestParams::new(c.tool.clone()).with_arguments(c.args.clone());
    let r = session
        .peer()
        .call_tool(params)
        .await
        .unwrap_or_else(|e| panic!("tools/call {}: {e}", c.tool));
    assert!(
        r.is_error != Some(true),
        "tools/call {} failed: {r:?}",
        c.tool
    );
}

/// One `tools/call` of an echo tool.
pub async fn call_echo(session: &Session, tool: &str) {
    call(session, &Call::echo(tool)).await
}

/// One uncached `tools/list` (a single page); returns the number of tools.
pub async fn list_tools(session: &Session) -> usize {
    let req = ClientRequest::ListToolsRequest(ListToolsRequest::with_param(
        PaginatedRequestParams::default(),
    ));
    match session.peer().send_request(req).await {
        Ok(ServerResult::ListToolsResult(r)) => r.tools.len(),
        other => panic!("tools/list: {other:?}"),
    }
}

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lat {
    pub p50: f64,
    pub p99: f64,
    /// Number of samples.
    pub n: usize,
}

pub fn percentiles(mut v: Vec<Duration>) -> Lat {
    if v.is_empty() {
        return Lat::default();
    }
    v.sort();
    let at = |q: f64| {
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v[i].as_secs_f64() * 1e6
    };
    Lat {
        p50: at(0.50),
        p99: at(0.99),
        n: v.len(),
    }
}

/// Result of a throughput run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tput {
    pub sessions: usize,
    pub calls_per_s: f64,
    pub lat: Lat,
    /// CPU seconds of the measured server process per 1,000 calls (NaN if not measured).
    pub server_cpu_per_1k: f64,
    /// CPU seconds of the bench process (the client) per 1,000 calls.
    pub client_cpu_per_1k: f64,
}

/// Opens `sessions` sessions to `target`, then has session i call `calls[i % len]` in a loop:
/// `warm` of warm-up, then `dur` measured. `cpu_pid` is the server process whose CPU time is
/// read from /proc before and after the measured window.
pub async fn throughput(
    target: &Target,
    sessions: usize,
    calls: &[Call],
    warm: Duration,
    dur: Duration,
    cpu_pid: Option<u32>,
) -> Tput {
    let mut conns = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        conns.push(Arc::new(
            connect_retry(target, Duration::from_secs(30)).await,
        ));
    }
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let lats = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let mut tasks = Vec::new();
    for (i, s) in conns.iter().enumerate() {
        let s = s.clone();
        let c = calls[i % calls.len()].clone();
        let (measuring, stop, count, lats) =
            (measuring.clone(), stop.clone(), count.clone(), lats.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::with_capacity(4096);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                call(&s, &c).await;
                if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                    mine.push(t.elapsed());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
            lats.lock().unwrap().extend(mine);
        }));
    }
    tokio::time::sleep(warm).await;
    let cpu0 = cpu_pid.map(crate::procs::cpu_seconds);
    let self0 = crate::procs::self_cpu_seconds();
    let t0 = Instant::now();
    measuring.store(true, Ordering::SeqCst);
    tokio::time::sleep(dur).await;
    stop.store(true, Ordering::SeqCst);
    let elapsed = t0.elapsed();
    let n = count.load(Ordering::SeqCst);
    let cpu1 = cpu_pid.map(crate::procs::cpu_seconds);
    let self1 = crate::procs::self_cpu_seconds();
    for t in tasks {
        let _ = t.await;
    }
    let lat = percentiles(std::mem::take(&mut *lats.lock().unwrap()));
    close_all(conns).await;
    let per_1k = |d: f64| d / (n.max(1) as f64) * 1000.0;
    Tput {
        sessions,
        calls_per_s: n as f64 / elapsed.as_secs_f64(),
        lat,
        server_cpu_per_1k: match (cpu0, cpu1) {
            (Some(a), Some(b)) => per_1k(b - a),
            _ => f64::NAN,
        },
        client_cpu_per_1k: per_1k(self1 - self0),
    }
}

/// Runs `total` calls spread over `sessions` existing sessions (round-robin over `tools`).
pub async fn drive_calls(conns: &[Arc<Session>], tools: &[String], total: u64) {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (i, s) in conns.iter().enumerate() {
        let s = s.clone();
        let next = next.clone();
        let tools = tools.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut k = i;
            while next.fetch_add(1, Ordering::Relaxed) < total {
                call_echo(&s, &tools[k % tools.len()]).await;
                k += 1;
            }
        }));
    }
    for t in tasks {
        t.await.expect("call task");
    }
}

/// Closes sessions (HTTP: DELETE; stdio: stdin closed, child reaped).
pub async fn close_all(conns: Vec<Arc<Session>>) {
    let closes = conns.into_iter().map(|s| async move {
        if let Ok(s) = Arc::try_unwrap(s) {
            let _ = tokio::time::timeout(Duration::from_secs(5), s.cancel()).await;
        }
    });
    futures::future::join_all(closes).await;
}

/// A hand-rolled Streamable HTTP session (reqwest, no MCP client library): for timing a
/// gateway's answer without the cost of parsing it into rmcp types.
pub struct RawSession {
    http: reqwest::Client,
    url: String,
    token: String,
    session: Option<String>,
    next_id: u64,
}

impl RawSession {
    pub async fn open(url: &str, token: &str) -> RawSession {
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .build()
            .unwrap();
        let mut s = RawSession {
            http,
            url: url.to_string(),
            token: token.to_string(),
            session: None,
            next_id: 1,
        };
        let init = serde_json::json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench-raw","version":"0"}}});
        let resp = s.post(&init).await;
        s.session = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let _ = resp.bytes().await;
        let note = serde_json::json!({"jsonrpc":"2.0","method":"notifications/initialized"});
        let _ = s.post(&note).await.bytes().await;
        s
    }

    async fn post(&self, body: &serde_json::Value) -> reqwest::Response {
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .bearer_auth(&self.token)
            .body(serde_json::to_vec(body).unwrap());
        if let Some(sid) = &self.session {
            req = req.header("mcp-session-id", sid);
        }
        let resp = req.send().await.expect("raw POST");
        assert!(resp.status().is_success(), "raw POST: {}", resp.status());
        resp
    }

    /// Sends a request and reads the whole answer (JSON or one SSE event); returns its size.
    pub async fn request(&mut self, method: &str) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        let body = serde_json::json!({"jsonrpc":"2.0","id":id,"method":method,"params":{}});
        let resp = self.post(&body).await;
        let sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !sse {
            return resp.bytes().await.expect("raw body").len();
        }
        // Read SSE until the response event (the stream may stay open after it).
        let mut resp = resp;
        let mut buf = Vec::new();
        let needle = format!("\"id\":{id}");
        while let Some(chunk) = resp.chunk().await.expect("raw chunk") {
            buf.extend_from_slice(&chunk);
            if buf.ends_with(b"\n\n") && memfind(&buf, needle.as_bytes()) {
                break;
            }
        }
        buf.len()
    }
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Stateless 2026-07-28 requests with a plain HTTP client (reqwest, keep-alive, no MCP
/// library): the cheapest way to make one MCP call over HTTP, for decomposing latency.
pub struct RawStateless {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    next_id: u64,
}

impl RawStateless {
    pub fn new(url: &str, token: Option<&str>) -> RawStateless {
        RawStateless {
            http: reqwest::Client::builder()
                .tcp_nodelay(true)
                .build()
                .unwrap(),
            url: url.to_string(),
            token: token.map(str::to_string),
            next_id: 1,
        }
    }

    /// `tools/call tool {"message": "hello"}`; returns the answer's size in bytes.
    pub async fn call_echo(&mut self, tool: &str) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": tool, "arguments": {"message": "hello"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "bench-raw", "version": "0"},
            "io.modelcontextprotocol/clientCapabilities": {}
        }}});
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", tool)
            .body(serde_json::to_vec(&body).unwrap());
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("raw 2026 POST");
        assert!(
            resp.status().is_success(),
            "raw 2026 POST: {}",
            resp.status()
        );
        let bytes = resp.bytes().await.expect("raw 2026 body");
        assert!(
            memfind(&bytes, b"echo: hello"),
            "raw 2026 answer: {}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.len()
    }
}
