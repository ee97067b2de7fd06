//! OAuth sign-in through the API (the dashboard's and tray's "Sign in", `loopgate auth`).
//!
//! - `POST /api/servers/{name}/auth/login` → [`UrlAnswer`] `{ url }`: starts a sign-in (or
//!   returns the pending one's URL; there is never more than one per server) and answers once
//!   its authorization URL is known. The gateway also shows the URL the way it was started
//!   with (browser for the desktop app, the log for `loopgate serve`).
//! - `POST /api/servers/{name}/auth/cancel` → [`CancelledAnswer`] `{ cancelled }`
//! - `POST /api/servers/{name}/auth/logout` → [`SignedOut`] `{ removed, revocation: {
//!   outcome, detail? } }`: deletes the server's tokens from the keychain, revokes them at the
//!   authorization server (RFC 7009; `outcome` is `revoked`, `nothing-to-revoke`,
//!   `unsupported` or `failed` with the reason in `detail`) and reconnects the server (it then
//!   needs a sign-in).
//! - `GET  /api/auth` → [`AuthStatus`] `[{ name, url, signedIn, refreshable, expiresAtMs,
//!   scopes, state, signIn: { pending, url, lastError, started } }]` for every HTTP server
//!   that may use OAuth (token values are never shown).
//!
//! Errors ([`ApiError`]): 404 for an unknown server, 400 when the server does not use OAuth,
//! 502 when the sign-in failed before its URL was known (discovery or registration), 504 when
//! that took longer than 30 s, 503 when the keychain cannot be read.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::extract::ServerName;
use super::types::{AuthStatus, CancelledAnswer, SignedOut, UrlAnswer};
use super::ApiError;
use crate::http::AppState;
use crate::oauth::{self, Trigger};

/// How long `login` waits for discovery and registration before answering.
const URL_WAIT: Duration = Duration::from_secs(30);

/// `POST /api/servers/{name}/auth/login`.
pub async fn login(
    State(s): State<AppState>,
    ServerName { name, .. }: ServerName,
) -> Result<Json<UrlAnswer>, ApiError> {
    let config = s.store.current();
    let (url, settings) = oauth::sign_in_target(&config, &s.secrets, &name)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let hub = s.gw.supervisor().oauth().clone();
    hub.begin(&name, &url, &settings, None, Trigger::User);
    match tokio::time::timeout(URL_WAIT, hub.url_when_ready(&name)).await {
        // Checked again before it reaches the dashboard, which opens it.
        Ok(Ok(url)) => match oauth::endpoint::check(&url, "the sign-in URL") {
            Ok(_) => Ok(Json(UrlAnswer { url })),
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
    ServerName { name, .. }: ServerName,
) -> Json<CancelledAnswer> {
    let cancelled = s.gw.supervisor().oauth().cancel(&name);
    Json(CancelledAnswer { cancelled })
}

/// `POST /api/servers/{name}/auth/logout`.
pub async fn logout(
    State(s): State<AppState>,
    ServerName { name, .. }: ServerName,
) -> Result<Json<SignedOut>, ApiError> {
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
    Ok(Json(out))
}

/// `GET /api/auth`.
pub async fn status(State(s): State<AppState>) -> Result<Json<Vec<AuthStatus>>, ApiError> {
    let snapshot = s.gw.supervisor().snapshot();
    let hub = s.gw.supervisor().oauth();
    let rows = oauth::store::statuses(&s.store.current(), &s.secrets)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let out = rows
        .into_iter()
        .map(|stored| AuthStatus {
            state: snapshot.get(&stored.name).map(|v| v.status.state),
            sign_in: hub.view(&stored.name),
            stored,
        })
        .collect();
    Ok(Json(out))
}
