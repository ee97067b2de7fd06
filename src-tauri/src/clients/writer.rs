//! Editing a client's MCP config file: add or remove Loopgate's entry, read the servers it
//! has, replace them by Loopgate.
//!
//! The file is parsed in its own syntax ([`super::jsonc`], [`super::toml`], [`super::yaml`]) and
//! only Loopgate's entry (or the imported ones) is changed: every other key, comment and blank
//! line stays as it was; an uninstall writes back the bytes the file had before the install
//! when nothing else in it changed since (see [`uninstall`]). A
//! write happens only when the content changes, never over a change made since the file was
//! read (the edit is refused, nothing is lost), is atomic (temp file + rename), and is preceded
//! by a backup of the previous file, `<file>.loopgate-backup-<unix ms>`, readable by the user
//! only (it may hold API keys that an import moved to the keychain); the newest
//! [`KEEP_BACKUPS`] backups of a file are kept. A file Loopgate cannot parse is left alone with
//! an error saying so.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use serde_json::Value;

use super::{Client, ConfigDoc, Format, Syntax, ENTRY_NAME};
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
    /// The file is not something Loopgate can edit safely.
    #[error("{path} cannot be edited safely ({message}); edit it by hand or fix it first — Loopgate left it unchanged")]
    NotJson {
        /// The client's file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The file changed between Loopgate reading it and writing it.
    #[error("{path} changed while Loopgate was editing it; nothing was written — try again")]
    Changed {
        /// The client's file.
        path: PathBuf,
    },
    /// The action needs something this client's file cannot do.
    #[error("{0}")]
    Unsupported(String),
}

/// The result of an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file already had the wanted content; nothing was written.
    Unchanged,
    /// The file was written (or, for a file Loopgate owns, deleted); the previous content (if
    /// any) is in `backup`.
    Written {
        /// The backup of the previous file, if there was one.
        backup: Option<PathBuf>,
    },
}

fn path_of(client: &Client) -> Result<PathBuf, ClientError> {
    client.config_path().ok_or(ClientError::NoPath(client.name))
}

/// The file's bytes, `None` when it does not exist.
fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, ClientError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ClientError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parses `text` in `syntax`.
pub fn parse(syntax: Syntax, text: &str) -> Result<Box<dyn ConfigDoc>, String> {
    Ok(match syntax {
        Syntax::Json => Box::new(super::jsonc::JsonDoc::parse(text)?),
        Syntax::Toml => Box::new(super::toml::TomlDoc::parse(text)?),
        Syntax::Yaml => Box::new(super::yaml::YamlDoc::parse(text)?),
    })
}

/// A client's file as read: its bytes (`None`: no file) and the parsed document.
struct Read {
    path: PathBuf,
    bytes: Option<Vec<u8>>,
    doc: Box<dyn ConfigDoc>,
}

fn read(client: &Client) -> Result<Read, ClientError> {
    let path = path_of(client)?;
    let bytes = read_bytes(&path)?;
    let not_editable = |message: String| ClientError::NotJson {
        path: path.clone(),
        message,
    };
    let text = match &bytes {
        Some(b) => std::str::from_utf8(b)
            .map_err(|e| not_editable(format!("not UTF-8: {e}")))?
            .to_string(),
        None => String::new(),
    };
    let doc = parse(client.format.syntax(), &text).map_err(not_editable)?;
    Ok(Read { path, bytes, doc })
}

impl Read {
    fn not_editable(&self, message: String) -> ClientError {
        ClientError::NotJson {
            path: self.path.clone(),
            message,
        }
    }

    /// Writes the document if it changed, after checking nobody changed the file since it was
    /// read; a file Loopgate owns is deleted when nothing is left in it.
    fn commit(self, owned: bool) -> Result<Change, ClientError> {
        let text = self.doc.text();
        self.commit_text(text, owned)
    }

    /// Writes `text` (see [`Read::commit`]); deletes the file instead when `delete_if_empty` and
    /// the document holds nothing.
    fn commit_text(self, text: String, delete_if_empty: bool) -> Result<Change, ClientError> {
        let delete = delete_if_empty && self.doc.is_empty();
        let same = match &self.bytes {
            Some(b) => !delete && b == text.as_bytes(),
            None => delete,
        };
        if same {
            return Ok(Change::Unchanged);
        }
        let io = |source| ClientError::Io {
            path: self.path.clone(),
            source,
        };
        if read_bytes(&self.path)? != self.bytes {
            return Err(ClientError::Changed { path: self.path });
        }
        let backup = match &self.bytes {
            Some(_) => Some(backup(&self.path).map_err(io)?),
            None => None,
        };
        if delete {
            std::fs::remove_file(&self.path).map_err(io)?;
        } else {
            write_atomic(&self.path, text.as_bytes()).map_err(io)?;
        }
        Ok(Change::Written { backup })
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
    let old = backups_of(path);
    let excess = old.len().saturating_sub(KEEP_BACKUPS);
    for p in old.into_iter().take(excess) {
        let _ = std::fs::remove_file(p);
    }
    Ok(backup)
}

/// Whether Loopgate owns the whole file (Continue's drop-in), so it is deleted when empty.
fn owned(client: &Client) -> bool {
    client.format == Format::ContinueDropIn
}

/// Loopgate's entry in the client's file, `None` when it has none.
pub fn entry(client: &Client) -> Result<Option<Value>, ClientError> {
    let r = read(client)?;
    let mut servers = r
        .doc
        .servers(client.format.servers_key())
        .map_err(|m| r.not_editable(m))?;
    Ok(servers.swap_remove(ENTRY_NAME))
}

/// Whether the client's file has Loopgate's entry.
pub fn is_wired(client: &Client) -> Result<bool, ClientError> {
    Ok(entry(client)?.is_some())
}

/// Adds (or updates) Loopgate's `entry` in the client's file.
pub fn install(client: &Client, entry: &Value) -> Result<Change, ClientError> {
    let mut r = read(client)?;
    let key = client.format.servers_key();
    let servers = r.doc.servers(key).map_err(|m| r.not_editable(m))?;
    if servers.get(ENTRY_NAME) == Some(entry) {
        return Ok(Change::Unchanged);
    }
    r.doc
        .set(key, ENTRY_NAME, entry)
        .map_err(|m| r.not_editable(m))?;
    r.commit(owned(client))
}

/// Removes Loopgate's entry (and the servers object, if that leaves it empty).
pub fn uninstall(client: &Client) -> Result<Change, ClientError> {
    let mut r = read(client)?;
    let key = client.format.servers_key();
    if !r
        .doc
        .remove(key, ENTRY_NAME)
        .map_err(|m| r.not_editable(m))?
    {
        return Ok(Change::Unchanged);
    }
    let text = previous_text(client, &r.path, r.doc.as_ref()).unwrap_or_else(|| r.doc.text());
    // A file nobody but Loopgate ever wrote (no backup of it exists: every earlier content was
    // backed up before Loopgate's writes) is deleted when nothing is left in it.
    let created_by_loopgate = backups_of(&r.path).is_empty();
    r.commit_text(text, owned(client) || created_by_loopgate)
}

/// The backups of `path`, oldest first.
fn backups_of(path: &Path) -> Vec<PathBuf> {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return vec![];
    };
    let prefix = format!("{name}.loopgate-backup-");
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut found: Vec<(u128, PathBuf)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let stamp = e
                        .file_name()
                        .to_string_lossy()
                        .strip_prefix(&prefix)?
                        .parse()
                        .ok()?;
                    Some((stamp, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

/// The document's content with an empty servers map left out (install may have added it).
fn normalized(client: &Client, doc: &dyn ConfigDoc) -> Value {
    let mut v = doc.value();
    let key = client.format.servers_key();
    if let Some(m) = v.as_object_mut() {
        if m.get(key)
            .is_some_and(|s| s.as_object().is_some_and(|o| o.is_empty()) || s.is_null())
        {
            m.remove(key);
        }
    }
    v
}

/// The comments of `text` in order (outside strings): `//` and `/* */` in JSON, `#` in TOML
/// and YAML.
fn comments(syntax: Syntax, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' && q == '"' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |n| from + n);
        match (syntax, c, chars.peek().map(|p| p.1)) {
            (_, '"' | '\'', _) => quote = Some(c),
            (Syntax::Json, '/', Some('/')) | (Syntax::Toml | Syntax::Yaml, '#', _) => {
                let end = line_end(i);
                out.push(text[i..end].trim_end().to_string());
                while chars.peek().is_some_and(|p| p.0 < end) {
                    chars.next();
                }
            }
            (Syntax::Json, '/', Some('*')) => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
                out.push(text[i..end].to_string());
                while chars.peek().is_some_and(|p| p.0 < end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    out
}

/// The bytes the file had before Loopgate was installed, when its content then is exactly
/// `doc`'s now, comments included: the newest backup that says the same. Uninstall writes
/// these, so the file comes back byte for byte (a one-line object stays one line, an empty
/// `"mcpServers": {}` stays) whenever nothing else changed in it since; a comment or a key the
/// user added in the meantime keeps the edited text instead.
fn previous_text(client: &Client, path: &Path, doc: &dyn ConfigDoc) -> Option<String> {
    let want = normalized(client, doc);
    let syntax = client.format.syntax();
    let want_comments = comments(syntax, &doc.text());
    backups_of(path).into_iter().rev().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        let old = parse(syntax, &text).ok()?;
        let same =
            normalized(client, old.as_ref()) == want && comments(syntax, &text) == want_comments;
        same.then_some(text)
    })
}

/// The servers configured in the client, except Loopgate's own entry. For Continue, whose
/// file is Loopgate's own, the servers of its `config.yaml` and of the other drop-in files.
pub fn servers(client: &Client) -> Result<IndexMap<String, Value>, ClientError> {
    if owned(client) {
        return super::yaml::continue_servers(&path_of(client)?)
            .map_err(|(path, message)| ClientError::NotJson { path, message });
    }
    let r = read(client)?;
    let mut all = r
        .doc
        .servers(client.format.servers_key())
        .map_err(|m| r.not_editable(m))?;
    all.shift_remove(ENTRY_NAME);
    Ok(all)
}

/// Removes `names` from the client and adds Loopgate's `entry` instead, in one write.
pub fn replace(client: &Client, names: &[String], entry: &Value) -> Result<Change, ClientError> {
    if owned(client) {
        return Err(ClientError::Unsupported(format!(
            "{} keeps its servers in files Loopgate does not edit; remove {} there yourself, then run `loopgate client install {}`",
            client.name,
            names.join(", "),
            client.id
        )));
    }
    let mut r = read(client)?;
    let key = client.format.servers_key();
    for n in names {
        r.doc.remove(key, n).map_err(|m| r.not_editable(m))?;
    }
    r.doc
        .set(key, ENTRY_NAME, entry)
        .map_err(|m| r.not_editable(m))?;
    r.commit(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_made_since_the_read_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{\"a\": 1}\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut doc = parse(Syntax::Json, &text).unwrap();
        doc.set("mcpServers", ENTRY_NAME, &serde_json::json!({"url": "u"}))
            .unwrap();
        let r = Read {
            path: path.clone(),
            bytes: Some(text.into_bytes()),
            doc,
        };
        // The user saves the file in their editor meanwhile.
        std::fs::write(&path, "{\"a\": 2}\n").unwrap();
        assert!(matches!(r.commit(false), Err(ClientError::Changed { .. })));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 2}\n");
        assert!(
            backups_of(&path).is_empty(),
            "nothing was backed up or written"
        );
    }

    #[test]
    fn comments_outside_strings() {
        let json = "// a\n{\"u\": \"http://x//y\", /* b */ \"s\": \"/* no */\"} // c\n";
        assert_eq!(comments(Syntax::Json, json), ["// a", "/* b */", "// c"]);
        let toml = "a = \"x # no\" # yes\n# line\nb = 'c#d'\n";
        assert_eq!(comments(Syntax::Toml, toml), ["# yes", "# line"]);
    }

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
