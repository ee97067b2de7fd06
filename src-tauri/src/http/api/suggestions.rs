//! `GET /api/suggestions` → [`SuggestionList`]: well-known servers the dashboard's "Add server"
//! page offers as ready entries ([`crate::config::suggestions`]), detected ones (Claude Code on
//! `PATH`) first.

use axum::Json;

use super::types::SuggestionList;

/// `GET /api/suggestions`.
pub async fn list() -> Json<SuggestionList> {
    let suggestions = tokio::task::spawn_blocking(crate::config::suggestions::suggestions)
        .await
        .unwrap_or_default();
    Json(SuggestionList { suggestions })
}
