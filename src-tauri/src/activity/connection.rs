//! Connections to the activity database that open and close one at a time (ARCHITECTURE.md
//! rule 20).
//!
//! SQLite 3.51.1 (bundled by rusqlite 0.38) can deadlock when two connections of one process
//! to the same WAL database close at the same moment: closing one takes SQLite's global VFS
//! mutex and then the file's lock mutex (`unixClose`), while the other's close checkpoints
//! under an exclusive lock, holding the file's lock mutex while it asks for the global one
//! (`unixLock` → `unixIsSharingShmNode`). The gateway's writer thread and its reader close
//! together when a gateway stops, and two in-process gateways of the test suite did hang
//! there. [`Db`] opens and closes every activity connection under one process-wide lock; in
//! between, connections work as SQLite made them to.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;

/// Held while an activity connection opens or closes.
static OPEN_CLOSE: Mutex<()> = Mutex::new(());

/// A SQLite connection that is opened and closed under `OPEN_CLOSE`; use it as a
/// [`Connection`] (it dereferences to one).
pub struct Db(Option<Connection>);

impl Db {
    /// Opens `path` and runs `set_up` on the new connection (pragmas, schema), both under the
    /// lock.
    ///
    /// Errors: whatever SQLite says (unwritable directory, not a database file, a pragma or
    /// statement `set_up` ran failed).
    pub fn open(
        path: &Path,
        set_up: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<Db> {
        let _one_at_a_time = OPEN_CLOSE.lock().unwrap_or_else(|e| e.into_inner());
        let conn = Connection::open(path)?;
        set_up(&conn)?;
        Ok(Db(Some(conn)))
    }
}

impl std::ops::Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0.as_ref().expect("open until dropped")
    }
}

impl std::ops::DerefMut for Db {
    fn deref_mut(&mut self) -> &mut Connection {
        self.0.as_mut().expect("open until dropped")
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _one_at_a_time = OPEN_CLOSE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = self.0.take() {
            if let Err((_, e)) = conn.close() {
                tracing::warn!("activity log: closing the database failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{mpsc, Arc, Barrier};
    use std::time::Duration;

    fn wal(conn: &Connection) -> rusqlite::Result<()> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    }

    /// Two connections to one WAL database, closed at the same moment from two threads (as a
    /// stopping gateway's writer and reader are), many times: every round finishes.
    #[test]
    fn connections_closed_together_never_deadlock() {
        let dir = tempfile::tempdir().unwrap();
        let (done, finished) = mpsc::channel();
        let path = dir.path().join("a.sqlite3");
        std::thread::spawn(move || {
            for _ in 0..200 {
                let a = Db::open(&path, wal).unwrap();
                let b = Db::open(&path, wal).unwrap();
                a.execute("INSERT INTO t VALUES (1)", []).unwrap();
                let _: i64 = b
                    .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                    .unwrap();
                let start = Arc::new(Barrier::new(2));
                let other = start.clone();
                let closer = std::thread::spawn(move || {
                    other.wait();
                    drop(a);
                });
                start.wait();
                drop(b);
                closer.join().unwrap();
            }
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("200 rounds of closing two connections together finish");
    }
}
