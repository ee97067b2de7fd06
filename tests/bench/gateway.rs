//! `cargo bench --bench gateway`: what Loopgate costs, measured side by side in one run.
//!
//! Not part of `cargo test` (a `[[bench]]` with `harness = false`). See tests/bench/README.md
//! for what each row means. The binary doubles as the fast test backend
//! (`<exe> backend http|stdio ...`, see `backend.rs`) and as the floor, a byte-forwarding
//! reverse proxy (`<exe> floor --port P --to HOST:PORT`, see `floor.rs`), so every backend,
//! gateway and peer gateway runs as its own process, like in the field.
//!
//! Arguments after `--` pick sections: `latency throughput peers fanout startup memory search`
//! (default: all). `BENCH_SCALE=0.1` shrinks every iteration count and duration (quick check);
//! `BENCH_WAIT_QUIET=600` waits up to 600 s for an idle machine first.
//!
//! This file is the entry (argument parsing, section selection); `fixture.rs` holds the shared
//! setup and measuring helpers, and each measured section lives in its own module.

mod activity;
mod backend;
mod client;
mod decomposition;
mod fanout;
mod fixture;
mod floor;
mod memory;
mod peers;
mod per_call;
mod procs;
mod report;
mod search;
mod startup;

use std::time::{Duration, Instant};

use fanout::fanout;
use memory::{memory, soak};
use per_call::per_call;
use report::Report;
use startup::startup;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("backend") {
        backend::main(&args[2..]);
        return;
    }
    if args.get(1).map(String::as_str) == Some("floor") {
        floor::main(&args[2..]);
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
        if on("search") {
            search::search(&mut rep).await;
        }
        if on("soak") {
            soak(&mut rep).await;
        }
    });
    rep.finish(started.elapsed());
}
