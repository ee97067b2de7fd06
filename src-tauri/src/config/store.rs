//! The config file on disk: where it lives, first-run defaults, loading, and the one writer.
//!
//! Every change (CLI, web UI, tray) goes through [`Store::update`], which validates the new
//! config, writes it atomically (temp file in the same directory, fsync, rename) and then
//! publishes it to subscribers — so there is one writer and a crash mid-write never leaves a
//! truncated file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{watch, Mutex};

use super::model::{Config, ConfigError};

/// File name of the config inside the platform config directory.
pub const CONFIG_FILE_NAME: &str = "config.json";

/// The default config path: `<platform config dir>/config.json`
/// (`~/.config/loopgate/` on Linux, `~/Library/Application Support/dev.loopgate.Loopgate/` on
/// macOS, `%APPDATA%\loopgate\Loopgate\config\` on Windows), via the `directories` crate.
///
/// Returns `None` when the platform has no home directory.
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "loopgate", "Loopgate")
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
/// to disk and renamed over `path`, so readers see the old or the new content, never a torn
/// file. Creates the parent directory if needed.
///
/// Errors: the OS error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".loopgate-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `config` to `path` atomically (see [`write_atomic`]) as pretty JSON.
///
/// Errors: [`ConfigError::Io`] naming `path`.
pub fn save_atomic(path: &Path, config: &Config) -> Result<(), ConfigError> {
    let mut json = serde_json::to_string_pretty(config).expect("config serializes");
    json.push('\n');
    write_atomic(path, json.as_bytes()).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The config file and the one writer of it.
///
/// Cheap to clone; all clones share the current config and the change channel.
#[derive(Clone)]
pub struct Store {
    path: Arc<PathBuf>,
    tx: Arc<watch::Sender<Arc<Config>>>,
    write_lock: Arc<Mutex<()>>,
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
        let config = load(path)?;
        Ok((Store::new(path.to_path_buf(), config), created))
    }

    /// A store over an already loaded config (no disk access).
    pub fn new(path: PathBuf, config: Config) -> Store {
        let (tx, _) = watch::channel(Arc::new(config));
        Store {
            path: Arc::new(path),
            tx: Arc::new(tx),
            write_lock: Arc::new(Mutex::new(())),
            rejected: Default::default(),
        }
    }

    /// The config file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current config.
    pub fn current(&self) -> Arc<Config> {
        self.tx.borrow().clone()
    }

    /// A receiver that sees every config published after this call.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Config>> {
        self.tx.subscribe()
    }

    /// Applies `change` to a copy of the current config, validates it, writes it atomically and
    /// publishes it. Changes are serialized; if `change`, validation or the write fails, the file
    /// and the live config stay as they were.
    ///
    /// Returns the new config. Errors: whatever `change` returns, or
    /// [`ConfigError::Invalid`]/[`ConfigError::Io`].
    pub async fn update<F>(&self, change: F) -> Result<Arc<Config>, ConfigError>
    where
        F: FnOnce(&mut Config) -> Result<(), ConfigError>,
    {
        let _guard = self.write_lock.lock().await;
        let mut next = (*self.current()).clone();
        change(&mut next)?;
        next.validate(&self.path)?;
        let path = self.path.clone();
        let to_write = next.clone();
        tokio::task::spawn_blocking(move || save_atomic(&path, &to_write))
            .await
            .map_err(|e| ConfigError::Io {
                path: self.path.to_path_buf(),
                source: std::io::Error::other(e),
            })??;
        let next = Arc::new(next);
        self.tx.send_replace(next.clone());
        Ok(next)
    }

    /// Re-reads the file (after an outside edit) and publishes it if it is valid and differs.
    /// An invalid file is refused and the last good config stays active.
    ///
    /// Returns whether the config changed. Errors as [`load`].
    pub async fn reload(&self) -> Result<bool, ConfigError> {
        let _guard = self.write_lock.lock().await;
        let path = self.path.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&path))
            .await
            .map_err(|e| ConfigError::Io {
                path: self.path.to_path_buf(),
                source: std::io::Error::other(e),
            })?;
        *self.rejected.lock().unwrap_or_else(|e| e.into_inner()) =
            loaded.as_ref().err().map(|e| e.to_string());
        let next = loaded?;
        if *self.current() == next {
            return Ok(false);
        }
        self.tx.send_replace(Arc::new(next));
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

#[cfg(test)]
mod tests {
    use super::*;

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

        let rx = store.subscribe();
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
