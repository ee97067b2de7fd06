//! Claude Code as a backend: the dashboard's suggestion (detected on `PATH`) added as it is
//! offered; `claude mcp serve` behind Loopgate lists the same tools as directly (no API key,
//! no account) and a call of its `Read` tool reads a file.

use std::process::Stdio;

use super::{bin, client_env, clients_dir, scratch_env};
use crate::common::cli::{lg, wait_servers, Serve};
use crate::common::*;
use rmcp::service::ClientServiceExt;
use serde_json::{json, Value};

/// Claude Code as a backend: the dashboard's suggestion (detected on `PATH`) added as it is
/// offered, `claude mcp serve` behind Loopgate lists the same tools as directly (no API key,
/// no account) and a call of its `Read` tool reads a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_suggested_and_served_behind_loopgate() {
    let dir = tempfile::tempdir().unwrap();
    let claude_home = dir.path().join("claude-home");
    std::fs::create_dir_all(&claude_home).unwrap();
    let config = dir.path().join("loopgate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let port = free_port();
    std::fs::write(
        &config,
        json!({"gateway": {"port": port}, "mcpServers": {}}).to_string(),
    )
    .unwrap();
    let mut env = scratch_env(dir.path(), free_port());
    // `claude` on PATH, as after `npm install -g @anthropic-ai/claude-code`.
    let bin_dir = clients_dir().join("node_modules/.bin");
    for (k, v) in env.iter_mut() {
        if k == "PATH" {
            *v = format!("{}:{v}", bin_dir.display());
        }
    }
    let serve = Serve::start(&env, &config, dir.path().join("serve.log"));
    wait_servers(&env, &config, "gateway up", |_| true);
    let token = String::from_utf8(lg(&env, &config, &["token"], None).stdout)
        .unwrap()
        .trim()
        .to_string();
    let api = format!("http://127.0.0.1:{port}/api");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let got: Value = http
        .get(format!("{api}/suggestions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s = got["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "claude-code")
        .cloned()
        .unwrap();
    assert_eq!(
        got["suggestions"][0]["name"], "claude-code",
        "a detected suggestion comes first: {got:#}"
    );
    assert!(
        s["detected"].as_str().unwrap().ends_with("/claude"),
        "{s:#}"
    );
    assert_eq!(s["entry"]["args"], json!(["mcp", "serve"]));
    // Added as offered, with its own HOME and no telemetry (the form's env rows).
    let mut form = s["entry"].clone();
    form["name"] = "claude-code".into();
    form["env"] = json!({"HOME": claude_home, "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"});
    let r = http
        .post(format!("{api}/servers"))
        .bearer_auth(&token)
        .json(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let servers = wait_servers(&env, &config, "claude-code ready", |v| {
        v.as_array().is_some_and(|a| {
            a.iter()
                .any(|s| s["name"] == "claude-code" && s["state"] == "ready")
        })
    });
    let through: usize = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "claude-code")
        .unwrap()["toolCount"]
        .as_u64()
        .unwrap_or(0) as usize;
    // Directly, for comparison.
    let mut cmd = tokio::process::Command::new(bin("claude"));
    cmd.args(["mcp", "serve"])
        .env("HOME", &claude_home)
        .envs(client_env("claude-code", &claude_home))
        .stderr(Stdio::null());
    let direct = ()
        .serve_with_lifecycle(
            rmcp::transport::TokioChildProcess::new(cmd).unwrap(),
            rmcp::service::ClientLifecycleMode::Initialize,
        )
        .await
        .unwrap();
    let direct_tools = tool_names(direct.peer()).await;
    direct.cancel().await.unwrap();
    assert!(
        direct_tools.len() >= 20,
        "claude mcp serve lists {direct_tools:?}"
    );
    let gw_url = format!("http://127.0.0.1:{port}/mcp");
    let client = mcp_client(&gw_url, &token).await;
    let names = tool_names(client.peer()).await;
    let mine: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("claude-code__"))
        .collect();
    assert_eq!(
        mine.len(),
        direct_tools.len(),
        "through Loopgate {mine:?}, directly {direct_tools:?}"
    );
    assert_eq!(through, direct_tools.len());
    eprintln!("claude mcp serve behind Loopgate: {} tools", mine.len());
    let file = dir.path().join("note.txt");
    std::fs::write(&file, "read through Loopgate\n").unwrap();
    let args = json!({"file_path": file}).as_object().cloned();
    let read = client
        .peer()
        .call_tool(
            rmcp::model::CallToolRequestParams::new("claude-code__Read")
                .with_arguments(args.unwrap()),
        )
        .await
        .unwrap();
    assert!(
        serde_json::to_string(&read)
            .unwrap()
            .contains("read through Loopgate"),
        "{read:?}"
    );
    client.cancel().await.unwrap();
    drop(serve);
}
