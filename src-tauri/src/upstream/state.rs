//! What the supervisor publishes about every server, and the one place that changes it.
//!
//! [`Shared`] holds the lock-free [`Snapshot`] (status, live connection, catalog, logs and config
//! entry of every server, in config order) and the [`Event`] channel. Runners, the supervisor
//! and the OAuth hub change a server's view only through [`Shared::update`] and friends, which
//! publish a new snapshot and announce the change.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use indexmap::IndexMap;
use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::connection::Connection;
use super::logs::LogBuffer;
use super::routes::Downstream;
use super::ServerState;
use crate::config::{ServerEntry, Transport};
use crate::oauth::Hub;
use crate::secrets::SecretStore;

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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ServerStatus {
    /// Server name (config key).
    pub name: String,
    /// `"stdio"` or `"http"`.
    pub transport: Transport,
    /// Command line or URL (never env or header values).
    pub target: String,
    /// False when `"disabled": true`.
    pub enabled: bool,
    /// Lifecycle state.
    pub state: ServerState,
    /// The most recent error, if the server failed or restarted.
    pub last_error: Option<String>,
    /// Negotiated MCP protocol version (of the session; a server that also answers
    /// 2026-07-28 requests lists it in `eras`).
    pub protocol_version: Option<String>,
    /// The protocol eras Loopgate speaks with it: `"initialize"` (a session, 2024-11-05 …
    /// 2025-11-25) and/or `"2026-07-28"` (stateless requests).
    pub eras: Vec<String>,
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
    /// True while the server is `failed` and will not be tried again until the user acts (a
    /// crash loop, a secret that is not set, an unusable entry). The desktop app tells the
    /// user once; the API leaves it out (the last error says it).
    #[serde(skip)]
    pub parked: bool,
}

impl ServerStatus {
    /// The status of a server that was just (re)configured: `disabled` or `starting`.
    pub fn fresh(name: &str, entry: &ServerEntry) -> Self {
        let (transport, target) = match entry.backend() {
            Ok(b) => (b.transport(), b.describe()),
            Err(_) => (Transport::Stdio, String::new()),
        };
        ServerStatus {
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
            eras: Vec::new(),
            session_issued: None,
            session_id: None,
            reinitializations: 0,
            tool_count: 0,
            restarts: 0,
            connected_since_ms: None,
            pid: None,
            signed_in: None,
            parked: false,
        }
    }
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

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The state every runner, the supervisor and the gateway share.
pub struct Shared {
    /// Where `${secret:…}` references are resolved.
    pub secrets: SecretStore,
    /// The OAuth sign-ins.
    pub oauth: Arc<Hub>,
    snapshot: ArcSwap<Snapshot>,
    events: broadcast::Sender<Event>,
    publish_lock: Mutex<()>,
    downstream: std::sync::OnceLock<Arc<dyn Downstream>>,
}

impl Shared {
    /// Empty state over `secrets` and `oauth`.
    pub fn new(secrets: SecretStore, oauth: Arc<Hub>) -> Self {
        Self {
            secrets,
            oauth,
            snapshot: ArcSwap::from_pointee(IndexMap::new()),
            events: broadcast::channel(1024).0,
            publish_lock: Mutex::new(()),
            downstream: std::sync::OnceLock::new(),
        }
    }

    /// Installs where every connection's server-wide notifications go (once).
    pub fn set_downstream(&self, downstream: Arc<dyn Downstream>) {
        let _ = self.downstream.set(downstream);
    }

    /// The installed downstream, if any.
    pub fn downstream(&self) -> Option<Arc<dyn Downstream>> {
        self.downstream.get().cloned()
    }

    /// The current view of every server (lock-free read).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Subscribes to change events.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Announces `event`.
    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Replaces the view of `name` (adding it if new) and announces the status change (and a
    /// catalog change, when the old view offered tools).
    pub fn put_view(&self, name: &str, view: ServerView) {
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

    /// Removes the view of `name`, announcing it.
    pub fn remove_view(&self, name: &str) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (**self.snapshot.load()).clone();
        if next.shift_remove(name).is_some() {
            self.snapshot.store(Arc::new(next));
            self.emit(Event::StatusChanged(name.to_string()));
            self.emit(Event::CatalogChanged(name.to_string()));
        }
    }

    /// Puts the views in `order` (config order), dropping names not in it.
    pub fn reorder(&self, order: &[String]) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.snapshot.load();
        let next: Snapshot = order
            .iter()
            .filter_map(|n| current.get(n).map(|v| (n.clone(), v.clone())))
            .collect();
        self.snapshot.store(Arc::new(next));
    }

    /// Applies `f` to the view of `name` (if present) and announces `StatusChanged`.
    pub fn update(&self, name: &str, f: impl FnOnce(&mut ServerView)) {
        let _g = self.publish_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = (**self.snapshot.load()).clone();
        if let Some(v) = next.get_mut(name) {
            f(v);
            self.snapshot.store(Arc::new(next));
            self.emit(Event::StatusChanged(name.to_string()));
        }
    }
}
