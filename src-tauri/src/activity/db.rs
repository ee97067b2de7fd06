//! The activity database: schema, inserts, retention and queries (plain functions over a
//! `rusqlite::Connection`; the writer thread and the API's read connection call them).
//!
//! Tables:
//! - `calls`: one row per request or notification (`id` grows and is never reused, so it is
//!   the list's cursor).
//! - `bodies`: the request and response JSON of the most recent [`KEEP_BODIES`] calls.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::Serialize;

use super::connection::Db;
use super::{Entry, Outcome};

/// Bodies are kept for this many most recent calls.
pub const KEEP_BODIES: i64 = 2000;
/// A body longer than this many bytes is cut (and marked as cut).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most rows one list request returns.
pub const MAX_PAGE: usize = 500;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    duration_us INTEGER NOT NULL,
    caller TEXT NOT NULL,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    server TEXT,
    target TEXT,
    outcome TEXT NOT NULL,
    error TEXT,
    request_bytes INTEGER NOT NULL DEFAULT 0,
    response_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS calls_ts ON calls(ts_ms);
CREATE INDEX IF NOT EXISTS calls_server ON calls(server, id);
CREATE TABLE IF NOT EXISTS bodies (
    id INTEGER PRIMARY KEY,
    request TEXT,
    response TEXT,
    request_truncated INTEGER NOT NULL DEFAULT 0,
    response_truncated INTEGER NOT NULL DEFAULT 0
);
";

/// Most memory SQLite's page cache takes per connection, in KiB.
pub const CACHE_KIB: i64 = 256;

/// Opens `path` in WAL mode with incremental vacuum and the schema in place.
///
/// Errors: whatever SQLite says (unwritable directory, not a database file).
pub fn open(path: &std::path::Path) -> rusqlite::Result<Db> {
    Db::open(path, |conn| {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // auto_vacuum only takes effect on a new database (before the first table).
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // A page cache of at most CACHE_KIB per connection (SQLite's default is 2 MiB, which a
        // busy gateway's growing log fills, so the gateway's memory grew with the log): the
        // writer appends, readers page through recent rows, and the OS caches the file anyway.
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.execute_batch(SCHEMA)
    })
}

/// A body as stored: the JSON text (cut at [`MAX_BODY_BYTES`], secrets masked), its full
/// size in bytes and whether it was cut.
pub struct StoredBody {
    /// The text kept.
    pub text: String,
    /// The size of the whole serialized body, in bytes.
    pub bytes: usize,
    /// Whether `text` is only its beginning.
    pub truncated: bool,
}

/// Serializes, masks and cuts a body (runs on the writer's thread).
pub fn store_body(body: super::Body) -> StoredBody {
    let full = body();
    let bytes = full.len();
    let masked = crate::redact::redact(&full);
    if masked.len() <= MAX_BODY_BYTES {
        return StoredBody {
            text: masked.into_owned(),
            bytes,
            truncated: false,
        };
    }
    let mut cut = MAX_BODY_BYTES;
    while !masked.is_char_boundary(cut) {
        cut -= 1;
    }
    StoredBody {
        text: masked[..cut].to_string(),
        bytes,
        truncated: true,
    }
}

/// Inserts `entries` in one transaction. Returns the new rows' ids.
pub fn insert(conn: &mut Connection, entries: Vec<Entry>) -> rusqlite::Result<Vec<i64>> {
    let tx = conn.transaction()?;
    let mut ids = Vec::with_capacity(entries.len());
    {
        let mut call = tx.prepare_cached(
            "INSERT INTO calls (ts_ms, duration_us, caller, kind, method, server, target, outcome, error, request_bytes, response_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut body = tx.prepare_cached(
            "INSERT INTO bodies (id, request, response, request_truncated, response_truncated) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for e in entries {
            let request = e.request.map(store_body);
            let response = e.response.map(store_body);
            let error = e.error.map(|m| crate::redact::redact(&m).into_owned());
            call.execute(params![
                e.ts_ms,
                e.duration_us,
                e.caller,
                e.kind,
                e.method,
                e.server,
                e.target,
                e.outcome.as_str(),
                error,
                request.as_ref().map_or(0, |b| b.bytes as i64),
                response.as_ref().map_or(0, |b| b.bytes as i64),
            ])?;
            let id = tx.last_insert_rowid();
            if request.is_some() || response.is_some() {
                body.execute(params![
                    id,
                    request.as_ref().map(|b| &b.text),
                    response.as_ref().map(|b| &b.text),
                    request.as_ref().is_some_and(|b| b.truncated),
                    response.as_ref().is_some_and(|b| b.truncated),
                ])?;
            }
            ids.push(id);
        }
    }
    tx.commit()?;
    Ok(ids)
}

/// Bytes the database's pages hold (free pages not counted).
pub fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(((pages - free).max(0) * size) as u64)
}

/// Gives free pages back to the file system (`incremental_vacuum` frees one page per step, so
/// it is stepped to the end).
fn vacuum(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

/// What one retention pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Calls deleted for their age.
    pub by_age: usize,
    /// Calls deleted to fit the size limit.
    pub by_size: usize,
}

/// Applies retention: deletes calls that started before `oldest_ms`, bodies beyond the
/// [`KEEP_BODIES`] most recent calls, then the oldest calls (a tenth at a time) while the
/// database holds more than `max_bytes`; gives freed pages back to the file system.
pub fn prune(conn: &Connection, oldest_ms: i64, max_bytes: u64) -> rusqlite::Result<Pruned> {
    let mut pruned = Pruned {
        by_age: conn.execute("DELETE FROM calls WHERE ts_ms < ?1", [oldest_ms])?,
        by_size: 0,
    };
    conn.execute(
        "DELETE FROM bodies WHERE id NOT IN (SELECT id FROM calls)
            OR id <= (SELECT COALESCE(MAX(id), 0) FROM calls) - ?1",
        [KEEP_BODIES],
    )?;
    for _ in 0..40 {
        if used_bytes(conn)? <= max_bytes {
            break;
        }
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM calls", [], |r| r.get(0))?;
        if count == 0 {
            // Only bodies or empty pages left: drop the bodies too.
            conn.execute("DELETE FROM bodies", [])?;
            vacuum(conn)?;
            break;
        }
        let n = (count / 10).max(1);
        let cutoff: i64 = conn.query_row(
            "SELECT id FROM calls ORDER BY id LIMIT 1 OFFSET ?1",
            [n - 1],
            |r| r.get(0),
        )?;
        pruned.by_size += conn.execute("DELETE FROM calls WHERE id <= ?1", [cutoff])?;
        conn.execute("DELETE FROM bodies WHERE id <= ?1", [cutoff])?;
        vacuum(conn)?;
    }
    if pruned.by_age > 0 {
        vacuum(conn)?;
    }
    if pruned.by_age + pruned.by_size > 0 {
        // Move the freed pages out of the write-ahead log so the file itself shrinks.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(pruned)
}

/// One call as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CallRow {
    /// Its id (grows; the list's cursor).
    pub id: i64,
    /// When it arrived, in ms since the Unix epoch.
    pub ts_ms: i64,
    /// How long until the answer, in ms (fractional; 0 for notifications).
    pub duration_ms: f64,
    /// Who sent it: `client:<id>`, `dashboard`, `gateway` or `anonymous`.
    pub caller: String,
    /// `request` or `notification`.
    pub kind: String,
    /// The JSON-RPC method.
    pub method: String,
    /// The server it went to.
    pub server: Option<String>,
    /// The tool or prompt (the client's name for it) or resource URI.
    pub target: Option<String>,
    /// `ok`, `error`, `isError`, `timeout` or `cancelled`.
    pub outcome: String,
    /// The error text, when it failed.
    pub error: Option<String>,
    /// Size of the request's params as JSON, in bytes.
    pub request_bytes: i64,
    /// Size of the result or error as JSON, in bytes.
    pub response_bytes: i64,
}

const COLUMNS: &str = "id, ts_ms, duration_us, caller, kind, method, server, target, outcome, error, request_bytes, response_bytes";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        id: r.get(0)?,
        ts_ms: r.get(1)?,
        duration_ms: r.get::<_, i64>(2)? as f64 / 1000.0,
        caller: r.get(3)?,
        kind: r.get(4)?,
        method: r.get(5)?,
        server: r.get(6)?,
        target: r.get(7)?,
        outcome: r.get(8)?,
        error: r.get(9)?,
        request_bytes: r.get(10)?,
        response_bytes: r.get(11)?,
    })
}

/// Which calls to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Only this caller (`client:cursor`, `dashboard`, …).
    pub client: Option<String>,
    /// Only this server.
    pub server: Option<String>,
    /// Only this tool, prompt or URI (exact).
    pub tool: Option<String>,
    /// Only this outcome (`ok`, `error`, `isError`, `timeout`, `cancelled`; `failed` = any
    /// but ok).
    pub outcome: Option<String>,
    /// Only this method (`tools/call`, …).
    pub method: Option<String>,
    /// Only calls with an id below this (the next page of older calls).
    pub before: Option<i64>,
    /// Only calls with an id above this (what is new since the last look), oldest first.
    pub after: Option<i64>,
    /// At most this many (default 100, at most [`MAX_PAGE`]).
    pub limit: Option<usize>,
}

/// Lists calls matching `f`: newest first, or oldest first with `after` (so a follower can
/// append them in order).
pub fn list(conn: &Connection, f: &Filter) -> rusqlite::Result<Vec<CallRow>> {
    let mut sql = format!("SELECT {COLUMNS} FROM calls WHERE 1=1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut eq = |col: &str, v: &Option<String>, sql: &mut String| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            sql.push_str(&format!(" AND {col} = ?"));
            args.push(v.clone().into());
        }
    };
    eq("caller", &f.client, &mut sql);
    eq("server", &f.server, &mut sql);
    eq("target", &f.tool, &mut sql);
    eq("method", &f.method, &mut sql);
    match f.outcome.as_deref() {
        None | Some("") => {}
        Some("failed") => sql.push_str(" AND outcome <> 'ok'"),
        Some(o) => {
            sql.push_str(" AND outcome = ?");
            args.push(o.to_string().into());
        }
    }
    if let Some(b) = f.before {
        sql.push_str(" AND id < ?");
        args.push(b.into());
    }
    if let Some(a) = f.after {
        sql.push_str(" AND id > ?");
        args.push(a.into());
    }
    sql.push_str(if f.after.is_some() {
        " ORDER BY id ASC LIMIT ?"
    } else {
        " ORDER BY id DESC LIMIT ?"
    });
    args.push((f.limit.unwrap_or(100).clamp(1, MAX_PAGE) as i64).into());
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), row)?;
    rows.collect()
}

/// One call with what was kept of its bodies.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CallDetail {
    /// The call.
    #[serde(flatten)]
    pub call: CallRow,
    /// The request's params as JSON text (null when no longer kept).
    pub request: Option<String>,
    /// The result or error as JSON text (null when no longer kept).
    pub response: Option<String>,
    /// Whether `request` is only the beginning of it.
    pub request_truncated: bool,
    /// Whether `response` is only the beginning of it.
    pub response_truncated: bool,
}

/// Call `id` with its bodies; `None` when there is no such call (any more).
pub fn detail(conn: &Connection, id: i64) -> rusqlite::Result<Option<CallDetail>> {
    let Some(call) = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"),
            [id],
            row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    let bodies = conn
        .query_row(
            "SELECT request, response, request_truncated, response_truncated FROM bodies WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let (request, response, request_truncated, response_truncated) =
        bodies.unwrap_or((None, None, false, false));
    Ok(Some(CallDetail {
        call,
        request,
        response,
        request_truncated,
        response_truncated,
    }))
}

/// The requests (not notifications) since `since_ms`, as `(ts_ms, server, target, method,
/// outcome, duration_us)`, for [`super::stats`].
pub fn recent_requests(
    conn: &Connection,
    since_ms: i64,
) -> rusqlite::Result<Vec<super::stats::Sample>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ts_ms, server, target, method, outcome, duration_us FROM calls
         WHERE ts_ms >= ?1 AND kind = 'request' ORDER BY ts_ms",
    )?;
    let rows = stmt.query_map([since_ms], |r| {
        let outcome: String = r.get(4)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            Outcome::parse(&outcome).unwrap_or(Outcome::Error),
            r.get(5)?,
        ))
    })?;
    rows.collect()
}

/// Distinct values of the filter columns: `(callers, servers, targets)`.
pub type Choices = (Vec<String>, Vec<String>, Vec<String>);

/// The distinct callers, servers and targets recorded (for the filters' choices), at most 200
/// of each, most recent first.
pub fn choices(conn: &Connection) -> rusqlite::Result<Choices> {
    let distinct = |col: &str| -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare(&format!(
            "SELECT {col} FROM calls WHERE {col} IS NOT NULL GROUP BY {col} ORDER BY MAX(id) DESC LIMIT 200"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    };
    Ok((
        distinct("caller")?,
        distinct("server")?,
        distinct("target")?,
    ))
}

/// The newest call's id (0 when empty).
pub fn last_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM calls", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ts_ms: i64, server: &str, outcome: Outcome, body: &str) -> Entry {
        let body = body.to_string();
        Entry {
            ts_ms,
            duration_us: 1500,
            caller: "client:cursor".into(),
            kind: "request",
            method: "tools/call".into(),
            server: Some(server.into()),
            target: Some(format!("{server}__echo")),
            outcome,
            error: None,
            request: Some(Box::new(move || body)),
            response: Some(Box::new(|| "{\"content\":[]}".into())),
        }
    }

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("a.sqlite3")).unwrap();
        (dir, conn)
    }

    #[test]
    fn the_page_cache_is_bounded() {
        let (_d, conn) = db();
        let kib: i64 = conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kib, -CACHE_KIB);
    }

    #[test]
    fn insert_list_filter_and_detail() {
        let (_d, mut conn) = db();
        let ids = insert(
            &mut conn,
            vec![
                entry(1000, "a", Outcome::Ok, "{\"x\":1}"),
                entry(2000, "b", Outcome::IsError, "{}"),
                entry(3000, "a", Outcome::Timeout, "{}"),
            ],
        )
        .unwrap();
        assert_eq!(ids.len(), 3);
        let all = list(&conn, &Filter::default()).unwrap();
        assert_eq!(
            all.iter().map(|r| r.ts_ms).collect::<Vec<_>>(),
            [3000, 2000, 1000]
        );
        assert_eq!(all[0].duration_ms, 1.5);
        let a = list(
            &conn,
            &Filter {
                server: Some("a".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(a.len(), 2);
        let failed = list(
            &conn,
            &Filter {
                outcome: Some("failed".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(failed.len(), 2);
        let after = list(
            &conn,
            &Filter {
                after: Some(ids[0]),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            after.iter().map(|r| r.id).collect::<Vec<_>>(),
            [ids[1], ids[2]]
        );
        let d = detail(&conn, ids[0]).unwrap().unwrap();
        assert_eq!(d.request.as_deref(), Some("{\"x\":1}"));
        assert_eq!(d.call.request_bytes, 7);
        assert!(detail(&conn, 999).unwrap().is_none());
    }

    #[test]
    fn bodies_are_cut_and_secrets_masked() {
        crate::redact::register("sk-live-activity-test-123");
        let (_d, mut conn) = db();
        let big = format!("\"{}\"", "é".repeat(MAX_BODY_BYTES));
        let ids = insert(
            &mut conn,
            vec![
                entry(1, "a", Outcome::Ok, &big),
                entry(
                    2,
                    "a",
                    Outcome::Ok,
                    "{\"key\":\"sk-live-activity-test-123\"}",
                ),
            ],
        )
        .unwrap();
        let d = detail(&conn, ids[0]).unwrap().unwrap();
        assert!(d.request_truncated);
        assert!(d.request.unwrap().len() <= MAX_BODY_BYTES);
        assert_eq!(d.call.request_bytes as usize, big.len());
        let d = detail(&conn, ids[1]).unwrap().unwrap();
        assert!(!d.request.unwrap().contains("sk-live"));
    }

    #[test]
    fn retention_by_age_and_by_size() {
        let (_d, mut conn) = db();
        let pad = format!("\"{}\"", "x".repeat(4000));
        let entries = (0..400)
            .map(|i| entry(i * 10, "a", Outcome::Ok, &pad))
            .collect();
        insert(&mut conn, entries).unwrap();
        let p = prune(&conn, 1000, u64::MAX).unwrap();
        assert_eq!(p.by_age, 100);
        assert_eq!(
            list(
                &conn,
                &Filter {
                    limit: Some(500),
                    ..Default::default()
                }
            )
            .unwrap()
            .len(),
            300
        );
        let before = used_bytes(&conn).unwrap();
        let p = prune(&conn, 0, before / 3).unwrap();
        assert!(p.by_size > 0);
        assert!(used_bytes(&conn).unwrap() <= before / 3);
        let file = std::fs::metadata(_d.path().join("a.sqlite3"))
            .unwrap()
            .len();
        assert!(
            file <= before / 2,
            "the file shrinks too: {file} of {before}"
        );
        // The newest calls are the ones kept.
        let kept = list(
            &conn,
            &Filter {
                limit: Some(500),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(kept[0].ts_ms, 3990);
    }
}
