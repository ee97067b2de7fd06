//! The relay: one mechanism for every call a client makes through the gateway (`tools/call`,
//! `prompts/get`, `resources/read`) and everything that travels back during it.
//!
//! ```text
//!  client ──call──> gateway ──call──> server
//!     ^                │  <── sampling / elicitation / roots, progress, logs ──┘
//!     └── asked ───────┘        (routes: the call it belongs to, never another)
//! ```
//!
//! - **Initialize-based client:** a server's request goes to the client's session on the
//!   stream of the call that caused it; the client's answer goes back unchanged. A server that
//!   speaks only 2026-07-28 answers with `InputRequiredResult` instead; the gateway asks the
//!   client those questions the same way and sends the call again with the answers.
//! - **Stateless 2026-07-28 client:** a server's request mid-call becomes an
//!   `InputRequiredResult` for the client and the call is **parked** ([`super::pending`]); the
//!   client's retry answers it and the call goes on. A 2026-07-28 server's own
//!   `InputRequiredResult` passes through, its `requestState` sealed to the caller and server.
//! - A client that did not declare a capability (sampling, elicitation, roots) is never asked:
//!   the server gets the spec's "method not found" error. Nothing is ever answered on the
//!   user's behalf (ARCHITECTURE.md rule 9).
//!
//! Progress goes to the client under its own token; a 2026-07-28 client's log messages arrive
//! on the stream of its call, filtered by the level it asked for.

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use rmcp::model::{
    ClientCapabilities, ClientRequest, ClientResult, ErrorCode, ErrorData, InputRequests,
    InputRequiredResult, InputResponses, LoggingLevel, LoggingMessageNotification,
    ProgressNotification, ProgressToken, ProtocolVersion, RequestMetaObject, ServerNotification,
    ServerRequest, ServerResult,
};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::direct::Back;
use super::input::{as_input_request, as_server_request, check_capability, input_of, with_input};
use super::pending::{self, CallFuture, Parked, Sealer, StateError, StateKind, Waiting};
use super::session::{severity, ClientSession, DEFAULT_LOG_LEVEL};
use super::Gateway;
use crate::upstream::backend_client::method_of;
use crate::upstream::{
    CallNotification, CallRoute, Connection, Era, Inbound, RequestOptions, UpstreamError,
};

/// Most rounds of input a call may need before the gateway gives up.
pub const MAX_ROUNDS: u32 = 10;
/// How long the gateway waits for more of a server's requests before asking a stateless
/// client (a server may ask several things at once).
pub const GATHER: Duration = Duration::from_millis(30);

/// The caller of one request, as the relay needs it.
pub struct Caller<'a> {
    /// Its session (a stateless request has one of its own).
    pub session: &'a Arc<ClientSession>,
    /// The request's context (peer, cancellation, `_meta`).
    pub context: &'a RequestContext<RoleServer>,
    /// Its era.
    pub era: Era,
    /// What it declared it can do, read when first needed ([`Caller::capabilities`]).
    capabilities: OnceLock<ClientCapabilities>,
    /// Its identity label, made when first needed ([`Caller::label`]).
    label: OnceLock<String>,
    /// Where what goes back to it during the call is sent.
    back: Back<'a>,
}

impl<'a> Caller<'a> {
    /// The caller of the request in `context`, on `session`.
    pub fn new(session: &'a Arc<ClientSession>, context: &'a RequestContext<RoleServer>) -> Self {
        let stateless = context
            .protocol_version()
            .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        Caller {
            session,
            context,
            back: Back::of(context),
            era: if stateless {
                Era::Stateless
            } else {
                Era::Session
            },
            capabilities: OnceLock::new(),
            label: OnceLock::new(),
        }
    }

    /// What it declared it can do (read once: most calls never need it, and it is a copy).
    pub fn capabilities(&self) -> &ClientCapabilities {
        self.capabilities
            .get_or_init(|| self.context.client_capabilities().unwrap_or_default())
    }

    /// Its identity label, which sealed states are bound to (made once, when first needed).
    pub fn label(&self) -> &str {
        self.label.get_or_init(|| {
            self.session
                .caller()
                .map(|c| c.label())
                .unwrap_or_else(|| "anonymous".into())
        })
    }

    /// The log level a stateless caller asked for in its request.
    fn log_level(&self) -> LoggingLevel {
        self.context.meta.log_level().unwrap_or(DEFAULT_LOG_LEVEL)
    }
}

/// Asks a session client `request` (capability checked first) on the stream of its call.
async fn ask_client(
    back: Back<'_>,
    caps: &ClientCapabilities,
    request: ServerRequest,
) -> Result<ClientResult, ErrorData> {
    check_capability(caps, &request)?;
    back.ask(request).await
}

/// One call in flight and everything that comes back for it.
struct Flight {
    server: String,
    future: CallFuture,
    cancel: CancellationToken,
    inbound: mpsc::Receiver<Box<Inbound>>,
    notifications: mpsc::Receiver<Box<CallNotification>>,
    waiting: BTreeMap<String, Waiting>,
    next_key: u32,
    /// For sending the call again (a 2026-only server's input rounds).
    resend: Option<Resend>,
    rounds: u32,
}

/// What sending a call again needs.
#[derive(Clone)]
struct Resend {
    connection: Arc<Connection>,
    request: ClientRequest,
    route: Arc<CallRoute>,
    meta: Option<RequestMetaObject>,
    era: Era,
}

impl Resend {
    /// Sends the call again with `responses` and `state`.
    fn again(
        &self,
        responses: InputResponses,
        state: Option<String>,
        cancel: CancellationToken,
    ) -> CallFuture {
        send(
            self.connection.clone(),
            with_input(self.request.clone(), Some(responses), state),
            self.route.clone(),
            cancel,
            self.meta.clone(),
            self.era,
        )
    }
}

/// Sends `request` for `caller` to server `server` through `connection` and relays everything
/// until the call ends (see the module docs). The request is already renamed for the server.
///
/// Errors: the server's error, a transport failure, or a refused `requestState`.
pub async fn call(
    gw: &Gateway,
    server: &str,
    connection: Arc<Connection>,
    request: ClientRequest,
    caller: &Caller<'_>,
) -> Result<ServerResult, UpstreamOrState> {
    caller.session.used(server);
    let (responses, state) = input_of(&request);
    // Owned copies of the two small parts, so the request itself moves on uncopied.
    let (responses, state) = (responses.cloned(), state.map(str::to_owned));
    let mut request = request;
    if let Some(state) = state.as_deref() {
        if !Sealer::is_ours(state) {
            return Err(StateError::Tampered.into());
        }
        match gw.sealer.open(state, caller.label())? {
            StateKind::Parked { id } => {
                let parked = gw.parked.take(id).ok_or(StateError::Expired)?;
                if parked.server != server {
                    pending::end(parked, "the client sent its answer to another tool");
                    return Err(StateError::Tampered.into());
                }
                let answers = responses.unwrap_or_default();
                // Rare paths (resuming, another round, notifying) are boxed: this future is
                // allocated for every call, and inline they made it 11.5 KB (run N).
                return Box::pin(resume(gw, parked, &answers, caller)).await;
            }
            StateKind::Backend { server: s, state } => {
                if s != server {
                    return Err(StateError::Tampered.into());
                }
                request = with_input(request, responses, Some(state));
            }
        }
    }
    let flight = start(server, connection, request, caller);
    drive(gw, flight, caller).await
}

/// Either a failure of the call or a refused `requestState`.
#[derive(Debug)]
pub enum UpstreamOrState {
    /// The call failed.
    Upstream(UpstreamError),
    /// The `requestState` was refused.
    State(StateError),
    /// The relay itself refused (e.g. too many rounds).
    Refused(ErrorData),
}

impl From<UpstreamError> for UpstreamOrState {
    fn from(e: UpstreamError) -> Self {
        UpstreamOrState::Upstream(e)
    }
}

impl From<StateError> for UpstreamOrState {
    fn from(e: StateError) -> Self {
        UpstreamOrState::State(e)
    }
}

/// Starts the backend call.
fn start(
    server: &str,
    connection: Arc<Connection>,
    request: ClientRequest,
    caller: &Caller<'_>,
) -> Flight {
    let (inbound_tx, inbound) = mpsc::channel(16);
    let (notifications_tx, notifications) = mpsc::channel(64);
    let route = Arc::new(CallRoute {
        owner: caller.session.key(),
        inbound: inbound_tx,
        notifications: Some(notifications_tx),
        takes_logs: caller.era == Era::Stateless,
    });
    // Only a call on a stateless 2026-07-28 channel needs these: the `_meta` of what this
    // caller can do and the log level it asked for (per request, or its session's), and the
    // request kept for sending again, since only such a server asks for input by answering
    // (a session's call moves on uncopied).
    let stateless = connection.goes_stateless(caller.era);
    let meta = stateless.then(|| {
        let mut meta = RequestMetaObject::default();
        meta.set_client_capabilities(caller.capabilities().clone());
        let level = match caller.era {
            Era::Stateless => caller.context.meta.log_level(),
            Era::Session => caller.session.log_level(),
        };
        if let Some(level) = level {
            meta.set_log_level(level);
        }
        meta
    });
    let resend = stateless.then(|| Resend {
        connection: connection.clone(),
        request: request.clone(),
        route: route.clone(),
        meta: meta.clone(),
        era: caller.era,
    });
    let cancel = CancellationToken::new();
    let future = send(connection, request, route, cancel.clone(), meta, caller.era);
    Flight {
        server: server.to_string(),
        future,
        cancel,
        inbound,
        notifications,
        waiting: BTreeMap::new(),
        next_key: 0,
        resend,
        rounds: 0,
    }
}

fn send(
    connection: Arc<Connection>,
    request: ClientRequest,
    route: Arc<CallRoute>,
    cancel: CancellationToken,
    meta: Option<RequestMetaObject>,
    era: Era,
) -> CallFuture {
    Box::pin(async move {
        connection
            .request(
                request,
                RequestOptions {
                    era: Some(era),
                    route: Some(route),
                    cancel,
                    meta,
                },
            )
            .await
    })
}

/// Relays until the call ends, or, for a stateless caller asked for input, parks it.
async fn drive(
    gw: &Gateway,
    mut flight: Flight,
    caller: &Caller<'_>,
) -> Result<ServerResult, UpstreamOrState> {
    let client_token: Option<ProgressToken> = caller.context.meta.get_progress_token();
    let back = caller.back;
    let mut asks = FuturesUnordered::new();
    loop {
        // Biased, the answer last (ARCHITECTURE.md rule 21): what the server sent about the
        // call before its answer (progress, log messages, requests) reaches the caller first.
        tokio::select! {
            biased;
            Some(inbound) = flight.inbound.recv() => match caller.era {
                Era::Session => {
                    let caps = caller.capabilities();
                    asks.push(async move {
                        let Inbound { request, reply, withdrawn } = *inbound;
                        tokio::select! {
                            answer = ask_client(back, caps, request) => { let _ = reply.send(answer); }
                            _ = withdrawn.cancelled() => {}
                        }
                    });
                }
                Era::Stateless => {
                    add_waiting(&mut flight, *inbound, caller.capabilities());
                    // A server may ask several things at once: gather them.
                    while let Ok(Some(more)) = tokio::time::timeout(GATHER, flight.inbound.recv()).await {
                        add_waiting(&mut flight, *more, caller.capabilities());
                    }
                    if !flight.waiting.is_empty() {
                        return Ok(park(gw, flight, caller));
                    }
                }
            },
            Some(()) = asks.next(), if !asks.is_empty() => {}
            Some(n) = flight.notifications.recv() => tell(&flight.server, caller, client_token.as_ref(), *n).await,
            _ = caller.context.ct.cancelled(), if !flight.cancel.is_cancelled() => flight.cancel.cancel(),
            r = &mut flight.future => {
                // What the server said before its answer may be queued still: the answer was
                // polled after the queue, and the server's reader runs on another thread.
                while let Ok(n) = flight.notifications.try_recv() {
                    tell(&flight.server, caller, client_token.as_ref(), *n).await;
                }
                match r? {
                    ServerResult::InputRequiredResult(ir) if caller.era == Era::Session => {
                        flight = Box::pin(another_round(flight, ir, caller)).await?;
                    }
                    ServerResult::InputRequiredResult(mut ir) => {
                        if let Some(state) = ir.request_state.take() {
                            ir.request_state = Some(gw.sealer.seal(
                                StateKind::Backend { server: flight.server.clone(), state },
                                caller.label(),
                            ));
                        }
                        return Ok(ServerResult::InputRequiredResult(ir));
                    }
                    other => {
                        gw.links.learn(&flight.server, &other);
                        return Ok(other);
                    }
                }
            }
        }
    }
}

/// Sends `n`, which server `server` said about the caller's call, to the caller: progress
/// under the caller's own `token` (none: it asked for none, and gets none); a log message when
/// its level is at or above the caller's, its logger prefixed with the server's name.
async fn tell(
    server: &str,
    caller: &Caller<'_>,
    token: Option<&ProgressToken>,
    n: CallNotification,
) {
    let notification = match n {
        CallNotification::Progress(mut p) => {
            let Some(token) = token else { return };
            p.progress_token = token.clone();
            ServerNotification::ProgressNotification(ProgressNotification::new(p))
        }
        CallNotification::Log(mut m) => {
            if severity(m.level) < severity(caller.log_level()) {
                return;
            }
            m.logger = Some(match &m.logger {
                Some(l) => format!("{server}/{l}"),
                None => server.to_string(),
            });
            ServerNotification::LoggingMessageNotification(LoggingMessageNotification::new(m))
        }
    };
    Box::pin(caller.back.notify(notification)).await;
}

/// A 2026-only server asked a session client for input: asks the client and sends the call
/// again with the answers.
async fn another_round(
    mut flight: Flight,
    ir: InputRequiredResult,
    caller: &Caller<'_>,
) -> Result<Flight, UpstreamOrState> {
    flight.rounds += 1;
    if flight.rounds > MAX_ROUNDS {
        return Err(UpstreamOrState::Refused(ErrorData::internal_error(
            format!("server \"{}\" asked for input more than {MAX_ROUNDS} times in one call; Loopgate stopped it", flight.server),
            None,
        )));
    }
    let mut answers = InputResponses::new();
    for (key, request) in ir.input_requests.unwrap_or_default() {
        let Some(request) = as_server_request(request) else {
            continue;
        };
        let answer = ask_client(caller.back, caller.capabilities(), request)
            .await
            .map_err(UpstreamOrState::Refused)?;
        answers.insert(key, serde_json::to_value(answer).unwrap_or_default());
    }
    let Some(resend) = &flight.resend else {
        // Only a 2026-07-28 server asks for input by answering; this call went on a session.
        return Err(UpstreamOrState::Refused(ErrorData::internal_error(
            format!(
                "server \"{}\" asked for input in its answer on a session, which cannot carry \
                 the client's responses back",
                flight.server
            ),
            None,
        )));
    };
    flight.future = resend.again(answers, ir.request_state, flight.cancel.clone());
    Ok(flight)
}

/// Records a server's request for a stateless caller: under a new key when the caller can
/// answer it, else answered at once with the spec's error.
fn add_waiting(flight: &mut Flight, inbound: Inbound, caps: &ClientCapabilities) {
    if let Err(e) = check_capability(caps, &inbound.request) {
        let _ = inbound.reply.send(Err(e));
        return;
    }
    if as_input_request(&inbound.request).is_none() {
        let method = method_of(&inbound.request);
        let _ = inbound.reply.send(Err(ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("{method} cannot be passed to a 2026-07-28 client"),
            None,
        )));
        return;
    }
    flight.next_key += 1;
    let key = format!("loopgate-{}", flight.next_key);
    flight.waiting.insert(key, Waiting { inbound });
}

/// Parks `flight` and returns what the stateless caller gets: its questions and a sealed
/// state.
fn park(gw: &Gateway, flight: Flight, caller: &Caller<'_>) -> ServerResult {
    let requests: InputRequests = flight
        .waiting
        .iter()
        .filter_map(|(k, w)| as_input_request(&w.inbound.request).map(|r| (k.clone(), r)))
        .collect();
    let parked = Parked {
        server: flight.server,
        future: flight.future,
        cancel: flight.cancel,
        inbound: flight.inbound,
        notifications: flight.notifications,
        waiting: flight.waiting,
        next_key: flight.next_key,
        since: std::time::Instant::now(),
    };
    let id = gw.parked.park(parked);
    let state = gw.sealer.seal(StateKind::Parked { id }, caller.label());
    ServerResult::InputRequiredResult(InputRequiredResult::new(Some(requests), Some(state)))
}

/// A stateless caller's retry of a parked call: answers what it answered, asks again what it
/// did not (or answered with something that is not an answer), and goes on.
async fn resume(
    gw: &Gateway,
    parked: Parked,
    answers: &InputResponses,
    caller: &Caller<'_>,
) -> Result<ServerResult, UpstreamOrState> {
    let mut flight = Flight {
        server: parked.server,
        future: parked.future,
        cancel: parked.cancel,
        inbound: parked.inbound,
        notifications: parked.notifications,
        waiting: BTreeMap::new(),
        next_key: parked.next_key,
        resend: None,
        rounds: 0,
    };
    for (key, w) in parked.waiting {
        match answers
            .get(&key)
            .and_then(|v| pending::parse_answer(&w.inbound.request, v))
        {
            Some(answer) => {
                let _ = w.inbound.reply.send(Ok(answer));
            }
            None => {
                flight.waiting.insert(key, w);
            }
        }
    }
    if !flight.waiting.is_empty() {
        return Ok(park(gw, flight, caller));
    }
    drive(gw, flight, caller).await
}
