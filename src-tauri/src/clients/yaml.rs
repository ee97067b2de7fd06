//! YAML client files: Goose's `config.yaml` (edited), Continue's `config.yaml` and drop-in
//! files (read for import only).
//!
//! There is no well-kept format-preserving YAML editor for Rust, so Goose's file gets a
//! clearly scoped minimal edit: only the lines of one entry under the top-level block mapping
//! `extensions:` are added or removed, every other line stays byte for byte. The edit is then
//! checked by parsing the new text (`serde_norway`): it must hold exactly the old document
//! plus (or minus) that entry, else nothing is written. A file whose `extensions` is not a
//! block mapping (flow style, anchors under it) is refused with a message.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::ConfigDoc;

/// A YAML file being edited.
pub struct YamlDoc {
    text: String,
    value: Value,
}

fn parse_value(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let v: Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    match v {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(v),
        _ => Err("the top level is not a mapping".into()),
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Whether `line` (at `indent`) is the key `name` of a block mapping.
fn is_key_line(line: &str, indent: usize, name: &str) -> bool {
    if indent_of(line) != indent {
        return false;
    }
    let rest = &line[indent..];
    [
        format!("{name}:"),
        format!("\"{name}\":"),
        format!("'{name}':"),
    ]
    .iter()
    .any(|k| {
        rest.strip_prefix(k.as_str())
            .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\n', '\r']))
    })
}

/// A key as YAML: plain when that is unambiguous, else double-quoted.
fn yaml_key(k: &str) -> String {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        k.to_string()
    } else {
        Value::from(k).to_string()
    }
}

/// `key: value` lines at `indent`: maps as nested blocks, everything else in JSON form (a
/// subset of YAML's flow style).
fn emit(out: &mut String, indent: usize, step: usize, key: &str, v: &Value) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push_str(&format!("{pad}{}:\n", yaml_key(key)));
            for (k, v) in m {
                emit(out, indent + step, step, k, v);
            }
        }
        _ => out.push_str(&format!("{pad}{}: {v}\n", yaml_key(key))),
    }
}

impl YamlDoc {
    /// Parses `text`. Errors: the parser's message.
    pub fn parse(text: &str) -> Result<YamlDoc, String> {
        Ok(YamlDoc {
            value: parse_value(text)?,
            text: text.to_string(),
        })
    }

    fn lines(&self) -> Vec<String> {
        self.text.split_inclusive('\n').map(String::from).collect()
    }

    /// The line of top-level `key` and whether its value is the empty flow map `{}`.
    fn key_line(lines: &[String], key: &str) -> Result<Option<(usize, bool)>, String> {
        let Some(i) = lines.iter().position(|l| is_key_line(l, 0, key)) else {
            return Ok(None);
        };
        let after = lines[i].split_once(':').map(|x| x.1).unwrap_or("");
        let after = after.split(" #").next().unwrap_or("").trim();
        match after {
            "" => Ok(Some((i, false))),
            "{}" => Ok(Some((i, true))),
            _ => Err(format!(
                "\"{key}\" is not a block mapping Loopgate can edit"
            )),
        }
    }

    /// The indent of `key`'s entries and the end (exclusive) of its block.
    fn block(lines: &[String], start: usize) -> (usize, usize) {
        let mut end = lines.len();
        let mut child = None;
        for (j, l) in lines.iter().enumerate().skip(start + 1) {
            if l.trim().is_empty() {
                continue;
            }
            if indent_of(l) == 0 {
                end = j;
                break;
            }
            if child.is_none() && !is_blank_or_comment(l) {
                child = Some(indent_of(l));
            }
        }
        while end > start + 1 && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        (child.unwrap_or(2), end)
    }

    /// Removes entry `name`'s lines, and `key`'s line when `drop_empty` and nothing is left
    /// under it; whether the entry was there.
    fn cut(
        lines: &mut Vec<String>,
        key: &str,
        name: &str,
        drop_empty: bool,
    ) -> Result<bool, String> {
        let Some((start, _)) = Self::key_line(lines, key)? else {
            return Ok(false);
        };
        let (child, end) = Self::block(lines, start);
        let Some(first) = (start + 1..end).find(|&j| is_key_line(&lines[j], child, name)) else {
            return Ok(false);
        };
        let mut last = (first + 1..end)
            .find(|&j| !lines[j].trim().is_empty() && indent_of(&lines[j]) <= child)
            .unwrap_or(end);
        while last > first + 1 && lines[last - 1].trim().is_empty() {
            last -= 1;
        }
        lines.drain(first..last);
        let (_, end) = Self::block(lines, start);
        if drop_empty && !(start + 1..end).any(|j| !is_blank_or_comment(&lines[j])) {
            lines.drain(start..end);
        }
        Ok(true)
    }

    /// Takes the new text if it parses to `want`, else refuses.
    fn commit(&mut self, lines: Vec<String>, want: Value) -> Result<(), String> {
        let text: String = lines.concat();
        let got = parse_value(&text)?;
        if got != want {
            return Err(
                "the edit did not give the expected document; edit the file by hand".into(),
            );
        }
        self.text = text;
        self.value = got;
        Ok(())
    }
}

impl ConfigDoc for YamlDoc {
    fn servers(&self, key: &str) -> Result<IndexMap<String, Value>, String> {
        match self.value.get(key) {
            None | Some(Value::Null) => Ok(IndexMap::new()),
            Some(Value::Object(m)) => Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            Some(_) => Err(format!("\"{key}\" is not a mapping")),
        }
    }

    fn set(&mut self, key: &str, name: &str, entry: &Value) -> Result<(), String> {
        self.servers(key)?;
        let mut want = self.value.clone();
        let servers = want
            .as_object_mut()
            .expect("a mapping")
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        if servers.is_null() {
            *servers = Value::Object(Map::new());
        }
        servers
            .as_object_mut()
            .expect("checked")
            .insert(name.to_string(), entry.clone());
        let mut lines = self.lines();
        Self::cut(&mut lines, key, name, false)?;
        if lines.last().is_some_and(|l| !l.ends_with('\n')) {
            lines.last_mut().expect("not empty").push('\n');
        }
        let (at, child) = match Self::key_line(&lines, key)? {
            Some((i, empty_flow)) => {
                if empty_flow {
                    lines[i] = format!("{}:\n", yaml_key(key));
                }
                let (child, end) = Self::block(&lines, i);
                (end, child)
            }
            None => {
                lines.push(format!("{}:\n", yaml_key(key)));
                (lines.len(), 2)
            }
        };
        let mut block = String::new();
        emit(&mut block, child, 2, name, entry);
        lines.insert(at, block);
        self.commit(lines, want)
    }

    fn remove(&mut self, key: &str, name: &str) -> Result<bool, String> {
        if !self.servers(key)?.contains_key(name) {
            return Ok(false);
        }
        let mut want = self.value.clone();
        let servers = want[key].as_object_mut().expect("checked");
        servers.remove(name);
        if servers.is_empty() {
            want.as_object_mut().expect("a mapping").remove(key);
        }
        let mut lines = self.lines();
        if !Self::cut(&mut lines, key, name, true)? {
            return Err(format!(
                "\"{name}\" is not a block entry Loopgate can remove"
            ));
        }
        self.commit(lines, want)?;
        Ok(true)
    }

    fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    fn value(&self) -> Value {
        self.value.clone()
    }

    fn text(&self) -> String {
        self.text.clone()
    }
}

/// Continue's `mcpServers` list entries (`{name, type, url, requestOptions: {headers}, command,
/// …}`) in Claude's shape, by name.
fn continue_list(list: Option<&Value>, out: &mut IndexMap<String, Value>) {
    for s in list.and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = s.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut e = s.as_object().cloned().unwrap_or_default();
        e.remove("name");
        if let Some(h) = e
            .remove("requestOptions")
            .and_then(|r| r.get("headers").cloned())
        {
            e.insert("headers".into(), h);
        }
        if e.get("type").and_then(Value::as_str) == Some("streamable-http") {
            e.insert("type".into(), "http".into());
        }
        out.insert(name.to_string(), Value::Object(e));
    }
}

/// The servers Continue has besides Loopgate's drop-in file `own`: those of its `config.yaml`
/// and of the other files in the drop-in folder (`*.json` in Claude's shape, `*.yaml`).
/// Errors: the file that does not parse, and why.
pub fn continue_servers(own: &Path) -> Result<IndexMap<String, Value>, (PathBuf, String)> {
    let mut out = IndexMap::new();
    let Some(dir) = own.parent() else {
        return Ok(out);
    };
    let not_editable = |path: &Path, message: String| (path.to_path_buf(), message);
    let mut files = vec![];
    if let Some(global) = dir.parent() {
        files.push(global.join("config.yaml"));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut more: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        more.sort();
        files.extend(more.into_iter().filter(|p| p != own));
    }
    for path in files {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "yaml" | "yml" | "json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if ext == "json" {
            let v = super::jsonc::JsonDoc::parse(&text).map_err(|m| not_editable(&path, m))?;
            let servers = v
                .servers("mcpServers")
                .map_err(|m| not_editable(&path, m))?;
            out.extend(servers);
        } else {
            let v = parse_value(&text).map_err(|m| not_editable(&path, m))?;
            continue_list(v.get("mcpServers"), &mut out);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GOOSE: &str = "# Goose\nGOOSE_PROVIDER: openai\nextensions:\n  developer:\n    bundled: true\n    enabled: true\n    name: developer\n    timeout: 300\n    type: builtin\n\n  memory:\n    cmd: npx\n    args:\n    - -y\n    - server-memory\n    enabled: true\n    envs: {}\n    name: memory\n    type: stdio\nGOOSE_MODEL: gpt-4o # the model\n";

    fn entry() -> Value {
        json!({"enabled": true, "type": "streamable_http", "name": "loopgate", "uri": "http://127.0.0.1:7337/mcp", "headers": {"Authorization": "Bearer t"}, "timeout": 300})
    }

    #[test]
    fn goose_install_then_uninstall_is_byte_exact() {
        for original in [
            GOOSE,
            "",
            "GOOSE_MODEL: x\n",
            "extensions: {}\nx: 1\n",
            "a: 1",
        ] {
            let mut doc = YamlDoc::parse(original).unwrap();
            doc.set("extensions", "loopgate", &entry()).unwrap();
            let installed = doc.text();
            let again = YamlDoc::parse(&installed).unwrap();
            assert_eq!(again.servers("extensions").unwrap()["loopgate"], entry());
            let mut doc = YamlDoc::parse(&installed).unwrap();
            // Idempotent: setting it again gives the same text.
            doc.set("extensions", "loopgate", &entry()).unwrap();
            assert_eq!(doc.text(), installed);
            assert!(doc.remove("extensions", "loopgate").unwrap());
            let back = doc.text();
            match original {
                "extensions: {}\nx: 1\n" => assert_eq!(back, "x: 1\n"),
                "a: 1" => assert_eq!(back, "a: 1\n"),
                _ => assert_eq!(back, original, "installed:\n{installed}"),
            }
        }
    }

    #[test]
    fn goose_entry_lands_inside_extensions_with_its_indent() {
        let mut doc = YamlDoc::parse(GOOSE).unwrap();
        doc.set("extensions", "loopgate", &entry()).unwrap();
        let t = doc.text();
        assert!(
            t.contains("    type: stdio\n  loopgate:\n    enabled: true\n"),
            "{t}"
        );
        assert!(t.ends_with("GOOSE_MODEL: gpt-4o # the model\n"), "{t}");
        let servers = YamlDoc::parse(&t).unwrap().servers("extensions").unwrap();
        assert_eq!(servers.len(), 3);
        assert!(YamlDoc::parse("extensions: {a: 1}\n")
            .unwrap()
            .set("extensions", "loopgate", &entry())
            .is_err());
    }

    #[test]
    fn continue_servers_from_config_and_drop_ins() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("mcpServers/loopgate.json");
        std::fs::create_dir_all(own.parent().unwrap()).unwrap();
        std::fs::write(dir.path().join("config.yaml"), "name: x\nmcpServers:\n  - name: web\n    type: streamable-http\n    url: https://w/mcp\n    requestOptions:\n      headers:\n        Authorization: Bearer k\n").unwrap();
        std::fs::write(
            dir.path().join("mcpServers/fs.json"),
            r#"{"mcpServers": {"fs": {"command": "npx", "args": ["fs"]}}}"#,
        )
        .unwrap();
        std::fs::write(&own, r#"{"mcpServers": {"loopgate": {"url": "u"}}}"#).unwrap();
        let s = continue_servers(&own).unwrap();
        assert_eq!(s.keys().collect::<Vec<_>>(), ["web", "fs"]);
        assert_eq!(
            s["web"],
            json!({"type": "http", "url": "https://w/mcp", "headers": {"Authorization": "Bearer k"}})
        );
    }
}
