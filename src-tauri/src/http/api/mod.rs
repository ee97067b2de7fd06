//! The admin JSON API under `/api`, used by the CLI (gateway token) and the dashboard (session
//! cookie); client tokens are refused here (see [`crate::http::guard`]).
//!
//! Reading:
//! - `GET  /api/info` → `{ version, mcpUrl, configPath, toolCount, authNone, configError,
//!   signInOpensBrowser }` (configError: why the last hand edit of the config file was refused,
//!   or null; signInOpensBrowser: the gateway itself opens OAuth sign-in pages, as the desktop
//!   app does)
//! - `GET  /api/servers` → `[server]`: the status fields of
//!   [`ServerStatus`](crate::upstream::ServerStatus) plus `config` (command/args/env/cwd or
//!   url/headers, and disabledTools; `${secret:…}` references as written, never values)
//! - `GET  /api/servers/{name}/tools` → every tool the server lists, with `enabled`
//! - `GET  /api/servers/{name}/logs` → recent stderr/log lines `{ tsMs, source, line }`
//! - `GET  /api/tools` → `{ count, tools: [{ name, server, originalName, description }] }`
//! - `GET  /api/events` → Server-Sent Events `servers` (the full list) and `tools` (`{count}`)
//!   on every change ([`events`])
//!
//! Changing (all through the one config writer; effective at once):
//! - `POST /api/servers/{name}/enable|disable|restart`
//! - `POST /api/servers/{name}/tools/{tool}/enable|disable` (`tool` = the server's own name)
//! - `POST /api/servers`, `PUT /api/servers/{name}`, `DELETE /api/servers/{name}` ([`servers`])
//! - `POST /api/servers/import` `{ servers: { name: entry } }` → `{ added }`: adds config
//!   entries as they are (`loopgate import` and `client import` go through here while a
//!   gateway runs, so the one writer sees every change)
//! - `POST /api/secrets/{name}/changed` → `{ restarted: [server] }` (after `loopgate secret set/rm`)
//! - `POST /api/quit` → `{ ok }`: stops the gateway cleanly (backend sessions ended, processes
//!   stopped); `loopgate serve` then exits, and so does the desktop app (as its tray's Quit)
//! - `POST /api/dashboard/link` → `{ url }`: a one-time dashboard link (single use, valid for
//!   5 minutes; `loopgate open` asks for one)
//! - `POST /api/config/reload` → `{ changed }` (after `loopgate import` or a hand edit; an
//!   invalid file is refused and the running config stays)
//!
//! OAuth sign-in ([`auth`]):
//! - `POST /api/servers/{name}/auth/login|cancel|logout`, `GET /api/auth`
//!
//! Profiles ([`profiles`]): `GET /api/profiles`, `PUT|DELETE /api/profiles/{name}`,
//! `PUT /api/clients/{id}/profile`.
//!
//! Clients (the "Connect a client" page, [`clients`]):
//! - `GET  /api/clients`, `POST /api/clients/{id}/install|uninstall`, `POST /api/clients/tokens/reload`
//! - `GET  /api/suggestions` → `{ suggestions: [suggestion] }`: well-known servers to add
//!   ([`suggestions`])
//!
//! Errors are `{ "error": "…" }` (plus `"field"` for invalid input): 404 for an unknown
//! server or tool, 400 for refused input; the config is unchanged after an error.

pub mod auth;
pub mod clients;
pub mod events;
pub mod profiles;
pub mod servers;
pub mod suggestions;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::AppState;
use crate::config::ConfigError;
use crate::upstream::ServerView;

/// The `/api` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/info", get(info))
        .route("/servers", get(list_servers).post(servers::add))
        .route("/servers/import", post(servers::import))
        .route(
            "/servers/{name}",
            axum::routing::put(servers::edit).delete(servers::remove),
        )
        .route("/tools", get(tools))
        .route("/events", get(events::stream))
        .route("/servers/{name}/tools", get(servers::tools))
        .route(
            "/servers/{name}/tools/{tool}/enable",
            post(servers::enable_tool),
        )
        .route(
            "/servers/{name}/tools/{tool}/disable",
            post(servers::disable_tool),
        )
        .route("/servers/{name}/logs", get(server_logs))
        .route("/servers/{name}/enable", post(enable))
        .route("/servers/{name}/disable", post(disable))
        .route("/servers/{name}/restart", post(restart))
        .route("/servers/{name}/auth/login", post(auth::login))
        .route("/servers/{name}/auth/cancel", post(auth::cancel))
        .route("/servers/{name}/auth/logout", post(auth::logout))
        .route("/auth", get(auth::status))
        .route("/secrets/{name}/changed", post(secret_changed))
        .route("/config/reload", post(reload))
        .route("/quit", post(quit))
        .route("/dashboard/link", post(dashboard_link))
        .route("/clients", get(clients::list))
        .route("/clients/tokens/reload", post(clients::reload))
        .route("/clients/{id}/install", post(clients::install))
        .route("/clients/{id}/uninstall", post(clients::uninstall))
        .route("/clients/{id}/profile", axum::routing::put(profiles::bind))
        .route("/profiles", get(profiles::list))
        .route(
            "/profiles/{name}",
            axum::routing::put(profiles::put).delete(profiles::remove),
        )
        .route("/suggestions", get(suggestions::list))
}

/// An API error response: `status` with `{"error": message, "field": field}`.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status (400, 404, 409).
    pub status: StatusCode,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The input field at fault, for form errors.
    pub field: Option<String>,
}

impl ApiError {
    /// An error without a field.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
        }
    }
    /// A 400 naming the input field at fault.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            field: Some(field.into()),
        }
    }
    /// A 400 for a server entry's invalid field (the form field is the first key of its path).
    pub fn from_field(e: crate::config::FieldError) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            field: e.field.form_field().map(str::to_string),
            message: e.message,
        }
    }
    /// 404 for an unknown server.
    pub fn not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no server named \"{name}\""))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.message});
        if let Some(f) = self.field {
            body["field"] = f.into();
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::UnknownServer(name) => ApiError::not_found(&name),
            ConfigError::Invalid { ref field, .. } => ApiError {
                status: StatusCode::BAD_REQUEST,
                field: field.form_field().map(str::to_string),
                message: e.to_string(),
            },
            ConfigError::NameTaken(_) => ApiError {
                status: StatusCode::CONFLICT,
                field: Some("name".into()),
                message: e.to_string(),
            },
            e @ ConfigError::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            other => ApiError::new(StatusCode::BAD_REQUEST, other.to_string()),
        }
    }
}

fn ok() -> Json<Value> {
    Json(json!({"ok": true}))
}

/// One server as the API shows it: status plus its config (never secret values; for HTTP
/// servers also `auth` and `oauth: { clientId, hasClientSecret, scopes, clientMetadataUrl }`)
/// and its sign-in state (`signIn`: pending, url, lastError, started).
pub(crate) fn server_json(view: &ServerView, hub: &crate::oauth::Hub) -> Value {
    let mut v = serde_json::to_value(&view.status).unwrap_or_default();
    v["signIn"] = serde_json::to_value(hub.view(&view.status.name)).unwrap_or_default();
    let e = &view.entry;
    let mut config = json!({"disabledTools": e.disabled_tools});
    if let Some(c) = &e.command {
        config["command"] = c.clone().into();
        config["args"] = json!(e.args);
        config["env"] = json!(e.env);
        config["cwd"] = json!(e.cwd);
    }
    if let Some(u) = &e.url {
        config["url"] = u.clone().into();
        config["headers"] = json!(e.headers);
        config["auth"] = json!(e.auth);
        // The client secret itself (or its keychain reference) is never shown.
        config["oauth"] = json!(e.oauth.as_ref().map(|o| json!({
            "clientId": o.client_id,
            "hasClientSecret": o.client_secret.is_some(),
            "scopes": o.scopes,
            "clientMetadataUrl": o.client_metadata_url,
        })));
    }
    v["config"] = config;
    v
}

/// The body of `GET /api/servers` (also sent as the `servers` event).
pub(crate) fn servers_json(s: &AppState) -> Value {
    let supervisor = s.gw.supervisor();
    let snap = supervisor.snapshot();
    let hub = supervisor.oauth();
    Value::Array(snap.values().map(|v| server_json(v, hub)).collect())
}

async fn info(State(s): State<AppState>) -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "mcpUrl": s.mcp_url,
        "configPath": s.store.path().display().to_string(),
        "toolCount": s.gw.registry().tool_count(),
        "authNone": !s.guard.mcp_needs_token,
        "configError": s.store.rejected_edit(),
        "signInOpensBrowser": s.gw.supervisor().oauth().presenter() == crate::oauth::Presenter::Browser,
    }))
}

async fn list_servers(State(s): State<AppState>) -> Json<Value> {
    Json(servers_json(&s))
}

async fn tools(State(s): State<AppState>) -> Json<Value> {
    let reg = s.gw.registry();
    let tools: Vec<_> = reg
        .exposed_tools()
        .iter()
        .map(|t| json!({"name": t.tool.name, "server": t.route.server, "originalName": t.route.original, "description": t.tool.description}))
        .collect();
    Json(json!({"count": tools.len(), "tools": tools}))
}

async fn server_logs(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let snap = s.gw.supervisor().snapshot();
    let view = snap.get(&name).ok_or_else(|| ApiError::not_found(&name))?;
    let lines: Vec<Value> = view
        .logs
        .tail(200)
        .into_iter()
        .map(|l| json!({"tsMs": l.ts_ms, "source": l.source, "line": l.line}))
        .collect();
    Ok(Json(Value::Array(lines)))
}

async fn set_enabled(s: AppState, name: String, enabled: bool) -> Result<Json<Value>, ApiError> {
    s.store.set_server_enabled(&name, enabled).await?;
    Ok(ok())
}

async fn enable(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_enabled(s, name, true).await
}

async fn disable(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_enabled(s, name, false).await
}

async fn restart(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let gateway = s.store.current().gateway.clone();
    s.gw.supervisor()
        .restart(&name, &gateway)
        .await
        .map_err(|()| ApiError::not_found(&name))?;
    Ok(ok())
}

async fn secret_changed(State(s): State<AppState>, Path(name): Path<String>) -> Json<Value> {
    let config = s.store.current();
    let restarted = s.gw.supervisor().restart_using(&name, &config).await;
    Json(json!({"restarted": restarted}))
}

async fn reload(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let changed = s.store.reload().await?;
    Ok(Json(json!({"changed": changed})))
}

async fn quit(State(s): State<AppState>) -> Json<Value> {
    tracing::info!("quit requested through the API");
    s.shutdown.cancel();
    ok()
}

/// `POST /api/dashboard/link`: a one-time dashboard link (see [`crate::http::session`]).
async fn dashboard_link(State(s): State<AppState>) -> Json<Value> {
    let base = s.mcp_url.trim_end_matches("/mcp");
    Json(json!({ "url": format!("{base}/auth?nonce={}", s.guard.sessions.mint_link()) }))
}
