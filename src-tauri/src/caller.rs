//! Who is calling the gateway: the identity the credential of a request grants, established by
//! the HTTP guard and carried with the request to the gateway (sessions, activity, profiles).

/// Who is calling, as the guard established it (in the request extensions of every guarded
/// request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The gateway's own token: the CLI, `loopgate connect`, the user's scripts.
    Gateway,
    /// A client wired by `loopgate client install` (its id, e.g. `cursor`).
    Client(String),
    /// The web dashboard (a session cookie).
    Dashboard,
    /// Nobody identified: `/mcp` with `"gateway": {"auth": "none"}`.
    Anonymous,
}

impl Caller {
    /// A short label for logs and the activity view: `gateway`, `client:<id>`, `dashboard`,
    /// `anonymous`.
    pub fn label(&self) -> String {
        match self {
            Caller::Gateway => "gateway".into(),
            Caller::Client(id) => format!("client:{id}"),
            Caller::Dashboard => "dashboard".into(),
            Caller::Anonymous => "anonymous".into(),
        }
    }
}
