//! Well-known MCP servers offered as suggestions when adding a server (the dashboard's "Add
//! server" page, the first-run banner), each a ready entry instead of a blank form. A
//! suggestion whose program is on `PATH` (Claude Code's `claude`, `uvx`) is marked detected,
//! and its entry names that program.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A suggested server (an item of `GET /api/suggestions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Suggestion {
    /// The name the server gets in `mcpServers`.
    pub name: String,
    /// What to show.
    pub title: String,
    /// One line on what it gives clients.
    pub description: String,
    /// Its `mcpServers` entry, ready to add (`command`/`args`, or `url`).
    #[cfg_attr(
        test,
        ts(
            type = "{ command?: string, args?: string[], url?: string, env?: Record<string, string> }"
        )
    )]
    pub entry: Value,
    /// The program it needs, when it needs one on `PATH`.
    pub program: Option<String>,
    /// Where that program was found (`None`: not on `PATH`, or none needed).
    pub detected: Option<String>,
    /// Names of `env` values the user must fill in (API keys), if any.
    pub needs: Vec<String>,
}

fn suggestion(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    program: Option<&'static str>,
    entry: Value,
) -> Suggestion {
    let detected = program
        .and_then(|p| which::which(p).ok())
        .map(|p| p.display().to_string());
    Suggestion {
        name: name.into(),
        title: title.into(),
        description: description.into(),
        entry,
        program: program.map(String::from),
        detected,
        needs: vec![],
    }
}

/// Every suggestion, detected ones first. Claude Code's entry runs the `claude` found on
/// `PATH` (so a GUI app started without the shell's `PATH` finds it too).
pub fn suggestions() -> Vec<Suggestion> {
    let claude = which::which("claude")
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "claude".into());
    let mut all = vec![
        suggestion(
            "claude-code",
            "Claude Code",
            "Claude Code's own tools (Read, Edit, Bash, WebFetch, …) through claude mcp serve; no API key needed to start",
            Some("claude"),
            json!({"command": claude, "args": ["mcp", "serve"]}),
        ),
        suggestion(
            "everything",
            "Everything (MCP reference server)",
            "Every MCP feature to try clients with: tools, resources, prompts, sampling, elicitation",
            Some("npx"),
            json!({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything@2026.8.31", "stdio"]}),
        ),
        suggestion(
            "memory",
            "Memory",
            "A knowledge graph clients can keep notes in across sessions",
            Some("npx"),
            json!({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory@2026.8.31"]}),
        ),
        suggestion(
            "filesystem",
            "Filesystem",
            "Read and write files under the folders you list in its arguments",
            Some("npx"),
            json!({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "~"]}),
        ),
        suggestion(
            "sequential-thinking",
            "Sequential thinking",
            "A scratchpad tool for step-by-step reasoning",
            Some("npx"),
            json!({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-sequential-thinking"]}),
        ),
        suggestion(
            "fetch",
            "Fetch",
            "Fetches web pages as Markdown",
            Some("uvx"),
            json!({"command": "uvx", "args": ["mcp-server-fetch"]}),
        ),
        suggestion(
            "time",
            "Time",
            "Current time and time-zone conversions",
            Some("uvx"),
            json!({"command": "uvx", "args": ["mcp-server-time"]}),
        ),
        suggestion(
            "github",
            "GitHub",
            "GitHub's remote MCP server (signs in with OAuth)",
            None,
            json!({"url": "https://api.githubcopilot.com/mcp/"}),
        ),
    ];
    // Detected programs first; the rest keep their order.
    all.sort_by_key(|s| s.program.is_some() && s.detected.is_none());
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suggestion_is_a_valid_server_entry() {
        for s in suggestions() {
            let mut c = super::super::Config::default();
            let entry: super::super::ServerEntry = serde_json::from_value(s.entry.clone()).unwrap();
            c.mcp_servers.insert(s.name.clone(), entry);
            c.validate(std::path::Path::new("x"))
                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
    }
}
