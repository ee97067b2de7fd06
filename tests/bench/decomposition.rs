//! Section 1b of the gateway bench: where the added per-call time goes (Rust HTTP backend).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{self, Call, Lat, Target};
use crate::fixture::{n, secs};
use crate::report::{fmt_us, Report};

enum Op {
    Call(Call),
    List,
    /// A stateless 2026-07-28 `tools/call` echo with a plain HTTP client (no MCP library).
    Raw(String),
}

async fn run_op(s: &client::Session, op: &Op) {
    match op {
        Op::Call(c) => client::call(s, c).await,
        Op::List => {
            client::list_tools(s).await;
        }
        Op::Raw(_) => unreachable!(),
    }
}

async fn op_latency(target: &Target, op: &Op) -> Lat {
    if let (Op::Raw(tool), Target::Http { url, token, .. }) = (op, target) {
        let mut raw = client::RawStateless::new(url, token.as_deref());
        let started = Instant::now();
        for _ in 0..n(300) {
            raw.call_echo(tool).await;
            if started.elapsed() > secs(2.0) {
                break;
            }
        }
        let mut v = Vec::new();
        let started = Instant::now();
        for _ in 0..n(1000) {
            let t = Instant::now();
            raw.call_echo(tool).await;
            v.push(t.elapsed());
            if started.elapsed() > secs(5.0) {
                break;
            }
        }
        return client::percentiles(v);
    }
    let s = client::connect_retry(target, Duration::from_secs(30)).await;
    let started = Instant::now();
    for _ in 0..n(300) {
        run_op(&s, op).await;
        if started.elapsed() > secs(2.0) {
            break;
        }
    }
    let mut v = Vec::new();
    let started = Instant::now();
    for _ in 0..n(1000) {
        let t = Instant::now();
        run_op(&s, op).await;
        v.push(t.elapsed());
        if started.elapsed() > secs(5.0) {
            break;
        }
    }
    client::close_all(vec![Arc::new(s)]).await;
    client::percentiles(v)
}

/// Section 1b: the parts of the Rust HTTP row, measured one by one.
pub(crate) async fn decomposition(rep: &mut Report, backend_url: &str, via: &Target) {
    rep.section(
        "1b. Where the added time goes (Rust HTTP backend)",
        &format!(
            "Up to {} sequential requests per row (at most {:.0} s) after up to {} warm-up, one \
             session each.",
            n(1000),
            secs(5.0).as_secs_f64(),
            n(300)
        ),
        &["request", "p50", "p99", "n"],
    );
    let direct = Target::http(backend_url, None);
    let rows: Vec<(&str, Target, Op)> = vec![
        (
            "direct `tools/call`, `initialize` session (2025-11-25, SSE answers) = table 1's baseline",
            direct.clone(),
            Op::Call(Call::echo("echo")),
        ),
        (
            "direct `tools/call`, 2026-07-28 stateless (JSON answers) = the hop Loopgate makes for a 2026-07-28 client",
            direct.with(true, true),
            Op::Call(Call::echo("echo")),
        ),
        (
            "direct, plain HTTP POST of a 2026-07-28 `tools/call` (no MCP client library)",
            direct.clone(),
            Op::Raw("echo".into()),
        ),
        (
            "Loopgate, plain HTTP POST of a 2026-07-28 `tools/call` (no MCP client library)",
            via.clone(),
            Op::Raw("rust_http__echo".into()),
        ),
        (
            "Loopgate `tools/list` (answered from its registry: client side of the gateway only)",
            via.clone(),
            Op::List,
        ),
        (
            "Loopgate `tools/call` (= table 1)",
            via.clone(),
            Op::Call(Call::echo("rust_http__echo")),
        ),
        (
            "Loopgate `tools/call`, 2026-07-28 client (stateless)",
            via.with(true, true),
            Op::Call(Call::echo("rust_http__echo")),
        ),
        (
            "Loopgate `tools/call`, new TCP connection per request (rmcp's default client)",
            via.with(false, false),
            Op::Call(Call::echo("rust_http__echo")),
        ),
        (
            "direct `tools/call`, new TCP connection per request (rmcp's default client)",
            direct.with(false, false),
            Op::Call(Call::echo("echo")),
        ),
    ];
    for (label, target, op) in rows {
        let l = op_latency(&target, &op).await;
        rep.row(&[
            label.to_string(),
            fmt_us(l.p50),
            fmt_us(l.p99),
            l.n.to_string(),
        ]);
    }
}
