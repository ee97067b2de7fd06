//! `loopgate activity [--follow] [--server S] [--client C] [--tool T] [--outcome O] [--json]`:
//! the running gateway's activity log (`GET /api/activity`), as a table or one JSON object per
//! line; `--follow` keeps printing new calls as they arrive (polls every second).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

use super::client;
use crate::secrets::SecretStore;

/// What to show.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ActivityArgs {
    /// Keep printing new calls as they arrive (Ctrl+C stops).
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only calls to this server.
    #[arg(long)]
    pub server: Option<String>,
    /// Only calls from this client (`client:cursor`, `dashboard`, `gateway`).
    #[arg(long)]
    pub client: Option<String>,
    /// Only calls of this tool, prompt or resource URI (as clients name it).
    #[arg(long)]
    pub tool: Option<String>,
    /// Only this outcome: ok, error, isError, timeout, cancelled, or failed (all but ok).
    #[arg(long)]
    pub outcome: Option<String>,
    /// How many of the most recent calls to show first.
    #[arg(long, default_value_t = 30)]
    pub limit: usize,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The `/api/activity` query for `args` (`after`: only calls newer than that id).
pub fn query(args: &ActivityArgs, after: Option<i64>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("server", &args.server),
        ("client", &args.client),
        ("tool", &args.tool),
        ("outcome", &args.outcome),
    ] {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    if let Some(a) = after {
        q.append_pair("after", &a.to_string());
        q.append_pair("limit", "500");
    } else {
        q.append_pair("limit", &args.limit.clamp(1, 500).to_string());
    }
    format!("activity?{}", q.finish())
}

/// One call as a table line: local time, caller, server, method, target, outcome, duration.
pub fn line(call: &Value) -> String {
    let s = |k: &str| {
        call.get(k)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let ts = call.get("tsMs").and_then(Value::as_i64).unwrap_or(0);
    let secs = ts.div_euclid(1000);
    let (h, m, sec) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let ms = call
        .get("durationMs")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let mut target = s("target");
    if target.chars().count() > 40 {
        target = target.chars().take(39).collect::<String>() + "…";
    }
    format!(
        "{h:02}:{m:02}:{sec:02}.{:03}Z {:<18} {:<14} {:<22} {:<40} {:<9} {:>9.1} ms",
        ts.rem_euclid(1000),
        s("caller"),
        s("server"),
        s("method"),
        target,
        s("outcome"),
        ms
    )
}

fn print(calls: &[Value], json: bool) {
    for c in calls {
        if json {
            println!("{c}");
        } else {
            println!("{}", line(c));
        }
    }
}

/// `loopgate activity`.
pub async fn activity(path: &Path, secrets: &SecretStore, args: &ActivityArgs) -> Result<()> {
    let page: Value = client::get(path, secrets, &query(args, None)).await?;
    let mut items = page["items"].as_array().cloned().unwrap_or_default();
    items.reverse(); // oldest first, so the newest ends at the bottom
    if !args.json {
        println!(
            "{:<13} {:<18} {:<14} {:<22} {:<40} {:<9} {:>12}",
            "TIME (UTC)",
            "CLIENT",
            "SERVER",
            "METHOD",
            "TOOL / PROMPT / URI",
            "OUTCOME",
            "DURATION"
        );
    }
    print(&items, args.json);
    if page["enabled"] == false && !args.json {
        eprintln!("(recording is off: \"gateway\": {{\"activity\": {{\"enabled\": false}}}})");
    }
    if !args.follow {
        return Ok(());
    }
    let mut last = page["lastId"].as_i64().unwrap_or(0);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let page: Value = client::get(path, secrets, &query(args, Some(last))).await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        print(&items, args.json);
        if let Some(id) = items.last().and_then(|c| c["id"].as_i64()) {
            last = last.max(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_line() {
        let args = ActivityArgs {
            server: Some("every thing".into()),
            limit: 5,
            ..Default::default()
        };
        assert_eq!(query(&args, None), "activity?server=every+thing&limit=5");
        assert_eq!(
            query(&args, Some(7)),
            "activity?server=every+thing&after=7&limit=500"
        );
        let l = line(
            &serde_json::json!({"tsMs": 3_723_004, "caller": "client:cursor", "server": "a",
            "method": "tools/call", "target": "a__echo", "outcome": "ok", "durationMs": 1.25}),
        );
        assert!(l.starts_with("01:02:03.004Z client:cursor"), "{l}");
        assert!(l.ends_with("1.2 ms") || l.ends_with("1.3 ms"), "{l}");
    }
}
