//! The names clients see: every server's tools and prompts under one list.
//!
//! A tool or prompt is exposed as `<prefix><name>`, the prefix being the server's
//! `toolPrefix`, by default `<server>__`. Server names cannot contain `__` nor end with `_`
//! (see the config rules), so with default prefixes the first `__` of an exposed name always
//! ends the server's name: names of different servers never collide, and no server can take
//! over another's names by changing its own list. MCP (2025-11-25, "Tool names") allows 1–128
//! characters from `A-Z a-z 0-9 _ - .`, so, deterministically:
//!
//! 1. characters outside that set are replaced by `_`;
//! 2. a name longer than 128 characters is cut to 119 and suffixed with `_` and the first 8 hex
//!    digits of the SHA-256 of the untouched `<prefix><name>`;
//! 3. if two names still collide (within one server, or across servers whose chosen prefixes
//!    allow it, e.g. `""`), servers are taken in config order and tools in the server's order,
//!    and later ones get `_2`, `_3`, … (cut further to stay within 128).
//!
//! Nothing is dropped.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

/// Longest tool/prompt name the spec allows, in characters.
pub const MAX_NAME_LEN: usize = 128;
/// Separator between server and tool name in the default prefix.
pub const SEPARATOR: &str = "__";

/// The default prefix of `server`'s names: `<server>__`.
pub fn default_prefix(server: &str) -> String {
    format!("{server}{SEPARATOR}")
}

/// Whether `prefix` is a usable `toolPrefix`: at most 64 characters from the tool-name set.
pub fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 64
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn fit(name: String, full: &str) -> String {
    if name.len() <= MAX_NAME_LEN {
        return name;
    }
    let hash = hex::encode(Sha256::digest(full.as_bytes()));
    format!("{}_{}", &name[..MAX_NAME_LEN - 9], &hash[..8])
}

/// Allocates unique exposed names following the module rules.
#[derive(Default)]
pub struct Namer {
    used: HashSet<String>,
}

impl Namer {
    /// The exposed name of `original` under `prefix` (unique among the names given so far).
    pub fn name(&mut self, prefix: &str, original: &str) -> String {
        let full = format!("{prefix}{original}");
        let base = fit(sanitize(&full), &full);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.used.contains(&candidate) {
            let suffix = format!("_{n}");
            let keep = base.len().min(MAX_NAME_LEN - suffix.len());
            candidate = format!("{}{suffix}", &base[..keep]);
            n += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(n: &mut Namer, server: &str, tool: &str) -> String {
        n.name(&default_prefix(server), tool)
    }

    #[test]
    fn names_are_namespaced_sanitized_bounded_and_unique() {
        let mut n = Namer::default();
        assert_eq!(ns(&mut n, "fs", "read_file"), "fs__read_file");
        assert_eq!(ns(&mut n, "fs", "read file/now"), "fs__read_file_now");
        // Sanitizing made a collision: the later one gets a suffix.
        assert_eq!(ns(&mut n, "fs", "read file"), "fs__read_file_2");
        let long = "x".repeat(200);
        let a = ns(&mut n, "srv", &long);
        assert_eq!(a.len(), MAX_NAME_LEN);
        assert!(a.starts_with("srv__xxx"));
        let b = ns(&mut n, "srv", &format!("{long}y"));
        assert_eq!(b.len(), MAX_NAME_LEN);
        assert_ne!(a, b, "different long names hash differently");
        // Deterministic across runs.
        let mut m = Namer::default();
        assert_eq!(ns(&mut m, "srv", &long), a);
        // No prefix: names as the server gives them, a clash made unique.
        let mut bare = Namer::default();
        assert_eq!(bare.name("", "echo"), "echo");
        assert_eq!(bare.name("", "echo"), "echo_2");
        assert!(valid_prefix("") && valid_prefix("gh.") && !valid_prefix("a b"));
    }

    #[test]
    fn servers_never_collide_with_each_other() {
        use proptest::prelude::*;
        let server = "[a-z0-9][a-z0-9_-]{0,10}[a-z0-9-]|[a-z0-9]";
        let tool = "[ -~]{1,140}";
        proptest!(|(a in server, b in server, ta in tool, tb in tool)| {
            prop_assume!(!a.contains("__") && !b.contains("__") && a != b);
            let mut n = Namer::default();
            let x = ns(&mut n, &a, &ta);
            let y = ns(&mut n, &b, &tb);
            prop_assert_ne!(&x, &y);
            // Another server's names never change this one's (no `_2` because of `a`).
            prop_assert_eq!(&y, &ns(&mut Namer::default(), &b, &tb));
            // The server is the part before the first "__".
            prop_assert_eq!(x.split(SEPARATOR).next().unwrap(), a.as_str());
            prop_assert_eq!(y.split(SEPARATOR).next().unwrap(), b.as_str());
        });
        // The case that collided before server names ending in "_" were refused.
        let mut n = Namer::default();
        assert_eq!(ns(&mut n, "a", "_b"), "a___b");
    }
}
