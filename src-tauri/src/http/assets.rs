//! The embedded web dashboard at `/` (built from `ui/` by the build script, served from memory
//! by memory-serve with ETags and compression), and `/auth?token=…`: the tokenised link that
//! signs a browser in by setting an HttpOnly, SameSite=Strict cookie and redirecting to `/`,
//! so the token never stays in a URL.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::guard::COOKIE_NAME;
use super::AppState;
use crate::token;

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
    token: Option<String>,
}

/// `GET /auth?token=T`: with the right token, sets the session cookie and redirects to `/`
/// (303); otherwise 401 with a page saying how to get a fresh link.
pub async fn auth(State(s): State<AppState>, Query(q): Query<AuthQuery>) -> Response {
    let valid = match (&s.guard.token, &q.token) {
        (Some(expected), Some(given)) => token::matches(expected, given),
        (None, _) => true,
        _ => false,
    };
    if !valid {
        let page = "<!doctype html><meta charset=utf-8><title>Loopgate</title>\
            <body style=\"font:16px system-ui;max-width:40em;margin:4em auto\"><h1>This dashboard link is not valid</h1>\
            <p>Open the link printed by <code>loopgate serve</code>, or run <code>loopgate open</code>.</p>";
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    let cookie = format!(
        "{COOKIE_NAME}={}; HttpOnly; SameSite=Strict; Path=/",
        q.token.unwrap_or_default()
    );
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
