//! The gateway: the aggregated view clients see, kept in step with the supervisor.
//!
//! - [`registry`]: merged, namespaced tools/prompts/resources and their routes.
//! - [`handler`]: the MCP `ServerHandler` serving every client session over the registry.
//! - [`events`]: list-changed notifications to connected clients.
//!
//! [`Gateway::spawn`] starts a task that rebuilds the registry whenever a server's catalog
//! changes and, when the lists a client would see differ, notifies every client.

pub mod events;
pub mod handler;
pub mod registry;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

pub use events::{ClientHub, ListsChanged};
pub use handler::GatewayHandler;
pub use registry::{Naming, Registry};

use crate::upstream::{Event, Supervisor};

/// How long the rebuild task waits for more catalog changes before rebuilding, so a burst
/// (e.g. ten servers starting) produces one notification.
pub const COALESCE: Duration = Duration::from_millis(30);

/// The shared state behind every client session.
pub struct Gateway {
    supervisor: Supervisor,
    naming: Naming,
    registry: ArcSwap<Registry>,
    clients: ClientHub,
    generation: tokio::sync::watch::Sender<u64>,
}

impl Gateway {
    /// A gateway over `supervisor` with namespaced names; call [`Gateway::spawn`] to keep it up
    /// to date.
    pub fn new(supervisor: Supervisor) -> Arc<Gateway> {
        Self::with_naming(supervisor, Naming::Namespaced)
    }

    /// A gateway over `supervisor` naming tools per `naming`.
    pub fn with_naming(supervisor: Supervisor, naming: Naming) -> Arc<Gateway> {
        let registry = Registry::build(&supervisor.snapshot(), naming);
        Arc::new(Gateway {
            naming,
            supervisor,
            registry: ArcSwap::from_pointee(registry),
            clients: ClientHub::default(),
            generation: tokio::sync::watch::channel(0).0,
        })
    }

    /// The supervisor (server status, restart).
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// The current registry (lock-free).
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.load_full()
    }

    /// The connected clients.
    pub fn clients(&self) -> &ClientHub {
        &self.clients
    }

    /// A receiver whose value increases every time the registry is rebuilt (the UI's live
    /// view follows it).
    pub fn registry_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Rebuilds the registry now and notifies clients of what changed. Returns what changed.
    pub async fn rebuild(&self) -> ListsChanged {
        let next = Registry::build(&self.supervisor.snapshot(), self.naming);
        let (t0, p0, r0) = self.registry.load().fingerprint();
        let (t1, p1, r1) = next.fingerprint();
        self.registry.store(Arc::new(next));
        self.generation.send_modify(|g| *g += 1);
        let changed = ListsChanged {
            tools: t0 != t1,
            prompts: p0 != p1,
            resources: r0 != r1,
        };
        if changed != ListsChanged::default() {
            tracing::debug!(?changed, "aggregated lists changed");
            self.clients.notify(changed).await;
        }
        changed
    }

    /// Starts the task that follows supervisor events until `shutdown` is cancelled.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let gw = self.clone();
        let mut events = gw.supervisor.events();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    e = events.recv() => e,
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
