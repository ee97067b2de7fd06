//! Row 1c: what recording every call in the activity log costs a call. One gateway, one
//! session, the fast Rust HTTP backend's `echo`; recording is switched on and off between
//! blocks by editing `gateway.activity.enabled` in the config file (the gateway follows hand
//! edits; `GET /api/activity` says when it took effect), so both states share the process,
//! the session and the machine's drift. The verdict compares the on/off difference of the
//! p50s with the spread of the p50s between blocks of the same state (run-to-run noise).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{self, Target};
use crate::fixture::{n, secs};
use crate::procs::Gateway;
use crate::report::{self, fmt_us, Report};

/// Sets `gateway.activity.enabled` in the running gateway's config and waits until
/// `/api/activity` reports it.
async fn set_recording(gw: &Gateway, on: bool) {
    let path = gw.config_path();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["gateway"]["activity"] = serde_json::json!({ "enabled": on });
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let api = gw.url().replace("/mcp", "/api/activity?limit=1");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page: serde_json::Value = http
            .get(&api)
            .bearer_auth(&gw.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["enabled"] == on {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway did not follow activity.enabled = {on}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Median of `v` (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Row 1c over `gw` (which fronts the Rust HTTP backend as `rust_http`).
pub async fn on_off(rep: &mut Report, gw: &Gateway) {
    rep.section(
        "1c. Activity recording on vs off: `tools/call` echo through Loopgate (Rust HTTP backend)",
        &format!(
            "One gateway and one session; recording switched between blocks (8 blocks, on and \
             off alternating, up to {} calls each after warm-up). Per state: the median of the \
             block p50s and p99s; noise = the largest spread of block p50s within one state.",
            n(400)
        ),
        &[
            "recording",
            "p50 (median of blocks)",
            "p99 (median of blocks)",
            "block p50s",
            "calls",
        ],
    );
    let target = Target::http(&gw.url(), Some(&gw.token));
    let session = client::connect_retry(&target, Duration::from_secs(30)).await;
    let warm = Instant::now();
    for _ in 0..n(300) {
        client::call_echo(&session, "rust_http__echo").await;
        if warm.elapsed() > secs(2.0) {
            break;
        }
    }
    // [off, on]: block p50s, block p99s, calls.
    let mut p50s: [Vec<f64>; 2] = [vec![], vec![]];
    let mut p99s: [Vec<f64>; 2] = [vec![], vec![]];
    let mut calls = [0usize; 2];
    for block in 0..8 {
        let on = block % 2 == 0;
        set_recording(gw, on).await;
        let mut v = Vec::new();
        let started = Instant::now();
        for _ in 0..n(400) {
            let t = Instant::now();
            client::call_echo(&session, "rust_http__echo").await;
            v.push(t.elapsed());
            if started.elapsed() > secs(3.0) {
                break;
            }
        }
        let l = client::percentiles(v);
        p50s[on as usize].push(l.p50);
        p99s[on as usize].push(l.p99);
        calls[on as usize] += l.n;
    }
    set_recording(gw, true).await;
    client::close_all(vec![Arc::new(session)]).await;
    let spread = |v: &[f64]| {
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
    };
    let noise = spread(&p50s[0]).max(spread(&p50s[1]));
    let mut med = [0.0; 2];
    for (i, label) in [(1usize, "on"), (0, "off")] {
        med[i] = median(&mut p50s[i].clone());
        rep.row(&[
            label.to_string(),
            fmt_us(med[i]),
            fmt_us(median(&mut p99s[i].clone())),
            p50s[i]
                .iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(" / ")
                + " µs",
            calls[i].to_string(),
        ]);
    }
    let diff = med[1] - med[0];
    let ok = diff.abs() <= noise.max(5.0);
    rep.target(
        "Activity recording: on − off p50 within run-to-run noise (block p50 spread, at least 5 µs)",
        &format!("{diff:+.1} µs (noise {noise:.1} µs)"),
        ok,
    );
    rep.row(&[
        "on − off".into(),
        format!("{diff:+.1} µs"),
        String::new(),
        format!("noise {noise:.1} µs"),
        report::verdict(ok).to_string(),
    ]);
}
