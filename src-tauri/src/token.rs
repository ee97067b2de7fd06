//! The gateway access token: a random bearer token clients must send to `/mcp` and `/api`.
//!
//! Generated on first run (32 random bytes, hex). Where an OS keychain is reachable it lives
//! there (service `loopgate`, one record per config file); otherwise in a file `token` beside the
//! config file, readable only by the user (mode 0600 on Unix). A token file found while the
//! keychain is reachable is moved into the keychain. `loopgate token` prints it.
//!
//! A new token is minted only when there is none: never because the keychain was locked or slow
//! to answer at start. Then [`load_or_create`] reports [`Loaded::Pending`] and the gateway
//! refuses requests with 503 until the keychain answers (every installed client keeps working
//! with the token it has).

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

/// Registers `token` with the log redactor and returns it.
fn masked(token: String) -> String {
    crate::redact::register(&token);
    token
}

fn read_file(config_path: &Path) -> Result<Option<String>, TokenError> {
    let path = token_path(config_path);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(masked(text.trim().to_string()))),
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
/// Errors: [`TokenError`] when the file exists but cannot be read, or the keychain refuses
/// (locked) and there is no token file.
pub async fn read(config_path: &Path, secrets: &SecretStore) -> Result<Option<String>, TokenError> {
    let keychain = match secrets.status().await {
        Ok(()) => secrets.get_record(&keychain_name(config_path)).await,
        Err(e) => Err(e),
    };
    match keychain {
        Ok(Some(t)) => Ok(Some(masked(t))),
        // A locked or misbehaving keychain: the token file (if any) still works; without one,
        // say why there is no token rather than "none yet".
        Err(e) if e.is_transient() => match read_file(config_path)? {
            Some(t) => Ok(Some(t)),
            None => Err(e.into()),
        },
        Ok(None) | Err(_) => read_file(config_path),
    }
}

/// The gateway's token at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// The token.
    Ready(String),
    /// The keychain holds the token but could not be read now (locked, not answering): try
    /// again later; no new token was made.
    Pending(String),
}

/// Reads the token for `config_path`, creating a new random one only if none exists: in the
/// keychain when reachable (moving an existing token file there), else in an owner-only file.
/// A keychain that is there but refuses or does not answer gives [`Loaded::Pending`] with the
/// reason (or the token file, when an earlier start left one).
///
/// Errors: [`TokenError`] when the file cannot be read or written.
pub async fn load_or_create(
    config_path: &Path,
    secrets: &SecretStore,
) -> Result<Loaded, TokenError> {
    let keychain = match secrets.status().await {
        Ok(()) => keychain_load_or_create(config_path, secrets).await,
        Err(e) => Err(e),
    };
    let reason = match keychain {
        Ok(t) => return Ok(Loaded::Ready(t)),
        // No keychain on this machine at all: the token lives in the owner-only file.
        Err(e @ SecretError::Unavailable { .. }) => e,
        Err(e) => {
            if let Some(token) = read_file(config_path)? {
                tracing::warn!("{e}; using the access token file");
                return Ok(Loaded::Ready(token));
            }
            return Ok(Loaded::Pending(e.to_string()));
        }
    };
    tracing::debug!("{reason}; the access token lives in a file");
    if let Some(token) = read_file(config_path)? {
        return Ok(Loaded::Ready(token));
    }
    create_file(config_path).map(Loaded::Ready)
}

/// For a gateway that started while the keychain was locked and asks again: the existing
/// token, and a new one only once the keychain answers that it holds none (a keychain that
/// still fails, in whatever way, never turns into a new token). [`Loaded::Pending`] with the
/// reason while there is nothing to read.
///
/// Errors: [`TokenError`] when the token file exists but cannot be read.
pub async fn load_existing(
    config_path: &Path,
    secrets: &SecretStore,
) -> Result<Loaded, TokenError> {
    let keychain = match secrets.status().await {
        Ok(()) => secrets.get_record(&keychain_name(config_path)).await,
        Err(e) => Err(e),
    };
    match keychain {
        Ok(Some(t)) => Ok(Loaded::Ready(masked(t))),
        // It answers, and has none: it is a first start after all.
        Ok(None) => load_or_create(config_path, secrets).await,
        Err(e) => match read_file(config_path)? {
            Some(t) => Ok(Loaded::Ready(t)),
            None => Ok(Loaded::Pending(e.to_string())),
        },
    }
}

/// Writes a new token to the owner-only token file (or reads the one another process created
/// first).
fn create_file(config_path: &Path) -> Result<String, TokenError> {
    let path = token_path(config_path);
    let token = masked(generate());
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
        secrets
            .get_record(&clients_keychain_name(config_path))
            .await?
    } else {
        let path = clients_file(config_path);
        match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(TokenError::File { path, source }),
        }
    };
    let tokens: std::collections::BTreeMap<String, String> = text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    tokens.values().for_each(|t| crate::redact::register(t));
    Ok(tokens)
}

async fn save_client_tokens(
    config_path: &Path,
    secrets: &SecretStore,
    tokens: &std::collections::BTreeMap<String, String>,
) -> Result<(), TokenError> {
    let text = serde_json::to_string(tokens).expect("tokens serialize");
    if secrets.status().await.is_ok() {
        return Ok(secrets
            .set_record(&clients_keychain_name(config_path), &text)
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
    let token = masked(generate());
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

/// The keychain's token, else the token file's moved there, else a new one. A keychain that
/// takes no new record (locked after answering "none") leaves the new token in the file.
async fn keychain_load_or_create(
    config_path: &Path,
    secrets: &SecretStore,
) -> Result<String, SecretError> {
    let name = keychain_name(config_path);
    if let Some(t) = secrets.get_record(&name).await? {
        return Ok(masked(t));
    }
    let from_file = read_file(config_path).ok().flatten();
    let token = masked(from_file.clone().unwrap_or_else(generate));
    match secrets.set_record(&name, &token).await {
        Ok(()) => {
            let _ = std::fs::remove_file(token_path(config_path));
            Ok(token)
        }
        Err(e) => {
            tracing::warn!(
                "{e}; keeping the access token in {} instead",
                token_path(config_path).display()
            );
            match from_file {
                Some(t) => Ok(t),
                None => create_file(config_path).map_err(|e| SecretError::Access {
                    name,
                    detail: e.to_string(),
                }),
            }
        }
    }
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
        let Loaded::Ready(t) = load_or_create(&cfg, &store).await.unwrap() else {
            panic!("a token file is made")
        };
        assert_eq!(t.len(), 64);
        assert_eq!(
            load_or_create(&cfg, &store).await.unwrap(),
            Loaded::Ready(t.clone())
        );
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
    async fn a_locked_keychain_mints_no_new_token() {
        let store = SecretStore::with_backend(Arc::new(Locked));
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        let loaded = load_or_create(&cfg, &store).await.unwrap();
        assert!(
            matches!(&loaded, Loaded::Pending(why) if why.contains("locked")),
            "{loaded:?}"
        );
        assert!(!token_path(&cfg).exists(), "no token file was minted");
        // A token file an earlier start left is used.
        std::fs::write(token_path(&cfg), "from-file").unwrap();
        assert_eq!(
            load_or_create(&cfg, &store).await.unwrap(),
            Loaded::Ready("from-file".into())
        );
    }

    /// Answers "no such record" but takes none: a first start with a locked keychain.
    struct ReadOnly;
    impl Backend for ReadOnly {
        fn get(&self, _: &str) -> Result<Option<String>, SecretError> {
            Ok(None)
        }
        fn set(&self, name: &str, _: &str) -> Result<(), SecretError> {
            Err(SecretError::Access {
                name: name.into(),
                detail: "locked".into(),
            })
        }
        fn delete(&self, _: &str) -> Result<bool, SecretError> {
            Ok(false)
        }
    }

    #[tokio::test]
    async fn the_first_token_goes_to_the_file_when_the_keychain_takes_none() {
        let store = SecretStore::with_backend(Arc::new(ReadOnly));
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        let Loaded::Ready(t) = load_or_create(&cfg, &store).await.unwrap() else {
            panic!("ready")
        };
        assert_eq!(std::fs::read_to_string(token_path(&cfg)).unwrap(), t);
        assert_eq!(
            load_or_create(&cfg, &store).await.unwrap(),
            Loaded::Ready(t)
        );
    }

    #[tokio::test]
    async fn with_keychain_the_token_moves_there_and_the_file_goes() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        let file_only = SecretStore::with_backend(Arc::new(Unreachable));
        let Loaded::Ready(t) = load_or_create(&cfg, &file_only).await.unwrap() else {
            panic!("ready")
        };
        let keychain = SecretStore::with_backend(Arc::new(MemoryBackend::default()));
        assert_eq!(
            load_or_create(&cfg, &keychain).await.unwrap(),
            Loaded::Ready(t.clone()),
            "migrated, same token"
        );
        assert!(!token_path(&cfg).exists(), "no token left on disk");
        assert_eq!(read(&cfg, &keychain).await.unwrap(), Some(t.clone()));
        assert_eq!(
            keychain.get_record(&keychain_name(&cfg)).await.unwrap(),
            Some(t)
        );
        // Records are not user secrets.
        assert!(keychain.get(&keychain_name(&cfg)).await.is_err());
        assert!(keychain.names().await.unwrap().is_empty());
    }
}
