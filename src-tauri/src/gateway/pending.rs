//! Calls of stateless (2026-07-28) clients that wait for the client's input, and the
//! `requestState` that finds them again.
//!
//! A 2026-07-28 client cannot be asked anything mid-call: when a server asks for sampling,
//! elicitation or roots during its call, the gateway answers the client with an
//! `InputRequiredResult` and **parks** the call (the server's request stays open). The client's
//! retry carries `inputResponses` and the `requestState` the gateway gave it; the gateway
//! answers the server's requests with them and goes on with the call.
//!
//! Every `requestState` the gateway hands out is **sealed**: HMAC-SHA256 with a key made at
//! start-up, over what it refers to, the caller's identity and the time it was issued. A state
//! that was altered, belongs to another client (another credential), names another server or
//! is older than its lifetime is refused; so one client can never touch another's pending call.
//! A server's own `requestState` (a 2026-07-28 server that returns `InputRequiredResult`
//! itself) is sealed the same way around it, bound to that server. Parked calls expire after
//! [`PARKED_TTL`]: the server's requests are then answered with an error and the call
//! cancelled.

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rmcp::model::{ClientResult, ErrorData, ServerResult};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::upstream::{Inbound, UpstreamError};

/// How long a parked call waits for the client's retry.
pub const PARKED_TTL: Duration = Duration::from_secs(600);
/// How long a server's sealed `requestState` stays usable.
pub const BACKEND_STATE_TTL: Duration = Duration::from_secs(3600);
/// Every sealed state starts with this.
const PREFIX: &str = "lg1.";

/// What a sealed `requestState` refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "camelCase")]
pub enum StateKind {
    /// A call parked here.
    Parked {
        /// Its id in [`ParkedCalls`].
        id: u64,
    },
    /// A server's own state.
    Backend {
        /// The server it belongs to.
        server: String,
        /// The state as the server sent it.
        state: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Body {
    #[serde(flatten)]
    kind: StateKind,
    /// The caller's label ([`crate::caller::Caller::label`]).
    c: String,
    /// When it was issued, ms since the Unix epoch.
    t: u64,
}

/// Why a `requestState` was refused. Messages are for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Not one Loopgate issued, or altered.
    #[error("the requestState was not issued by this gateway or was altered")]
    Tampered,
    /// Issued to another client.
    #[error("the requestState belongs to another client")]
    WrongCaller,
    /// Too old, or its call has ended.
    #[error("the requestState has expired or its call has ended; call the tool again")]
    Expired,
}

impl StateError {
    /// As a JSON-RPC error (invalid params).
    pub fn to_error(&self) -> ErrorData {
        ErrorData::invalid_params(self.to_string(), None)
    }
}

/// Seals and opens `requestState` values (see the module docs).
pub struct Sealer {
    key: [u8; 32],
}

impl Default for Sealer {
    fn default() -> Self {
        Self {
            key: rand::random(),
        }
    }
}

fn now_ms() -> u64 {
    crate::upstream::state::now_ms()
}

impl Sealer {
    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(payload);
        mac
    }

    /// Seals `kind` for `caller` (a label).
    pub fn seal(&self, kind: StateKind, caller: &str) -> String {
        let body = Body {
            kind,
            c: caller.to_string(),
            t: now_ms(),
        };
        let payload = serde_json::to_vec(&body).expect("state serializes");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!("{PREFIX}{}.{}", hex::encode(&payload), hex::encode(tag))
    }

    /// Whether `state` looks like one of ours (it may still be refused by [`Sealer::open`]).
    pub fn is_ours(state: &str) -> bool {
        state.starts_with(PREFIX)
    }

    /// Opens a sealed `state` presented by `caller`; checks integrity, owner and age (`ttl`
    /// for parked calls, [`BACKEND_STATE_TTL`] for server states).
    pub fn open(&self, state: &str, caller: &str) -> Result<StateKind, StateError> {
        let rest = state.strip_prefix(PREFIX).ok_or(StateError::Tampered)?;
        let (payload, tag) = rest.split_once('.').ok_or(StateError::Tampered)?;
        let payload = hex::decode(payload).map_err(|_| StateError::Tampered)?;
        let tag = hex::decode(tag).map_err(|_| StateError::Tampered)?;
        self.mac(&payload)
            .verify_slice(&tag)
            .map_err(|_| StateError::Tampered)?;
        let body: Body = serde_json::from_slice(&payload).map_err(|_| StateError::Tampered)?;
        if body.c != caller {
            return Err(StateError::WrongCaller);
        }
        let ttl = match body.kind {
            StateKind::Parked { .. } => PARKED_TTL,
            StateKind::Backend { .. } => BACKEND_STATE_TTL,
        };
        if now_ms().saturating_sub(body.t) > ttl.as_millis() as u64 {
            return Err(StateError::Expired);
        }
        Ok(body.kind)
    }
}

/// The backend call a parked call goes on with.
pub type CallFuture = Pin<Box<dyn Future<Output = Result<ServerResult, UpstreamError>> + Send>>;

/// A server's request waiting for the client's answer, under the key the client was given.
pub struct Waiting {
    /// The request and where its answer goes.
    pub inbound: Inbound,
}

/// A call waiting for its client's retry.
pub struct Parked {
    /// The server it runs on.
    pub server: String,
    /// The backend call.
    pub future: CallFuture,
    /// Cancels the backend call.
    pub cancel: CancellationToken,
    /// The server's further requests for this call.
    pub inbound: mpsc::Receiver<Box<Inbound>>,
    /// Its progress and log messages, in the order the server sent them.
    pub notifications: mpsc::Receiver<Box<crate::upstream::CallNotification>>,
    /// The server's requests the client has been asked to answer, by key.
    pub waiting: BTreeMap<String, Waiting>,
    /// Numbering of the keys.
    pub next_key: u32,
    /// When it was parked.
    pub since: Instant,
}

/// The parked calls of a gateway.
#[derive(Default)]
pub struct ParkedCalls {
    calls: Mutex<HashMap<u64, Parked>>,
    next: AtomicU64,
}

impl ParkedCalls {
    /// Parks `call`; returns its id. Expired calls are ended on the way.
    pub fn park(&self, mut call: Parked) -> u64 {
        self.expire();
        call.since = Instant::now();
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, call);
        id
    }

    /// Takes parked call `id` to go on with it.
    pub fn take(&self, id: u64) -> Option<Parked> {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
    }

    /// How many calls are parked.
    pub fn len(&self) -> usize {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends the calls parked longer than [`PARKED_TTL`]: their server's requests get an error,
    /// the backend calls are cancelled.
    pub fn expire(&self) {
        let expired: Vec<Parked> = {
            let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            let old: Vec<u64> = calls
                .iter()
                .filter(|(_, c)| c.since.elapsed() >= PARKED_TTL)
                .map(|(id, _)| *id)
                .collect();
            old.into_iter().filter_map(|id| calls.remove(&id)).collect()
        };
        for call in expired {
            end(call, "the client did not answer in time");
        }
    }
}

/// Ends a parked call: answers its waiting requests with `why` and cancels the backend call.
pub fn end(call: Parked, why: &str) {
    for (_, w) in call.waiting {
        let _ = w.inbound.reply.send(Err(ErrorData::internal_error(
            format!("Loopgate: {why}"),
            None,
        )));
    }
    call.cancel.cancel();
    let future = call.future;
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        // Polled to its end, so the server is told the call was cancelled.
        rt.spawn(async move {
            let _ = future.await;
        });
    }
}

/// The answer for `request` from a client's `inputResponses` value: parsed as the result type
/// of that request (`None` when it does not parse — the client is asked again).
pub fn parse_answer(
    request: &rmcp::model::ServerRequest,
    value: &serde_json::Value,
) -> Option<ClientResult> {
    use rmcp::model::ServerRequest as R;
    match request {
        R::CreateMessageRequest(_) => serde_json::from_value(value.clone())
            .ok()
            .map(|r| ClientResult::CreateMessageResult(Box::new(r))),
        R::ElicitRequest(_) => serde_json::from_value(value.clone())
            .ok()
            .map(ClientResult::ElicitResult),
        R::ListRootsRequest(_) => serde_json::from_value(value.clone())
            .ok()
            .map(ClientResult::ListRootsResult),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_bound_to_their_caller_and_cannot_be_altered() {
        let sealer = Sealer::default();
        let s = sealer.seal(StateKind::Parked { id: 7 }, "client:cursor");
        assert!(Sealer::is_ours(&s));
        assert_eq!(
            sealer.open(&s, "client:cursor"),
            Ok(StateKind::Parked { id: 7 })
        );
        assert_eq!(
            sealer.open(&s, "client:vscode"),
            Err(StateError::WrongCaller)
        );
        assert_eq!(
            sealer.open(&format!("{s}-TAMPERED"), "client:cursor"),
            Err(StateError::Tampered)
        );
        // Another id under the same tag.
        let forged = s.replacen(&hex::encode(r#""id":7"#), &hex::encode(r#""id":8"#), 1);
        assert_eq!(
            sealer.open(&forged, "client:cursor"),
            Err(StateError::Tampered)
        );
        // Another gateway's key.
        assert_eq!(
            Sealer::default().open(&s, "client:cursor"),
            Err(StateError::Tampered)
        );
        let b = sealer.seal(
            StateKind::Backend {
                server: "s".into(),
                state: "opaque".into(),
            },
            "gateway",
        );
        assert!(matches!(
            sealer.open(&b, "gateway"),
            Ok(StateKind::Backend { .. })
        ));
    }
}
