//! Server entries in each client's shape: Loopgate's own entry for a client, what a client's
//! entry connects to (for `doctor`), and a client's entries in Loopgate's `mcpServers` shape
//! (for import). Entries are modelled as JSON values whatever the file's syntax; the
//! [`super::writer`] turns them into TOML or YAML.

use serde_json::{json, Map, Value};

use super::{Format, Transport, Wiring};

/// Loopgate's entry in a client of `format`: Streamable HTTP with `token` in an
/// Authorization header, or the `loopgate connect` command.
pub fn build(format: Format, transport: Transport, w: &Wiring, token: &str) -> Value {
    let exe = w.exe.display().to_string();
    let args = w.connect_args();
    let bearer = format!("Bearer {token}");
    let url = w.mcp_url;
    match (format, transport) {
        (Format::CodexToml, Transport::Http) => {
            json!({"url": url, "http_headers": {"Authorization": bearer}})
        }
        (Format::OpencodeMcp, Transport::Http) => {
            json!({"type": "remote", "url": url, "headers": {"Authorization": bearer}, "enabled": true})
        }
        (Format::OpencodeMcp, Transport::Stdio) => {
            let mut command = vec![exe];
            command.extend(args);
            json!({"type": "local", "command": command, "enabled": true})
        }
        (Format::GooseYaml, Transport::Http) => json!({
            "enabled": true, "type": "streamable_http", "name": "loopgate",
            "description": "Every MCP server behind Loopgate", "uri": url,
            "headers": {"Authorization": bearer}, "timeout": 300
        }),
        (Format::GooseYaml, Transport::Stdio) => json!({
            "enabled": true, "type": "stdio", "name": "loopgate",
            "description": "Every MCP server behind Loopgate", "cmd": exe, "args": args,
            "envs": {}, "timeout": 300
        }),
        (Format::McpServersServerUrl, Transport::Http) => {
            json!({"serverUrl": url, "headers": {"Authorization": bearer}})
        }
        (Format::McpServersHttpUrl, Transport::Http) => {
            json!({"httpUrl": url, "headers": {"Authorization": bearer}})
        }
        (Format::McpServersUrl | Format::ZedContextServers, Transport::Http) => {
            json!({"url": url, "headers": {"Authorization": bearer}})
        }
        (Format::ClineServers, Transport::Http) => {
            json!({"type": "streamableHttp", "url": url, "headers": {"Authorization": bearer}})
        }
        (Format::RooServers, Transport::Http) => {
            json!({"type": "streamable-http", "url": url, "headers": {"Authorization": bearer}})
        }
        (
            Format::McpServersTypedHttp
            | Format::VsCodeServers
            | Format::ContinueDropIn
            | Format::McpServersStdio,
            Transport::Http,
        ) => json!({"type": "http", "url": url, "headers": {"Authorization": bearer}}),
        (Format::VsCodeServers | Format::ClineServers | Format::RooServers, Transport::Stdio) => {
            json!({"type": "stdio", "command": exe, "args": args})
        }
        (_, Transport::Stdio) => json!({"command": exe, "args": args}),
    }
}

/// Which transport an entry of `format` uses; `None` when it is neither.
pub fn transport_of(format: Format, entry: &Value) -> Option<Transport> {
    if http_target(format, entry).is_some() {
        Some(Transport::Http)
    } else if stdio_target(format, entry).is_some() {
        Some(Transport::Stdio)
    } else {
        None
    }
}

fn str_map(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.is_string())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The URL and headers an HTTP entry of `format` connects with (`None`: not an HTTP entry).
pub fn http_target(format: Format, e: &Value) -> Option<(String, Map<String, Value>)> {
    let (url, headers) = match format {
        Format::CodexToml => (e.get("url"), e.get("http_headers")),
        Format::GooseYaml => (e.get("uri"), e.get("headers")),
        Format::McpServersServerUrl => (e.get("serverUrl").or(e.get("url")), e.get("headers")),
        Format::McpServersHttpUrl => (e.get("httpUrl"), e.get("headers")),
        _ => (e.get("url"), e.get("headers")),
    };
    Some((url?.as_str()?.to_string(), str_map(headers)))
}

/// The command line a stdio entry of `format` starts (`None`: not a stdio entry).
pub fn stdio_target(format: Format, e: &Value) -> Option<(String, Vec<String>)> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    match format {
        Format::OpencodeMcp => {
            let mut all = strings(e.get("command"));
            (!all.is_empty()).then(|| (all.remove(0), all))
        }
        Format::GooseYaml => Some((e.get("cmd")?.as_str()?.to_string(), strings(e.get("args")))),
        // Zed before its HTTP variant: {"command": {"path", "args", "env"}}.
        Format::ZedContextServers if e.get("command").is_some_and(Value::is_object) => {
            let c = e.get("command")?;
            Some((c.get("path")?.as_str()?.to_string(), strings(c.get("args"))))
        }
        _ => Some((
            e.get("command")?.as_str()?.to_string(),
            strings(e.get("args")),
        )),
    }
}

/// A client's entry in Loopgate's own `mcpServers` shape, for import. Errors: why it cannot
/// be imported (SSE, a built-in extension, neither a command nor a URL).
pub fn to_loopgate(format: Format, e: &Value) -> Result<Value, String> {
    let ty = e.get("type").and_then(Value::as_str).unwrap_or("");
    if matches!(ty, "sse") || (format == Format::GooseYaml && ty == "sse") {
        return Err("an SSE server; Loopgate speaks Streamable HTTP".into());
    }
    // An untyped `url` is SSE for Qwen Code and Cline.
    let sse_url = match format {
        Format::McpServersHttpUrl => e.get("httpUrl").is_none() && e.get("url").is_some(),
        Format::ClineServers => ty.is_empty() && e.get("url").is_some(),
        _ => false,
    };
    if sse_url {
        return Err(
            "an SSE server (`url` without a Streamable HTTP type); Loopgate speaks Streamable HTTP"
                .into(),
        );
    }
    if format == Format::GooseYaml && !matches!(ty, "stdio" | "streamable_http") {
        return Err(format!(
            "a Goose extension of type \"{ty}\", not an MCP server"
        ));
    }
    let mut out = Map::new();
    if let Some((url, headers)) = http_target(format, e) {
        out.insert("url".into(), url.into());
        if !headers.is_empty() {
            out.insert("headers".into(), Value::Object(headers));
        }
    } else if let Some((command, args)) = stdio_target(format, e) {
        out.insert("command".into(), command.into());
        if !args.is_empty() {
            out.insert("args".into(), args.into());
        }
        let env = match format {
            Format::OpencodeMcp => e.get("environment"),
            Format::GooseYaml => e.get("envs"),
            Format::ZedContextServers if e.get("command").is_some_and(Value::is_object) => {
                e["command"].get("env")
            }
            _ => e.get("env"),
        };
        let env = str_map(env);
        if !env.is_empty() {
            out.insert("env".into(), Value::Object(env));
        }
        if let Some(cwd) = e.get("cwd").and_then(Value::as_str) {
            out.insert("cwd".into(), cwd.into());
        }
    } else {
        return Err("neither a command nor a URL".into());
    }
    let off = e.get("disabled").and_then(Value::as_bool) == Some(true)
        || e.get("enabled").and_then(Value::as_bool) == Some(false);
    if off {
        out.insert("disabled".into(), true.into());
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn wiring() -> Wiring<'static> {
        Wiring {
            mcp_url: "http://127.0.0.1:7337/mcp",
            exe: Path::new("/usr/bin/loopgate"),
            config: Some(Path::new("/tmp/c.json")),
            profile: None,
        }
    }

    #[test]
    fn a_bound_profile_travels_in_the_stdio_command() {
        let w = Wiring {
            profile: Some("work"),
            ..wiring()
        };
        let e = build(Format::McpServersStdio, Transport::Stdio, &w, "");
        assert_eq!(
            e["args"],
            json!(["connect", "--config", "/tmp/c.json", "--profile", "work"])
        );
    }

    #[test]
    fn every_format_round_trips_through_import() {
        // Every format a client of the table uses (a new client's new format is covered the
        // moment it is in the table).
        let mut formats: Vec<Format> = Vec::new();
        for c in crate::clients::table::CLIENTS {
            if !formats.contains(&c.format) {
                formats.push(c.format);
            }
        }
        assert!(formats.len() >= 13, "{formats:?}");
        for f in formats {
            let http = build(f, Transport::Http, &wiring(), "t0k");
            assert_eq!(transport_of(f, &http), Some(Transport::Http), "{f:?}");
            let imported = to_loopgate(f, &http).unwrap();
            assert_eq!(imported["url"], "http://127.0.0.1:7337/mcp", "{f:?}");
            assert_eq!(imported["headers"]["Authorization"], "Bearer t0k", "{f:?}");
            let stdio = build(f, Transport::Stdio, &wiring(), "");
            assert_eq!(transport_of(f, &stdio), Some(Transport::Stdio), "{f:?}");
            let imported = to_loopgate(f, &stdio).unwrap();
            assert_eq!(imported["command"], "/usr/bin/loopgate", "{f:?}");
            assert_eq!(
                imported["args"],
                json!(["connect", "--config", "/tmp/c.json"]),
                "{f:?}"
            );
        }
    }

    #[test]
    fn imports_each_clients_own_shapes() {
        let oc = json!({"type": "local", "command": ["npx", "-y", "srv"], "environment": {"API_KEY": "k"}, "enabled": false});
        assert_eq!(
            to_loopgate(Format::OpencodeMcp, &oc).unwrap(),
            json!({"command": "npx", "args": ["-y", "srv"], "env": {"API_KEY": "k"}, "disabled": true})
        );
        let goose = json!({"type": "stdio", "cmd": "uvx", "args": ["x"], "envs": {"T": "1"}, "enabled": true});
        assert_eq!(
            to_loopgate(Format::GooseYaml, &goose).unwrap(),
            json!({"command": "uvx", "args": ["x"], "env": {"T": "1"}})
        );
        assert!(to_loopgate(
            Format::GooseYaml,
            &json!({"type": "builtin", "name": "developer"})
        )
        .is_err());
        let zed_old = json!({"source": "custom", "command": {"path": "node", "args": ["s.js"], "env": {"A": "b"}}});
        assert_eq!(
            to_loopgate(Format::ZedContextServers, &zed_old).unwrap(),
            json!({"command": "node", "args": ["s.js"], "env": {"A": "b"}})
        );
        assert!(to_loopgate(Format::McpServersHttpUrl, &json!({"url": "http://x/sse"})).is_err());
        assert!(to_loopgate(Format::ClineServers, &json!({"url": "http://x/sse"})).is_err());
        let codex = json!({"url": "https://x/mcp", "http_headers": {"Authorization": "Bearer s3"}});
        assert_eq!(
            to_loopgate(Format::CodexToml, &codex).unwrap(),
            json!({"url": "https://x/mcp", "headers": {"Authorization": "Bearer s3"}})
        );
    }
}
