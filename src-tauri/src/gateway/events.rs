//! Telling connected clients that the aggregated lists changed.
//!
//! Initialize-based clients (2024-11-05 … 2025-11-25) get `notifications/*/list_changed` on
//! their session's stream: their [`Peer`] is registered when they send
//! `notifications/initialized`. 2026-07-28 clients have no session; they open a
//! `subscriptions/listen` stream, which subscribes to [`ClientHub::subscribe`].

use std::sync::Mutex;

use rmcp::{Peer, RoleServer};
use tokio::sync::broadcast;

/// Which lists changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListsChanged {
    /// The tool list changed.
    pub tools: bool,
    /// The prompt list changed.
    pub prompts: bool,
    /// The resource list changed.
    pub resources: bool,
}

/// The set of connected clients to notify.
pub struct ClientHub {
    sessions: Mutex<Vec<Peer<RoleServer>>>,
    listeners: broadcast::Sender<ListsChanged>,
}

impl Default for ClientHub {
    fn default() -> Self {
        Self {
            sessions: Mutex::new(Vec::new()),
            listeners: broadcast::channel(64).0,
        }
    }
}

impl ClientHub {
    /// Registers an initialize-based client session.
    pub fn add_session(&self, peer: Peer<RoleServer>) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|p| !p.is_transport_closed());
        sessions.push(peer);
    }

    /// Number of live initialize-based sessions.
    pub fn session_count(&self) -> usize {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|p| !p.is_transport_closed());
        sessions.len()
    }

    /// A receiver for 2026-07-28 `subscriptions/listen` streams.
    pub fn subscribe(&self) -> broadcast::Receiver<ListsChanged> {
        self.listeners.subscribe()
    }

    /// Sends the list-changed notifications in `changed` to every client; sessions whose
    /// transport is gone are dropped.
    pub async fn notify(&self, changed: ListsChanged) {
        let _ = self.listeners.send(changed);
        let peers: Vec<Peer<RoleServer>> = {
            let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
            sessions.retain(|p| !p.is_transport_closed());
            sessions.clone()
        };
        let sends = peers.into_iter().map(|peer| async move {
            // A client that stopped reading must not hold up the others.
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                Self::notify_one(&peer, changed),
            )
            .await;
        });
        futures::future::join_all(sends).await;
    }

    async fn notify_one(peer: &Peer<RoleServer>, changed: ListsChanged) {
        {
            if changed.tools {
                let _ = peer.notify_tool_list_changed().await;
            }
            if changed.prompts {
                let _ = peer.notify_prompt_list_changed().await;
            }
            if changed.resources {
                let _ = peer.notify_resource_list_changed().await;
            }
        }
    }
}
