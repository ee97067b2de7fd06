//! Dashboard sign-in: one-time links and server-side sessions (ARCHITECTURE.md rule 11).
//!
//! A browser never holds a long-lived token. The running gateway mints a **link nonce** for
//! `loopgate open`, the desktop app's window and the `serve` banner: 32 random bytes, usable
//! once, within [`LINK_TTL`]. `GET /auth?nonce=…` exchanges it for a **session id** (another
//! 32 random bytes) kept only in this process, set as an HttpOnly, SameSite=Strict cookie and
//! valid for [`SESSION_TTL`] after the sign-in; the cookie names the port, so two gateways on
//! one machine do not overwrite each other's session. Sessions reach `/api`, and `/mcp` only
//! from the dashboard's own pages (the playground; the guard checks that); they end when the
//! gateway stops.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a dashboard link stays usable (5 minutes).
pub const LINK_TTL: Duration = Duration::from_secs(5 * 60);
/// How long a dashboard session lasts after its sign-in (7 days).
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most unredeemed links and live sessions kept; the oldest go first beyond it.
pub const MAX_ENTRIES: usize = 256;

/// The cookie name of the dashboard session of the gateway on `port`.
pub fn cookie_name(port: u16) -> String {
    format!("loopgate_session_{port}")
}

/// Link nonces and sessions of one running gateway. All methods are cheap and never block on
/// I/O.
#[derive(Debug, Default)]
pub struct DashboardSessions {
    links: Mutex<HashMap<String, Instant>>,
    sessions: Mutex<HashMap<String, Instant>>,
}

fn random_id() -> String {
    crate::token::generate()
}

/// Drops expired entries (and the oldest beyond [`MAX_ENTRIES`]) from `map`.
fn prune(map: &mut HashMap<String, Instant>, ttl: Duration) {
    map.retain(|_, created| created.elapsed() < ttl);
    while map.len() >= MAX_ENTRIES {
        let Some(oldest) = map.iter().min_by_key(|(_, t)| **t).map(|(k, _)| k.clone()) else {
            break;
        };
        map.remove(&oldest);
    }
}

impl DashboardSessions {
    /// Mints a single-use link nonce, valid for [`LINK_TTL`]. Returns it (64 hex characters);
    /// the link is `http://<addr>/auth?nonce=<it>`.
    pub fn mint_link(&self) -> String {
        let nonce = random_id();
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut links, LINK_TTL);
        links.insert(nonce.clone(), Instant::now());
        nonce
    }

    /// Redeems a link nonce: `Some(session id)` when it was minted here, is unused and not
    /// expired (it is then used up); `None` otherwise.
    pub fn redeem(&self, nonce: &str) -> Option<String> {
        let minted = self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(nonce)?;
        if minted.elapsed() >= LINK_TTL {
            return None;
        }
        let id = random_id();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut sessions, SESSION_TTL);
        sessions.insert(id.clone(), Instant::now());
        Some(id)
    }

    /// Whether `id` is a live session (compared in constant time per entry).
    pub fn is_valid(&self, id: &str) -> bool {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .iter()
            .any(|(k, created)| crate::token::matches(k, id) && created.elapsed() < SESSION_TTL)
    }

    /// Ends session `id` (sign-out); false when there was none.
    pub fn end(&self, id: &str) -> bool {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_single_use_and_sessions_are_random() {
        let s = DashboardSessions::default();
        let nonce = s.mint_link();
        assert_eq!(nonce.len(), 64);
        let id = s.redeem(&nonce).expect("first use");
        assert_ne!(id, nonce, "the session id is not the link");
        assert!(s.is_valid(&id));
        assert!(s.redeem(&nonce).is_none(), "a link works once");
        assert!(s.redeem("made-up").is_none());
        assert!(!s.is_valid(&nonce), "a link is not a session");
        assert!(!s.is_valid(""));
        assert!(s.end(&id));
        assert!(!s.is_valid(&id));
    }

    #[test]
    fn expired_links_are_refused_and_entries_are_bounded() {
        let s = DashboardSessions::default();
        let old = s.mint_link();
        // (A machine up for less than LINK_TTL cannot have a link that old.)
        if let Some(then) = Instant::now().checked_sub(LINK_TTL + Duration::from_secs(1)) {
            s.links.lock().unwrap().insert(old.clone(), then);
            assert!(s.redeem(&old).is_none());
        }
        for _ in 0..MAX_ENTRIES * 2 {
            s.mint_link();
        }
        assert!(s.links.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
