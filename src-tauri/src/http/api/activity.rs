//! `/api/activity`: the activity log ([`crate::activity`]) for the dashboard's Activity page
//! and `loopgate activity`.
//!
//! - `GET /api/activity?client=&server=&tool=&outcome=&method=&before=&after=&limit=` →
//!   [`ActivityPage`]: calls newest first (`before`: the next page of older ones), or, with
//!   `after` (the `lastId` of an earlier answer), only newer ones oldest first — the live view
//!   and `--follow` poll with it. `outcome=failed` matches every outcome but `ok`.
//! - `GET /api/activity/stats?windowMin=60&buckets=12` → [`ActivityStats`]: per server and per
//!   tool over the window (calls, error rate, p50/p95 latency in ms, a series per bucket), and
//!   the callers, servers and tools seen (for the filters).
//! - `GET /api/activity/{id}` → one call with its request and response JSON while they are
//!   kept ([`crate::activity::db::CallDetail`]); 404 when the call is gone.
//!
//! With no activity database (it could not be opened) lists are empty and details 404.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::activity::db::{self, CallDetail, CallRow, Filter};
use crate::activity::stats::{self, Stats};
use crate::http::AppState;

/// The answer of `GET /api/activity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityPage {
    /// The calls (newest first; oldest first when asked with `after`).
    pub items: Vec<CallRow>,
    /// The newest call's id in the whole log (0 when empty): poll with `after=lastId`.
    pub last_id: i64,
    /// Whether calls are being recorded now (`gateway.activity.enabled`).
    pub enabled: bool,
    /// Calls not recorded since start because the writer fell behind.
    pub dropped: u64,
}

/// The query of `GET /api/activity/stats`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsQuery {
    /// The window, in minutes back from now (default 60, at most 7 days).
    pub window_min: Option<u32>,
    /// Buckets of each series (default 12, at most 120).
    pub buckets: Option<usize>,
}

/// The answer of `GET /api/activity/stats`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityStats {
    /// The figures.
    #[serde(flatten)]
    pub stats: Stats,
    /// Every caller recorded (`client:<id>`, `dashboard`, `gateway`, `anonymous`), most
    /// recent first.
    pub clients: Vec<String>,
    /// Every server recorded.
    pub server_names: Vec<String>,
    /// Every tool, prompt or URI recorded.
    pub targets: Vec<String>,
}

fn db_error(e: rusqlite::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the activity log could not be read: {e}"),
    )
}

/// `GET /api/activity`.
pub async fn list(
    State(s): State<AppState>,
    Query(filter): Query<Filter>,
) -> Result<Json<ActivityPage>, ApiError> {
    let recorder = s.activity.recorder();
    let (items, last_id) = s
        .activity
        .read(move |c| Ok((db::list(c, &filter)?, db::last_id(c)?)))
        .await
        .transpose()
        .map_err(db_error)?
        .unwrap_or_default();
    Ok(Json(ActivityPage {
        items,
        last_id,
        enabled: recorder.enabled(),
        dropped: recorder.dropped(),
    }))
}

/// `GET /api/activity/stats`.
pub async fn stats(
    State(s): State<AppState>,
    Query(q): Query<StatsQuery>,
) -> Result<Json<ActivityStats>, ApiError> {
    let window_ms = i64::from(q.window_min.unwrap_or(60).clamp(1, 7 * 24 * 60)) * 60_000;
    let buckets = q.buckets.unwrap_or(12).clamp(1, 120);
    let since = crate::activity::now_ms() - window_ms;
    let read = s
        .activity
        .read(move |c| Ok((db::recent_requests(c, since)?, db::choices(c)?)))
        .await
        .transpose()
        .map_err(db_error)?;
    let (samples, (clients, server_names, targets)) = read.unwrap_or_default();
    Ok(Json(ActivityStats {
        stats: stats::compute(&samples, since, window_ms, buckets),
        clients,
        server_names,
        targets,
    }))
}

/// `GET /api/activity/{id}`.
pub async fn detail(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<CallDetail>, ApiError> {
    s.activity
        .read(move |c| db::detail(c, id))
        .await
        .transpose()
        .map_err(db_error)?
        .flatten()
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no call {id} in the activity log (it may have been deleted by retention)"),
            )
        })
}
