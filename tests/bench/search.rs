//! Section 7 of the gateway bench: search mode (a profile's `"toolSearch": true`) on a
//! catalog of more than 300 real tools — what the tool definitions cost a client, flat versus
//! search mode (tokens, `o200k_base`), and how often the right tool is found for the
//! natural-language queries in `search-queries.json` (top-1 and top-5), for the query set the
//! ranking was tuned on and for a held-out set.
//!
//! The catalog: seven real servers from npm and PyPI (server-everything, server-memory,
//! server-filesystem, server-sequential-thinking, mcp-server-time, mcp-server-fetch,
//! mcp-server-git), each under six names, as a user with many similar servers would have them.
//! A found tool counts when the server's own name for it is one the query expects.

use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, Tool};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use serde_json::{json, Value};

use crate::client::percentiles;
use crate::fixture::wait_tools;
use crate::procs::{root, Gateway};
use crate::report::{self, Report};

/// Copies of each server in the catalog.
const COPIES: usize = 6;

fn catalog() -> Value {
    let node = |path: &str, args: &[&str]| {
        let mut a = vec![root().join(path).to_string_lossy().into_owned()];
        a.extend(args.iter().map(|s| s.to_string()));
        json!({"command": "node", "args": a})
    };
    let py = |exe: &str, args: &[&str]| json!({"command": root().join("tests/bench/servers-venv/bin").join(exe).to_string_lossy(), "args": args});
    let tmp = std::env::temp_dir().to_string_lossy().into_owned();
    let repo = root().to_string_lossy().into_owned();
    let servers = [
        ("everything", node("tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js", &["stdio"])),
        ("memory", node("tests/peers/node_modules/@modelcontextprotocol/server-memory/dist/index.js", &[])),
        ("files", node("tests/bench/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", &[&tmp])),
        ("thinking", node("tests/bench/node_modules/@modelcontextprotocol/server-sequential-thinking/dist/index.js", &[])),
        ("time", py("mcp-server-time", &[])),
        ("fetch", py("mcp-server-fetch", &[])),
        ("git", py("mcp-server-git", &["--repository", &repo])),
    ];
    let mut out = serde_json::Map::new();
    for copy in 1..=COPIES {
        for (name, entry) in &servers {
            out.insert(format!("{name}{copy}"), entry.clone());
        }
    }
    Value::Object(out)
}

/// An rmcp session with the gateway's token, optionally asking for `profile`.
async fn session(gw: &Gateway, profile: Option<&str>) -> crate::client::Session {
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            gw.url(),
        );
    cfg.auth_header = Some(gw.token.clone());
    if let Some(p) = profile {
        cfg.custom_headers.insert(
            http::HeaderName::from_static("loopgate-profile"),
            http::HeaderValue::from_str(p).unwrap(),
        );
    }
    ().serve_with_lifecycle(
        rmcp::transport::StreamableHttpClientTransport::from_config(cfg),
        ClientLifecycleMode::Initialize,
    )
    .await
    .expect("session")
}

/// Section 7 (see the module docs).
pub(crate) async fn search(rep: &mut Report) {
    let sets: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/bench/search-queries.json")).unwrap(),
    )
    .unwrap();
    let mut gw = Gateway::start_with(json!({
        "mcpServers": catalog(),
        "profiles": { "search": { "toolSearch": true } }
    }));
    gw.wait_listening();
    let flat = wait_tools(&gw.url(), &gw.token, 300, Duration::from_secs(180)).await;
    let all: Vec<Tool> = flat.peer().list_all_tools().await.unwrap();
    let search = session(&gw, Some("search")).await;
    let meta: Vec<Tool> = search.peer().list_all_tools().await.unwrap();
    let tokens = |t: &[Tool]| loopgate::gateway::tokens::of_tools(t).unwrap_or(0);
    let (flat_tokens, search_tokens) = (tokens(&all), tokens(&meta));

    let mut times = Vec::new();
    let mut scores = Vec::new();
    for set in ["queries", "heldOut"] {
        let list = sets[set].as_array().cloned().unwrap_or_default();
        let (mut top1, mut top5, mut misses) = (0, 0, Vec::new());
        for q in &list {
            let query = q["query"].as_str().unwrap();
            let want: Vec<&str> = q["tools"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let t0 = Instant::now();
            let r = search
                .peer()
                .call_tool(
                    CallToolRequestParams::new("search_tools").with_arguments(
                        json!({"query": query, "limit": 5})
                            .as_object()
                            .cloned()
                            .unwrap(),
                    ),
                )
                .await
                .expect("search_tools");
            times.push(t0.elapsed());
            let found: Vec<String> = r
                .structured_content
                .as_ref()
                .and_then(|s| s["tools"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|t| t["name"].as_str())
                .map(|n| n.split_once("__").map_or(n, |(_, o)| o).to_string())
                .collect();
            match found.iter().position(|f| want.contains(&f.as_str())) {
                Some(0) => {
                    top1 += 1;
                    top5 += 1;
                }
                Some(_) => top5 += 1,
                None => misses.push(format!("\"{query}\" → {}", found.join(", "))),
            }
        }
        scores.push((set, list.len(), top1, top5, misses));
    }
    let lat = percentiles(times);
    let misses: Vec<String> = scores
        .iter()
        .flat_map(|s| s.4.iter().map(move |m| format!("{} {m}", s.0)))
        .collect();
    rep.section(
        "7. Search mode: one profile with `\"toolSearch\": true` over a catalog of real tools",
        &format!(
            "{} tools from 7 real servers × {COPIES} names. Tokens: the `tools/list` result's \
             tool definitions, `o200k_base` (an estimate for other models). Queries from \
             `tests/bench/search-queries.json`: `queries` (the synonym table was tuned on their \
             misses) and `heldOut` (written after the tuning, never tuned on); `search_tools` \
             with limit 5; a hit is a result whose server-side name the query expects.{}",
            all.len(),
            if misses.is_empty() {
                String::new()
            } else {
                format!(" Missed in the top 5: {}.", misses.join("; "))
            }
        ),
        &[
            "tools listed",
            "definition tokens",
            "query set",
            "top-1",
            "top-5",
            "search p50",
            "target (top-5 ≥ 95%)",
        ],
    );
    rep.row(&[
        format!("flat: {}", all.len()),
        flat_tokens.to_string(),
        "—".into(),
        "—".into(),
        "—".into(),
        "—".into(),
        "".into(),
    ]);
    let rate = |k: usize, n: usize| 100.0 * k as f64 / n.max(1) as f64;
    for (set, n, top1, top5, _) in &scores {
        let ok = rate(*top5, *n) >= 95.0;
        rep.row(&[
            format!("search mode: {}", meta.len()),
            format!(
                "{search_tokens} ({}× fewer)",
                report::fmt_f(flat_tokens as f64 / search_tokens.max(1) as f64, 0)
            ),
            format!("{set} ({n})"),
            format!("{:.0}% ({top1}/{n})", rate(*top1, *n)),
            format!("{:.0}% ({top5}/{n})", rate(*top5, *n)),
            report::fmt_us(lat.p50),
            report::verdict(ok).into(),
        ]);
        rep.target(
            &format!("search mode: right tool in the top 5 ({set})"),
            &format!("{:.0}%", rate(*top5, *n)),
            ok,
        );
    }
    crate::client::close_all(vec![std::sync::Arc::new(flat), std::sync::Arc::new(search)]).await;
    gw.proc.stop(Duration::from_secs(10));
}
