//! The end-to-end tests, in one test binary (one link of the crate instead of one per file):
//! each module drives the real gateway — in-process or the real `loopgate` binary — against
//! real MCP peers (`tests/peers`). Tests that change process-wide state (the environment) live
//! in their own binaries: `tests/ui_browser.rs`, and `tests/desktop.rs` (desktop feature).

#[path = "../common/mod.rs"]
mod common;

mod activity;
mod api;
mod api_errors;
mod apps;
mod architecture;
mod cli;
mod client_files;
mod clients;
mod config_faults;
mod conformance;
mod endpoint;
mod faults;
mod fidelity;
mod fuzz;
mod gateway;
mod keychain;
mod load;
mod oauth;
mod profiles;
mod real_clients;
mod routing;
mod security;
mod stateless;
mod tray;
