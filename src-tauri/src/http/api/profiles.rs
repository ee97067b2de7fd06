//! Profiles through the API (the dashboard's Profiles page, `loopgate client install
//! --profile`).
//!
//! - `GET /api/profiles` → [`ProfilesView`]: every profile with its settings, the clients bound
//!   to it, the tools it offers now and what their definitions cost in tokens (an estimate,
//!   [`crate::gateway::tokens`]); the same figures for "everything" (no profile).
//! - `PUT /api/profiles/{name}` with a [`ProfileSettings`] → `{ ok }`: creates or replaces a
//!   profile (400 naming the field when it names a server that does not exist).
//! - `DELETE /api/profiles/{name}` → `{ ok }`; 409 while a client or the gateway's own token
//!   is bound to it (the error names them).
//! - `PUT /api/clients/{id}/profile` with `{ "profile": name | null }` → `{ ok }`: binds a
//!   client's token to a profile (`null`: everything).
//!
//! Every change goes through the one config writer and applies at once: each client's lists
//! change and it is told (`notifications/tools/list_changed`) when its own profile changed.

use super::extract::ApiJson;
use super::types::OkAnswer;
use super::ApiError;
use crate::config::ConfigError;
use crate::gateway::{search, tokens, View};
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// What a set of tools costs: how many there are and their definitions' tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Cost {
    /// Tools a client sees (in search mode: the two search tools).
    pub tool_count: usize,
    /// Tools the profile reaches (in search mode: through the search).
    pub reachable_tools: usize,
    /// Estimated tokens of the definitions a client gets (`o200k_base`); `null` when the
    /// tokenizer is unavailable.
    pub definition_tokens: Option<usize>,
}

/// A profile's settings, as the dashboard edits them (the body of `PUT /api/profiles/{name}`;
/// other keys of the profile in the config file are kept).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ProfileSettings {
    /// Its servers; `null`: every server.
    #[serde(default)]
    pub servers: Option<Vec<String>>,
    /// Per server, the tools it hides (the servers' own names).
    #[serde(default)]
    pub disabled_tools: IndexMap<String, Vec<String>>,
    /// Search mode: two search tools instead of every tool.
    #[serde(default)]
    pub tool_search: bool,
}

/// One profile as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ProfileView {
    /// Its name.
    pub name: String,
    /// Its settings.
    pub settings: ProfileSettings,
    /// Installed clients bound to it (client ids).
    pub clients: Vec<String>,
    /// Whether the gateway's own token (`gateway.profile`) is bound to it.
    pub gateway: bool,
    /// What it costs now.
    pub cost: Cost,
}

/// The body of `GET /api/profiles`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ProfilesView {
    /// Every profile, in config order.
    pub profiles: Vec<ProfileView>,
    /// What a client without a profile sees.
    pub everything: Cost,
    /// Client id → profile name.
    pub client_profiles: IndexMap<String, String>,
}

/// The body of `PUT /api/clients/{id}/profile`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The profile, or `null` for everything.
    pub profile: Option<String>,
}

fn cost(view: &View<'_>) -> Cost {
    let tools = view.tools();
    let shown = if view.scope().tool_search() {
        search::meta_tools()
    } else {
        tools.clone()
    };
    Cost {
        tool_count: shown.len(),
        reachable_tools: tools.len(),
        definition_tokens: tokens::of_tools(&shown),
    }
}

/// `GET /api/profiles`.
pub async fn list(State(s): State<AppState>) -> Json<ProfilesView> {
    let config = s.store.current();
    let reg = s.gw.registry();
    let profiles = s.gw.profiles();
    let everything = crate::gateway::Scope::everything();
    let out = config
        .profiles
        .iter()
        .map(|(name, profile)| {
            let scope = profiles
                .scope(Some(name))
                .unwrap_or_else(|_| crate::gateway::Scope::profile(name, profile.clone()));
            ProfileView {
                name: name.clone(),
                settings: ProfileSettings {
                    servers: profile.servers.clone(),
                    disabled_tools: profile.disabled_tools.clone(),
                    tool_search: profile.tool_search,
                },
                clients: config
                    .client_profiles
                    .iter()
                    .filter(|(_, p)| *p == name)
                    .map(|(c, _)| c.clone())
                    .collect(),
                gateway: config.gateway.profile.as_deref() == Some(name.as_str()),
                cost: cost(&View::new(&reg, &scope)),
            }
        })
        .collect();
    Json(ProfilesView {
        profiles: out,
        everything: cost(&View::new(&reg, &everything)),
        client_profiles: config.client_profiles.clone(),
    })
}

/// `PUT /api/profiles/{name}`.
pub async fn put(
    State(s): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ProfileSettings>,
) -> Result<Json<OkAnswer>, ApiError> {
    crate::config::validate_server_name(&name)
        .map_err(|m| ApiError::field("name", m.replace("server names", "profile names")))?;
    s.store
        .update(move |c| {
            let profile = c.profiles.entry(name).or_default();
            profile.servers = body.servers;
            profile.disabled_tools = body.disabled_tools;
            profile.tool_search = body.tool_search;
            Ok(())
        })
        .await?;
    Ok(Json(OkAnswer::new()))
}

/// `DELETE /api/profiles/{name}`.
pub async fn remove(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<OkAnswer>, ApiError> {
    let config = s.store.current();
    if !config.profiles.contains_key(&name) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no profile named \"{name}\""),
        ));
    }
    let mut users: Vec<String> = config
        .client_profiles
        .iter()
        .filter(|(_, p)| **p == name)
        .map(|(c, _)| c.clone())
        .collect();
    if config.gateway.profile.as_deref() == Some(name.as_str()) {
        users.push("the gateway's own token (gateway.profile)".into());
    }
    if !users.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "profile \"{name}\" is in use by {}; bind them to another profile first",
                users.join(", ")
            ),
        ));
    }
    s.store
        .update(move |c| {
            c.profiles.shift_remove(&name);
            Ok(())
        })
        .await?;
    Ok(Json(OkAnswer::new()))
}

/// `PUT /api/clients/{id}/profile`.
pub async fn bind(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Binding>,
) -> Result<Json<OkAnswer>, ApiError> {
    s.store
        .update(move |c| {
            match body.profile {
                Some(p) => {
                    if !c.profiles.contains_key(&p) {
                        return Err(ConfigError::Invalid {
                            path: Default::default(),
                            field: crate::config::FieldPath::field(&["profile"]),
                            message: format!("there is no profile named \"{p}\""),
                        });
                    }
                    c.client_profiles.insert(id, p);
                }
                None => {
                    c.client_profiles.shift_remove(&id);
                }
            }
            Ok(())
        })
        .await?;
    Ok(Json(OkAnswer::new()))
}
