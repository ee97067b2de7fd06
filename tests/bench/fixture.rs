//! Shared set-up and measuring helpers of the gateway bench: `BENCH_SCALE`, stdio backend
//! commands, waiting for a gateway's tools, paired sequential latency and throughput rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{self, Lat, Target, Tput};
use crate::procs;
use crate::report::{fmt_f, fmt_us, Report};

pub(crate) fn scale() -> f64 {
    std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0)
}

pub(crate) fn n(count: usize) -> usize {
    ((count as f64 * scale()).round() as usize).max(10)
}

pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64((s * scale()).max(0.3))
}

/// The fast backend as a stdio command (`command`, `args`).
pub(crate) fn rust_stdio(extra: &[&str]) -> (String, Vec<String>) {
    let mut args = vec!["backend".to_string(), "stdio".to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    (procs::self_exe(), args)
}

pub(crate) fn stdio_entry(cmd: &(String, Vec<String>)) -> Value {
    json!({ "command": cmd.0, "args": cmd.1 })
}

/// Polls `tools/list` through `url` until at least `want` tools are listed; returns the
/// session used.
pub(crate) async fn wait_tools(
    url: &str,
    token: &str,
    want: usize,
    timeout: Duration,
) -> client::Session {
    wait_tools_at(&Target::http(url, Some(token)), want, timeout).await
}

/// Like [`wait_tools`] for any target (e.g. a gateway without a token).
pub(crate) async fn wait_tools_at(
    target: &Target,
    want: usize,
    timeout: Duration,
) -> client::Session {
    let deadline = Instant::now() + timeout;
    let s = client::connect_retry(target, timeout).await;
    loop {
        let got = client::list_tools(&s).await;
        if got >= want {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "only {got} of {want} tools listed through {target:?} after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Sequential latency of `tool` over `a` and `b`, alternating blocks so drift hits both.
pub(crate) async fn paired_latency(
    a: &Target,
    a_tool: &str,
    b: &Target,
    b_tool: &str,
) -> (Lat, Lat) {
    let v = alternating_latency(&[(a, a_tool), (b, b_tool)]).await;
    (v[0], v[1])
}

/// Sequential latency of each `(target, tool)` path (one session each), in 4 rounds of one
/// block per path (a, b, c, a, b, c, …) so drift hits all of them alike.
pub(crate) async fn alternating_latency(paths: &[(&Target, &str)]) -> Vec<Lat> {
    let mut sessions = Vec::with_capacity(paths.len());
    for (target, _) in paths {
        sessions.push(client::connect_retry(target, Duration::from_secs(30)).await);
    }
    let warm = n(300);
    let block = n(500);
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); paths.len()];
    // Time caps keep a pathologically slow path (e.g. 40 ms per call) from taking minutes.
    let started = Instant::now();
    for _ in 0..warm {
        for (s, (_, tool)) in sessions.iter().zip(paths) {
            client::call_echo(s, tool).await;
        }
        if started.elapsed() > secs(2.0) {
            break;
        }
    }
    for _ in 0..4 {
        for ((s, (_, tool)), v) in sessions.iter().zip(paths).zip(samples.iter_mut()) {
            let started = Instant::now();
            for _ in 0..block {
                let t = Instant::now();
                client::call_echo(s, tool).await;
                v.push(t.elapsed());
                if started.elapsed() > secs(3.0) {
                    break;
                }
            }
        }
    }
    client::close_all(sessions.into_iter().map(Arc::new).collect()).await;
    samples.into_iter().map(client::percentiles).collect()
}

pub(crate) fn tput_row(rep: &mut Report, label: &str, t: &Tput, verdict: String) {
    rep.row(&[
        label.to_string(),
        t.sessions.to_string(),
        format!("{:.0}", t.calls_per_s),
        fmt_us(t.lat.p50),
        fmt_us(t.lat.p99),
        fmt_f(t.server_cpu_per_1k, 3),
        if t.server_cpu_per_1k > 0.0 {
            fmt_f(1000.0 / t.server_cpu_per_1k, 0)
        } else {
            "–".into()
        },
        fmt_f(t.client_cpu_per_1k, 3),
        verdict,
    ]);
}
