//! One sign-in, and reuse of its tokens: the MCP authorization flow on top of rmcp's `auth`.
//!
//! [`begin`] follows the MCP authorization spec (2025-11-25 / 2026-07-28, "Authorization"):
//! protected-resource metadata discovery (RFC 9728, seeded from the server's
//! `WWW-Authenticate` challenge when there is one), authorization-server metadata (RFC 8414 /
//! OpenID discovery), client registration in the order the spec prefers — a pre-registered
//! client id from the config, then a Client ID Metadata Document when the server supports them
//! and one is configured, then dynamic client registration (RFC 7591; a client Loopgate
//! registered at an earlier sign-in is reused) — and an authorization
//! request with PKCE (S256) and the `resource` parameter (RFC 8707). rmcp does the protocol
//! work; Loopgate adds the loopback redirect listener, the keychain store and the user-facing
//! errors. [`SignIn::complete`] waits for the browser and exchanges the code.
//!
//! [`authorized_manager`] rebuilds an `AuthorizationManager` from the keychain for a connection;
//! rmcp's `AuthClient` then adds the bearer token to every request, refreshes it before it
//! expires and once on a 401.

use std::time::Duration;

use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationRequest, AuthorizationSession, OAuthClientConfig,
};
use tokio_util::sync::CancellationToken;

use super::endpoint;
use super::redirect::RedirectListener;
use super::store::{self, KeychainCredentialStore, Record, Registration};
use super::{Challenge, OAuthError, OAuthSettings};
use crate::secrets::SecretStore;

/// The client name Loopgate registers with (shown by authorization servers on consent pages).
pub const CLIENT_NAME: &str = "Loopgate";

/// How long a sign-in waits for the browser to come back before giving up (10 minutes).
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(600);

/// A started sign-in: the authorization URL to open, and the listener waiting for the browser.
pub struct SignIn {
    url: String,
    listener: RedirectListener,
    session: AuthorizationSession,
    store: KeychainCredentialStore,
    /// The client id of a reused registration, dropped for next time if this sign-in fails.
    reused: Option<String>,
    secrets: SecretStore,
    server: String,
}

fn flow(step: &'static str) -> impl Fn(AuthError) -> OAuthError {
    move |e| OAuthError::Flow {
        step,
        message: describe(&e),
    }
}

/// A short, actionable text for rmcp's auth errors.
fn describe(e: &AuthError) -> String {
    match e {
        AuthError::NoAuthorizationSupport => {
            "the server does not publish OAuth metadata (no protected-resource or authorization-server metadata found)".into()
        }
        AuthError::AuthorizationRequired => "the authorization server requires a new sign-in".into(),
        AuthError::DiscoveryRequestFailed { url, source } => format!(
            "could not read OAuth metadata for {url} ({source}); if this server needs no sign-in, \
             it is not an OAuth server and nothing needs doing"
        ),
        other => other.to_string(),
    }
}

/// Starts signing in to server `server` at `url`: discovery, client registration, the loopback
/// redirect listener and the authorization URL (PKCE S256, `resource`, `state`).
///
/// A client Loopgate registered itself at an earlier sign-in to this URL (the keychain
/// record's [`Registration`]) is reused instead of registering again when the authorization
/// server's `registration_endpoint` is the same, the scopes asked for were all registered, and
/// the redirect port of that registration can be bound again; otherwise a new client is
/// registered on a free port.
///
/// `challenge` is the `WWW-Authenticate` header of the 401/403 that triggered the sign-in, if
/// any (it names the resource metadata and the scopes wanted). Nothing is written to the
/// keychain until [`SignIn::complete`] succeeds (a failed sign-in with a reused client only
/// marks that client as not to be reused).
///
/// Errors: [`OAuthError::Listener`] (no loopback port), [`OAuthError::Flow`] with the failed
/// step (`discovery`, `registration`, `authorization`).
pub async fn begin(
    secrets: &SecretStore,
    server: &str,
    url: &str,
    settings: &OAuthSettings,
    challenge: Option<&str>,
) -> Result<SignIn, OAuthError> {
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(flow("discovery"))?;
    let resolution = manager
        .resolve_metadata_from_challenge(challenge)
        .await
        .map_err(flow("discovery"))?;
    // Every endpoint the user or the tokens will be sent to: https (http only on loopback).
    endpoint::check_metadata(&resolution.metadata)?;
    let cimd_supported = resolution
        .metadata
        .additional_fields
        .get("client_id_metadata_document_supported")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let registration_endpoint = resolution.metadata.registration_endpoint.clone();
    manager.set_metadata(resolution.metadata);

    // What an earlier sign-in to this URL left: granted scopes, a client registration.
    let previous = store::read(secrets, server)
        .await
        .ok()
        .flatten()
        .filter(|r| r.resource == url);

    // Scopes: the configured ones, else what the challenge and metadata name; on a step-up
    // (403 insufficient_scope) also the scopes granted before (SEP-2350: ask for the union).
    let step_up =
        challenge.is_some_and(|c| matches!(Challenge::classify(c, url), Challenge::MoreScope(_)));
    let granted = previous
        .as_ref()
        .filter(|_| step_up)
        .map(|r| r.scopes().join(" "))
        .filter(|s| !s.is_empty());
    let scopes = if settings.scopes.is_empty() {
        manager.select_scopes(granted.as_deref(), &[])
    } else {
        let mut scopes = settings.scopes.clone();
        for s in granted.iter().flat_map(|p| p.split_whitespace()) {
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_string());
            }
        }
        scopes
    };

    // A client Loopgate registered before is reused (no registration per sign-in) when it was
    // registered at the same endpoint for these scopes and its redirect port is free again.
    let cimd = settings
        .client_metadata_url
        .as_ref()
        .filter(|_| cimd_supported);
    let reusable = previous.filter(|r| {
        settings.client_id.is_none()
            && cimd.is_none()
            && r.registration.as_ref().is_some_and(|reg| {
                registration_endpoint.as_ref() == Some(&reg.endpoint)
                    && scopes.iter().all(|s| reg.scopes.contains(s))
            })
    });
    let (listener, reused) = match reusable
        .as_ref()
        .and_then(|r| RedirectListener::port_of(&r.redirect_uri))
    {
        Some(port) => match RedirectListener::bind(port).await {
            Ok(listener) => (listener, reusable),
            Err(e) => {
                tracing::debug!(server = %server, "registering a new client: {e}");
                (RedirectListener::bind(0).await?, None)
            }
        },
        None => (RedirectListener::bind(0).await?, None),
    };
    let redirect_uri = listener.redirect_uri();
    let store = KeychainCredentialStore::new(
        secrets.clone(),
        server,
        Record {
            resource: url.to_string(),
            redirect_uri: redirect_uri.clone(),
            ..Default::default()
        },
    );
    manager.set_credential_store(store.clone());

    let mut request = AuthorizationRequest::new(&redirect_uri).with_client_name(CLIENT_NAME);
    if !scopes.is_empty() {
        request = request.with_scopes(scopes.clone());
    }
    // Registration, in the spec's order of preference: the client id, its secret, and how
    // Loopgate registered it (only for dynamic registration).
    let via_document = settings.client_id.is_none() && cimd.is_some();
    let (client_id, client_secret, registration) = if let Some(client_id) = &settings.client_id {
        (client_id.clone(), settings.client_secret.clone(), None)
    } else if let Some(cimd) = cimd {
        (cimd.clone(), None, None)
    } else if let Some(previous) = &reused {
        (
            previous.client_id.clone(),
            previous.client_secret.clone(),
            previous.registration.clone(),
        )
    } else if let Some(endpoint) = registration_endpoint {
        let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let registered = manager
            .register_client(CLIENT_NAME, &redirect_uri, &scope_refs)
            .await
            .map_err(flow("registration"))?;
        (
            registered.client_id,
            registered.client_secret,
            Some(Registration {
                endpoint,
                scopes: scopes.clone(),
            }),
        )
    } else {
        return Err(OAuthError::Flow {
            step: "registration",
            message: format!(
                "the authorization server offers no dynamic client registration{}; register Loopgate \
                 there (redirect URI http://127.0.0.1/callback, any port) and put the client id in \
                 mcpServers.{server}.oauth.clientId",
                if cimd_supported { " and no clientMetadataUrl is configured" } else { "" }
            ),
        });
    };
    request = if via_document {
        request.with_client_metadata_url(&client_id)
    } else {
        let request = request.with_preregistered_client(&client_id);
        match &client_secret {
            Some(secret) => request.with_client_secret(secret),
            None => request,
        }
    };
    store
        .set_client(&client_id, client_secret, &redirect_uri, registration)
        .await;
    let session = AuthorizationSession::new(manager, request)
        .await
        .map_err(|(_, e)| flow("authorization")(e))?;
    let url = session.get_authorization_url().to_string();
    let parsed =
        endpoint::check(&url, "the authorization URL").map_err(|message| OAuthError::Flow {
            step: "authorization",
            message,
        })?;
    // The listener hands over only the callback that carries this sign-in's `state`.
    let state = parsed
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| OAuthError::Flow {
            step: "authorization",
            message: "the authorization URL has no state parameter".into(),
        })?;
    listener.expect_state(&state);
    Ok(SignIn {
        url,
        listener,
        session,
        store,
        reused: reused.map(|r| r.client_id),
        secrets: secrets.clone(),
        server: server.to_string(),
    })
}

impl SignIn {
    /// The authorization URL to open in the user's browser.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits (at most `timeout`, or until `cancel`) for the browser to come back, checks
    /// `state` and the issuer (RFC 9207), exchanges the code for tokens (PKCE verifier,
    /// `resource`) and stores them in the keychain. Returns the stored record. When it fails
    /// and the client was a reused registration, that registration is not reused again
    /// ([`store::drop_registration`]): the authorization server may have forgotten it.
    ///
    /// Errors: [`OAuthError::TimedOut`], [`OAuthError::Cancelled`], [`OAuthError::Flow`] with
    /// step `authorization` (the server denied access) or `token` (the code exchange failed),
    /// or the keychain's refusal.
    pub async fn complete(
        self,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Record, OAuthError> {
        let (reused, secrets, server) = (
            self.reused.clone(),
            self.secrets.clone(),
            self.server.clone(),
        );
        let result = self.finish(timeout, cancel).await;
        if let (Err(e), Some(client_id)) = (&result, reused) {
            // The authorization server may have forgotten the client: register anew next time.
            tracing::debug!(server = %server, "not reusing client {client_id} again after: {e}");
            let _ = store::drop_registration(&secrets, &server, &client_id).await;
        }
        result
    }

    async fn finish(
        self,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Record, OAuthError> {
        let callback = self.listener.wait(timeout, cancel).await?;
        if let Some(reason) = denial(&callback) {
            return Err(OAuthError::Flow {
                step: "authorization",
                message: reason,
            });
        }
        self.session
            .handle_callback_url(&callback)
            .await
            .map_err(|e| match e {
                AuthError::CredentialStoreError(m) => OAuthError::Keychain(m),
                other => flow("token")(other),
            })?;
        Ok(self.store.record().await)
    }
}

/// The `error` (and `error_description`) of a callback URL that denies access.
fn denial(callback: &str) -> Option<String> {
    let url = url::Url::parse(callback).ok()?;
    let mut error = None;
    let mut description = None;
    for (k, v) in url.query_pairs() {
        match &*k {
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    error.map(|e| match description {
        Some(d) => format!("the authorization server answered {e}: {d}"),
        None => format!("the authorization server answered {e}"),
    })
}

/// Plays the browser for a sign-in without a human: fetches `auth_url` without following
/// redirects and delivers the `Location` it answers with (the redirect back to Loopgate's
/// listener). Used by `loopgate auth login --follow` and the conformance client, against
/// authorization servers that approve without a login page.
///
/// Errors: [`OAuthError::Flow`] (step `authorization`) when the server does not redirect.
pub async fn follow(auth_url: &str) -> Result<(), OAuthError> {
    let fail = |message: String| OAuthError::Flow {
        step: "authorization",
        message,
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let response = client
        .get(auth_url)
        .send()
        .await
        .map_err(|e| fail(format!("could not reach the authorization endpoint: {e}")))?;
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            fail(format!(
                "the authorization endpoint answered HTTP {} without a redirect; sign in with a browser instead",
                response.status().as_u16()
            ))
        })?;
    client
        .get(&location)
        .send()
        .await
        .map_err(|e| fail(format!("could not deliver the redirect to {location}: {e}")))?;
    Ok(())
}

/// An `AuthorizationManager` for a connection to server `server` at `url`, holding the
/// keychain's tokens: `Ok(None)` when there are none for this URL (never signed in, signed out,
/// or the config now points elsewhere).
///
/// Reads authorization-server metadata again (so a moved authorization server is noticed). An
/// unreachable or locked keychain counts as "no tokens".
///
/// Errors: [`OAuthError::Flow`] (step `discovery`) when the metadata cannot be read.
pub async fn authorized_manager(
    secrets: &SecretStore,
    server: &str,
    url: &str,
) -> Result<Option<AuthorizationManager>, OAuthError> {
    // No reachable keychain means no stored sign-in: the server is tried without tokens (most
    // servers need none), and a sign-in it asks for says what is wrong with the keychain.
    let record = match store::read(secrets, server).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(server = %server, "no OAuth tokens read: {e}");
            None
        }
    };
    let Some(record) = record else {
        return Ok(None);
    };
    if record.resource != url || !record.has_tokens() {
        return Ok(None);
    }
    let mut manager = AuthorizationManager::new(url)
        .await
        .map_err(flow("discovery"))?;
    // The metadata is read again (a moved authorization server is noticed) and checked before
    // any token is sent to its endpoints.
    let resolution = manager
        .resolve_metadata()
        .await
        .map_err(flow("discovery"))?;
    endpoint::check_metadata(&resolution.metadata)?;
    manager.set_metadata(resolution.metadata);
    let store = KeychainCredentialStore::new(secrets.clone(), server, record.clone());
    manager.set_credential_store(store);
    if !manager
        .initialize_from_store()
        .await
        .map_err(flow("discovery"))?
    {
        return Ok(None);
    }
    let mut config = OAuthClientConfig::new(record.client_id.clone(), record.redirect_uri.clone())
        .with_scopes(record.scopes());
    if let Some(secret) = record.client_secret.clone() {
        config = config.with_client_secret(secret);
    }
    manager
        .configure_client(config)
        .map_err(flow("discovery"))?;
    Ok(Some(manager))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_denials_from_callbacks() {
        assert_eq!(
            denial(
                "http://127.0.0.1:1/callback?error=access_denied&error_description=no+way&state=s"
            ),
            Some("the authorization server answered access_denied: no way".into())
        );
        assert_eq!(denial("http://127.0.0.1:1/callback?code=c&state=s"), None);
    }
}
