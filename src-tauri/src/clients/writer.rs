//! Editing a client's MCP config file: add or remove Loopgate's entry, read the servers it
//! has, replace them by Loopgate.
//!
//! Every other key is kept (in order); a write happens only when the content changes, is
//! atomic (temp file + rename), and is preceded by a backup of the previous file,
//! `<file>.loopgate-backup-<unix ms>`, readable by the user only (it may hold API keys that an
//! import moved to the keychain); the newest [`KEEP_BACKUPS`] backups of a file are kept. A
//! file that is not plain JSON (e.g. has comments) is left alone with an error saying so.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::{Client, ENTRY_NAME};
use crate::config::store::write_atomic;

/// What went wrong with a client's file.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No home directory to find the file in.
    #[error("cannot find {0}'s config file (no home directory)")]
    NoPath(&'static str),
    /// Reading, backing up or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The client's file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON Loopgate can edit safely.
    #[error("{path} is not plain JSON ({message}); edit it by hand or fix it first — Loopgate left it unchanged")]
    NotJson {
        /// The client's file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
}

/// The result of an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file already had the wanted content; nothing was written.
    Unchanged,
    /// The file was written; the previous content (if any) is in `backup`.
    Written {
        /// The backup of the previous file, if there was one.
        backup: Option<PathBuf>,
    },
}

fn path_of(client: &Client) -> Result<PathBuf, ClientError> {
    client.config_path().ok_or(ClientError::NoPath(client.name))
}

/// Reads the client's file as a JSON object (`{}` when it does not exist).
fn read(path: &Path) -> Result<Map<String, Value>, ClientError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(source) => {
            return Err(ClientError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ClientError::NotJson {
            path: path.to_path_buf(),
            message: "the top level is not an object".into(),
        }),
        Err(e) => Err(ClientError::NotJson {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// How many backups of one client file are kept (the oldest beyond it are deleted).
pub const KEEP_BACKUPS: usize = 5;

/// Copies `path` to `<path>.loopgate-backup-<unix ms>`, readable and writable by the user only
/// (mode 0600 on Unix), and deletes all but the newest [`KEEP_BACKUPS`] backups of `path`.
/// Returns the new backup's path.
///
/// Errors: the OS error reading `path` or writing the backup.
pub fn backup(path: &Path) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let bytes = std::fs::read(path)?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!("{file_name}.loopgate-backup-");
    let mut ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let (backup, mut file) = loop {
        let candidate = path.with_file_name(format!("{prefix}{ms}"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&candidate) {
            Ok(f) => break (candidate, f),
            // Two backups within one millisecond: take the next.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => ms += 1,
            Err(e) => return Err(e),
        }
    };
    file.write_all(&bytes)?;
    file.sync_all()?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut old: Vec<(u128, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stamp = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((stamp, e.path()))
        })
        .collect();
    old.sort();
    let excess = old.len().saturating_sub(KEEP_BACKUPS);
    for (_, p) in old.into_iter().take(excess) {
        let _ = std::fs::remove_file(p);
    }
    Ok(backup)
}

/// Backs up the current file (if any), then writes `doc` atomically.
fn write(path: &Path, doc: &Map<String, Value>) -> Result<Change, ClientError> {
    let io = |source| ClientError::Io {
        path: path.to_path_buf(),
        source,
    };
    let backup = if path.exists() {
        Some(backup(path).map_err(io)?)
    } else {
        None
    };
    let mut text = serde_json::to_string_pretty(doc).expect("JSON serializes");
    text.push('\n');
    write_atomic(path, text.as_bytes()).map_err(io)?;
    Ok(Change::Written { backup })
}

/// The client's servers object in `doc`, created if missing.
fn servers_mut<'a>(
    doc: &'a mut Map<String, Value>,
    client: &Client,
    path: &Path,
) -> Result<&'a mut Map<String, Value>, ClientError> {
    let key = client.format.servers_key();
    doc.entry(key)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| ClientError::NotJson {
            path: path.to_path_buf(),
            message: format!("\"{key}\" is not an object"),
        })
}

/// Whether the client's file has Loopgate's entry.
pub fn is_wired(client: &Client) -> Result<bool, ClientError> {
    let doc = read(&path_of(client)?)?;
    Ok(doc
        .get(client.format.servers_key())
        .and_then(|s| s.get(ENTRY_NAME))
        .is_some())
}

/// Adds (or updates) Loopgate's `entry` in the client's file.
pub fn install(client: &Client, entry: Value) -> Result<Change, ClientError> {
    let path = path_of(client)?;
    let mut doc = read(&path)?;
    let servers = servers_mut(&mut doc, client, &path)?;
    if servers.get(ENTRY_NAME) == Some(&entry) {
        return Ok(Change::Unchanged);
    }
    servers.insert(ENTRY_NAME.to_string(), entry);
    write(&path, &doc)
}

/// Removes Loopgate's entry (and the servers object, if that leaves it empty).
pub fn uninstall(client: &Client) -> Result<Change, ClientError> {
    let path = path_of(client)?;
    let mut doc = read(&path)?;
    let key = client.format.servers_key();
    let Some(servers) = doc.get_mut(key).and_then(Value::as_object_mut) else {
        return Ok(Change::Unchanged);
    };
    if servers.remove(ENTRY_NAME).is_none() {
        return Ok(Change::Unchanged);
    }
    if servers.is_empty() {
        doc.remove(key);
    }
    write(&path, &doc)
}

/// The servers configured in the client, except Loopgate's own entry.
pub fn servers(client: &Client) -> Result<IndexMap<String, Value>, ClientError> {
    let doc = read(&path_of(client)?)?;
    Ok(doc
        .get(client.format.servers_key())
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != ENTRY_NAME)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default())
}

/// Removes `names` from the client and adds Loopgate's `entry` instead, in one write.
pub fn replace(client: &Client, names: &[String], entry: Value) -> Result<Change, ClientError> {
    let path = path_of(client)?;
    let mut doc = read(&path)?;
    let servers = servers_mut(&mut doc, client, &path)?;
    for n in names {
        servers.remove(n);
    }
    servers.insert(ENTRY_NAME.to_string(), entry);
    write(&path, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_private_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        std::fs::write(
            &path,
            r#"{"mcpServers":{"x":{"env":{"API_KEY":"literal"}}}}"#,
        )
        .unwrap();
        let mut made = Vec::new();
        for _ in 0..KEEP_BACKUPS + 3 {
            made.push(backup(&path).unwrap());
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p != &path)
            .collect();
        assert_eq!(left.len(), KEEP_BACKUPS, "{left:?}");
        assert!(left.contains(made.last().unwrap()), "the newest is kept");
        assert!(!left.contains(&made[0]), "the oldest is gone");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(made.last().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::read(made.last().unwrap()).unwrap(),
            std::fs::read(&path).unwrap()
        );
    }
}
