//! A relayed request on a stdio server's session, written to its stdin by the caller's task and
//! answered there (ARCHITECTURE.md "How a request travels", step 3).
//!
//! Through rmcp's client service a request crossed to its service task, was written by a task
//! spawned for it, and its answer was parsed by the service task (as any of the 20-odd results
//! a server may send) and handed back. [`Exchange`] writes the request itself through the
//! pipe's [`Shared`] writer and takes the answer's JSON text from the [`super::pipe::Pipe`]
//! reading stdout, with the shape the pipe read its envelope as, and reads it as the result its
//! request expects ([`crate::wire::server_message_shaped`]). Everything else the server sends
//! while it works — progress, its own requests (sampling, elicitation, roots), log messages —
//! is read by rmcp's service and reaches the caller as before, through the call's route,
//! except its progress and log messages, which the pipe hands over itself in order with the
//! answer (ARCHITECTURE.md rule 21); progress also moves the call's timeout
//! ([`crate::upstream::call`]).
//!
//! Once the pipe has closed, a request goes rmcp's way ([`Outcome::NotSent`]), which reports
//! the closed transport.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rmcp::model::{ClientRequest, JsonRpcMessage, RequestId, ServerResult};
use rmcp::{Peer, RoleClient};
use tokio::sync::broadcast;

use super::pipe::{request_line, Answered, Shared};
use super::stdout::{too_large, MAX_MESSAGE_BYTES};
use crate::upstream::call::{Alive, Call, GaveUp, Keyed, Outcome};
use crate::upstream::error::UpstreamError;
use crate::upstream::routes::{Channel, Routes};
use crate::wire::{server_message_shaped, Answer};

/// Direct exchanges on one stdio server's session (see the module docs).
pub struct Exchange {
    server: String,
    pipe: Arc<Shared>,
    peer: Peer<RoleClient>,
    routes: Arc<Routes>,
    oversized: broadcast::Sender<Option<RequestId>>,
    next: AtomicU64,
}

impl Exchange {
    /// Exchanges for server `server` over `pipe`, on the session whose rmcp peer is `peer`
    /// (it sends the cancellations); calls are registered in `routes`, and `oversized` reports
    /// the ids of answers too large to read.
    pub fn new(
        server: &str,
        pipe: Arc<Shared>,
        peer: Peer<RoleClient>,
        routes: Arc<Routes>,
        oversized: broadcast::Sender<Option<RequestId>>,
    ) -> Self {
        Self {
            server: server.into(),
            pipe,
            peer,
            routes,
            oversized,
            next: AtomicU64::new(1),
        }
    }

    /// Sends `request` and reads its answer (see the module docs). Errors name the server:
    /// [`UpstreamError::Mcp`] (the server's error), `Timeout`, `Cancelled`, `TooLarge`, and
    /// `Disconnected` (stdin could not be written, the pipe closed before the answer, or the
    /// answer is no JSON-RPC answer).
    pub async fn request(&self, mut request: ClientRequest, call: Call<'_>) -> Outcome {
        let answer_kind = Answer::to(&request);
        let Keyed {
            id,
            registration: _registration,
            ..
        } = call.key(
            &self.routes,
            Channel::Session,
            self.next.fetch_add(1, Ordering::Relaxed),
            &mut request,
        );
        let alive = Alive::new();
        // Waiting before writing: the server may answer before the write returns. (rmcp's
        // path, if the pipe has closed, sets a progress token of its own.)
        let route = call.route.clone();
        let Some(mut pending) = self.pipe.wait_for(id.clone(), alive.clone(), route) else {
            return Outcome::NotSent(request);
        };
        // Listening before writing: an oversized answer may come back at once.
        let oversized = self.oversized.subscribe();
        if let Err(e) = self.pipe.write(request_line(&id, request)).await {
            return Outcome::Answered(Err(self.disconnected(format!(
                "the request could not be written to its stdin ({e})"
            ))));
        }
        let answer = async {
            tokio::select! {
                text = &mut pending.answer => Some(text.ok()),
                _ = too_large(Some(oversized), &id) => None,
            }
        };
        let gave_up = match call.wait(answer, &alive).await {
            Ok(Some(Some(answered))) => {
                return Outcome::Answered(settle(&self.server, &answered, answer_kind))
            }
            Ok(Some(None)) => {
                return Outcome::Answered(Err(self.disconnected("the connection closed".into())))
            }
            Ok(None) => GaveUp::TooLarge {
                limit_mib: MAX_MESSAGE_BYTES >> 20,
            },
            Err(gave_up) => gave_up,
        };
        Outcome::Answered(Err(gave_up.tell(&self.peer, &self.server, &id).await))
    }

    fn disconnected(&self, message: String) -> UpstreamError {
        disconnected(&self.server, message)
    }
}

/// The answer `answered` of server `server` (a result or an error with the call's id), read
/// as `answer` says.
// The error is `Connection::request`'s, returned once per call, never on a hot loop.
#[allow(clippy::result_large_err)]
fn settle(
    server: &str,
    answered: &Answered,
    answer: Answer,
) -> Result<ServerResult, UpstreamError> {
    match server_message_shaped(answered.text.get(), Some(answered.shape), answer) {
        Ok(JsonRpcMessage::Response(r)) => Ok(r.result),
        Ok(JsonRpcMessage::Error(e)) => Err(UpstreamError::Mcp {
            server: server.into(),
            error: e.error,
        }),
        Ok(_) => Err(disconnected(
            server,
            "its answer is no JSON-RPC answer".into(),
        )),
        Err(e) => Err(disconnected(
            server,
            format!("its answer could not be read ({e})"),
        )),
    }
}

fn disconnected(server: &str, message: String) -> UpstreamError {
    UpstreamError::Disconnected {
        server: server.into(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Envelope;
    use serde_json::value::RawValue;

    #[allow(clippy::result_large_err)]
    fn settled(text: &str) -> Result<ServerResult, UpstreamError> {
        let answered = Answered {
            shape: Envelope::read(text.as_bytes()).unwrap().shape,
            text: RawValue::from_string(text.into()).unwrap(),
        };
        settle("s", &answered, Answer::ToolResult)
    }

    #[test]
    fn answers_settle_as_results_errors_or_a_clear_failure() {
        let result = settled(
            r#"{"jsonrpc":"2.0","id":"loopgate-1","result":{"content":[{"type":"text","text":"hi"}]}}"#,
        );
        assert!(
            matches!(result, Ok(ServerResult::CallToolResult(_))),
            "{result:?}"
        );
        let error = settled(
            r#"{"jsonrpc":"2.0","id":"loopgate-1","error":{"code":-32602,"message":"no such tool"}}"#,
        );
        assert!(
            matches!(&error, Err(UpstreamError::Mcp { error, .. }) if error.message == "no such tool"),
            "{error:?}"
        );
        // An answer that is no JSON-RPC answer fails the call with what was wrong, at once.
        let broken = settled(r#"{"jsonrpc":"2.0","id":"loopgate-1","error":"boom"}"#);
        let Err(UpstreamError::Disconnected { server, message }) = broken else {
            panic!("{broken:?}")
        };
        assert_eq!(server, "s");
        assert!(
            message.starts_with("its answer could not be read"),
            "{message}"
        );
    }
}
