//! OAuth for remote servers: sign in once, tokens in the keychain, refreshed without the user
//! noticing.
//!
//! Follows the MCP authorization spec (revisions 2025-11-25 and 2026-07-28, "Authorization")
//! with rmcp's `auth` feature doing the protocol work:
//!
//! - [`endpoint`]: which endpoint URLs from remote metadata may be used, opened or shown.
//! - [`flow`]: one sign-in (discovery, client registration, PKCE S256 + `resource`, the code
//!   exchange) and rebuilding an authorized client from stored tokens.
//! - [`redirect`]: the loopback redirect listener on a free port.
//! - [`store`]: the per-server keychain entry `oauth.<server>` behind rmcp's `CredentialStore`.
//! - [`hub`]: the sign-ins of a running gateway (one pending per server, cancellable, no loops).
//! - [`revoke`]: signing out (tokens deleted locally and revoked at the authorization server,
//!   RFC 7009).
//!
//! Tokens never touch disk, logs or API responses (ARCHITECTURE.md rule 8).

pub mod endpoint;
pub mod flow;
pub mod hub;
pub mod redirect;
pub mod revoke;
pub mod store;

pub use crate::config::model::OAuthSettings;
pub use hub::{Begun, Hub, Presenter, SignInView, Trigger};

impl OAuthSettings {
    /// A copy with the `${secret:NAME}` references of `clientSecret` replaced from `secrets`
    /// (in memory only).
    ///
    /// Errors: the secret is not set, or the keychain refuses.
    pub async fn resolved(
        &self,
        secrets: &crate::secrets::SecretStore,
    ) -> Result<OAuthSettings, crate::secrets::SecretError> {
        let mut settings = self.clone();
        if let Some(secret) = &self.client_secret {
            settings.client_secret = Some(secrets.resolve(secret).await?);
        }
        Ok(settings)
    }
}

/// What can go wrong signing in. Messages say which step failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// No loopback port could be bound for the redirect.
    #[error("could not open a loopback port for the sign-in redirect: {0}")]
    Listener(#[source] std::io::Error),
    /// A step of the flow failed (`discovery`, `registration`, `authorization`, `token`).
    #[error("sign-in failed at {step}: {message}")]
    Flow {
        /// Which step.
        step: &'static str,
        /// What the server or library said.
        message: String,
    },
    /// Nobody came back from the browser in time.
    #[error("sign-in timed out: the browser did not come back within {minutes} minutes; start it again with \"Sign in\" or `loopgate auth login`")]
    TimedOut {
        /// The timeout, in minutes.
        minutes: u64,
    },
    /// The sign-in was cancelled (by the user, sign-out, or shutdown).
    #[error("sign-in cancelled")]
    Cancelled,
    /// The keychain refused to store or read the tokens.
    #[error("the OS keychain refused the OAuth tokens: {0}")]
    Keychain(String),
}

/// What a `WWW-Authenticate` challenge from a server asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// 401: no valid token (missing, expired beyond refresh, revoked).
    SignIn(String),
    /// 403 `insufficient_scope`: the token lacks a scope this request needs (step-up).
    MoreScope(String),
}

impl Challenge {
    /// Classifies a `WWW-Authenticate` header value (RFC 6750 §3) seen on a response from `url`.
    pub fn classify(header: &str, url: &str) -> Challenge {
        let insufficient = url::Url::parse(url)
            .map(|base| {
                rmcp::transport::auth::WWWAuthenticateParams::parse(header, &base)
                    .is_insufficient_scope()
            })
            .unwrap_or(false);
        if insufficient {
            Challenge::MoreScope(header.to_string())
        } else {
            Challenge::SignIn(header.to_string())
        }
    }

    /// The header value.
    pub fn header(&self) -> &str {
        match self {
            Challenge::SignIn(h) | Challenge::MoreScope(h) => h,
        }
    }
}

/// The URL and OAuth options (client secret resolved) of server `name` in `config`, for a
/// sign-in the user asked for.
///
/// Errors (texts for the user): no such server; not an HTTP server; OAuth turned off for it
/// (`"auth": "none"` or an `Authorization` header); its client secret cannot be resolved.
pub async fn sign_in_target(
    config: &crate::config::Config,
    secrets: &crate::secrets::SecretStore,
    name: &str,
) -> Result<(String, OAuthSettings), String> {
    let entry = config.mcp_servers.get(name).ok_or_else(|| {
        format!("no server named \"{name}\" in the config (see `loopgate servers`)")
    })?;
    match entry.backend() {
        Ok(crate::config::Backend::Http {
            url,
            oauth: Some(settings),
            ..
        }) => Ok((url, settings.resolved(secrets).await.map_err(|e| e.to_string())?)),
        Ok(crate::config::Backend::Http { .. }) => Err(format!(
            "server \"{name}\" does not use OAuth: its config sets \"auth\": \"none\" or an Authorization header"
        )),
        Ok(crate::config::Backend::Stdio { .. }) => Err(format!(
            "server \"{name}\" is a local (stdio) server; only HTTP servers sign in with OAuth"
        )),
        Err(e) => Err(format!("mcpServers.{name}.{e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_challenges() {
        let url = "http://127.0.0.1:1/mcp";
        assert!(matches!(
            Challenge::classify(
                r#"Bearer error="insufficient_scope", scope="mcp:write""#,
                url
            ),
            Challenge::MoreScope(_)
        ));
        assert!(matches!(
            Challenge::classify(
                r#"Bearer resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource""#,
                url
            ),
            Challenge::SignIn(_)
        ));
        assert!(matches!(
            Challenge::classify(r#"Bearer error="invalid_token""#, url),
            Challenge::SignIn(_)
        ));
    }
}
