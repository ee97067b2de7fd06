//! Which part of the gateway one caller sees: the profile its credential is bound to
//! (`profiles`, `clientProfiles`, `gateway.profile` in the config; [`crate::config::profiles`]).
//!
//! [`Profiles`] is the gateway's copy of those settings, replaced on every config change;
//! [`Profiles::scope_for`] turns a request's [`Caller`] into its [`Scope`]. A client's token
//! bound to a profile sees that profile; the gateway's own token sees `gateway.profile`, or the
//! profile `loopgate connect --profile P` asks for (the header [`PROFILE_HEADER`]; the owner's
//! token may narrow what it sees, never widen another's); the dashboard sees everything.

use indexmap::IndexMap;

use crate::caller::Caller;
use crate::config::{Config, Profile};

/// The request header with which the gateway's own token (the stdio bridge) asks for a
/// profile.
pub const PROFILE_HEADER: &str = "loopgate-profile";

/// What one caller may see: every server, or a profile's servers and tools.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    name: Option<String>,
    rules: Option<Profile>,
}

impl Scope {
    /// Every server and tool (no profile).
    pub fn everything() -> Scope {
        Scope::default()
    }

    /// Profile `name` (`rules` its settings).
    pub fn profile(name: &str, rules: Profile) -> Scope {
        Scope {
            name: Some(name.to_string()),
            rules: Some(rules),
        }
    }

    /// The profile's name; `None` for everything. Sessions with the same key see the same.
    pub fn key(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether this is everything (no filtering needed).
    pub fn is_everything(&self) -> bool {
        self.rules.is_none()
    }

    /// Whether server `server` is in scope.
    pub fn has_server(&self, server: &str) -> bool {
        self.rules.as_ref().is_none_or(|p| p.has_server(server))
    }

    /// Whether tool `tool` (the server's own name for it) of `server` is in scope.
    pub fn has_tool(&self, server: &str, tool: &str) -> bool {
        self.rules.as_ref().is_none_or(|p| p.has_tool(server, tool))
    }

    /// Whether the profile offers search and call tools instead of every tool.
    pub fn tool_search(&self) -> bool {
        self.rules.as_ref().is_some_and(|p| p.tool_search)
    }
}

/// The profile settings of the current config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profiles {
    profiles: IndexMap<String, Profile>,
    clients: IndexMap<String, String>,
    gateway: Option<String>,
}

impl Profiles {
    /// The profile settings of `config`.
    pub fn from_config(config: &Config) -> Profiles {
        Profiles {
            profiles: config.profiles.clone(),
            clients: config.client_profiles.clone(),
            gateway: config.gateway.profile.clone(),
        }
    }

    /// The scope of profile `name`; `Err` names an unknown profile.
    pub fn scope(&self, name: Option<&str>) -> Result<Scope, String> {
        match name {
            None => Ok(Scope::everything()),
            Some(name) => self
                .profiles
                .get(name)
                .map(|p| Scope::profile(name, p.clone()))
                .ok_or_else(|| {
                    format!("there is no profile named \"{name}\" (see \"profiles\" in the config)")
                }),
        }
    }

    /// The scope of a request from `caller`, which asked for profile `requested` (only the
    /// gateway's own token may ask). `Err` says why the request cannot be served: an unknown
    /// profile, or a client asking for one.
    pub fn scope_for(&self, caller: &Caller, requested: Option<&str>) -> Result<Scope, String> {
        match (caller, requested) {
            (Caller::Gateway, Some(p)) => self.scope(Some(p)),
            (_, Some(_)) => Err(format!(
                "only the gateway's own token may choose a profile (header {PROFILE_HEADER}); a client's profile is set with `loopgate client install NAME --profile P`"
            )),
            (Caller::Client(id), None) => self.scope(self.clients.get(id).map(String::as_str)),
            (Caller::Gateway | Caller::Anonymous, None) => self.scope(self.gateway.as_deref()),
            (Caller::Dashboard, None) => Ok(Scope::everything()),
        }
    }

    /// Every scope a session can have: everything, then each profile in config order.
    pub fn all_scopes(&self) -> Vec<Scope> {
        std::iter::once(Scope::everything())
            .chain(
                self.profiles
                    .iter()
                    .map(|(n, p)| Scope::profile(n, p.clone())),
            )
            .collect()
    }

    /// The profile client `id` is bound to, if any.
    pub fn of_client(&self, id: &str) -> Option<&str> {
        self.clients.get(id).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles() -> Profiles {
        let config: Config = serde_json::from_value(serde_json::json!({
            "profiles": {"coding": {"servers": ["github"]}, "all": {}},
            "clientProfiles": {"cursor": "coding"},
            "gateway": {"profile": "all"}
        }))
        .unwrap();
        Profiles::from_config(&config)
    }

    #[test]
    fn each_credential_sees_its_profile() {
        let p = profiles();
        let cursor = p.scope_for(&Caller::Client("cursor".into()), None).unwrap();
        assert_eq!(cursor.key(), Some("coding"));
        assert!(cursor.has_server("github") && !cursor.has_server("calendar"));
        let other = p.scope_for(&Caller::Client("zed".into()), None).unwrap();
        assert!(other.is_everything(), "an unbound client sees everything");
        assert_eq!(
            p.scope_for(&Caller::Gateway, None).unwrap().key(),
            Some("all")
        );
        assert_eq!(
            p.scope_for(&Caller::Gateway, Some("coding")).unwrap().key(),
            Some("coding"),
            "the owner's token may narrow"
        );
        assert!(p.scope_for(&Caller::Gateway, Some("nope")).is_err());
        assert!(
            p.scope_for(&Caller::Client("cursor".into()), Some("all"))
                .is_err(),
            "a client cannot pick another profile"
        );
        assert!(p
            .scope_for(&Caller::Dashboard, None)
            .unwrap()
            .is_everything());
        assert_eq!(p.all_scopes().len(), 3);
    }
}
