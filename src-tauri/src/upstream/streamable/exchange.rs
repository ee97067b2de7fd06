//! A relayed request on an HTTP server's session as its own POST, read to its answer by the
//! relay's own task (ARCHITECTURE.md "How a request travels", step 3).
//!
//! rmcp's client service passes every request through its service task and its transport
//! worker and the answer back the same way — hand-offs that were a fifth of a relayed call's
//! time. For the calls the gateway relays on an initialize-based session, [`Exchange`] posts
//! the JSON-RPC request itself ([`SharedClient::send`]: written and read by [`super::post`],
//! or for a server Loopgate signed in to by rmcp's own HTTP client, which adds the OAuth
//! token), and reads the answer where the call waits. Whatever the server sends on that
//! response stream meanwhile goes where rmcp's path sends it: notifications to the channel's [`BackendClient`], the
//! server's own requests (sampling, elicitation, roots) through it to the call's caller, the
//! answer POSTed back on the session; progress extends the timeout. Messages on the stream are
//! read by [`crate::wire::server_message`], the answer as the result its request expects
//! (rmcp's own reading tries every result type in turn). A stream that breaks
//! after an event id is resumed with `Last-Event-ID` (Streamable HTTP, "Resumability").
//!
//! A request the server never took — HTTP 404 (the session expired: rmcp's path
//! re-initializes) or 401/403 (rmcp's path refreshes the token or reports the challenge) — comes
//! back as [`Outcome::NotSent`] and is sent the usual way.
//!
//! The same exchange serves a server's stateless 2026-07-28 channel, for the calls a
//! 2026-07-28 caller makes there (`tools/call`, `prompts/get`, `resources/read`): no session;
//! the request carries in `_meta` what rmcp's peer puts there (the revision, Loopgate's client
//! info and capabilities, then the caller's capabilities and log level over them) and the
//! SEP-2243 headers `Mcp-Method` and `Mcp-Name` as rmcp's transport sends them. A call whose
//! name would need Base64 in its header, or to a tool whose input schema promotes arguments to
//! `Mcp-Param-*` headers (`x-mcp-header` annotations; rmcp encodes those), goes rmcp's way.
//! Anything else on that channel does too. A 2026-07-28 server's errors come as HTTP 400 or
//! 404 with a JSON-RPC error, which is read as the answer.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, GetMeta, JsonRpcMessage, JsonRpcRequest, ProgressToken,
    RequestId, RequestMetaObject, ServerJsonRpcMessage, ServerNotification, ServerResult, Tool,
};
use rmcp::service::{InboundStreamOrigin, RequestContext, Service};
use rmcp::transport::streamable_http_client::StreamableHttpError;
use rmcp::{Peer, RoleClient};
use tokio_util::sync::CancellationToken;

use super::client::SharedClient;
use super::post::{event_too_large, EventStream, Failure, Posted, Target, MAX_RESPONSE_BYTES};
use super::stateless::{standard_headers, stateless_meta, PARAM_ANNOTATION};
use crate::upstream::backend_client::{BackendClient, LogOf};
use crate::upstream::call::{Alive, Call, Keyed, Outcome};
use crate::upstream::error::UpstreamError;
use crate::upstream::routes::{CallRoute, Channel, Routes};
use crate::wire::{server_message, Answer};

/// How often a broken response stream is resumed before the call fails.
const RESUME_ATTEMPTS: u32 = 3;
/// Longest wait before resuming, whatever `retry` the server asked for.
const MAX_RESUME_DELAY: Duration = Duration::from_secs(5);

/// Direct exchanges on one of a server's channels (see the module docs).
pub struct Exchange {
    server: String,
    client: SharedClient,
    target: Target,
    /// The channel served: its client handler, rmcp peer and place in the routes.
    channel: Channel,
    handler: BackendClient,
    peer: Peer<RoleClient>,
    routes: Arc<Routes>,
    next: AtomicU64,
    /// Response streams being read on after their answers ([`release`]).
    releasing: Arc<AtomicUsize>,
    /// Tools whose calls carry `Mcp-Param-*` headers (stateless channel; [`Exchange::note_tools`]).
    annotated: Mutex<HashSet<String>>,
    /// What the handler declares (its info and capabilities), for the stateless channel's
    /// `_meta`: built once, not per call.
    declared: Box<rmcp::model::ClientConfig>,
}

/// Longest a response stream is read on after its answer (see [`release`]).
const RELEASE_WITHIN: Duration = Duration::from_secs(1);
/// Most response streams of one server read on after their answers at a time; past it a
/// stream is dropped (its connection closed), so a server that never ends its streams cannot
/// make the gateway hold a connection for every call it answered.
const MAX_RELEASING: usize = 16;

impl Exchange {
    /// Exchanges for server `server` at `url` over `client`, on `channel`, whose rmcp peer is
    /// `peer` and whose client handler is `handler`; calls are registered in `routes`.
    pub fn new(
        server: &str,
        client: SharedClient,
        url: &str,
        (channel, handler, peer): (Channel, BackendClient, Peer<RoleClient>),
        routes: Arc<Routes>,
    ) -> Self {
        let declared = Box::new(handler.get_info());
        Self {
            server: server.into(),
            client,
            target: Target::new(url),
            channel,
            handler,
            peer,
            routes,
            next: AtomicU64::new(1),
            releasing: Arc::default(),
            annotated: Mutex::default(),
            declared,
        }
    }

    /// Takes note of the server's `tools`: on the stateless channel, calls of those whose
    /// input schema has `x-mcp-header` annotations go rmcp's way (see the module docs).
    pub fn note_tools(&self, tools: &[Tool]) {
        let annotated = tools
            .iter()
            .filter(|t| {
                serde_json::to_string(&t.input_schema).is_ok_and(|s| s.contains(PARAM_ANNOTATION))
            })
            .map(|t| t.name.to_string())
            .collect();
        *self.annotated.lock().unwrap_or_else(|e| e.into_inner()) = annotated;
    }

    /// Sends `request` and reads its answer (see the module docs); on the stateless channel
    /// `meta` (the caller's capabilities and log level) goes into its `_meta`. Errors name the
    /// server.
    pub async fn request(
        &self,
        mut request: ClientRequest,
        call: Call<'_>,
        meta: Option<RequestMetaObject>,
    ) -> Outcome {
        let (session, headers) = match self.channel {
            // Mid-(re-)initialization the session is not ready for requests: rmcp's path
            // orders them after the handshake.
            Channel::Session => match self.client.observer().ready_session() {
                Some(session) => (session, Vec::new()),
                None => return Outcome::NotSent(request),
            },
            Channel::Stateless => match standard_headers(
                &request,
                &self.annotated.lock().unwrap_or_else(|e| e.into_inner()),
            ) {
                Some(headers) => (None, headers),
                None => return Outcome::NotSent(request),
            },
        };
        let resend = request.clone();
        let answer_kind = Answer::to(&request);
        let version = self.peer.peer_info().map(|i| i.protocol_version.clone());
        if self.channel == Channel::Stateless {
            let declared = (*self.declared).clone();
            stateless_meta(request.get_meta_mut(), version.clone(), declared, meta);
        }
        let version = version.map(|v| v.to_string()).unwrap_or_default();
        let Keyed {
            id,
            token,
            registration: _registration,
        } = call.key(
            &self.routes,
            self.channel,
            self.next.fetch_add(1, Ordering::Relaxed),
            &mut request,
        );
        let alive = Alive::new();
        let answer = async {
            let posted = self
                .client
                .send(
                    &self.target,
                    session.clone(),
                    (&id, request),
                    (&version, headers),
                    answer_kind,
                )
                .await;
            let stream = match posted {
                Ok(Posted::Message(m)) => return Some(self.settle(*m, &id)),
                Ok(Posted::Stream(stream)) => stream,
                Ok(Posted::Accepted) => {
                    return Some(Err(StreamableHttpError::UnexpectedServerResponse(
                        "HTTP 202 Accepted for a request".into(),
                    )))
                }
                Ok(Posted::NotTaken) => return None,
                Err(error) => return Some(Err(error)),
            };
            Some(
                self.read(
                    stream,
                    (&id, answer_kind),
                    (&token, call.route.as_deref()),
                    (&session, &version),
                    &alive,
                )
                .await,
            )
        };
        let result = match call.wait(answer, &alive).await {
            Ok(a) => a,
            Err(gave_up) => {
                let error = gave_up.tell(&self.peer, &self.server, &id).await;
                return Outcome::Answered(Err(error));
            }
        };
        match result {
            None => Outcome::NotSent(resend),
            Some(Ok(r)) => Outcome::Answered(r),
            Some(Err(f)) => Outcome::Answered(Err(self.failure(f))),
        }
    }

    /// Reads an event stream to the answer for `id`, handling everything else on it; a log
    /// message on it is the call's (its `route`'s, with progress `token`).
    async fn read(
        &self,
        mut stream: EventStream,
        (id, answer): (&RequestId, Answer),
        (token, route): (&ProgressToken, Option<&CallRoute>),
        (session, version): (&Option<Arc<str>>, &str),
        alive: &Alive,
    ) -> Result<Result<ServerResult, UpstreamError>, Failure> {
        let mut last_event_id: Option<String> = None;
        let mut retry = Duration::from_secs(1);
        let mut resumes = 0;
        let mut withdrawn: HashMap<RequestId, CancellationToken> = HashMap::new();
        loop {
            let event = match stream.next().await {
                Some(Ok(event)) => event,
                Some(Err(e)) if resumes >= RESUME_ATTEMPTS || last_event_id.is_none() => {
                    return Err(e.into())
                }
                None if resumes >= RESUME_ATTEMPTS || last_event_id.is_none() => {
                    return Err(StreamableHttpError::UnexpectedEndOfStream)
                }
                _ => {
                    resumes += 1;
                    tokio::time::sleep(retry.min(MAX_RESUME_DELAY)).await;
                    stream = self
                        .client
                        .resume(
                            &self.target.url,
                            session.clone(),
                            version,
                            last_event_id.clone(),
                        )
                        .await?;
                    continue;
                }
            };
            if event.id.is_some() {
                last_event_id = event.id.clone();
            }
            if let Some(ms) = event.retry {
                retry = Duration::from_millis(ms);
            }
            let Some(data) = event.data.filter(|d| !d.trim().is_empty()) else {
                continue;
            };
            let message = server_message(&data, answer).map_err(StreamableHttpError::from)?;
            resumes = 0;
            match message {
                JsonRpcMessage::Response(r) if &r.id == id => {
                    release(&self.releasing, stream);
                    return Ok(Ok(r.result));
                }
                // Only this request was posted: an error without an id (the server could not
                // read it) is about it too.
                JsonRpcMessage::Error(e) if e.id.is_none() || e.id.as_ref() == Some(id) => {
                    release(&self.releasing, stream);
                    return Ok(Err(UpstreamError::Mcp {
                        server: self.server.clone(),
                        error: e.error,
                    }));
                }
                JsonRpcMessage::Request(r) => {
                    let ct = CancellationToken::new();
                    withdrawn.insert(r.id.clone(), ct.clone());
                    self.answer(r, id.clone(), ct, (session.clone(), version));
                }
                JsonRpcMessage::Notification(n) => {
                    let notification = match n.notification {
                        ServerNotification::LoggingMessageNotification(l) => {
                            self.handler.logging_message(l.params, LogOf::Call(route));
                            continue;
                        }
                        other => other,
                    };
                    match &notification {
                        ServerNotification::ProgressNotification(p)
                            if &p.params.progress_token == token =>
                        {
                            alive.touch();
                        }
                        ServerNotification::CancelledNotification(c) => {
                            if let Some(ct) =
                                c.params.request_id.as_ref().and_then(|r| withdrawn.get(r))
                            {
                                ct.cancel();
                            }
                        }
                        _ => {}
                    }
                    self.handler.notification(notification).await;
                }
                // Answers to other requests do not belong on this stream; ignore them.
                _ => {}
            }
        }
    }

    /// Relays the server's request `r` (made while serving `call`) to the call's caller and
    /// POSTs the answer back on the session, without holding up the stream.
    fn answer(
        &self,
        r: JsonRpcRequest<rmcp::model::ServerRequest>,
        call: RequestId,
        withdrawn: CancellationToken,
        (session, version): (Option<Arc<str>>, &str),
    ) {
        let handler = self.handler.clone();
        let mut context = RequestContext::new(r.id.clone(), self.peer.clone());
        context.ct = withdrawn;
        context
            .extensions
            .insert(InboundStreamOrigin::OutboundRequest(call));
        let client = self.client.clone();
        let url = self.target.url.clone();
        let version = version.to_string();
        let server = self.server.clone();
        tokio::spawn(async move {
            let answer = match handler.handle_request(r.request, context).await {
                Ok(result) => ClientJsonRpcMessage::response(result, r.id),
                Err(error) => ClientJsonRpcMessage::error(error, Some(r.id)),
            };
            if let Err(e) = client
                .post(&url, session, answer, &version, Vec::new())
                .await
            {
                // The server waits for this answer until its own timeout: say so where the
                // user looks (the server's log), not only at debug level.
                let message = format!(
                    "the client's answer to a request of this server could not be delivered \
                     ({e}); the server will wait for it until its own timeout"
                );
                tracing::warn!(%server, "{message}");
                handler.note(&message);
            }
        });
    }

    /// An answer that came as a whole JSON body.
    fn settle(
        &self,
        message: ServerJsonRpcMessage,
        id: &RequestId,
    ) -> Result<Result<ServerResult, UpstreamError>, Failure> {
        match message {
            JsonRpcMessage::Response(r) if &r.id == id => Ok(Ok(r.result)),
            JsonRpcMessage::Error(e) => Ok(Err(UpstreamError::Mcp {
                server: self.server.clone(),
                error: e.error,
            })),
            _ => Err(StreamableHttpError::UnexpectedServerResponse(
                "a JSON body that is not the answer to the request".into(),
            )),
        }
    }

    fn failure(&self, f: Failure) -> UpstreamError {
        let server = self.server.clone();
        match f {
            StreamableHttpError::ResponseBodyTooLarge { .. } => UpstreamError::TooLarge {
                server,
                limit_mib: MAX_RESPONSE_BYTES >> 20,
            },
            StreamableHttpError::Sse(e) if event_too_large(&e) => UpstreamError::TooLarge {
                server,
                limit_mib: MAX_RESPONSE_BYTES >> 20,
            },
            other => UpstreamError::Disconnected {
                server,
                message: other.to_string(),
            },
        }
    }
}

/// Reads a response stream to its end after its answer, so its connection goes back to the
/// client's pool; `releasing` counts the streams of the server being read on. Dropped
/// unfinished, the stream's connection is closed instead (hyper cannot reuse a connection whose
/// response it has not read to the end): the next request then opens another one, a TCP
/// handshake and an accept more for both sides.
///
/// A server closes the stream right after the answer (Streamable HTTP, "Sending Messages to
/// the Server": it SHOULD close the stream once the response is sent), so the end is usually
/// read already and nothing waits. Otherwise a task reads on, for at most [`RELEASE_WITHIN`]
/// and for at most [`MAX_RELEASING`] streams of the server at a time (past either, the stream
/// is dropped as before); what comes meanwhile is not for this request and is dropped, as it
/// would have been with the stream.
fn release(releasing: &Arc<AtomicUsize>, mut stream: EventStream) {
    use futures::FutureExt;
    if let Some(None) = stream.next().now_or_never() {
        return;
    }
    if releasing.fetch_add(1, Ordering::Relaxed) >= MAX_RELEASING {
        releasing.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let releasing = releasing.clone();
    tokio::spawn(async move {
        let rest = async { while stream.next().await.is_some() {} };
        let _ = tokio::time::timeout(RELEASE_WITHIN, rest).await;
        releasing.fetch_sub(1, Ordering::Relaxed);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        data: &str,
    ) -> Result<sse_stream::Sse, rmcp::transport::streamable_http_client::SseError> {
        Ok(sse_stream::Sse::default().data(data))
    }

    #[tokio::test]
    async fn a_stream_that_ended_is_released_at_once() {
        let releasing = Arc::new(AtomicUsize::new(0));
        release(&releasing, futures::stream::empty().boxed());
        assert_eq!(releasing.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn the_rest_of_a_stream_is_read_to_its_end() {
        let releasing = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = futures::channel::mpsc::unbounded();
        release(&releasing, rx.boxed());
        assert_eq!(releasing.load(Ordering::Relaxed), 1, "read on by a task");
        tx.unbounded_send(event("late")).unwrap();
        drop(tx);
        for _ in 0..100 {
            if releasing.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the stream's end was not read");
    }

    #[tokio::test]
    async fn streams_that_never_end_are_read_on_for_a_while_and_only_so_many() {
        let releasing = Arc::new(AtomicUsize::new(0));
        for _ in 0..MAX_RELEASING + 5 {
            release(&releasing, futures::stream::pending().boxed());
        }
        assert_eq!(releasing.load(Ordering::Relaxed), MAX_RELEASING);
        tokio::time::sleep(RELEASE_WITHIN + Duration::from_millis(300)).await;
        assert_eq!(
            releasing.load(Ordering::Relaxed),
            0,
            "given up after RELEASE_WITHIN"
        );
    }
}
