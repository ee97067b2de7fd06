//! The gateway access token: a random bearer token clients must send to `/mcp` and `/api`.
//!
//! Generated on first run (32 random bytes, hex). Where an OS keychain is reachable it lives
//! there (service `loopgate`, one entry per config file); otherwise in a file `token` beside the
//! config file, readable only by the user (mode 0600 on Unix). A token file found while the
//! keychain is reachable is moved into the keychain. `loopgate token` prints it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::secrets::{SecretError, SecretStore};

/// Errors reading or creating the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token file could not be read or written.
    #[error("access token file {path}: {source}")]
    File {
        /// The token file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The keychain holds no usable token or refused access.
    #[error("access token in the OS keychain: {0}")]
    Keychain(#[from] SecretError),
}

/// Where the token file for the config at `config_path` lives: `token` in the same directory.
pub fn token_path(config_path: &Path) -> PathBuf {
    config_path.parent().unwrap_or(Path::new(".")).join("token")
}

/// The keychain entry name of the token for `config_path` (one per config file).
pub fn keychain_name(config_path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let abs = std::path::absolute(config_path).unwrap_or_else(|_| config_path.to_path_buf());
    let digest = hex::encode(Sha256::digest(abs.to_string_lossy().as_bytes()));
    format!("gateway-token.{}", &digest[..16])
}

fn read_file(config_path: &Path) -> Result<Option<String>, TokenError> {
    let path = token_path(config_path);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
        Ok(_) => Err(TokenError::File {
            path,
            source: std::io::Error::other("the file is empty; delete it to make a new token"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TokenError::File { path, source }),
    }
}

/// Reads the token for `config_path`: from the keychain when reachable, else from the file.
/// `Ok(None)` when none was created yet.
///
/// Errors: [`TokenError`] when the file exists but cannot be read, or the keychain refuses.
pub async fn read(config_path: &Path, secrets: &SecretStore) -> Result<Option<String>, TokenError> {
    if secrets.status().await.is_ok() {
        match secrets.get(&keychain_name(config_path)).await {
            Ok(t) => return Ok(Some(t)),
            Err(SecretError::NotSet(_)) => {}
            // A locked or misbehaving keychain: the token file (if any) still works.
            Err(e) => tracing::warn!("{e}; looking for the access token file instead"),
        }
    }
    read_file(config_path)
}

/// Reads the token for `config_path`, creating a new random one if none exists: in the
/// keychain when reachable (moving an existing token file there), else in an owner-only file.
///
/// Errors: [`TokenError`] when the file cannot be read or written or the keychain refuses.
pub async fn load_or_create(
    config_path: &Path,
    secrets: &SecretStore,
) -> Result<String, TokenError> {
    if secrets.status().await.is_ok() {
        match keychain_load_or_create(config_path, secrets).await {
            Ok(t) => return Ok(t),
            // A locked or refusing keychain must not keep the gateway from starting: the token
            // (not a user secret) falls back to the owner-only file.
            Err(e) => tracing::warn!(
                "{e}; keeping the access token in {} instead",
                token_path(config_path).display()
            ),
        }
    }
    if let Some(token) = read_file(config_path)? {
        return Ok(token);
    }
    let path = token_path(config_path);
    let token = generate();
    let err = |source| TokenError::File {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(token.as_bytes()).map_err(err)?;
            file.sync_all().map_err(err)?;
            Ok(token)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_file(config_path)?.ok_or_else(|| err(e))
        }
        Err(e) => Err(err(e)),
    }
}

/// The keychain entry holding the per-client tokens of `config_path` (a JSON object
/// `{client id: token}`).
pub fn clients_keychain_name(config_path: &Path) -> String {
    keychain_name(config_path).replace("gateway-token.", "client-tokens.")
}

/// The owner-only file holding per-client tokens when no keychain is reachable.
pub fn clients_file(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("client-tokens.json")
}

/// The per-client tokens (`client id → token`) of the gateway configured at `config_path`.
/// Each wired client gets its own, so one can be revoked without touching the others.
///
/// Errors: [`TokenError`] when the keychain refuses or the file is unreadable.
pub async fn client_tokens(
    config_path: &Path,
    secrets: &SecretStore,
) -> Result<std::collections::BTreeMap<String, String>, TokenError> {
    let text = if secrets.status().await.is_ok() {
        match secrets.get(&clients_keychain_name(config_path)).await {
            Ok(t) => Some(t),
            Err(SecretError::NotSet(_)) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        let path = clients_file(config_path);
        match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(TokenError::File { path, source }),
        }
    };
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

async fn save_client_tokens(
    config_path: &Path,
    secrets: &SecretStore,
    tokens: &std::collections::BTreeMap<String, String>,
) -> Result<(), TokenError> {
    let text = serde_json::to_string(tokens).expect("tokens serialize");
    if secrets.status().await.is_ok() {
        return Ok(secrets
            .set(&clients_keychain_name(config_path), &text)
            .await?);
    }
    let path = clients_file(config_path);
    let err = |source| TokenError::File {
        path: path.clone(),
        source,
    };
    crate::config::store::write_atomic(&path, text.as_bytes()).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    Ok(())
}

/// The token of `client` (an id like `cursor`), created if it has none yet.
pub async fn issue_client_token(
    config_path: &Path,
    secrets: &SecretStore,
    client: &str,
) -> Result<String, TokenError> {
    let mut tokens = client_tokens(config_path, secrets).await?;
    if let Some(t) = tokens.get(client) {
        return Ok(t.clone());
    }
    let token = generate();
    tokens.insert(client.to_string(), token.clone());
    save_client_tokens(config_path, secrets, &tokens).await?;
    Ok(token)
}

/// Revokes `client`'s token; `Ok(false)` when it had none.
pub async fn revoke_client_token(
    config_path: &Path,
    secrets: &SecretStore,
    client: &str,
) -> Result<bool, TokenError> {
    let mut tokens = client_tokens(config_path, secrets).await?;
    if tokens.remove(client).is_none() {
        return Ok(false);
    }
    save_client_tokens(config_path, secrets, &tokens).await?;
    Ok(true)
}

async fn keychain_load_or_create(
    config_path: &Path,
    secrets: &SecretStore,
) -> Result<String, TokenError> {
    let name = keychain_name(config_path);
    match secrets.get(&name).await {
        Ok(t) => return Ok(t),
        Err(SecretError::NotSet(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let token = match read_file(config_path)? {
        Some(t) => t,
        None => generate(),
    };
    secrets.set(&name, &token).await?;
    let _ = std::fs::remove_file(token_path(config_path));
    Ok(token)
}

/// A fresh random token: 32 bytes from the OS RNG, as 64 hex characters.
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Compares two tokens in time independent of where they first differ.
pub fn matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::secrets::{Backend, MemoryBackend};

    struct Unreachable;
    impl Backend for Unreachable {
        fn get(&self, _: &str) -> Result<Option<String>, SecretError> {
            Err(SecretError::Unavailable {
                detail: "test".into(),
                hint: "",
            })
        }
        fn set(&self, _: &str, _: &str) -> Result<(), SecretError> {
            Err(SecretError::Unavailable {
                detail: "test".into(),
                hint: "",
            })
        }
        fn delete(&self, _: &str) -> Result<bool, SecretError> {
            Err(SecretError::Unavailable {
                detail: "test".into(),
                hint: "",
            })
        }
    }

    #[tokio::test]
    async fn without_keychain_the_token_is_an_owner_only_file() {
        let store = SecretStore::with_backend(Arc::new(Unreachable));
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        assert_eq!(read(&cfg, &store).await.unwrap(), None);
        let t = load_or_create(&cfg, &store).await.unwrap();
        assert_eq!(t.len(), 64);
        assert_eq!(load_or_create(&cfg, &store).await.unwrap(), t);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(token_path(&cfg))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches(&t, &t.clone()));
        assert!(!matches(&t, "x"));
        assert_ne!(generate(), generate());
    }

    /// A keychain that answers but refuses every item (e.g. locked), as gnome-keyring does
    /// when D-Bus starts it without unlocking.
    struct Locked;
    impl Backend for Locked {
        fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
            if name == "#index" {
                Ok(None)
            } else {
                Err(SecretError::Access {
                    name: name.into(),
                    detail: "locked".into(),
                })
            }
        }
        fn set(&self, name: &str, _: &str) -> Result<(), SecretError> {
            Err(SecretError::Access {
                name: name.into(),
                detail: "locked".into(),
            })
        }
        fn delete(&self, name: &str) -> Result<bool, SecretError> {
            Err(SecretError::Access {
                name: name.into(),
                detail: "locked".into(),
            })
        }
    }

    #[tokio::test]
    async fn a_locked_keychain_falls_back_to_the_file() {
        let store = SecretStore::with_backend(Arc::new(Locked));
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        let t = load_or_create(&cfg, &store).await.unwrap();
        assert_eq!(read(&cfg, &store).await.unwrap(), Some(t));
        assert!(token_path(&cfg).exists());
    }

    #[tokio::test]
    async fn with_keychain_the_token_moves_there_and_the_file_goes() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        let file_only = SecretStore::with_backend(Arc::new(Unreachable));
        let t = load_or_create(&cfg, &file_only).await.unwrap();
        let keychain = SecretStore::with_backend(Arc::new(MemoryBackend::default()));
        assert_eq!(
            load_or_create(&cfg, &keychain).await.unwrap(),
            t,
            "migrated, same token"
        );
        assert!(!token_path(&cfg).exists(), "no token left on disk");
        assert_eq!(read(&cfg, &keychain).await.unwrap(), Some(t.clone()));
        assert_eq!(keychain.get(&keychain_name(&cfg)).await.unwrap(), t);
    }
}
