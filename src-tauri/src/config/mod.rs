//! Configuration: the JSON file in the `mcpServers` shape that Claude Desktop and Cursor use,
//! plus Loopgate's own keys.
//!
//! - [`model`]: the types and their validation into runnable [`model::Backend`]s.
//! - [`store`]: locating, loading, first-run defaults and atomic writes — the one writer.
//! - [`watch`]: following hand edits of the file while running.
//! - [`import`]: taking servers from other clients' configs.

pub mod import;
pub mod model;
pub mod store;
pub mod watch;

pub use model::{Backend, Config, ConfigError, GatewaySettings, ServerEntry};
pub use store::{default_config_path, Store};
