//! Loopgate: a desktop MCP gateway.
//!
//! One loopback Streamable HTTP endpoint (`http://127.0.0.1:<port>/mcp`) in front of any
//! number of MCP servers — local stdio servers spawned as supervised child processes and
//! remote Streamable HTTP servers. The data flow, top to bottom:
//!
//! - [`http`]: the axum app (Host/Origin guard, bearer token, rmcp's Streamable HTTP service,
//!   the admin `/api`).
//! - [`gateway`]: one MCP `ServerHandler` per client session over a shared [`gateway::Registry`]
//!   of aggregated, namespaced tools/prompts/resources.
//! - [`upstream`]: one supervised connection per enabled backend (stdio or Streamable HTTP).
//! - [`config`]: the JSON config (`mcpServers` shape), loaded, validated and written atomically.
//! - [`oauth`]: sign-in to OAuth-protected remote servers (MCP authorization spec), tokens in
//!   the keychain ([`secrets`]), refresh, revocation.
//!
//! `docs/ARCHITECTURE.md` is the full map (layers, how a request travels, the numbered rules
//! code cites as "ARCHITECTURE.md rule N"); the README is the user's guide.

pub mod activity;
pub mod app;
pub mod autostart;
pub mod caller;
pub mod cli;
pub mod clients;
pub mod config;
pub mod connect;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod gateway;
pub mod http;
pub mod logging;
pub mod memory;
pub mod notices;
pub mod oauth;
pub mod redact;
pub mod secrets;
pub mod token;
pub mod tray_menu;
pub mod upstream;
pub mod wire;
