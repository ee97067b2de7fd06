//! The admin JSON API under `/api` (same guard as `/mcp`). Used by the CLI (`loopgate
//! servers`, `loopgate tools`) and the dashboard.
//!
//! - `GET  /api/servers` → `[ServerStatus]`
//! - `GET  /api/tools` → `{ "count": n, "tools": [{ "name", "server", "originalName", "description" }] }`
//! - `GET  /api/servers/{name}/tools` → the server's tools as clients see them (full objects)
//! - `GET  /api/servers/{name}/logs` → recent stderr/log lines
//! - `POST /api/servers/{name}/enable` / `disable` → writes the config; takes effect at once
//! - `POST /api/servers/{name}/restart`
//! - `POST /api/secrets/{name}/changed` → `{ "restarted": [server] }`: reconnects the servers
//!   that reference the secret (after `loopgate secret set/rm`)
//! - `POST /api/config/reload` → `{ "changed": bool }`: re-reads the config file (after
//!   `loopgate import` or a hand edit); an invalid file is refused with 400 and the running
//!   config stays
//!
//! Errors are `{ "error": "…" }` with 404 for an unknown server and 400 for a refused change.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use crate::config::ConfigError;

/// The `/api` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/servers", get(servers))
        .route("/tools", get(tools))
        .route("/servers/{name}/tools", get(server_tools))
        .route("/servers/{name}/logs", get(server_logs))
        .route("/servers/{name}/enable", post(enable))
        .route("/servers/{name}/disable", post(disable))
        .route("/servers/{name}/restart", post(restart))
        .route("/secrets/{name}/changed", post(secret_changed))
        .route("/config/reload", post(reload))
}

fn not_found(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("no server named \"{name}\"")})),
    )
        .into_response()
}

async fn servers(State(s): State<AppState>) -> Json<serde_json::Value> {
    let snap = s.gw.supervisor().snapshot();
    Json(json!(snap.values().map(|v| &v.status).collect::<Vec<_>>()))
}

async fn tools(State(s): State<AppState>) -> Json<serde_json::Value> {
    let reg = s.gw.registry();
    let tools: Vec<_> = reg
        .exposed_tools()
        .iter()
        .map(|t| json!({"name": t.tool.name, "server": t.route.server, "originalName": t.route.original, "description": t.tool.description}))
        .collect();
    Json(json!({"count": tools.len(), "tools": tools}))
}

async fn server_tools(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    if !s.gw.supervisor().snapshot().contains_key(&name) {
        return not_found(&name);
    }
    let reg = s.gw.registry();
    let tools: Vec<_> = reg
        .exposed_tools()
        .iter()
        .filter(|t| t.route.server == name)
        .map(|t| json!({"tool": t.tool, "originalName": t.route.original}))
        .collect();
    Json(json!(tools)).into_response()
}

async fn server_logs(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    match s.gw.supervisor().snapshot().get(&name) {
        Some(v) => Json(json!(v.logs.tail(200))).into_response(),
        None => not_found(&name),
    }
}

async fn set_enabled(s: AppState, name: String, enabled: bool) -> Response {
    match s.store.set_server_enabled(&name, enabled).await {
        Ok(_) => Json(json!({"ok": true})).into_response(),
        Err(ConfigError::UnknownServer(_)) => not_found(&name),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn enable(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    set_enabled(s, name, true).await
}

async fn disable(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    set_enabled(s, name, false).await
}

async fn restart(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    let gateway = s.store.current().gateway.clone();
    match s.gw.supervisor().restart(&name, &gateway).await {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(()) => not_found(&name),
    }
}

async fn secret_changed(State(s): State<AppState>, Path(name): Path<String>) -> Response {
    let config = s.store.current();
    let restarted = s.gw.supervisor().restart_using(&name, &config).await;
    Json(json!({"restarted": restarted})).into_response()
}

async fn reload(State(s): State<AppState>) -> Response {
    match s.store.reload().await {
        Ok(changed) => Json(json!({"changed": changed})).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}
