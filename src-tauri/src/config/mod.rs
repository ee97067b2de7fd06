//! Configuration: the JSON file in the `mcpServers` shape that Claude Desktop and Cursor use,
//! plus Loopgate's own keys.
//!
//! - [`model`]: the types, as the file holds them; [`validate`]: whether they can run, each
//!   server entry turned into a runnable [`model::Backend`]; [`error`]: what goes wrong, with
//!   typed field paths.
//! - [`profiles`]: named sets of servers and tools, and which one each client sees.
//! - [`store`]: locating, loading, first-run defaults and atomic writes — the one writer.
//! - [`watch`]: following hand edits of the file while running.
//! - [`import`]: taking servers from other clients' configs.
//! - [`suggestions`]: well-known servers offered when adding one (Claude Code, …).

pub mod error;
pub mod import;
pub mod model;
pub mod profiles;
pub mod store;
pub mod suggestions;
pub mod validate;
pub mod watch;

pub use error::{ConfigError, FieldError, FieldPath};
pub use model::{Backend, Config, GatewaySettings, ServerEntry, Transport};
pub use profiles::Profile;
pub use store::{default_config_path, Follower, Store};
pub use validate::validate_server_name;
