//! Sections 1–3 of the gateway bench: one gateway fronting four backends, measured for
//! per-call overhead (1; 1a against the floor and the Rust mcp-proxy 0.6.0; 1b via
//! `decomposition.rs`), throughput (2) and against peer gateways (3, via `peers.rs`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::client::{self, Call, Target};
use crate::client::{Lat, Tput};
use crate::decomposition::decomposition;
use crate::fixture::{
    alternating_latency, n, paired_latency, rust_stdio, secs, stdio_entry, tput_row, wait_tools,
    wait_tools_at,
};
use crate::peers::peer_gateways;
use crate::procs::{self, Gateway, McpProxyRs, Proc};
use crate::report::{self, fmt_f, fmt_us, Report};

/// Label of the Rust mcp-proxy in rows and targets.
pub(crate) const MCP_PROXY_RS: &str = "mcp-proxy 0.6.0 (Rust)";

/// Label of the floor (`floor.rs`) in rows.
const FLOOR: &str = "floor: hyper reverse proxy";
/// Label of the floor + pipe (`floor.rs`, `--stdio`) in rows.
const FLOOR_PIPE: &str = "floor + pipe: HTTP to the stdio server";

/// Sections 1–3: per-call overhead, throughput and peer gateways, over one gateway process
/// fronting four backends (fast Rust HTTP + stdio, Python SDK HTTP + stdio), next to the
/// floor (a byte-forwarding reverse proxy in front of the Rust HTTP backend) and the Rust
/// mcp-proxy 0.6.0 fronting the same four backends.
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
    let servers = json!({
        "rust_http": { "url": rust_http_url },
        "py_http": { "url": py_http_url },
        "rust_stdio": stdio_entry(&rust_stdio_cmd),
        "py_stdio": { "command": py_stdio_cmd.0, "args": py_stdio_cmd.1, "env": {"MODE": "stdio"} },
    });
    let mut gw = Gateway::start(servers.clone());
    let mut mpx = McpProxyRs::start(&servers);
    let (mut floor, floor_port) = procs::start_floor(http_port);
    let (mut floor_pipe, floor_pipe_port) = procs::start_stdio_floor(&rust_stdio_cmd);
    gw.wait_listening();
    mpx.wait_listening();
    assert_eq!(
        gw.cli_token(),
        gw.token,
        "`loopgate token` prints the token in use"
    );
    // rust_http 2 + py_http 2 + rust_stdio 2 + py_stdio 2 tools.
    let probe = wait_tools(&gw.url(), &gw.token, 8, Duration::from_secs(60)).await;
    // The same 8 tools (plus its own `proxy/…` admin tools); each backend answers through it.
    let mpx_probe =
        wait_tools_at(&Target::http(&mpx.url(), None), 8, Duration::from_secs(60)).await;
    for server in ["rust_http", "py_http", "rust_stdio", "py_stdio"] {
        client::call_echo(&mpx_probe, &format!("{server}__echo")).await;
    }
    client::close_all(vec![Arc::new(probe), Arc::new(mpx_probe)]).await;
    let via = Target::http(&gw.url(), Some(&gw.token));
    let via_mpx = Target::http(&mpx.url(), None);
    let via_floor = Target::http(&format!("http://127.0.0.1:{floor_port}/mcp"), None);
    let via_floor_pipe = Target::http(&format!("http://127.0.0.1:{floor_pipe_port}/mcp"), None);
    // The floor's added p50 on the Rust HTTP backend (section 1), for 1a and 3a.
    let mut floor_added: Option<f64> = None;
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
        // The Rust backends are measured together with the floor (HTTP only) and the Rust
        // mcp-proxy in one alternation, for section 1a: (backend, [(path, latency)]).
        let mut vs: Vec<(&str, Vec<(&str, Lat)>)> = Vec::new();
        for (i, (label, direct, dtool, gtool)) in cases.into_iter().enumerate() {
            let (d, g) = match i {
                0 => {
                    let v = alternating_latency(&[
                        (&direct, dtool),
                        (&via, gtool),
                        (&via_floor, "echo"),
                        (&via_mpx, gtool),
                    ])
                    .await;
                    vs.push((
                        label,
                        vec![
                            ("direct", v[0]),
                            (FLOOR, v[2]),
                            ("Loopgate", v[1]),
                            (MCP_PROXY_RS, v[3]),
                        ],
                    ));
                    (v[0], v[1])
                }
                2 => {
                    let v = alternating_latency(&[
                        (&direct, dtool),
                        (&via, gtool),
                        (&via_mpx, gtool),
                        (&via_floor_pipe, "echo"),
                    ])
                    .await;
                    vs.push((
                        label,
                        vec![
                            ("direct", v[0]),
                            (FLOOR_PIPE, v[3]),
                            ("Loopgate", v[1]),
                            (MCP_PROXY_RS, v[2]),
                        ],
                    ));
                    (v[0], v[1])
                }
                _ => paired_latency(&direct, dtool, &via, gtool).await,
            };
            let ratio = g.p50 / d.p50;
            let added = g.p50 - d.p50;
            let target = if i == 0 {
                let ok = ratio <= 1.15 && added <= 150.0;
                rep.target(
                    "HTTP backend: gateway/direct p50 ≤ 1.15 and added p50 ≤ 150 µs",
                    &format!("{ratio:.2}×, +{added:.0} µs"),
                    ok,
                )
                .to_string()
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
        floor_added = against_floor(rep, &vs);
    }

    if latency {
        decomposition(rep, &rust_http_url, &via).await;
        crate::activity::on_off(rep, &gw).await;
    }

    if throughput {
        rep.section(
            "2. Throughput: concurrent sessions calling echo on the fast Rust HTTP backend",
            &format!(
                "Each session calls in a loop; {:.1} s warm-up, {:.1} s measured. CPU = utime+stime \
                 from /proc/<pid>/stat of the server process (the backend for `direct`; the \
                 gateway process for the others — its backend not included). The floor is a \
                 byte-forwarding hyper reverse proxy; {MCP_PROXY_RS} fronts the same backends as \
                 Loopgate. *Loopgate ÷ this* = Loopgate's calls/s and CPU per call over this \
                 row's, same session count. Client CPU = this bench process. All processes \
                 share the machine's {} cores.",
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
            let mut direct = Tput::default();
            let mut lg = Tput::default();
            for (label, target, tool, pid) in [
                (
                    "direct",
                    Target::http(&rust_http_url, None),
                    "echo",
                    rust_http.pid(),
                ),
                ("Loopgate", via.clone(), "rust_http__echo", gw.proc.pid()),
                (FLOOR, via_floor.clone(), "echo", floor.pid()),
                (
                    MCP_PROXY_RS,
                    via_mpx.clone(),
                    "rust_http__echo",
                    mpx.proc.pid(),
                ),
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
                let at64 = sessions == 64;
                let note = match label {
                    "direct" => {
                        direct = t;
                        String::new()
                    }
                    "Loopgate" => {
                        lg = t;
                        let of_direct = t.calls_per_s / direct.calls_per_s;
                        if at64 {
                            let ok = t.calls_per_s >= 5000.0;
                            rep.target(
                                "≥ 5,000 calls/s through Loopgate at 64 sessions",
                                &format!("{:.0} calls/s", t.calls_per_s),
                                ok,
                            );
                            let ok2 = of_direct >= 0.6;
                            rep.target(
                                "≥ 0.6× direct throughput through Loopgate (64 sessions, HTTP \
                                 backend)",
                                &format!("{of_direct:.2}×"),
                                ok2,
                            );
                            format!(
                                "{} (≥ 5,000/s); {of_direct:.2}× direct: {}",
                                report::verdict(ok),
                                report::verdict(ok2)
                            )
                        } else {
                            format!("{of_direct:.2}× direct")
                        }
                    }
                    _ => {
                        let rate = lg.calls_per_s / t.calls_per_s;
                        let cpu = lg.server_cpu_per_1k / t.server_cpu_per_1k;
                        let mut note = format!(
                            "Loopgate ÷ this: {rate:.2}× calls/s, {} CPU/call",
                            fmt_f(cpu, 2) + "×"
                        );
                        if at64 && label == MCP_PROXY_RS {
                            let ok = rate >= 1.2;
                            rep.target(
                                &format!(
                                    "≥ 1.2× {MCP_PROXY_RS} throughput (64 sessions, HTTP backend)"
                                ),
                                &format!("{rate:.2}×"),
                                ok,
                            );
                            let ok2 = lg.server_cpu_per_1k <= t.server_cpu_per_1k;
                            rep.target(
                                &format!(
                                    "Loopgate CPU / 1k calls ≤ {MCP_PROXY_RS}'s (64 sessions, \
                                     HTTP backend)"
                                ),
                                &format!(
                                    "{} vs {} s",
                                    fmt_f(lg.server_cpu_per_1k, 3),
                                    fmt_f(t.server_cpu_per_1k, 3)
                                ),
                                ok2,
                            );
                            note.push_str(&format!(
                                "; ≥ 1.2×: {}, CPU ≤: {}",
                                report::verdict(ok),
                                report::verdict(ok2)
                            ));
                        }
                        note
                    }
                };
                tput_row(rep, label, &t, note);
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
            (
                "mcp-proxy 0.6.0 (Rust), 20 ms tool",
                via_mpx.clone(),
                "rust_http__sleep",
                mpx.proc.pid(),
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
        peer_gateways(
            rep,
            &gw,
            &mpx,
            &direct_rust_stdio,
            &rust_stdio_cmd,
            floor_added,
        )
        .await;
    }
    gw.proc.assert_alive(Some(&gw.log()));
    let mpx_log = mpx.log();
    mpx.proc.assert_alive(Some(&mpx_log));
    floor.assert_alive(None);
    floor_pipe.assert_alive(None);
}

/// `a ÷ b` as `1.23×`, or `–` when `b` is not positive (a difference of noisy medians).
fn times(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".into()
    }
}

/// Section 1a, from the latencies measured in section 1 (one alternation per backend):
/// every path's added p50 over direct, as a multiple of the floor's (its HTTP hop), and
/// Loopgate's against each. Returns the floor's added p50 in µs (None if not measured).
fn against_floor(rep: &mut Report, vs: &[(&str, Vec<(&str, Lat)>)]) -> Option<f64> {
    rep.section(
        "1a. Added latency against the floor and mcp-proxy 0.6.0 (Rust)",
        &format!(
            "Same calls as row 1, measured in the same alternation (direct, Loopgate, floor, \
             {MCP_PROXY_RS}, direct, …). The *floor* is a hyper reverse proxy in front of the \
             Rust HTTP backend that forwards bytes without parsing them (`floor.rs`): what any \
             HTTP→HTTP gateway pays at least. {MCP_PROXY_RS} fronts the same four backends as \
             Loopgate (the only peer here that can front a Streamable HTTP backend). For the \
             stdio backend the floor's cost is its HTTP hop added to the direct pipe (computed), \
             and the *floor + pipe* is measured: a minimal HTTP server that writes each POST to \
             the stdio server's pipe and answers with its next line (`floor.rs`, `--stdio`), so \
             the client's HTTP transport is in both. *added* = p50 − direct p50."
        ),
        &[
            "backend",
            "path",
            "p50",
            "p99",
            "added p50",
            "added ÷ floor's",
            "Loopgate's added ÷ this",
            "n",
            "target",
        ],
    );
    let mut floor_added = None;
    for (backend, paths) in vs {
        let get = |name: &str| paths.iter().find(|(p, _)| *p == name).map(|(_, l)| *l);
        let d = get("direct").expect("direct path");
        let lg_added = get("Loopgate").expect("Loopgate path").p50 - d.p50;
        let http = get(FLOOR).is_some();
        if let Some(f) = get(FLOOR) {
            floor_added = Some(f.p50 - d.p50);
        }
        let fa = floor_added.unwrap_or(f64::NAN);
        for (path, l) in paths {
            if *path == "direct" {
                rep.row(&[
                    backend.to_string(),
                    if http {
                        "direct"
                    } else {
                        "direct (stdio pipe)"
                    }
                    .into(),
                    fmt_us(l.p50),
                    fmt_us(l.p99),
                    "–".into(),
                    "–".into(),
                    "–".into(),
                    l.n.to_string(),
                    String::new(),
                ]);
                if !http && floor_added.is_some() {
                    rep.row(&[
                        backend.to_string(),
                        "direct pipe + the floor's HTTP hop (computed)".into(),
                        fmt_us(l.p50 + fa),
                        "–".into(),
                        format!("{fa:+.0} µs"),
                        "1.00×".into(),
                        times(lg_added, fa),
                        "–".into(),
                        String::new(),
                    ]);
                }
                continue;
            }
            let added = l.p50 - d.p50;
            let target = match (*path, http) {
                ("Loopgate", true) => {
                    let ok = lg_added <= 1.3 * fa;
                    rep.target(
                        "HTTP backend: Loopgate's added p50 ≤ 1.3× the floor's",
                        &format!("{lg_added:+.0} µs vs {fa:+.0} µs ({})", times(lg_added, fa)),
                        ok,
                    )
                    .to_string()
                }
                ("Loopgate", false) if floor_added.is_some() => {
                    let ok = lg_added <= fa + 50.0;
                    rep.target(
                        "stdio backend: Loopgate's added p50 ≤ the floor's HTTP hop + 50 µs",
                        &format!("{lg_added:+.0} µs vs {fa:+.0} µs + 50 µs"),
                        ok,
                    )
                    .to_string()
                }
                (FLOOR_PIPE, false) => {
                    let ok = lg_added <= added + 50.0;
                    rep.target(
                        "stdio backend: Loopgate's added p50 ≤ the floor + pipe's + 50 µs (measured)",
                        &format!("{lg_added:+.0} µs vs {added:+.0} µs + 50 µs"),
                        ok,
                    )
                    .to_string()
                }
                (MCP_PROXY_RS, true) => {
                    let ok = lg_added <= added;
                    rep.target(
                        &format!("HTTP backend: Loopgate's added p50 ≤ {MCP_PROXY_RS}'s"),
                        &format!("{lg_added:+.0} µs vs {added:+.0} µs"),
                        ok,
                    )
                    .to_string()
                }
                _ => String::new(),
            };
            rep.row(&[
                backend.to_string(),
                path.to_string(),
                fmt_us(l.p50),
                fmt_us(l.p99),
                format!("{added:+.0} µs"),
                times(added, fa),
                if *path == "Loopgate" {
                    "–".into()
                } else {
                    times(lg_added, added)
                },
                l.n.to_string(),
                target,
            ]);
        }
    }
    floor_added
}
