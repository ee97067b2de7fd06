//! A relayed request as JSON, written in one pass from its typed params.
//!
//! rmcp's `Serialize` for a request (`model/serde_impl.rs`, `WithMeta`) first turns the params
//! into a `serde_json::Value`, to merge the `_meta` its extensions carry into the params' own
//! `_meta`, and then writes that `Value`: 19 of the 129 allocations a relayed call made over
//! stdio (`tests/bench/RESULTS.md`, run T), and 14 of an HTTP call's (run S). For the requests
//! clients relay most — `tools/call`, `resources/read`, `prompts/get` — [`request_json`] moves
//! the extensions' `_meta` into the params first, merged as rmcp merges it (on a key in both,
//! the extensions' value wins), and writes the message straight from the params. The JSON is
//! what rmcp writes (a unit test compares them); only the order of keys inside `params` may
//! differ, which JSON leaves free. Every other request, and one whose extensions also carry a
//! legacy `MetaObject` (a third source rmcp merges), is written by rmcp's `Serialize`.
//!
//! Both transports use it: a stdio server's line (`upstream::stdio::exchange`) and an HTTP
//! server's POST body (`upstream::streamable::post`).

use rmcp::model::{
    ClientRequest, JsonRpcVersion2_0, MetaObject, Request, RequestId, RequestMetaObject,
    RequestParamsMeta,
};
use serde::Serialize;

/// The JSON-RPC request `request` with id `id`, as JSON bytes (no line end).
///
/// For `tools/call`, `resources/read` and `prompts/get` the `_meta` its extensions carry is
/// moved into its params on the way (merged as rmcp merges it), so `request` is left as rmcp
/// would write it: a request re-sent another way carries the same JSON.
///
/// Errors: `serde_json`'s, for params that do not serialize (rmcp's types always do).
pub fn request_json(id: &RequestId, request: &mut ClientRequest) -> serde_json::Result<Vec<u8>> {
    let written = match request {
        ClientRequest::CallToolRequest(r) => direct(id, r),
        ClientRequest::ReadResourceRequest(r) => direct(id, r),
        ClientRequest::GetPromptRequest(r) => direct(id, r),
        _ => None,
    };
    written.unwrap_or_else(|| {
        serde_json::to_vec(&Rmcps {
            jsonrpc: JsonRpcVersion2_0,
            id,
            request,
        })
    })
}

/// The JSON-RPC request as it goes on the wire: the members of rmcp's `JsonRpcRequest`, with
/// the request's method and params (the `_meta` already in them).
#[derive(Serialize)]
struct Wire<'a, M, P> {
    jsonrpc: JsonRpcVersion2_0,
    id: &'a RequestId,
    method: &'a M,
    params: &'a P,
}

/// rmcp's `JsonRpcRequest<ClientRequest>`, borrowing the request: written by rmcp's
/// `Serialize` for the request.
#[derive(Serialize)]
struct Rmcps<'a> {
    jsonrpc: JsonRpcVersion2_0,
    id: &'a RequestId,
    #[serde(flatten)]
    request: &'a ClientRequest,
}

/// Writes `request`, with its extensions' `_meta` moved into its params; `None` (and the
/// request unchanged) when its extensions carry a legacy `_meta`, which rmcp's `Serialize`
/// merges too.
fn direct<M, P>(id: &RequestId, request: &mut Request<M, P>) -> Option<serde_json::Result<Vec<u8>>>
where
    M: Serialize,
    P: Serialize + RequestParamsMeta,
{
    if request.extensions.get::<MetaObject>().is_some() {
        return None;
    }
    if let Some(carried) = request.extensions.remove::<RequestMetaObject>() {
        match request.params.meta_mut() {
            Some(own) => own.extend(carried),
            own @ None => *own = Some(carried),
        }
    }
    let mut buf = Vec::with_capacity(256);
    let wire = Wire {
        jsonrpc: JsonRpcVersion2_0,
        id,
        method: &request.method,
        params: &request.params,
    };
    Some(serde_json::to_writer(&mut buf, &wire).map(|()| buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ClientJsonRpcMessage;
    use rmcp::model::{
        CallToolRequestParams, GetExtensions, GetPromptRequestParams, ProgressToken,
        ReadResourceRequestParams,
    };
    use serde_json::{json, Value};

    fn meta(v: Value) -> RequestMetaObject {
        serde_json::from_value(v).unwrap()
    }

    /// What rmcp writes for the same request (its stdio codec and its HTTP client both use
    /// its `Serialize`).
    fn rmcp_line(id: &RequestId, request: ClientRequest) -> Value {
        let bytes = serde_json::to_vec(&ClientJsonRpcMessage::request(request, id.clone()));
        serde_json::from_slice(&bytes.unwrap()).unwrap()
    }

    /// What [`request_json`] writes; the request it leaves behind is written the same way by
    /// rmcp (a request re-sent after the server did not take it carries the same JSON).
    fn ours(id: &RequestId, mut request: ClientRequest) -> Value {
        let bytes = request_json(id, &mut request).unwrap();
        assert!(!bytes.contains(&b'\n'), "no line end inside");
        let ours: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(ours, rmcp_line(id, request), "the request left behind");
        ours
    }

    /// Every combination of the params' own `_meta` and the extensions' (none, disjoint keys,
    /// a key in both) gives the JSON rmcp writes, for each of the three requests; a legacy
    /// `MetaObject` in the extensions still reaches the wire (written by rmcp's `Serialize`).
    #[test]
    fn the_line_is_the_json_rmcps_codec_writes() {
        let owns = [None, Some(meta(json!({"progressToken": 7, "own": true})))];
        let carried = [
            None,
            Some(meta(json!({"io.loopgate/key": "k"}))),
            Some(meta(json!({"progressToken": "gw-1", "own": false}))),
        ];
        let mut checked = 0;
        for own in &owns {
            for carry in &carried {
                let mut call = CallToolRequestParams::new("echo").with_arguments(
                    json!({"text": "hi\nthere", "n": [1, 2.5, null]})
                        .as_object()
                        .unwrap()
                        .clone(),
                );
                call.meta = own.clone();
                let mut read = ReadResourceRequestParams::new("file:///a b");
                read.meta = own.clone();
                let mut prompt = GetPromptRequestParams::new("p");
                prompt.meta = own.clone();
                let requests = [
                    ClientRequest::CallToolRequest(Request::new(call)),
                    ClientRequest::ReadResourceRequest(Request::new(read)),
                    ClientRequest::GetPromptRequest(Request::new(prompt)),
                ];
                for (n, mut request) in requests.into_iter().enumerate() {
                    if let Some(carry) = carry {
                        request.extensions_mut().insert(carry.clone());
                    }
                    let id = if n % 2 == 0 {
                        RequestId::Number(n as i64)
                    } else {
                        RequestId::String("s-1".into())
                    };
                    assert_eq!(ours(&id, request.clone()), rmcp_line(&id, request));
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 18);

        // The extensions' value wins on a key in both, as in rmcp.
        let mut call = CallToolRequestParams::new("echo");
        call.meta = owns[1].clone();
        let mut request = ClientRequest::CallToolRequest(Request::new(call));
        request.extensions_mut().insert(carried[2].clone().unwrap());
        let line = ours(&RequestId::Number(1), request);
        assert_eq!(line["params"]["_meta"]["progressToken"], "gw-1");
        assert_eq!(line["params"]["_meta"]["own"], false);

        // A legacy `_meta` in the extensions is kept (rmcp's codec writes it).
        let mut request =
            ClientRequest::CallToolRequest(Request::new(CallToolRequestParams::new("echo")));
        request.extensions_mut().insert(MetaObject(
            json!({"legacy": 1}).as_object().unwrap().clone(),
        ));
        request
            .extensions_mut()
            .insert(meta(json!({"progressToken": 3})));
        let id = RequestId::Number(9);
        let line = ours(&id, request.clone());
        assert_eq!(line, rmcp_line(&id, request));
        assert_eq!(line["params"]["_meta"]["legacy"], 1);
        assert_eq!(
            line["params"]["_meta"]["progressToken"],
            serde_json::to_value(ProgressToken(rmcp::model::NumberOrString::Number(3))).unwrap()
        );
    }

    /// A request this module does not write itself is written by rmcp's `Serialize`.
    #[test]
    fn other_requests_go_through_rmcps_codec() {
        let request = ClientRequest::ListToolsRequest(Default::default());
        let id = RequestId::Number(4);
        assert_eq!(ours(&id, request.clone()), rmcp_line(&id, request));
    }
}
