//! The activity log: every request and notification a client sends through the gateway, with
//! who sent it, which server it went to, how it ended and how long it took, kept in SQLite so it
//! survives restarts.
//!
//! - [`Recorder`]: the hot-path handle. [`Recorder::record`] hands an [`Entry`] to a bounded
//!   channel and returns at once; when the channel is full the entry is dropped and counted
//!   ([`Recorder::dropped`]), never waited for. Request and response bodies travel as closures
//!   that serialize them, so JSON encoding, redaction and truncation happen on the writer's
//!   thread, not the request's.
//! - [`writer`]: one thread that owns the write connection, inserts entries in batches (one
//!   transaction per batch) and applies retention ([`crate::config::model::ActivitySettings`]:
//!   age and size) after inserts and once a minute.
//! - [`db`]: the schema and every query (list with filters and a cursor, one call with its
//!   bodies, the rows the figures are computed from).
//! - [`stats`]: per-server and per-tool figures (calls, error rate, p50/p95 latency) and small
//!   time series, computed from rows.
//!
//! The database is `activity.sqlite3` in the platform data directory when the config file is
//! the default one, else beside the config file ([`db_path`]); WAL mode, so the API reads while
//! the writer writes. Bodies are kept for the most recent [`db::KEEP_BODIES`] calls only, each
//! cut at [`db::MAX_BODY_BYTES`], with every registered secret masked ([`crate::redact`]).
//! What the gateway records and where is `gateway::recorded`.

pub mod connection;
pub mod db;
pub mod stats;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::model::ActivitySettings;

/// How many entries wait for the writer at most; beyond it new entries are dropped and counted.
pub const CHANNEL_CAPACITY: usize = 8192;

/// How a recorded request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// A result (for a tool: `isError` false or absent); for a notification: delivered.
    Ok,
    /// A JSON-RPC error answer (from the server or the gateway).
    Error,
    /// A tool result with `isError: true`.
    IsError,
    /// The server did not answer in time.
    Timeout,
    /// The client cancelled the request (or went away before the answer).
    Cancelled,
}

impl Outcome {
    /// The stored and shown name: `ok`, `error`, `isError`, `timeout`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::IsError => "isError",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// The outcome named `s` (as [`Outcome::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Ok,
            Outcome::Error,
            Outcome::IsError,
            Outcome::Timeout,
            Outcome::Cancelled,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    /// Whether it counts as a failure in the figures (everything but `ok`).
    pub fn is_failure(self) -> bool {
        self != Outcome::Ok
    }
}

/// A body to keep: called on the writer's thread to produce the JSON text.
pub type Body = Box<dyn FnOnce() -> String + Send>;

/// One request or notification, as the gateway hands it over.
pub struct Entry {
    /// When it arrived, in ms since the Unix epoch.
    pub ts_ms: i64,
    /// How long it took until the answer, in microseconds (0 for notifications).
    pub duration_us: i64,
    /// Who sent it ([`crate::caller::Caller::label`]: `client:<id>`, `dashboard`, `gateway`,
    /// `anonymous`).
    pub caller: String,
    /// `request` or `notification`.
    pub kind: &'static str,
    /// The JSON-RPC method (`tools/call`, `notifications/cancelled`, …).
    pub method: String,
    /// The server it went to, when it went to one.
    pub server: Option<String>,
    /// The tool or prompt (as the client named it) or the resource URI.
    pub target: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The error's text for `error`, `timeout` and `isError` outcomes.
    pub error: Option<String>,
    /// The request's params.
    pub request: Option<Body>,
    /// The result or error.
    pub response: Option<Body>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("method", &self.method)
            .field("caller", &self.caller)
            .field("server", &self.server)
            .field("target", &self.target)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// What travels to the writer thread.
pub(crate) enum Message {
    /// A call to insert.
    Entry(Box<Entry>),
    /// Answer once everything sent before is written.
    Flush(std::sync::mpsc::Sender<()>),
    /// New settings (retention is applied at once).
    Settings(ActivitySettings),
}

/// The hot-path handle: cheap to clone, never blocks.
#[derive(Clone)]
pub struct Recorder {
    inner: Option<Arc<RecorderInner>>,
}

struct RecorderInner {
    tx: std::sync::mpsc::SyncSender<Message>,
    dropped: AtomicU64,
    enabled: std::sync::atomic::AtomicBool,
    /// The writer thread, woken early by a flush (entries never wake it: see [`writer`]).
    writer: std::thread::Thread,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("enabled", &self.enabled())
            .finish()
    }
}

impl Recorder {
    /// A recorder that records nothing (no database).
    pub fn off() -> Self {
        Self { inner: None }
    }

    /// Whether entries are recorded now (callers skip building them otherwise).
    pub fn enabled(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.enabled.load(Ordering::Relaxed))
    }

    /// Hands `entry` to the writer without waiting; when the queue is full it is dropped and
    /// counted.
    pub fn record(&self, entry: Entry) {
        let Some(inner) = &self.inner else { return };
        if inner.tx.try_send(Message::Entry(Box::new(entry))).is_err() {
            inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Entries dropped because the writer fell behind (or is gone), since start.
    pub fn dropped(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, |i| i.dropped.load(Ordering::Relaxed))
    }
}

/// The activity log of one running gateway: the [`Recorder`] and the read side.
#[derive(Clone)]
pub struct Activity {
    recorder: Recorder,
    reader: Option<Arc<Mutex<connection::Db>>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity")
            .field("path", &self.path)
            .finish()
    }
}

/// Could not open the activity database.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the activity log {path}: {message}")]
pub struct OpenError {
    /// The database file.
    pub path: PathBuf,
    /// What SQLite or the file system said.
    pub message: String,
}

/// Where the activity database of the gateway configured at `config_path` lives: the platform
/// data directory (e.g. `~/.local/share/loopgate/activity.sqlite3`) for the default config file,
/// else `activity.sqlite3` beside the config file (so test and second gateways keep their own).
pub fn db_path(config_path: &Path) -> PathBuf {
    let is_default = crate::config::default_config_path().is_some_and(|d| d == config_path);
    if is_default {
        if let Some(dirs) = directories::ProjectDirs::from("dev", "loopgate", "Loopgate") {
            return dirs.data_dir().join("activity.sqlite3");
        }
    }
    config_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("activity.sqlite3")
}

impl Activity {
    /// An activity log that records nothing and lists nothing.
    pub fn off() -> Self {
        Self {
            recorder: Recorder::off(),
            reader: None,
            path: None,
        }
    }

    /// Opens (creating if needed) the database at `path` with `settings`, applies retention
    /// and starts the writer thread. Recording follows `settings.enabled`; the database is
    /// opened either way so earlier calls stay readable.
    ///
    /// Errors: [`OpenError`] when the directory cannot be created or SQLite cannot open the
    /// file (the gateway then runs without an activity log).
    pub fn open(path: &Path, settings: &ActivitySettings) -> Result<Self, OpenError> {
        let err = |message: String| OpenError {
            path: path.to_path_buf(),
            message,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let write = db::open(path).map_err(|e| err(e.to_string()))?;
        let read = db::open(path).map_err(|e| err(e.to_string()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(CHANNEL_CAPACITY);
        let writer = writer::spawn(write, rx, settings.clone()).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            recorder: Recorder {
                inner: Some(Arc::new(RecorderInner {
                    tx,
                    dropped: AtomicU64::new(0),
                    enabled: settings.is_enabled().into(),
                    writer,
                })),
            },
            reader: Some(Arc::new(Mutex::new(read))),
            path: Some(path.to_path_buf()),
        })
    }

    /// The hot-path handle.
    pub fn recorder(&self) -> Recorder {
        self.recorder.clone()
    }

    /// The database file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Applies changed settings: recording on/off at once, retention on the writer.
    pub fn apply(&self, settings: &ActivitySettings) {
        if let Some(inner) = &self.recorder.inner {
            inner
                .enabled
                .store(settings.is_enabled(), Ordering::Relaxed);
            let _ = inner.tx.try_send(Message::Settings(settings.clone()));
        }
    }

    /// Waits (at most `within`) until every entry recorded before this call is in the
    /// database. Returns false on timeout or without a database.
    pub async fn flush(&self, within: Duration) -> bool {
        let Some(inner) = &self.recorder.inner else {
            return false;
        };
        let (done, rx) = std::sync::mpsc::channel();
        let tx = inner.tx.clone();
        let writer = inner.writer.clone();
        tokio::task::spawn_blocking(move || {
            // `send` waits while the queue is full; the writer drains it. A writer waiting out
            // its batch window is woken at once.
            let sent = tx.send(Message::Flush(done)).is_ok();
            writer.unpark();
            sent && rx.recv_timeout(within).is_ok()
        })
        .await
        .unwrap_or(false)
    }

    /// Runs `f` on the read connection off the async threads. `None` without a database.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Option<rusqlite::Result<T>> {
        let reader = self.reader.clone()?;
        tokio::task::spawn_blocking(move || {
            let conn = reader.lock().unwrap_or_else(|e| e.into_inner());
            f(&conn)
        })
        .await
        .ok()
    }
}

tokio::task_local! {
    /// Set while a recorded request runs: whether its server timed out (see [`note_timeout`]).
    pub static TIMED_OUT: Arc<std::sync::atomic::AtomicBool>;
}

/// Marks the request running in this task as timed out (its server did not answer in time),
/// so the activity log records `timeout` rather than a plain error; a no-op outside a recorded
/// request.
pub fn note_timeout() {
    let _ = TIMED_OUT.try_with(|t| t.store(true, Ordering::Relaxed));
}

/// Now, in ms since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
