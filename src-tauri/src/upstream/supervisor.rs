//! The supervisor: one task (`super::runner`) per enabled backend, reconciled with the
//! config.
//!
//! [`Supervisor::apply`] starts new and changed servers, stops removed and disabled ones
//! cleanly, and leaves unchanged ones alone (a change of `disabledTools` only needs the catalog
//! re-published). Backends start in parallel; a slow or dead one never blocks another. What
//! every server is doing is published in [`Shared`]'s snapshot and announced as an [`Event`].

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::routes::Downstream;
use super::runner::Runner;
use super::state::{Event, ServerStatus, ServerView, Shared, Snapshot};
use super::ServerState;
use crate::config::{Config, GatewaySettings, ServerEntry};
use crate::oauth::{Hub, Presenter};
use crate::secrets::SecretStore;

struct Slot {
    entry: ServerEntry,
    settings: (u64, u64),
    ct: CancellationToken,
    task: Option<JoinHandle<()>>,
}

/// Starts, watches, restarts and stops backends. Cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
    slots: Arc<tokio::sync::Mutex<IndexMap<String, Slot>>>,
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
        let mut sign_ins = oauth.subscribe();
        let shared = Arc::new(Shared::new(secrets, oauth));
        // A sign-in starting, getting its URL or ending is a status change of that server (the
        // UI, tray and event stream show it).
        let weak = Arc::downgrade(&shared);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                loop {
                    let server = match sign_ins.recv().await {
                        Ok(server) => server,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    match weak.upgrade() {
                        Some(shared) => shared.emit(Event::StatusChanged(server)),
                        None => return,
                    }
                }
            });
        }
        Supervisor {
            shared,
            slots: Default::default(),
        }
    }

    /// The sign-ins of this gateway's OAuth servers.
    pub fn oauth(&self) -> &Arc<Hub> {
        &self.shared.oauth
    }

    /// Installs where server-wide notifications (log messages, resource updates, task status)
    /// of every connection go. Call before [`Supervisor::apply`].
    pub fn set_downstream(&self, downstream: Arc<dyn Downstream>) {
        self.shared.set_downstream(downstream);
    }

    /// The current view of every server (lock-free read).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot()
    }

    /// Subscribes to change events. Slow receivers may miss events (`Lagged`); re-read the
    /// snapshot then.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.shared.events()
    }

    /// Reconciles the running servers with `config`: starts new and changed servers, stops
    /// removed and disabled ones, and keeps unchanged ones running. Returns once every change
    /// has been started (not once backends are ready).
    pub async fn apply(&self, config: &Config) {
        let mut slots = self.slots.lock().await;
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
            self.shared.remove_view(&name);
        }
        for (name, entry) in &config.mcp_servers {
            if let Some(slot) = slots.get_mut(name) {
                if slot.entry == *entry && slot.settings == settings {
                    continue;
                }
                if only_exposure_changed(&slot.entry, entry) && slot.settings == settings {
                    // Hiding tools or renaming the prefix needs no restart.
                    slot.entry = entry.clone();
                    self.shared
                        .update(name, |v| v.entry = Arc::new(entry.clone()));
                    self.shared.emit(Event::CatalogChanged(name.clone()));
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
        self.shared.reorder(&order);
    }

    /// Stops and starts server `name` again (clearing a parked `failed` state).
    ///
    /// Errors: `Err(())` when there is no such server.
    pub async fn restart(&self, name: &str, gateway: &GatewaySettings) -> Result<(), ()> {
        let mut slots = self.slots.lock().await;
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
        let mut slots = self.slots.lock().await;
        let all: Vec<Slot> = slots.drain(..).map(|(_, s)| s).collect();
        futures::future::join_all(all.into_iter().map(stop_slot)).await;
    }

    fn start(&self, name: &str, entry: &ServerEntry, gateway: &GatewaySettings) -> Slot {
        let ct = CancellationToken::new();
        let logs = self
            .shared
            .snapshot()
            .get(name)
            .map(|v| v.logs.clone())
            .unwrap_or_default();
        let view = ServerView {
            status: ServerStatus::fresh(name, entry),
            connection: None,
            catalog: Arc::default(),
            logs: logs.clone(),
            entry: Arc::new(entry.clone()),
        };
        self.shared.put_view(name, view);
        let task = match (entry.disabled, entry.backend()) {
            (true, _) => None,
            (false, Err(e)) => {
                self.shared.update(name, |v| {
                    v.status.state = ServerState::Failed;
                    v.status.last_error = Some(e.to_string());
                    v.status.parked = true;
                });
                None
            }
            (false, Ok(backend)) => {
                let run = Runner {
                    shared: self.shared.clone(),
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

/// Whether `a` and `b` differ only in what clients see of the server (`disabledTools`,
/// `toolPrefix`), not in how it is run.
fn only_exposure_changed(a: &ServerEntry, b: &ServerEntry) -> bool {
    let mut a = a.clone();
    a.disabled_tools = b.disabled_tools.clone();
    a.tool_prefix = b.tool_prefix.clone();
    a == *b
}

async fn stop_slot(slot: Slot) {
    slot.ct.cancel();
    if let Some(task) = slot.task {
        let _ = task.await;
    }
}
