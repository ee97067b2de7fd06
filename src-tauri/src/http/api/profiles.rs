//! Profiles through the API (the dashboard's Profiles page, `loopgate client install
//! --profile`).
//!
//! - `GET /api/profiles` → [`ProfilesView`]: every profile with its settings, the clients bound
//!   to it, the tools it offers now and what their definitions cost in tokens (an estimate,
//!   [`crate::gateway::tokens`]); the same figures for "everything" (no profile).
//! - `PUT /api/profiles/{name}` with a [`ProfileBody`] → `{ ok }`: creates or replaces a
//!   profile (400 naming the field when it names a server that does not exist).
//! - `DELETE /api/profiles/{name}` → `{ ok }`; 409 while a client or the gateway's own token
//!   is bound to it (the error names them).
//! - `PUT /api/clients/{id}/profile` with `{ "profile": name | null }` → `{ ok }`: binds a
//!   client's token to a profile (`null`: everything).
//!
//! Every change goes through the one config writer and applies at once: each client's lists
//! change and it is told (`notifications/tools/list_changed`) when its own profile changed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::ApiError;
use crate::config::{ConfigError, Profile};
use crate::gateway::{search, tokens, View};
use crate::http::AppState;

/// What a set of tools costs: how many there are and their definitions' tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// Tools a client sees (in search mode: the two search tools).
    pub tool_count: usize,
    /// Tools the profile reaches (in search mode: through the search).
    pub reachable_tools: usize,
    /// Estimated tokens of the definitions a client gets (`o200k_base`); `null` when the
    /// tokenizer is unavailable.
    pub definition_tokens: Option<usize>,
}

/// One profile as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    /// Its name.
    pub name: String,
    /// Its settings, as in the config.
    pub profile: Profile,
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
pub struct ProfilesView {
    /// Every profile, in config order.
    pub profiles: Vec<ProfileView>,
    /// What a client without a profile sees.
    pub everything: Cost,
    /// Client id → profile name.
    pub client_profiles: IndexMap<String, String>,
}

/// The body of `PUT /api/profiles/{name}`: the profile's settings.
pub type ProfileBody = Profile;

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
                profile: profile.clone(),
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
    Json(body): Json<ProfileBody>,
) -> Result<Json<Value>, ApiError> {
    s.store
        .update(move |c| {
            c.profiles.insert(name, body);
            Ok(())
        })
        .await?;
    Ok(Json(json!({"ok": true})))
}

/// `DELETE /api/profiles/{name}`.
pub async fn remove(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({"ok": true})))
}

/// `PUT /api/clients/{id}/profile`.
pub async fn bind(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Binding>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({"ok": true})))
}
