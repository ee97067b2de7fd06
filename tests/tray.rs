//! The tray's logic, headless: the menu model (status line, one check item per server,
//! attention on failure) and the handler a server's check item calls, verified through a real
//! MCP client: the server's tools disappear and come back, and the config records it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use loopgate::tray_menu::{self, Action};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tray_toggle_hides_and_restores_a_servers_tools() {
    let gw = Gw::start(json!({ "memory": memory_stdio(), "broken": { "command": "definitely-not-a-command-xyz" } })).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while gw.status("memory")["state"] != "ready" || gw.status("broken")["state"] != "failed" {
        assert!(Instant::now() < deadline, "servers did not settle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let running = gw.running();
    let model = tray_menu::model(
        &running.gateway.supervisor().snapshot(),
        running.gateway.registry().tool_count(),
    );
    assert!(model.attention, "a failing server needs attention");
    assert!(
        model.status.starts_with("1 server failing"),
        "{}",
        model.status
    );
    assert_eq!(model.servers.len(), 2);
    assert!(
        model.servers[0].checked && model.servers[0].label.starts_with("memory — 9 tools"),
        "{:?}",
        model.servers[0]
    );

    let client = mcp_client(&gw.url, &gw.token).await;
    let names = async || {
        client
            .peer()
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect::<Vec<_>>()
    };
    assert!(names().await.contains(&"memory__read_graph".to_string()));

    // Exactly what clicking the check item does.
    let Some(Action::ToggleServer(name)) = Action::parse(&model.servers[0].id) else {
        panic!("not a server item")
    };
    assert!(
        !tray_menu::toggle_server(&running.store, &name)
            .await
            .unwrap(),
        "now disabled"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while names().await.iter().any(|t| t.starts_with("memory__")) {
        assert!(
            Instant::now() < deadline,
            "tools still listed after disabling from the tray"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(gw.dir.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["mcpServers"]["memory"]["disabled"], true);
    let model = tray_menu::model(
        &running.gateway.supervisor().snapshot(),
        running.gateway.registry().tool_count(),
    );
    assert!(!model.servers[0].checked);

    assert!(
        tray_menu::toggle_server(&running.store, &name)
            .await
            .unwrap(),
        "enabled again"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !names().await.contains(&"memory__read_graph".to_string()) {
        assert!(Instant::now() < deadline, "tools did not come back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(tray_menu::toggle_server(&running.store, "gone")
        .await
        .is_err());
    client.cancel().await.unwrap();
    gw.stop().await;
}
