//! The supervisor: one task per enabled backend, and the published status of every server.
//!
//! [`Supervisor::apply`] reconciles the running set with a config: new or changed servers are
//! (re)started, removed or disabled ones are stopped cleanly, unchanged ones are left alone.
//! Backends start in parallel; a slow or dead one never blocks another.
//!
//! Each task connects, lists the backend's tools/prompts/resources, then watches it: a
//! list-changed notification or an HTTP session re-initialization (backend forgot the session,
//! DESIGN.md rule 3) re-lists; a process exit or closed transport restarts it with exponential
//! backoff ([`BACKOFF_START`] doubling to [`BACKOFF_MAX`]). A stdio server that crashes
//! [`MAX_RAPID_CRASHES`] times in a row, each within [`STABLE_AFTER`] of starting, is parked
//! as `failed` until re-enabled or restarted. Every state change is stored in a lock-free
//! snapshot ([`Supervisor::snapshot`]) and announced as an [`Event`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use indexmap::IndexMap;
use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::connection::{self, Connection, Live, UpstreamError};
use super::logs::LogBuffer;
use super::ServerState;
use crate::config::{Backend, Config, GatewaySettings, ServerEntry};
use crate::oauth::{Challenge, Hub, OAuthSettings, Presenter, Trigger};
use crate::secrets::{SecretError, SecretStore};

/// First restart delay after a failure.
pub const BACKOFF_START: Duration = Duration::from_millis(500);
/// Longest restart delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A connection that lasted this long counts as stable: the crash count and backoff reset.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);
/// Consecutive rapid crashes after which a stdio server is parked as failed.
pub const MAX_RAPID_CRASHES: u32 = 5;
/// Automatic sign-ins for more scope (HTTP 403 `insufficient_scope`) per server start; with the
/// first sign-in that makes at most three authorizations before the user must act (the
/// conformance suite's `auth/scope-retry-limit`).
pub const MAX_STEP_UPS: u32 = 2;

/// Something changed; the gateway, UI and tray react to these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The status of server `name` changed (state, error, counters).
    StatusChanged(String),
    /// The tools/prompts/resources offered by server `name` changed (including appearing or
    /// disappearing when it connects, fails or is disabled).
    CatalogChanged(String),
}

/// What a server currently offers.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Tools, as the backend names them.
    pub tools: Vec<Tool>,
    /// Prompts, as the backend names them.
    pub prompts: Vec<Prompt>,
    /// Resources.
    pub resources: Vec<Resource>,
    /// Resource templates.
    pub resource_templates: Vec<ResourceTemplate>,
}

/// The published status of one server (what `loopgate servers` and `/api/servers` show).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    /// Server name (config key).
    pub name: String,
    /// `"stdio"` or `"http"`.
    pub transport: &'static str,
    /// Command line or URL (never env or header values).
    pub target: String,
    /// False when `"disabled": true`.
    pub enabled: bool,
    /// Lifecycle state.
    pub state: ServerState,
    /// The most recent error, if the server failed or restarted.
    pub last_error: Option<String>,
    /// Negotiated MCP protocol version.
    pub protocol_version: Option<String>,
    /// For HTTP servers: whether the backend issued an `Mcp-Session-Id` (false = stateless).
    pub session_issued: Option<bool>,
    /// For HTTP servers: the issued session id, for diagnostics.
    pub session_id: Option<String>,
    /// How often the backend forgot its session and Loopgate re-initialized.
    pub reinitializations: u32,
    /// Number of tools the backend lists (before `disabledTools`).
    pub tool_count: usize,
    /// How many times the server was restarted after a failure or exit.
    pub restarts: u32,
    /// When the current connection was established, in ms since the Unix epoch.
    pub connected_since_ms: Option<u64>,
    /// Process id of the stdio server, while running.
    pub pid: Option<u32>,
    /// For HTTP servers using OAuth: true while connected with Loopgate's tokens, false while
    /// a sign-in is needed; `None` when OAuth is not involved.
    pub signed_in: Option<bool>,
}

/// One server as the gateway sees it: status, live connection and catalog.
#[derive(Clone)]
pub struct ServerView {
    /// Published status.
    pub status: ServerStatus,
    /// The live connection, when `ready` or `degraded`.
    pub connection: Option<Arc<Connection>>,
    /// What it offers (empty unless connected).
    pub catalog: Arc<Catalog>,
    /// The server's recent stderr/log lines.
    pub logs: Arc<LogBuffer>,
    /// The config entry it runs with.
    pub entry: Arc<ServerEntry>,
}

/// All servers, in config order.
pub type Snapshot = IndexMap<String, ServerView>;

struct Slot {
    entry: ServerEntry,
    settings: (u64, u64),
    ct: CancellationToken,
    task: Option<JoinHandle<()>>,
}

struct Inner {
    secrets: SecretStore,
    oauth: Arc<Hub>,
    snapshot: ArcSwap<Snapshot>,
    events: broadcast::Sender<Event>,
    slots: tokio::sync::Mutex<IndexMap<String, Slot>>,
    publish_lock: Mutex<()>,
}

/// Starts, watches, restarts and stops backends. Cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Supervisor {
    /// A supervisor with no servers; `${secret:NAME}` references are resolved from `secrets`.
    /// Sign-in URLs of OAuth servers go to the log (see [`Supervisor::with_oauth`]).
    pub fn new(secrets: SecretStore) -> Self {
        let hub = Hub::new(secrets.clone(), Presenter::Log);
        Self::with_oauth(secrets, hub)
    }

    /// A supervisor whose OAuth sign-ins run through `oauth` (which decides how sign-in URLs
    /// reach the user).
    pub fn with_oauth(secrets: SecretStore, oauth: Arc<Hub>) -> Self {
        let (events, _) = broadcast::channel(1024);
        let mut sign_ins = oauth.subscribe();
        let inner = Arc::new(Inner {
            oauth,
            secrets,
            snapshot: ArcSwap::from_pointee(IndexMap::new()),
            events,
            slots: tokio::sync::Mutex::new(IndexMap::new()),
            publish_lock: Mutex::new(()),
        });
        // A sign-in starting, getting its URL or ending is a status change of that server (the
        // UI, tray and event stream show it).
        let weak = Arc::downgrade(&inner);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                loop {
                    let server = match sign_ins.recv().await {
                        Ok(server) => server,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    match weak.upgrade() {
                        Some(inner) => inner.emit(Event::StatusChanged(server)),
                        None => return,
                    }
                }
            });
        }
        Supervisor { inner }
    }

    /// The sign-ins of this gateway's OAuth servers.
    pub fn oauth(&self) -> &Arc<Hub> {
        &self.inner.oauth
    }

    /// The current view of every server (lock-free read).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.snapshot.load_full()
    }

    /// Subscribes to change events. Slow receivers may miss events (`Lagged`); re-read the
    /// snapshot then.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Reconciles the running servers with `config`: starts new and changed servers, stops
    /// removed and disabled ones, and keeps unchanged ones running. Returns once every change
    /// has been started (not once backends are ready).
    pub async fn apply(&self, config: &Config) {
        let mut slots = self.inner.slots.lock().await;
        let settings = (
            config.gateway.connect_timeout_ms,
            config.gateway.request_timeout_ms,
        );
        let removed: Vec<String> = slots
            .keys()
            .filter(|k| !config.mcp_servers.contains_key(*k))
            .cloned()
            .collect();
        for name in removed {
            if let Some(slot) = slots.shift_remove(&name) {
                stop_slot(slot).await;
            }
            self.inner.remove_view(&name);
        }
        for (name, entry) in &config.mcp_servers {
            if let Some(slot) = slots.get(name) {
                if slot.entry == *entry && slot.settings == settings {
                    continue;
                }
                let only_tools_changed = {
                    let mut a = slot.entry.clone();
                    a.disabled_tools = entry.disabled_tools.clone();
                    a == *entry && slot.settings == settings
                };
                if only_tools_changed {
                    // Hiding tools needs no restart.
                    let slot = slots.get_mut(name).expect("present");
                    slot.entry = entry.clone();
                    self.inner
                        .update(name, |v| v.entry = Arc::new(entry.clone()));
                    self.inner.emit(Event::CatalogChanged(name.clone()));
                    continue;
                }
                let slot = slots.shift_remove(name).expect("present");
                stop_slot(slot).await;
            }
            let slot = self.start(name, entry, &config.gateway);
            slots.insert(name.clone(), slot);
        }
        // Keep the snapshot in config order.
        let order: Vec<String> = config.mcp_servers.keys().cloned().collect();
        self.inner.reorder(&order);
    }

    /// Stops and starts server `name` again (clearing a parked `failed` state).
    ///
    /// Errors: `Err(())` when there is no such server.
    pub async fn restart(&self, name: &str, gateway: &GatewaySettings) -> Result<(), ()> {
        let mut slots = self.inner.slots.lock().await;
        let slot = slots.shift_remove(name).ok_or(())?;
        let entry = slot.entry.clone();
        stop_slot(slot).await;
        let slot = self.start(name, &entry, gateway);
        slots.insert(name.to_string(), slot);
        Ok(())
    }

    /// Restarts every server of `config` whose `env`/`headers` reference secret `name` (after
    /// the secret changed). Returns their names.
    pub async fn restart_using(&self, name: &str, config: &Config) -> Vec<String> {
        let users = config.servers_using(name);
        for server in &users {
            if config.mcp_servers.get(server).is_some_and(|e| !e.disabled) {
                let _ = self.restart(server, &config.gateway).await;
            }
        }
        users
    }

    /// Stops every server cleanly (HTTP sessions deleted, processes stopped). Used at shutdown.
    pub async fn shutdown(&self) {
        let mut slots = self.inner.slots.lock().await;
        let all: Vec<Slot> = slots.drain(..).map(|(_, s)| s).collect();
        futures::future::join_all(all.into_iter().map(stop_slot)).await;
    }

    fn start(&self, name: &str, entry: &ServerEntry, gateway: &GatewaySettings) -> Slot {
        let ct = CancellationToken::new();
        let logs = self
            .inner
            .snapshot
            .load()
            .get(name)
            .map(|v| v.logs.clone())
            .unwrap_or_default();
        let backend = entry.backend();
        let (transport, target) = match &backend {
            Ok(b) => (b.transport(), b.describe()),
            Err(_) => ("stdio", String::new()),
        };
        let status = ServerStatus {
            name: name.to_string(),
            transport,
            target,
            enabled: !entry.disabled,
            state: if entry.disabled {
                ServerState::Disabled
            } else {
                ServerState::Starting
            },
            last_error: None,
            protocol_version: None,
            session_issued: None,
            session_id: None,
            reinitializations: 0,
            tool_count: 0,
            restarts: 0,
            connected_since_ms: None,
            pid: None,
            signed_in: None,
        };
        let view = ServerView {
            status,
            connection: None,
            catalog: Arc::default(),
            logs: logs.clone(),
            entry: Arc::new(entry.clone()),
        };
        self.inner.put_view(name, view);
        let task = match (entry.disabled, backend) {
            (true, _) => None,
            (false, Err((field, message))) => {
                self.inner.update(name, |v| {
                    v.status.state = ServerState::Failed;
                    v.status.last_error = Some(format!("{field}: {message}"));
                });
                None
            }
            (false, Ok(backend)) => {
                let run = Runner {
                    secrets: self.inner.secrets.clone(),
                    inner: self.inner.clone(),
                    name: name.to_string(),
                    backend,
                    connect_timeout: Duration::from_millis(gateway.connect_timeout_ms),
                    request_timeout: entry.request_timeout(gateway),
                    logs,
                    ct: ct.clone(),
                    step_ups: Default::default(),
                };
                Some(tokio::spawn(run.run()))
            }
        };
        Slot {
            entry: entry.clone(),
            settings: (gateway.connect_timeout_ms, gateway.request_timeout_ms),
            ct,
            task,
        }
    }
}

async fn stop_slot(slot: Slot) {
    slot.ct.cancel();
    if let Some(task) = slot.task {
        let _ = task.await;
    }
}

impl Inner {
    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn put_view(&self, name: &str, view: ServerView) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (**self.snapshot.load()).clone();
        let had_tools = next.get(name).is_some_and(|v| v.connection.is_some());
        next.insert(name.to_string(), view);
        self.snapshot.store(Arc::new(next));
        self.emit(Event::StatusChanged(name.to_string()));
        if had_tools {
            self.emit(Event::CatalogChanged(name.to_string()));
        }
    }

    fn remove_view(&self, name: &str) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (**self.snapshot.load()).clone();
        if next.shift_remove(name).is_some() {
            self.snapshot.store(Arc::new(next));
            self.emit(Event::StatusChanged(name.to_string()));
            self.emit(Event::CatalogChanged(name.to_string()));
        }
    }

    fn reorder(&self, order: &[String]) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.snapshot.load();
        let next: Snapshot = order
            .iter()
            .filter_map(|n| current.get(n).map(|v| (n.clone(), v.clone())))
            .collect();
        self.snapshot.store(Arc::new(next));
    }

    /// Applies `f` to the view of `name` (if present) and emits `StatusChanged`.
    fn update(&self, name: &str, f: impl FnOnce(&mut ServerView)) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (**self.snapshot.load()).clone();
        if let Some(v) = next.get_mut(name) {
            f(v);
            self.snapshot.store(Arc::new(next));
            self.emit(Event::StatusChanged(name.to_string()));
        }
    }
}

/// Why a connected backend stopped being watched.
enum End {
    Stop,
    Lost(String),
    /// The server refused the tokens (401): a sign-in is needed.
    SignIn(Challenge),
    /// A sign-in completed while connected: reconnect with the new tokens.
    Reconnect,
}

struct Runner {
    secrets: SecretStore,
    inner: Arc<Inner>,
    name: String,
    backend: Backend,
    connect_timeout: Duration,
    request_timeout: Duration,
    logs: Arc<LogBuffer>,
    ct: CancellationToken,
    step_ups: std::sync::atomic::AtomicU32,
}

impl Runner {
    async fn run(self) {
        let span = tracing::info_span!("server", server = %self.name);
        let _enter = span.enter();
        drop(_enter);
        let mut backoff = BACKOFF_START;
        let mut rapid_crashes = 0u32;
        let mut first = true;
        loop {
            if !first {
                self.inner.update(&self.name, |v| {
                    v.status.state = ServerState::Starting;
                    v.status.restarts += 1;
                });
            }
            first = false;
            let started = Instant::now();
            let backend = match resolve(&self.backend, &self.secrets).await {
                Ok(b) => b,
                Err(e) => {
                    // Retrying cannot help until the secret or keychain changes; a change of
                    // the secret restarts this server.
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
                    crate::oauth::flow::authorized_manager(&self.secrets, &self.name, url)
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
                            if oauth.is_some() {
                                self.inner
                                    .update(&self.name, |v| v.status.signed_in = Some(with_tokens));
                            }
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
                    first = true;
                    continue;
                }
                End::SignIn(challenge) => match &oauth {
                    Some((url, settings)) => {
                        if !self.wait_for_sign_in(url, settings, challenge).await {
                            return;
                        }
                        backoff = BACKOFF_START;
                        first = true;
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

    /// Lists the catalog, publishes `ready`, then watches the connection until it ends.
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
                Some(o) => {
                    let mut o = o.clone();
                    if let Some(secret) = &o.client_secret {
                        o.client_secret = Some(secrets.resolve(secret).await?);
                    }
                    Some(o)
                }
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
