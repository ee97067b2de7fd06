//! The writer thread: owns the write connection, takes entries off the channel in batches
//! (everything queued, up to [`MAX_BATCH`], in one transaction) and applies retention when the
//! database outgrows its size limit, after [`PRUNE_EVERY`] inserted calls, on a flush and at
//! least once a minute. It ends when every
//! [`super::Recorder`] is gone.
//!
//! It costs the calls it records nothing they can feel: after the first entry of a batch it
//! waits out [`BATCH_WINDOW`] parked — entries queued meanwhile do not wake it (a parked thread
//! is no channel receiver), only a flush does — and then writes the whole batch in one
//! transaction. So a busy gateway wakes it about five times a second, not once per call, and
//! its work (encoding, redaction, SQLite) happens in a few bursts instead of beside every call.

use std::time::{Duration, Instant};

use rusqlite::Connection;
use std::sync::mpsc::{Receiver, RecvTimeoutError};

use super::{db, now_ms, Message};
use crate::config::model::ActivitySettings;

/// How long the writer collects entries before writing them (entries appear in the log at
/// most this much later).
pub const BATCH_WINDOW: Duration = Duration::from_millis(200);
/// Most entries written in one transaction.
pub const MAX_BATCH: usize = 512;
/// Retention runs after this many inserted calls.
pub const PRUNE_EVERY: usize = 1000;
/// Retention runs at least this often.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Starts the writer thread over `conn`, reading `rx`; returns the thread (a flush unparks it).
/// Retention runs once at start.
///
/// Errors: the thread could not be spawned.
pub(crate) fn spawn(
    conn: super::connection::Db,
    rx: Receiver<Message>,
    settings: ActivitySettings,
) -> std::io::Result<std::thread::Thread> {
    std::thread::Builder::new()
        .name("loopgate-activity".into())
        .spawn(move || run(conn, rx, settings))
        .map(|h| h.thread().clone())
}

fn prune(conn: &Connection, settings: &ActivitySettings) {
    let oldest = now_ms() - settings.retention().as_millis() as i64;
    match db::prune(conn, oldest, settings.max_bytes()) {
        Ok(p) if p.by_age + p.by_size > 0 => tracing::debug!(
            by_age = p.by_age,
            by_size = p.by_size,
            "activity log: old calls deleted"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("activity log: retention failed: {e}"),
    }
}

fn run(mut conn: super::connection::Db, rx: Receiver<Message>, mut settings: ActivitySettings) {
    prune(&conn, &settings);
    let mut since_prune = 0usize;
    let mut last_prune = Instant::now();
    let mut failed_once = false;
    loop {
        // Wait for work, but wake up for the periodic retention pass.
        let first = match rx.recv_timeout(PRUNE_INTERVAL) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                prune(&conn, &settings);
                last_prune = Instant::now();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let mut take = |m: Message, batch: &mut Vec<_>, flushes: &mut Vec<_>| match m {
            Message::Entry(e) => batch.push(*e),
            Message::Flush(done) => flushes.push(done),
            Message::Settings(s) => settings = s,
        };
        take(first, &mut batch, &mut flushes);
        if flushes.is_empty() {
            // Collect the batch without being woken per entry (a flush unparks early).
            let until = Instant::now() + BATCH_WINDOW;
            'window: while let Some(left) = until.checked_duration_since(Instant::now()) {
                std::thread::park_timeout(left);
                while let Ok(m) = rx.try_recv() {
                    take(m, &mut batch, &mut flushes);
                    if !flushes.is_empty() || batch.len() >= MAX_BATCH {
                        break 'window;
                    }
                }
            }
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => take(m, &mut batch, &mut flushes),
                Err(_) => break,
            }
        }
        let n = batch.len();
        if n > 0 {
            match db::insert(&mut conn, batch) {
                Ok(_) => failed_once = false,
                Err(e) if !failed_once => {
                    failed_once = true;
                    tracing::warn!("activity log: could not write {n} calls: {e}");
                }
                Err(_) => {}
            }
            since_prune += n;
        }
        if since_prune >= PRUNE_EVERY
            || last_prune.elapsed() >= PRUNE_INTERVAL
            || !flushes.is_empty()
        {
            prune(&conn, &settings);
            since_prune = 0;
            last_prune = Instant::now();
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
