//! Config faults: a bad hand edit while running is refused (with line and column) and the last
//! good config stays active, a good edit applies at once, and killing a writer with SIGKILL in
//! the middle of saves never leaves a truncated or invalid file. A change through the API
//! answers only once the gateway has applied it, even when a server is slow to stop.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use loopgate::config::{store, Config};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_edits_are_refused_and_good_edits_apply() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    gw.wait_ready(30).await;
    let path = gw.dir.path().join("config.json");
    let good = std::fs::read_to_string(&path).unwrap();

    // Invalid JSON: refused, with the position; the server keeps running.
    std::fs::write(
        &path,
        "{\n  \"mcpServers\": {\n    \"memory\": {\"command\": \"node\",,}\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let rejected = loop {
        if let Some(e) = gw.running().store.rejected_edit() {
            break e;
        }
        assert!(Instant::now() < deadline, "the bad edit was never noticed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(rejected.contains("line 3"), "{rejected}");
    // An invalid entry (valid JSON): refused too, naming the field.
    std::fs::write(
        &path,
        r#"{"mcpServers": {"memory": {"url": "ftp://nope"}}}"#,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gw
        .running()
        .store
        .rejected_edit()
        .is_some_and(|e| e.contains("mcpServers.memory.url"))
    {
        assert!(
            Instant::now() < deadline,
            "invalid entry not refused: {:?}",
            gw.running().store.rejected_edit()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        gw.status("memory")["state"],
        "ready",
        "last good config still active"
    );
    assert!(gw.running().store.current().mcp_servers["memory"]
        .command
        .is_some());

    // A good edit (disable the server) applies at once.
    let mut edited: serde_json::Value = serde_json::from_str(&good).unwrap();
    edited["mcpServers"]["memory"]["disabled"] = true.into();
    std::fs::write(&path, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    gw.wait_until("good edit not applied", 10, |gw| {
        gw.status("memory")["state"] == "disabled"
    })
    .await;
    assert_eq!(gw.running().store.rejected_edit(), None);
    assert_eq!(gw.running().gateway.registry().tool_count(), 0);
    gw.stop().await;
}

/// A server that lingers seconds after its stdin closes (a wrapper shell that ignores SIGTERM
/// around the real memory server) makes stopping it slow; edits and removals through the API
/// must still answer only once applied: the list read right after shows the edit, and no
/// longer shows the removed server. (Answering at once showed the old entry for seconds.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_writes_answer_once_applied_even_when_a_stop_is_slow() {
    let mem = memory_stdio();
    let mut wrapped = vec![
        json!("-c"),
        json!("trap '' TERM; \"$0\" \"$@\"; sleep 30"),
        mem["command"].clone(),
    ];
    wrapped.extend(mem["args"].as_array().unwrap().iter().cloned());
    let slow = json!({"command": "sh", "args": wrapped});
    let gw = Gw::start(json!({ "slow": slow })).await;
    gw.wait_ready(30).await;
    let api = crate::api::Api::new(&gw);
    let listed = async || api.get("servers").await.as_array().unwrap().clone();

    let started = Instant::now();
    let mut edit = slow.clone();
    edit["env"] = json!({"PLAIN": "2"});
    let (status, body) = api
        .send(reqwest::Method::PUT, "servers/slow", Some(edit))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the edit answered before the old process had stopped: {:?}",
        started.elapsed()
    );
    let servers = listed().await;
    assert_eq!(
        servers[0]["config"]["env"],
        json!({"PLAIN": "2"}),
        "{servers:?}"
    );

    let (status, body) = api
        .send(
            reqwest::Method::POST,
            "servers",
            Some(json!({"name": "other", "command": mem["command"], "args": mem["args"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let names: Vec<Value> = listed().await.iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, [json!("slow"), json!("other")]);

    gw.wait_ready(30).await;
    let (status, body) = api
        .send(reqwest::Method::DELETE, "servers/slow", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<Value> = listed().await.iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, [json!("other")]);
    gw.stop().await;
}

/// The writer: saves big configs in a loop until killed (run in a child process by the test
/// below; ignored when run normally).
#[test]
#[ignore]
fn config_writer_child() {
    let Some(path) = std::env::var_os("LOOPGATE_WRITER_PATH") else {
        return;
    };
    let path = PathBuf::from(path);
    for i in 0u64.. {
        let mut servers = serde_json::Map::new();
        for n in 0..200 {
            servers.insert(
                format!("server{n}"),
                json!({"command": "x", "args": vec![format!("{i}-{n}"); 20]}),
            );
        }
        let config: Config = serde_json::from_value(json!({ "mcpServers": servers })).unwrap();
        store::save_atomic(&path, &config).unwrap();
    }
}

#[test]
fn sigkill_during_saves_never_leaves_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    store::save_atomic(&path, &Config::default()).unwrap();
    for round in 0..20 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "config_writer_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("LOOPGATE_WRITER_PATH", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 200));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        child.wait().unwrap();
        let loaded = store::load(&path);
        assert!(loaded.is_ok(), "round {round}: {:?}", loaded.err());
    }
    // Leftover temp files from killed writers never replace the config.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"config.json".to_string()));
}
