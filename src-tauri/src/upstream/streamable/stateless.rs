//! What a 2026-07-28 request carries on an HTTP server's stateless channel besides its call,
//! built as rmcp builds it ([`super::exchange`] sends it past rmcp's client service): the
//! `_meta` rmcp's peer adds to every request of that channel, and the SEP-2243 headers rmcp's
//! transport adds to every request of that revision.

use std::collections::HashSet;

use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientRequest, RequestMetaObject};
use rmcp::transport::common::http_header::{BASE64_HEADER_PREFIX, BASE64_HEADER_SUFFIX};

/// The SEP-2243 headers of a call on the stateless channel, as rmcp's transport sends them:
/// `Mcp-Method`, and `Mcp-Name` (the tool or prompt name, or the resource URI). `None` for
/// what the exchange leaves to rmcp (see [`super::exchange`]): another method, a name that would
/// need Base64, or a call of one of the `annotated` tools.
pub(super) fn standard_headers(
    request: &ClientRequest,
    annotated: &HashSet<String>,
) -> Option<Vec<(HeaderName, HeaderValue)>> {
    let (method, name) = match request {
        ClientRequest::CallToolRequest(r) if !annotated.contains(r.params.name.as_ref()) => {
            ("tools/call", r.params.name.as_ref())
        }
        ClientRequest::GetPromptRequest(r) => ("prompts/get", r.params.name.as_str()),
        ClientRequest::ReadResourceRequest(r) => ("resources/read", r.params.uri.as_str()),
        _ => return None,
    };
    if !plain_header_value(name) {
        return None;
    }
    Some(vec![
        (
            HeaderName::from_static("mcp-method"),
            HeaderValue::from_static(method),
        ),
        (
            HeaderName::from_static("mcp-name"),
            HeaderValue::from_str(name).ok()?,
        ),
    ])
}

/// Puts into `meta` what rmcp's peer puts into every request of a stateless channel — the
/// revision `version`, and the `client`'s info and capabilities (Loopgate's handler's) — and
/// then the caller's `extra` over them (the order of rmcp's `send_request_with_option`).
pub(super) fn stateless_meta(
    meta: &mut RequestMetaObject,
    version: Option<rmcp::model::ProtocolVersion>,
    client: rmcp::model::ClientConfig,
    extra: Option<RequestMetaObject>,
) {
    if let Some(version) = version {
        meta.set_protocol_version(version);
    }
    meta.set_client_info(client.client_info);
    meta.set_client_capabilities(client.capabilities);
    if let Some(extra) = extra {
        meta.extend(extra);
    }
}

/// The JSON Schema keyword that promotes a tool argument to an `Mcp-Param-*` header
/// (SEP-2243).
pub(super) const PARAM_ANNOTATION: &str = "\"x-mcp-header\"";

/// Whether `value` goes into a SEP-2243 header as it is: rmcp's transport wraps a value in
/// Base64 when it starts or ends with a space or tab, has a character outside printable
/// ASCII, or looks like the Base64 wrapping itself.
fn plain_header_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let padded =
        matches!(bytes.first(), Some(b' ' | b'\t')) || matches!(bytes.last(), Some(b' ' | b'\t'));
    let printable = bytes.iter().all(|b| (0x20..=0x7e).contains(b));
    let wrapped = value.starts_with(BASE64_HEADER_PREFIX) && value.ends_with(BASE64_HEADER_SUFFIX);
    !padded && printable && !wrapped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The headers of a 2026-07-28 call are rmcp's; what rmcp would encode is left to it.
    #[test]
    fn a_stateless_calls_headers_are_rmcps_and_the_rest_is_left_to_rmcp() {
        let call = |name: &str| {
            let params = rmcp::model::CallToolRequestParams::new(name.to_string());
            ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(params))
        };
        let headers = |r: &ClientRequest, annotated: &[&str]| {
            let annotated = annotated.iter().map(|s| s.to_string()).collect();
            standard_headers(r, &annotated).map(|h| {
                h.iter()
                    .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap()))
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            headers(&call("echo"), &["deploy"]).unwrap(),
            ["mcp-method: tools/call", "mcp-name: echo"]
        );
        let read = ClientRequest::ReadResourceRequest(rmcp::model::ReadResourceRequest::new(
            rmcp::model::ReadResourceRequestParams::new("file:///a b"),
        ));
        assert_eq!(
            headers(&read, &[]).unwrap(),
            ["mcp-method: resources/read", "mcp-name: file:///a b"]
        );
        assert_eq!(headers(&call("deploy"), &["deploy"]), None, "Mcp-Param-*");
        assert_eq!(headers(&call("café"), &[]), None, "Base64");
        assert_eq!(headers(&call(" echo"), &[]), None, "Base64");
        assert_eq!(headers(&call("=?base64?ZWNobw==?="), &[]), None, "Base64");
        let list = ClientRequest::ListToolsRequest(rmcp::model::ListToolsRequest::default());
        assert_eq!(headers(&list, &[]), None, "not a relayed call");
    }

    /// The `_meta` of a 2026-07-28 request: rmcp's three keys, then the caller's over them.
    #[test]
    fn a_stateless_calls_meta_is_rmcps_then_the_callers() {
        let client = rmcp::model::ClientConfig::new(
            rmcp::model::ClientCapabilities::default(),
            rmcp::model::Implementation::new("loopgate", "1"),
        );
        let mut caller = RequestMetaObject::default();
        let caps: rmcp::model::ClientCapabilities =
            serde_json::from_value(serde_json::json!({"sampling": {}})).unwrap();
        caller.set_client_capabilities(caps);
        let mut meta = RequestMetaObject::default();
        let version = rmcp::model::ProtocolVersion::V_2026_07_28;
        stateless_meta(&mut meta, Some(version), client, Some(caller));
        let meta = serde_json::to_value(&meta).unwrap();
        assert_eq!(
            meta["io.modelcontextprotocol/protocolVersion"],
            "2026-07-28"
        );
        assert_eq!(
            meta["io.modelcontextprotocol/clientInfo"]["name"],
            "loopgate"
        );
        assert_eq!(
            meta["io.modelcontextprotocol/clientCapabilities"],
            serde_json::json!({"sampling": {}})
        );
    }
}
