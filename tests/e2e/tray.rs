//! The tray's logic, headless: the menu model (status line, one check item per server,
//! attention on failure) and the handler a server's check item calls, verified through a real
//! MCP client: the server's tools disappear and come back, and the config records it. Also the
//! "Sign in to …" item of an OAuth server (Python SDK authorization server).

use std::time::{Duration, Instant};

use crate::common::*;
use loopgate::tray_menu::{self, Action};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tray_toggle_hides_and_restores_a_servers_tools() {
    let gw = Gw::start(json!({ "memory": memory_stdio(), "broken": { "command": "definitely-not-a-command-xyz" } })).await;
    gw.wait_until("servers did not settle", 30, |gw| {
        gw.status("memory")["state"] == "ready" && gw.status("broken")["state"] == "failed"
    })
    .await;
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
    let names = async || tool_names(client.peer()).await;
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

/// An OAuth server that needs a sign-in gets a "Sign in to …" item and the tray asks for
/// attention; the item's handler re-uses the pending sign-in (no second one), and completing
/// it (the browser's part played here) brings the server's tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tray_offers_sign_in_for_an_oauth_server() {
    let (_auth_server, port) = python_peer("oauth-server.py", &[]);
    let gw =
        Gw::start(json!({ "secure": { "url": format!("http://127.0.0.1:{port}/mcp") } })).await;
    let running = gw.running();
    let supervisor = running.gateway.supervisor();
    gw.wait_until("no pending sign-in", 30, |gw| {
        gw.status("secure")["state"] == "needs-sign-in"
            && supervisor.oauth().view("secure").url.is_some()
    })
    .await;
    let model = tray_menu::model(
        &supervisor.snapshot(),
        running.gateway.registry().tool_count(),
    );
    assert!(
        model.attention,
        "a server that needs sign-in needs attention"
    );
    assert_eq!(model.servers[0].label, "secure — needs sign-in");
    assert_eq!(model.sign_ins.len(), 1, "{:?}", model.sign_ins);
    let (id, label) = &model.sign_ins[0];
    assert_eq!(label, "Sign in to secure…");
    let Some(Action::SignIn(name)) = Action::parse(id) else {
        panic!("not a sign-in item: {id}")
    };
    let url = supervisor.oauth().view("secure").url.unwrap();
    tray_menu::sign_in(supervisor, &running.store, &name)
        .await
        .unwrap();
    let view = supervisor.oauth().view("secure");
    assert_eq!(
        (view.started, view.url.as_deref()),
        (1, Some(url.as_str())),
        "a second sign-in was started"
    );

    // The user's browser: authorize, redirect back to the listener.
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Signed in"), "{page}");
    gw.wait_until("not ready after sign-in", 30, |gw| {
        gw.status("secure")["state"] == "ready"
    })
    .await;
    let model = tray_menu::model(
        &supervisor.snapshot(),
        running.gateway.registry().tool_count(),
    );
    assert!(model.sign_ins.is_empty() && !model.attention, "{model:?}");
    assert_eq!(model.servers[0].label, "secure — 2 tools");
    gw.stop().await;
}
