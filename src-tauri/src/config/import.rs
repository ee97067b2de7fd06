//! Importing servers from another client's `mcpServers` config (Claude Desktop, Cursor, …),
//! moving secret-looking literal values into the keychain.
//!
//! [`plan`] reads a source config and decides, without side effects, which servers to add and
//! which values are secrets: env keys matching `*_TOKEN`, `*_KEY`, `*SECRET*`, `*PASSWORD*`
//! (case-insensitive) and the `Authorization` header. Each such value becomes the secret
//! `<server>.<KEY>` and the entry gets `${secret:<server>.<KEY>}` instead. The caller stores
//! the secrets, then adds the entries through the config [`Store`](super::Store).

use std::path::Path;

use indexmap::IndexMap;

use super::error::{ConfigError, FieldPath};
use super::model::{Config, ServerEntry};
use super::validate::validate_server_name;

/// A secret to move into the keychain.
#[derive(Clone, PartialEq, Eq)]
pub struct MovedSecret {
    /// Secret name, `<server>.<KEY>`.
    pub name: String,
    /// The server it belongs to.
    pub server: String,
    /// The env key or header name it came from.
    pub key: String,
    /// The literal value (kept in memory only until stored).
    pub value: String,
}

impl std::fmt::Debug for MovedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MovedSecret")
            .field("name", &self.name)
            .field("server", &self.server)
            .field("key", &self.key)
            .finish()
    }
}

/// What an import will do.
#[derive(Debug, Default)]
pub struct ImportPlan {
    /// Servers to add, with secret values already replaced by references.
    pub servers: IndexMap<String, ServerEntry>,
    /// Values to store in the keychain before the servers are added.
    pub secrets: Vec<MovedSecret>,
    /// Servers not imported, with the reason (e.g. the name is taken).
    pub skipped: Vec<(String, String)>,
}

/// True for env keys / header names whose values are treated as secrets.
pub fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    k.ends_with("_TOKEN")
        || k.ends_with("_KEY")
        || k.contains("SECRET")
        || k.contains("PASSWORD")
        || k == "AUTHORIZATION"
        || k == "TOKEN"
        || k == "API_KEY"
}

/// A valid Loopgate server name for a foreign one: invalid characters become `-`, `__` is
/// collapsed, and the result is cut to the maximum length.
pub fn safe_server_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_start_matches(['-', '_']).to_string();
    let s: String = s.chars().take(super::model::MAX_SERVER_NAME_LEN).collect();
    if s.is_empty() {
        "server".into()
    } else {
        s
    }
}

fn secret_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads the `mcpServers` of `source` (any client's JSON config) and plans adding them to
/// `current`. Existing names are skipped, not overwritten.
///
/// Errors: [`ConfigError::Io`]/[`ConfigError::Parse`] for the source file, or
/// [`ConfigError::Invalid`] when it has no `mcpServers` object.
pub fn plan(source: &Path, current: &Config) -> Result<ImportPlan, ConfigError> {
    let text = std::fs::read_to_string(source).map_err(|e| ConfigError::Io {
        path: source.to_path_buf(),
        source: e,
    })?;
    let parsed = Config::parse(&text, source)?;
    if parsed.mcp_servers.is_empty() {
        return Err(ConfigError::Invalid {
            path: source.to_path_buf(),
            field: FieldPath::servers(),
            message: "no servers found (expected an object \"mcpServers\": { \"name\": { … } })"
                .into(),
        });
    }
    Ok(plan_entries(parsed.mcp_servers, current))
}

/// Plans adding `entries` (servers by their names in another client) to `current`: names are
/// made valid, taken names and invalid entries are skipped with the reason, and secret-looking
/// values are moved out (see the module docs).
pub fn plan_entries(entries: IndexMap<String, ServerEntry>, current: &Config) -> ImportPlan {
    let mut out = ImportPlan::default();
    for (original, entry) in entries {
        let name = safe_server_name(&original);
        if current.mcp_servers.contains_key(&name) || out.servers.contains_key(&name) {
            out.skipped.push((
                original,
                format!("a server named \"{name}\" already exists"),
            ));
            continue;
        }
        if let Err(e) = validate_server_name(&name) {
            out.skipped.push((original, e));
            continue;
        }
        if let Err(e) = entry.backend() {
            out.skipped.push((original, e.to_string()));
            continue;
        }
        let mut entry = entry;
        let mut move_values = |map: &mut IndexMap<String, String>| {
            for (key, value) in map.iter_mut() {
                if !looks_secret(key) || value.is_empty() || value.contains("${") {
                    continue;
                }
                let secret = format!("{name}.{}", secret_key(key));
                out.secrets.push(MovedSecret {
                    name: secret.clone(),
                    server: name.clone(),
                    key: key.clone(),
                    value: value.clone(),
                });
                *value = format!("${{secret:{secret}}}");
            }
        };
        move_values(&mut entry.env);
        move_values(&mut entry.headers);
        out.servers.insert(name, entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_secret_looking_values_and_skips_taken_names() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("claude_desktop_config.json");
        std::fs::write(
            &src,
            r#"{"mcpServers": {
                "github": {"command": "npx", "args": ["-y", "gh"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_abc", "LOG": "1"}},
                "Brave Search": {"command": "npx", "env": {"BRAVE_API_KEY": "bk", "DB_PASSWORD": "pw", "REF": "${secret:x}"}},
                "remote": {"url": "https://x.example/mcp", "headers": {"Authorization": "Bearer t0k", "X-Trace": "1"}},
                "taken": {"command": "x"}
            }, "globalShortcut": "Ctrl+Space"}"#,
        )
        .unwrap();
        let current = Config::parse(
            r#"{"mcpServers": {"taken": {"command": "y"}}}"#,
            Path::new("c"),
        )
        .unwrap();
        let p = plan(&src, &current).unwrap();
        assert_eq!(
            p.servers.keys().collect::<Vec<_>>(),
            ["github", "Brave-Search", "remote"]
        );
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(
            p.servers["github"].env["GITHUB_PERSONAL_ACCESS_TOKEN"],
            "${secret:github.GITHUB_PERSONAL_ACCESS_TOKEN}"
        );
        assert_eq!(p.servers["github"].env["LOG"], "1");
        assert_eq!(p.servers["Brave-Search"].env["REF"], "${secret:x}");
        assert_eq!(
            p.servers["remote"].headers["Authorization"],
            "${secret:remote.Authorization}"
        );
        let names: Vec<_> = p.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "github.GITHUB_PERSONAL_ACCESS_TOKEN",
                "Brave-Search.BRAVE_API_KEY",
                "Brave-Search.DB_PASSWORD",
                "remote.Authorization"
            ]
        );
        assert!(
            !format!("{:?}", p).contains("ghp_abc"),
            "Debug never shows values"
        );
        assert_eq!(safe_server_name("a__b c"), "a_b-c");
    }
}
