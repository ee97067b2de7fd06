//! Credentials in the OS keychain, and `${secret:NAME}` references to them.
//!
//! [`SecretStore`] keeps secrets in the platform store through the `keyring` crate (macOS
//! Keychain, Windows Credential Manager, Secret Service over D-Bus on Linux), service name
//! [`SERVICE`], one entry per secret name. There is no plaintext fallback (ARCHITECTURE.md rule 8):
//! when no store is reachable every operation fails with [`SecretError::Unavailable`], which
//! says which store failed and how to fix it.
//!
//! Config values (`env` of stdio servers, `headers` of HTTP servers) may be or contain
//! `${secret:NAME}`; [`SecretStore::resolve`] replaces them at connect time, in memory only.
//! The keychain has no portable way to list entries, so the store also keeps an index entry
//! (names only, no values) to answer `loopgate secret list`.
//!
//! Two namespaces share the keychain service: the user's secrets (any valid name) and
//! Loopgate's own records (the access tokens and OAuth tokens, names starting with one of
//! [`INTERNAL_PREFIXES`]). They cannot reach each other: the user API ([`SecretStore::get`],
//! [`SecretStore::set`], [`SecretStore::resolve`], …) refuses internal names with
//! [`SecretError::Reserved`] (so `${secret:oauth.github}` cannot send GitHub's tokens to another
//! server), and the record API ([`SecretStore::get_record`], …) takes internal names only.
//!
//! Every keychain call runs off the async runtime and is bounded by [`CALL_TIMEOUT`] (a locked
//! keychain may wait for an unlock prompt forever); at most [`MAX_STUCK_CALLS`] calls may hang
//! at a time, after which calls fail at once until one returns.

use std::collections::BTreeSet;
use std::sync::Arc;

/// The keychain service name all Loopgate entries live under.
pub const SERVICE: &str = "loopgate";
/// Keychain user name of the index entry (a JSON array of secret names).
const INDEX_ENTRY: &str = "#index";

/// What can go wrong with secrets. Messages never contain secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No OS keychain could be reached.
    #[error("no OS keychain is reachable ({detail}). {hint}")]
    Unavailable {
        /// Which store failed and why.
        detail: String,
        /// How to fix it on this platform.
        hint: &'static str,
    },
    /// A referenced secret does not exist.
    #[error("secret {0} is not set — run `loopgate secret set {0}`")]
    NotSet(String),
    /// The store refused access (e.g. locked).
    #[error("the OS keychain refused access to secret {name}: {detail}. Unlock your keyring and try again")]
    Access {
        /// The secret name.
        name: String,
        /// What the store said (never the value).
        detail: String,
    },
    /// The name has characters outside `A-Z a-z 0-9 _ . -` or is empty/too long.
    #[error("\"{0}\" is not a valid secret name: use 1–64 letters, digits, '_', '.' or '-'")]
    BadName(String),
    /// The name belongs to Loopgate's own records (see [`INTERNAL_PREFIXES`]).
    #[error("\"{0}\" is reserved for Loopgate's own records (access and OAuth tokens); secret names may not start with {prefixes}", prefixes = INTERNAL_PREFIXES.map(|p| format!("\"{p}\"")).join(", "))]
    Reserved(String),
    /// The keychain did not answer in time.
    #[error("the OS keychain did not answer within {} s (is it waiting for you to unlock it?); Loopgate tries again later", CALL_TIMEOUT.as_secs())]
    TimedOut,
}

impl SecretError {
    /// Whether trying again later may succeed: the keychain is there but locked, refusing or
    /// not answering — as opposed to a missing secret, a bad name, or no keychain at all.
    pub fn is_transient(&self) -> bool {
        matches!(self, SecretError::Access { .. } | SecretError::TimedOut)
    }
}

/// Longest a single keychain call may take before it counts as failed (10 s).
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Most keychain calls that may be stuck (past [`CALL_TIMEOUT`]) at once.
pub const MAX_STUCK_CALLS: usize = 4;

/// How to make a keychain reachable, per platform.
fn hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "Unlock your login keychain (Keychain Access) and try again"
    } else if cfg!(windows) {
        "Make sure the Windows Credential Manager service is running"
    } else {
        "Loopgate needs a Secret Service on the D-Bus session bus: run it inside your desktop session, \
         or start and unlock one (e.g. `gnome-keyring-daemon --unlock --components=secrets`, or KeePassXC with \
         Secret Service enabled)"
    }
}

/// Prefixes of the entries Loopgate keeps for itself (gateway token, client tokens, OAuth
/// tokens). They live in the keychain like user secrets but are not listed as such.
pub const INTERNAL_PREFIXES: [&str; 3] = ["gateway-token.", "client-tokens.", "oauth."];

/// Whether `name` is one of Loopgate's own entries (see [`INTERNAL_PREFIXES`]) rather than a
/// user secret.
pub fn is_internal(name: &str) -> bool {
    INTERNAL_PREFIXES.iter().any(|p| name.starts_with(p))
}

fn well_formed(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Checks a user secret name: 1–64 characters from `A-Z a-z 0-9 _ . -`, not starting with one
/// of [`INTERNAL_PREFIXES`].
///
/// Errors: [`SecretError::BadName`], [`SecretError::Reserved`].
pub fn validate_name(name: &str) -> Result<(), SecretError> {
    if !well_formed(name) {
        return Err(SecretError::BadName(name.to_string()));
    }
    if is_internal(name) {
        return Err(SecretError::Reserved(name.to_string()));
    }
    Ok(())
}

/// Checks the name of one of Loopgate's own records (see [`INTERNAL_PREFIXES`]).
fn validate_record_name(name: &str) -> Result<(), SecretError> {
    if well_formed(name) && is_internal(name) {
        Ok(())
    } else {
        Err(SecretError::BadName(name.to_string()))
    }
}

/// The names referenced as `${secret:NAME}` in `text`, in order, without duplicates.
pub fn references(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${secret:") {
        let after = &rest[start + 9..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_string());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// A place secrets are kept. Blocking; [`SecretStore`] calls it off the async runtime.
pub trait Backend: Send + Sync + 'static {
    /// The value of `name`, `Ok(None)` when not set.
    fn get(&self, name: &str) -> Result<Option<String>, SecretError>;
    /// Stores `value` under `name`.
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError>;
    /// Deletes `name`; `Ok(false)` when it was not set.
    fn delete(&self, name: &str) -> Result<bool, SecretError>;
}

/// The OS keychain through `keyring`.
pub struct Keychain;

fn map_err(name: &str, e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoDefaultStore => SecretError::Unavailable {
            detail: "no default credential store".into(),
            hint: hint(),
        },
        keyring::Error::NoStorageAccess(p) => SecretError::Access {
            name: name.to_string(),
            detail: p.to_string(),
        },
        keyring::Error::PlatformFailure(p) => SecretError::Unavailable {
            detail: p.to_string(),
            hint: hint(),
        },
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => SecretError::Access {
            name: name.to_string(),
            detail: "the stored value is not valid text".into(),
        },
        other => SecretError::Access {
            name: name.to_string(),
            detail: match other {
                keyring::Error::Ambiguous(_) => "more than one entry matches".into(),
                keyring::Error::TooLong(attr, max) => format!("{attr} is longer than {max}"),
                keyring::Error::Invalid(attr, why) => format!("{attr}: {why}"),
                _ => "unexpected keychain error".into(),
            },
        },
    }
}

impl Keychain {
    /// Whether the platform store could be initialized (checked once per process by `keyring`).
    ///
    /// Errors: [`SecretError::Unavailable`] with the store's reason and how to fix it.
    pub fn status() -> Result<(), SecretError> {
        match keyring::Entry::store_status() {
            Ok(()) => Ok(()),
            Err(e) => Err(SecretError::Unavailable {
                detail: e.to_string(),
                hint: hint(),
            }),
        }
    }

    fn entry(name: &str) -> Result<keyring::Entry, SecretError> {
        Self::status()?;
        keyring::Entry::new(SERVICE, name).map_err(|e| map_err(name, e))
    }
}

impl Backend for Keychain {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        match Self::entry(name)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(name, e)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        Self::entry(name)?
            .set_password(value)
            .map_err(|e| map_err(name, e))
    }

    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        match Self::entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(name, e)),
        }
    }
}

/// Secrets by name, over a [`Backend`] (the OS keychain unless a test supplies another).
/// Cheap to clone.
#[derive(Clone)]
pub struct SecretStore {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretStore")
    }
}

impl SecretStore {
    /// The OS keychain. Never fails: when no store is reachable, operations return
    /// [`SecretError::Unavailable`] (check [`SecretStore::status`] at start-up).
    pub fn os() -> SecretStore {
        SecretStore {
            backend: Arc::new(Keychain),
        }
    }

    /// A store over another backend (tests).
    pub fn with_backend(backend: Arc<dyn Backend>) -> SecretStore {
        SecretStore { backend }
    }

    /// `Ok(())` when the store can be used; the actionable error otherwise.
    pub async fn status(&self) -> Result<(), SecretError> {
        let b = self.backend.clone();
        blocking(move || b.get(INDEX_ENTRY).map(|_| ())).await
    }

    /// The value of secret `name`. Errors: [`SecretError::NotSet`] when absent, or the store's
    /// error.
    pub async fn get(&self, name: &str) -> Result<String, SecretError> {
        self.get_optional(name)
            .await?
            .ok_or_else(|| SecretError::NotSet(name.to_string()))
    }

    /// The value of `name`, `Ok(None)` when it is not set. Errors: the store's error.
    /// The value is registered with the log redactor ([`crate::redact`]).
    pub async fn get_optional(&self, name: &str) -> Result<Option<String>, SecretError> {
        validate_name(name)?;
        let (b, n) = (self.backend.clone(), name.to_string());
        let value = blocking(move || b.get(&n)).await?;
        if let Some(v) = &value {
            crate::redact::register(v);
        }
        Ok(value)
    }

    /// Stores `value` as secret `name` and records the name in the index (the value is
    /// registered with the log redactor).
    pub async fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        validate_name(name)?;
        crate::redact::register(value);
        let (b, n, v) = (self.backend.clone(), name.to_string(), value.to_string());
        blocking(move || {
            b.set(&n, &v)?;
            let mut names = read_index(b.as_ref())?;
            if names.insert(n) {
                write_index(b.as_ref(), &names)?;
            }
            Ok(())
        })
        .await
    }

    /// Deletes secret `name`; `Ok(false)` when it was not set.
    pub async fn delete(&self, name: &str) -> Result<bool, SecretError> {
        validate_name(name)?;
        let (b, n) = (self.backend.clone(), name.to_string());
        blocking(move || {
            let existed = b.delete(&n)?;
            let mut names = read_index(b.as_ref())?;
            if names.remove(&n) {
                write_index(b.as_ref(), &names)?;
            }
            Ok(existed)
        })
        .await
    }

    /// The names of the user secrets Loopgate has stored (never values; never its own
    /// records).
    pub async fn names(&self) -> Result<BTreeSet<String>, SecretError> {
        let b = self.backend.clone();
        let mut names = blocking(move || read_index(b.as_ref())).await?;
        names.retain(|n| !is_internal(n));
        Ok(names)
    }

    /// One of Loopgate's own records (`name` starts with one of [`INTERNAL_PREFIXES`]);
    /// `Ok(None)` when absent. Errors: [`SecretError::BadName`] for any other name, or the
    /// store's error.
    pub async fn get_record(&self, name: &str) -> Result<Option<String>, SecretError> {
        validate_record_name(name)?;
        let (b, n) = (self.backend.clone(), name.to_string());
        blocking(move || b.get(&n)).await
    }

    /// Stores one of Loopgate's own records (not listed by [`SecretStore::names`]).
    pub async fn set_record(&self, name: &str, value: &str) -> Result<(), SecretError> {
        validate_record_name(name)?;
        let (b, n, v) = (self.backend.clone(), name.to_string(), value.to_string());
        blocking(move || b.set(&n, &v)).await
    }

    /// Deletes one of Loopgate's own records; `Ok(false)` when it was not set. (Earlier
    /// versions listed records in the index; such an entry is dropped too.)
    pub async fn delete_record(&self, name: &str) -> Result<bool, SecretError> {
        validate_record_name(name)?;
        let (b, n) = (self.backend.clone(), name.to_string());
        blocking(move || {
            let existed = b.delete(&n)?;
            let mut names = read_index(b.as_ref())?;
            if names.remove(&n) {
                write_index(b.as_ref(), &names)?;
            }
            Ok(existed)
        })
        .await
    }

    /// `text` with every `${secret:NAME}` replaced by the secret's value.
    ///
    /// Errors: the first missing or unreadable secret ([`SecretError::NotSet`], …). Text
    /// without references is returned as is without touching the store.
    pub async fn resolve(&self, text: &str) -> Result<String, SecretError> {
        let names = references(text);
        if names.is_empty() {
            return Ok(text.to_string());
        }
        let mut out = text.to_string();
        for name in names {
            let value = self.get(&name).await?;
            out = out.replace(&format!("${{secret:{name}}}"), &value);
        }
        Ok(out)
    }
}

fn read_index(b: &dyn Backend) -> Result<BTreeSet<String>, SecretError> {
    Ok(b.get(INDEX_ENTRY)?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

fn write_index(b: &dyn Backend, names: &BTreeSet<String>) -> Result<(), SecretError> {
    b.set(
        INDEX_ENTRY,
        &serde_json::to_string(names).expect("names serialize"),
    )
}

/// Keychain calls that are still running past [`CALL_TIMEOUT`] (process-wide).
static STUCK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs a blocking keychain call on the blocking pool, bounded by [`CALL_TIMEOUT`]. A call
/// that times out keeps its thread until the keychain answers; while [`MAX_STUCK_CALLS`] such
/// calls are pending, new ones fail at once with [`SecretError::TimedOut`] instead of piling
/// up threads behind an unlock prompt.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SecretError> + Send + 'static,
) -> Result<T, SecretError> {
    use std::sync::atomic::Ordering;
    if STUCK.load(Ordering::SeqCst) >= MAX_STUCK_CALLS {
        return Err(SecretError::TimedOut);
    }
    // 0 = running, 1 = returned in time, 2 = given up on (counted in STUCK until it returns).
    let state = Arc::new(std::sync::atomic::AtomicU8::new(0));
    let flag = state.clone();
    let mut task = tokio::task::spawn_blocking(move || {
        let out = f();
        if flag
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            STUCK.fetch_sub(1, Ordering::SeqCst);
        }
        out
    });
    let joined = match tokio::time::timeout(CALL_TIMEOUT, &mut task).await {
        Ok(joined) => joined,
        Err(_) => {
            // Counted before it is marked, so the thread's uncounting never comes first.
            STUCK.fetch_add(1, Ordering::SeqCst);
            if state
                .compare_exchange(0, 2, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Err(SecretError::TimedOut);
            }
            // It returned just now: take its answer.
            STUCK.fetch_sub(1, Ordering::SeqCst);
            task.await
        }
    };
    joined.unwrap_or_else(|_| {
        Err(SecretError::Unavailable {
            detail: "the keychain call panicked".into(),
            hint: hint(),
        })
    })
}

/// An in-memory [`Backend`] for unit tests of code that uses secrets (never used by the app).
#[derive(Default)]
pub struct MemoryBackend(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl Backend for MemoryBackend {
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned())
    }
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), value.to_string());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references() {
        assert_eq!(references("Bearer ${secret:GH_TOKEN}"), ["GH_TOKEN"]);
        assert_eq!(
            references("${secret:a}-${secret:b}-${secret:a}"),
            ["a", "b"]
        );
        assert!(references("plain ${HOME} ${secret:unclosed").is_empty());
        assert!(validate_name("srv.GITHUB_TOKEN").is_ok());
        assert!(validate_name("bad name").is_err());
        assert!(validate_name("").is_err());
    }

    #[tokio::test]
    async fn resolves_sets_lists_and_deletes() {
        let store = SecretStore::with_backend(Arc::new(MemoryBackend::default()));
        store.set("K", "v4lue").await.unwrap();
        assert_eq!(
            store.resolve("Bearer ${secret:K}!").await.unwrap(),
            "Bearer v4lue!"
        );
        assert_eq!(store.resolve("no refs").await.unwrap(), "no refs");
        let err = store.resolve("${secret:MISSING}").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret MISSING is not set — run `loopgate secret set MISSING`"
        );
        assert_eq!(
            store.names().await.unwrap().into_iter().collect::<Vec<_>>(),
            ["K"]
        );
        assert!(store.delete("K").await.unwrap());
        assert!(!store.delete("K").await.unwrap());
        assert!(store.names().await.unwrap().is_empty());
    }
}
