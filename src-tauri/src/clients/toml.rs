//! TOML client files (Codex CLI's `config.toml`), edited with `toml_edit`: comments, blank
//! lines, key order and quoting stay as the user wrote them. Loopgate's entry is a table of its
//! own, `[mcp_servers.loopgate]`, with nested maps inline (`http_headers = { … }`).

use indexmap::IndexMap;
use serde_json::{Map, Value};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike};

use super::ConfigDoc;

/// A TOML file being edited.
pub struct TomlDoc {
    doc: DocumentMut,
    /// Whether the file was empty (or missing): then the text ends with a newline.
    new_file: bool,
}

/// A TOML value as JSON (dates as their text).
fn to_json(v: &toml_edit::Value) -> Value {
    use toml_edit::Value as T;
    match v {
        T::String(s) => Value::String(s.value().clone()),
        T::Integer(i) => Value::from(*i.value()),
        T::Float(f) => serde_json::Number::from_f64(*f.value())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        T::Boolean(b) => Value::Bool(*b.value()),
        T::Datetime(d) => Value::String(d.value().to_string()),
        T::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        T::InlineTable(t) => table_to_json(t),
    }
}

fn table_to_json(t: &dyn TableLike) -> Value {
    let mut m = Map::new();
    for (k, item) in t.iter() {
        if let Some(v) = item_to_json(item) {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

fn item_to_json(item: &Item) -> Option<Value> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(to_json(v)),
        Item::Table(t) => Some(table_to_json(t)),
        Item::ArrayOfTables(a) => Some(Value::Array(a.iter().map(|t| table_to_json(t)).collect())),
    }
}

/// A JSON value as a TOML value (`null` has no TOML form: the empty string).
fn to_toml(v: &Value) -> toml_edit::Value {
    match v {
        Value::Null => "".into(),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or_default().into(),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(a) => {
            let mut arr = Array::new();
            a.iter().for_each(|v| arr.push(to_toml(v)));
            toml_edit::Value::Array(arr)
        }
        Value::Object(o) => {
            let mut t = InlineTable::new();
            for (k, v) in o {
                t.insert(k, to_toml(v));
            }
            toml_edit::Value::InlineTable(t)
        }
    }
}

impl TomlDoc {
    /// Parses `text`. Errors: the parser's message.
    pub fn parse(text: &str) -> Result<TomlDoc, String> {
        let doc = text.parse::<DocumentMut>().map_err(|e| e.to_string())?;
        Ok(TomlDoc {
            doc,
            new_file: text.trim().is_empty(),
        })
    }

    fn servers_table(&self, key: &str) -> Result<Option<&dyn TableLike>, String> {
        match self.doc.get(key) {
            None => Ok(None),
            Some(item) => item
                .as_table_like()
                .map(Some)
                .ok_or_else(|| format!("\"{key}\" is not a table")),
        }
    }
}

impl ConfigDoc for TomlDoc {
    fn servers(&self, key: &str) -> Result<IndexMap<String, Value>, String> {
        let Some(t) = self.servers_table(key)? else {
            return Ok(IndexMap::new());
        };
        Ok(t.iter()
            .filter_map(|(k, item)| Some((k.to_string(), item_to_json(item)?)))
            .collect())
    }

    fn set(&mut self, key: &str, name: &str, entry: &Value) -> Result<(), String> {
        self.servers_table(key)?;
        let obj = entry.as_object().ok_or("an entry is a table")?;
        let mut table = Table::new();
        for (k, v) in obj {
            table.insert(k, Item::Value(to_toml(v)));
        }
        let servers = self.doc.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        let servers = servers
            .as_table_like_mut()
            .ok_or_else(|| format!("\"{key}\" is not a table"))?;
        if servers.is_dotted() || servers.get(name).is_some_and(|i| !i.is_table()) {
            // `mcp_servers = { … }` or `mcp_servers.x = …`: keep the user's inline style.
            let inline = match to_toml(entry) {
                toml_edit::Value::InlineTable(t) => t,
                _ => unreachable!("an object"),
            };
            servers.insert(name, Item::Value(toml_edit::Value::InlineTable(inline)));
        } else {
            servers.insert(name, Item::Table(table));
        }
        Ok(())
    }

    fn remove(&mut self, key: &str, name: &str) -> Result<bool, String> {
        if self.servers_table(key)?.is_none() {
            return Ok(false);
        }
        let servers = self.doc[key].as_table_like_mut().expect("checked above");
        if servers.remove(name).is_none() {
            return Ok(false);
        }
        let empty = servers.is_empty();
        let implicit = self.doc[key].as_table().is_some_and(Table::is_implicit);
        if empty && implicit {
            self.doc.remove(key);
        }
        Ok(true)
    }

    fn is_empty(&self) -> bool {
        self.doc.is_empty() && self.doc.to_string().trim().is_empty()
    }

    fn value(&self) -> Value {
        table_to_json(self.doc.as_table())
    }

    fn text(&self) -> String {
        let mut t = self.doc.to_string();
        if self.new_file && !t.is_empty() && !t.ends_with('\n') {
            t.push('\n');
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Value {
        json!({"url": "http://127.0.0.1:7337/mcp", "http_headers": {"Authorization": "Bearer t"}})
    }

    #[test]
    fn codex_config_keeps_comments_and_uninstall_is_byte_exact() {
        let original = "# Codex settings\nmodel = \"gpt-5\"  # the default\n\n[mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"docs-mcp\"]\nenv = { API_KEY = \"k\" } # secret\n\n[profiles.fast]\nmodel = \"o4-mini\"\n";
        let mut doc = TomlDoc::parse(original).unwrap();
        doc.set("mcp_servers", "loopgate", &entry()).unwrap();
        let installed = doc.text();
        for line in original.lines() {
            assert!(installed.contains(line), "{line:?} lost:\n{installed}");
        }
        // Next to the other servers, before the next section.
        assert!(installed.find("[mcp_servers.loopgate]") < installed.find("[profiles.fast]"));
        assert!(installed.contains("[mcp_servers.loopgate]\nurl = \"http://127.0.0.1:7337/mcp\"\nhttp_headers = { Authorization = \"Bearer t\" }\n"), "{installed}");
        let mut again = TomlDoc::parse(&installed).unwrap();
        let servers = again.servers("mcp_servers").unwrap();
        assert_eq!(servers["loopgate"], entry());
        assert_eq!(servers["docs"]["env"]["API_KEY"], "k");
        assert!(again.remove("mcp_servers", "loopgate").unwrap());
        assert_eq!(again.text(), original);
    }

    #[test]
    fn a_file_without_servers_gets_no_empty_table_back() {
        for original in ["", "model = \"o3\"\n", "# just a comment\n"] {
            let mut doc = TomlDoc::parse(original).unwrap();
            doc.set("mcp_servers", "loopgate", &entry()).unwrap();
            let installed = doc.text();
            let mut again = TomlDoc::parse(&installed).unwrap();
            assert_eq!(again.servers("mcp_servers").unwrap()["loopgate"], entry());
            again.remove("mcp_servers", "loopgate").unwrap();
            assert_eq!(again.text(), original, "installed:\n{installed}");
        }
        assert!(TomlDoc::parse("mcp_servers = 3")
            .unwrap()
            .servers("mcp_servers")
            .is_err());
        assert!(TomlDoc::parse("a = ").is_err());
    }
}
