//! The official MCP conformance suite (`@modelcontextprotocol/conformance` 0.2.0-alpha.12 on the
//! Node 22 from npm's `node` package, both installed by `tests/peers/install.sh`) in server mode
//! against Loopgate's `/mcp`, for the scenarios that do not depend on the suite's own test
//! tools. The suite sends no token, so the gateway runs with `"gateway": {"auth": "none"}`.
//!
//! A check the suite itself marks `untestable` (it needs a diagnostic tool such as
//! `test_missing_capability` that only the suite's reference server has) is counted as skipped;
//! every other check must be SUCCESS or WARNING (a SHOULD).

use std::path::PathBuf;

use crate::common::*;
use serde_json::{json, Value};

/// The scenarios that exercise what passes through the gateway (run against
/// `tests/peers/conformance-backend.mjs`, directly and through Loopgate).
const FIDELITY_SCENARIOS: &[&str] = &[
    "tools-call-sampling",
    "tools-call-elicitation",
    "tools-call-with-logging",
    "completion-complete",
    "resources-subscribe",
    "resources-unsubscribe",
    "logging-set-level",
    "input-required-result-basic-elicitation",
    "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots",
    "input-required-result-request-state",
    "input-required-result-multiple-input-requests",
    "input-required-result-multi-round",
    "input-required-result-missing-input-response",
    "input-required-result-non-tool-request",
    "input-required-result-result-type",
    "input-required-result-unsupported-methods",
    "input-required-result-tampered-state",
    "input-required-result-capability-check",
    "input-required-result-ignore-extra-params",
    "input-required-result-validate-input",
];

const SCENARIOS: &[&str] = &[
    "server-initialize",
    "server-session-lifecycle",
    "server-stateless",
    "ping",
    "dns-rebinding-protection",
    "http-header-validation",
];

fn node22() -> Option<PathBuf> {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return None;
    }
    Some(ensure_peers().join("conformance/node_modules/node/bin/node"))
}

/// Every check of a scenario's results folder: `(id, status, untestable, message)`.
fn checks(dir: &std::path::Path) -> Vec<(String, String, bool, String)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        if entry.file_name().is_some_and(|n| n == "checks.json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
            for c in v.as_array().cloned().unwrap_or_default() {
                out.push((
                    c["id"].as_str().unwrap_or("").to_string(),
                    c["status"].as_str().unwrap_or("").to_string(),
                    c["details"]["untestable"] == true,
                    c["errorMessage"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

/// Runs `scenario` against `url`; returns the failed checks (`untestable` ones excluded) and
/// the number of checks that passed.
async fn run_scenario(node: &std::path::Path, url: &str, scenario: &str) -> (Vec<String>, usize) {
    let suite = ensure_peers()
        .join("conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js");
    let out_dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(node)
        .arg(&suite)
        .args(["server", "--url", url, "--scenario", scenario, "-o"])
        .arg(out_dir.path())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let results = checks(out_dir.path());
    assert!(
        !results.is_empty(),
        "{scenario}: the suite wrote no results\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let mut failures = Vec::new();
    let mut passed = 0;
    for (id, status, untestable, message) in results {
        match status.as_str() {
            "SUCCESS" | "WARNING" | "INFO" => passed += 1,
            "FAILURE" if untestable => {}
            _ => failures.push(format!("{scenario}/{id}: {status} {message}")),
        }
    }
    (failures, passed)
}

/// The tasks extension's scenarios (SEP-2663), run against `tests/peers/tasks-server.py`.
const TASK_SCENARIOS: &[&str] = &[
    "tasks-lifecycle",
    "tasks-capability-negotiation",
    "tasks-wire-fields",
    "tasks-request-state-removal",
    "tasks-mrtr-input",
    "tasks-request-headers",
    "tasks-dispatch-and-envelope",
    "tasks-required-task-error",
    "tasks-mrtr-composition",
];

/// Runs `scenarios` against the HTTP backend on `port` directly, then through a gateway with
/// that backend under `"toolPrefix": ""`; every scenario must pass through Loopgate with as many
/// checks as directly.
async fn compare_through_gateway(node: &std::path::Path, port: u16, scenarios: &[&str]) {
    wait_port(port);
    let direct = format!("http://127.0.0.1:{port}/mcp");
    let gw = Gw::start_with(json!({
        "gateway": {"auth": "none"},
        "mcpServers": {"conf": {"url": direct, "toolPrefix": ""}}
    }))
    .await;
    gw.wait_ready(30).await;
    let mut problems = Vec::new();
    for scenario in scenarios {
        let (direct_failures, direct_passed) = run_scenario(node, &direct, scenario).await;
        assert!(
            direct_failures.is_empty(),
            "the backend itself fails {scenario}: {direct_failures:?}"
        );
        let (failures, passed) = run_scenario(node, &gw.url, scenario).await;
        problems.extend(failures);
        if passed < direct_passed {
            problems.push(format!(
                "{scenario}: {passed} checks passed through Loopgate, {direct_passed} directly"
            ));
        }
    }
    gw.stop().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Acceptance 4 of the fidelity work: the suite's sampling, elicitation, logging, completion,
/// subscription and every `input-required-result-*` scenario pass through Loopgate (the
/// backend under `"toolPrefix": ""`, so the suite's fixed tool names reach it) exactly as they
/// pass directly against that backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fidelity_scenarios_pass_through_the_gateway_as_directly() {
    let Some(node) = node22() else {
        eprintln!("SKIPPED: Node.js is not installed, so the MCP conformance suite cannot run");
        return;
    };
    let port = free_port();
    let _backend = spawn_bg(
        std::path::Path::new("node"),
        &[
            ensure_peers()
                .join("conformance-backend.mjs")
                .to_str()
                .unwrap(),
            &port.to_string(),
        ],
        &[],
    );
    compare_through_gateway(&node, port, FIDELITY_SCENARIOS).await;
}

/// Tasks (the `io.modelcontextprotocol/tasks` extension) pass through Loopgate as directly: the
/// extension is offered, a task a tool call creates is reached by its id (`tasks/get`,
/// `tasks/update`, `tasks/cancel`) at the server that made it, and its errors are the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_scenarios_pass_through_the_gateway_as_directly() {
    let Some(node) = node22() else {
        eprintln!("SKIPPED: Node.js is not installed, so the MCP conformance suite cannot run");
        return;
    };
    let port = free_port();
    let _backend = spawn_bg(
        &python(),
        &[ensure_peers().join("tasks-server.py").to_str().unwrap()],
        &[("PORT", port.to_string())],
    );
    compare_through_gateway(&node, port, TASK_SCENARIOS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_conformance_suite_passes() {
    let Some(node) = node22() else {
        eprintln!("SKIPPED: Node.js is not installed, so the MCP conformance suite cannot run");
        return;
    };
    let suite = ensure_peers()
        .join("conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js");
    let gw = Gw::start_with(
        json!({"gateway": {"auth": "none"}, "mcpServers": {"everything": everything_stdio()}}),
    )
    .await;
    gw.wait_ready(30).await;
    // Without a token, the gateway must really be open (and still guarded by Host/Origin).
    let plain = reqwest::Client::new()
        .post(&gw.url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_ne!(plain.status(), 401);

    let mut failures = Vec::new();
    let mut passed = 0;
    let mut skipped = Vec::new();
    for scenario in SCENARIOS {
        let out_dir = tempfile::tempdir().unwrap();
        let output = tokio::process::Command::new(&node)
            .arg(&suite)
            .args(["server", "--url", &gw.url, "--scenario", scenario, "-o"])
            .arg(out_dir.path())
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        let results = checks(out_dir.path());
        assert!(
            !results.is_empty(),
            "{scenario}: the suite wrote no results\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        for (id, status, untestable, message) in results {
            match status.as_str() {
                "SUCCESS" | "WARNING" | "INFO" => passed += 1,
                "FAILURE" if untestable => skipped.push(format!("{scenario}/{id}")),
                _ => failures.push(format!("{scenario}/{id}: {status} {message}")),
            }
        }
    }
    eprintln!("conformance: {passed} checks passed; skipped (need the suite's own test tools): {skipped:?}");
    gw.stop().await;
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
    assert!(passed >= 40, "only {passed} checks ran");
}
