//! Following hand edits of the config file while the gateway runs.
//!
//! The parent directory is watched with `notify` (editors and Loopgate itself replace the file
//! by rename). Creations, modifications and removals of the file (not mere reads) are
//! debounced: [`DEBOUNCE`] after the last one, the [`super::Store`] re-reads the file. A
//! valid edit takes effect at once; an invalid one is refused with the reason logged and kept
//! in [`Store::rejected_edit`](super::Store::rejected_edit), and the last good config stays
//! active. Loopgate's own writes read back unchanged and are ignored.

use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::task::JoinHandle;

use super::{ConfigError, Store};

/// Quiet time after the last file event before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// A running watcher; dropping it stops watching.
pub struct ConfigWatcher {
    _watcher: RecommendedWatcher,
    task: JoinHandle<()>,
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts watching the file behind `store`.
///
/// Errors: [`ConfigError::Io`] when the directory cannot be watched (e.g. inotify limits).
pub fn watch(store: Store) -> Result<ConfigWatcher, ConfigError> {
    let path = store.path().to_path_buf();
    let io = |e: notify::Error| ConfigError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let file_name = path.file_name().map(|n| n.to_os_string());
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        let Ok(event) = result else { return };
        let edit = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
        );
        if edit
            && event
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_os_string()) == file_name)
        {
            let _ = tx.try_send(());
        }
    })
    .map_err(io)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    watcher
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(io)?;
    let task = tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Debounce: wait until the file has been quiet for DEBOUNCE.
            while tokio::time::timeout(DEBOUNCE, rx.recv())
                .await
                .is_ok_and(|m| m.is_some())
            {}
            match store.reload().await {
                Ok(true) => {
                    tracing::info!("config file changed; applied {}", store.path().display())
                }
                Ok(false) => {}
                Err(ConfigError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    tracing::warn!(
                        "config file {} was removed; keeping the running config",
                        store.path().display()
                    )
                }
                Err(e) => {
                    tracing::error!("config file edit refused, keeping the last good config: {e}")
                }
            }
        }
    });
    Ok(ConfigWatcher {
        _watcher: watcher,
        task,
    })
}
