//! What can go wrong with the config, and where in the file: [`ConfigError`] and the typed
//! [`FieldPath`] that names a value (`mcpServers.github.headers.Authorization`).

use std::fmt;
use std::path::PathBuf;

/// Where a value sits in the config file: the keys from the top, e.g. `["mcpServers",
/// "github", "headers", "Authorization"]`. Shown joined with `.`, with a key quoted when it
/// contains a `.`, a space or a quote, or is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// `gateway.<field>`.
    pub fn gateway(field: &str) -> Self {
        FieldPath(vec!["gateway".into(), field.into()])
    }

    /// `mcpServers` itself.
    pub fn servers() -> Self {
        FieldPath(vec!["mcpServers".into()])
    }

    /// The entry of server `name`: `mcpServers.<name>`.
    pub fn server(name: &str) -> Self {
        FieldPath(vec!["mcpServers".into(), name.into()])
    }

    /// A field below a server entry, relative to it: `url`, `headers.<name>`, `env.<KEY>`.
    pub fn field(keys: &[&str]) -> Self {
        FieldPath(keys.iter().map(|k| k.to_string()).collect())
    }

    /// This path with `rest` appended (e.g. a server's path and a relative field path).
    pub fn join(mut self, rest: &FieldPath) -> Self {
        self.0.extend(rest.0.iter().cloned());
        self
    }

    /// The keys, from the top.
    pub fn keys(&self) -> &[String] {
        &self.0
    }

    /// The field of the server form this path is about: the first key below the server entry
    /// (`mcpServers.x.headers.Authorization` → `headers`), `name` for the entry itself, the
    /// field for `gateway.<field>`, `None` otherwise.
    pub fn form_field(&self) -> Option<&str> {
        match self.0.as_slice() {
            [top, _, field, ..] if top == "mcpServers" => Some(field),
            [top, _] if top == "mcpServers" => Some("name"),
            [top, field, ..] if top == "gateway" => Some(field),
            [field, ..] if self.0.len() <= 2 && top_level_field(field) => Some(field),
            _ => None,
        }
    }
}

/// Keys of a server entry, which relative paths start with.
fn top_level_field(key: &str) -> bool {
    !matches!(key, "mcpServers" | "gateway")
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if key.is_empty() || key.contains(['.', ' ', '"']) {
                write!(f, "{key:?}")?;
            } else {
                f.write_str(key)?;
            }
        }
        Ok(())
    }
}

/// A value that is not acceptable: which one (relative to what was checked) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where the value sits (for a server entry: relative to the entry, e.g. `url`).
    pub field: FieldPath,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    /// An error about the field at `keys` (relative to what was checked).
    pub fn new(keys: &[&str], message: impl Into<String>) -> Self {
        FieldError {
            field: FieldPath::field(keys),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything that can go wrong reading or writing the config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("config file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON or does not have the config's shape.
    #[error("config file {path}, line {line}, column {column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A value is well-formed JSON but not acceptable.
    #[error("config file {path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where the value sits, from the top of the file.
        field: FieldPath,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A change names a server that is not in the config.
    #[error("no server named \"{0}\" in the config (see `loopgate servers`)")]
    UnknownServer(String),
    /// A change adds a server under a name the config already has.
    #[error("a server named \"{0}\" already exists; choose another name or edit that server")]
    NameTaken(String),
    /// The file changed on disk in a way Loopgate cannot build on (an edit it cannot read, or
    /// the file was removed); the change was not written, so nothing of the edit is lost.
    #[error("config file {path} was changed outside Loopgate and {why}; Loopgate did not write over it — fix or undo that edit, then try again")]
    Conflict {
        /// The file.
        path: PathBuf,
        /// What is wrong with the file as it is now.
        why: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_show_as_written_in_the_file_and_name_their_form_field() {
        let p = FieldPath::server("github").join(&FieldPath::field(&["headers", "X-Team"]));
        assert_eq!(p.to_string(), "mcpServers.github.headers.X-Team");
        assert_eq!(p.form_field(), Some("headers"));
        let odd = FieldPath::server("a").join(&FieldPath::field(&["env", "my.key"]));
        assert_eq!(odd.to_string(), "mcpServers.a.env.\"my.key\"");
        assert_eq!(FieldPath::server("a").form_field(), Some("name"));
        assert_eq!(FieldPath::gateway("bind").to_string(), "gateway.bind");
        assert_eq!(FieldPath::gateway("bind").form_field(), Some("bind"));
        assert_eq!(FieldPath::field(&["url"]).form_field(), Some("url"));
        assert_eq!(FieldPath::servers().form_field(), None);
    }
}
