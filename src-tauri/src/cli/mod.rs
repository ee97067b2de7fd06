//! The command line (clap). Each command is a thin call into the library.
//!
//! - `loopgate serve` — run the gateway (headless; never touches GTK) — `serve`.
//! - `loopgate servers`, `loopgate tools [SERVER]` — ask the running gateway — `status`.
//! - `loopgate token` — print the access token; `loopgate open` — open the dashboard.
//! - `loopgate secret set|list|rm`, `loopgate import FILE` — the keychain — `secret`.
//! - `loopgate auth login|logout|status` — OAuth sign-in to HTTP servers — `auth`.
//!
//! - `loopgate connect`, `loopgate client …` — desktop AI clients — `clients`.
//! - `loopgate call SERVER TOOL [JSON]` — run a tool through the running gateway — `call`.
//! - `loopgate activity [--follow]` — the running gateway's activity log — `activity`.
//!
//! `client` talks to a running gateway's `/api`.

mod activity;
mod auth;
mod call;
mod client;
mod clients;
mod secret;
mod serve;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::config;
use crate::secrets::SecretStore;

/// Examples shown under `loopgate --help`.
const EXAMPLES: &str = "\
Examples:
  loopgate serve                          run the gateway (writes a default config on first run)
  loopgate servers                        what the running gateway serves, and how each server is doing
  loopgate client install cursor          wire Cursor to the gateway (its own token, a backup of its file)
  loopgate secret set GITHUB_TOKEN        store a secret; reference it as ${secret:GITHUB_TOKEN}
  loopgate import ~/.cursor/mcp.json      take another client's servers, secrets into the keychain
  loopgate open                           open the dashboard, signed in
  RUST_LOG=loopgate=debug loopgate serve  see what happens in detail

Docs: README.md; the config file's keys are listed under \"Configuration\".";

/// Loopgate: one local MCP endpoint in front of all your MCP servers.
#[derive(Debug, Parser)]
#[command(name = "loopgate", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// Config file (default: the platform config dir, e.g. ~/.config/loopgate/config.json).
    #[arg(long, global = true, env = "LOOPGATE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Desktop app: start in the tray without opening the dashboard window (what "Start at
    /// login" runs).
    #[arg(long)]
    pub hidden: bool,
    /// What to do; without a command, the desktop app starts (in builds with the `desktop`
    /// feature).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway on 127.0.0.1 (writes a working default config on first run).
    #[command(
        after_help = "Examples:\n  loopgate serve\n  loopgate serve --port 0 --sign-in browser\n  loopgate --config ./team.json serve"
    )]
    Serve {
        /// Listen on this port instead of the config's `gateway.port` (0 = any free port).
        #[arg(long)]
        port: Option<u16>,
        /// How OAuth sign-in URLs reach you: `log` (printed here; also shown by the dashboard
        /// and `loopgate auth status`), `browser` (opened), or `follow` (fetched without a
        /// human; only for test authorization servers that approve without a login page).
        #[arg(long, value_enum, default_value = "log")]
        sign_in: SignInArg,
    },
    /// Sign in to HTTP servers that use OAuth; tokens are kept in the OS keychain.
    #[command(
        after_help = "Examples:\n  loopgate auth login github\n  loopgate auth status\n  loopgate auth logout github"
    )]
    Auth {
        /// What to do.
        #[command(subcommand)]
        action: AuthCommand,
    },
    /// List the servers of the running gateway with their state.
    Servers {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the tools clients see through the running gateway.
    Tools {
        /// Only this server's tools.
        server: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the access token clients must send (`Authorization: Bearer <token>`).
    Token,
    /// Open the web dashboard of the running gateway in the browser (prints the sign-in link).
    Open {
        /// Only print the link; do not start a browser.
        #[arg(long)]
        print: bool,
    },
    /// Manage secrets in the OS keychain (referenced as ${secret:NAME} in env and headers).
    #[command(
        after_help = "Examples:\n  loopgate secret set GITHUB_TOKEN            (asks without echo)\n  printf %s \"$TOKEN\" | loopgate secret set GITHUB_TOKEN\n  loopgate secret list\n  loopgate secret rm GITHUB_TOKEN\n\nIn the config: \"env\": {\"GITHUB_TOKEN\": \"${secret:GITHUB_TOKEN}\"}"
    )]
    Secret {
        /// What to do with secrets.
        #[command(subcommand)]
        action: SecretCommand,
    },
    /// A stdio MCP server that bridges to the running gateway (for clients that only start
    /// stdio servers, like Claude Desktop). Exits with an error when no gateway is running.
    #[command(
        after_help = "Examples (as a client's config runs it):\n  loopgate connect\n  loopgate connect --profile coding"
    )]
    Connect {
        /// See only this profile's servers and tools (a name from "profiles" in the config).
        #[arg(long)]
        profile: Option<String>,
    },
    /// Wire Loopgate into desktop AI clients, or take their servers into Loopgate.
    #[command(
        after_help = "Examples:\n  loopgate client list\n  loopgate client install cursor\n  loopgate client install cursor --profile coding\n  loopgate client import claude-desktop --replace\n  loopgate client uninstall cursor"
    )]
    Client {
        /// What to do.
        #[command(subcommand)]
        action: ClientCommand,
    },
    /// Run a tool through the running gateway (as a client would) and print its result.
    Call {
        /// The server.
        server: String,
        /// The tool, by the server's name for it (or the name clients see).
        tool: String,
        /// The arguments, a JSON object (e.g. '{"a": 1, "b": 2}').
        args: Option<String>,
        /// Print the whole result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the running gateway's activity log: every call through it, newest last.
    Activity(activity::ActivityArgs),
    /// Add the servers of another client's config (Claude Desktop, Cursor, …), moving secret
    /// env values and Authorization headers into the OS keychain. The file is not modified.
    #[command(
        after_help = "Example:\n  loopgate import ~/.config/Claude/claude_desktop_config.json"
    )]
    Import {
        /// The config file to read (a JSON object with "mcpServers").
        file: PathBuf,
    },
}

/// `loopgate client …`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Show the known clients, whether each is installed here and wired to Loopgate.
    List,
    /// Add Loopgate to a client's config (`loopgate client list` shows the ids).
    Install {
        /// Client id.
        name: String,
        /// Wire it over stdio (`loopgate connect`) even though it speaks HTTP.
        #[arg(long)]
        stdio: bool,
        /// Bind its token to this profile (a name from "profiles" in the config): it sees only
        /// that profile's servers and tools.
        #[arg(long)]
        profile: Option<String>,
    },
    /// Remove Loopgate's entry from a client's config and revoke its token.
    Uninstall {
        /// Client id.
        name: String,
    },
    /// Take the servers configured in a client into Loopgate (secrets to the keychain).
    Import {
        /// Client id.
        name: String,
        /// Also replace them in the client by the single Loopgate entry.
        #[arg(long)]
        replace: bool,
    },
    /// Check wired clients: entry present and current, token valid, gateway reachable the
    /// way the client reaches it; says what to do when not. Exits 1 when a check fails.
    Doctor {
        /// Client id (default: every client detected here or wired to Loopgate).
        name: Option<String>,
        /// Print the reports as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `loopgate serve --sign-in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignInArg {
    /// Write sign-in URLs to the log.
    Log,
    /// Open them in the system browser.
    Browser,
    /// Fetch them without a human (test authorization servers only).
    Follow,
}

impl From<SignInArg> for crate::oauth::Presenter {
    fn from(a: SignInArg) -> Self {
        match a {
            SignInArg::Log => crate::oauth::Presenter::Log,
            SignInArg::Browser => crate::oauth::Presenter::Browser,
            SignInArg::Follow => crate::oauth::Presenter::Follow,
        }
    }
}

/// `loopgate auth …`
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign in to SERVER (opens the browser; through the running gateway when there is one).
    Login {
        /// Server name.
        server: String,
        /// How to show the authorization URL.
        #[arg(long, value_enum, default_value = "browser")]
        show: auth::Show,
    },
    /// Sign out of SERVER: delete its tokens and client registration from the keychain.
    Logout {
        /// Server name.
        server: String,
    },
    /// Show the sign-in state of every HTTP server that may use OAuth (never token values).
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Connect to URL as the gateway would, signing in without a human (conformance client).
    #[command(hide = true)]
    Probe(auth::ProbeArgs),
}

/// `loopgate secret …`
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret (asks for the value without echo; reads it from stdin when piped).
    Set {
        /// Secret name: letters, digits, '_', '.', '-'.
        name: String,
    },
    /// List secret names (never values), whether each is set, and which servers use it.
    List,
    /// Delete a secret.
    Rm {
        /// Secret name.
        name: String,
    },
}

/// Parses the command line, runs the command and maps errors to exit code 1 with a message.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::logging::init();
    if cli.command.is_none() {
        return desktop(&cli);
    }
    let runtime = match crate::app::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error with its causes, `: `-separated, leaving out a cause whose text the message already
/// contains (many of our errors name their source in their own message).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// `loopgate` with no command: the desktop app, or a pointer to `serve` in headless builds.
fn desktop(cli: &Cli) -> ExitCode {
    #[cfg(feature = "desktop")]
    {
        let path = match config_path(cli) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        };
        match crate::desktop::run(path, cli.hidden) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
    #[cfg(not(feature = "desktop"))]
    {
        let _ = cli;
        eprintln!("this build of loopgate has no desktop app (built without the `desktop` feature); run `loopgate serve`, or see `loopgate --help`");
        ExitCode::from(2)
    }
}

fn config_path(cli: &Cli) -> Result<PathBuf> {
    match &cli.config {
        Some(p) => Ok(p.clone()),
        None => config::default_config_path()
            .context("cannot find a config directory (no home directory?); pass --config PATH"),
    }
}

async fn run(cli: Cli) -> Result<()> {
    let path = config_path(&cli)?;
    let secrets = SecretStore::os();
    let Some(command) = cli.command else {
        unreachable!("handled in main")
    };
    match command {
        Command::Serve { port, sign_in } => serve::serve(path, port, secrets, sign_in.into()).await,
        Command::Auth { action } => match action {
            AuthCommand::Login { server, show } => {
                auth::login(&path, &secrets, &server, show).await
            }
            AuthCommand::Logout { server } => auth::logout(&path, &secrets, &server).await,
            AuthCommand::Status { json } => auth::status(&path, &secrets, json).await,
            AuthCommand::Probe(args) => auth::probe(args).await,
        },
        Command::Servers { json } => status::servers(&path, &secrets, json).await,
        Command::Tools { server, json } => {
            status::tools(&path, &secrets, server.as_deref(), json).await
        }
        Command::Token => {
            let token = crate::token::read(&path, &secrets)
                .await?
                .with_context(|| {
                    format!(
                        "no token yet for {}; `loopgate serve` creates one on first run",
                        path.display()
                    )
                })?;
            println!("{token}");
            Ok(())
        }
        Command::Open { print } => {
            // The running gateway mints a one-time link; the token itself never leaves this
            // process (no long-lived token in a URL or a browser's argv).
            let answer: crate::http::api::types::UrlAnswer =
                client::post(&path, &secrets, "dashboard/link")
                    .await
                    .map_err(anyhow::Error::from)?;
            let link = answer.url;
            println!("{link}");
            if !print {
                if let Err(e) = open::that_detached(&link) {
                    eprintln!("could not start a browser ({e}); open the link above yourself (it works once, for 5 minutes)");
                }
            }
            Ok(())
        }
        Command::Secret { action } => match action {
            SecretCommand::Set { name } => secret::set(&path, &secrets, &name).await,
            SecretCommand::List => secret::list(&path, &secrets).await,
            SecretCommand::Rm { name } => secret::rm(&path, &secrets, &name).await,
        },
        Command::Import { file } => secret::import(&path, &secrets, &file).await,
        Command::Call {
            server,
            tool,
            args,
            json,
        } => call::call(&path, &secrets, &server, &tool, args.as_deref(), json).await,
        Command::Activity(args) => activity::activity(&path, &secrets, &args).await,
        Command::Connect { profile } => clients::connect(&path, secrets, profile.as_deref()).await,
        Command::Client { action } => match action {
            ClientCommand::List => {
                clients::list();
                Ok(())
            }
            ClientCommand::Install {
                name,
                stdio,
                profile,
            } => clients::install(&path, &secrets, &name, stdio, profile.as_deref()).await,
            ClientCommand::Uninstall { name } => clients::uninstall(&path, &secrets, &name).await,
            ClientCommand::Import { name, replace } => {
                clients::import_from(&path, &secrets, &name, replace).await
            }
            ClientCommand::Doctor { name, json } => {
                clients::doctor(&path, &secrets, name.as_deref(), json).await
            }
        },
    }
}
