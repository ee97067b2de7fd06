//! One server's task: resolve its secrets, connect, watch, and decide what comes next — retry
//! with backoff ([`super::restart`]), wait for the keychain or an OAuth sign-in, or park.
//! Started and stopped by the supervisor; publishes through [`Shared`].
//!
//! ```text
//!   ┌─> resolve secrets ──missing──> failed (until the secret is set: restart)
//!   │        │ keychain locked ──> failed, retry in 5 s ──┐
//!   │        v                                            │
//!   │     connect ──401──> needs sign-in ── signed in ────┤
//!   │        │ error                                       │
//!   │        v                                            │
//!   │     watch (ready) ── lost ──> failed, backoff ──────┤ (or parked: stdio crash loop)
//!   └──────────────────────────────────────────────────────┘
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::connection::{Live, UpstreamError};
use super::logs::LogBuffer;
use super::restart::{Next, Restarts};
use super::state::Shared;
use super::ServerState;
use super::{stdio, streamable, watch};
use crate::config::Backend;
use crate::oauth::{Challenge, OAuthSettings, Trigger};
use crate::secrets::{SecretError, SecretStore};

/// How often a server whose secrets could not be read (locked or silent keychain) tries again.
const SECRET_RETRY: Duration = Duration::from_secs(5);
/// Automatic sign-ins for more scope (HTTP 403 `insufficient_scope`) per server start; with the
/// first sign-in that makes at most three authorizations before the user must act (the
/// conformance suite's `auth/scope-retry-limit`).
pub const MAX_STEP_UPS: u32 = 2;

/// How one attempt ended.
pub(super) enum End {
    /// The server was stopped.
    Stop,
    /// The connection failed or was lost.
    Lost(String),
    /// The server refused the tokens (401): a sign-in is needed.
    SignIn(Challenge),
    /// A sign-in completed while connected: reconnect with the new tokens.
    Reconnect,
    /// A secret could not be read because the keychain is locked or silent.
    KeychainBusy(String),
    /// A referenced secret is not set.
    SecretMissing(String),
}

/// One server's task.
pub(super) struct Runner {
    pub(super) shared: Arc<Shared>,
    pub(super) name: String,
    pub(super) backend: Backend,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) logs: Arc<LogBuffer>,
    pub(super) ct: CancellationToken,
    pub(super) step_ups: std::sync::atomic::AtomicU32,
}

impl Runner {
    /// Runs the server until cancelled (see the module diagram).
    pub(super) async fn run(self) {
        let span = tracing::info_span!("server", server = %self.name);
        self.run_inner().instrument(span).await
    }

    async fn run_inner(self) {
        let mut restarts = Restarts::new(matches!(self.backend, Backend::Stdio { .. }));
        // A reconnect after a failure counts as a restart; one after a sign-in does not.
        let mut count_restart = false;
        loop {
            if count_restart {
                self.shared.update(&self.name, |v| {
                    v.status.state = ServerState::Starting;
                    v.status.restarts += 1;
                });
            }
            count_restart = true;
            let started = Instant::now();
            let error = match self.attempt().await {
                End::Stop => return,
                End::Reconnect => {
                    count_restart = false;
                    continue;
                }
                End::KeychainBusy(message) => {
                    self.fail(format!("{message} — trying again in {} s", SECRET_RETRY.as_secs()));
                    count_restart = false;
                    if !self.sleep(SECRET_RETRY).await {
                        return;
                    }
                    continue;
                }
                End::SecretMissing(message) => {
                    // Retrying cannot help until the secret is set, which restarts this server.
                    self.park(message);
                    self.ct.cancelled().await;
                    return;
                }
                End::SignIn(challenge) => match self.oauth() {
                    Some((url, settings)) => {
                        if !self.wait_for_sign_in(&url, &settings, challenge).await {
                            return;
                        }
                        restarts.reset();
                        count_restart = false;
                        continue;
                    }
                    None => format!(
                        "server \"{}\" refused the request (HTTP 401/403): check its Authorization header, or remove \"auth\": \"none\" to sign in with OAuth",
                        self.name
                    ),
                },
                End::Lost(e) => e,
            };
            match restarts.failed(started.elapsed()) {
                Next::Park { failures } => {
                    self.park(format!("{error} — gave up after {failures} failed starts in a row; fix the server and restart or re-enable it"));
                    self.ct.cancelled().await;
                    return;
                }
                Next::RetryIn(delay) => {
                    self.fail(format!(
                        "{error} — retrying in {:.1} s",
                        delay.as_secs_f32()
                    ));
                    if !self.sleep(delay).await {
                        return;
                    }
                }
            }
        }
    }

    /// Sleeps `delay`; false when stopped meanwhile.
    async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = self.ct.cancelled() => false,
        }
    }

    /// Publishes `failed` with `message` (logged and kept in the server's log); it will be
    /// retried.
    fn fail(&self, message: String) {
        self.publish_failure(message, false);
    }

    /// Publishes `failed` with `message`, as [`Runner::fail`], marked as not retried.
    fn park(&self, message: String) {
        self.publish_failure(message, true);
    }

    fn publish_failure(&self, message: String, parked: bool) {
        tracing::warn!("{message}");
        self.logs.push("gateway", &message);
        self.shared.update(&self.name, |v| {
            v.status.state = ServerState::Failed;
            v.status.last_error = Some(message);
            v.status.pid = None;
            v.status.connected_since_ms = None;
            v.status.parked = parked;
        });
    }

    /// The server's URL and OAuth options, when Loopgate may sign in to it.
    fn oauth(&self) -> Option<(String, OAuthSettings)> {
        match &self.backend {
            Backend::Http {
                url,
                oauth: Some(settings),
                ..
            } => Some((url.clone(), settings.clone())),
            _ => None,
        }
    }

    /// One attempt: secrets, tokens, connect, then watch until the connection ends.
    async fn attempt(&self) -> End {
        let backend = match resolve(&self.backend, &self.shared.secrets).await {
            Ok(b) => b,
            Err(e) if e.is_transient() => {
                return End::KeychainBusy(format!("server \"{}\": {e}", self.name))
            }
            Err(e) => return End::SecretMissing(format!("server \"{}\": {e}", self.name)),
        };
        let auth = match &backend {
            Backend::Http {
                url,
                oauth: Some(_),
                ..
            } => {
                match crate::oauth::flow::authorized_manager(&self.shared.secrets, &self.name, url)
                    .await
                {
                    Ok(auth) => auth,
                    Err(e) => return End::Lost(format!("server \"{}\": {e}", self.name)),
                }
            }
            _ => None,
        };
        let with_tokens = auth.is_some();
        let connected = tokio::select! {
            r = self.connect(&backend, auth) => r,
            _ = self.ct.cancelled() => return End::Stop,
        };
        drop(backend);
        match connected {
            Ok(live) => {
                // Signed in when connected with tokens; a server that let us in without any is
                // not an OAuth server (as far as we know).
                let signed_in = with_tokens.then_some(true);
                self.shared
                    .update(&self.name, |v| v.status.signed_in = signed_in);
                if let Some(d) = self.shared.downstream() {
                    live.connection.routes().set_downstream(d);
                }
                watch::Watch {
                    runner: self,
                    oauth: self.oauth(),
                }
                .run(live)
                .await
            }
            Err(UpstreamError::Auth { challenge, .. }) => End::SignIn(challenge),
            Err(e) => End::Lost(e.to_string()),
        }
    }

    /// Connects to `backend` (secrets resolved) with its transport.
    async fn connect(
        &self,
        backend: &Backend,
        auth: Option<rmcp::transport::auth::AuthorizationManager>,
    ) -> Result<Live, UpstreamError> {
        match backend {
            Backend::Stdio {
                command,
                args,
                env,
                cwd,
                inherit_env,
            } => {
                let spec = stdio::StdioSpec {
                    command: command.clone(),
                    args: args.clone(),
                    env: env.clone(),
                    cwd: cwd.clone(),
                    inherit_env: inherit_env.clone(),
                };
                let options = stdio::ConnectOptions {
                    connect_timeout: self.connect_timeout,
                    request_timeout: self.request_timeout,
                    logs: self.logs.clone(),
                };
                stdio::connect(&self.name, &spec, &options).await
            }
            Backend::Http { url, headers, .. } => {
                let options = streamable::ConnectOptions {
                    connect_timeout: self.connect_timeout,
                    request_timeout: self.request_timeout,
                    logs: self.logs.clone(),
                };
                streamable::connect(&self.name, url, headers, auth, &options).await
            }
        }
    }

    /// Publishes "needs sign-in", asks the hub for a sign-in (automatic ones at most once until
    /// one succeeds) and waits until a sign-in succeeds. Returns false when stopped meanwhile.
    async fn wait_for_sign_in(
        &self,
        url: &str,
        settings: &OAuthSettings,
        challenge: Challenge,
    ) -> bool {
        let hub = &self.shared.oauth;
        let mut generation = hub.generation(&self.name);
        generation.borrow_and_update();
        let message = UpstreamError::Auth {
            server: self.name.clone(),
            challenge: challenge.clone(),
        }
        .to_string();
        tracing::warn!("{message}");
        self.logs.push("gateway", &message);
        self.shared.update(&self.name, |v| {
            v.status.state = ServerState::NeedsSignIn;
            v.status.last_error = Some(message);
            v.status.signed_in = Some(false);
            v.status.pid = None;
            v.status.connected_since_ms = None;
        });
        let step_up = matches!(challenge, Challenge::MoreScope(_));
        if step_up && !self.may_step_up() {
            self.logs.push("gateway", "the server keeps asking for more permissions (HTTP 403 insufficient_scope); not signing in again automatically — use \"Sign in\" to retry");
        } else {
            let begun = hub.begin(
                &self.name,
                url,
                settings,
                Some(challenge.header().to_string()),
                Trigger::Auto,
            );
            tracing::debug!(?begun, "sign-in requested");
        }
        tokio::select! {
            r = generation.changed() => r.is_ok(),
            _ = self.ct.cancelled() => false,
        }
    }

    /// Counts an automatic sign-in for more scope; false once [`MAX_STEP_UPS`] were used.
    pub(super) fn may_step_up(&self) -> bool {
        self.step_ups
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            < MAX_STEP_UPS
    }
}

/// `backend` with every `${secret:NAME}` in env values, header values and the OAuth client
/// secret replaced, in memory.
async fn resolve(backend: &Backend, secrets: &SecretStore) -> Result<Backend, SecretError> {
    Ok(match backend {
        Backend::Stdio {
            command,
            args,
            env,
            cwd,
            inherit_env,
        } => {
            let mut resolved = Vec::with_capacity(env.len());
            for (k, v) in env {
                resolved.push((k.clone(), secrets.resolve(v).await?));
            }
            Backend::Stdio {
                command: command.clone(),
                args: args.clone(),
                env: resolved,
                cwd: cwd.clone(),
                inherit_env: inherit_env.clone(),
            }
        }
        Backend::Http {
            url,
            headers,
            oauth,
        } => {
            let mut resolved = Vec::with_capacity(headers.len());
            for (k, v) in headers {
                resolved.push((k.clone(), secrets.resolve(v).await?));
            }
            let oauth = match oauth {
                Some(o) => Some(o.resolved(secrets).await?),
                None => None,
            };
            Backend::Http {
                url: url.clone(),
                headers: resolved,
                oauth,
            }
        }
    })
}
