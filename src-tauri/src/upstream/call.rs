//! A relayed call sent past rmcp's client service: what the two direct exchanges share.
//!
//! rmcp's client service passes every request through its service task (and, over Streamable
//! HTTP, its transport worker) and the answer back the same way. On an initialize-based
//! session the gateway sends the calls it relays itself instead, and waits for the answer in
//! the caller's own task: [`crate::upstream::streamable::exchange`] over HTTP,
//! [`crate::upstream::stdio::exchange`] over a stdio server's pipe. Both use what is here:
//!
//! - [`keys`]: the request id and progress token of the `n`-th direct call. They are strings,
//!   so they never collide with rmcp's numeric ones on the same session. [`Call::key`] puts
//!   them on the request and registers the call's route under them.
//! - [`Call::wait`]: the call's timeout, moved on by progress ([`Alive`]) up to its hard
//!   timeout, and its cancellation by the caller. When a call gives up, [`GaveUp::tell`] tells
//!   the server (`notifications/cancelled`) and makes the caller's error.
//! - [`Outcome`]: the answer, or the request back when the exchange did not send it (the
//!   session is not ready, or the server did not take it), to go rmcp's way.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CancelledNotificationParam, ClientRequest, GetMeta, NumberOrString, ProgressToken, RequestId,
    ServerResult,
};
use rmcp::{Peer, RoleClient};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::UpstreamError;
use super::routes::{CallRoute, Channel, Registration, Routes};

/// How a direct exchange ended.
pub enum Outcome {
    /// The server answered (or the call failed, timed out or was cancelled).
    Answered(Result<ServerResult, UpstreamError>),
    /// The exchange did not send the request (the session is not ready, it expired, the server
    /// wants OAuth, or the pipe is closed): send it the usual way.
    NotSent(ClientRequest),
}

/// What one call needs besides its request.
pub struct Call<'a> {
    /// Where the server's messages for it go (`None`: nowhere, e.g. a gateway-internal call).
    pub route: Option<Arc<CallRoute>>,
    /// Cancelled by the caller.
    pub cancel: &'a CancellationToken,
    /// Time without an answer or progress before the call fails.
    pub timeout: Duration,
    /// Time the call may take at most, progress or not.
    pub hard_timeout: Duration,
}

/// Why a call ended without its answer.
#[derive(Debug, PartialEq, Eq)]
pub enum GaveUp {
    /// No answer within this time: the call's timeout, or its hard timeout when that came
    /// first.
    TimedOut(Duration),
    /// The caller cancelled the call.
    Cancelled,
    /// The answer was larger than the transport takes (this many MiB), and was dropped.
    TooLarge {
        /// The limit, in MiB.
        limit_mib: usize,
    },
}

impl GaveUp {
    /// Tells server `server` (through its session's `peer`) that request `id` is abandoned
    /// (`notifications/cancelled`, with the reason), and returns the caller's error:
    /// [`UpstreamError::Timeout`], `Cancelled` or `TooLarge`.
    pub async fn tell(
        self,
        peer: &Peer<RoleClient>,
        server: &str,
        id: &RequestId,
    ) -> UpstreamError {
        let reason = match self {
            GaveUp::TimedOut(_) => "timed out",
            GaveUp::Cancelled => "cancelled by the client",
            GaveUp::TooLarge { .. } => "response too large",
        };
        let param = CancelledNotificationParam::new(Some(id.clone()), Some(reason.into()));
        let _ = peer.notify_cancelled(param).await;
        let server = server.to_string();
        match self {
            GaveUp::TimedOut(total) => UpstreamError::Timeout {
                server,
                timeout_ms: total.as_millis(),
            },
            GaveUp::Cancelled => UpstreamError::Cancelled { server },
            GaveUp::TooLarge { limit_mib } => UpstreamError::TooLarge { server, limit_mib },
        }
    }
}

/// When the server last showed life for a call: its start, then each progress notification.
/// Shared between the call and whatever reads the server's messages.
#[derive(Debug)]
pub struct Alive(Mutex<Instant>);

impl Alive {
    /// Alive now.
    pub fn new() -> Arc<Alive> {
        Arc::new(Alive(Mutex::new(Instant::now())))
    }

    /// The server showed life now (it reported progress).
    pub fn touch(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// When the server last showed life.
    pub fn at(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The request id and progress token of direct call number `n` (see the module docs).
pub fn keys(n: u64) -> (RequestId, ProgressToken) {
    let key = NumberOrString::String(format!("loopgate-{n}").into());
    (key.clone(), ProgressToken(key))
}

/// A direct call's keys, and its place in the connection's routes.
pub struct Keyed {
    /// The request's id.
    pub id: RequestId,
    /// The request's progress token.
    pub token: ProgressToken,
    /// The call's route while it runs (`None` without a route); removed when dropped.
    pub registration: Option<Registration>,
}

impl Call<'_> {
    /// Keys `request` as direct call number `n` ([`keys`]): puts the progress token in its
    /// `_meta` and registers the call's route on `channel` in `routes` under both keys,
    /// before the request leaves (the server may turn to its client at once).
    pub fn key(
        &self,
        routes: &Arc<Routes>,
        channel: Channel,
        n: u64,
        request: &mut ClientRequest,
    ) -> Keyed {
        let (id, token) = keys(n);
        request.get_meta_mut().set_progress_token(token.clone());
        let registration = self.route.as_ref().map(|route| {
            let r = routes.register(channel, route.clone());
            r.sent(id.clone(), token.clone());
            r
        });
        Keyed {
            id,
            token,
            registration,
        }
    }

    /// Waits for `answer` until the call times out or is cancelled ([`GaveUp::TimedOut`],
    /// [`GaveUp::Cancelled`]). The timeout runs from the last time `alive` was touched, but
    /// never past `hard_timeout` from now.
    pub async fn wait<T>(
        &self,
        answer: impl Future<Output = T>,
        alive: &Alive,
    ) -> Result<T, GaveUp> {
        let hard_deadline = Instant::now() + self.hard_timeout;
        let due = || (alive.at() + self.timeout).min(hard_deadline);
        tokio::pin!(answer);
        let timer = tokio::time::sleep_until(due());
        tokio::pin!(timer);
        loop {
            tokio::select! {
                a = &mut answer => return Ok(a),
                _ = &mut timer => {
                    // Progress may have moved the deadline since the timer was set.
                    let due = due();
                    if Instant::now() < due {
                        timer.as_mut().reset(due);
                        continue;
                    }
                    let total = if due == hard_deadline { self.hard_timeout } else { self.timeout };
                    return Err(GaveUp::TimedOut(total));
                }
                _ = self.cancel.cancelled() => return Err(GaveUp::Cancelled),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(cancel: &CancellationToken, timeout_ms: u64, hard_ms: u64) -> Call<'_> {
        Call {
            route: None,
            cancel,
            timeout: Duration::from_millis(timeout_ms),
            hard_timeout: Duration::from_millis(hard_ms),
        }
    }

    #[tokio::test]
    async fn an_answer_in_time_is_returned() {
        let cancel = CancellationToken::new();
        let answer = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            7
        };
        let ended = call(&cancel, 1000, 5000).wait(answer, &Alive::new()).await;
        assert_eq!(ended, Ok(7));
    }

    #[tokio::test]
    async fn progress_moves_the_timeout_up_to_the_hard_one() {
        let cancel = CancellationToken::new();
        let alive = Alive::new();
        let keep_alive = async {
            loop {
                tokio::time::sleep(Duration::from_millis(30)).await;
                alive.touch();
            }
        };
        let started = Instant::now();
        let call = call(&cancel, 300, 900);
        let waited = call.wait(std::future::pending::<()>(), &alive);
        let ended = tokio::select! {
            e = waited => e,
            _ = keep_alive => unreachable!(),
        };
        assert_eq!(ended, Err(GaveUp::TimedOut(Duration::from_millis(900))));
        // Timers never fire early: without the progress it would have ended at 300 ms.
        assert!(started.elapsed() >= Duration::from_millis(900));
    }

    #[tokio::test]
    async fn silence_times_out_and_cancelling_ends_the_wait() {
        let cancel = CancellationToken::new();
        let started = Instant::now();
        let ended = call(&cancel, 100, 1000)
            .wait(std::future::pending::<()>(), &Alive::new())
            .await;
        assert_eq!(ended, Err(GaveUp::TimedOut(Duration::from_millis(100))));
        assert!(started.elapsed() >= Duration::from_millis(100));
        cancel.cancel();
        let ended = call(&cancel, 100, 1000)
            .wait(std::future::pending::<()>(), &Alive::new())
            .await;
        assert_eq!(ended, Err(GaveUp::Cancelled));
    }

    #[test]
    fn keys_are_strings_rmcp_never_uses() {
        let (id, token) = keys(3);
        assert_eq!(id, NumberOrString::String("loopgate-3".into()));
        assert_eq!(token.0, id);
    }
}
