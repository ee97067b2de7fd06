//! A server's requests for input during a call, in the shapes of both eras: the server→client
//! requests of an initialize-based session (sampling, elicitation, roots) and the
//! `InputRequest`s a 2026-07-28 client gets in an `InputRequiredResult`, answered in the
//! retried request's `inputResponses` (with its `requestState`). Whether a client can be asked
//! at all is its declared capabilities' call ([`check_capability`]).

// Sampling and roots are deprecated by SEP-2577 in rmcp, but clients and servers still use
// them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use rmcp::model::{
    ClientCapabilities, ClientRequest, ErrorCode, ErrorData, InputRequest, InputResponses,
    ServerRequest,
};

/// The `inputResponses` and `requestState` of a request that can carry them.
pub fn input_of(request: &ClientRequest) -> (Option<&InputResponses>, Option<&str>) {
    match request {
        ClientRequest::CallToolRequest(r) => (
            r.params.input_responses.as_ref(),
            r.params.request_state.as_deref(),
        ),
        ClientRequest::GetPromptRequest(r) => (
            r.params.input_responses.as_ref(),
            r.params.request_state.as_deref(),
        ),
        ClientRequest::ReadResourceRequest(r) => (
            r.params.input_responses.as_ref(),
            r.params.request_state.as_deref(),
        ),
        _ => (None, None),
    }
}

/// `request` with its `inputResponses` and `requestState` replaced.
pub fn with_input(
    mut request: ClientRequest,
    responses: Option<InputResponses>,
    state: Option<String>,
) -> ClientRequest {
    match &mut request {
        ClientRequest::CallToolRequest(r) => {
            r.params.input_responses = responses;
            r.params.request_state = state;
        }
        ClientRequest::GetPromptRequest(r) => {
            r.params.input_responses = responses;
            r.params.request_state = state;
        }
        ClientRequest::ReadResourceRequest(r) => {
            r.params.input_responses = responses;
            r.params.request_state = state;
        }
        _ => {}
    }
    request
}

/// Whether a client with `caps` can answer `request`; the spec's error for the server when not.
pub fn check_capability(
    caps: &ClientCapabilities,
    request: &ServerRequest,
) -> Result<(), ErrorData> {
    let missing = |what: &str| {
        Err(ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("the client behind Loopgate does not support {what} (it did not declare the capability)"),
            None,
        ))
    };
    match request {
        ServerRequest::CreateMessageRequest(r) => match &caps.sampling {
            None => missing("sampling"),
            Some(s) if r.params.tools.is_some() && s.tools.is_none() => {
                missing("sampling with tools")
            }
            Some(_) => Ok(()),
        },
        ServerRequest::ElicitRequest(r) => match (&caps.elicitation, &r.params) {
            (None, _) => missing("elicitation"),
            (Some(e), rmcp::model::ElicitRequestParams::UrlElicitationParams { .. })
                if e.url.is_none() =>
            {
                missing("URL elicitation")
            }
            (Some(_), _) => Ok(()),
        },
        ServerRequest::ListRootsRequest(_) if caps.roots.is_none() => missing("roots"),
        _ => Ok(()),
    }
}

/// A server's request as an input request for a stateless client (`None`: it cannot be one).
pub fn as_input_request(request: &ServerRequest) -> Option<InputRequest> {
    match request {
        ServerRequest::CreateMessageRequest(r) => Some(InputRequest::CreateMessage(r.clone())),
        ServerRequest::ElicitRequest(r) => Some(InputRequest::Elicitation(r.clone())),
        ServerRequest::ListRootsRequest(r) => Some(InputRequest::ListRoots(r.clone())),
        _ => None,
    }
}

/// A client's input request as the server→client request to send a session client.
pub fn as_server_request(request: InputRequest) -> Option<ServerRequest> {
    match request {
        InputRequest::CreateMessage(r) => Some(ServerRequest::CreateMessageRequest(r)),
        InputRequest::Elicitation(r) => Some(ServerRequest::ElicitRequest(r)),
        InputRequest::ListRoots(r) => Some(ServerRequest::ListRootsRequest(r)),
        _ => None,
    }
}
