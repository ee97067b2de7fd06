//! `GET /api/servers/{name}/catalog`: what one server offers besides tools, as clients see it
//! through the gateway (names and URIs as clients use them), for the dashboard's Resources and
//! Prompts sections: `{ resources: [Resource], resourceTemplates: [ResourceTemplate],
//! prompts: [Prompt], completions: bool, subscribe: bool }` (MCP's own shapes; `completions`:
//! the server answers `completion/complete`; `subscribe`: it offers resource subscriptions).
//! 404 for an unknown server; empty lists while it is not connected.

use axum::extract::{Path, State};
use axum::Json;
use rmcp::model::{Prompt, Resource, ResourceTemplate};
use serde::Serialize;

use super::ApiError;
use crate::http::AppState;

/// The answer of `GET /api/servers/{name}/catalog`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Its resources.
    pub resources: Vec<Resource>,
    /// Its resource templates.
    pub resource_templates: Vec<ResourceTemplate>,
    /// Its prompts (named as clients call them).
    pub prompts: Vec<Prompt>,
    /// Whether it answers `completion/complete`.
    pub completions: bool,
    /// Whether it offers `resources/subscribe`.
    pub subscribe: bool,
}

/// `GET /api/servers/{name}/catalog`.
pub async fn catalog(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Catalog>, ApiError> {
    let snap = s.gw.supervisor().snapshot();
    let view = snap.get(&name).ok_or_else(|| ApiError::not_found(&name))?;
    let caps = view
        .connection
        .as_ref()
        .and_then(|c| c.peer_info())
        .map(|i| i.capabilities.clone());
    let reg = s.gw.registry();
    let resources = reg
        .resources()
        .iter()
        .filter(|r| reg.resource_owner(&r.uri) == Some(name.as_str()))
        .cloned()
        .collect();
    let resource_templates = reg
        .resource_templates()
        .iter()
        .filter(|t| reg.template_owner(&t.uri_template) == Some(name.as_str()))
        .cloned()
        .collect();
    let prompts = reg
        .prompts()
        .iter()
        .filter(|p| reg.prompt(&p.name).is_some_and(|r| r.server == name))
        .cloned()
        .collect();
    Ok(Json(Catalog {
        resources,
        resource_templates,
        prompts,
        completions: caps.as_ref().is_some_and(|c| c.completions.is_some()),
        subscribe: caps
            .as_ref()
            .and_then(|c| c.resources.as_ref())
            .and_then(|r| r.subscribe)
            .unwrap_or(false),
    }))
}
