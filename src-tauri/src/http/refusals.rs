//! Refused client credentials on `/mcp`, counted per token, so the desktop app can tell the
//! user when a client keeps knocking with a token the gateway does not know (a revoked or
//! outdated client token, another gateway's token).
//!
//! Only a fingerprint of a refused token is kept (the first 8 hex digits of its SHA-256),
//! never the token, and at most [`MAX_TOKENS`] of them: a program sending ever new tokens
//! cannot grow the list or the notifications it leads to.

use std::sync::Mutex;

use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// How many distinct refused tokens are tracked; later ones are not counted.
pub const MAX_TOKENS: usize = 8;

/// Longest user agent kept, in characters.
const MAX_AGENT: usize = 80;

/// One refused token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The first 8 hex digits of the token's SHA-256.
    pub fingerprint: String,
    /// How often it was refused.
    pub count: u32,
    /// The `User-Agent` of the latest refused request (printable ASCII, shortened), if any.
    pub user_agent: Option<String>,
}

/// The refused tokens of one gateway; [`Refusals::changed`] tells watchers.
#[derive(Debug)]
pub struct Refusals {
    seen: Mutex<Vec<Refused>>,
    changed: watch::Sender<u64>,
}

impl Default for Refusals {
    fn default() -> Self {
        Self {
            seen: Mutex::default(),
            changed: watch::channel(0).0,
        }
    }
}

impl Refusals {
    /// Counts one refusal of `token`, sent with `user_agent`.
    pub fn record(&self, token: &str, user_agent: Option<&str>) {
        let fingerprint = hex::encode(&Sha256::digest(token.as_bytes())[..4]);
        let user_agent = user_agent.map(|a| {
            a.chars()
                .filter(|c| c.is_ascii_graphic() || *c == ' ')
                .take(MAX_AGENT)
                .collect::<String>()
        });
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match seen.iter().position(|r| r.fingerprint == fingerprint) {
            Some(i) => {
                let r = &mut seen[i];
                r.count = r.count.saturating_add(1);
                r.user_agent = user_agent.or(r.user_agent.take());
            }
            None if seen.len() < MAX_TOKENS => seen.push(Refused {
                fingerprint,
                count: 1,
                user_agent,
            }),
            None => return,
        }
        drop(seen);
        self.changed.send_modify(|n| *n += 1);
    }

    /// The refused tokens so far, first refused first.
    pub fn list(&self) -> Vec<Refused> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes whenever a refusal is counted.
    pub fn changed(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_token_keeps_no_token_and_is_bounded() {
        let r = Refusals::default();
        let changed = r.changed();
        r.record("old-cursor-token", Some("Cursor/1.2\u{1b}[31m"));
        r.record("old-cursor-token", None);
        assert!(changed.has_changed().unwrap());
        let list = r.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].count, 2);
        assert_eq!(list[0].fingerprint.len(), 8);
        assert_eq!(list[0].user_agent.as_deref(), Some("Cursor/1.2[31m"));
        assert!(!format!("{list:?}").contains("old-cursor-token"));
        for i in 0..20 {
            r.record(&format!("t{i}"), None);
        }
        assert_eq!(r.list().len(), MAX_TOKENS);
    }
}
