//! Profiles: named sets of servers and tools, and which profile each client's token sees
//! (`"profiles"`, `"clientProfiles"` and `gateway.profile` in the config file).
//!
//! ```json
//! {
//!   "profiles": {
//!     "coding": { "servers": ["github", "filesystem"], "disabledTools": { "github": ["delete_repo"] } },
//!     "research": { "toolSearch": true }
//!   },
//!   "clientProfiles": { "cursor": "coding" },
//!   "gateway": { "profile": "coding" }
//! }
//! ```
//!
//! A client whose token is bound to a profile sees, lists and calls only that profile's tools,
//! prompts and resources; without a binding it sees everything, as before profiles existed.
//! Validation (every server and profile named must exist) is in [`super::validate`].

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The servers in this profile, by name; absent: every server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<String>>,
    /// Per server, tools (as the server names them) hidden in this profile, on top of the
    /// server's own `disabledTools`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub disabled_tools: IndexMap<String, Vec<String>>,
    /// Offer a search tool and a call tool instead of every tool (for very large sets).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tool_search: bool,
    /// Keys Loopgate does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: IndexMap<String, Value>,
}

impl Profile {
    /// Whether server `server` is in this profile.
    pub fn has_server(&self, server: &str) -> bool {
        self.servers
            .as_ref()
            .is_none_or(|s| s.iter().any(|n| n == server))
    }

    /// Whether tool `tool` (the server's name for it) of `server` is in this profile.
    pub fn has_tool(&self, server: &str, tool: &str) -> bool {
        self.has_server(server)
            && !self
                .disabled_tools
                .get(server)
                .is_some_and(|t| t.iter().any(|n| n == tool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_narrows_servers_and_tools() {
        let p: Profile = serde_json::from_value(serde_json::json!({
            "servers": ["github"], "disabledTools": {"github": ["delete_repo"]}, "note": 1
        }))
        .unwrap();
        assert!(p.has_server("github") && !p.has_server("calendar"));
        assert!(p.has_tool("github", "search") && !p.has_tool("github", "delete_repo"));
        assert_eq!(
            serde_json::to_value(&p).unwrap()["note"],
            1,
            "unknown keys kept"
        );
        let all = Profile::default();
        assert!(all.has_tool("anything", "at_all"));
    }
}
