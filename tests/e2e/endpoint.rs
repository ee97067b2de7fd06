//! The `/mcp` endpoint as mounted, against a real gateway: one service that runs the guard's
//! check, the endpoint and the security headers in order (`http::mcp`), at `/mcp` and below.

use crate::common::*;
use serde_json::{json, Value};

/// `/mcp` is one service (the guard's check, the endpoint, the security headers): a refused
/// request and an answered one both carry the headers that keep other pages from framing or
/// sniffing them, the guard refuses before the body is read, and the endpoint answers below
/// `/mcp` too, as the nested service it used to be mounted as.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_endpoint_is_guarded_and_answers_with_the_security_headers() {
    let gw = Gw::start(json!({})).await;
    let http = reqwest::Client::new();
    let post = |url: &str, token: &str, body: String| {
        mcp_request(&http, reqwest::Method::POST, url, token, None)
            .body(body)
            .send()
    };
    let protected = |r: &reqwest::Response, what: &str| {
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{what}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{what}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    };
    let r = post(&gw.url, "not-the-token", "not JSON".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    protected(&r, "refused");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32001);
    let r = post(&gw.url, &gw.token, "not JSON".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    protected(&r, "not JSON");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], -32700);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}});
    for url in [
        gw.url.clone(),
        format!("{}/", gw.url),
        format!("{}/x", gw.url),
    ] {
        let r = post(&url, &gw.token, init.to_string()).await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        protected(&r, &url);
        assert!(r.headers().contains_key("mcp-session-id"), "{url}");
    }
}
