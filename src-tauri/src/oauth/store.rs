//! Per-server OAuth state in the OS keychain.
//!
//! One keychain entry per server, `oauth.<server>` (service `loopgate`), holds a JSON
//! [`Record`]: the client registration Loopgate uses with that server's authorization server
//! (client id, client secret if one was issued, redirect URI) and rmcp's
//! [`StoredCredentials`] (access token, refresh token, expiry, granted scopes, issuer). Nothing
//! of it is ever written to disk or logged (ARCHITECTURE.md rule 8).
//!
//! [`KeychainCredentialStore`] plugs that entry into rmcp's [`CredentialStore`] trait, so
//! rmcp's `AuthorizationManager` reads and refreshes tokens through it. It keeps a copy in
//! memory (the keychain is read once per connection, not once per request) and writes through
//! on every change; refreshes of one server are serialized by a per-server lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, OnceLock};

use oauth2::TokenResponse;
use rmcp::transport::auth::{
    AuthError, CredentialRefreshGuard, CredentialStore, StoredCredentials,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

use crate::secrets::{SecretError, SecretStore};

/// Keychain entry name of server `server`'s OAuth record.
pub fn entry_name(server: &str) -> String {
    format!("oauth.{server}")
}

/// What Loopgate keeps in the keychain for one OAuth-protected server.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The MCP server URL these tokens were issued for. A record for another URL (the config
    /// entry now points elsewhere) is ignored.
    pub resource: String,
    /// The client id used with the authorization server (pre-registered, a Client ID Metadata
    /// Document URL, or issued by dynamic client registration).
    pub client_id: String,
    /// The client secret, when the client has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The redirect URI the client was registered with.
    pub redirect_uri: String,
    /// How the client was registered, when Loopgate registered it itself (dynamic client
    /// registration); `None` for a pre-registered client or a Client ID Metadata Document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    /// Tokens and their metadata, as rmcp stores them; `None` after sign-out or revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<StoredCredentials>,
}

/// A client Loopgate registered itself with dynamic client registration (RFC 7591). A later
/// sign-in reuses it (same client id and redirect URI) when the authorization server's
/// registration endpoint is the same and the scopes asked for are among the registered ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// The `registration_endpoint` the client was registered at.
    pub endpoint: String,
    /// The scopes registered with the client.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("resource", &self.resource)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("registration", &self.registration)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Record {
    /// Registers the record's secret values (access and refresh token, client secret) with the
    /// log redactor ([`crate::redact`]).
    pub fn register_secrets(&self) {
        if let Some(secret) = &self.client_secret {
            crate::redact::register(secret);
        }
        if let Some(tokens) = self
            .credentials
            .as_ref()
            .and_then(|c| c.token_response.as_ref())
        {
            crate::redact::register(tokens.access_token().secret());
            if let Some(refresh) = tokens.refresh_token() {
                crate::redact::register(refresh.secret());
            }
        }
    }

    /// Whether the record holds tokens (an access token, possibly expired).
    pub fn has_tokens(&self) -> bool {
        self.credentials
            .as_ref()
            .is_some_and(|c| c.token_response.is_some())
    }

    /// Whether a refresh token is stored.
    pub fn has_refresh_token(&self) -> bool {
        self.credentials
            .as_ref()
            .and_then(|c| c.token_response.as_ref())
            .is_some_and(|t| t.refresh_token().is_some())
    }

    /// When the access token expires, in seconds since the Unix epoch; `None` when the server
    /// gave no lifetime (or there is no token).
    pub fn expires_at(&self) -> Option<u64> {
        let c = self.credentials.as_ref()?;
        let lifetime = c.token_response.as_ref()?.expires_in()?;
        // A hostile or broken authorization server may send any `expires_in`.
        Some(c.token_received_at?.saturating_add(lifetime.as_secs()))
    }

    /// The scopes granted with the current tokens.
    pub fn scopes(&self) -> Vec<String> {
        self.credentials
            .as_ref()
            .map(|c| c.granted_scopes.clone())
            .unwrap_or_default()
    }
}

/// Reads server `server`'s record. `Ok(None)` when none is stored or the stored one is
/// unreadable (it is then treated as signed out).
///
/// Errors: the keychain's error (unreachable, locked).
pub async fn read(secrets: &SecretStore, server: &str) -> Result<Option<Record>, SecretError> {
    let record: Option<Record> = secrets
        .get_record(&entry_name(server))
        .await?
        .and_then(|text| serde_json::from_str(&text).ok());
    if let Some(r) = &record {
        r.register_secrets();
    }
    Ok(record)
}

/// Writes server `server`'s record (replacing it). Errors: the keychain's error.
pub async fn write(
    secrets: &SecretStore,
    server: &str,
    record: &Record,
) -> Result<(), SecretError> {
    record.register_secrets();
    let text = serde_json::to_string(record).expect("record serializes");
    secrets.set_record(&entry_name(server), &text).await
}

/// Stops reusing client `client_id`'s registration for server `server` (a sign-in with it
/// failed: the authorization server may have forgotten the client). Tokens and the client id
/// stay, so existing tokens still refresh; the next sign-in registers a new client.
///
/// Errors: the keychain's error.
pub async fn drop_registration(
    secrets: &SecretStore,
    server: &str,
    client_id: &str,
) -> Result<(), SecretError> {
    match read(secrets, server).await? {
        Some(mut record) if record.client_id == client_id && record.registration.is_some() => {
            record.registration = None;
            write(secrets, server, &record).await
        }
        _ => Ok(()),
    }
}

/// Deletes server `server`'s record; `Ok(false)` when there was none. Errors: the keychain's
/// error.
pub async fn delete(secrets: &SecretStore, server: &str) -> Result<bool, SecretError> {
    secrets.delete_record(&entry_name(server)).await
}

/// The stored sign-in of one server that may use OAuth, for `loopgate auth status` and
/// `GET /api/auth` (never token values).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Status {
    /// Server name.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// An access token is stored (possibly expired).
    pub signed_in: bool,
    /// A refresh token is stored.
    pub refreshable: bool,
    /// When the access token expires, in ms since the Unix epoch.
    pub expires_at_ms: Option<u64>,
    /// Scopes granted with the stored tokens.
    pub scopes: Vec<String>,
}

/// The stored sign-in of every HTTP server in `config` that may use OAuth, in config order. A
/// record issued for another URL than the server's current one counts as none.
///
/// Errors: the keychain's error (unreachable, locked).
pub async fn statuses(
    config: &crate::config::Config,
    secrets: &SecretStore,
) -> Result<Vec<Status>, SecretError> {
    let mut out = Vec::new();
    for (name, entry) in &config.mcp_servers {
        let Ok(crate::config::Backend::Http {
            url,
            oauth: Some(_),
            ..
        }) = entry.backend()
        else {
            continue;
        };
        let record = read(secrets, name).await?.filter(|r| r.resource == url);
        out.push(Status {
            name: name.clone(),
            url,
            signed_in: record.as_ref().is_some_and(Record::has_tokens),
            refreshable: record.as_ref().is_some_and(Record::has_refresh_token),
            expires_at_ms: record
                .as_ref()
                .and_then(Record::expires_at)
                .map(|s| s.saturating_mul(1000)),
            scopes: record.as_ref().map(Record::scopes).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The lock that serializes token refreshes of one server within this process.
fn refresh_lock(server: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<StdMutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(server.to_string())
        .or_default()
        .clone()
}

/// rmcp's [`CredentialStore`] over server `server`'s keychain record. Cheap to clone; clones
/// share the in-memory copy.
#[derive(Clone)]
pub struct KeychainCredentialStore {
    secrets: SecretStore,
    server: String,
    record: Arc<RwLock<Record>>,
}

impl KeychainCredentialStore {
    /// A store for server `server` starting from `record` (already read from, or about to be
    /// written to, the keychain).
    pub fn new(secrets: SecretStore, server: &str, record: Record) -> Self {
        Self {
            secrets,
            server: server.to_string(),
            record: Arc::new(RwLock::new(record)),
        }
    }

    /// A copy of the record as it is now (after any refresh).
    pub async fn record(&self) -> Record {
        self.record.read().await.clone()
    }

    /// Sets the client registration part of the record (keeping tokens), in memory only: it is
    /// written with the tokens when the sign-in completes, so an abandoned sign-in leaves the
    /// keychain as it was. `registration` is `Some` for a client registered by Loopgate (DCR).
    pub async fn set_client(
        &self,
        client_id: &str,
        client_secret: Option<String>,
        redirect_uri: &str,
        registration: Option<Registration>,
    ) {
        let mut record = self.record.write().await;
        record.client_id = client_id.to_string();
        record.client_secret = client_secret;
        record.redirect_uri = redirect_uri.to_string();
        record.registration = registration;
    }

    async fn persist(&self, record: &Record) -> Result<(), AuthError> {
        write(&self.secrets, &self.server, record)
            .await
            .map_err(|e| AuthError::CredentialStoreError(e.to_string()))
    }
}

#[async_trait::async_trait]
impl CredentialStore for KeychainCredentialStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        Ok(self.record.read().await.credentials.clone())
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let mut record = self.record.write().await;
        record.client_id = credentials.client_id.clone();
        record.credentials = Some(credentials);
        self.persist(&record).await
    }

    async fn clear(&self) -> Result<(), AuthError> {
        let mut record = self.record.write().await;
        record.credentials = None;
        self.persist(&record).await
    }

    async fn on_refresh_token_rejected(
        &self,
        credentials: &StoredCredentials,
    ) -> Result<(), AuthError> {
        // The authorization server said the refresh token is dead (revoked, expired): drop the
        // tokens so status shows "needs sign-in", unless a newer sign-in already replaced them.
        let mut record = self.record.write().await;
        let same = record.credentials.as_ref().is_some_and(|c| {
            c.token_received_at == credentials.token_received_at
                && c.client_id == credentials.client_id
        });
        if same {
            record.credentials = None;
            self.persist(&record).await?;
        }
        Ok(())
    }

    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        let guard = refresh_lock(&self.server).lock_owned().await;
        Ok(Some(CredentialRefreshGuard::new(guard)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryBackend;

    fn creds(received: u64) -> StoredCredentials {
        let token: rmcp::transport::auth::OAuthTokenResponse = serde_json::from_value(serde_json::json!({
            "access_token": "at-1", "token_type": "Bearer", "expires_in": 60, "refresh_token": "rt-1"
        }))
        .unwrap();
        StoredCredentials::new(
            "client-1".into(),
            Some(token),
            vec!["mcp".into()],
            Some(received),
        )
    }

    #[test]
    fn a_huge_token_lifetime_does_not_overflow_and_tokens_are_masked_in_logs() {
        let token: rmcp::transport::auth::OAuthTokenResponse =
            serde_json::from_value(serde_json::json!({
                "access_token": "at-overflow-1", "token_type": "Bearer",
                "expires_in": u64::MAX, "refresh_token": "rt-overflow-1"
            }))
            .unwrap();
        let record = Record {
            credentials: Some(StoredCredentials::new(
                "c".into(),
                Some(token),
                vec![],
                Some(1_700_000_000),
            )),
            ..Default::default()
        };
        assert_eq!(record.expires_at(), Some(u64::MAX));
        record.register_secrets();
        assert_eq!(
            crate::redact::redact("Bearer at-overflow-1 / rt-overflow-1"),
            "Bearer [redacted] / [redacted]"
        );
    }

    #[tokio::test]
    async fn saves_through_to_the_keychain_and_clears_on_rejection() {
        let secrets = SecretStore::with_backend(Arc::new(MemoryBackend::default()));
        let store = KeychainCredentialStore::new(
            secrets.clone(),
            "srv",
            Record {
                resource: "http://127.0.0.1:1/mcp".into(),
                ..Default::default()
            },
        );
        store
            .set_client(
                "client-1",
                Some("s3cret".into()),
                "http://127.0.0.1:9/callback",
                None,
            )
            .await;
        assert!(
            read(&secrets, "srv").await.unwrap().is_none(),
            "nothing written before the tokens"
        );
        store.save(creds(1000)).await.unwrap();
        let stored = read(&secrets, "srv").await.unwrap().unwrap();
        assert!(stored.has_tokens() && stored.has_refresh_token());
        assert_eq!(stored.expires_at(), Some(1060));
        assert_eq!(stored.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(stored.scopes(), ["mcp"]);
        // Debug output never shows the secret or tokens.
        let debug = format!("{stored:?}");
        assert!(!debug.contains("s3cret") && !debug.contains("at-1") && !debug.contains("rt-1"));

        // A rejection of older credentials does not drop newer ones.
        store.on_refresh_token_rejected(&creds(999)).await.unwrap();
        assert!(read(&secrets, "srv").await.unwrap().unwrap().has_tokens());
        store.on_refresh_token_rejected(&creds(1000)).await.unwrap();
        let after = read(&secrets, "srv").await.unwrap().unwrap();
        assert!(!after.has_tokens());
        assert_eq!(after.client_id, "client-1", "the registration is kept");
        assert!(delete(&secrets, "srv").await.unwrap());
        assert!(read(&secrets, "srv").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_failed_reuse_drops_only_that_registration() {
        let secrets = SecretStore::with_backend(Arc::new(MemoryBackend::default()));
        let registration = Registration {
            endpoint: "http://127.0.0.1:1/register".into(),
            scopes: vec!["mcp".into()],
        };
        let record = Record {
            resource: "http://127.0.0.1:1/mcp".into(),
            client_id: "client-1".into(),
            redirect_uri: "http://127.0.0.1:9/callback".into(),
            registration: Some(registration.clone()),
            credentials: Some(creds(1000)),
            ..Default::default()
        };
        write(&secrets, "srv", &record).await.unwrap();
        // Another client's failure (a newer sign-in replaced it) changes nothing.
        drop_registration(&secrets, "srv", "client-0")
            .await
            .unwrap();
        let kept = read(&secrets, "srv").await.unwrap().unwrap();
        assert_eq!(kept.registration, Some(registration));
        drop_registration(&secrets, "srv", "client-1")
            .await
            .unwrap();
        let after = read(&secrets, "srv").await.unwrap().unwrap();
        assert_eq!(after.registration, None, "not reused again");
        assert!(after.has_tokens(), "existing tokens still refresh");
        assert_eq!(after.client_id, "client-1");
        // Nothing stored: nothing to do.
        drop_registration(&secrets, "none", "client-1")
            .await
            .unwrap();
        assert!(read(&secrets, "none").await.unwrap().is_none());
    }
}
