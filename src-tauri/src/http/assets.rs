//! The embedded web dashboard at `/` (built from `ui/` by the build script, served from memory
//! by memory-serve with ETags and compression), and `/auth?nonce=…`: the one-time link that
//! signs a browser in ([`super::session`]) by setting a session cookie (HttpOnly,
//! SameSite=Strict) and redirecting to `/`, so no credential stays in a URL or a cookie outlives
//! the gateway.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{session, AppState};

/// The routes: `/auth` and the dashboard files.
pub fn routes() -> Router<AppState> {
    let ui = memory_serve::load!()
        .index_file(Some("/index.html"))
        .into_router();
    Router::new().route("/auth", get(auth)).merge(ui)
}

/// Query of `/auth`.
#[derive(Deserialize)]
pub struct AuthQuery {
    nonce: Option<String>,
}

/// `GET /auth?nonce=N`: with a link nonce this gateway minted (unused, not expired), starts a
/// dashboard session, sets its cookie and redirects to `/` (303); otherwise 401 with a page
/// saying how to get a fresh link.
pub async fn auth(State(s): State<AppState>, Query(q): Query<AuthQuery>) -> Response {
    let session = q.nonce.as_deref().and_then(|n| s.guard.sessions.redeem(n));
    let Some(id) = session else {
        let page = "<!doctype html><meta charset=utf-8><title>Loopgate</title>\
            <body style=\"font:16px system-ui;max-width:40em;margin:4em auto\"><h1>This dashboard link is not valid</h1>\
            <p>A dashboard link works once, for 5 minutes. Run <code>loopgate open</code> for a new one \
            (or use <em>Open dashboard</em> in the tray).</p>";
        let mut resp = (StatusCode::UNAUTHORIZED, Html(page)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return resp;
    };
    let cookie = format!(
        "{}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session::cookie_name(s.guard.port),
        session::SESSION_TTL.as_secs()
    );
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
