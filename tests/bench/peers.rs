//! Section 3 of the gateway bench: supergateway, the Python mcp-proxy and the Rust mcp-proxy
//! next to Loopgate.

use std::time::Duration;

use crate::client::{self, Call, Target};
use crate::fixture::{n, paired_latency, secs, tput_row};
use crate::per_call::MCP_PROXY_RS;
use crate::procs::{self, Gateway, McpProxyRs, Proc};
use crate::report::{fmt_f, fmt_us, Report};

/// Section 3: supergateway, the Python mcp-proxy and the Rust mcp-proxy fronting the same
/// stdio server as Loopgate (`mpx` and `gw` front it among their four backends, as
/// `rust_stdio`). `floor_added` is the floor's added p50 in µs (its HTTP hop, section 1a),
/// if measured.
pub(crate) async fn peer_gateways(
    rep: &mut Report,
    gw: &Gateway,
    mpx: &McpProxyRs,
    direct: &Target,
    cmd: &(String, Vec<String>),
    floor_added: Option<f64>,
) {
    let bench = procs::root().join("tests/bench");
    let sg_port = procs::free_port();
    let cmdline = std::iter::once(cmd.0.clone())
        .chain(cmd.1.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut sg = Proc::spawn(
        "supergateway",
        &bench
            .join("node_modules/.bin/supergateway")
            .to_string_lossy(),
        &[
            "--stdio".into(),
            cmdline,
            "--outputTransport".into(),
            "streamableHttp".into(),
            "--stateful".into(),
            "--port".into(),
            sg_port.to_string(),
            "--logLevel".into(),
            "none".into(),
        ],
        &[],
        None,
        None,
    );
    let mp_port = procs::free_port();
    let mut mp_args = vec![
        "--port".to_string(),
        mp_port.to_string(),
        "--host".into(),
        "127.0.0.1".into(),
        "--transport".into(),
        "streamablehttp".into(),
        "--log-level".into(),
        "WARNING".into(),
        "--".into(),
        cmd.0.clone(),
    ];
    mp_args.extend(cmd.1.iter().cloned());
    let mut mp = Proc::spawn(
        "mcp-proxy",
        &bench.join("venv/bin/mcp-proxy").to_string_lossy(),
        &mp_args,
        &[],
        None,
        None,
    );
    for (port, p) in [(sg_port, &mut sg), (mp_port, &mut mp)] {
        if !procs::wait_port(port, Duration::from_secs(30)) {
            p.assert_alive(None);
            panic!("{} did not listen on {port}", p.name);
        }
    }
    let gws: Vec<(&str, Target, &str, u32)> = vec![
        (
            "Loopgate",
            Target::http(&gw.url(), Some(&gw.token)),
            "rust_stdio__echo",
            gw.proc.pid(),
        ),
        (
            "supergateway 4.0.0",
            Target::http(&format!("http://127.0.0.1:{sg_port}/mcp"), None),
            "echo",
            sg.pid(),
        ),
        (
            "mcp-proxy 0.13.0",
            Target::http(&format!("http://127.0.0.1:{mp_port}/mcp"), None),
            "echo",
            mp.pid(),
        ),
        (
            MCP_PROXY_RS,
            Target::http(&mpx.url(), None),
            "rust_stdio__echo",
            mpx.proc.pid(),
        ),
    ];

    rep.section(
        "3a. Peer gateways: sequential latency, same stdio server (the fast Rust backend)",
        &format!(
            "Each gateway spawns `{} backend stdio` itself. Up to {} timed calls after up to {} \
             warm-up, alternating blocks with direct stdio (a block stops after {:.0} s). \
             *added ÷ floor's HTTP hop*: added p50 over the floor's added p50 in 1a (what a \
             byte-forwarding HTTP proxy adds on the HTTP backend).",
            "<bench-exe>",
            n(500) * 4,
            n(300),
            secs(3.0).as_secs_f64()
        ),
        &[
            "gateway",
            "direct stdio p50",
            "gateway p50",
            "gateway p99",
            "ratio p50",
            "added p50",
            "added ÷ floor's HTTP hop",
            "n (direct / gateway)",
        ],
    );
    for (label, target, tool, _) in &gws {
        let (d, g) = paired_latency(direct, "echo", target, tool).await;
        rep.row(&[
            label.to_string(),
            fmt_us(d.p50),
            fmt_us(g.p50),
            fmt_us(g.p99),
            format!("{:.2}×", g.p50 / d.p50),
            format!("+{:.0} µs", g.p50 - d.p50),
            match floor_added {
                Some(f) if f > 0.0 => format!("{:.2}×", (g.p50 - d.p50) / f),
                _ => "–".into(),
            },
            format!("{} / {}", d.n, g.n),
        ]);
    }

    rep.section(
        "3b. Peer gateways: throughput, same stdio server",
        &format!(
            "{:.1} s warm-up, {:.1} s measured per row. CPU is the gateway process only \
             (supergateway: node; mcp-proxy 0.13.0: python; mcp-proxy 0.6.0: its Rust binary; \
             Loopgate: loopgate), not the stdio servers. supergateway --stateful starts one \
             stdio server per session; the mcp-proxies and Loopgate share one. *Loopgate ÷ this*: \
             calls/s, and gateway CPU per call.",
            secs(0.5).as_secs_f64(),
            secs(3.0).as_secs_f64()
        ),
        &[
            "gateway",
            "sessions",
            "calls/s",
            "p50",
            "p99",
            "gateway CPU s / 1k calls",
            "calls per gateway CPU-s",
            "client CPU s / 1k calls",
            "Loopgate ÷ this",
        ],
    );
    for sessions in [1usize, 16, 64] {
        let mut loopgate_rate = 0.0;
        let mut loopgate_cpu = f64::NAN;
        let mut rates = Vec::new();
        for (label, target, tool, pid) in &gws {
            let t = client::throughput(
                target,
                sessions,
                &[Call::echo(tool)],
                secs(0.5),
                secs(3.0),
                Some(*pid),
            )
            .await;
            let rel = if *label == "Loopgate" {
                loopgate_rate = t.calls_per_s;
                loopgate_cpu = t.server_cpu_per_1k;
                String::new()
            } else {
                let r = loopgate_rate / t.calls_per_s;
                rates.push((label.to_string(), r, t.server_cpu_per_1k));
                format!(
                    "{r:.2}×, CPU {}×",
                    fmt_f(loopgate_cpu / t.server_cpu_per_1k, 2)
                )
            };
            tput_row(rep, label, &t, rel);
        }
        if sessions == 64 {
            for (label, r, cpu) in rates {
                // The 3× target is for the Node and Python bridges; the Rust mcp-proxy's
                // throughput target is on the HTTP backend (section 2).
                if label != MCP_PROXY_RS {
                    rep.target(
                        &format!("≥ 3× {label} throughput (64 sessions)"),
                        &format!("{r:.2}×"),
                        r >= 3.0,
                    );
                }
                let ok = loopgate_cpu <= cpu;
                rep.target(
                    &format!("Loopgate CPU / 1k calls ≤ {label}'s (64 sessions, stdio backend)"),
                    &format!("{} vs {} s", fmt_f(loopgate_cpu, 3), fmt_f(cpu, 3)),
                    ok,
                );
            }
        }
    }
    sg.assert_alive(None);
    mp.assert_alive(None);
}
