//! The gateway: what clients see, kept in step with the supervisor, and the relay between
//! clients and servers.
//!
//! - [`registry`] and [`naming`]: merged tools/prompts/resources, their routes, and what the
//!   servers offer together (capabilities, instructions).
//! - [`handler`]: the MCP `ServerHandler` serving every client session.
//! - [`relay`]: one mechanism for every call and what travels back during it (sampling,
//!   elicitation, roots, progress, logs), across eras; [`pending`] holds the calls of
//!   2026-07-28 clients that wait for their input, behind sealed `requestState`s.
//! - [`session`]: client sessions and what goes to many of them (list changes, log messages,
//!   resource updates); [`subscriptions`] the resource subscriptions held at servers;
//!   [`links`] resource URIs learned from results; [`tasks`] which server owns each task.
//! - [`direct`]: initialized sessions whose calls the front end serves on the request's own
//!   task, and the channel that carries what goes back to the client during such a call.
//! - [`recorded`]: the handler with every request and notification recorded in the activity
//!   log ([`crate::activity`]); `/mcp` serves it.
//!
//! [`Gateway::spawn`] starts a task that rebuilds the registry whenever a server's catalog
//! changes and, when the lists a client would see differ, notifies every client.

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

pub mod direct;
pub mod handler;
pub mod input;
pub mod links;
pub mod listen;
pub mod naming;
pub mod pending;
pub mod recorded;
pub mod registry;
pub mod relay;
pub mod scope;
pub mod search;
pub mod session;
pub mod subscriptions;
pub mod tasks;
pub mod tokens;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, SetLevelRequestParams,
    TaskStatusNotificationParams,
};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use handler::GatewayHandler;
pub use recorded::Recorded;
pub use registry::Registry;
pub use scope::{Profiles, Scope};
pub use session::{ClientSession, ListsChanged, ScopedChanges, Sessions};
pub use view::View;

use crate::upstream::{Downstream, Event, Supervisor};

/// How long the rebuild task waits for more catalog changes before rebuilding, so a burst
/// (e.g. ten servers starting) produces one notification.
pub const COALESCE: Duration = Duration::from_millis(30);

/// What servers send that goes to many clients, queued in order.
enum Fanout {
    Log(String, LoggingMessageNotificationParam),
    Updated(String),
}

/// The shared state behind every client session.
pub struct Gateway {
    supervisor: Supervisor,
    registry: ArcSwap<Registry>,
    /// The profile settings of the current config.
    profiles: ArcSwap<Profiles>,
    /// The profile settings the registry's lists were last compared under.
    listed_profiles: Mutex<Arc<Profiles>>,
    sessions: Sessions,
    generation: tokio::sync::watch::Sender<u64>,
    /// Seals the `requestState`s handed to clients.
    pub sealer: pending::Sealer,
    /// Calls of 2026-07-28 clients waiting for their input.
    pub parked: pending::ParkedCalls,
    /// Resource URIs learned from results.
    pub links: links::Links,
    /// Resource subscriptions held at servers.
    pub subscriptions: subscriptions::Subscriptions,
    /// Which server owns each task clients have open.
    pub tasks: tasks::Tasks,
    /// Search-mode indexes per profile.
    pub search: search::SearchCache,
    /// Initialized client sessions the front end may serve calls of itself.
    pub direct: direct::DirectSessions,
    /// The log level each server was last told: server → (connection, level).
    levels: Mutex<HashMap<String, (usize, LoggingLevel)>>,
}

/// Where servers' own notifications go: queued for the gateway's fan-out task.
struct Down(mpsc::Sender<Fanout>);

impl Downstream for Down {
    fn logging_message(&self, server: &str, message: LoggingMessageNotificationParam) {
        let _ = self.0.try_send(Fanout::Log(server.to_string(), message));
    }

    fn resource_updated(&self, _server: &str, uri: &str) {
        let _ = self.0.try_send(Fanout::Updated(uri.to_string()));
    }

    fn task_status(&self, server: &str, params: TaskStatusNotificationParams) {
        tracing::debug!(server = %server, "task status: {:?}", params.task.task.status);
    }
}

impl Gateway {
    /// A gateway over `supervisor`; call [`Gateway::spawn`] to keep it up to date.
    pub fn new(supervisor: Supervisor) -> Arc<Gateway> {
        let registry = Registry::build(&supervisor.snapshot());
        let (fanout, queue) = mpsc::channel(1024);
        supervisor.set_downstream(Arc::new(Down(fanout)));
        let gw = Arc::new(Gateway {
            supervisor,
            registry: ArcSwap::from_pointee(registry),
            profiles: ArcSwap::from_pointee(Profiles::default()),
            listed_profiles: Mutex::new(Arc::new(Profiles::default())),
            sessions: Sessions::default(),
            generation: tokio::sync::watch::channel(0).0,
            sealer: Default::default(),
            parked: Default::default(),
            links: Default::default(),
            subscriptions: Default::default(),
            tasks: Default::default(),
            search: Default::default(),
            direct: Default::default(),
            levels: Mutex::new(HashMap::new()),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(fan_out(Arc::downgrade(&gw), queue));
        }
        gw
    }

    /// The supervisor (server status, restart).
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// The profile settings of the current config (lock-free).
    pub fn profiles(&self) -> Arc<Profiles> {
        self.profiles.load_full()
    }

    /// Applies `config`: its profiles (clients' lists change at once, each told what changed in
    /// its own profile) and its servers (the supervisor starts, stops and restarts them).
    pub async fn apply_config(self: &Arc<Self>, config: &crate::config::Config) {
        let profiles = Profiles::from_config(config);
        let changed = *self.profiles.load_full() != profiles;
        self.profiles.store(Arc::new(profiles));
        self.supervisor.apply(config).await;
        if changed {
            self.rebuild().await;
        }
    }

    /// The current registry (lock-free).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.load_full()
    }

    /// The connected client sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// A receiver whose value increases every time the registry is rebuilt (the UI's live
    /// view follows it).
    pub fn registry_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Rebuilds the registry now and notifies clients of what changed; then tells newly
    /// connected servers the log level clients asked for and renews resource subscriptions.
    /// Returns what changed.
    pub async fn rebuild(self: &Arc<Self>) -> ListsChanged {
        let next = Registry::build(&self.supervisor.snapshot());
        let profiles = self.profiles.load_full();
        let before = std::mem::replace(
            &mut *self
                .listed_profiles
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
            profiles.clone(),
        );
        let previous = self.registry.load_full();
        let mut changes = ScopedChanges::new();
        for scope in profiles.all_scopes() {
            let now = View::new(&next, &scope).fingerprint();
            let then = before
                .scope(scope.key())
                .ok()
                .map(|old| View::new(&previous, &old).fingerprint());
            changes.insert(
                scope.key().map(str::to_string),
                ListsChanged {
                    tools: then.is_none_or(|t| t.0 != now.0),
                    prompts: then.is_none_or(|t| t.1 != now.1),
                    resources: then.is_none_or(|t| t.2 != now.2),
                },
            );
        }
        self.registry.store(Arc::new(next));
        self.generation.send_modify(|g| *g += 1);
        let changed = changes.get(&None).copied().unwrap_or_default();
        if changes.values().any(|c| *c != ListsChanged::default()) {
            tracing::debug!(?changes, "lists changed");
            self.sessions
                .lists_changed(Arc::new(changes), &profiles)
                .await;
        }
        self.sync_log_levels().await;
        if let Err(e) = self.subscriptions.reconcile(self).await {
            tracing::debug!("renewing resource subscriptions: {}", e.message);
        }
        changed
    }

    /// Tells every connected server with logging the most verbose level a client asked for
    /// (when it changed, or the server reconnected).
    pub async fn sync_log_levels(&self) {
        let Some(level) = self.sessions.most_verbose_level() else {
            return;
        };
        for (server, view) in self.supervisor.snapshot().iter() {
            let Some(connection) = &view.connection else {
                continue;
            };
            let logs = connection
                .peer_info()
                .is_some_and(|i| i.capabilities.logging.is_some());
            if !logs || !connection.has_session() {
                continue;
            }
            let id = Arc::as_ptr(connection) as usize;
            let told = self
                .levels
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(server)
                .copied();
            if told == Some((id, level)) {
                continue;
            }
            match connection
                .peer()
                .set_level(SetLevelRequestParams::new(level))
                .await
            {
                Ok(()) => {
                    self.levels
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(server.clone(), (id, level));
                }
                Err(e) => tracing::debug!(server = %server, "logging/setLevel failed: {e}"),
            }
        }
    }

    /// Starts the task that follows supervisor events until `shutdown` is cancelled.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let gw = self.clone();
        let mut events = gw.supervisor.events();
        tokio::spawn(async move {
            let mut sweep = tokio::time::interval(Duration::from_secs(30));
            loop {
                let event = tokio::select! {
                    e = events.recv() => e,
                    _ = sweep.tick() => {
                        gw.parked.expire();
                        continue;
                    }
                    _ = shutdown.cancelled() => return,
                };
                match event {
                    Ok(Event::CatalogChanged(_)) | Err(RecvError::Lagged(_)) => {
                        tokio::time::sleep(COALESCE).await;
                        // Drain what arrived meanwhile; one rebuild covers it.
                        while let Ok(_e) = events.try_recv() {}
                        gw.rebuild().await;
                    }
                    Ok(Event::StatusChanged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        })
    }
}

/// Delivers servers' log messages and resource updates to the clients, in order.
async fn fan_out(gw: Weak<Gateway>, mut queue: mpsc::Receiver<Fanout>) {
    while let Some(item) = queue.recv().await {
        let Some(gw) = gw.upgrade() else { return };
        match item {
            Fanout::Log(server, message) => {
                let profiles = gw.profiles();
                gw.sessions.log(&server, message, &profiles).await
            }
            Fanout::Updated(uri) => gw.sessions.resource_updated(&uri).await,
        }
    }
}
