//! Server and tool management through the API: add, edit, remove servers (with secret fields
//! that go to the keychain) and per-tool switches. Every change goes through the one config
//! writer, is validated first, and leaves the config unchanged when refused.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use indexmap::IndexMap;
use serde::Deserialize;

use super::extract::{ApiJson, ServerName};
use super::types::{AddedAnswer, ImportedAnswer, OkAnswer, ServerTool};
use super::{ok, ApiError};
use crate::config::model::{OAuthSettings, ServerAuth};
use crate::config::validate_server_name;
use crate::config::{Config, ConfigError, ServerEntry};
use crate::http::AppState;

/// The body of `POST /api/servers` and `PUT /api/servers/{name}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerForm {
    /// Server name (required on add; on edit it must match the path or be absent).
    #[serde(default)]
    pub name: Option<String>,
    /// Program of a stdio server.
    #[serde(default)]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Plain env values (a `${secret:…}` value is kept as a reference).
    #[serde(default)]
    pub env: IndexMap<String, String>,
    /// Working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// URL of an HTTP server.
    #[serde(default)]
    pub url: Option<String>,
    /// Plain header values.
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// Secret values by env key (stdio) or header name (HTTP): stored in the keychain as
    /// `<server>.<KEY>`, referenced from the config. Never echoed back.
    #[serde(default)]
    pub secrets: IndexMap<String, String>,
    /// HTTP servers' sign-in: `"auto"` (OAuth when the server asks; the default), `"oauth"`,
    /// or `"none"` (never sign in). Absent: kept as it is.
    #[serde(default)]
    pub auth: Option<String>,
    /// HTTP servers' OAuth client options; every field empty removes them. Absent: kept as
    /// they are.
    #[serde(default)]
    pub oauth: Option<OAuthForm>,
}

/// The OAuth part of a [`ServerForm`] (see `OAuthSettings` in the config).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthForm {
    /// A client id registered with the authorization server beforehand.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Its secret: a new value is stored in the keychain as `<server>.OAUTH_CLIENT_SECRET`;
    /// `""` keeps the stored one; absent or `null` removes it.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes to ask for, separated by spaces.
    #[serde(default)]
    pub scopes: Option<String>,
    /// HTTPS URL of a Client ID Metadata Document.
    #[serde(default)]
    pub client_metadata_url: Option<String>,
}

/// Keychain name of server `name`'s OAuth client secret, when set through the form.
fn client_secret_name(name: &str) -> String {
    format!("{name}.OAUTH_CLIENT_SECRET")
}

/// Applies the sign-in part of a form to `entry` (HTTP servers only).
async fn apply_auth(
    s: &AppState,
    name: &str,
    auth: Option<String>,
    oauth: Option<OAuthForm>,
    entry: &mut ServerEntry,
) -> Result<(), ApiError> {
    if let Some(auth) = auth {
        entry.auth = match auth.trim() {
            "" | "auto" => None,
            "oauth" => Some(ServerAuth::OAuth),
            "none" => Some(ServerAuth::None),
            other => {
                return Err(ApiError::field(
                    "auth",
                    format!("sign-in must be \"auto\", \"oauth\" or \"none\", not \"{other}\""),
                ))
            }
        };
    }
    let Some(form) = oauth else {
        return Ok(());
    };
    let trimmed = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let client_id = trimmed(form.client_id);
    let client_secret = match form.client_secret {
        None => None,
        Some(value) if value.is_empty() => {
            entry.oauth.as_ref().and_then(|o| o.client_secret.clone())
        }
        Some(value) => {
            let secret = client_secret_name(name);
            s.secrets
                .set(&secret, &value)
                .await
                .map_err(|e| ApiError::field("oauth.clientSecret", e.to_string()))?;
            Some(format!("${{secret:{secret}}}"))
        }
    };
    if client_secret.is_some() && client_id.is_none() {
        return Err(ApiError::field(
            "oauth.clientSecret",
            "a client secret belongs to a client id: enter the client id too",
        ));
    }
    let settings = OAuthSettings {
        client_id,
        client_secret,
        scopes: form
            .scopes
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        client_metadata_url: trimmed(form.client_metadata_url),
    };
    entry.oauth = (settings != OAuthSettings::default()).then_some(settings);
    Ok(())
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// Stores the form's secrets and applies the form to `entry`. Errors name the field.
async fn apply_form(
    s: &AppState,
    name: &str,
    form: ServerForm,
    mut entry: ServerEntry,
) -> Result<ServerEntry, ApiError> {
    match (blank(&form.command), blank(&form.url)) {
        (true, true) => {
            return Err(ApiError::field(
                "command",
                "enter a command (stdio server) or a URL (HTTP server)",
            ))
        }
        (false, false) => {
            return Err(ApiError::field(
                "url",
                "enter either a command or a URL, not both",
            ))
        }
        _ => {}
    }
    let stdio = !blank(&form.command);
    entry.command = form.command.filter(|_| stdio).map(|c| c.trim().to_string());
    entry.args = if stdio { form.args } else { vec![] };
    entry.cwd = form
        .cwd
        .filter(|c| stdio && !c.trim().is_empty())
        .map(Into::into);
    entry.url = form.url.filter(|_| !stdio).map(|u| u.trim().to_string());
    entry.kind = None;
    let mut values = if stdio { form.env } else { form.headers };
    for (key, value) in form.secrets {
        if key.trim().is_empty() {
            return Err(ApiError::field("secrets", "a secret needs a name"));
        }
        let secret = format!(
            "{name}.{}",
            key.chars()
                .map(
                    |c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                        c
                    } else {
                        '_'
                    }
                )
                .collect::<String>()
        );
        if value.is_empty() {
            // Keep the existing secret (edit without retyping).
            values.insert(key, format!("${{secret:{secret}}}"));
            continue;
        }
        s.secrets
            .set(&secret, &value)
            .await
            .map_err(|e| ApiError::field("secrets", e.to_string()))?;
        values.insert(key, format!("${{secret:{secret}}}"));
    }
    if stdio {
        entry.env = values;
        entry.headers.clear();
        entry.auth = None;
        entry.oauth = None;
    } else {
        entry.headers = values;
        entry.env.clear();
        apply_auth(s, name, form.auth, form.oauth, &mut entry).await?;
    }
    entry.backend().map_err(ApiError::from_field)?;
    Ok(entry)
}

/// `POST /api/servers`: adds a server; 201 with [`AddedAnswer`]. 400 names the field when the
/// input is invalid (an unknown key too); 409 when the name is taken.
pub async fn add(
    State(s): State<AppState>,
    ApiJson(form): ApiJson<ServerForm>,
) -> Result<(StatusCode, Json<AddedAnswer>), ApiError> {
    let name = form.name.clone().unwrap_or_default();
    validate_server_name(&name).map_err(|m| ApiError::field("name", m))?;
    if s.store.current().mcp_servers.contains_key(&name) {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            message: format!("a server named \"{name}\" already exists"),
            field: Some("name".into()),
        });
    }
    let entry = apply_form(&s, &name, form, ServerEntry::default()).await?;
    let added = name.clone();
    s.store
        .update(move |c| {
            if c.mcp_servers.contains_key(&added) {
                return Err(ConfigError::NameTaken(added));
            }
            c.mcp_servers.insert(added, entry);
            Ok(())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(AddedAnswer { ok: true, name })))
}

/// Body of `POST /api/servers/import` (sent by the CLI's `loopgate import`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// Config entries by server name, added in this order.
    pub servers: indexmap::IndexMap<String, ServerEntry>,
}

/// `POST /api/servers/import`: adds whole config entries (already free of literal secrets —
/// the CLI moved them to the keychain). Refuses, changing nothing, when a name is taken or an
/// entry is invalid. Answers [`ImportedAnswer`] `{ added: [name] }`.
pub async fn import(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Json<ImportedAnswer>, ApiError> {
    let added: Vec<String> = body.servers.keys().cloned().collect();
    s.store
        .update(move |c| {
            if let Some(taken) = body.servers.keys().find(|n| c.mcp_servers.contains_key(*n)) {
                return Err(ConfigError::NameTaken(taken.clone()));
            }
            c.mcp_servers.extend(body.servers);
            Ok(())
        })
        .await?;
    Ok(Json(ImportedAnswer { added }))
}

/// `PUT /api/servers/{name}`: replaces a server's connection settings, keeping `disabled`,
/// `disabledTools` and unknown keys. Form secrets (`<name>.*`) the server no longer references,
/// and no other server uses, are deleted from the keychain.
pub async fn edit(
    State(s): State<AppState>,
    ServerName {
        name,
        entry: current,
    }: ServerName,
    ApiJson(form): ApiJson<ServerForm>,
) -> Result<Json<OkAnswer>, ApiError> {
    if form.name.as_ref().is_some_and(|n| n != &name) {
        return Err(ApiError::field(
            "name",
            "renaming a server is not supported; remove it and add it under the new name",
        ));
    }
    let before = current.secret_refs();
    let entry = apply_form(&s, &name, form, current).await?;
    let edited = name.clone();
    let config = s
        .store
        .update(move |c| {
            let slot = c
                .mcp_servers
                .get_mut(&edited)
                .ok_or_else(|| ConfigError::UnknownServer(edited.clone()))?;
            *slot = entry;
            Ok(())
        })
        .await?;
    // Form secrets of this server that the edit stopped using (a removed secret header, the
    // OAuth client secret of a client id now gone) leave the keychain too.
    delete_unused_form_secrets(&s, &name, before, &config).await;
    Ok(ok())
}

/// Deletes those of `candidates` that are server `name`'s form secrets (`<name>.*`, not
/// Loopgate's internal entries) and that no server in `config` references. Keychain errors are
/// ignored: a secret left behind is harmless and `loopgate secret rm` removes it.
async fn delete_unused_form_secrets(
    s: &AppState,
    name: &str,
    candidates: impl IntoIterator<Item = String>,
    config: &Config,
) {
    let prefix = format!("{name}.");
    for secret in candidates {
        if secret.starts_with(&prefix)
            && !crate::secrets::is_internal(&secret)
            && config.servers_using(&secret).is_empty()
        {
            let _ = s.secrets.delete(&secret).await;
        }
    }
}

/// `DELETE /api/servers/{name}`: removes the server (it is stopped cleanly; profiles that
/// named it no longer do), the secrets
/// stored for it by the form (`<name>.*`) that no other server uses, and its OAuth tokens.
pub async fn remove(
    State(s): State<AppState>,
    ServerName { name, .. }: ServerName,
) -> Result<Json<OkAnswer>, ApiError> {
    let removed = name.clone();
    let config = s
        .store
        .update(move |c| {
            c.mcp_servers
                .shift_remove(&removed)
                .ok_or(ConfigError::UnknownServer(removed.clone()))?;
            // Profiles that named it no longer do.
            for profile in c.profiles.values_mut() {
                if let Some(servers) = profile.servers.as_mut() {
                    servers.retain(|s| s != &removed);
                }
                profile.disabled_tools.shift_remove(&removed);
            }
            Ok(())
        })
        .await?;
    if let Ok(names) = s.secrets.names().await {
        delete_unused_form_secrets(&s, &name, names, &config).await;
    }
    // Its OAuth tokens (revoked) and client registration go too.
    let _ = s.gw.supervisor().oauth().forget(&name).await;
    Ok(ok())
}

/// `GET /api/servers/{name}/tools`: every tool the server lists (also disabled ones), with the
/// name clients see, annotations, schemas and `enabled` (none yet for a server that was just
/// added and has not started).
pub async fn tools(
    State(s): State<AppState>,
    ServerName { name, .. }: ServerName,
) -> Json<Vec<ServerTool>> {
    let snap = s.gw.supervisor().snapshot();
    let Some(view) = snap.get(&name) else {
        return Json(Vec::new());
    };
    let reg = s.gw.registry();
    let exposed: std::collections::HashMap<&str, &str> = reg
        .exposed_tools()
        .iter()
        .filter(|t| t.route.server == name)
        .map(|t| (t.route.original.as_str(), t.tool.name.as_ref()))
        .collect();
    let tools = view
        .catalog
        .tools
        .iter()
        .map(|t| {
            let enabled = !view
                .entry
                .disabled_tools
                .iter()
                .any(|d| d == t.name.as_ref());
            let client_name = exposed
                .get(t.name.as_ref())
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("{name}__{}", t.name));
            ServerTool {
                name: client_name,
                original_name: t.name.to_string(),
                title: t.title.clone(),
                description: t.description.as_ref().map(|d| d.to_string()),
                annotations: t.annotations.clone(),
                input_schema: (*t.input_schema).clone(),
                output_schema: t.output_schema.as_ref().map(|o| (**o).clone()),
                enabled,
            }
        })
        .collect();
    Json(tools)
}

async fn set_tool(
    s: AppState,
    ServerName { name, entry }: ServerName,
    tool: String,
    enabled: bool,
) -> Result<Json<OkAnswer>, ApiError> {
    if !enabled {
        let listed =
            s.gw.supervisor()
                .snapshot()
                .get(&name)
                .is_some_and(|v| v.catalog.tools.iter().any(|t| t.name == tool.as_str()));
        if !listed && !entry.disabled_tools.contains(&tool) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("server \"{name}\" has no tool named \"{tool}\""),
            ));
        }
    }
    s.store
        .update(move |c| {
            let e = c
                .mcp_servers
                .get_mut(&name)
                .ok_or_else(|| ConfigError::UnknownServer(name.clone()))?;
            e.disabled_tools.retain(|t| t != &tool);
            if !enabled {
                e.disabled_tools.push(tool);
            }
            Ok(())
        })
        .await?;
    Ok(ok())
}

/// `POST /api/servers/{name}/tools/{tool}/enable`.
pub async fn enable_tool(
    State(s): State<AppState>,
    server: ServerName,
    Path((_, tool)): Path<(String, String)>,
) -> Result<Json<OkAnswer>, ApiError> {
    set_tool(s, server, tool, true).await
}

/// `POST /api/servers/{name}/tools/{tool}/disable`: 404 also when the server lists no such
/// tool (and it is not disabled already).
pub async fn disable_tool(
    State(s): State<AppState>,
    server: ServerName,
    Path((_, tool)): Path<(String, String)>,
) -> Result<Json<OkAnswer>, ApiError> {
    set_tool(s, server, tool, false).await
}
