//! The admin JSON API under `/api`, used by the CLI (gateway token) and the dashboard (session
//! cookie); client tokens are refused here (see [`crate::http::guard`]). Every answer body is a
//! typed struct of [`types`], which the CLI reads back and the dashboard gets as generated
//! TypeScript (`ui/src/api-types.gen.ts`).
//!
//! Reading:
//! - `GET  /api/info` → [`Info`] `{ version, mcpUrl, configPath, toolCount, authNone,
//!   configError, signInOpensBrowser }` (configError: why the last hand edit of the config file
//!   was refused, or null; signInOpensBrowser: the gateway itself opens OAuth sign-in pages, as
//!   the desktop app does)
//! - `GET  /api/servers` → a list of [`ServerInfo`]: the status fields of
//!   [`ServerStatus`](crate::upstream::ServerStatus) plus `signIn` and `config`
//!   (command/args/env/cwd or url/headers/auth/oauth, and disabledTools; `${secret:…}`
//!   references as written, never values)
//! - `GET  /api/servers/{name}/tools` → a list of [`ServerTool`](types::ServerTool):
//!   every tool the server lists, with `enabled`
//! - `GET  /api/servers/{name}/logs` → a list of [`LogLine`]: recent stderr/log lines
//!   `{ tsMs, source, line }`
//! - `GET  /api/tools` → [`ToolList`] `{ count, tools: [{ name, server, originalName,
//!   description }] }`
//! - `GET  /api/events` → Server-Sent Events `servers` (the full list) and `tools` (`{count}`)
//!   on every change ([`events`])
//!
//! Changing (all through the one config writer; effective at once):
//! - `POST /api/servers/{name}/enable|disable|restart` → [`OkAnswer`] `{ ok: true }`
//! - `POST /api/servers/{name}/tools/{tool}/enable|disable` (`tool` = the server's own name)
//!   → `{ ok: true }`
//! - `POST /api/servers` → 201 `{ ok, name }`, `PUT /api/servers/{name}` and
//!   `DELETE /api/servers/{name}` → `{ ok: true }` ([`servers`])
//! - `POST /api/servers/import` `{ servers: { name: entry } }` → `{ added }`: adds config
//!   entries as they are (`loopgate import` and `client import` go through here while a
//!   gateway runs, so the one writer sees every change)
//! - `POST /api/secrets/{name}/changed` → [`RestartedAnswer`] `{ restarted: [server] }` (after
//!   `loopgate secret set/rm`)
//! - `POST /api/quit` → `{ ok: true }`: stops the gateway cleanly (backend sessions ended,
//!   processes stopped); `loopgate serve` then exits, and so does the desktop app (as its
//!   tray's Quit)
//! - `POST /api/dashboard/link` → [`UrlAnswer`] `{ url }`: a one-time dashboard link (single
//!   use, valid for 5 minutes; `loopgate open` asks for one)
//! - `POST /api/config/reload` → [`ReloadedAnswer`] `{ changed }` (after `loopgate import` or
//!   a hand edit; an invalid file is refused and the running config stays)
//!
//! OAuth sign-in ([`auth`]):
//! - `POST /api/servers/{name}/auth/login|cancel|logout`, `GET /api/auth`
//!
//! Profiles ([`profiles`]): `GET /api/profiles`, `PUT|DELETE /api/profiles/{name}`,
//! `PUT /api/clients/{id}/profile`.
//!
//! Activity (the log of every call through `/mcp`, [`activity`]):
//! - `GET  /api/activity`, `GET /api/activity/stats`, `GET /api/activity/{id}`
//! - `GET  /api/servers/{name}/catalog` → its resources, templates and prompts ([`catalog`])
//!
//! Clients (the "Connect a client" page, [`clients`]):
//! - `GET  /api/clients`, `POST /api/clients/{id}/install|uninstall`,
//!   `POST /api/clients/tokens/reload`
//! - `GET  /api/suggestions` → [`types::SuggestionList`]: well-known servers to add
//!   ([`suggestions`])
//!
//! Errors: every failure answers the one shape [`ApiErrorBody`] `{ "error": "…" }` (plus
//! `"field"` when one input is at fault), whoever refuses: a handler ([`ApiError`]), a body
//! extractor ([`ApiJson`](extract::ApiJson): 400 for a body that is not JSON or does not fit,
//! an unknown key included, 415 without `Content-Type: application/json`), the server-name
//! extractor ([`ServerName`]: 404 `no server named "…"`), the router (404 for an unknown
//! route, 405 for a wrong method) or the guard (401, 403, 503). The config is unchanged after
//! an error.

pub mod activity;
pub mod auth;
pub mod catalog;
pub mod clients;
pub mod events;
pub mod extract;
pub mod profiles;
pub mod servers;
pub mod suggestions;
pub mod types;

use axum::extract::{OriginalUri, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use self::extract::ServerName;
use self::types::{
    ApiErrorBody, ConnectionView, HttpView, Info, LogLine, OAuthView, OkAnswer, ReloadedAnswer,
    RestartedAnswer, ServerConfigView, ServerInfo, StdioView, ToolList, UrlAnswer,
};
use super::AppState;
use crate::config::{ConfigError, ServerEntry};
use crate::upstream::ServerView;

/// The `/api` routes. An unknown route (404) or method (405) answers the API's error shape too.
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
        .route("/servers/{name}/catalog", get(catalog::catalog))
        .route("/activity", get(activity::list))
        .route("/activity/stats", get(activity::stats))
        .route("/activity/{id}", get(activity::detail))
        .route("/suggestions", get(suggestions::list))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_route)
}

/// An API error response: `status` with [`ApiErrorBody`] `{"error": message, "field": field}`
/// (`field` left out when `None`).
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status (400, 404, 409, …).
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
    /// The one 404 for an unknown server (see [`ServerName`]).
    pub fn not_found(name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no server named \"{name}\""))
    }
    /// The body this error answers with.
    pub fn body(&self) -> ApiErrorBody {
        ApiErrorBody {
            error: self.message.clone(),
            field: self.field.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
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

/// 404 for a path under `/api` that names no endpoint.
pub async fn unknown_route(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("{} is not an API endpoint", uri.path()),
    )
}

/// 405 for an endpoint asked with a method it does not take.
async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method} requests", uri.path()),
    )
}

fn ok() -> Json<OkAnswer> {
    Json(OkAnswer::new())
}

/// One server as the API shows it: status plus its config (never secret values; for HTTP
/// servers also `auth` and `oauth`) and its sign-in state.
pub(crate) fn server_info(view: &ServerView, hub: &crate::oauth::Hub) -> ServerInfo {
    ServerInfo {
        status: view.status.clone(),
        sign_in: hub.view(&view.status.name),
        config: config_view(&view.entry),
    }
}

/// The config part of [`ServerInfo`].
fn config_view(e: &ServerEntry) -> ServerConfigView {
    let connection = match (&e.command, &e.url) {
        (Some(command), _) => ConnectionView::Stdio(StdioView {
            command: command.clone(),
            args: e.args.clone(),
            env: e.env.clone(),
            cwd: e.cwd.as_ref().map(|c| c.display().to_string()),
        }),
        (None, Some(url)) => ConnectionView::Http(HttpView {
            url: url.clone(),
            headers: e.headers.clone(),
            auth: e.auth,
            // The client secret itself (or its keychain reference) is never shown.
            oauth: e.oauth.as_ref().map(|o| OAuthView {
                client_id: o.client_id.clone(),
                has_client_secret: o.client_secret.is_some(),
                scopes: o.scopes.clone(),
                client_metadata_url: o.client_metadata_url.clone(),
            }),
        }),
        (None, None) => ConnectionView::Neither {},
    };
    ServerConfigView {
        disabled_tools: e.disabled_tools.clone(),
        connection,
    }
}

/// The body of `GET /api/servers` (also sent as the `servers` event).
pub(crate) fn server_list(s: &AppState) -> Vec<ServerInfo> {
    let supervisor = s.gw.supervisor();
    let snap = supervisor.snapshot();
    let hub = supervisor.oauth();
    snap.values().map(|v| server_info(v, hub)).collect()
}

async fn info(State(s): State<AppState>) -> Json<Info> {
    Json(Info {
        version: env!("CARGO_PKG_VERSION").to_string(),
        mcp_url: s.mcp_url.clone(),
        config_path: s.store.path().display().to_string(),
        tool_count: s.gw.registry().tool_count(),
        auth_none: !s.guard.mcp_needs_token,
        config_error: s.store.rejected_edit(),
        sign_in_opens_browser: s.gw.supervisor().oauth().presenter()
            == crate::oauth::Presenter::Browser,
    })
}

async fn list_servers(State(s): State<AppState>) -> Json<Vec<ServerInfo>> {
    Json(server_list(&s))
}

async fn tools(State(s): State<AppState>) -> Json<ToolList> {
    let reg = s.gw.registry();
    let tools: Vec<_> = reg
        .exposed_tools()
        .iter()
        .map(|t| types::ExposedTool {
            name: t.tool.name.to_string(),
            server: t.route.server.clone(),
            original_name: t.route.original.clone(),
            description: t.tool.description.as_ref().map(|d| d.to_string()),
        })
        .collect();
    Json(ToolList {
        count: tools.len(),
        tools,
    })
}

/// `GET /api/servers/{name}/logs`: the last 200 lines (none yet for a server that was just
/// added and has not started).
async fn server_logs(State(s): State<AppState>, server: ServerName) -> Json<Vec<LogLine>> {
    let snap = s.gw.supervisor().snapshot();
    let lines = snap.get(&server.name).map_or_else(Vec::new, |view| {
        view.logs.tail(200).into_iter().map(LogLine::from).collect()
    });
    Json(lines)
}

async fn set_enabled(
    s: AppState,
    server: ServerName,
    enabled: bool,
) -> Result<Json<OkAnswer>, ApiError> {
    s.store.set_server_enabled(&server.name, enabled).await?;
    Ok(ok())
}

async fn enable(State(s): State<AppState>, server: ServerName) -> Result<Json<OkAnswer>, ApiError> {
    set_enabled(s, server, true).await
}

async fn disable(
    State(s): State<AppState>,
    server: ServerName,
) -> Result<Json<OkAnswer>, ApiError> {
    set_enabled(s, server, false).await
}

async fn restart(
    State(s): State<AppState>,
    server: ServerName,
) -> Result<Json<OkAnswer>, ApiError> {
    let gateway = s.store.current().gateway.clone();
    s.gw.supervisor()
        .restart(&server.name, &gateway)
        .await
        .map_err(|()| ApiError::not_found(&server.name))?;
    Ok(ok())
}

async fn secret_changed(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Json<RestartedAnswer> {
    let config = s.store.current();
    let restarted = s.gw.supervisor().restart_using(&name, &config).await;
    Json(RestartedAnswer { restarted })
}

async fn reload(State(s): State<AppState>) -> Result<Json<ReloadedAnswer>, ApiError> {
    let changed = s.store.reload().await?;
    Ok(Json(ReloadedAnswer { changed }))
}

async fn quit(State(s): State<AppState>) -> Json<OkAnswer> {
    tracing::info!("quit requested through the API");
    s.shutdown.cancel();
    ok()
}

/// `POST /api/dashboard/link`: a one-time dashboard link (see [`crate::http::session`]).
async fn dashboard_link(State(s): State<AppState>) -> Json<UrlAnswer> {
    let base = s.mcp_url.trim_end_matches("/mcp");
    Json(UrlAnswer {
        url: format!("{base}/auth?nonce={}", s.guard.sessions.mint_link()),
    })
}
