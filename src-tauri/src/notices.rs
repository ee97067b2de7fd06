//! Which desktop notifications the app shows, without any Tauri type, so the desktop shell
//! stays thin and the decision is tested headless (as [`crate::tray_menu`] is for the tray).
//!
//! Three causes are worth interrupting the user for while the dashboard is not in front:
//!
//! - a server that stopped and will not be tried again ([`ServerStatus::parked`]: a crash
//!   loop, a secret that is not set);
//! - a server that needs a sign-in (OAuth) before its tools are available;
//! - a client whose token was refused [`REFUSALS_BEFORE_NOTICE`] times (a revoked or outdated
//!   client token; see [`crate::http::refusals`]).
//!
//! [`current`] lists what holds now; [`Notifier::decide`] picks what to show: each cause at
//! most once while it lasts (a server that recovers and fails again is told again), nothing
//! while notifications are switched off (the tray's *Notifications* item; what happened
//! meanwhile is not told later), and nothing about servers while the dashboard is in front,
//! where the user sees it already. The switch is kept in `desktop.json` beside the config.
//!
//! [`ServerStatus::parked`]: crate::upstream::ServerStatus::parked

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::http::refusals::Refused;
use crate::upstream::{ServerState, Snapshot};

/// After how many refusals of one token the user is told.
pub const REFUSALS_BEFORE_NOTICE: u32 = 3;

/// Longest error text quoted in a notification, in characters.
const MAX_DETAIL: usize = 240;

/// What a notification is about; each is told at most once while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Server `0` stopped and will not be retried.
    Parked(String),
    /// Server `0` needs a sign-in.
    SignIn(String),
    /// The token with this fingerprint was refused repeatedly.
    RefusedToken(String),
}

impl Cause {
    /// Whether the dashboard shows this cause (so a dashboard in front makes a notification
    /// needless).
    fn shown_by_dashboard(&self) -> bool {
        matches!(self, Cause::Parked(_) | Cause::SignIn(_))
    }
}

/// One notification: why, a title and a plain-text body (markup characters escaped, since
/// some notification services read `<b>`, `<a href>` in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What it is about.
    pub cause: Cause,
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
}

/// `text` with `&`, `<` and `>` escaped, at most [`MAX_DETAIL`] characters: a longer one keeps
/// its start (what failed) and its end (what to do), with `…` between.
fn plain(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let cut: String = if chars.len() > MAX_DETAIL {
        let half = MAX_DETAIL / 2;
        let head: String = chars[..half].iter().collect();
        let tail: String = chars[chars.len() - half..].iter().collect();
        format!("{head} … {tail}")
    } else {
        text.to_string()
    };
    cut.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The causes that hold now: parked servers and servers needing a sign-in (enabled ones, in
/// config order), then tokens refused at least [`REFUSALS_BEFORE_NOTICE`] times.
pub fn current(snapshot: &Snapshot, refused: &[Refused]) -> Vec<Notice> {
    let mut out = Vec::new();
    for (name, view) in snapshot.iter().filter(|(_, v)| v.status.enabled) {
        let status = &view.status;
        if status.state == ServerState::Failed && status.parked {
            out.push(Notice {
                cause: Cause::Parked(name.clone()),
                title: format!("{name} stopped"),
                body: plain(status.last_error.as_deref().unwrap_or(
                    "It will not be restarted by itself; fix it, then restart it in the dashboard.",
                )),
            });
        } else if status.state == ServerState::NeedsSignIn {
            out.push(Notice {
                cause: Cause::SignIn(name.clone()),
                title: format!("Sign in to {name}"),
                body: format!(
                    "{name} needs you to sign in before its tools are available: \"Sign in to {name}…\" in the tray menu, or the dashboard."
                ),
            });
        }
    }
    for r in refused.iter().filter(|r| r.count >= REFUSALS_BEFORE_NOTICE) {
        let who = r
            .user_agent
            .as_deref()
            .map(|a| format!(" ({})", plain(a)))
            .unwrap_or_default();
        out.push(Notice {
            cause: Cause::RefusedToken(r.fingerprint.clone()),
            title: "A client is being refused".into(),
            body: format!(
                "A client{who} sent a token this gateway does not accept {} times (token fingerprint {}). Install it again from the dashboard's Connect page, or `loopgate client install <client>`.",
                r.count, r.fingerprint
            ),
        });
    }
    out
}

/// What was told already, and whether notifications are on.
#[derive(Debug, Clone)]
pub struct Notifier {
    enabled: bool,
    told: HashSet<Cause>,
}

impl Notifier {
    /// A notifier that has told nothing yet; `enabled` is the saved switch.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            told: HashSet::new(),
        }
    }

    /// Whether notifications are on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Switches notifications on or off (what held meanwhile is not told when switched on).
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// The notifications to show now, given the causes that hold (`current`) and whether the
    /// dashboard is in front (visible and focused). Every cause is remembered as handled
    /// whether shown or not; a cause that no longer holds is forgotten, so it is told again
    /// when it comes back.
    pub fn decide(&mut self, current: Vec<Notice>, dashboard_in_front: bool) -> Vec<Notice> {
        let holding: HashSet<&Cause> = current.iter().map(|n| &n.cause).collect();
        self.told.retain(|c| holding.contains(c));
        let enabled = self.enabled;
        current
            .into_iter()
            .filter(|n| self.told.insert(n.cause.clone()))
            .filter(|n| enabled && !(dashboard_in_front && n.cause.shown_by_dashboard()))
            .collect()
    }
}

/// The file holding the desktop app's own settings: `desktop.json` beside the config file.
pub fn settings_path(config_path: &Path) -> PathBuf {
    config_path.with_file_name("desktop.json")
}

/// Whether notifications are on for the config at `config_path` (on unless switched off; an
/// unreadable settings file counts as on).
pub fn load_enabled(config_path: &Path) -> bool {
    std::fs::read(settings_path(config_path))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("notifications").and_then(|n| n.as_bool()))
        .unwrap_or(true)
}

/// Saves the notifications switch for the config at `config_path` (atomically).
///
/// Errors: the settings file could not be written.
pub fn save_enabled(config_path: &Path, on: bool) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(&serde_json::json!({ "notifications": on }))
        .expect("a JSON object serializes");
    crate::config::store::write_atomic(&settings_path(config_path), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::{ServerStatus, ServerView};

    fn view(state: ServerState, parked: bool, error: &str) -> ServerView {
        let entry: crate::config::ServerEntry =
            serde_json::from_value(serde_json::json!({"command": "x"})).unwrap();
        let mut status = ServerStatus::fresh("s", &entry);
        status.state = state;
        status.parked = parked;
        status.last_error = Some(error.into());
        ServerView {
            status,
            connection: None,
            catalog: Default::default(),
            logs: Default::default(),
            entry: std::sync::Arc::new(entry),
        }
    }

    fn snapshot(rows: &[(&str, ServerView)]) -> Snapshot {
        rows.iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect()
    }

    fn causes(n: &[Notice]) -> Vec<Cause> {
        n.iter().map(|n| n.cause.clone()).collect()
    }

    #[test]
    fn parked_servers_sign_ins_and_repeatedly_refused_tokens_are_causes() {
        let snap = snapshot(&[
            ("crashy", view(ServerState::Failed, true, "exited <b>1</b>")),
            (
                "retrying",
                view(ServerState::Failed, false, "retrying in 2 s"),
            ),
            ("linear", view(ServerState::NeedsSignIn, false, "401")),
            ("fine", view(ServerState::Ready, false, "")),
        ]);
        let refused = [
            Refused {
                fingerprint: "aaaa0001".into(),
                count: 2,
                user_agent: None,
            },
            Refused {
                fingerprint: "bbbb0002".into(),
                count: 3,
                user_agent: Some("Cursor/1.2".into()),
            },
        ];
        let now = current(&snap, &refused);
        assert_eq!(
            causes(&now),
            [
                Cause::Parked("crashy".into()),
                Cause::SignIn("linear".into()),
                Cause::RefusedToken("bbbb0002".into())
            ]
        );
        assert_eq!(now[0].body, "exited &lt;b&gt;1&lt;/b&gt;", "markup escaped");
        let long = format!("cause {} what to do", "x".repeat(1000));
        let cut = plain(&long);
        assert!(cut.starts_with("cause ") && cut.ends_with(" what to do") && cut.contains(" … "));
        assert!(cut.chars().count() <= MAX_DETAIL + 3);
        assert!(now[2].body.contains("(Cursor/1.2)") && now[2].body.contains("3 times"));
        let mut disabled = view(ServerState::Failed, true, "x");
        disabled.status.enabled = false;
        assert!(current(&snapshot(&[("off", disabled)]), &[]).is_empty());
    }

    #[test]
    fn each_cause_once_while_it_lasts_and_again_when_it_comes_back() {
        let parked = snapshot(&[("crashy", view(ServerState::Failed, true, "gave up"))]);
        let ready = snapshot(&[("crashy", view(ServerState::Ready, false, ""))]);
        let mut n = Notifier::new(true);
        assert_eq!(n.decide(current(&parked, &[]), false).len(), 1);
        assert!(
            n.decide(current(&parked, &[]), false).is_empty(),
            "told once"
        );
        assert!(n.decide(current(&ready, &[]), false).is_empty());
        assert_eq!(
            n.decide(current(&parked, &[]), false).len(),
            1,
            "failed again after recovering: told again"
        );
    }

    #[test]
    fn switched_off_or_dashboard_in_front_tells_nothing_and_nothing_later() {
        let parked = snapshot(&[("crashy", view(ServerState::Failed, true, "gave up"))]);
        let refused = [Refused {
            fingerprint: "cccc0003".into(),
            count: 5,
            user_agent: None,
        }];
        let mut n = Notifier::new(false);
        assert!(!n.enabled());
        assert!(n.decide(current(&parked, &refused), false).is_empty());
        n.set_enabled(true);
        assert!(
            n.decide(current(&parked, &refused), false).is_empty(),
            "what held while switched off is not told later"
        );
        let mut n = Notifier::new(true);
        let shown = n.decide(current(&parked, &refused), true);
        assert_eq!(
            causes(&shown),
            [Cause::RefusedToken("cccc0003".into())],
            "the dashboard shows servers, not refused tokens"
        );
        assert!(n.decide(current(&parked, &refused), false).is_empty());
    }

    #[test]
    fn the_switch_is_saved_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        assert!(load_enabled(&config), "on by default");
        save_enabled(&config, false).unwrap();
        assert!(!load_enabled(&config));
        assert!(dir.path().join("desktop.json").exists());
        save_enabled(&config, true).unwrap();
        assert!(load_enabled(&config));
    }
}
