//! Loopback protection for every route (ARCHITECTURE.md rules 7 and 11): `Host` must name this
//! machine (DNS-rebinding defence), a browser `Origin`, when sent, must be the gateway's own,
//! and the caller must present a credential the route accepts:
//!
//! | route | accepted |
//! |---|---|
//! | `/mcp` | the gateway token or a client token (`Authorization: Bearer`); the dashboard's session cookie from the gateway's own pages only (its `Origin`, or `Sec-Fetch-Site: same-origin`); nothing with `"auth": "none"` |
//! | `/api` | the gateway token, or the dashboard's session cookie ([`super::session`]) |
//!
//! Client tokens are written into other programs' config files, so they are only as safe as
//! those files: they reach the MCP endpoint and nothing else. A browser cookie never holds a
//! token. The dashboard's cookie reaches `/mcp` (the playground is an MCP client in the page)
//! only with proof the request comes from the dashboard itself: another site's page cannot
//! forge `Origin` or `Sec-Fetch-Site`, and the cookie is `SameSite=Strict` besides. Failures are answered here and never reach a backend: 403 for Host/Origin and for a
//! client token on `/api`, 401 for a missing or wrong credential (with `WWW-Authenticate:
//! Bearer`), 503 while the gateway's own token cannot be read from a locked keychain. `/mcp`
//! answers in JSON-RPC form, `/api` in the API's one error shape ([`ApiErrorBody`]).
//!
//! The established [`Caller`] is put into the request's extensions for the handlers.

use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::types::ApiErrorBody;
use super::refusals::Refusals;
use super::session::{cookie_name, DashboardSessions};
pub use crate::caller::Caller;
use crate::token;

/// Which guarded route a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/mcp`, the MCP endpoint.
    Mcp,
    /// `/api`, the admin API.
    Api,
}

/// What the guard accepts.
#[derive(Debug)]
pub struct GuardConfig {
    /// The gateway's access token; `None` while it cannot be read (a locked keychain), when
    /// every guarded request gets 503 until [`GuardConfig::set_token`].
    pub token: ArcSwapOption<String>,
    /// Whether `/mcp` needs a token (`false` with `"gateway": {"auth": "none"}`; `/api` always
    /// needs one).
    pub mcp_needs_token: bool,
    /// Port the gateway listens on (for the allowed Origins and the cookie name).
    pub port: u16,
    /// Per-client tokens as `(client id, token)`; replaced when clients are wired or revoked.
    pub client_tokens: Arc<ArcSwap<Vec<(String, String)>>>,
    /// A non-loopback address the gateway was explicitly allowed to bind
    /// (`gateway.unsafeAllowNonLoopback`); `Host` may then name it too.
    pub extra_host: Option<std::net::IpAddr>,
    /// Dashboard links and sessions.
    pub sessions: Arc<DashboardSessions>,
    /// Tokens refused on `/mcp`, counted (the desktop app tells the user about repeats).
    pub refusals: Arc<Refusals>,
}

impl GuardConfig {
    /// A guard for the gateway on `port` with access token `token` (`None`: not readable yet).
    pub fn new(token: Option<String>, port: u16) -> Self {
        Self {
            token: ArcSwapOption::from(token.map(Arc::new)),
            mcp_needs_token: true,
            port,
            client_tokens: Default::default(),
            extra_host: None,
            sessions: Default::default(),
            refusals: Default::default(),
        }
    }

    /// Installs the gateway token once it could be read.
    pub fn set_token(&self, token: String) {
        self.token.store(Some(Arc::new(token)));
    }

    /// The Origins a browser may send: the gateway's own pages.
    pub fn allowed_origins(&self) -> Vec<String> {
        let p = self.port;
        vec![
            format!("http://127.0.0.1:{p}"),
            format!("http://localhost:{p}"),
            format!("http://[::1]:{p}"),
        ]
    }

    /// The id of the client whose token is `given`, if any.
    fn client_of(&self, given: &str) -> Option<String> {
        self.client_tokens
            .load()
            .iter()
            .find(|(_, t)| token::matches(t, given))
            .map(|(id, _)| id.clone())
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

/// A refused request: the status and the reason shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 403 (Host/Origin, client token on `/api`), 401 (credential), 503 (token unreadable).
    pub status: StatusCode,
    /// What was wrong and what to do.
    pub message: &'static str,
}

fn reject(status: StatusCode, message: &'static str) -> Rejection {
    Rejection { status, message }
}

impl Rejection {
    /// The response for `route`: a JSON-RPC error for `/mcp`, the API's error shape for
    /// `/api`; 401s carry `WWW-Authenticate: Bearer`.
    pub fn into_response_for(self, route: Route) -> Response {
        let mut resp = match route {
            Route::Mcp => {
                let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": self.message}});
                (self.status, axum::Json(body)).into_response()
            }
            Route::Api => {
                let body = ApiErrorBody {
                    error: self.message.into(),
                    field: None,
                };
                (self.status, axum::Json(body)).into_response()
            }
        };
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"loopgate\""),
            );
        }
        resp
    }
}

/// The bearer token of `Authorization`, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let v = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?;
    let mut parts = v.splitn(2, ' ');
    if parts
        .next()
        .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    {
        return parts.next().map(|t| t.trim().to_string());
    }
    None
}

/// The value of cookie `name`, if sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            kv.trim()
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix('='))
                .map(str::to_string)
        })
}

/// Checks `Host` and `Origin` only; `Err` is the rejection to send instead.
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

/// Whether a browser says the request comes from the gateway's own page: an `Origin` (which
/// [`check_origin`] has already matched against the gateway's own), or `Sec-Fetch-Site:
/// same-origin` (browsers leave `Origin` off same-origin GETs, e.g. the MCP event stream).
fn from_own_page(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
        || headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin")
}

const MISSING: &str =
    "Unauthorized: send `Authorization: Bearer <token>`; `loopgate token` prints the token";
const WRONG: &str = "Unauthorized: wrong access token; `loopgate token` prints the right one";

/// Checks a request's headers for `route`: [`check_origin`], then the credential (see the
/// module table). Returns who is calling; `Err` is the rejection to send instead.
pub fn check(cfg: &GuardConfig, headers: &HeaderMap, route: Route) -> Result<Caller, Rejection> {
    check_origin(cfg, headers)?;
    let Some(expected) = cfg.token.load_full() else {
        return Err(reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "Loopgate cannot read its access token: the OS keychain is locked or not answering. Unlock it; Loopgate retries by itself",
        ));
    };
    let bearer = bearer_token(headers);
    if let Some(given) = &bearer {
        if token::matches(&expected, given) {
            return Ok(Caller::Gateway);
        }
    }
    match route {
        Route::Mcp => match bearer {
            Some(given) => cfg.client_of(&given).map(Caller::Client).ok_or_else(|| {
                let agent = headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok());
                cfg.refusals.record(&given, agent);
                reject(StatusCode::UNAUTHORIZED, WRONG)
            }),
            None => match cookie(headers, &cookie_name(cfg.port)) {
                Some(id) if cfg.sessions.is_valid(&id) => {
                    if from_own_page(headers) {
                        Ok(Caller::Dashboard)
                    } else {
                        Err(reject(
                            StatusCode::FORBIDDEN,
                            "Forbidden: the dashboard session reaches the MCP endpoint only from the dashboard's own pages",
                        ))
                    }
                }
                _ if !cfg.mcp_needs_token => Ok(Caller::Anonymous),
                _ => Err(reject(StatusCode::UNAUTHORIZED, MISSING)),
            },
        },
        Route::Api => {
            if let Some(given) = &bearer {
                if cfg.client_of(given).is_some() {
                    return Err(reject(
                        StatusCode::FORBIDDEN,
                        "Forbidden: a client's token reaches only the MCP endpoint (/mcp); the admin API needs the gateway token (`loopgate token`) or the dashboard (`loopgate open`)",
                    ));
                }
                return Err(reject(StatusCode::UNAUTHORIZED, WRONG));
            }
            match cookie(headers, &cookie_name(cfg.port)) {
                Some(id) if cfg.sessions.is_valid(&id) => Ok(Caller::Dashboard),
                Some(_) => Err(reject(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized: the dashboard session has ended; run `loopgate open` for a new link",
                )),
                None => Err(reject(StatusCode::UNAUTHORIZED, MISSING)),
            }
        }
    }
}

/// axum middleware applying [`check_origin`] (for the public dashboard files).
pub async fn origin_layer(
    State(cfg): State<Arc<GuardConfig>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    match check_origin(&cfg, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(rejection) => rejection.into_response_for(Route::Api),
    }
}

/// Applies [`check`] for `route` to `request`: the established [`Caller`] goes into its
/// extensions and `serve` answers it; otherwise the rejection is the answer, and nothing has
/// read the request's body.
pub async fn guarded<F>(
    cfg: &GuardConfig,
    route: Route,
    mut request: Request<Body>,
    serve: impl FnOnce(Request<Body>) -> F,
) -> Response
where
    F: std::future::Future<Output = Response>,
{
    match check(cfg, request.headers(), route) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            serve(request).await
        }
        Err(rejection) => rejection.into_response_for(route),
    }
}

/// axum middleware applying [`check`] for `/api`.
pub async fn api_layer(
    State(cfg): State<Arc<GuardConfig>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    guarded(&cfg, Route::Api, request, |request| next.run(request)).await
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

    fn cfg() -> GuardConfig {
        let cfg = GuardConfig::new(Some("secret".into()), 7337);
        cfg.client_tokens
            .store(Arc::new(vec![("cursor".into(), "client-tok".into())]));
        cfg
    }

    #[test]
    fn host_and_origin_rules() {
        let cfg = cfg();
        let status =
            |h: &[(&'static str, &str)]| check(&cfg, &headers(h), Route::Mcp).unwrap_err().status;
        for host in ["evil.example:7337", "127.0.0.1.evil.example"] {
            assert_eq!(
                status(&[("host", host), ("authorization", "Bearer secret")]),
                StatusCode::FORBIDDEN
            );
        }
        assert_eq!(
            status(&[
                ("host", "127.0.0.1:7337"),
                ("origin", "http://evil.example"),
                ("authorization", "Bearer secret")
            ]),
            StatusCode::FORBIDDEN
        );
        for (host, origin) in [
            ("[::1]:7337", "http://[::1]:7337"),
            ("localhost", "http://localhost:7337"),
        ] {
            assert_eq!(
                check(
                    &cfg,
                    &headers(&[
                        ("host", host),
                        ("origin", origin),
                        ("authorization", "bearer secret")
                    ]),
                    Route::Mcp
                ),
                Ok(Caller::Gateway)
            );
        }
    }

    #[test]
    fn client_tokens_reach_mcp_only() {
        let cfg = cfg();
        let with = |auth: &str, route| {
            check(
                &cfg,
                &headers(&[("host", "127.0.0.1:7337"), ("authorization", auth)]),
                route,
            )
        };
        assert_eq!(
            with("Bearer client-tok", Route::Mcp),
            Ok(Caller::Client("cursor".into()))
        );
        assert_eq!(
            with("Bearer client-tok", Route::Api).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(with("Bearer secret", Route::Api), Ok(Caller::Gateway));
        assert_eq!(
            with("Bearer nope", Route::Mcp).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            cfg.refusals.list()[0].count,
            1,
            "a wrong token on /mcp is counted"
        );
        assert_eq!(
            with("Bearer nope", Route::Api).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn the_dashboard_session_reaches_api_and_mcp_from_its_own_pages_only() {
        let cfg = cfg();
        let nonce = cfg.sessions.mint_link();
        let id = cfg.sessions.redeem(&nonce).unwrap();
        let cookie = format!("a=b; {}={id}", cookie_name(7337));
        let h = headers(&[("host", "127.0.0.1:7337"), ("cookie", &cookie)]);
        assert_eq!(check(&cfg, &h, Route::Api), Ok(Caller::Dashboard));
        // Without proof it comes from the dashboard's page: refused on /mcp.
        assert_eq!(
            check(&cfg, &h, Route::Mcp).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        let own = headers(&[
            ("host", "127.0.0.1:7337"),
            ("cookie", &cookie),
            ("origin", "http://127.0.0.1:7337"),
        ]);
        assert_eq!(check(&cfg, &own, Route::Mcp), Ok(Caller::Dashboard));
        let same_site_get = headers(&[
            ("host", "127.0.0.1:7337"),
            ("cookie", &cookie),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(
            check(&cfg, &same_site_get, Route::Mcp),
            Ok(Caller::Dashboard)
        );
        for (k, v) in [
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let foreign = headers(&[("host", "127.0.0.1:7337"), ("cookie", &cookie), (k, v)]);
            assert_eq!(
                check(&cfg, &foreign, Route::Mcp).unwrap_err().status,
                StatusCode::FORBIDDEN,
                "{k}: {v}"
            );
        }
        // The gateway token as a cookie is no credential.
        let h = headers(&[
            ("host", "127.0.0.1:7337"),
            ("cookie", "loopgate_session_7337=secret"),
        ]);
        assert_eq!(
            check(&cfg, &h, Route::Api).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        // Another gateway's session cookie name is ignored.
        let other = format!("{}={id}", cookie_name(7338));
        let h = headers(&[("host", "127.0.0.1:7337"), ("cookie", &other)]);
        assert!(check(&cfg, &h, Route::Api).is_err());
    }

    #[test]
    fn auth_none_opens_mcp_but_not_api_and_a_missing_token_is_503() {
        let mut open = cfg();
        open.mcp_needs_token = false;
        let h = headers(&[("host", "127.0.0.1:7337")]);
        assert_eq!(check(&open, &h, Route::Mcp), Ok(Caller::Anonymous));
        assert_eq!(
            check(&open, &h, Route::Api).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        let locked = GuardConfig::new(None, 7337);
        let h = headers(&[("host", "127.0.0.1:7337"), ("authorization", "Bearer x")]);
        assert_eq!(
            check(&locked, &h, Route::Mcp).unwrap_err().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        locked.set_token("x".into());
        assert_eq!(check(&locked, &h, Route::Mcp), Ok(Caller::Gateway));
    }
}
