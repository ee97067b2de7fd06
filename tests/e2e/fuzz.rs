//! Malformed input at `/mcp` and `/api`, generated with proptest: random bytes (invalid UTF-8
//! included), malformed JSON, JSON-RPC messages of the wrong shape, unknown methods, wrong
//! content types and protocol-version headers, and bodies past the size limit. The gateway must
//! never panic or answer 5xx, must enforce the body limit (413), must keep serving valid
//! requests afterwards, and its memory must stay bounded.

use std::time::Duration;

use crate::common::mock::{MockBackend, Mode};
use crate::common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use serde_json::{json, Value};

/// One request: target path, method, content type, protocol-version header, body.
#[derive(Debug, Clone)]
struct Req {
    path: &'static str,
    method: &'static str,
    content_type: Option<&'static str>,
    version: Option<String>,
    body: Vec<u8>,
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn rpc_shaped() -> impl Strategy<Value = Value> {
    let method = prop_oneof![
        Just("tools/call".to_string()),
        Just("tools/list".to_string()),
        Just("initialize".to_string()),
        Just("resources/read".to_string()),
        Just("prompts/get".to_string()),
        Just("server/discover".to_string()),
        Just("notifications/cancelled".to_string()),
        "[a-z/]{0,20}",
    ];
    (
        prop_oneof![Just(json!("2.0")), json_value()],
        prop::option::of(json_value()),
        method,
        json_value(),
    )
        .prop_map(|(v, id, m, params)| {
            let mut o = json!({"jsonrpc": v, "method": m, "params": params});
            if let Some(id) = id {
                o["id"] = id;
            }
            o
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        rpc_shaped().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(rpc_shaped(), 0..4).prop_map(|v| serde_json::to_vec(&v).unwrap()),
        rpc_shaped().prop_map(|v| {
            let mut b = serde_json::to_vec(&v).unwrap();
            let cut = b.len() / 2;
            b.truncate(cut);
            b
        }),
    ]
}

fn request() -> impl Strategy<Value = Req> {
    (
        prop_oneof![
            6 => Just("/mcp"),
            1 => Just("/api/servers"),
            1 => Just("/api/servers/strict"),
            1 => Just("/api/servers/strict/tools/echo/disable"),
            1 => Just("/api/config/reload")
        ],
        prop_oneof![6 => Just("POST"), 1 => Just("PUT"), 1 => Just("GET"), 1 => Just("DELETE")],
        prop_oneof![
            Just(Some("application/json")),
            Just(Some("text/plain")),
            Just(Some("application/x-www-form-urlencoded")),
            Just(None)
        ],
        prop_oneof![
            Just(None),
            Just(Some("2025-11-25".to_string())),
            Just(Some("2026-07-28".to_string())),
            "[0-9a-z-]{0,12}".prop_map(Some)
        ],
        body(),
    )
        .prop_map(|(path, method, content_type, version, body)| Req {
            path,
            method,
            content_type,
            version,
            body,
        })
}

/// Uploads 8 MiB of JSON-ish bytes to `path` and returns the status the server answers with.
async fn oversized_upload(addr: &str, path: &str, token: &str, chunked: bool) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {}", 8 * 1024 * 1024)
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\n{framing}\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(head.as_bytes()).await;
        let block = vec![b' '; 64 * 1024];
        for _ in 0..128 {
            let ok = if chunked {
                wr.write_all(format!("{:x}\r\n", block.len()).as_bytes())
                    .await
                    .is_ok()
                    && wr.write_all(&block).await.is_ok()
                    && wr.write_all(b"\r\n").await.is_ok()
            } else {
                wr.write_all(&block).await.is_ok()
            };
            if !ok {
                return;
            }
        }
        if chunked {
            let _ = wr.write_all(b"0\r\n\r\n").await;
        }
    });
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(20), rd.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    writer.abort();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_never_panics_or_leaks() {
    let mock = MockBackend::start(Mode::Strict).await;
    let gw = Gw::start(json!({ "strict": { "url": mock.url } })).await;
    gw.wait_ready(20).await;
    let base = gw.url.trim_end_matches("/mcp").to_string();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let config_before = std::fs::read_to_string(gw.dir.path().join("config.json")).unwrap();

    // Generate the cases synchronously, send them asynchronously.
    let mut runner = TestRunner::new(PropConfig {
        cases: 600,
        ..PropConfig::default()
    });
    let strategy = request();
    let mut cases = Vec::new();
    for _ in 0..600 {
        cases.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    let rss_start = rss_mb();
    let mut statuses = std::collections::BTreeMap::new();
    for case in &cases {
        let mut req = http
            .request(case.method.parse().unwrap(), format!("{base}{}", case.path))
            .bearer_auth(&gw.token);
        req = req.header("accept", "application/json, text/event-stream");
        if let Some(ct) = case.content_type {
            req = req.header("content-type", ct);
        }
        if let Some(v) = &case.version {
            req = req.header("mcp-protocol-version", v.as_str());
        }
        let resp = req
            .body(case.body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("no answer to {case:?}: {e}"));
        let status = resp.status().as_u16();
        let _ = resp.bytes().await;
        assert!(status < 500, "{status} for {case:?}");
        *statuses.entry(status).or_insert(0) += 1;
    }
    // Bodies past the limit are refused with 413, on both endpoints, with a declared length or
    // chunked. (Raw TCP: the server may answer before the upload ends and close, which a normal
    // HTTP client reports as a broken pipe instead of reading the answer.)
    let addr = base.trim_start_matches("http://").to_string();
    for path in ["/mcp", "/api/servers"] {
        for chunked in [false, true] {
            let status = oversized_upload(&addr, path, &gw.token, chunked).await;
            assert_eq!(status, 413, "{path} chunked={chunked}");
        }
    }
    // Still serving, config untouched by garbage, memory bounded.
    let ok = http
        .post(&gw.url)
        .bearer_auth(&gw.token)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let servers = http
        .get(format!("{base}/api/servers"))
        .bearer_auth(&gw.token)
        .send()
        .await
        .unwrap();
    assert_eq!(servers.status(), 200);
    let config_after: Value =
        serde_json::from_str(&std::fs::read_to_string(gw.dir.path().join("config.json")).unwrap())
            .unwrap();
    let before: Value = serde_json::from_str(&config_before).unwrap();
    // Only well-formed API calls may change the config; garbage never corrupts it.
    assert!(
        config_after.get("mcpServers").is_some(),
        "{config_after} vs {before}"
    );
    let grown = rss_mb().saturating_sub(rss_start);
    assert!(grown < 100, "memory grew by {grown} MiB");
    eprintln!("status histogram: {statuses:?}");
    gw.stop().await;
}
