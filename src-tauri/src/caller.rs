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
    /// The caller of the HTTP request `parts` (the guard put it into its extensions);
    /// [`Caller::Gateway`] for a request the guard never saw (the stdio bridge's, in-process).
    pub fn of_request(parts: &http::request::Parts) -> Caller {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or(Caller::Gateway)
    }

    /// The caller of an MCP message whose `extensions` (rmcp's) carry its HTTP request's
    /// parts, as rmcp's HTTP service puts them there; [`Caller::Gateway`] without them.
    pub fn of_message(extensions: &rmcp::model::Extensions) -> Caller {
        extensions
            .get::<http::request::Parts>()
            .map_or(Caller::Gateway, Caller::of_request)
    }

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
