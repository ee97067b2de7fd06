//! Loopback protection for every route (DESIGN.md rule 7): `Host` must name this machine
//! (DNS-rebinding defence), a browser `Origin`, when sent, must be the gateway's own, and the
//! access token must be presented as `Authorization: Bearer <token>` (or the dashboard's
//! cookie). Failures are answered here and never reach a backend: 403 for Host/Origin, 401 for
//! the token (with `WWW-Authenticate: Bearer`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::token;

/// Name of the cookie the dashboard authenticates with.
pub const COOKIE_NAME: &str = "loopgate_token";

/// What the guard accepts.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// The access token; `None` turns token checking off (Host/Origin checks stay on).
    pub token: Option<Arc<str>>,
    /// Port the gateway listens on (for the allowed Origins).
    pub port: u16,
    /// Per-client tokens (accepted like the main token); replaced when clients are wired or
    /// revoked.
    pub client_tokens: std::sync::Arc<arc_swap::ArcSwap<Vec<String>>>,
    /// A non-loopback address the gateway was explicitly allowed to bind
    /// (`gateway.unsafeAllowNonLoopback`); `Host` may then name it too.
    pub extra_host: Option<std::net::IpAddr>,
}

impl GuardConfig {
    /// The Origins a browser may send: the gateway's own pages.
    pub fn allowed_origins(&self) -> Vec<String> {
        let p = self.port;
        vec![
            format!("http://127.0.0.1:{p}"),
            format!("http://localhost:{p}"),
            format!("http://[::1]:{p}"),
        ]
    }
}

/// The host part of a `Host` header value (without port or IPv6 brackets).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    }
}

/// True when `host` (a `Host` header value, with or without port) names the loopback interface.
pub fn is_loopback_host(host: &str) -> bool {
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A refused request: the status (403 or 401) and the reason shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 403 for Host/Origin, 401 for the token.
    pub status: StatusCode,
    /// What was wrong and what to do.
    pub message: &'static str,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
}

fn reject(status: StatusCode, message: &'static str) -> Rejection {
    Rejection { status, message }
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": message}});
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"loopgate\""),
        );
    }
    resp
}

/// The presented token: bearer header first, then the dashboard cookie.
pub fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut parts = v.splitn(2, ' ');
        if parts
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        {
            return parts.next().map(|t| t.trim().to_string());
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            kv.trim()
                .strip_prefix(COOKIE_NAME)
                .and_then(|r| r.strip_prefix('='))
                .map(str::to_string)
        })
}

/// Checks `Host` and `Origin` only; `Err` is the response to send instead.
pub fn check_origin(cfg: &GuardConfig, headers: &HeaderMap) -> Result<(), Rejection> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let extra = cfg
        .extra_host
        .is_some_and(|ip| host_name(host).parse::<std::net::IpAddr>().ok() == Some(ip));
    if !is_loopback_host(host) && !extra {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "Forbidden: the Host header must be 127.0.0.1, localhost or [::1]",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| cfg.allowed_origins().iter().any(|a| a == o));
        if !ok {
            return Err(reject(
                StatusCode::FORBIDDEN,
                "Forbidden: requests from other web origins are not allowed",
            ));
        }
    }
    Ok(())
}

/// Checks a request's headers: [`check_origin`], then the token; `Err` is the response to send
/// instead.
pub fn check(cfg: &GuardConfig, headers: &HeaderMap) -> Result<(), Rejection> {
    check_origin(cfg, headers)?;
    if let Some(expected) = &cfg.token {
        match presented_token(headers) {
            Some(given) if token::matches(expected, &given) || cfg.client_tokens.load().iter().any(|t| token::matches(t, &given)) => {}
            Some(_) => return Err(reject(StatusCode::UNAUTHORIZED, "Unauthorized: wrong access token; `loopgate token` prints the right one")),
            None => {
                return Err(reject(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: send `Authorization: Bearer <token>`; `loopgate token` prints the token",
                ))
            }
        }
    }
    Ok(())
}

/// axum middleware applying [`check_origin`] (for the public dashboard files).
pub async fn origin_layer(
    State(cfg): State<Arc<GuardConfig>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    match check_origin(&cfg, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// axum middleware applying [`check`].
pub async fn layer(
    State(cfg): State<Arc<GuardConfig>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    match check(&cfg, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(rejection) => rejection.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn host_origin_and_token_rules() {
        let cfg = GuardConfig {
            token: Some("secret".into()),
            port: 7337,
            client_tokens: Default::default(),
            extra_host: None,
        };
        let ok = [
            ("host", "127.0.0.1:7337"),
            ("authorization", "Bearer secret"),
        ];
        assert!(check(&cfg, &headers(&ok)).is_ok());
        assert!(check(
            &cfg,
            &headers(&[("host", "[::1]:7337"), ("authorization", "bearer secret")])
        )
        .is_ok());
        assert!(check(
            &cfg,
            &headers(&[
                ("host", "localhost"),
                ("cookie", "a=b; loopgate_token=secret")
            ])
        )
        .is_ok());
        let status = |h: &[(&'static str, &str)]| check(&cfg, &headers(h)).unwrap_err().status;
        assert_eq!(
            status(&[
                ("host", "evil.example:7337"),
                ("authorization", "Bearer secret")
            ]),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(&[
                ("host", "127.0.0.1.evil.example"),
                ("authorization", "Bearer secret")
            ]),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(&[
                ("host", "127.0.0.1:7337"),
                ("origin", "http://evil.example"),
                ("authorization", "Bearer secret")
            ]),
            StatusCode::FORBIDDEN
        );
        assert!(check(
            &cfg,
            &headers(&[
                ("host", "127.0.0.1:7337"),
                ("origin", "http://localhost:7337"),
                ("authorization", "Bearer secret")
            ])
        )
        .is_ok());
        assert_eq!(
            status(&[("host", "127.0.0.1:7337")]),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(&[("host", "127.0.0.1:7337"), ("authorization", "Bearer nope")]),
            StatusCode::UNAUTHORIZED
        );
        let open = GuardConfig {
            token: None,
            port: 1,
            client_tokens: Default::default(),
            extra_host: None,
        };
        assert!(check(&open, &headers(&[("host", "127.0.0.1:1")])).is_ok());
    }
}
