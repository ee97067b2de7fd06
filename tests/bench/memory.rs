//! Section 6 of the gateway bench (memory of `loopgate serve`) and the optional `soak`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{self, Target};
use crate::fixture::{n, rust_stdio, secs, stdio_entry, wait_tools};
use crate::procs::Gateway;
use crate::report::{self, Report};

/// Section 6: peak RSS (VmHWM) of the gateway process.
pub(crate) async fn memory(rep: &mut Report) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    rep.section(
        "6. Memory of the `loopgate serve` process (VmHWM = peak RSS, VmRSS = current)",
        &format!(
            "Backends are the fast Rust stdio server (own processes, not counted). The call run \
             uses 64 sessions spread over the 10 backends' echo tools: {} warm-up calls, then {} \
             calls; growth is measured between the two.",
            n(30_000),
            n(100_000)
        ),
        &["state", "VmHWM", "VmRSS", "target"],
    );
    // Idle, no backends.
    let mut gw = Gateway::start(json!({}));
    gw.wait_listening();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (hwm, rss) = gw.proc.memory_kib();
    let ok = mib(hwm) <= 20.0;
    rep.target("RSS idle ≤ 20 MiB", &format!("{:.1} MiB", mib(hwm)), ok);
    rep.row(&[
        "idle, no backends".into(),
        format!("{:.1} MiB", mib(hwm)),
        format!("{:.1} MiB", mib(rss)),
        format!("≤ 20 MiB {}", report::verdict(ok)),
    ]);
    gw.proc.stop(Duration::from_secs(10));

    // Ten backends.
    let mut servers = serde_json::Map::new();
    for i in 0..10 {
        servers.insert(format!("m{i}"), stdio_entry(&rust_stdio(&["--tools", "5"])));
    }
    let mut gw = Gateway::start(Value::Object(servers));
    gw.wait_listening();
    let probe = wait_tools(&gw.url(), &gw.token, 50, Duration::from_secs(30)).await;
    client::close_all(vec![Arc::new(probe)]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (hwm10, rss10) = gw.proc.memory_kib();
    let ok = mib(hwm10) <= 35.0;
    rep.target(
        "RSS with 10 backends ≤ 35 MiB",
        &format!("{:.1} MiB", mib(hwm10)),
        ok,
    );
    rep.row(&[
        "10 backends connected".into(),
        format!("{:.1} MiB", mib(hwm10)),
        format!("{:.1} MiB", mib(rss10)),
        format!("≤ 35 MiB {}", report::verdict(ok)),
    ]);

    let via = Target::http(&gw.url(), Some(&gw.token));
    let mut conns = Vec::new();
    for _ in 0..64 {
        conns.push(Arc::new(
            client::connect_retry(&via, Duration::from_secs(10)).await,
        ));
    }
    let tools: Vec<String> = (0..10).map(|i| format!("m{i}__echo")).collect();
    client::drive_calls(&conns, &tools, n(30_000) as u64).await;
    let (hwm_a, rss_a) = gw.proc.memory_kib();
    rep.row(&[
        format!("+64 sessions, after {} warm-up calls", n(30_000)),
        format!("{:.1} MiB", mib(hwm_a)),
        format!("{:.1} MiB", mib(rss_a)),
        String::new(),
    ]);
    let t = Instant::now();
    client::drive_calls(&conns, &tools, n(100_000) as u64).await;
    let took = t.elapsed();
    let (hwm_b, rss_b) = gw.proc.memory_kib();
    let growth = mib(hwm_b) - mib(hwm_a);
    let ok = growth <= 1.0;
    rep.target(
        "no RSS growth over 100k calls (VmHWM growth ≤ 1 MiB)",
        &format!(
            "{growth:+.2} MiB (VmRSS {:+.2} MiB)",
            mib(rss_b) - mib(rss_a)
        ),
        ok,
    );
    rep.row(&[
        format!(
            "after {} more calls ({:.0} calls/s)",
            n(100_000),
            n(100_000) as f64 / took.as_secs_f64()
        ),
        format!("{:.1} MiB ({:+.2})", mib(hwm_b), growth),
        format!("{:.1} MiB ({:+.2})", mib(rss_b), mib(rss_b) - mib(rss_a)),
        format!("growth ≤ 1 MiB {}", report::verdict(ok)),
    ]);
    client::close_all(conns).await;
    gw.proc.assert_alive(Some(&gw.log()));
}

/// Optional section `soak`: resident memory of the gateway while 64 sessions call for 120 s
/// without pause (does memory level off, and where?).
pub(crate) async fn soak(rep: &mut Report) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut servers = serde_json::Map::new();
    for i in 0..10 {
        servers.insert(format!("m{i}"), stdio_entry(&rust_stdio(&["--tools", "5"])));
    }
    let mut gw = Gateway::start(Value::Object(servers));
    gw.wait_listening();
    let probe = wait_tools(&gw.url(), &gw.token, 50, Duration::from_secs(30)).await;
    client::close_all(vec![Arc::new(probe)]).await;
    let via = Target::http(&gw.url(), Some(&gw.token));
    let mut conns = Vec::new();
    for _ in 0..64 {
        conns.push(Arc::new(
            client::connect_retry(&via, Duration::from_secs(10)).await,
        ));
    }
    let tools: Vec<String> = (0..10).map(|i| format!("m{i}__echo")).collect();
    rep.section(
        "Soak: gateway memory while 64 sessions call without pause, then idle",
        "10 stdio backends; VmRSS/VmHWM of `loopgate serve` every 10 s.",
        &["time", "calls so far", "VmHWM", "VmRSS"],
    );
    let (h, r) = gw.proc.memory_kib();
    rep.row(&[
        "0 s (64 sessions open)".into(),
        "0".into(),
        format!("{:.1} MiB", mib(h)),
        format!("{:.1} MiB", mib(r)),
    ]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (i, s) in conns.iter().enumerate() {
        let (s, stop, count) = (s.clone(), stop.clone(), count.clone());
        let tool = tools[i % tools.len()].clone();
        tasks.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                client::call_echo(&s, &tool).await;
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    let t0 = Instant::now();
    let load_for = secs(120.0);
    let mut next = Duration::from_secs(10);
    while t0.elapsed() < load_for + secs(70.0) {
        tokio::time::sleep(next.saturating_sub(t0.elapsed())).await;
        if t0.elapsed() >= load_for && !stop.load(std::sync::atomic::Ordering::Relaxed) {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let (h, r) = gw.proc.memory_kib();
        let phase = if t0.elapsed() > load_for + Duration::from_secs(1) {
            " (idle)"
        } else {
            ""
        };
        rep.row(&[
            format!("{:.0} s{phase}", t0.elapsed().as_secs_f64()),
            count.load(std::sync::atomic::Ordering::Relaxed).to_string(),
            format!("{:.1} MiB", mib(h)),
            format!("{:.1} MiB", mib(r)),
        ]);
        next += Duration::from_secs(10);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    client::close_all(conns).await;
    gw.proc.assert_alive(Some(&gw.log()));
}
