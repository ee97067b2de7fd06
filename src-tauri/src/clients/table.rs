//! The one table of the AI clients Loopgate can wire: name, config file per OS, format,
//! transports, tool limit, how to detect it, and where each fact comes from.
//!
//! Path templates: `~` is the home directory, `$CONFIG` the platform config directory
//! (`$XDG_CONFIG_HOME` or `~/.config` on Linux, `~/Library/Application Support` on macOS,
//! `%APPDATA%` on Windows), `$XDG` is `$XDG_CONFIG_HOME` or `~/.config` on every OS (the
//! clients built on xdg-basedir use it on macOS too). Several templates separated by `|` are
//! candidates: the first that exists is the file, else the first. Facts marked **\[V\]** were
//! verified by running the pinned client (`tests/clients`, `tests/e2e/real_clients.rs`); **\[S\]**
//! were read in the client's source or docs; **\[U\]** are reported by third parties.

use serde::Serialize;

use super::Format;

/// A client's config file on each OS, as path templates (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Paths {
    /// Linux.
    pub linux: &'static str,
    /// macOS.
    pub macos: &'static str,
    /// Windows.
    pub windows: &'static str,
    /// An environment variable that moves the client's directory, and the file's path under
    /// it (e.g. `CODEX_HOME`, `config.toml`).
    pub env: Option<(&'static str, &'static str)>,
}

impl Paths {
    /// The same template on every OS.
    const fn all(t: &'static str) -> Paths {
        Paths {
            linux: t,
            macos: t,
            windows: t,
            env: None,
        }
    }

    /// With the environment variable `var` that moves the directory holding `rel`.
    const fn env(self, var: &'static str, rel: &'static str) -> Paths {
        Paths {
            env: Some((var, rel)),
            ..self
        }
    }

    /// The template for the OS this binary runs on.
    pub fn here(&self) -> &'static str {
        if cfg!(windows) {
            self.windows
        } else if cfg!(target_os = "macos") {
            self.macos
        } else {
            self.linux
        }
    }
}

/// A known client: every fact Loopgate uses about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// Id used on the command line and in the API (`codex`, `gemini`, …).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The shape of its config file and of Loopgate's entry in it.
    pub format: Format,
    /// Its user-level MCP config file.
    #[serde(skip)]
    pub paths: Paths,
    /// Whether it connects to Streamable HTTP servers (else Loopgate's entry runs
    /// `loopgate connect`).
    pub speaks_http: bool,
    /// Whether it starts stdio servers (so `loopgate client install --stdio` works).
    pub speaks_stdio: bool,
    /// The most tools it takes per request, when it has a limit.
    pub tool_limit: Option<u32>,
    /// Directories (path templates) whose existence means the client is installed.
    #[serde(skip)]
    pub detect_dirs: &'static [&'static str],
    /// Programs on `PATH` that mean the client is installed.
    #[serde(skip)]
    pub detect_programs: &'static [&'static str],
    /// Where the facts above come from.
    pub source: &'static str,
}

/// The VS Code user directory's global storage, where VS Code extensions keep their files.
macro_rules! vscode_storage {
    ($ext:literal, $file:literal) => {
        concat!(
            "$CONFIG/Code/User/globalStorage/",
            $ext,
            "/settings/",
            $file
        )
    };
}

/// Every client Loopgate can wire, in the order they are listed.
pub const CLIENTS: &[Client] = &[
    Client {
        id: "claude-desktop",
        name: "Claude Desktop",
        format: Format::McpServersStdio,
        paths: Paths::all("$CONFIG/Claude/claude_desktop_config.json"),
        speaks_http: false,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["$CONFIG/Claude"],
        detect_programs: &[],
        source: "[S] modelcontextprotocol.io quickstart (claude_desktop_config.json; local servers are stdio only)",
    },
    Client {
        id: "claude-code",
        name: "Claude Code",
        format: Format::McpServersTypedHttp,
        paths: Paths::all("~/.claude.json").env("CLAUDE_CONFIG_DIR", ".claude.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.claude"],
        detect_programs: &["claude"],
        source: "[V] @anthropic-ai/claude-code 2.1.332: `claude mcp list` shows Connected over HTTP and stdio",
    },
    Client {
        id: "cursor",
        name: "Cursor",
        format: Format::McpServersUrl,
        paths: Paths::all("~/.cursor/mcp.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: Some(40),
        detect_dirs: &["~/.cursor"],
        detect_programs: &["cursor"],
        source: "[S] docs.cursor.com MCP (global ~/.cursor/mcp.json, url + headers); 40 tools over all MCP servers: third-party guides (easymanage.com MCP tutorial \"maximum total of 40 tools\", mcptrove.com \"tool budget\"); newer builds are reported to take 80",
    },
    Client {
        id: "vscode",
        name: "VS Code",
        format: Format::VsCodeServers,
        paths: Paths::all("$CONFIG/Code/User/mcp.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: Some(128),
        detect_dirs: &["$CONFIG/Code"],
        detect_programs: &["code"],
        source: "[S] code.visualstudio.com MCP docs (user mcp.json, JSONC, \"servers\"); 128 tools per request: microsoft/vscode#255585",
    },
    Client {
        id: "windsurf",
        name: "Windsurf",
        format: Format::McpServersServerUrl,
        paths: Paths::all("~/.codeium/windsurf/mcp_config.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.codeium/windsurf"],
        detect_programs: &["windsurf"],
        source: "[S] docs.windsurf.com MCP (mcp_config.json, serverUrl)",
    },
    Client {
        id: "codex",
        name: "Codex CLI",
        format: Format::CodexToml,
        paths: Paths::all("~/.codex/config.toml").env("CODEX_HOME", "config.toml"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.codex"],
        detect_programs: &["codex"],
        source: "[V] @openai/codex 0.171.0: `codex app-server` mcpServerStatus/list and mcpServer/tool/call",
    },
    Client {
        id: "gemini",
        name: "Gemini CLI",
        format: Format::McpServersTypedHttp,
        paths: Paths::all("~/.gemini/settings.json").env("GEMINI_CLI_HOME", ".gemini/settings.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.gemini"],
        detect_programs: &["gemini"],
        source: "[V] @google/gemini-cli 0.61.0: `gemini mcp list` (comments allowed, trailing commas not)",
    },
    Client {
        id: "copilot",
        name: "GitHub Copilot CLI",
        format: Format::McpServersTypedHttp,
        paths: Paths::all("~/.copilot/mcp-config.json").env("COPILOT_HOME", "mcp-config.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.copilot"],
        detect_programs: &["copilot"],
        source: "[V] @github/copilot 1.0.102: headless session.mcp.list shows connected",
    },
    Client {
        id: "opencode",
        name: "opencode",
        format: Format::OpencodeMcp,
        paths: Paths::all("$XDG/opencode/opencode.json|$XDG/opencode/opencode.jsonc"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["$XDG/opencode", "~/.local/share/opencode"],
        detect_programs: &["opencode"],
        source: "[V] opencode-ai 1.18.33: `opencode mcp list` (JSONC); Windows path [U]",
    },
    Client {
        id: "qwen",
        name: "Qwen Code",
        format: Format::McpServersHttpUrl,
        paths: Paths::all("~/.qwen/settings.json").env("QWEN_HOME", "settings.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.qwen"],
        detect_programs: &["qwen"],
        source: "[V] @qwen-code/qwen-code 0.24.4: `qwen mcp list` (httpUrl; url means SSE)",
    },
    Client {
        id: "zed",
        name: "Zed",
        format: Format::ZedContextServers,
        paths: Paths {
            linux: "$CONFIG/zed/settings.json",
            macos: "~/.config/zed/settings.json",
            windows: "$CONFIG/Zed/settings.json",
            env: None,
        },
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["$CONFIG/zed", "~/.config/zed", "$CONFIG/Zed"],
        detect_programs: &["zed", "zeditor"],
        source: "[S] zed crates/paths/src/paths.rs, settings_content/project.rs (context_servers, JSONC)",
    },
    Client {
        id: "cline",
        name: "Cline",
        format: Format::ClineServers,
        paths: Paths::all(vscode_storage!("saoudrizwan.claude-dev", "cline_mcp_settings.json")),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["$CONFIG/Code/User/globalStorage/saoudrizwan.claude-dev"],
        detect_programs: &[],
        source: "[S] cline src/services/mcp/schemas.ts (type streamableHttp), src/core/storage/disk.ts",
    },
    Client {
        id: "roo",
        name: "Roo Code",
        format: Format::RooServers,
        paths: Paths::all(vscode_storage!("rooveterinaryinc.roo-cline", "mcp_settings.json")),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["$CONFIG/Code/User/globalStorage/rooveterinaryinc.roo-cline"],
        detect_programs: &[],
        source: "[S] Roo-Code src/services/mcp/McpHub.ts (type streamable-http, strict JSON)",
    },
    Client {
        id: "continue",
        name: "Continue",
        format: Format::ContinueDropIn,
        paths: Paths::all("~/.continue/mcpServers/loopgate.json")
            .env("CONTINUE_GLOBAL_DIR", "mcpServers/loopgate.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.continue"],
        detect_programs: &["cn"],
        source: "[S] continue core/context/mcp/json/loadJsonMcpConfigs.ts (drop-in mcpServers/*.json, Claude shape)",
    },
    Client {
        id: "goose",
        name: "Goose",
        format: Format::GooseYaml,
        paths: Paths {
            linux: "$XDG/goose/config.yaml",
            macos: "$XDG/goose/config.yaml",
            windows: "$CONFIG/Block/goose/config/config.yaml",
            env: None,
        },
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["$XDG/goose", "$CONFIG/Block/goose"],
        detect_programs: &["goose"],
        source: "[S] goose crates/goose/src/agents/extension.rs (extensions, streamable_http / stdio)",
    },
    Client {
        id: "lmstudio",
        name: "LM Studio",
        format: Format::McpServersUrl,
        paths: Paths::all("~/.lmstudio/mcp.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.lmstudio"],
        detect_programs: &["lms"],
        source: "[S] lmstudio-ai/docs 0_app/2_mcp (Cursor notation); path [U] third-party",
    },
    Client {
        id: "kiro",
        name: "Kiro",
        format: Format::McpServersUrl,
        paths: Paths::all("~/.kiro/settings/mcp.json"),
        speaks_http: true,
        speaks_stdio: true,
        tool_limit: None,
        detect_dirs: &["~/.kiro"],
        detect_programs: &["kiro", "kiro-cli"],
        source: "[S] kiro.dev/docs/mcp/configuration (url + headers)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_client_has_a_transport() {
        let mut ids: Vec<_> = CLIENTS.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CLIENTS.len());
        for c in CLIENTS {
            assert!(c.speaks_http || c.speaks_stdio, "{}", c.id);
            assert!(!c.source.is_empty(), "{}", c.id);
        }
    }
}
