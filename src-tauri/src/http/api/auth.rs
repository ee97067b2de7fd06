//! OAuth sign-in through the API (the dashboard's and tray's "Sign in", `loopgate auth`).
//!
//! - `POST /api/servers/{name}/auth/login` → `{ url }`: starts a sign-in (or returns the
//!   pending one's URL; there is never more than one per server) and answers once its
//!   authorization URL is known. The gateway also shows the URL the way it was started with
//!   (browser for the desktop app, the log for `loopgate serve`).
//! - `POST /api/servers/{name}/auth/cancel` → `{ cancelled }`
//! - `POST /api/servers/{name}/auth/logout` → `{ removed, revocation: { outcome, detail? } }`:
//!   deletes the server's tokens from the keychain, revokes them at the authorization server
//!   (RFC 7009; `outcome` is `revoked`, `nothing-to-revoke`, `unsupported` or `failed` with
//!   the reason in `detail`) and reconnects the server (it then needs a sign-in).
//! - `GET  /api/auth` → `[{ name, url, signedIn, state, signIn: { pending, url, lastError,
//!   started }, expiresAtMs, scopes }]` for every HTTP server that may use OAuth (token values
//!   are never shown).
//!
//! Errors: 404 for an unknown server, 400 when the server does not use OAuth, 502 when the
//! sign-in failed before its URL was known (discovery or registration).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::ApiError;
use crate::http::AppState;
use crate::oauth::{self, Trigger};

/// How long `login` waits for discovery and registration before answering.
const URL_WAIT: Duration = Duration::from_secs(30);

fn known(s: &AppState, name: &str) -> Result<(), ApiError> {
    if s.store.current().mcp_servers.contains_key(name) {
        Ok(())
    } else {
        Err(ApiError::not_found(name))
    }
}

/// `POST /api/servers/{name}/auth/login`.
pub async fn login(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    known(&s, &name)?;
    let config = s.store.current();
    let (url, settings) = oauth::sign_in_target(&config, &s.secrets, &name)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let hub = s.gw.supervisor().oauth().clone();
    hub.begin(&name, &url, &settings, None, Trigger::User);
    match tokio::time::timeout(URL_WAIT, hub.url_when_ready(&name)).await {
        // Checked again before it reaches the dashboard, which opens it.
        Ok(Ok(url)) => match oauth::endpoint::check(&url, "the sign-in URL") {
            Ok(_) => Ok(Json(json!({ "url": url }))),
            Err(e) => Err(ApiError::new(StatusCode::BAD_GATEWAY, e)),
        },
        Ok(Err(e)) => Err(ApiError::new(StatusCode::BAD_GATEWAY, e)),
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "the authorization server of \"{name}\" did not answer within {} s",
                URL_WAIT.as_secs()
            ),
        )),
    }
}

/// `POST /api/servers/{name}/auth/cancel`.
pub async fn cancel(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    known(&s, &name)?;
    let cancelled = s.gw.supervisor().oauth().cancel(&name);
    Ok(Json(json!({ "cancelled": cancelled })))
}

/// `POST /api/servers/{name}/auth/logout`.
pub async fn logout(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    known(&s, &name)?;
    let out =
        s.gw.supervisor()
            .oauth()
            .sign_out(&name)
            .await
            .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let config = s.store.current();
    if config.mcp_servers.get(&name).is_some_and(|e| !e.disabled) {
        let _ = s.gw.supervisor().restart(&name, &config.gateway).await;
    }
    Ok(Json(json!(out)))
}

/// `GET /api/auth`.
pub async fn status(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let snapshot = s.gw.supervisor().snapshot();
    let hub = s.gw.supervisor().oauth();
    let rows = oauth::store::statuses(&s.store.current(), &s.secrets)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let out = rows
        .into_iter()
        .map(|row| {
            let mut v = serde_json::to_value(&row).unwrap_or_default();
            v["state"] = json!(snapshot.get(&row.name).map(|v| v.status.state.as_str()));
            v["signIn"] = json!(hub.view(&row.name));
            v
        })
        .collect();
    Ok(Json(Value::Array(out)))
}
