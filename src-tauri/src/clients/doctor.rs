//! `loopgate client doctor`: for a client, whether Loopgate's entry is in its file and as
//! Loopgate writes it now, whether its token is valid, and whether the gateway answers the way
//! that client will reach it (its URL and header over HTTP, or by starting its `loopgate
//! connect` command), each with what to do when not.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use super::{entry, writer, Client, Transport, Wiring};

/// How long one reachability check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Fine.
    Ok,
    /// Works, but worth a look.
    Warn,
    /// Broken: the client will not reach Loopgate.
    Fail,
}

/// One check of one client.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What was checked: `entry`, `current`, `token`, `reachable`, `proxy`, `tool limit`.
    pub what: &'static str,
    /// Its outcome.
    pub outcome: Outcome,
    /// What was found.
    pub detail: String,
    /// What to do when it is not fine.
    pub fix: Option<String>,
}

/// Every check of one client.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The client's id.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Its config file.
    pub config_path: Option<std::path::PathBuf>,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.outcome == Outcome::Fail)
    }

    fn push(&mut self, what: &'static str, outcome: Outcome, detail: String, fix: Option<String>) {
        self.checks.push(Check {
            what,
            outcome,
            detail,
            fix,
        });
    }
}

/// What the checks compare against: the gateway as configured now.
pub struct Gateway<'a> {
    /// The gateway's config file.
    pub config_path: &'a Path,
    /// Where it serves MCP.
    pub mcp_url: &'a str,
    /// The `loopgate` binary.
    pub exe: &'a Path,
    /// The per-client tokens (`client id → token`).
    pub client_tokens: &'a std::collections::BTreeMap<String, String>,
    /// The gateway's own token, when it can be read.
    pub gateway_token: Option<&'a str>,
}

/// Whether `HTTP(S)_PROXY`/`ALL_PROXY` would send a request for 127.0.0.1 through a proxy.
pub fn proxy_catches_loopback() -> Option<String> {
    let get = |k: &str| {
        std::env::var(k)
            .ok()
            .or_else(|| std::env::var(k.to_lowercase()).ok())
            .filter(|v| !v.is_empty())
    };
    let proxy = ["HTTP_PROXY", "ALL_PROXY"].iter().find_map(|k| get(k))?;
    let no_proxy = get("NO_PROXY").unwrap_or_default();
    let exempt = no_proxy
        .split(',')
        .map(str::trim)
        .any(|h| matches!(h, "127.0.0.1" | "localhost" | "*" | "127.0.0.0/8"));
    (!exempt).then_some(proxy)
}

/// Runs every check of `client`.
pub async fn check(client: &Client, gw: &Gateway<'_>) -> Report {
    let mut r = Report {
        id: client.id,
        name: client.name,
        config_path: client.config_path(),
        checks: vec![],
    };
    let install = format!("run `loopgate client install {}`", client.id);
    let current = match writer::entry(client) {
        Err(e) => {
            r.push(
                "entry",
                Outcome::Fail,
                e.to_string(),
                Some("fix the file, then ".to_string() + &install),
            );
            return r;
        }
        Ok(None) => {
            r.push(
                "entry",
                Outcome::Fail,
                "Loopgate is not in its config".into(),
                Some(install),
            );
            return r;
        }
        Ok(Some(e)) => e,
    };
    let Some(transport) = entry::transport_of(client.format, &current) else {
        r.push(
            "entry",
            Outcome::Fail,
            "the loopgate entry has neither a URL nor a command".into(),
            Some(install),
        );
        return r;
    };
    r.push(
        "entry",
        Outcome::Ok,
        format!("present ({})", transport.as_str()),
        None,
    );
    let non_default = crate::config::default_config_path().is_none_or(|d| d != gw.config_path);
    let profile = super::bound_profile(gw.config_path, client);
    let wiring = Wiring {
        mcp_url: gw.mcp_url,
        exe: gw.exe,
        config: non_default.then_some(gw.config_path),
        profile: profile.as_deref(),
    };
    match transport {
        Transport::Http => check_http(client, gw, &wiring, &current, &install, &mut r).await,
        Transport::Stdio => check_stdio(client, gw, &wiring, &current, &install, &mut r).await,
    }
    r
}

async fn check_http(
    client: &Client,
    gw: &Gateway<'_>,
    wiring: &Wiring<'_>,
    current: &Value,
    install: &str,
    r: &mut Report,
) {
    let (url, headers) = entry::http_target(client.format, current).expect("an HTTP entry");
    let auth = headers
        .get("Authorization")
        .and_then(Value::as_str)
        .unwrap_or("");
    let token = auth.strip_prefix("Bearer ").unwrap_or("");
    let own = gw.client_tokens.get(client.id).map(String::as_str);
    let wanted = entry::build(client.format, Transport::Http, wiring, own.unwrap_or(token));
    if &wanted == current {
        r.push("current", Outcome::Ok, "as Loopgate writes it".into(), None);
    } else if url != gw.mcp_url {
        r.push(
            "current",
            Outcome::Fail,
            format!("points at {url}, the gateway serves {}", gw.mcp_url),
            Some(install.into()),
        );
    } else {
        r.push(
            "current",
            Outcome::Warn,
            "differs from the entry Loopgate writes now".into(),
            Some(install.into()),
        );
    }
    if token.is_empty() {
        r.push(
            "token",
            Outcome::Fail,
            "no Authorization header".into(),
            Some(install.into()),
        );
    } else if own.is_some_and(|t| crate::token::matches(t, token)) {
        r.push("token", Outcome::Ok, "its own, valid".into(), None);
    } else if gw
        .gateway_token
        .is_some_and(|t| crate::token::matches(t, token))
    {
        r.push(
            "token",
            Outcome::Warn,
            "the gateway's own token, not one of its own".into(),
            Some(install.into()),
        );
    } else {
        r.push(
            "token",
            Outcome::Fail,
            "revoked or replaced: the gateway will answer 401".into(),
            Some(install.into()),
        );
    }
    if let Some(proxy) = proxy_catches_loopback() {
        r.push("proxy", Outcome::Warn, format!("a proxy is set ({proxy}) and NO_PROXY does not cover 127.0.0.1: clients that honour it cannot reach Loopgate"), Some("add 127.0.0.1,localhost to NO_PROXY".into()));
    }
    let reached = tokio::time::timeout(CHECK_TIMEOUT, reach_http(&url, auth)).await;
    let reached = reached.unwrap_or_else(|_| Err(("no answer within 20 s".into(), None)));
    reachable(client, reached, r);
}

async fn check_stdio(
    client: &Client,
    gw: &Gateway<'_>,
    wiring: &Wiring<'_>,
    current: &Value,
    install: &str,
    r: &mut Report,
) {
    let (command, args) = entry::stdio_target(client.format, current).expect("a stdio entry");
    let wanted = entry::build(client.format, Transport::Stdio, wiring, "");
    if &wanted == current {
        r.push("current", Outcome::Ok, "as Loopgate writes it".into(), None);
    } else {
        r.push(
            "current",
            Outcome::Warn,
            format!(
                "runs `{command} {}`, not `{} {}`",
                args.join(" "),
                wiring.exe.display(),
                wiring.connect_args().join(" ")
            ),
            Some(install.into()),
        );
    }
    match gw.gateway_token {
        Some(_) => r.push("token", Outcome::Ok, "`loopgate connect` finds the gateway's token".into(), None),
        None => r.push("token", Outcome::Fail, "`loopgate connect` finds no gateway token (never started with this config, or the keychain is locked)".into(), Some("start the gateway once (`loopgate serve` or the app); unlock the keychain".into())),
    }
    let reached = tokio::time::timeout(CHECK_TIMEOUT, reach_stdio(&command, &args)).await;
    let reached = reached.unwrap_or_else(|_| Err(("no answer within 20 s".into(), None)));
    reachable(client, reached, r);
}

type Reached = Result<usize, (String, Option<String>)>;

fn reachable(client: &Client, reached: Reached, r: &mut Report) {
    match reached {
        Ok(tools) => {
            r.push(
                "reachable",
                Outcome::Ok,
                format!("the gateway answers, {tools} tools"),
                None,
            );
            if let Some(limit) = client.tool_limit.filter(|l| tools > *l as usize) {
                r.push("tool limit", Outcome::Warn, format!("{} takes at most {limit} tools per request; the gateway offers {tools}", client.name), Some("disable servers or tools you do not need in this client (dashboard or `disabledTools`)".into()));
            }
        }
        Err((detail, fix)) => r.push("reachable", Outcome::Fail, detail, fix),
    }
}

/// `initialize` and `tools/list` over HTTP with the entry's header; the number of tools.
async fn reach_http(url: &str, auth: &str) -> Reached {
    let start = "start the gateway: `loopgate serve`, or open the Loopgate app".to_string();
    let http = reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .build()
        .map_err(|e| (e.to_string(), None))?;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "loopgate-doctor", "version": env!("CARGO_PKG_VERSION")}}});
    let resp = http
        .post(url)
        .header("Authorization", auth)
        .header("Accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .map_err(|e| {
            if e.is_connect() {
                (format!("nothing answers at {url}"), Some(start.clone()))
            } else {
                (format!("{url}: {e}"), None)
            }
        })?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err((
            format!("{url} refused the token (401)"),
            Some("reinstall the client: `loopgate client install <id>`".into()),
        ));
    }
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        return Err((
            format!(
                "{url} answered {status}: {}",
                body.chars().take(200).collect::<String>()
            ),
            None,
        ));
    }
    let session = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    drop(resp);
    let mut cfg =
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url);
    cfg.auth_header = auth.strip_prefix("Bearer ").map(String::from);
    if let Some(id) = session {
        // End the probe's session; the count comes from a proper client below.
        let _ = http
            .delete(url)
            .header("Authorization", auth)
            .header("mcp-session-id", id)
            .send()
            .await;
    }
    count_tools(rmcp::transport::StreamableHttpClientTransport::from_config(
        cfg,
    ))
    .await
}

/// Starts `command args` as the client would and counts the tools it lists.
async fn reach_stdio(command: &str, args: &[String]) -> Reached {
    if which::which(command).is_err() && !Path::new(command).is_file() {
        return Err((
            format!("{command} does not exist"),
            Some("reinstall the client entry: `loopgate client install <id> --stdio`".into()),
        ));
    }
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args).stderr(std::process::Stdio::null());
    let transport = rmcp::transport::TokioChildProcess::new(cmd)
        .map_err(|e| (format!("cannot start {command}: {e}"), None))?;
    count_tools(transport).await.map_err(|(d, _)| {
        (
            d,
            Some("is the gateway running? `loopgate serve`, or open the Loopgate app".into()),
        )
    })
}

async fn count_tools<T, E, A>(transport: T) -> Reached
where
    T: rmcp::transport::IntoTransport<rmcp::RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    let client = ()
        .serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
        .await
        .map_err(|e| (format!("MCP initialize failed: {e}"), None))?;
    let tools = client.peer().list_all_tools().await;
    let _ = client.cancel().await;
    tools
        .map(|t| t.len())
        .map_err(|e| (format!("tools/list failed: {e}"), None))
}
