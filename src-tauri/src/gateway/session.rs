//! The gateway's client sessions and what each has asked for.
//!
//! Every initialize-based client session has a [`ClientSession`]: who it is (the credential it
//! came with), its peer once initialized, its log level, the resources it subscribed to and the
//! servers it has used. A stateless 2026-07-28 request gets a short-lived one of its own.
//! [`Sessions`] keeps the initialized ones for what goes to many clients at once: list
//! changes, log messages (each by its level) and resource updates (to subscribers only), plus a
//! broadcast for 2026-07-28 `subscriptions/listen` streams.

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::{Peer, RoleServer};
use tokio::sync::broadcast;

use super::scope::{Profiles, Scope};
use crate::caller::Caller;
use crate::upstream::OwnerKey;

/// The level a session that never sent `logging/setLevel` receives messages at.
pub const DEFAULT_LOG_LEVEL: LoggingLevel = LoggingLevel::Info;

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

/// What changed for each scope (by [`Scope::key`]: `None` = everything, else a profile).
pub type ScopedChanges = std::collections::HashMap<Option<String>, ListsChanged>;

/// What 2026-07-28 `subscriptions/listen` streams follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broadcast {
    /// Lists changed, per scope.
    Lists(Arc<ScopedChanges>),
    /// A resource was updated.
    ResourceUpdated(String),
}

/// How verbose a level is: 0 = debug … 7 = emergency.
pub fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// One client session (see the module docs).
#[derive(Debug)]
pub struct ClientSession {
    key: OwnerKey,
    caller: OnceLock<Caller>,
    profile: OnceLock<Option<String>>,
    peer: OnceLock<Peer<RoleServer>>,
    log_level: Mutex<Option<LoggingLevel>>,
    subscriptions: Mutex<HashSet<String>>,
    servers_used: Mutex<HashSet<String>>,
}

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

impl Default for ClientSession {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientSession {
    /// A new session with a process-unique key.
    pub fn new() -> Self {
        Self {
            key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
            caller: OnceLock::new(),
            profile: OnceLock::new(),
            peer: OnceLock::new(),
            log_level: Mutex::new(None),
            subscriptions: Mutex::new(HashSet::new()),
            servers_used: Mutex::new(HashSet::new()),
        }
    }

    /// The key its calls are routed by.
    pub fn key(&self) -> OwnerKey {
        self.key
    }

    /// Binds the session to `caller` (its first request's credential) and checks later
    /// requests come with the same: `false` when `caller` is someone else.
    pub fn bind(&self, caller: &Caller) -> bool {
        self.caller.get_or_init(|| caller.clone()) == caller
    }

    /// Fixes the profile the session asked for (the stdio bridge's `--profile`) at its first
    /// request; `false` when a later request asks for another.
    pub fn ask_profile(&self, profile: Option<&str>) -> bool {
        self.profile
            .get_or_init(|| profile.map(str::to_string))
            .as_deref()
            == profile
    }

    /// The profile the session asked for, if any.
    pub fn asked_profile(&self) -> Option<&str> {
        self.profile.get().and_then(Option::as_deref)
    }

    /// The scope the session sees under `profiles` (nothing when its profile is gone).
    pub fn scope(&self, profiles: &Profiles) -> Option<Scope> {
        profiles
            .scope_for(self.caller()?, self.asked_profile())
            .ok()
    }

    /// Who the session belongs to.
    pub fn caller(&self) -> Option<&Caller> {
        self.caller.get()
    }

    /// Its peer, once initialized.
    pub fn peer(&self) -> Option<&Peer<RoleServer>> {
        self.peer.get()
    }

    /// Records its peer (at `notifications/initialized`).
    pub fn set_peer(&self, peer: Peer<RoleServer>) {
        let _ = self.peer.set(peer);
    }

    /// The level set with `logging/setLevel`.
    pub fn log_level(&self) -> Option<LoggingLevel> {
        *self.log_level.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets its log level.
    pub fn set_log_level(&self, level: LoggingLevel) {
        *self.log_level.lock().unwrap_or_else(|e| e.into_inner()) = Some(level);
    }

    /// Whether a message at `level` reaches this session.
    pub fn admits(&self, level: LoggingLevel) -> bool {
        severity(level) >= severity(self.log_level().unwrap_or(DEFAULT_LOG_LEVEL))
    }

    /// Adds (or, with `on` false, removes) a resource subscription; returns whether it changed.
    pub fn subscribe(&self, uri: &str, on: bool) -> bool {
        let mut subs = self.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
        if on {
            subs.insert(uri.to_string())
        } else {
            subs.remove(uri)
        }
    }

    /// Whether it subscribed to `uri`.
    pub fn subscribed(&self, uri: &str) -> bool {
        self.subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(uri)
    }

    /// The resource URIs it subscribed to.
    pub fn subscriptions(&self) -> Vec<String> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Notes that it sent requests to `server`.
    pub fn used(&self, server: &str) {
        let mut used = self.servers_used.lock().unwrap_or_else(|e| e.into_inner());
        if !used.contains(server) {
            used.insert(server.to_string());
        }
    }

    /// The servers it has sent requests to.
    pub fn servers_used(&self) -> Vec<String> {
        self.servers_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// The initialized sessions (weakly held: a session ends with its client).
pub struct Sessions {
    live: Mutex<Vec<Weak<ClientSession>>>,
    listeners: broadcast::Sender<Broadcast>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            live: Mutex::new(Vec::new()),
            listeners: broadcast::channel(256).0,
        }
    }
}

impl Sessions {
    /// Registers an initialized session.
    pub fn add(&self, session: &Arc<ClientSession>) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(session));
    }

    /// The live initialized sessions.
    pub fn all(&self) -> Vec<Arc<ClientSession>> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        live.iter()
            .filter_map(Weak::upgrade)
            .filter(|s| s.peer().is_some_and(|p| !p.is_transport_closed()))
            .collect()
    }

    /// Number of live initialized sessions.
    pub fn count(&self) -> usize {
        self.all().len()
    }

    /// A receiver for 2026-07-28 `subscriptions/listen` streams.
    pub fn subscribe(&self) -> broadcast::Receiver<Broadcast> {
        self.listeners.subscribe()
    }

    /// The most verbose log level any session asked for.
    pub fn most_verbose_level(&self) -> Option<LoggingLevel> {
        self.all()
            .iter()
            .filter_map(|s| s.log_level())
            .min_by_key(|l| severity(*l))
    }

    /// Sends each client the list-changed notifications of its own scope (`changes`, resolved
    /// with `profiles`); a client that stopped reading does not hold up the others.
    pub async fn lists_changed(&self, changes: Arc<ScopedChanges>, profiles: &Profiles) {
        let _ = self.listeners.send(Broadcast::Lists(changes.clone()));
        let sends = self.all().into_iter().filter_map(|s| {
            let scope = s.scope(profiles)?;
            let changed = *changes.get(&scope.key().map(str::to_string))?;
            (changed != ListsChanged::default()).then_some((s, changed))
        });
        let sends = sends.map(|(s, changed)| async move {
            let Some(peer) = s.peer() else { return };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
                if changed.tools {
                    let _ = peer.notify_tool_list_changed().await;
                }
                if changed.prompts {
                    let _ = peer.notify_prompt_list_changed().await;
                }
                if changed.resources {
                    let _ = peer.notify_resource_list_changed().await;
                }
            })
            .await;
        });
        futures::future::join_all(sends).await;
    }

    /// Sends a server's log message, tagged with its name, to every session whose level admits
    /// it and whose scope (under `profiles`) includes the server.
    pub async fn log(
        &self,
        server: &str,
        mut message: LoggingMessageNotificationParam,
        profiles: &Profiles,
    ) {
        message.logger = Some(match &message.logger {
            Some(l) => format!("{server}/{l}"),
            None => server.to_string(),
        });
        let sends = self
            .all()
            .into_iter()
            .filter(|s| s.admits(message.level))
            .filter(|s| s.scope(profiles).is_some_and(|sc| sc.has_server(server)))
            .map(|s| {
                let message = message.clone();
                async move {
                    if let Some(peer) = s.peer() {
                        let _ = tokio::time::timeout(
                            std::time::Duration::from_secs(2),
                            peer.notify_logging_message(message),
                        )
                        .await;
                    }
                }
            });
        futures::future::join_all(sends).await;
    }

    /// Sends `notifications/resources/updated` for `uri` to the sessions subscribed to it and
    /// to the 2026-07-28 listeners.
    pub async fn resource_updated(&self, uri: &str) {
        let _ = self
            .listeners
            .send(Broadcast::ResourceUpdated(uri.to_string()));
        let sends = self
            .all()
            .into_iter()
            .filter(|s| s.subscribed(uri))
            .map(|s| async move {
                if let Some(peer) = s.peer() {
                    let params = rmcp::model::ResourceUpdatedNotificationParam::new(uri);
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(2),
                        peer.notify_resource_updated(params),
                    )
                    .await;
                }
            });
        futures::future::join_all(sends).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_bindings() {
        let s = ClientSession::new();
        assert!(s.admits(LoggingLevel::Info) && !s.admits(LoggingLevel::Debug));
        s.set_log_level(LoggingLevel::Debug);
        assert!(s.admits(LoggingLevel::Debug));
        s.set_log_level(LoggingLevel::Error);
        assert!(!s.admits(LoggingLevel::Warning) && s.admits(LoggingLevel::Alert));
        assert!(s.bind(&Caller::Client("a".into())));
        assert!(s.bind(&Caller::Client("a".into())));
        assert!(!s.bind(&Caller::Client("b".into())), "another credential");
        assert_ne!(ClientSession::new().key(), s.key());
        assert!(s.subscribe("x://1", true) && !s.subscribe("x://1", true));
        assert!(s.subscribed("x://1"));
        assert!(s.subscribe("x://1", false) && !s.subscribed("x://1"));
    }
}
