//! Desktop AI clients through the API (the dashboard's "Connect a client" page):
//!
//! - `GET  /api/clients` → [`ClientList`] `{ clients: [ClientState], snippets: { mcpUrl,
//!   stdioCommand } }`
//! - `POST /api/clients/{id}/install` / `uninstall` → [`ClientChangeAnswer`] `{ ok, change:
//!   { written, backup } }`; the client gets (or loses) its own access token, effective at once
//! - `POST /api/clients/tokens/reload` → [`OkAnswer`]: re-reads the per-client tokens (after
//!   the CLI changed them)
//!
//! Errors ([`ApiError`]): 404 for an unknown client id, 400 when its config file cannot be
//! edited, 500 when the tokens cannot be read.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::types::{ClientChangeAnswer, ClientList, ClientSnippets, OkAnswer};
use super::ApiError;
use crate::clients;
use crate::http::AppState;

/// Re-reads the per-client tokens into the guard.
pub async fn reload_tokens(s: &AppState) -> Result<(), ApiError> {
    let tokens = crate::token::client_tokens(s.store.path(), &s.secrets)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    s.guard
        .client_tokens
        .store(std::sync::Arc::new(tokens.into_iter().collect()));
    Ok(())
}

/// `GET /api/clients`.
pub async fn list(State(s): State<AppState>) -> Json<ClientList> {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "loopgate".into());
    let non_default = crate::config::default_config_path().is_none_or(|d| d != s.store.path());
    let stdio = if non_default {
        format!("{exe} connect --config {}", s.store.path().display())
    } else {
        format!("{exe} connect")
    };
    Json(ClientList {
        clients: clients::states(),
        snippets: ClientSnippets {
            mcp_url: s.mcp_url.clone(),
            stdio_command: stdio,
        },
    })
}

/// `POST /api/clients/{id}/install`.
pub async fn install(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ClientChangeAnswer>, ApiError> {
    let client = clients::find(&id).map_err(|m| ApiError::new(StatusCode::NOT_FOUND, m))?;
    let exe = std::env::current_exe()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let change = clients::install(&client, s.store.path(), &s.secrets, &s.mcp_url, &exe)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    reload_tokens(&s).await?;
    Ok(Json(ClientChangeAnswer {
        ok: true,
        change: (&change).into(),
    }))
}

/// `POST /api/clients/{id}/uninstall`.
pub async fn uninstall(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ClientChangeAnswer>, ApiError> {
    let client = clients::find(&id).map_err(|m| ApiError::new(StatusCode::NOT_FOUND, m))?;
    let change = clients::uninstall(&client, s.store.path(), &s.secrets)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    reload_tokens(&s).await?;
    Ok(Json(ClientChangeAnswer {
        ok: true,
        change: (&change).into(),
    }))
}

/// `POST /api/clients/tokens/reload`.
pub async fn reload(State(s): State<AppState>) -> Result<Json<OkAnswer>, ApiError> {
    reload_tokens(&s).await?;
    Ok(Json(OkAnswer::new()))
}
