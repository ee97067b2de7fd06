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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use indexmap::IndexMap;
use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::connection::Connection;
use super::logs::LogBuffer;
use super::runner::Runner;
use super::ServerState;
use crate::config::{Config, GatewaySettings, ServerEntry};
use crate::oauth::{Hub, Presenter};
use crate::secrets::SecretStore;

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

pub(super) struct Inner {
    pub(super) secrets: SecretStore,
    pub(super) oauth: Arc<Hub>,
    pub(super) snapshot: ArcSwap<Snapshot>,
    pub(super) events: broadcast::Sender<Event>,
    slots: tokio::sync::Mutex<IndexMap<String, Slot>>,
    publish_lock: Mutex<()>,
}

/// Starts, watches, restarts and stops backends. Cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

pub(super) fn now_ms() -> u64 {
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
    pub(super) fn emit(&self, event: Event) {
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
    pub(super) fn update(&self, name: &str, f: impl FnOnce(&mut ServerView)) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (**self.snapshot.load()).clone();
        if let Some(v) = next.get_mut(name) {
            f(v);
            self.snapshot.store(Arc::new(next));
            self.emit(Event::StatusChanged(name.to_string()));
        }
    }
}
