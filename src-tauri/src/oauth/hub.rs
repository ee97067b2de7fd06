//! The sign-ins of a running gateway: at most one pending per server, cancellable, never a
//! loop of browser tabs.
//!
//! The supervisor asks the [`Hub`] for a sign-in when a server answers 401 and refreshing did
//! not help ([`Trigger::Auto`]); the UI, tray and `loopgate auth login` ask for one when the
//! user clicks "Sign in" ([`Trigger::User`]). Rules:
//!
//! - While a sign-in for a server is pending, asking again returns the pending one (its URL);
//!   no second listener. Only when the user asks again is its page shown again.
//! - An automatic sign-in happens at most once until a sign-in succeeds: after it fails, times
//!   out, is cancelled, or after the user signs out, the server waits in "needs sign-in" until
//!   the user asks.
//! - A successful sign-in bumps the server's generation ([`Hub::generation`]); the supervisor
//!   waits on that to reconnect with the new tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::revoke::{self, SignedOut};
use super::{flow, OAuthError, OAuthSettings};
use crate::secrets::{SecretError, SecretStore};

/// How a sign-in URL reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presenter {
    /// Open it in the system browser (desktop app, `loopgate auth login`).
    Browser,
    /// Write it to the log (headless `loopgate serve`); the UI and `loopgate auth status` show
    /// it too.
    Log,
    /// Fetch it without a human and deliver the redirect (tests, the conformance client; only
    /// works with authorization servers that approve without a login page).
    Follow,
}

/// Who asked for a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The supervisor, after a 401 (at most once until a sign-in succeeds).
    Auto,
    /// The user (UI, tray, CLI).
    User,
}

/// What [`Hub::begin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// A new sign-in was started.
    Started,
    /// One was already pending; its URL once known.
    AlreadyPending(Option<String>),
    /// An automatic sign-in was not started because one already ran since the last success.
    Suppressed,
}

/// The sign-in state of one server, for status output.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SignInView {
    /// A sign-in is pending (waiting for discovery or for the browser).
    pub pending: bool,
    /// The authorization URL of the pending sign-in, once known.
    pub url: Option<String>,
    /// Why the last sign-in failed, if it did.
    pub last_error: Option<String>,
    /// How many sign-ins were started for this server since the gateway started.
    pub started: u32,
}

struct Pending {
    id: u64,
    url: Option<String>,
    cancel: CancellationToken,
}

struct ServerSignIn {
    pending: Option<Pending>,
    auto_used: bool,
    last_error: Option<String>,
    started: u32,
    generation: watch::Sender<u64>,
}

impl Default for ServerSignIn {
    fn default() -> Self {
        Self {
            pending: None,
            auto_used: false,
            last_error: None,
            started: 0,
            generation: watch::channel(0).0,
        }
    }
}

/// The sign-ins of one gateway. Cheap to share (`Arc`).
pub struct Hub {
    secrets: SecretStore,
    presenter: Presenter,
    servers: Mutex<HashMap<String, ServerSignIn>>,
    changed: broadcast::Sender<String>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Hub {
    /// A hub storing tokens in `secrets` and showing sign-in URLs through `presenter`.
    pub fn new(secrets: SecretStore, presenter: Presenter) -> Arc<Hub> {
        Arc::new(Hub {
            secrets,
            presenter,
            servers: Mutex::new(HashMap::new()),
            changed: broadcast::channel(64).0,
            next_id: Default::default(),
        })
    }

    /// How sign-in URLs reach the user.
    pub fn presenter(&self) -> Presenter {
        self.presenter
    }

    /// The keychain store tokens go to.
    pub fn secrets(&self) -> &SecretStore {
        &self.secrets
    }

    fn with<R>(&self, server: &str, f: impl FnOnce(&mut ServerSignIn) -> R) -> R {
        let mut servers = self.servers.lock().unwrap_or_else(|e| e.into_inner());
        f(servers.entry(server.to_string()).or_default())
    }

    /// Names of servers whose sign-in state changed (started, URL known, finished).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.changed.subscribe()
    }

    /// The sign-in state of `server`.
    pub fn view(&self, server: &str) -> SignInView {
        self.with(server, |s| SignInView {
            pending: s.pending.is_some(),
            url: s
                .pending
                .as_ref()
                .and_then(|p| p.url.clone())
                .filter(|u| super::endpoint::check(u, "the sign-in URL").is_ok()),
            last_error: s.last_error.clone(),
            started: s.started,
        })
    }

    /// A receiver whose value grows by one with each successful sign-in to `server`.
    pub fn generation(&self, server: &str) -> watch::Receiver<u64> {
        self.with(server, |s| s.generation.subscribe())
    }

    /// Starts a sign-in to server `server` at `url` unless one is pending (see the module rules).
    /// Returns at once; the sign-in runs in the background (discovery, registration, then the
    /// URL is presented and the listener waits up to [`flow::SIGN_IN_TIMEOUT`]).
    pub fn begin(
        self: &Arc<Self>,
        server: &str,
        url: &str,
        settings: &OAuthSettings,
        challenge: Option<String>,
        trigger: Trigger,
    ) -> Begun {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let begun = self.with(server, |s| {
            if let Some(p) = &s.pending {
                return Begun::AlreadyPending(p.url.clone());
            }
            if trigger == Trigger::Auto && s.auto_used {
                return Begun::Suppressed;
            }
            s.auto_used = true;
            s.started += 1;
            s.last_error = None;
            s.pending = Some(Pending {
                id,
                url: None,
                cancel: cancel.clone(),
            });
            Begun::Started
        });
        if begun != Begun::Started {
            // The user asked again: show the pending page again (no new sign-in).
            if let (Trigger::User, Begun::AlreadyPending(Some(url))) = (trigger, &begun) {
                self.present(server, url);
            }
            return begun;
        }
        let _ = self.changed.send(server.to_string());
        let hub = self.clone();
        let (server, url, settings) = (server.to_string(), url.to_string(), settings.clone());
        tokio::spawn(async move {
            let result = hub
                .run(id, &server, &url, &settings, challenge.as_deref(), &cancel)
                .await;
            hub.finish(id, &server, result);
        });
        Begun::Started
    }

    async fn run(
        &self,
        id: u64,
        server: &str,
        url: &str,
        settings: &OAuthSettings,
        challenge: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<(), OAuthError> {
        let sign_in = tokio::select! {
            r = flow::begin(&self.secrets, server, url, settings, challenge) => r?,
            _ = cancel.cancelled() => return Err(OAuthError::Cancelled),
        };
        let auth_url = sign_in.url().to_string();
        self.with(server, |s| {
            if let Some(p) = s.pending.as_mut().filter(|p| p.id == id) {
                p.url = Some(auth_url.clone());
            }
        });
        let _ = self.changed.send(server.to_string());
        self.present(server, &auth_url);
        sign_in.complete(flow::SIGN_IN_TIMEOUT, cancel).await?;
        tracing::info!(server = %server, "signed in");
        Ok(())
    }

    /// Shows `auth_url` the configured way, after checking once more that it is an https
    /// URL (or http on loopback): nothing else is ever opened or logged as a link. Returns
    /// whether it was shown.
    fn present(&self, server: &str, auth_url: &str) -> bool {
        if let Err(e) = super::endpoint::check(auth_url, "the sign-in URL") {
            tracing::warn!(server = %server, "not opening the sign-in page: {e}");
            return false;
        }
        match self.presenter {
            Presenter::Browser => {
                if let Err(e) = open::that_detached(auth_url) {
                    tracing::warn!(server = %server, "could not open the browser ({e}); sign in at {auth_url}");
                }
            }
            Presenter::Log => {
                tracing::warn!(server = %server, "server \"{server}\" needs you to sign in: open {auth_url}");
            }
            Presenter::Follow => {
                let auth_url = auth_url.to_string();
                tokio::spawn(async move {
                    if let Err(e) = flow::follow(&auth_url).await {
                        tracing::warn!("automatic sign-in failed: {e}");
                    }
                });
            }
        }
        true
    }

    fn finish(&self, id: u64, server: &str, result: Result<(), OAuthError>) {
        self.with(server, |s| {
            if s.pending.as_ref().is_some_and(|p| p.id == id) {
                s.pending = None;
            }
            match &result {
                Ok(()) => {
                    s.auto_used = false;
                    s.last_error = None;
                    s.generation.send_modify(|g| *g += 1);
                }
                Err(e) => s.last_error = Some(e.to_string()),
            }
        });
        if let Err(e) = &result {
            tracing::warn!(server = %server, "sign-in did not complete: {e}");
        }
        let _ = self.changed.send(server.to_string());
    }

    /// Cancels the pending sign-in of `server` (its listener closes). Returns false when none
    /// was pending.
    pub fn cancel(&self, server: &str) -> bool {
        let cancelled = self.with(server, |s| match s.pending.take() {
            Some(p) => {
                p.cancel.cancel();
                true
            }
            None => false,
        });
        if cancelled {
            let _ = self.changed.send(server.to_string());
        }
        cancelled
    }

    /// Signs out of `server`: cancels a pending sign-in, deletes its tokens from the keychain
    /// and revokes them at the authorization server ([`revoke::sign_out`]; the client
    /// registration is kept for the next sign-in). No automatic sign-in follows.
    ///
    /// Errors: the keychain's error.
    pub async fn sign_out(&self, server: &str) -> Result<SignedOut, SecretError> {
        self.stop(server);
        let out = revoke::sign_out(&self.secrets, server).await?;
        let _ = self.changed.send(server.to_string());
        Ok(out)
    }

    /// Like [`Hub::sign_out`], and the client registration goes too; the revocation runs in
    /// the background ([`revoke::forget`]): for a server removed from the config. Returns
    /// whether tokens were stored.
    ///
    /// Errors: the keychain's error.
    pub async fn forget(&self, server: &str) -> Result<bool, SecretError> {
        self.stop(server);
        let out = revoke::forget(&self.secrets, server).await?;
        let _ = self.changed.send(server.to_string());
        Ok(out)
    }

    /// Cancels a pending sign-in of `server` and keeps automatic ones from starting.
    fn stop(&self, server: &str) {
        self.cancel(server);
        self.with(server, |s| {
            s.auto_used = true;
            s.last_error = None;
        });
    }

    /// Waits until the pending sign-in of `server` has its URL (or has ended). Returns the URL,
    /// or the sign-in's error text when it ended without one.
    pub async fn url_when_ready(&self, server: &str) -> Result<String, String> {
        let mut changes = self.subscribe();
        loop {
            let view = self.view(server);
            if let Some(url) = view.url {
                return Ok(url);
            }
            if !view.pending {
                return Err(view
                    .last_error
                    .unwrap_or_else(|| "the sign-in ended".to_string()));
            }
            match changes.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    return Err("the gateway is shutting down".into())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryBackend;

    /// Nothing listens on port 1, so every sign-in fails at discovery, quickly.
    const DEAD: &str = "http://127.0.0.1:1/mcp";

    #[test]
    fn the_browser_presenter_opens_only_web_addresses() {
        let hub = Hub::new(
            SecretStore::with_backend(Arc::new(MemoryBackend::default())),
            Presenter::Browser,
        );
        for hostile in [
            "javascript:fetch('/api/servers',{method:'POST'})",
            "file:///etc/passwd",
            "vscode://x/y",
            "http://auth.example.com/authorize",
        ] {
            assert!(!hub.present("s", hostile), "{hostile}");
        }
    }

    #[tokio::test]
    async fn one_pending_per_server_and_one_automatic_until_success() {
        let hub = Hub::new(
            SecretStore::with_backend(Arc::new(MemoryBackend::default())),
            Presenter::Log,
        );
        let settings = OAuthSettings::default();
        assert_eq!(
            hub.begin("a", DEAD, &settings, None, Trigger::Auto),
            Begun::Started
        );
        assert_eq!(
            hub.begin("a", DEAD, &settings, None, Trigger::User),
            Begun::AlreadyPending(None),
            "a second sign-in while one is pending"
        );
        assert_eq!(
            hub.begin("b", DEAD, &settings, None, Trigger::Auto),
            Begun::Started,
            "servers are independent"
        );
        let err = hub.url_when_ready("a").await.unwrap_err();
        assert!(err.starts_with("sign-in failed at discovery"), "{err}");
        let view = hub.view("a");
        assert!(
            !view.pending && view.started == 1 && view.last_error.is_some(),
            "{view:?}"
        );
        // The automatic one was used up; only the user can start another.
        assert_eq!(
            hub.begin("a", DEAD, &settings, None, Trigger::Auto),
            Begun::Suppressed
        );
        assert_eq!(
            hub.begin("a", DEAD, &settings, None, Trigger::User),
            Begun::Started
        );
        assert!(hub.cancel("a") || !hub.view("a").pending);
        let _ = hub.url_when_ready("a").await;
        assert!(!hub.cancel("a"), "nothing left to cancel");
        assert_eq!(*hub.generation("a").borrow(), 0, "no sign-in succeeded");
        // Signing out suppresses the automatic sign-in as well.
        assert!(!hub.sign_out("c").await.unwrap().removed);
        assert_eq!(
            hub.begin("c", DEAD, &settings, None, Trigger::Auto),
            Begun::Suppressed
        );
    }
}
