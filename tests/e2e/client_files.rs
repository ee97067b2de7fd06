//! Every client of the table, with the real `loopgate` binary and a temporary HOME holding the
//! client's file as a user has it (comments, trailing commas, other settings): install writes
//! Loopgate's entry in the client's own shape and keeps every comment, a second install writes
//! nothing, uninstall gives back the same bytes. Import takes servers out of Codex (TOML),
//! opencode (JSONC) and Goose (YAML) and moves their secrets into a real keychain. `client
//! doctor` against a running gateway: fine over HTTP and stdio, and says what to do when the
//! token was revoked or the gateway is gone.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::cli::{lg, text, wait_servers, Serve};
use crate::common::keyring::PrivateKeyring;
use crate::common::*;
use serde_json::{json, Value};

fn home_env(home: &Path) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        (
            "XDG_CONFIG_HOME".into(),
            home.join(".config").display().to_string(),
        ),
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}/no-bus", home.display()),
        ),
    ]
}

/// `(client id, file relative to HOME, what the user had there, what shows Loopgate's entry)`.
fn realistic() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    vec![
        ("claude-desktop", ".config/Claude/claude_desktop_config.json", "{\n  \"mcpServers\": {\n    \"fs\": {\"command\": \"npx\", \"args\": [\"-y\", \"fs\"]}\n  },\n  \"globalShortcut\": \"Ctrl+Space\"\n}\n", "\"connect\""),
        ("claude-code", ".claude.json", "{\"numStartups\":12,\"theme\":\"dark\",\"mcpServers\":{\"sentry\":{\"type\":\"http\",\"url\":\"https://mcp.sentry.dev/mcp\"}}}", "\"type\":\"http\""),
        ("cursor", ".cursor/mcp.json", "{\n  \"mcpServers\": {}\n}\n", "\"url\": \"http://127.0.0.1:7399/mcp\""),
        ("vscode", ".config/Code/User/mcp.json", "// VS Code MCP servers\n{\n\t\"servers\": {\n\t\t// GitHub's remote server\n\t\t\"github\": {\"type\": \"http\", \"url\": \"https://api.githubcopilot.com/mcp/\"},\n\t},\n\t/* prompted once */\n\t\"inputs\": [{\"id\": \"token\", \"type\": \"promptString\"}],\n}\n", "\"type\": \"http\""),
        ("windsurf", ".codeium/windsurf/mcp_config.json", "{\"mcpServers\": {\"brave\": {\"command\": \"npx\", \"args\": [\"-y\", \"brave\"], \"env\": {\"X\": \"1\"}}}}\n", "\"serverUrl\""),
        ("codex", ".codex/config.toml", "# Codex\nmodel = \"gpt-5\" # default model\n\n[mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"docs\"]\n\n[profiles.fast]\nmodel = \"o4-mini\"\n", "[mcp_servers.loopgate]"),
        ("gemini", ".gemini/settings.json", "{\n  // theme\n  \"ui\": {\"theme\": \"GitHub\"},\n  \"mcpServers\": {\"x\": {\"httpUrl\": \"https://x/mcp\"}}\n}\n", "\"type\": \"http\""),
        ("copilot", ".copilot/mcp-config.json", "{\n  \"mcpServers\": {\n    \"gh\": {\"type\": \"local\", \"command\": \"gh-mcp\", \"tools\": [\"*\"]}\n  }\n}\n", "\"type\": \"http\""),
        ("opencode", ".config/opencode/opencode.jsonc", "// opencode\n{\n  \"$schema\": \"https://opencode.ai/config.json\",\n  \"mcp\": {\n    \"jira\": {\"type\": \"remote\", \"url\": \"https://jira/mcp\", \"enabled\": true,},\n  },\n}\n", "\"type\": \"remote\""),
        ("qwen", ".qwen/settings.json", "{\n  \"$version\": 4,\n  // qwen\n  \"mcpServers\": {}\n}\n", "\"httpUrl\""),
        ("zed", ".config/zed/settings.json", "// Zed settings\n//\n// For information on how to configure Zed, see the Zed documentation.\n{\n  \"ui_font_size\": 16,\n  \"buffer_font_size\": 15,\n  \"theme\": {\"mode\": \"system\", \"light\": \"One Light\", \"dark\": \"One Dark\"},\n  \"context_servers\": {\n    \"postgres\": {\"command\": \"npx\", \"args\": [\"pg-mcp\"], \"env\": {}},\n  },\n}\n", "\"url\": \"http://127.0.0.1:7399/mcp\""),
        ("cline", ".config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json", "{\n  \"mcpServers\": {\n    \"w\": {\"type\": \"stdio\", \"command\": \"w\", \"disabled\": false, \"autoApprove\": []}\n  }\n}", "\"streamableHttp\""),
        ("roo", ".config/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json", "{\"mcpServers\":{}}", "\"streamable-http\""),
        ("continue", ".continue/mcpServers/loopgate.json", "", "\"type\": \"http\""),
        ("goose", ".config/goose/config.yaml", "GOOSE_PROVIDER: openai\nextensions:\n  developer:\n    bundled: true\n    enabled: true\n    name: developer\n    timeout: 300\n    type: builtin\nGOOSE_MODEL: gpt-4o\n", "type: \"streamable_http\""),
        ("lmstudio", ".lmstudio/mcp.json", "{\n  \"mcpServers\": {\n    \"local\": {\"command\": \"uvx\", \"args\": [\"x\"]}\n  }\n}\n", "\"url\": \"http://127.0.0.1:7399/mcp\""),
        ("kiro", ".kiro/settings/mcp.json", "{\n  \"mcpServers\": {\n    \"aws-docs\": {\"command\": \"uvx\", \"args\": [\"awslabs.aws-documentation-mcp-server@latest\"], \"disabled\": false, \"autoApprove\": []}\n  }\n}\n", "\"url\": \"http://127.0.0.1:7399/mcp\""),
    ]
}

fn backups(file: &Path) -> Vec<PathBuf> {
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    std::fs::read_dir(file.parent().unwrap())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&format!("{name}.loopgate-backup-"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_client_keeps_its_file_and_gets_it_back_byte_for_byte() {
    let home = tempfile::tempdir().unwrap();
    let env = home_env(home.path());
    let config = home.path().join("loopgate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, r#"{"gateway": {"port": 7399}, "mcpServers": {}}"#).unwrap();
    let ids: Vec<&str> = loopgate::clients::CLIENTS.iter().map(|c| c.id).collect();
    let tested: Vec<&str> = realistic().iter().map(|r| r.0).collect();
    assert_eq!(ids, tested, "every client of the table is tested here");
    for (id, rel, original, marker) in realistic() {
        let file = home.path().join(rel);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        if !original.is_empty() {
            std::fs::write(&file, original).unwrap();
        }
        let out = lg(&env, &config, &["client", "install", id], None);
        assert!(out.status.success(), "{id}: {}", text(&out));
        let installed = std::fs::read_to_string(&file).unwrap();
        assert!(
            installed.contains(marker),
            "{id}: no {marker} in\n{installed}"
        );
        assert!(
            installed.contains("7399/mcp") || installed.contains("connect"),
            "{id}:\n{installed}"
        );
        let comment = |l: &&str| {
            let t = l.trim();
            t.starts_with("//") || t.starts_with('#') || t.starts_with("/*") || l.contains(" # ")
        };
        for line in original.lines().filter(comment) {
            let line = line.trim().trim_end_matches(',');
            assert!(
                installed.contains(line),
                "{id}: lost {line:?}:\n{installed}"
            );
        }
        if !original.is_empty() {
            let b = backups(&file);
            assert_eq!(b.len(), 1, "{id}: one backup");
            assert_eq!(
                std::fs::read_to_string(&b[0]).unwrap(),
                original,
                "{id}: the backup is the original"
            );
        }
        // A second install writes nothing.
        let out = lg(&env, &config, &["client", "install", id], None);
        assert!(
            text(&out).contains("nothing written"),
            "{id}: {}",
            text(&out)
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), installed, "{id}");
        let list = text(&lg(&env, &config, &["client", "list"], None));
        let row = list
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap();
        assert!(row.split_whitespace().any(|w| w == "yes"), "{row}");
        // Uninstall: the same bytes as before (Continue's own file is gone again).
        let out = lg(&env, &config, &["client", "uninstall", id], None);
        assert!(out.status.success(), "{id}: {}", text(&out));
        if original.is_empty() {
            assert!(!file.exists(), "{id}: Loopgate's own file is left");
        } else {
            assert_eq!(
                std::fs::read_to_string(&file).unwrap(),
                original,
                "{id}: uninstall changed the file"
            );
        }
    }
    // A file that did not exist before is gone again after uninstall (TOML and JSON alike).
    let fresh = tempfile::tempdir().unwrap();
    let fresh_env = home_env(fresh.path());
    for (id, rel) in [
        ("codex", ".codex/config.toml"),
        ("kiro", ".kiro/settings/mcp.json"),
    ] {
        assert!(lg(&fresh_env, &config, &["client", "install", id], None)
            .status
            .success());
        let text = std::fs::read_to_string(fresh.path().join(rel)).unwrap();
        assert!(text.ends_with('\n'), "{id}: {text:?}");
        assert!(lg(&fresh_env, &config, &["client", "uninstall", id], None)
            .status
            .success());
        assert!(
            !fresh.path().join(rel).exists(),
            "{id}: the file Loopgate created is left"
        );
    }
    // A comment added while Loopgate was in the file stays after uninstall.
    let vscode = home.path().join(".config/Code/User/mcp.json");
    assert!(lg(&env, &config, &["client", "install", "vscode"], None)
        .status
        .success());
    let with_note = format!(
        "// added later\n{}",
        std::fs::read_to_string(&vscode).unwrap()
    );
    std::fs::write(&vscode, &with_note).unwrap();
    assert!(lg(&env, &config, &["client", "uninstall", "vscode"], None)
        .status
        .success());
    let after = std::fs::read_to_string(&vscode).unwrap();
    assert!(
        after.starts_with("// added later\n// VS Code MCP servers") && !after.contains("loopgate"),
        "{after}"
    );
    let tokens: Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("loopgate/client-tokens.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(tokens, json!({}), "every token revoked on uninstall");
    // A file Loopgate cannot parse is left alone, with a message naming it.
    let bad = home.path().join(".codex/config.toml");
    std::fs::write(&bad, "model = \n").unwrap();
    let out = lg(&env, &config, &["client", "install", "codex"], None);
    assert!(
        !out.status.success() && text(&out).contains("config.toml"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "model = \n");
}

fn secret_names(out: &Output) -> String {
    text(out)
}

#[test]
fn import_from_codex_opencode_and_goose_moves_secrets_to_the_keychain() {
    let kr = PrivateKeyring::start();
    let mut env = kr.env();
    let home = kr.home.path().to_path_buf();
    env.push((
        "XDG_CONFIG_HOME".into(),
        home.join(".config").display().to_string(),
    ));
    let config = home.join("loopgate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, r#"{"gateway": {"port": 7398}, "mcpServers": {}}"#).unwrap();
    let codex = home.join(".codex/config.toml");
    std::fs::create_dir_all(codex.parent().unwrap()).unwrap();
    let codex_text = "# mine\nmodel = \"o3\"\n\n[mcp_servers.search]\nurl = \"https://search.example/mcp\"\nhttp_headers = { Authorization = \"Bearer codex-s3cret-1\" }\n\n[mcp_servers.db]\ncommand = \"npx\"\nargs = [\"-y\", \"db-mcp\"]\nenv = { DB_PASSWORD = \"codex-s3cret-2\" } # keep me\n";
    std::fs::write(&codex, codex_text).unwrap();
    let oc = home.join(".config/opencode/opencode.json");
    std::fs::create_dir_all(oc.parent().unwrap()).unwrap();
    std::fs::write(&oc, "{\n  // mine\n  \"mcp\": {\"notes\": {\"type\": \"local\", \"command\": [\"notes-mcp\", \"--ro\"], \"environment\": {\"NOTES_TOKEN\": \"oc-s3cret\"}}},\n}\n").unwrap();
    let goose = home.join(".config/goose/config.yaml");
    std::fs::create_dir_all(goose.parent().unwrap()).unwrap();
    std::fs::write(&goose, "extensions:\n  developer:\n    type: builtin\n    name: developer\n    enabled: true\n  tracker:\n    type: stdio\n    name: tracker\n    cmd: tracker-mcp\n    args: []\n    envs:\n      TRACKER_API_KEY: goose-s3cret\n    enabled: true\n").unwrap();
    // Codex with --replace: its servers become the one Loopgate entry.
    for args in [["codex", "--replace"].as_slice(), &["opencode"], &["goose"]] {
        let id = args[0];
        let out = lg(&env, &config, &[&["client", "import"], args].concat(), None);
        assert!(out.status.success(), "{id}: {}", text(&out));
    }
    let cfg = std::fs::read_to_string(&config).unwrap();
    for s in [
        "codex-s3cret-1",
        "codex-s3cret-2",
        "oc-s3cret",
        "goose-s3cret",
    ] {
        assert!(!cfg.contains(s), "{s} left in the config:\n{cfg}");
    }
    let v: Value = serde_json::from_str(&cfg).unwrap();
    assert_eq!(
        v["mcpServers"]["search"]["url"],
        "https://search.example/mcp"
    );
    assert_eq!(
        v["mcpServers"]["search"]["headers"]["Authorization"],
        "${secret:search.Authorization}"
    );
    assert_eq!(
        v["mcpServers"]["db"]["env"]["DB_PASSWORD"],
        "${secret:db.DB_PASSWORD}"
    );
    assert_eq!(v["mcpServers"]["notes"]["args"], json!(["--ro"]));
    assert_eq!(v["mcpServers"]["tracker"]["command"], "tracker-mcp");
    assert!(
        v["mcpServers"].get("developer").is_none(),
        "a built-in Goose extension is not a server"
    );
    let listed = secret_names(&lg(&env, &config, &["secret", "list"], None));
    for name in [
        "search.Authorization",
        "db.DB_PASSWORD",
        "notes.NOTES_TOKEN",
        "tracker.TRACKER_API_KEY",
    ] {
        assert!(
            listed.contains(name),
            "{name} not in the keychain: {listed}"
        );
    }
    // Codex kept its comments and other settings.
    let after = std::fs::read_to_string(&codex).unwrap();
    assert!(after.starts_with("# mine\nmodel = \"o3\"\n"), "{after}");
    assert!(
        after.contains("[mcp_servers.loopgate]") && !after.contains("[mcp_servers.db]"),
        "{after}"
    );
    assert!(!after.contains("s3cret"), "{after}");
}

#[test]
fn doctor_checks_the_way_each_client_reaches_the_gateway() {
    let home = tempfile::tempdir().unwrap();
    let env = home_env(home.path());
    let config = home.path().join("loopgate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let port = free_port();
    std::fs::write(
        &config,
        json!({"gateway": {"port": port}, "mcpServers": {"everything": everything_stdio()}})
            .to_string(),
    )
    .unwrap();
    let serve = Serve::start(&env, &config, home.path().join("serve.log"));
    wait_servers(&env, &config, "everything ready", |v| {
        v[0]["state"] == "ready"
    });
    for (id, stdio) in [("cursor", false), ("codex", false), ("gemini", true)] {
        let mut args = vec!["client", "install", id];
        if stdio {
            args.push("--stdio");
        }
        assert!(lg(&env, &config, &args, None).status.success());
    }
    let doctor = |id: &str| {
        let out = lg(&env, &config, &["client", "doctor", id, "--json"], None);
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        (out.status.success(), v[0]["checks"].clone())
    };
    let outcome = |checks: &Value, what: &str| -> (String, String) {
        let c = checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["what"] == what)
            .unwrap_or_else(|| panic!("no {what}: {checks:#}"));
        (
            c["outcome"].as_str().unwrap().into(),
            format!("{} {}", c["detail"], c["fix"]),
        )
    };
    for id in ["cursor", "codex", "gemini"] {
        let (ok, checks) = doctor(id);
        assert!(ok, "{id}: {checks:#}");
        for what in ["entry", "current", "token", "reachable"] {
            assert_eq!(outcome(&checks, what).0, "ok", "{id} {what}: {checks:#}");
        }
        assert!(
            outcome(&checks, "reachable").1.contains("tools"),
            "{checks:#}"
        );
    }
    // A revoked token: the gateway refuses it, and the fix is a reinstall.
    std::fs::write(home.path().join("loopgate/client-tokens.json"), "{}").unwrap();
    let out = lg(&env, &config, &["client", "doctor", "cursor"], None);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("FAIL token") && t.contains("loopgate client install cursor"),
        "{t}"
    );
    // No gateway: nothing answers, and the fix says how to start it.
    drop(serve);
    let (ok, checks) = doctor("codex");
    assert!(!ok);
    let (o, said) = outcome(&checks, "reachable");
    assert_eq!(o, "fail", "{checks:#}");
    assert!(said.contains("loopgate serve"), "{said}");
    // Not installed at all: the fix is the install command.
    let (ok, checks) = doctor("zed");
    assert!(!ok);
    assert!(
        outcome(&checks, "entry")
            .1
            .contains("loopgate client install zed"),
        "{checks:#}"
    );
}
