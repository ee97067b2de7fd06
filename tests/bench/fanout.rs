//! Section 4 of the gateway bench: `tools/list` fan-out over 1,000 tools.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client;
use crate::fixture::{n, rust_stdio, stdio_entry, wait_tools};
use crate::procs::Gateway;
use crate::report::{self, fmt_us, Report};

/// Section 4: `tools/list` through Loopgate with 20 backends × 50 tools.
pub(crate) async fn fanout(rep: &mut Report) {
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
