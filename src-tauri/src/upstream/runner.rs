//! One server's task: connect, list, watch, restart with backoff, and wait for an OAuth
//! sign-in when the server asks for one. Started and stopped by the [`Supervisor`]; publishes
//! through its shared state.
//!
//! [`Supervisor`]: super::Supervisor

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::connection::{self, Connection, Live, UpstreamError};
use super::logs::LogBuffer;
use super::supervisor::{
    now_ms, Catalog, Event, Inner, BACKOFF_MAX, BACKOFF_START, MAX_RAPID_CRASHES, MAX_STEP_UPS,
    STABLE_AFTER,
};
use super::ServerState;
use crate::config::Backend;
use crate::oauth::{Challenge, OAuthSettings, Trigger};
use crate::secrets::{SecretError, SecretStore};
use tokio_util::sync::CancellationToken;

/// How often a server whose secrets could not be read (locked or silent keychain) tries again.
const SECRET_RETRY: Duration = Duration::from_secs(5);

/// Why a connected backend stopped being watched.
enum End {
    Stop,
    Lost(String),
    /// The server refused the tokens (401): a sign-in is needed.
    SignIn(Challenge),
    /// A sign-in completed while connected: reconnect with the new tokens.
    Reconnect,
}

pub(super) struct Runner {
    pub(super) inner: Arc<Inner>,
    pub(super) name: String,
    pub(super) backend: Backend,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) logs: Arc<LogBuffer>,
    pub(super) ct: CancellationToken,
    pub(super) step_ups: std::sync::atomic::AtomicU32,
}

impl Runner {
    /// Runs the server until cancelled: connect, watch, restart with backoff, wait for sign-in.
    pub(super) async fn run(self) {
        let span = tracing::info_span!("server", server = %self.name);
        let _enter = span.enter();
        drop(_enter);
        let mut backoff = BACKOFF_START;
        let mut rapid_crashes = 0u32;
        // A reconnect after a failure counts as a restart; one after a sign-in does not.
        let mut count_restart = false;
        loop {
            if count_restart {
                self.inner.update(&self.name, |v| {
                    v.status.state = ServerState::Starting;
                    v.status.restarts += 1;
                });
            }
            count_restart = true;
            let started = Instant::now();
            let backend = match resolve(&self.backend, &self.inner.secrets).await {
                Ok(b) => b,
                Err(e) if e.is_transient() => {
                    // The keychain is locked or not answering: try again until it does.
                    let message = format!(
                        "server \"{}\": {e} — trying again in {} s",
                        self.name,
                        SECRET_RETRY.as_secs()
                    );
                    tracing::warn!(server = %self.name, "{message}");
                    self.logs.push("gateway", &message);
                    self.inner.update(&self.name, |v| {
                        v.status.state = ServerState::Failed;
                        v.status.last_error = Some(message);
                    });
                    count_restart = false;
                    tokio::select! {
                        _ = tokio::time::sleep(SECRET_RETRY) => continue,
                        _ = self.ct.cancelled() => return,
                    }
                }
                Err(e) => {
                    // A missing secret: retrying cannot help until it is set, which restarts
                    // this server.
                    let message = format!("server \"{}\": {e}", self.name);
                    tracing::warn!(server = %self.name, "{message}");
                    self.logs.push("gateway", &message);
                    self.inner.update(&self.name, |v| {
                        v.status.state = ServerState::Failed;
                        v.status.last_error = Some(message);
                    });
                    self.ct.cancelled().await;
                    return;
                }
            };
            let oauth = match &backend {
                Backend::Http {
                    url,
                    oauth: Some(settings),
                    ..
                } => Some((url.clone(), settings.clone())),
                _ => None,
            };
            let auth = match &oauth {
                Some((url, _)) => {
                    crate::oauth::flow::authorized_manager(&self.inner.secrets, &self.name, url)
                        .await
                        .map_err(|e| format!("server \"{}\": {e}", self.name))
                }
                None => Ok(None),
            };
            let outcome = match auth {
                Err(error) => End::Lost(error),
                Ok(auth) => {
                    let with_tokens = auth.is_some();
                    let connected = tokio::select! {
                        r = connection::connect(&self.name, &backend, auth, self.connect_timeout, self.request_timeout, self.logs.clone()) => r,
                        _ = self.ct.cancelled() => return,
                    };
                    match connected {
                        Ok(live) => {
                            // Signed in when connected with tokens; a server that let us in
                            // without any is not an OAuth server (as far as we know).
                            let signed_in = with_tokens.then_some(true);
                            self.inner
                                .update(&self.name, |v| v.status.signed_in = signed_in);
                            self.watch(live, oauth.as_ref()).await
                        }
                        Err(UpstreamError::Auth { challenge, .. }) => End::SignIn(challenge),
                        Err(e) => End::Lost(e.to_string()),
                    }
                }
            };
            drop(backend);
            let error = match outcome {
                End::Stop => return,
                End::Reconnect => {
                    count_restart = false;
                    continue;
                }
                End::SignIn(challenge) => match &oauth {
                    Some((url, settings)) => {
                        if !self.wait_for_sign_in(url, settings, challenge).await {
                            return;
                        }
                        backoff = BACKOFF_START;
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
            tracing::warn!(server = %self.name, "{error}");
            self.logs.push("gateway", &error);
            if started.elapsed() >= STABLE_AFTER {
                rapid_crashes = 0;
                backoff = BACKOFF_START;
            }
            rapid_crashes += 1;
            let parked =
                matches!(self.backend, Backend::Stdio { .. }) && rapid_crashes >= MAX_RAPID_CRASHES;
            let message = if parked {
                format!("{error} — gave up after {rapid_crashes} failed starts in a row; fix the server and restart or re-enable it")
            } else {
                format!("{error} — retrying in {:.1} s", backoff.as_secs_f32())
            };
            self.inner.update(&self.name, |v| {
                v.status.state = ServerState::Failed;
                v.status.last_error = Some(message);
                v.status.pid = None;
                v.status.connected_since_ms = None;
            });
            if parked {
                self.ct.cancelled().await;
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = self.ct.cancelled() => return,
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
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
        let hub = &self.inner.oauth;
        let mut generation = hub.generation(&self.name);
        generation.borrow_and_update();
        let message = UpstreamError::Auth {
            server: self.name.clone(),
            challenge: challenge.clone(),
        }
        .to_string();
        tracing::warn!(server = %self.name, "{message}");
        self.logs.push("gateway", &message);
        self.inner.update(&self.name, |v| {
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
            tracing::debug!(server = %self.name, ?begun, "sign-in requested");
        }
        tokio::select! {
            r = generation.changed() => r.is_ok(),
            _ = self.ct.cancelled() => false,
        }
    }

    /// Counts an automatic sign-in for more scope; false once [`MAX_STEP_UPS`] were used.
    fn may_step_up(&self) -> bool {
        self.step_ups
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            < MAX_STEP_UPS
    }

    /// Lists the catalog, publishes `ready`, then watches the connection until it ends. With
    /// `oauth` (the server's URL and OAuth options) a 403 `insufficient_scope` starts a step-up
    /// sign-in and a completed sign-in reconnects.
    async fn watch(&self, live: Live, oauth: Option<&(String, OAuthSettings)>) -> End {
        let Live {
            connection,
            mut service,
            mut child,
            changed,
        } = live;
        let pid = child.as_ref().and_then(|c| c.pid());
        let listing = self.refresh(&connection, pid).await;
        tracing::info!(server = %self.name, protocol = ?connection.protocol_version(), "connected");
        let session = match connection.session().map(|o| o.session_id()) {
            Some(Some(_)) => ", the server issued a session",
            Some(None) => ", stateless (no session issued)",
            None => "",
        };
        let protocol = connection.protocol_version().unwrap_or_else(|| "?".into());
        let process = pid.map(|p| format!(", process {p}")).unwrap_or_default();
        self.logs.push(
            "gateway",
            &format!("connected: protocol {protocol}{session}{process}"),
        );
        if let Err(e) = listing {
            self.inner.update(&self.name, |v| {
                v.status.state = ServerState::Degraded;
                v.status.last_error = Some(format!("connected, but listing failed: {e}"));
            });
        }
        let listener = connection::follow_list_changes(&connection, changed.clone());
        let observer = connection.session().cloned();
        let mut signed_in_again = self.inner.oauth.generation(&self.name);
        signed_in_again.borrow_and_update();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let end = loop {
            let reinit = async {
                match &observer {
                    Some(o) => o.reinitialized().await,
                    None => std::future::pending().await,
                }
            };
            let exited = async {
                match child.as_mut() {
                    Some(c) => c.wait().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.ct.cancelled() => break End::Stop,
                _ = changed.notified() => {
                    if let Err(e) = self.refresh(&connection, pid).await {
                        self.mark_degraded(e);
                    }
                }
                _ = reinit => {
                    let note = "the server forgot its session (HTTP 404); re-initialized and re-listed tools".to_string();
                    self.logs.push("gateway", &note);
                    tracing::info!(server = %self.name, "{note}");
                    self.inner.update(&self.name, |v| v.status.reinitializations += 1);
                    if let Err(e) = self.refresh(&connection, pid).await {
                        self.mark_degraded(e);
                    }
                }
                exit = exited => break End::Lost(format!("server \"{}\" process {exit}", self.name)),
                challenge = connection.auth_failed() => match (challenge, oauth) {
                    (Challenge::MoreScope(header), Some((url, settings))) => {
                        if self.may_step_up() {
                            let note = "the server wants more permissions for a request (HTTP 403 insufficient_scope); started a sign-in to grant them";
                            self.logs.push("gateway", note);
                            self.inner.oauth.begin(&self.name, url, settings, Some(header), Trigger::Auto);
                        } else {
                            let note = "the server keeps asking for more permissions (HTTP 403 insufficient_scope); not signing in again automatically — use \"Sign in\" to retry";
                            self.logs.push("gateway", note);
                        }
                    }
                    (challenge, _) => break End::SignIn(challenge),
                },
                r = signed_in_again.changed(), if oauth.is_some() => {
                    if r.is_ok() {
                        self.logs.push("gateway", "signed in again; reconnecting with the new tokens");
                        break End::Reconnect;
                    }
                }
                _ = tick.tick() => {
                    if service.is_closed() || connection.peer().is_transport_closed() {
                        break End::Lost(format!("server \"{}\": the connection closed", self.name));
                    }
                }
            }
        };
        if let Some(l) = listener {
            l.abort();
        }
        // Take the tools away first, so clients stop routing to a dying backend.
        self.inner.update(&self.name, |v| {
            v.connection = None;
            v.catalog = Arc::default();
            v.status.tool_count = 0;
        });
        self.inner.emit(Event::CatalogChanged(self.name.clone()));
        // Ends the session: closes the child's stdin / DELETEs the HTTP session.
        let _ = tokio::time::timeout(Duration::from_secs(5), service.close()).await;
        drop(service);
        if let Some(c) = child.take() {
            c.stop().await;
        }
        if matches!(end, End::Stop) {
            self.inner.update(&self.name, |v| {
                v.status.pid = None;
                v.status.connected_since_ms = None;
            });
        }
        end
    }

    fn mark_degraded(&self, e: UpstreamError) {
        self.inner.update(&self.name, |v| {
            v.status.state = ServerState::Degraded;
            v.status.last_error = Some(format!("re-listing failed: {e}"));
        });
    }

    /// Re-lists tools, prompts and resources and publishes them with a `ready` state.
    async fn refresh(
        &self,
        connection: &Arc<Connection>,
        pid: Option<u32>,
    ) -> Result<(), UpstreamError> {
        let tools = connection.list_tools().await?;
        let prompts = connection.list_prompts().await.unwrap_or_default();
        let (resources, resource_templates) = connection.list_resources().await.unwrap_or_default();
        let catalog = Arc::new(Catalog {
            tools,
            prompts,
            resources,
            resource_templates,
        });
        let session = connection.session().map(|o| o.session_id());
        let protocol = connection.protocol_version();
        self.inner.update(&self.name, |v| {
            v.status.state = ServerState::Ready;
            v.status.last_error = None;
            v.status.protocol_version = protocol;
            v.status.session_issued = session.as_ref().map(|s| s.is_some());
            v.status.session_id = session.flatten();
            v.status.tool_count = catalog.tools.len();
            v.status.pid = pid;
            if v.status.connected_since_ms.is_none() || v.connection.is_none() {
                v.status.connected_since_ms = Some(now_ms());
            }
            v.connection = Some(connection.clone());
            v.catalog = catalog;
        });
        self.inner.emit(Event::CatalogChanged(self.name.clone()));
        Ok(())
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
