//! Validation: whether a parsed [`Config`] can run, and each server entry turned into the
//! [`Backend`] the supervisor starts. Every error names the value at fault with a typed
//! [`FieldPath`] (`mcpServers.github.headers.Authorization`) and says how to fix it.
//!
//! Parsing and the types are in [`super::model`]; this module only judges them.

use std::path::Path;

use super::error::{ConfigError, FieldError, FieldPath};
use super::model::{Backend, Config, ServerAuth, ServerEntry, MAX_SERVER_NAME_LEN};

/// Longest `toolPrefix`, in characters.
pub const MAX_TOOL_PREFIX_LEN: usize = 64;

impl Config {
    /// Checks every rule a running gateway relies on; the first problem is returned, naming the
    /// file (`path`), the server and the field.
    ///
    /// Rules: `gateway.bind` is a loopback address; server names are 1–48 characters of
    /// `A-Z a-z 0-9 _ -`, start with a letter or digit and do not contain `__` (the namespace
    /// separator); each server has exactly one of `command` / `url`; URLs are http(s); header
    /// names and values are valid HTTP.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |field: FieldPath, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            field,
            message,
        };
        if !self.gateway.bind.is_loopback() && !self.gateway.unsafe_allow_non_loopback {
            return Err(invalid(
                FieldPath::gateway("bind"),
                format!(
                    "{} is not a loopback address; Loopgate only listens on 127.0.0.1 or ::1 \
                     (set \"unsafeAllowNonLoopback\": true in \"gateway\" only if the network is trusted)",
                    self.gateway.bind
                ),
            ));
        }
        let activity = &self.gateway.activity;
        for (key, value) in [
            ("retentionDays", activity.retention_days),
            ("maxMb", activity.max_mb),
        ] {
            if value.is_some_and(|v| !v.is_finite() || v <= 0.0) {
                return Err(invalid(
                    FieldPath::gateway("activity").join(&FieldPath::field(&[key])),
                    format!("\"{key}\" must be a number above 0 (to stop recording, set \"enabled\": false)"),
                ));
            }
        }
        for (name, entry) in &self.mcp_servers {
            validate_server_name(name).map_err(|m| invalid(FieldPath::server(name), m))?;
            let in_entry =
                |e: FieldError| invalid(FieldPath::server(name).join(&e.field), e.message);
            entry.check_tool_prefix().map_err(in_entry)?;
            entry.backend().map_err(in_entry)?;
            entry.check_secret_refs().map_err(in_entry)?;
        }
        self.check_profiles()
            .map_err(|e| invalid(e.field, e.message))
    }

    /// Checks `profiles`, `clientProfiles` and `gateway.profile`: profile names follow the
    /// server-name rules, and every server, tool list and profile they name exists. Errors
    /// carry paths from the top of the file.
    pub fn check_profiles(&self) -> Result<(), FieldError> {
        let at = |keys: &[&str], message: String| FieldError::new(keys, message);
        for (name, profile) in &self.profiles {
            validate_server_name(name).map_err(|m| {
                at(
                    &["profiles", name],
                    m.replace("server names", "profile names"),
                )
            })?;
            let servers = profile.servers.iter().flatten();
            for server in servers.chain(profile.disabled_tools.keys()) {
                if !self.mcp_servers.contains_key(server) {
                    return Err(at(
                        &["profiles", name],
                        format!("names the server \"{server}\", which is not in \"mcpServers\"; remove it from the profile or add the server"),
                    ));
                }
                if !profile.has_server(server) {
                    return Err(at(
                        &["profiles", name, "disabledTools", server],
                        format!("hides tools of \"{server}\", which is not among the profile's \"servers\""),
                    ));
                }
            }
        }
        let known = |profile: &str| self.profiles.contains_key(profile);
        for (client, profile) in &self.client_profiles {
            if !known(profile) {
                return Err(at(
                    &["clientProfiles", client],
                    format!("names the profile \"{profile}\", which is not in \"profiles\""),
                ));
            }
        }
        if let Some(profile) = self.gateway.profile.as_deref().filter(|p| !known(p)) {
            return Err(at(
                &["gateway", "profile"],
                format!("names the profile \"{profile}\", which is not in \"profiles\""),
            ));
        }
        Ok(())
    }
}

/// Checks a server name against the rules in [`Config::validate`]; `Err` says what is wrong.
pub fn validate_server_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > MAX_SERVER_NAME_LEN {
        return Err(format!(
            "server names must be 1 to {MAX_SERVER_NAME_LEN} characters"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || !name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Err("server names may use only letters, digits, '_' and '-', and start with a letter or digit".into());
    }
    if name.contains("__") || name.ends_with('_') {
        return Err(
            "server names may not contain \"__\" or end with \"_\" (\"__\" separates server and tool in tool names, so neither may blur it)"
                .into(),
        );
    }
    if RESERVED_SERVER_NAMES.contains(&name) {
        return Err(format!(
            "\"{name}\" is reserved (Loopgate's own keychain records start with it); choose another name"
        ));
    }
    Ok(())
}

/// Server names that would make a server's form secrets (`<server>.<KEY>`) collide with
/// Loopgate's own keychain records ([`crate::secrets::INTERNAL_PREFIXES`]).
pub const RESERVED_SERVER_NAMES: [&str; 3] = ["oauth", "gateway-token", "client-tokens"];

impl ServerEntry {
    /// Validates the entry into a [`Backend`].
    ///
    /// Errors name the field relative to the entry: e.g. `url` when neither or both of
    /// `command` and `url` are set, or the URL is not http(s); `headers.<name>` for a header
    /// that is not valid HTTP.
    pub fn backend(&self) -> Result<Backend, FieldError> {
        match (&self.command, &self.url) {
            (Some(_), Some(_)) => Err(FieldError::new(
                &["url"],
                "set either \"command\" (stdio server) or \"url\" (HTTP server), not both",
            )),
            (None, None) => Err(FieldError::new(
                &["command"],
                "missing \"command\" (stdio server) or \"url\" (HTTP server)",
            )),
            (Some(command), None) => {
                if command.trim().is_empty() {
                    return Err(FieldError::new(&["command"], "is empty"));
                }
                if let Some(kind) = &self.kind {
                    if kind != "stdio" {
                        return Err(FieldError::new(
                            &["type"],
                            format!(
                                "\"{kind}\" does not match a stdio server (\"command\" is set)"
                            ),
                        ));
                    }
                }
                Ok(Backend::Stdio {
                    command: command.clone(),
                    args: self.args.clone(),
                    env: self
                        .env
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    cwd: self.cwd.clone(),
                    inherit_env: self.inherit_env.clone(),
                })
            }
            (None, Some(url)) => {
                let parsed = url::Url::parse(url).map_err(|e| {
                    FieldError::new(&["url"], format!("\"{url}\" is not a valid URL: {e}"))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(FieldError::new(
                        &["url"],
                        format!("\"{url}\" must start with http:// or https://"),
                    ));
                }
                if let Some(kind) = &self.kind {
                    if !matches!(kind.as_str(), "http" | "streamable-http" | "streamableHttp") {
                        return Err(FieldError::new(&["type"], format!("\"{kind}\" is not supported for URL servers; Loopgate speaks Streamable HTTP (\"http\")")));
                    }
                }
                for (k, v) in &self.headers {
                    if ["accept", "mcp-session-id", "last-event-id", "content-type"]
                        .contains(&k.to_ascii_lowercase().as_str())
                    {
                        return Err(FieldError::new(
                            &["headers", k],
                            format!("\"{k}\" is set by Loopgate itself and cannot be configured"),
                        ));
                    }
                    http::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                        FieldError::new(
                            &["headers", k],
                            format!("\"{k}\" is not a valid HTTP header name"),
                        )
                    })?;
                    http::HeaderValue::from_str(v).map_err(|_| {
                        FieldError::new(
                            &["headers", k],
                            format!("the value of \"{k}\" is not a valid HTTP header value"),
                        )
                    })?;
                }
                let static_auth = self
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("authorization"));
                let oauth = match self.auth {
                    Some(ServerAuth::None) => None,
                    Some(ServerAuth::OAuth) if static_auth => {
                        return Err(FieldError::new(&["auth"],
                            "\"oauth\" cannot be combined with an Authorization header; remove one of them",
                        ))
                    }
                    _ if static_auth => None,
                    _ => Some(self.oauth.clone().unwrap_or_default()),
                };
                if let Some(o) = &oauth {
                    if let Some(u) = &o.client_metadata_url {
                        if !u.starts_with("https://") {
                            return Err(FieldError::new(
                                &["oauth"],
                                format!("clientMetadataUrl \"{u}\" must be an https:// URL"),
                            ));
                        }
                    }
                    if o.client_secret.is_some() && o.client_id.is_none() {
                        return Err(FieldError::new(
                            &["oauth"],
                            "clientSecret needs the clientId it belongs to",
                        ));
                    }
                }
                Ok(Backend::Http {
                    url: url.clone(),
                    headers: self
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    oauth,
                })
            }
        }
    }

    /// Checks `toolPrefix`: at most [`MAX_TOOL_PREFIX_LEN`] letters, digits, `_`, `-` or `.`
    /// (`""` for no prefix).
    pub fn check_tool_prefix(&self) -> Result<(), FieldError> {
        let Some(prefix) = &self.tool_prefix else {
            return Ok(());
        };
        let usable = prefix.len() <= MAX_TOOL_PREFIX_LEN
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if usable {
            Ok(())
        } else {
            Err(FieldError::new(
                &["toolPrefix"],
                format!("\"{prefix}\" is not usable in tool names: use at most {MAX_TOOL_PREFIX_LEN} letters, digits, '_', '-' or '.' (\"\" for none)"),
            ))
        }
    }

    /// Checks every `${secret:NAME}` reference: a valid user secret name, never one of
    /// Loopgate's own records (`${secret:oauth.github}` would send GitHub's OAuth tokens to this
    /// server). Errors name the field, e.g. `headers.Authorization`.
    pub fn check_secret_refs(&self) -> Result<(), FieldError> {
        let client_secret = self
            .oauth
            .as_ref()
            .and_then(|o| o.client_secret.as_ref())
            .map(|v| (FieldPath::field(&["oauth", "clientSecret"]), v));
        let fields = self
            .env
            .iter()
            .map(|(k, v)| (FieldPath::field(&["env", k]), v))
            .chain(
                self.headers
                    .iter()
                    .map(|(k, v)| (FieldPath::field(&["headers", k]), v)),
            )
            .chain(client_secret);
        for (field, value) in fields {
            for name in crate::secrets::references(value) {
                crate::secrets::validate_name(&name).map_err(|e| FieldError {
                    field: field.clone(),
                    message: format!("${{secret:{name}}}: {e}"),
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{OAuthSettings, DEFAULT_PORT};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let c = Config::parse(text, Path::new("c.json"))?;
        c.validate(Path::new("c.json"))?;
        Ok(c)
    }

    #[test]
    fn activity_settings_have_defaults_and_refuse_non_positive_limits() {
        let c = parse(r#"{"mcpServers":{}}"#).unwrap();
        assert!(c.gateway.activity.is_enabled());
        assert_eq!(c.gateway.activity.max_bytes(), 100_000_000);
        assert_eq!(c.gateway.activity.retention().as_secs(), 7 * 86_400);
        assert!(!serde_json::to_string(&c).unwrap().contains("activity"));
        let c =
            parse(r#"{"gateway":{"activity":{"enabled":false,"retentionDays":0.5,"maxMb":0.2}}}"#)
                .unwrap();
        assert!(!c.gateway.activity.is_enabled());
        assert_eq!(c.gateway.activity.max_bytes(), 200_000);
        assert_eq!(c.gateway.activity.retention().as_secs(), 43_200);
        let e = parse(r#"{"gateway":{"activity":{"maxMb":0}}}"#).unwrap_err();
        assert!(e.to_string().contains("gateway.activity.maxMb"), "{e}");
        assert!(parse(r#"{"gateway":{"activity":{"retentionDays":-1}}}"#).is_err());
        assert!(
            parse(r#"{"gateway":{"activity":{"keep":1}}}"#).is_err(),
            "unknown keys are typos"
        );
    }

    #[test]
    fn parses_both_kinds_and_keeps_unknown_keys() {
        let c = parse(
            r#"{"mcpServers":{"a":{"command":"node","args":["x"],"env":{"K":"v"},"disabledTools":["t"],"foo":1},
                "b":{"url":"http://127.0.0.1:1/mcp","headers":{"X-A":"1"}}},"other":true}"#,
        )
        .unwrap();
        assert!(matches!(
            c.mcp_servers["a"].backend().unwrap(),
            Backend::Stdio { .. }
        ));
        assert!(matches!(
            c.mcp_servers["b"].backend().unwrap(),
            Backend::Http { .. }
        ));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["mcpServers"]["a"]["foo"], 1);
        assert_eq!(back["other"], true);
        assert_eq!(back["mcpServers"]["a"]["disabledTools"][0], "t");
        assert_eq!(c.gateway.port, DEFAULT_PORT);
    }

    #[test]
    fn oauth_keys_decide_whether_a_server_may_sign_in() {
        let oauth = |entry: &str| {
            let c = Config::parse(
                &format!(r#"{{"mcpServers":{{"s":{entry}}}}}"#),
                Path::new("c.json"),
            )
            .unwrap();
            match c.mcp_servers["s"].backend() {
                Ok(Backend::Http { oauth, .. }) => Ok(oauth),
                Ok(other) => panic!("not http: {other:?}"),
                Err(e) => Err(e.to_string()),
            }
        };
        let url = r#""url":"https://mcp.example.com/mcp""#;
        assert_eq!(
            oauth(&format!("{{{url}}}")),
            Ok(Some(OAuthSettings::default())),
            "on by default"
        );
        assert_eq!(oauth(&format!(r#"{{{url},"auth":"none"}}"#)), Ok(None));
        assert_eq!(
            oauth(&format!(
                r#"{{{url},"headers":{{"authorization":"Bearer x"}}}}"#
            )),
            Ok(None),
            "a static Authorization header turns OAuth off"
        );
        let both = oauth(&format!(
            r#"{{{url},"auth":"oauth","headers":{{"Authorization":"Bearer x"}}}}"#
        ));
        assert!(both.unwrap_err().starts_with("auth: "));
        let settings = oauth(&format!(
            r#"{{{url},"oauth":{{"clientId":"c","clientSecret":"${{secret:S}}","scopes":["a","b"]}}}}"#
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            (settings.client_id.as_deref(), settings.scopes.len()),
            (Some("c"), 2)
        );
        assert!(
            !format!("{settings:?}").contains("secret:S"),
            "Debug hides the client secret"
        );
        let c = Config::parse(
            &format!(r#"{{"mcpServers":{{"s":{{{url},"oauth":{{"clientId":"c","clientSecret":"${{secret:S}}"}}}}}}}}"#),
            Path::new("c.json"),
        )
        .unwrap();
        assert_eq!(c.mcp_servers["s"].secret_refs(), ["S"]);
        assert!(
            oauth(&format!(r#"{{{url},"oauth":{{"clientSecret":"x"}}}}"#))
                .unwrap_err()
                .contains("clientId")
        );
        assert!(oauth(&format!(
            r#"{{{url},"oauth":{{"clientMetadataUrl":"http://x/c.json"}}}}"#
        ))
        .unwrap_err()
        .contains("https://"));
    }

    #[test]
    fn profiles_name_only_what_exists() {
        let base = r#""mcpServers":{"github":{"url":"https://x/mcp"},"fs":{"command":"x"}}"#;
        let ok = format!(
            r#"{{{base},"profiles":{{"coding":{{"servers":["github"],"disabledTools":{{"github":["delete_repo"]}}}}}},"clientProfiles":{{"cursor":"coding"}},"gateway":{{"profile":"coding"}}}}"#
        );
        let c = parse(&ok).unwrap();
        assert!(c.profiles["coding"].has_tool("github", "search"));
        for (bad, path) in [
            (r#""profiles":{"p":{"servers":["nope"]}}"#, "profiles.p"),
            (
                r#""profiles":{"p":{"servers":["fs"],"disabledTools":{"github":["x"]}}}"#,
                "profiles.p.disabledTools.github",
            ),
            (
                r#""clientProfiles":{"cursor":"missing"}"#,
                "clientProfiles.cursor",
            ),
            (r#""gateway":{"profile":"missing"}"#, "gateway.profile"),
            (r#""profiles":{"a__b":{}}"#, "profiles.a__b"),
        ] {
            let err = parse(&format!("{{{base},{bad}}}")).unwrap_err().to_string();
            assert!(err.contains(path), "{bad}: {err}");
        }
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse("{\n  \"mcpServers\": {,}\n}").unwrap_err();
        match err {
            ConfigError::Parse { line, column, .. } => assert_eq!((line, column), (2, 18)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn invalid_entries_name_server_and_field() {
        let err = parse(r#"{"mcpServers":{"srv":{"url":"ftp://x"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mcpServers.srv.url"), "{err}");
        let err = parse(r#"{"mcpServers":{"srv":{}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mcpServers.srv.command"), "{err}");
        let err = parse(r#"{"mcpServers":{"a__b":{"command":"x"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"__\""), "{err}");
        let err = parse(r#"{"gateway":{"bind":"0.0.0.0"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("gateway.bind"), "{err}");
        let err = parse(r#"{"mcpServers":{"s":{"url":"http://x","headers":{"Bad Name":"v"}}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mcpServers.s.headers"), "{err}");
    }

    #[test]
    fn internal_records_are_out_of_reach() {
        // A reference to Loopgate's own records (here: GitHub's OAuth tokens) is refused.
        let err = parse(
            r#"{"mcpServers":{"s":{"url":"https://x","headers":{"Authorization":"Bearer ${secret:oauth.github}"}}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mcpServers.s.headers.Authorization") && err.contains("reserved"),
            "{err}"
        );
        for reference in ["${secret:gateway-token.x}", "${secret:client-tokens.x}"] {
            let text = format!(
                r#"{{"mcpServers":{{"s":{{"command":"x","env":{{"K":"{reference}"}}}}}}}}"#
            );
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains("mcpServers.s.env.K"), "{err}");
        }
        // Server names whose form secrets would land among the records.
        for name in RESERVED_SERVER_NAMES {
            let text = format!(r#"{{"mcpServers":{{"{name}":{{"command":"x"}}}}}}"#);
            assert!(
                parse(&text).unwrap_err().to_string().contains("reserved"),
                "{name}"
            );
        }
        // A trailing "_" would blur the server/tool separator: a_ + b vs a + _b.
        let err = parse(r#"{"mcpServers":{"a_":{"command":"x"}}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("end with"), "{err}");
        assert!(
            parse(r#"{"mcpServers":{"a_b":{"command":"x","env":{"K":"${secret:MY_KEY}"}}}}"#)
                .is_ok()
        );
    }
}
