//! The API's one error shape, against a real gateway: every kind of `/api` failure — a body
//! with an unknown key, malformed JSON, a wrong `Content-Type`, an unknown server, route or
//! method, a missing, wrong or client token — answers `Content-Type: application/json` with
//! `{"error": "<what is wrong>"}` (plus `"field"` when one input is at fault) and its status,
//! and changes nothing. The typed body is the one the CLI and the dashboard read.

use loopgate::http::api::types::ApiErrorBody;
use serde_json::{json, Value};

use super::api::Api;
use crate::common::*;

/// One raw request: `method /api/<path>` with `bearer` (if any), `content_type` (if any) and
/// `body`. Returns the status and the error body, checked to be exactly the API's error shape.
async fn refused(
    api: &Api,
    bearer: Option<&str>,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> (u16, ApiErrorBody) {
    let mut req = api
        .http
        .request(method.clone(), format!("{}/api/{path}", api.base))
        .body(body.to_string());
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{method} /api/{path}: {status}"
    );
    let raw: Value = resp.json().await.unwrap();
    let keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        keys == ["error"] || keys == ["error", "field"],
        "{method} /api/{path}: {raw}"
    );
    let body: ApiErrorBody = serde_json::from_value(raw.clone()).unwrap();
    assert!(!body.error.trim().is_empty(), "{method} /api/{path}: {raw}");
    (status, body)
}

const JSON: Option<&str> = Some("application/json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_failure_answers_one_json_shape() {
    let gw = Gw::start(json!({ "memory": memory_stdio() })).await;
    let api = Api::new(&gw);
    let token = Some(gw.token.as_str());
    let config_path = gw.dir.path().join("config.json");
    let before = std::fs::read_to_string(&config_path).unwrap();
    use reqwest::Method as M;

    // A body with a key the endpoint does not know: 400 naming it, at the top and nested.
    let (status, e) = refused(
        &api,
        token,
        M::POST,
        "servers",
        JSON,
        r#"{"nmae": "x", "command": "y"}"#,
    )
    .await;
    assert_eq!((status, e.field.as_deref()), (400, Some("nmae")), "{e:?}");
    assert!(e.error.contains("unknown field `nmae`"), "{e:?}");
    let (status, e) = refused(
        &api,
        token,
        M::PUT,
        "servers/memory",
        JSON,
        r#"{"url": "http://127.0.0.1:1/mcp", "oauth": {"clientSecrt": "s"}}"#,
    )
    .await;
    assert_eq!(
        (status, e.field.as_deref()),
        (400, Some("oauth.clientSecrt")),
        "{e:?}"
    );
    let (status, e) = refused(
        &api,
        token,
        M::POST,
        "servers/import",
        JSON,
        r#"{"servers": {}, "extra": 1}"#,
    )
    .await;
    assert_eq!((status, e.field.as_deref()), (400, Some("extra")), "{e:?}");
    // A value of the wrong type names its path.
    let (status, e) = refused(
        &api,
        token,
        M::POST,
        "servers",
        JSON,
        r#"{"name": "x", "command": "y", "args": ["a", 2]}"#,
    )
    .await;
    assert_eq!(
        (status, e.field.as_deref()),
        (400, Some("args[1]")),
        "{e:?}"
    );

    // Not JSON at all; JSON without saying so.
    let (status, e) = refused(&api, token, M::POST, "servers", JSON, r#"{"name": "#).await;
    assert_eq!((status, e.field.as_deref()), (400, None));
    assert!(e.error.contains("not valid JSON"), "{e:?}");
    for content_type in [Some("text/plain"), None] {
        let (status, e) = refused(
            &api,
            token,
            M::POST,
            "servers",
            content_type,
            r#"{"name": "x", "command": "y"}"#,
        )
        .await;
        assert_eq!(status, 415, "{content_type:?}: {e:?}");
        assert!(e.error.contains("application/json"), "{e:?}");
    }

    // An unknown server: the same 404 from every endpoint that names one.
    let unknown = [
        (M::POST, "servers/nope/disable", None, ""),
        (M::POST, "servers/nope/restart", None, ""),
        (M::GET, "servers/nope/tools", None, ""),
        (M::GET, "servers/nope/logs", None, ""),
        (M::POST, "servers/nope/tools/echo/enable", None, ""),
        (M::POST, "servers/nope/auth/login", None, ""),
        (M::DELETE, "servers/nope", None, ""),
        (M::PUT, "servers/nope", JSON, r#"{"command": "x"}"#),
    ];
    for (method, path, content_type, body) in unknown {
        let (status, e) = refused(&api, token, method.clone(), path, content_type, body).await;
        assert_eq!(status, 404, "{method} {path}: {e:?}");
        assert_eq!(e.error, "no server named \"nope\"", "{method} {path}");
    }

    // An unknown route, a known one with the wrong method.
    for path in ["nope", "servers/memory/nothing", "", "servers/"] {
        let (status, e) = refused(&api, token, M::GET, path, None, "").await;
        assert_eq!(status, 404, "/api/{path}: {e:?}");
    }
    let bare = api
        .http
        .get(format!("{}/api", api.base))
        .bearer_auth(&gw.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 404);
    let e: ApiErrorBody = bare.json().await.unwrap();
    assert!(e.error.contains("not an API endpoint"), "{e:?}");
    for (method, path) in [(M::DELETE, "info"), (M::GET, "quit"), (M::PATCH, "servers")] {
        let (status, e) = refused(&api, token, method.clone(), path, None, "").await;
        assert_eq!(status, 405, "{method} /api/{path}: {e:?}");
        assert!(e.error.contains(method.as_str()), "{e:?}");
    }

    assert_eq!(
        std::fs::read_to_string(&config_path).unwrap(),
        before,
        "no refused request changed the config"
    );

    // The guard: no token, a wrong one, a client's token.
    let client_token =
        loopgate::token::issue_client_token(&config_path, &gw.running().secrets, "cursor")
            .await
            .unwrap();
    assert_eq!(api.post("clients/tokens/reload", None).await.0, 200);
    let before = std::fs::read_to_string(&config_path).unwrap();
    let (status, e) = refused(&api, None, M::GET, "servers", None, "").await;
    assert_eq!(status, 401, "{e:?}");
    let (status, e) = refused(&api, Some("wrong"), M::GET, "servers", None, "").await;
    assert_eq!(status, 401, "{e:?}");
    let (status, e) = refused(
        &api,
        Some(&client_token),
        M::POST,
        "servers",
        JSON,
        r#"{"name": "pwn", "command": "sh"}"#,
    )
    .await;
    assert_eq!(status, 403, "{e:?}");
    assert!(e.error.contains("only the MCP endpoint"), "{e:?}");

    assert_eq!(
        std::fs::read_to_string(&config_path).unwrap(),
        before,
        "no refused request changed the config"
    );
    gw.stop().await;
}
