//! JSON and JSONC client files (VS Code, Zed, opencode, Gemini CLI … and plain JSON ones),
//! edited through `jsonc-parser`'s concrete syntax tree: comments, trailing commas,
//! indentation and key order stay as the user wrote them; only the changed entry is new text.

use indexmap::IndexMap;
use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use jsonc_parser::ParseOptions;
use serde_json::Value;

use super::ConfigDoc;

/// A JSON(C) file being edited.
pub struct JsonDoc {
    root: CstRootNode,
    /// Whether the file was empty (or missing): then the text ends with a newline.
    new_file: bool,
}

/// A JSON value as the syntax tree's input (numbers keep their text).
fn input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(input).collect()),
        Value::Object(o) => {
            CstInputValue::Object(o.iter().map(|(k, v)| (k.clone(), input(v))).collect())
        }
    }
}

impl JsonDoc {
    /// Parses `text` (empty text is an empty document). Errors: the parser's message.
    pub fn parse(text: &str) -> Result<JsonDoc, String> {
        let root = CstRootNode::parse(text, &ParseOptions::default()).map_err(|e| e.to_string())?;
        if root.value().is_some() && root.object_value().is_none() {
            return Err("the top level is not an object".into());
        }
        Ok(JsonDoc {
            root,
            new_file: text.trim().is_empty(),
        })
    }

    fn servers_object(&self, key: &str) -> Result<Option<CstObject>, String> {
        let Some(obj) = self.root.object_value() else {
            return Ok(None);
        };
        let Some(prop) = obj.get(key) else {
            return Ok(None);
        };
        match prop.object_value() {
            Some(o) => Ok(Some(o)),
            None => Err(format!("\"{key}\" is not an object")),
        }
    }
}

impl ConfigDoc for JsonDoc {
    fn servers(&self, key: &str) -> Result<IndexMap<String, Value>, String> {
        let Some(servers) = self.servers_object(key)? else {
            return Ok(IndexMap::new());
        };
        Ok(servers
            .properties()
            .into_iter()
            .filter_map(|p| {
                let name = p.name()?.decoded_value().ok()?;
                let value = p.value()?.to_serde_value()?;
                Some((name, value))
            })
            .collect())
    }

    fn set(&mut self, key: &str, name: &str, entry: &Value) -> Result<(), String> {
        let root = self.root.object_value_or_set();
        let servers = root
            .object_value_or_create(key)
            .ok_or_else(|| format!("\"{key}\" is not an object"))?;
        match servers.get(name) {
            Some(prop) => prop.set_value(input(entry)),
            None => {
                servers.append(name, input(entry));
            }
        }
        Ok(())
    }

    fn remove(&mut self, key: &str, name: &str) -> Result<bool, String> {
        let Some(servers) = self.servers_object(key)? else {
            return Ok(false);
        };
        let Some(prop) = servers.get(name) else {
            return Ok(false);
        };
        prop.remove();
        if servers.properties().is_empty() {
            if let Some(p) = self.root.object_value().and_then(|o| o.get(key)) {
                p.remove();
            }
        }
        Ok(true)
    }

    fn is_empty(&self) -> bool {
        let no_comments = !self.root.children().iter().any(|c| c.is_comment());
        no_comments
            && self
                .root
                .object_value()
                .is_none_or(|o| o.properties().is_empty())
    }

    fn value(&self) -> Value {
        self.root
            .value()
            .and_then(|v| v.to_serde_value())
            .unwrap_or_else(|| Value::Object(Default::default()))
    }

    fn text(&self) -> String {
        let mut t = self.root.to_string();
        if self.new_file && !t.ends_with('\n') {
            t.push('\n');
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(original: &str) -> String {
        let entry = json!({"type": "http", "url": "http://127.0.0.1:7337/mcp", "headers": {"Authorization": "Bearer t"}});
        let mut doc = JsonDoc::parse(original).unwrap();
        doc.set("servers", "loopgate", &entry).unwrap();
        let installed = doc.text();
        let mut again = JsonDoc::parse(&installed).unwrap();
        assert_eq!(again.servers("servers").unwrap()["loopgate"], entry);
        assert!(again.remove("servers", "loopgate").unwrap());
        assert_eq!(again.text(), original, "after install:\n{installed}");
        installed
    }

    #[test]
    fn comments_and_trailing_commas_survive_and_uninstall_is_byte_exact() {
        let vscode = "// My MCP servers\n{\n    \"servers\": {\n        // GitHub's\n        \"github\": {\"type\": \"http\", \"url\": \"https://api.githubcopilot.com/mcp/\"},\n    },\n    /* inputs */\n    \"inputs\": [],\n}\n";
        let installed = round_trip(vscode);
        assert!(installed.contains("// GitHub's") && installed.contains("/* inputs */"));
        assert!(installed.contains("        \"loopgate\": {"), "{installed}");
        let plain = "{\n  \"mcpServers\": {\n    \"x\": {\"command\": \"npx\"}\n  }\n}\n";
        round_trip(plain);
        let other = "{\n  \"theme\": \"dark\"\n}\n";
        round_trip(other);
    }

    #[test]
    fn a_new_file_is_pretty_json_and_strict_json_gets_no_trailing_comma() {
        let mut doc = JsonDoc::parse("").unwrap();
        doc.set("mcpServers", "loopgate", &json!({"url": "u"}))
            .unwrap();
        let text = doc.text();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"mcpServers": {"loopgate": {"url": "u"}}}),
            "{text}"
        );
        let gemini = "{\n  // comment\n  \"general\": {\"enableAutoUpdate\": false}\n}\n";
        let mut doc = JsonDoc::parse(gemini).unwrap();
        doc.set("mcpServers", "loopgate", &json!({"url": "u"}))
            .unwrap();
        let text = doc.text();
        assert!(!text.contains(",\n}") && !text.contains(",}"), "{text}");
    }

    #[test]
    fn refuses_what_it_cannot_edit() {
        assert!(JsonDoc::parse("[1]").is_err());
        assert!(JsonDoc::parse("{\"a\": ").is_err());
        let mut doc = JsonDoc::parse("{\"mcpServers\": 3}").unwrap();
        assert!(doc.servers("mcpServers").is_err());
        assert!(doc.set("mcpServers", "x", &json!({})).is_err());
    }
}
