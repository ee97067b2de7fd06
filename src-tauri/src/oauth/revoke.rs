//! Signing out: the tokens leave the keychain and are revoked at the authorization server.
//!
//! [`sign_out`] clears server `server`'s tokens from its keychain record first (so a failure
//! further on never leaves them behind), then asks the authorization server to revoke them
//! (RFC 7009 "OAuth 2.0 Token Revocation"): the refresh token, which ends the whole grant, then
//! the access token. The revocation endpoint comes from the authorization-server metadata
//! (RFC 8414 `revocation_endpoint`); servers that publish none only lose the local copy, and
//! the outcome says so. The `oauth2` crate builds the requests and authenticates the client the
//! same way rmcp does at the token endpoint (client id in the body for public clients, the
//! client secret by `client_secret_post` when that is the only method, else HTTP Basic).
//!
//! The client registration (client id, secret, redirect URI) stays in the record on a sign-out,
//! so the next sign-in reuses it instead of registering a new client; [`forget`] removes it too
//! (used when the server is removed from the config).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse, TokenResponse};
use oauth2::{AuthType, ClientId, ClientSecret, RevocationUrl, StandardRevocableToken};
use rmcp::transport::auth::{AuthorizationManager, AuthorizationMetadata};
use serde::{Deserialize, Serialize};

use super::store::{self, Record};
use crate::secrets::{SecretError, SecretStore};

/// How long revoking at the authorization server may take in all (discovery included).
pub const REVOKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the authorization server did with the tokens of a sign-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Revocation {
    /// It accepted the revocation requests (RFC 7009 §2.2: also for tokens it no longer knew).
    Revoked,
    /// There were no tokens to revoke.
    NothingToRevoke,
    /// Its metadata names no `revocation_endpoint`: the tokens were only deleted locally and
    /// stay valid there until they expire.
    Unsupported,
    /// Revoking failed (unreachable, refused, timed out); the text says why. The tokens are
    /// deleted locally all the same.
    Failed(String),
}

impl Revocation {
    /// One sentence for the user (CLI output, UI toasts).
    pub fn describe(&self) -> String {
        match self {
            Revocation::Revoked => "the authorization server revoked them".into(),
            Revocation::NothingToRevoke => "there were no tokens to revoke".into(),
            Revocation::Unsupported => {
                "the authorization server offers no revocation, so they stay valid there until they expire".into()
            }
            Revocation::Failed(why) => format!(
                "revoking them at the authorization server failed ({why}); they stay valid there until they expire"
            ),
        }
    }
}

/// The result of [`sign_out`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SignedOut {
    /// Whether tokens were stored (and are now deleted).
    pub removed: bool,
    /// What the authorization server did with them.
    pub revocation: Revocation,
}

/// Signs out of server `server`: deletes its tokens from the keychain (keeping the client
/// registration for the next sign-in) and revokes them at the authorization server, at most
/// [`REVOKE_TIMEOUT`].
///
/// Errors: the keychain's error (reading or writing the record); revocation problems are
/// reported in [`SignedOut::revocation`], never as an error.
pub async fn sign_out(secrets: &SecretStore, server: &str) -> Result<SignedOut, SecretError> {
    let Some(mut record) = store::read(secrets, server).await? else {
        return Ok(nothing());
    };
    let Some(credentials) = record.credentials.take() else {
        return Ok(nothing());
    };
    store::write(secrets, server, &record).await?;
    record.credentials = Some(credentials);
    Ok(SignedOut {
        removed: record.has_tokens(),
        revocation: revoke(&record).await,
    })
}

/// Deletes everything of server `server` from the keychain (tokens and client registration)
/// and revokes its tokens in the background, logging the outcome: for a server removed from the
/// config, whose removal should not wait for its authorization server. Returns whether tokens
/// were stored.
///
/// Errors: the keychain's error.
pub async fn forget(secrets: &SecretStore, server: &str) -> Result<bool, SecretError> {
    let record = store::read(secrets, server).await?;
    store::delete(secrets, server).await?;
    let Some(record) = record.filter(Record::has_tokens) else {
        return Ok(false);
    };
    let server = server.to_string();
    tokio::spawn(async move {
        let outcome = revoke(&record).await;
        tracing::info!(server = %server, "removed server's tokens: {}", outcome.describe());
    });
    Ok(true)
}

fn nothing() -> SignedOut {
    SignedOut {
        removed: false,
        revocation: Revocation::NothingToRevoke,
    }
}

/// Revokes `record`'s refresh token and access token (RFC 7009 §2.1), at most
/// [`REVOKE_TIMEOUT`].
pub async fn revoke(record: &Record) -> Revocation {
    match tokio::time::timeout(REVOKE_TIMEOUT, try_revoke(record)).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(why)) => Revocation::Failed(why),
        Err(_) => Revocation::Failed(format!("no answer within {} s", REVOKE_TIMEOUT.as_secs())),
    }
}

async fn try_revoke(record: &Record) -> Result<Revocation, String> {
    let Some(tokens) = record
        .credentials
        .as_ref()
        .and_then(|c| c.token_response.as_ref())
    else {
        return Ok(Revocation::NothingToRevoke);
    };
    let manager = AuthorizationManager::new(record.resource.as_str())
        .await
        .map_err(|e| e.to_string())?;
    let metadata = manager
        .resolve_metadata()
        .await
        .map_err(|e| format!("could not read the authorization server's metadata: {e}"))?
        .metadata;
    let Some(endpoint) = metadata
        .additional_fields
        .get("revocation_endpoint")
        .and_then(|v| v.as_str())
    else {
        return Ok(Revocation::Unsupported);
    };
    let endpoint = super::endpoint::check(endpoint, "revocation_endpoint")?;
    // The oauth2 crate takes HTTPS revocation endpoints only. Like the rest of the flow,
    // Loopgate also allows plain HTTP on loopback (local and test authorization servers): such
    // an endpoint goes to oauth2 as https and [`Http`] sends it as http.
    let loopback_http = endpoint.scheme() == "http" && super::endpoint::is_loopback(&endpoint);
    let mut as_https = endpoint.clone();
    if loopback_http {
        let _ = as_https.set_scheme("https");
    }
    let endpoint = RevocationUrl::from_url(as_https.clone());
    let mut client =
        BasicClient::new(ClientId::new(record.client_id.clone())).set_revocation_url(endpoint);
    if let Some(secret) = &record.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    if secret_post_only(&metadata) {
        client = client.set_auth_type(AuthType::RequestBody);
    }
    let http = Http {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?,
        plain_http: loopback_http.then_some(as_https),
    };
    let mut revocable = Vec::new();
    if let Some(refresh) = tokens.refresh_token() {
        revocable.push(StandardRevocableToken::RefreshToken(refresh.clone()));
    }
    revocable.push(StandardRevocableToken::AccessToken(
        tokens.access_token().clone(),
    ));
    let public = record.client_secret.is_none();
    for token in revocable {
        let first = client
            .revoke_token(token.clone())
            .map_err(|e| e.to_string())?
            .request_async(&http)
            .await;
        let result = match first {
            // The MCP Python SDK's authorization server wants a `client_secret` field even from
            // public clients, which RFC 7009 §5 lets identify by client id alone
            // (modelcontextprotocol/python-sdk#3508); it ignores the value for them, so an
            // empty one is sent once more.
            Err(oauth2::RequestTokenError::ServerResponse(r))
                if public
                    && r.error_description()
                        .is_some_and(|d| d.contains("client_secret")) =>
            {
                client
                    .revoke_token(token)
                    .map_err(|e| e.to_string())?
                    .add_extra_param("client_secret", "")
                    .request_async(&http)
                    .await
            }
            other => other,
        };
        result.map_err(|e| match e {
            oauth2::RequestTokenError::ServerResponse(r) => format!("the server answered {r}"),
            other => other.to_string(),
        })?;
    }
    Ok(Revocation::Revoked)
}

/// Whether the authorization server takes client secrets only in the request body (the rule
/// rmcp applies at the token endpoint; RFC 8414 `revocation_endpoint_auth_methods_supported`
/// first, else `token_endpoint_auth_methods_supported`).
fn secret_post_only(metadata: &AuthorizationMetadata) -> bool {
    let methods = |key: &str| {
        metadata
            .additional_fields
            .get(key)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|m| m.as_str()).collect::<Vec<_>>())
    };
    methods("revocation_endpoint_auth_methods_supported")
        .or_else(|| methods("token_endpoint_auth_methods_supported"))
        .is_some_and(|m| m.contains(&"client_secret_post") && !m.contains(&"client_secret_basic"))
}

/// The `oauth2` crate's requests, sent with Loopgate's reqwest.
struct Http {
    client: reqwest::Client,
    /// A loopback endpoint given to oauth2 as https that is really served over plain http.
    plain_http: Option<url::Url>,
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

impl Http {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
        let (parts, body) = request.into_parts();
        let mut target = parts.uri.to_string();
        if let Some(url) = self.plain_http.as_ref().filter(|u| u.as_str() == target) {
            let mut plain = url.clone();
            let _ = plain.set_scheme("http");
            target = plain.to_string();
        }
        let response = self
            .client
            .request(parts.method, target)
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let mut out = http::Response::builder().status(response.status());
        if let Some(headers) = out.headers_mut() {
            *headers = response.headers().clone();
        }
        let body = response.bytes().await?.to_vec();
        Ok(out
            .body(body)
            .expect("status and headers come from a response"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(fields: serde_json::Value) -> AuthorizationMetadata {
        let mut base = serde_json::json!({
            "authorization_endpoint": "https://as.example/authorize",
            "token_endpoint": "https://as.example/token",
        });
        base.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn picks_client_authentication_like_the_token_endpoint() {
        assert!(!secret_post_only(&metadata(serde_json::json!({}))));
        assert!(secret_post_only(&metadata(serde_json::json!({
            "token_endpoint_auth_methods_supported": ["client_secret_post", "none"]
        }))));
        assert!(!secret_post_only(&metadata(serde_json::json!({
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]
        }))));
        // The revocation endpoint's own list wins.
        assert!(!secret_post_only(&metadata(serde_json::json!({
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic"]
        }))));
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for (url, loopback) in [
            ("http://127.0.0.1:5/revoke", true),
            ("http://localhost/revoke", true),
            ("http://[::1]:8/revoke", true),
            ("http://as.example/revoke", false),
            ("http://10.0.0.1/revoke", false),
        ] {
            assert_eq!(
                super::super::endpoint::is_loopback(&url::Url::parse(url).unwrap()),
                loopback,
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn signing_out_without_a_record_changes_nothing() {
        let secrets = memory();
        assert_eq!(sign_out(&secrets, "none").await.unwrap(), nothing());
        assert!(!forget(&secrets, "none").await.unwrap());
    }

    fn memory() -> SecretStore {
        SecretStore::with_backend(std::sync::Arc::new(crate::secrets::MemoryBackend::default()))
    }

    fn signed_in() -> Record {
        let token = serde_json::from_value(serde_json::json!({
            "access_token": "at-1", "token_type": "Bearer", "refresh_token": "rt-1"
        }))
        .unwrap();
        Record {
            // Nothing listens on port 1: the revocation cannot reach anybody.
            resource: "http://127.0.0.1:1/mcp".into(),
            client_id: "client-1".into(),
            redirect_uri: "http://127.0.0.1:9/callback".into(),
            credentials: Some(rmcp::transport::auth::StoredCredentials::new(
                "client-1".into(),
                Some(token),
                vec![],
                Some(1),
            )),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn sign_out_deletes_tokens_even_when_revoking_fails() {
        let secrets = memory();
        store::write(&secrets, "srv", &signed_in()).await.unwrap();
        let out = sign_out(&secrets, "srv").await.unwrap();
        assert!(out.removed);
        assert!(
            matches!(&out.revocation, Revocation::Failed(why) if !why.is_empty()),
            "{out:?}"
        );
        let kept = store::read(&secrets, "srv").await.unwrap().unwrap();
        assert!(!kept.has_tokens(), "tokens deleted");
        assert_eq!(kept.client_id, "client-1", "registration kept");
        // Signing out again: nothing left to revoke.
        assert_eq!(sign_out(&secrets, "srv").await.unwrap(), nothing());

        store::write(&secrets, "srv", &signed_in()).await.unwrap();
        assert!(forget(&secrets, "srv").await.unwrap());
        assert!(store::read(&secrets, "srv").await.unwrap().is_none());
    }
}
