//! Sections 1–3 of the gateway bench: one gateway fronting four backends, measured for
//! per-call overhead (1, 1b via `decomposition.rs`), throughput (2) and against peer
//! gateways (3, via `peers.rs`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::client::{self, Call, Target};
use crate::decomposition::decomposition;
use crate::fixture::{n, paired_latency, rust_stdio, secs, stdio_entry, tput_row, wait_tools};
use crate::peers::peer_gateways;
use crate::procs::{self, Gateway, Proc};
use crate::report::{self, fmt_us, Report};

/// Sections 1–3: per-call overhead, throughput and peer gateways, over one gateway process
/// fronting four backends (fast Rust HTTP + stdio, Python SDK HTTP + stdio).
pub(crate) async fn per_call(rep: &mut Report, latency: bool, throughput: bool, peers: bool) {
    let http_port = procs::free_port();
    let mut rust_http = Proc::spawn(
        "rust-http backend",
        &procs::self_exe(),
        &[
            "backend".into(),
            "http".into(),
            "--port".into(),
            http_port.to_string(),
        ],
        &[],
        None,
        None,
    );
    let py_port = procs::free_port();
    let mut py_http = Proc::spawn(
        "python http backend",
        &procs::peers_python(),
        &[procs::py_server()],
        &[("MODE", "stateful".into()), ("PORT", py_port.to_string())],
        None,
        None,
    );
    for (port, p) in [(http_port, &mut rust_http), (py_port, &mut py_http)] {
        if !procs::wait_port(port, Duration::from_secs(30)) {
            p.assert_alive(None);
            panic!("{} did not listen", p.name);
        }
    }
    let rust_http_url = format!("http://127.0.0.1:{http_port}/mcp");
    let py_http_url = format!("http://127.0.0.1:{py_port}/mcp");
    let rust_stdio_cmd = rust_stdio(&[]);
    let py_stdio_cmd = (procs::peers_python(), vec![procs::py_server()]);
    let mut gw = Gateway::start(json!({
        "rust_http": { "url": rust_http_url },
        "py_http": { "url": py_http_url },
        "rust_stdio": stdio_entry(&rust_stdio_cmd),
        "py_stdio": { "command": py_stdio_cmd.0, "args": py_stdio_cmd.1, "env": {"MODE": "stdio"} },
    }));
    gw.wait_listening();
    assert_eq!(
        gw.cli_token(),
        gw.token,
        "`loopgate token` prints the token in use"
    );
    // rust_http 2 + py_http 2 + rust_stdio 2 + py_stdio 2 tools.
    let probe = wait_tools(&gw.url(), &gw.token, 8, Duration::from_secs(60)).await;
    client::close_all(vec![Arc::new(probe)]).await;
    let via = Target::http(&gw.url(), Some(&gw.token));
    let direct_rust_stdio = Target::Stdio {
        program: rust_stdio_cmd.0.clone(),
        args: rust_stdio_cmd.1.clone(),
        env: vec![],
    };

    if latency {
        rep.section(
            "1. Per-call overhead: `tools/call` echo, sequential on one session",
            &format!(
                "Up to {} timed calls per path after up to {} warm-up calls, in 4 alternating \
                 blocks (direct, Loopgate, direct, …; a block stops after {:.0} s). Latency is the \
                 client's: request sent → result parsed.",
                n(500) * 4,
                n(300),
                secs(3.0).as_secs_f64()
            ),
            &[
                "backend",
                "direct p50",
                "direct p99",
                "Loopgate p50",
                "Loopgate p99",
                "ratio p50",
                "ratio p99",
                "added p50",
                "n (direct / Loopgate)",
                "target",
            ],
        );
        let cases: Vec<(&str, Target, &str, &str)> = vec![
            (
                "Rust rmcp, Streamable HTTP",
                Target::http(&rust_http_url, None),
                "echo",
                "rust_http__echo",
            ),
            (
                "Python mcp 2.3, Streamable HTTP (stateful)",
                Target::http(&py_http_url, None),
                "echo",
                "py_http__echo",
            ),
            (
                "Rust rmcp, stdio",
                direct_rust_stdio.clone(),
                "echo",
                "rust_stdio__echo",
            ),
            (
                "Python mcp 2.3, stdio",
                Target::Stdio {
                    program: py_stdio_cmd.0.clone(),
                    args: py_stdio_cmd.1.clone(),
                    env: vec![("MODE".into(), "stdio".into())],
                },
                "echo",
                "py_stdio__echo",
            ),
        ];
        for (i, (label, direct, dtool, gtool)) in cases.into_iter().enumerate() {
            let (d, g) = paired_latency(&direct, dtool, &via, gtool).await;
            let ratio = g.p50 / d.p50;
            let added = g.p50 - d.p50;
            let target = if i == 0 {
                let ok = ratio <= 1.15 && added <= 150.0;
                rep.target(
                    "HTTP backend: gateway/direct p50 ≤ 1.15 and added p50 ≤ 150 µs",
                    &format!("{ratio:.2}×, +{added:.0} µs"),
                    ok,
                );
                report::verdict(ok).to_string()
            } else {
                String::new()
            };
            rep.row(&[
                label.to_string(),
                fmt_us(d.p50),
                fmt_us(d.p99),
                fmt_us(g.p50),
                fmt_us(g.p99),
                format!("{ratio:.2}×"),
                format!("{:.2}×", g.p99 / d.p99),
                format!("+{added:.0} µs"),
                format!("{} / {}", d.n, g.n),
                target,
            ]);
        }
    }

    if latency {
        decomposition(rep, &rust_http_url, &via).await;
    }

    if throughput {
        rep.section(
            "2. Throughput: concurrent sessions calling echo on the fast Rust HTTP backend",
            &format!(
                "Each session calls in a loop; {:.1} s warm-up, {:.1} s measured. CPU = utime+stime \
                 from /proc/<pid>/stat of the server process (the backend for `direct`, the \
                 `loopgate serve` process for Loopgate — its backend not included). Client CPU = \
                 this bench process. All processes share the machine's {} cores.",
                secs(0.5).as_secs_f64(),
                secs(3.0).as_secs_f64(),
                report::nproc()
            ),
            &[
                "path",
                "sessions",
                "calls/s",
                "p50",
                "p99",
                "server CPU s / 1k calls",
                "calls per server CPU-s",
                "client CPU s / 1k calls",
                "target / note",
            ],
        );
        for sessions in [1usize, 16, 64] {
            for (label, target, tool, pid) in [
                (
                    "direct",
                    Target::http(&rust_http_url, None),
                    "echo",
                    rust_http.pid(),
                ),
                ("Loopgate", via.clone(), "rust_http__echo", gw.proc.pid()),
            ] {
                let t = client::throughput(
                    &target,
                    sessions,
                    &[Call::echo(tool)],
                    secs(0.5),
                    secs(3.0),
                    Some(pid),
                )
                .await;
                let verdict = if label == "Loopgate" && sessions == 64 {
                    let ok = t.calls_per_s >= 5000.0;
                    rep.target(
                        "≥ 5,000 calls/s through Loopgate at 64 sessions",
                        &format!("{:.0} calls/s", t.calls_per_s),
                        ok,
                    );
                    report::verdict(ok).to_string()
                } else {
                    String::new()
                };
                tput_row(rep, label, &t, verdict);
            }
        }
        // A slow tool: how many calls can be in flight to one backend at once.
        for (label, target, tool, pid) in [
            (
                "direct, 20 ms tool",
                Target::http(&rust_http_url, None),
                "sleep",
                rust_http.pid(),
            ),
            (
                "Loopgate, 20 ms tool",
                via.clone(),
                "rust_http__sleep",
                gw.proc.pid(),
            ),
        ] {
            let t = client::throughput(
                &target,
                64,
                &[Call::sleep(tool, 20)],
                secs(0.5),
                secs(3.0),
                Some(pid),
            )
            .await;
            let note = format!("≈ {:.0} calls in flight", t.calls_per_s * 0.020);
            tput_row(rep, label, &t, note);
        }
    }

    if peers {
        peer_gateways(rep, &gw, &direct_rust_stdio, &rust_stdio_cmd).await;
    }
    gw.proc.assert_alive(Some(&gw.log()));
}
