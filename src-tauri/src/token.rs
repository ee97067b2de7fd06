//! The gateway access token: a random bearer token clients must send to `/mcp` and `/api`.
//!
//! Generated on first run (32 random bytes, hex) and kept in a file `token` beside the config
//! file, readable only by the user (mode 0600 on Unix). `loopgate token` prints it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors reading or creating the token file.
#[derive(Debug, thiserror::Error)]
#[error("access token file {path}: {source}")]
pub struct TokenError {
    /// The token file.
    pub path: PathBuf,
    /// What the OS said.
    #[source]
    pub source: std::io::Error,
}

/// Where the token for the config at `config_path` lives: `token` in the same directory.
pub fn token_path(config_path: &Path) -> PathBuf {
    config_path.parent().unwrap_or(Path::new(".")).join("token")
}

/// Reads the token for `config_path`, if one was created.
///
/// Errors: [`TokenError`] when the file exists but cannot be read, or is empty.
pub fn read(config_path: &Path) -> Result<Option<String>, TokenError> {
    let path = token_path(config_path);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
        Ok(_) => Err(TokenError {
            path,
            source: std::io::Error::other("the file is empty; delete it to make a new token"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TokenError { path, source }),
    }
}

/// Reads the token for `config_path`, creating a new random one (owner-only file) if none exists.
///
/// Errors: [`TokenError`] when the file cannot be read or written.
pub fn load_or_create(config_path: &Path) -> Result<String, TokenError> {
    if let Some(token) = read(config_path)? {
        return Ok(token);
    }
    let path = token_path(config_path);
    let token = generate();
    let err = |source| TokenError {
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
            read(config_path)?.ok_or_else(|| err(e))
        }
        Err(e) => Err(err(e)),
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
    use super::*;

    #[test]
    fn created_once_then_reused_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        assert_eq!(read(&cfg).unwrap(), None);
        let t = load_or_create(&cfg).unwrap();
        assert_eq!(t.len(), 64);
        assert_eq!(load_or_create(&cfg).unwrap(), t);
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
}
