//! `GET /api/suggestions`: well-known servers the dashboard's "Add server" page offers as
//! ready entries ([`crate::config::suggestions`]), detected ones (Claude Code on `PATH`) first.

use axum::Json;
use serde_json::{json, Value};

/// `GET /api/suggestions` → `{ suggestions: [{ name, title, description, entry, program,
/// detected, needs }] }`.
pub async fn list() -> Json<Value> {
    let all = tokio::task::spawn_blocking(crate::config::suggestions::suggestions)
        .await
        .unwrap_or_default();
    Json(json!({ "suggestions": all }))
}
