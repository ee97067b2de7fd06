//! `cargo bench --bench gateway`: what Loopgate costs, measured side by side in one run.
//!
//! Not part of `cargo test` (a `[[bench]]` with `harness = false`). See tests/bench/README.md
//! for what each row means. The binary doubles as the fast test backend
//! (`<exe> backend http|stdio ...`, see `backend.rs`), so every backend, gateway and peer
//! gateway runs as its own process, like in the field.
//!
//! Arguments after `--` pick sections: `latency throughput peers fanout startup memory`
//! (default: all). `BENCH_SCALE=0.1` shrinks every iteration count and duration (quick check);
//! `BENCH_WAIT_QUIET=600` waits up to 600 s for an idle machine first.

mod activity;
mod backend;
mod client;
mod procs;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use client::{Call, Lat, Target, Tput};
use procs::{Gateway, Proc};
use report::{fmt_f, fmt_us, Report};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("backend") {
        backend::main(&args[2..]);
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // Built by `cargo test --all-targets`: do not run the (long) benchmark there.
        eprintln!("gateway bench: run it with `cargo bench --bench gateway`");
        return;
    }
    let wanted: Vec<String> = args[1..]
        .iter()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .collect();
    // `soak` (memory over time under load) is not part of the default run.
    let on = |name: &str| (wanted.is_empty() && name != "soak") || wanted.iter().any(|w| w == name);
    procs::setup();
    // On a shared machine: BENCH_WAIT_QUIET=SECONDS waits (up to that long) until the CPUs
    // are idle for 10 s in a row before measuring.
    if let Some(limit) = std::env::var("BENCH_WAIT_QUIET")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        let deadline = Instant::now() + Duration::from_secs(limit);
        let mut quiet = 0;
        while quiet < 10 && Instant::now() < deadline {
            if report::busy_percent(Duration::from_secs(1)) < 10.0 {
                quiet += 1;
            } else {
                quiet = 0;
            }
        }
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut rep = Report::new();
    rt.block_on(async {
        if on("latency") || on("throughput") || on("peers") {
            per_call(&mut rep, on("latency"), on("throughput"), on("peers")).await;
        }
        if on("fanout") {
            fanout(&mut rep).await;
        }
        if on("startup") {
            startup(&mut rep).await;
        }
        if on("memory") {
            memory(&mut rep).await;
        }
        if on("soak") {
            soak(&mut rep).await;
        }
    });
    rep.finish(started.elapsed());
}

fn scale() -> f64 {
    std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0)
}

fn n(count: usize) -> usize {
    ((count as f64 * scale()).round() as usize).max(10)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64((s * scale()).max(0.3))
}

/// The fast backend as a stdio command (`command`, `args`).
fn rust_stdio(extra: &[&str]) -> (String, Vec<String>) {
    let mut args = vec!["backend".to_string(), "stdio".to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    (procs::self_exe(), args)
}

fn stdio_entry(cmd: &(String, Vec<String>)) -> Value {
    json!({ "command": cmd.0, "args": cmd.1 })
}

/// Polls `tools/list` through `url` until at least `want` tools are listed; returns the
/// session used.
async fn wait_tools(url: &str, token: &str, want: usize, timeout: Duration) -> client::Session {
    let deadline = Instant::now() + timeout;
    let s = client::connect_retry(&Target::http(url, Some(token)), timeout).await;
    loop {
        let got = client::list_tools(&s).await;
        if got >= want {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "only {got} of {want} tools listed through {url} after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Sequential latency of `tool` over `a` and `b`, alternating blocks so drift hits both.
async fn paired_latency(a: &Target, a_tool: &str, b: &Target, b_tool: &str) -> (Lat, Lat) {
    let sa = client::connect_retry(a, Duration::from_secs(30)).await;
    let sb = client::connect_retry(b, Duration::from_secs(30)).await;
    let warm = n(300);
    let block = n(500);
    let (mut va, mut vb) = (Vec::new(), Vec::new());
    // Time caps keep a pathologically slow path (e.g. 40 ms per call) from taking minutes.
    let started = Instant::now();
    for _ in 0..warm {
        client::call_echo(&sa, a_tool).await;
        client::call_echo(&sb, b_tool).await;
        if started.elapsed() > secs(2.0) {
            break;
        }
    }
    for _ in 0..4 {
        for (s, tool, v) in [(&sa, a_tool, &mut va), (&sb, b_tool, &mut vb)] {
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
    client::close_all(vec![Arc::new(sa), Arc::new(sb)]).await;
    (client::percentiles(va), client::percentiles(vb))
}

/// Sections 1–3: per-call overhead, throughput and peer gateways, over one gateway process
/// fronting four backends (fast Rust HTTP + stdio, Python SDK HTTP + stdio).
async fn per_call(rep: &mut Report, latency: bool, throughput: bool, peers: bool) {
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
        activity::on_off(rep, &gw).await;
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
async fn decomposition(rep: &mut Report, backend_url: &str, via: &Target) {
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
            "direct `tools/call`, 2026-07-28 stateless (JSON answers) = the hop Loopgate makes to this backend",
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

fn tput_row(rep: &mut Report, label: &str, t: &Tput, verdict: String) {
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

/// Section 3: supergateway and mcp-proxy fronting the same stdio server as Loopgate.
async fn peer_gateways(
    rep: &mut Report,
    gw: &Gateway,
    direct: &Target,
    cmd: &(String, Vec<String>),
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
    ];

    rep.section(
        "3a. Peer gateways: sequential latency, same stdio server (the fast Rust backend)",
        &format!(
            "Each gateway spawns `{} backend stdio` itself. Up to {} timed calls after up to {} \
             warm-up, alternating blocks with direct stdio (a block stops after {:.0} s).",
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
            format!("{} / {}", d.n, g.n),
        ]);
    }

    rep.section(
        "3b. Peer gateways: throughput, same stdio server",
        &format!(
            "{:.1} s warm-up, {:.1} s measured per row. CPU is the gateway process only \
             (supergateway: node; mcp-proxy: python; Loopgate: loopgate), not the stdio servers. \
             supergateway --stateful starts one stdio server per session; mcp-proxy and \
             Loopgate share one.",
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
                String::new()
            } else {
                let r = loopgate_rate / t.calls_per_s;
                rates.push((label.to_string(), r));
                format!("{r:.2}×")
            };
            tput_row(rep, label, &t, rel);
        }
        if sessions == 64 {
            for (label, r) in rates {
                rep.target(
                    &format!("≥ 3× {label} throughput (64 sessions)"),
                    &format!("{r:.2}×"),
                    r >= 3.0,
                );
            }
        }
    }
    sg.assert_alive(None);
    mp.assert_alive(None);
}

/// Section 4: `tools/list` through Loopgate with 20 backends × 50 tools.
async fn fanout(rep: &mut Report) {
    let mut servers = serde_json::Map::new();
    for i in 0..20 {
        servers.insert(
            format!("f{i:02}"),
            stdio_entry(&rust_stdio(&["--tools", "50"])),
        );
    }
    let mut gw = Gateway::start(Value::Object(servers));
    gw.wait_listening();
    let s = wait_tools(&gw.url(), &gw.token, 1000, Duration::from_secs(60)).await;
    let (warm, count) = (n(30), n(500));
    for _ in 0..warm {
        assert_eq!(client::list_tools(&s).await, 1000);
    }
    let mut v = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        client::list_tools(&s).await;
        v.push(t.elapsed());
    }
    let rmcp_lat = client::percentiles(v);
    let mut raw = client::RawSession::open(&gw.url(), &gw.token).await;
    let mut bytes = 0;
    for _ in 0..warm {
        bytes = raw.request("tools/list").await;
    }
    let mut v = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        raw.request("tools/list").await;
        v.push(t.elapsed());
    }
    let raw_lat = client::percentiles(v);
    client::close_all(vec![Arc::new(s)]).await;
    rep.section(
        "4. Fan-out: `tools/list` through Loopgate, 20 stdio backends × 50 tools = 1,000 tools",
        &format!(
            "{count} sequential calls after {warm} warm-up; one page of {} KiB. `raw HTTP` reads \
             the answer with a plain HTTP client (no MCP parsing: the gateway's cost); \
             `rmcp client` also parses it into rmcp types (what an rmcp client sees).",
            bytes / 1024
        ),
        &["client", "p50", "p99", "target (p50 ≤ 3 ms)"],
    );
    let ok_raw = raw_lat.p50 <= 3000.0;
    let ok_rmcp = rmcp_lat.p50 <= 3000.0;
    rep.row(&[
        "raw HTTP".into(),
        fmt_us(raw_lat.p50),
        fmt_us(raw_lat.p99),
        report::verdict(ok_raw).into(),
    ]);
    rep.row(&[
        "rmcp client".into(),
        fmt_us(rmcp_lat.p50),
        fmt_us(rmcp_lat.p99),
        report::verdict(ok_rmcp).into(),
    ]);
    rep.target(
        "1,000-tool tools/list p50 ≤ 3 ms (raw HTTP; rmcp client in parentheses)",
        &format!("{} ({})", fmt_us(raw_lat.p50), fmt_us(rmcp_lat.p50)),
        ok_raw,
    );
    gw.proc.assert_alive(Some(&gw.log()));
}

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
async fn startup(rep: &mut Report) {
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
            );
            report::verdict(ok).to_string()
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

/// Section 6: peak RSS (VmHWM) of the gateway process.
async fn memory(rep: &mut Report) {
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
async fn soak(rep: &mut Report) {
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
