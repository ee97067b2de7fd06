//! Section 5 of the gateway bench: start-up time of `loopgate serve` with slow backends.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::client;
use crate::fixture::{n, rust_stdio, stdio_entry, wait_tools};
use crate::procs::Gateway;
use crate::report::Report;

/// One start-up: spawn `loopgate serve` with 10 stdio backends that take `delay_ms` to
/// answer the handshake; returns (time to listening, time to all 50 tools listed).
async fn one_startup(delay_ms: u64) -> (Duration, Duration) {
    let mut servers = serde_json::Map::new();
    let d = delay_ms.to_string();
    for i in 0..10 {
        servers.insert(
            format!("s{i}"),
            stdio_entry(&rust_stdio(&["--delay-ms", &d, "--tools", "5"])),
        );
    }
    let mut gw = Gateway::start(Value::Object(servers));
    let t0 = gw.started;
    gw.wait_listening();
    let listening = t0.elapsed();
    let s = wait_tools(&gw.url(), &gw.token, 50, Duration::from_secs(30)).await;
    let all = t0.elapsed();
    client::close_all(vec![Arc::new(s)]).await;
    gw.proc.stop(Duration::from_secs(10));
    (listening, all)
}

/// Section 5: start-up time with 10 backends of 300 ms each.
pub(crate) async fn startup(rep: &mut Report) {
    let runs = n(5).clamp(3, 5);
    rep.section(
        "5. Start-up: `loopgate serve` → all 50 tools of 10 stdio backends listed",
        &format!(
            "{runs} runs each. Clock starts just before spawning `loopgate serve`; the client \
             connects as soon as the port accepts and polls `tools/list` every 2 ms. Each backend \
             sleeps in its handshake (`server/discover` / `initialize`)."
        ),
        &[
            "backend handshake",
            "listening (median)",
            "all tools (median)",
            "all tools min",
            "all tools max",
            "target (≤ 600 ms)",
        ],
    );
    for delay in [0u64, 300] {
        let mut listen = Vec::new();
        let mut all = Vec::new();
        for _ in 0..runs {
            let (l, a) = one_startup(delay).await;
            listen.push(l);
            all.push(a);
        }
        let l = client::percentiles(listen);
        all.sort();
        let med = all[all.len() / 2].as_secs_f64() * 1e3;
        let verdict = if delay == 300 {
            let ok = med <= 600.0;
            rep.target(
                "start-up with 10 × 300 ms backends ≤ 600 ms",
                &format!("{med:.0} ms"),
                ok,
            )
            .to_string()
        } else {
            String::new()
        };
        rep.row(&[
            format!("{delay} ms"),
            format!("{:.0} ms", l.p50 / 1e3),
            format!("{med:.0} ms"),
            format!("{:.0} ms", all[0].as_secs_f64() * 1e3),
            format!("{:.0} ms", all[all.len() - 1].as_secs_f64() * 1e3),
            verdict,
        ]);
    }
}
