//! The config file on disk: where it lives, first-run defaults, loading, and the one writer.
//!
//! Every change (CLI, web UI, tray) goes through [`Store::update`], which validates the new
//! config, writes it atomically (temp file in the same directory, fsync, rename, fsync of the
//! directory) and then publishes it to subscribers — so there is one writer and a crash
//! mid-write never leaves a truncated file.
//!
//! A write never overwrites changes it has not seen: the store remembers the SHA-256 of the
//! bytes it last read or wrote, and before each write it reads the file again. A valid outside
//! edit (a hand edit, another process's write) is taken as the base of the change; an edit it
//! cannot read, or a removed file, refuses the change with [`ConfigError::Conflict`]. A
//! symlinked config stays a symlink: the file it points to is replaced.
//!
//! The running gateway follows the store ([`Store::follow`]) and says when it has applied each
//! published config; a write returns only then, so whoever wrote (an API request, the tray)
//! reads the servers and lists of the config it wrote, never the ones before it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{watch, Mutex};

use super::model::{Config, ConfigError};

/// File name of the config inside the platform config directory.
pub const CONFIG_FILE_NAME: &str = "config.json";

/// The project names the config directory is derived from (`directories::ProjectDirs`). The
/// desktop app's bundle identifier (`tauri.conf.json`) is the same triple,
/// `dev.loopgate.Loopgate`, but the directory never depends on it: renaming the identifier
/// (it was `dev.loopgate.app`) moved no one's config.
pub const PROJECT: (&str, &str, &str) = ("dev", "loopgate", "Loopgate");

/// The default config path: `<platform config dir>/config.json`
/// (`~/.config/loopgate/` on Linux, `~/Library/Application Support/dev.loopgate.Loopgate/` on
/// macOS, `%APPDATA%\loopgate\Loopgate\config\` on Windows), via the `directories` crate.
///
/// Returns `None` when the platform has no home directory.
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from(PROJECT.0, PROJECT.1, PROJECT.2)
        .map(|d| d.config_dir().join(CONFIG_FILE_NAME))
}

/// The config written on first run: a working gateway with one real MCP server
/// (`@modelcontextprotocol/server-everything` over stdio, fetched by `npx` on first start).
pub fn default_config() -> Config {
    let text = r#"{
  "gateway": { "port": 7337, "bind": "127.0.0.1" },
  "mcpServers": {
    "everything": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-everything@2026.8.31", "stdio"]
    }
  }
}"#;
    Config::parse(text, Path::new("<built-in default>")).expect("built-in default config parses")
}

/// Parses and validates config file bytes read from `path`.
fn parse_bytes(bytes: &[u8], path: &Path) -> Result<Config, ConfigError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ConfigError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    let config = Config::parse(text, path)?;
    config.validate(path)?;
    Ok(config)
}

/// Reads and validates the config at `path`.
///
/// Errors: [`ConfigError::Io`] when unreadable, [`ConfigError::Parse`] with line/column for bad
/// JSON, [`ConfigError::Invalid`] naming server and field for bad values.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let config = Config::parse(&text, path)?;
    config.validate(path)?;
    Ok(config)
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory is written, flushed
/// to disk and renamed over `path`, and the directory is flushed too (Unix), so readers see the
/// old or the new content, never a torn file, and the rename survives a crash. When `path` is
/// a symlink, the file it points to is replaced and the link kept. Creates the parent
/// directory if needed.
///
/// Errors: the OS error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".loopgate-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    // Keep the mode of the file being replaced (a config made private stays private).
    if let Ok(meta) = std::fs::metadata(&target) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The pretty JSON Loopgate writes for `config`.
pub fn to_json(config: &Config) -> String {
    let mut json = serde_json::to_string_pretty(config).expect("config serializes");
    json.push('\n');
    json
}

/// Writes `config` to `path` atomically (see [`write_atomic`]) as pretty JSON.
///
/// Errors: [`ConfigError::Io`] naming `path`.
pub fn save_atomic(path: &Path, config: &Config) -> Result<(), ConfigError> {
    write_atomic(path, to_json(config).as_bytes()).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// SHA-256 of `bytes`: what the store remembers of the file it last read or wrote.
fn fingerprint(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

/// A published config and its number in the order of publication (0: the one the store was
/// opened with).
#[derive(Clone)]
struct Published {
    generation: u64,
    config: Arc<Config>,
}

/// The config file and the one writer of it.
///
/// Cheap to clone; all clones share the current config and the change channel.
#[derive(Clone)]
pub struct Store {
    path: Arc<PathBuf>,
    tx: Arc<watch::Sender<Published>>,
    /// The generation the follower has applied (`None`: nobody follows; see [`Store::follow`]).
    applied: Arc<std::sync::Mutex<Option<watch::Receiver<u64>>>>,
    /// Held while reading-then-writing; holds the fingerprint of the file as last read or
    /// written (`None`: not read from disk, e.g. [`Store::new`]).
    write_lock: Arc<Mutex<Option<[u8; 32]>>>,
    rejected: Arc<std::sync::Mutex<Option<String>>>,
}

impl Store {
    /// Opens the config at `path`, writing [`default_config`] there first if no file exists.
    ///
    /// Returns the store and whether the default was just written.
    /// Errors as [`load`] and [`save_atomic`].
    pub fn open_or_init(path: &Path) -> Result<(Store, bool), ConfigError> {
        let created = if path.exists() {
            false
        } else {
            save_atomic(path, &default_config())?;
            true
        };
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config = parse_bytes(&bytes, path)?;
        let store = Store::new(path.to_path_buf(), config);
        *store.write_lock.try_lock().expect("new store") = Some(fingerprint(&bytes));
        Ok((store, created))
    }

    /// A store over an already loaded config (no disk access; the first write adopts a valid
    /// file found on disk as its base).
    pub fn new(path: PathBuf, config: Config) -> Store {
        let (tx, _) = watch::channel(Published {
            generation: 0,
            config: Arc::new(config),
        });
        Store {
            path: Arc::new(path),
            tx: Arc::new(tx),
            applied: Default::default(),
            write_lock: Arc::new(Mutex::new(None)),
            rejected: Default::default(),
        }
    }

    /// The config file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current config.
    pub fn current(&self) -> Arc<Config> {
        self.tx.borrow().config.clone()
    }

    /// The running gateway's end of the store: [`Follower::next`] yields the current config
    /// and then every newer one; [`Follower::applied`] says the last one took effect. From this
    /// call on, [`Store::update`] returns only once its config has been applied (or the
    /// follower is dropped). One follower per store: a second call replaces the first.
    pub fn follow(&self) -> Follower {
        let mut rx = self.tx.subscribe();
        rx.mark_changed();
        let (applied, seen) = watch::channel(0);
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen);
        Follower {
            rx,
            applied,
            yielded: 0,
        }
    }

    /// Publishes `config` as the next generation and returns that generation. Called with the
    /// write lock held, so generations follow the order of writes.
    fn publish(&self, config: Arc<Config>) -> u64 {
        let mut generation = 0;
        self.tx.send_modify(|p| {
            p.generation += 1;
            p.config = config;
            generation = p.generation;
        });
        generation
    }

    /// Waits until the follower has applied `generation` or a later one; at once when nobody
    /// follows the store or the follower has stopped.
    async fn settled(&self, generation: u64) {
        let applied = self
            .applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(mut applied) = applied {
            let _ = applied.wait_for(|&a| a >= generation).await;
        }
    }

    /// Applies `change` to the config, validates it, writes it atomically and publishes it,
    /// then waits until the follower (if any, see [`Store::follow`]) has applied it — for a
    /// removed or changed server that includes its clean stop (seconds at most). Changes are
    /// serialized; the wait happens outside that order, so a slow stop holds up no other
    /// write. The file is read first: when it changed since Loopgate last read or wrote it, a
    /// valid version is the base of the change (and is published with it); one that cannot be
    /// read refuses the change. If `change`, validation or the write fails, the
    /// file and the live config stay as they were.
    ///
    /// Returns the new config. Errors: whatever `change` returns,
    /// [`ConfigError::Invalid`]/[`ConfigError::Io`], or [`ConfigError::Conflict`] when the file
    /// holds an edit Loopgate cannot read or was removed.
    pub async fn update<F>(&self, change: F) -> Result<Arc<Config>, ConfigError>
    where
        F: FnOnce(&mut Config) -> Result<(), ConfigError>,
    {
        let mut seen = self.write_lock.lock().await;
        let path = self.path.clone();
        let on_disk = tokio::task::spawn_blocking(move || std::fs::read(&*path))
            .await
            .map_err(|e| self.io(std::io::Error::other(e)))?;
        let mut next = match on_disk {
            Ok(bytes) if Some(fingerprint(&bytes)) == *seen => (*self.current()).clone(),
            Ok(bytes) => match parse_bytes(&bytes, &self.path) {
                Ok(edited) => {
                    tracing::info!(
                        "the config file changed outside Loopgate; applying the change on top of that edit"
                    );
                    edited
                }
                Err(e) => {
                    return Err(ConfigError::Conflict {
                        path: self.path.to_path_buf(),
                        why: format!("cannot be read ({e})"),
                    })
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && seen.is_some() => {
                return Err(ConfigError::Conflict {
                    path: self.path.to_path_buf(),
                    why: "was removed".into(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (*self.current()).clone(),
            Err(e) => return Err(self.io(e)),
        };
        change(&mut next)?;
        next.validate(&self.path)?;
        let path = self.path.clone();
        let json = to_json(&next);
        let written = fingerprint(json.as_bytes());
        tokio::task::spawn_blocking(move || write_atomic(&path, json.as_bytes()))
            .await
            .map_err(|e| self.io(std::io::Error::other(e)))?
            .map_err(|e| self.io(e))?;
        *seen = Some(written);
        *self.rejected.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let next = Arc::new(next);
        let generation = self.publish(next.clone());
        drop(seen);
        self.settled(generation).await;
        Ok(next)
    }

    fn io(&self, source: std::io::Error) -> ConfigError {
        ConfigError::Io {
            path: self.path.to_path_buf(),
            source,
        }
    }

    /// Re-reads the file (after an outside edit) and publishes it if it is valid and differs.
    /// An invalid file is refused and the last good config stays active (and later writes
    /// refuse to overwrite it, see [`Store::update`]).
    ///
    /// Returns whether the config changed. Errors as [`load`].
    pub async fn reload(&self) -> Result<bool, ConfigError> {
        let mut seen = self.write_lock.lock().await;
        let path = self.path.clone();
        let read = tokio::task::spawn_blocking(move || std::fs::read(&*path))
            .await
            .map_err(|e| self.io(std::io::Error::other(e)))?;
        let loaded = read
            .map_err(|e| self.io(e))
            .and_then(|bytes| Ok((parse_bytes(&bytes, &self.path)?, fingerprint(&bytes))));
        *self.rejected.lock().unwrap_or_else(|e| e.into_inner()) =
            loaded.as_ref().err().map(|e| e.to_string());
        let (next, print) = loaded?;
        *seen = Some(print);
        if *self.current() == next {
            return Ok(false);
        }
        self.publish(Arc::new(next));
        Ok(true)
    }

    /// Why the last outside edit of the file was refused (`None` once a valid file was read).
    pub fn rejected_edit(&self) -> Option<String> {
        self.rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Enables or disables server `name` (the `disabled` key), through [`Store::update`].
    ///
    /// Errors: [`ConfigError::UnknownServer`] when there is no such server.
    pub async fn set_server_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> Result<Arc<Config>, ConfigError> {
        self.update(|c| {
            let entry = c
                .mcp_servers
                .get_mut(name)
                .ok_or_else(|| ConfigError::UnknownServer(name.to_string()))?;
            entry.disabled = !enabled;
            Ok(())
        })
        .await
    }
}

/// What the running gateway holds to follow a [`Store`] (see [`Store::follow`]).
pub struct Follower {
    rx: watch::Receiver<Published>,
    applied: watch::Sender<u64>,
    yielded: u64,
}

impl Follower {
    /// Waits for a config newer than the last one yielded (the first call yields the current
    /// one). Returns `None` once the store is gone.
    pub async fn next(&mut self) -> Option<Arc<Config>> {
        self.rx.changed().await.ok()?;
        let published = self.rx.borrow_and_update().clone();
        self.yielded = published.generation;
        Some(published.config)
    }

    /// Says the config last yielded by [`Follower::next`] has been applied: the writes that
    /// published it, and those before it, return.
    pub fn applied(&self) {
        self.applied.send_replace(self.yielded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundle identifier is the project triple; the Linux config dir stays `loopgate/`.
    #[test]
    fn the_bundle_identifier_is_the_triple_the_config_dir_comes_from() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap();
        let (q, o, a) = PROJECT;
        assert_eq!(conf["identifier"], format!("{q}.{o}.{a}"));
        #[cfg(target_os = "linux")]
        if let Some(path) = default_config_path() {
            assert!(path.ends_with("loopgate/config.json"), "{}", path.display());
        }
    }

    #[test]
    fn default_config_is_valid_and_enables_one_stdio_server() {
        let c = default_config();
        c.validate(Path::new("x")).unwrap();
        assert_eq!(c.mcp_servers.len(), 1);
        assert!(c.mcp_servers["everything"].command.is_some());
    }

    #[tokio::test]
    async fn first_run_writes_default_and_updates_are_atomic_and_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.json");
        let (store, created) = Store::open_or_init(&path).unwrap();
        assert!(created);
        assert_eq!(load(&path).unwrap(), *store.current());

        let rx = store.tx.subscribe();
        store.set_server_enabled("everything", false).await.unwrap();
        assert!(rx.has_changed().unwrap());
        assert!(load(&path).unwrap().mcp_servers["everything"].disabled);

        // An invalid change is refused and leaves file and live config untouched.
        let before = std::fs::read_to_string(&path).unwrap();
        let err = store
            .update(|c| {
                c.mcp_servers.get_mut("everything").unwrap().url = Some("http://x".into());
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("mcpServers.everything.url"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        assert!(store.current().mcp_servers["everything"].url.is_none());
        assert!(matches!(
            store.set_server_enabled("nope", true).await,
            Err(ConfigError::UnknownServer(_))
        ));
        // No temp files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}

#[cfg(test)]
mod unseen_changes {
    use super::*;

    fn servers(path: &Path) -> Vec<String> {
        load(path).unwrap().mcp_servers.keys().cloned().collect()
    }

    #[tokio::test]
    async fn a_write_builds_on_a_valid_outside_edit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let (store, _) = Store::open_or_init(&path).unwrap();
        // Another process (e.g. `loopgate import`) adds a server; nobody told the store.
        let mut edited = load(&path).unwrap();
        edited.mcp_servers.insert(
            "imported".into(),
            serde_json::from_str(r#"{"command":"x"}"#).unwrap(),
        );
        save_atomic(&path, &edited).unwrap();
        let next = store.set_server_enabled("everything", false).await.unwrap();
        assert_eq!(
            servers(&path),
            ["everything", "imported"],
            "the import survives"
        );
        assert!(next.mcp_servers.contains_key("imported"), "and is live");
        assert!(load(&path).unwrap().mcp_servers["everything"].disabled);
    }

    #[tokio::test]
    async fn an_unreadable_outside_edit_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let (store, _) = Store::open_or_init(&path).unwrap();
        let hand_edit =
            "{ \"mcpServers\": { \"everything\": { \"command\": \"npx\", } } // half done\n";
        std::fs::write(&path, hand_edit).unwrap();
        assert!(store.reload().await.is_err(), "the watcher refuses it");
        let err = store
            .set_server_enabled("everything", false)
            .await
            .unwrap_err();
        assert!(matches!(err, ConfigError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("did not write over it"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), hand_edit);
        // Once fixed, writes work again and keep the fix.
        std::fs::write(
            &path,
            r#"{"mcpServers":{"everything":{"command":"npx"},"mine":{"command":"y"}}}"#,
        )
        .unwrap();
        store.set_server_enabled("everything", false).await.unwrap();
        assert_eq!(servers(&path), ["everything", "mine"]);
        // A removed file is not silently re-created.
        std::fs::remove_file(&path).unwrap();
        let err = store.set_server_enabled("mine", false).await.unwrap_err();
        assert!(err.to_string().contains("was removed"), "{err}");
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_symlinked_config_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/loopgate.json");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        save_atomic(&real, &default_config()).unwrap();
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (store, _) = Store::open_or_init(&link).unwrap();
        store.set_server_enabled("everything", false).await.unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(load(&real).unwrap().mcp_servers["everything"].disabled);
    }
}

#[cfg(test)]
mod following {
    use super::*;
    use std::time::Duration;

    /// A write returns once the follower has applied it (not before), a follower sees the
    /// config it was created with first, and a dropped follower holds up no write.
    #[tokio::test]
    async fn a_write_returns_once_the_follower_applied_it() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open_or_init(&dir.path().join("config.json")).unwrap();
        let mut follower = store.follow();
        assert_eq!(
            follower.next().await.unwrap(),
            store.current(),
            "current first"
        );
        follower.applied();

        let writer = store.clone();
        let write =
            tokio::spawn(async move { writer.set_server_enabled("everything", false).await });
        let yielded = follower.next().await.unwrap();
        assert!(yielded.mcp_servers["everything"].disabled);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !write.is_finished(),
            "returned before the follower applied it"
        );
        follower.applied();
        write.await.unwrap().unwrap();

        drop(follower);
        store.set_server_enabled("everything", true).await.unwrap();
    }
}
