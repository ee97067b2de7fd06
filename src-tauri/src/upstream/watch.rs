//! The connected phase of a server: list what it offers, publish `ready`, then follow it until
//! the connection ends — re-listing when its lists change (a notification, a `subscriptions/
//! listen` event, a re-initialized session, or periodically where nothing tells), starting a
//! step-up sign-in when it asks for more scope, and ending the session cleanly.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::catalog;
use super::connection::{Connection, Live};
use super::runner::{End, Runner};
use super::state::{now_ms, Event};
use super::ServerState;
use crate::oauth::{Challenge, OAuthSettings, Trigger};

/// How often a server that cannot report list changes is listed again.
pub const RELIST_EVERY: Duration = Duration::from_secs(300);
/// Whether a server tells Loopgate when its lists change: a stdio server and an HTTP server
/// with a session do (notifications on the session's streams), and so does one whose
/// `subscriptions/listen` stream Loopgate follows (`listens`). A stateless legacy HTTP server
/// (`session_issued: Some(false)`, no listen stream) has nowhere to send them.
pub fn reports_list_changes(listens: bool, session_issued: Option<bool>) -> bool {
    listens || session_issued != Some(false)
}

/// Whether a server is due to be listed again `since` its last listing: only one that cannot
/// report changes, every [`RELIST_EVERY`].
pub fn relist_due(reports_changes: bool, since: Duration) -> bool {
    !reports_changes && since >= RELIST_EVERY
}

/// Longest wait before reopening a `subscriptions/listen` stream that ended.
pub const LISTEN_RETRY_MAX: Duration = Duration::from_secs(60);

/// What happened while connected.
enum Happened {
    Stopped,
    ListsChanged,
    Reinitialized,
    Exited(String),
    AuthFailed(Challenge),
    SignedInAgain,
    Tick,
}

/// The connected phase of one runner.
pub(super) struct Watch<'a> {
    pub(super) runner: &'a Runner,
    /// The server's URL and OAuth options, when it may use OAuth.
    pub(super) oauth: Option<(String, OAuthSettings)>,
}

impl Watch<'_> {
    /// Lists, publishes `ready`, follows the connection until it ends, then closes it.
    pub(super) async fn run(self, live: Live) -> End {
        let Live {
            connection,
            mut services,
            mut child,
            changed,
        } = live;
        let r = self.runner;
        let pid = child.as_ref().and_then(|c| c.pid());
        let listing = self.refresh(&connection, pid).await;
        self.log_connected(&connection, pid);
        if let Err(e) = listing {
            self.mark_degraded(format!("connected, but listing failed: {e}"));
        }
        let listener = follow_list_changes(&connection, changed.clone());
        let reports_changes = reports_list_changes(
            listener.is_some(),
            connection.session().map(|o| o.session_id().is_some()),
        );
        let mut signed_in_again = r.shared.oauth.generation(&r.name);
        signed_in_again.borrow_and_update();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut since_listing = 0u64;
        let end = loop {
            let happened = self
                .next(
                    &connection,
                    &changed,
                    &mut child,
                    &mut signed_in_again,
                    &mut tick,
                )
                .await;
            match happened {
                Happened::Stopped => break End::Stop,
                Happened::ListsChanged => self.relist(&connection, pid).await,
                Happened::Reinitialized => {
                    let note = "the server forgot its session (HTTP 404); re-initialized and re-listed tools";
                    r.logs.push("gateway", note);
                    tracing::info!("{note}");
                    r.shared
                        .update(&r.name, |v| v.status.reinitializations += 1);
                    self.relist(&connection, pid).await;
                }
                Happened::Exited(exit) => {
                    break End::Lost(format!("server \"{}\" process {exit}", r.name))
                }
                Happened::AuthFailed(challenge) => match (challenge, &self.oauth) {
                    (Challenge::MoreScope(header), Some((url, settings))) => {
                        if r.may_step_up() {
                            r.logs.push("gateway", "the server wants more permissions for a request (HTTP 403 insufficient_scope); started a sign-in to grant them");
                            r.shared.oauth.begin(
                                &r.name,
                                url,
                                settings,
                                Some(header),
                                Trigger::Auto,
                            );
                        } else {
                            r.logs.push("gateway", "the server keeps asking for more permissions (HTTP 403 insufficient_scope); not signing in again automatically — use \"Sign in\" to retry");
                        }
                    }
                    (challenge, _) => break End::SignIn(challenge),
                },
                Happened::SignedInAgain => {
                    r.logs.push(
                        "gateway",
                        "signed in again; reconnecting with the new tokens",
                    );
                    break End::Reconnect;
                }
                Happened::Tick => {
                    if services.iter().any(|s| s.is_closed()) || connection.is_closed() {
                        break End::Lost(format!("server \"{}\": the connection closed", r.name));
                    }
                    since_listing += 1;
                    if relist_due(reports_changes, Duration::from_secs(since_listing)) {
                        since_listing = 0;
                        self.relist(&connection, pid).await;
                    }
                }
            }
        };
        if let Some(l) = listener {
            l.abort();
        }
        // Take the tools away first, so clients stop routing to a dying backend.
        r.shared.update(&r.name, |v| {
            v.connection = None;
            v.catalog = Arc::default();
            v.status.tool_count = 0;
        });
        r.shared.emit(Event::CatalogChanged(r.name.clone()));
        // Ends the session: closes the child's stdin / DELETEs the HTTP session.
        for mut service in services.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), service.close()).await;
        }
        if let Some(c) = child.take() {
            c.stop().await;
        }
        if matches!(end, End::Stop) {
            r.shared.update(&r.name, |v| {
                v.status.pid = None;
                v.status.connected_since_ms = None;
            });
        }
        end
    }

    /// Waits for the next thing that needs handling.
    async fn next(
        &self,
        connection: &Arc<Connection>,
        changed: &Notify,
        child: &mut Option<super::stdio::ChildProcess>,
        signed_in_again: &mut tokio::sync::watch::Receiver<u64>,
        tick: &mut tokio::time::Interval,
    ) -> Happened {
        let reinit = async {
            match connection.session() {
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
        let oauth = self.oauth.is_some();
        tokio::select! {
            _ = self.runner.ct.cancelled() => Happened::Stopped,
            _ = changed.notified() => Happened::ListsChanged,
            _ = reinit => Happened::Reinitialized,
            exit = exited => Happened::Exited(exit),
            challenge = connection.auth_failed() => Happened::AuthFailed(challenge),
            r = signed_in_again.changed(), if oauth => {
                if r.is_ok() { Happened::SignedInAgain } else { Happened::Tick }
            }
            _ = tick.tick() => Happened::Tick,
        }
    }

    fn log_connected(&self, connection: &Connection, pid: Option<u32>) {
        let r = self.runner;
        let eras = connection.eras().join(" + ");
        tracing::info!(protocol = ?connection.protocol_version(), eras = %eras, "connected");
        let session = match connection.session().map(|o| o.session_id()) {
            Some(Some(_)) => ", the server issued a session",
            Some(None) if connection.has_session() => ", stateless (no session issued)",
            _ => "",
        };
        let protocol = connection.protocol_version().unwrap_or_else(|| "?".into());
        let process = pid.map(|p| format!(", process {p}")).unwrap_or_default();
        r.logs.push(
            "gateway",
            &format!("connected: protocol {protocol} ({eras}){session}{process}"),
        );
    }

    fn mark_degraded(&self, message: String) {
        self.runner.shared.update(&self.runner.name, |v| {
            v.status.state = ServerState::Degraded;
            v.status.last_error = Some(message);
        });
    }

    async fn relist(&self, connection: &Arc<Connection>, pid: Option<u32>) {
        if let Err(e) = self.refresh(connection, pid).await {
            self.mark_degraded(format!("re-listing failed: {e}"));
        }
    }

    /// Re-lists tools, prompts and resources and publishes them with a `ready` state.
    async fn refresh(
        &self,
        connection: &Arc<Connection>,
        pid: Option<u32>,
    ) -> Result<(), super::UpstreamError> {
        let r = self.runner;
        let catalog = Arc::new(catalog::list(connection).await?);
        let session = connection
            .session()
            .filter(|_| connection.has_session())
            .map(|o| o.session_id());
        let protocol = connection.protocol_version();
        let eras = connection.eras().into_iter().map(str::to_string).collect();
        r.shared.update(&r.name, |v| {
            v.status.state = ServerState::Ready;
            v.status.last_error = None;
            v.status.protocol_version = protocol;
            v.status.eras = eras;
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
        r.shared.emit(Event::CatalogChanged(r.name.clone()));
        Ok(())
    }
}

/// A server whose lists only change on a `subscriptions/listen` stream (2026-07-28, with no
/// initialize-based session that has its own stream): opens one and wakes `changed` for each
/// notification, reopening it with backoff whenever it ends. Returns the task (abort it when
/// the connection ends), or `None` when the session delivers list changes itself.
pub fn follow_list_changes(
    connection: &Arc<Connection>,
    changed: Arc<Notify>,
) -> Option<tokio::task::JoinHandle<()>> {
    if connection.has_session() {
        return None;
    }
    let peer = connection.stateless_peer()?.clone();
    let name = connection.name().to_string();
    Some(tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        let mut reopened = false;
        loop {
            let filter = rmcp::model::SubscriptionFilter::builder()
                .tools_list_changed()
                .prompts_list_changed()
                .resources_list_changed()
                .build();
            match peer.listen(filter).await {
                Ok(mut sub) => {
                    wait = Duration::from_secs(1);
                    if reopened {
                        // Whatever changed while the stream was down.
                        changed.notify_one();
                    }
                    reopened = true;
                    while let Ok(Some(_)) = sub.next().await {
                        changed.notify_one();
                    }
                    tracing::debug!(server = %name, "subscriptions/listen ended; reopening");
                }
                Err(e) => {
                    tracing::debug!(server = %name, "subscriptions/listen not available: {e}");
                }
            }
            if peer.is_transport_closed() {
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(LISTEN_RETRY_MAX);
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_that_cannot_report_changes_are_listed_again() {
        // stdio (no HTTP session facts) and HTTP with an issued session report changes.
        assert!(reports_list_changes(false, None));
        assert!(reports_list_changes(false, Some(true)));
        // A stateless legacy HTTP server reports nothing, unless Loopgate listens (2026).
        assert!(!reports_list_changes(false, Some(false)));
        assert!(reports_list_changes(true, Some(false)));
        assert!(relist_due(false, RELIST_EVERY));
        assert!(!relist_due(false, RELIST_EVERY - Duration::from_secs(1)));
        assert!(!relist_due(true, RELIST_EVERY * 10));
    }
}
