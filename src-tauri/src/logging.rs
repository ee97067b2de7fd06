//! The process's log: `tracing-subscriber`'s formatter behind an `RUST_LOG`-style filter
//! (default `info,rmcp=warn`), every line through the secret redactor
//! ([`crate::redact`], ARCHITECTURE.md rule 8), and without the errors that cry wolf.
//!
//! **Crying wolf:** when a client closes its session or connection while answers to it are
//! still queued, rmcp logs `ERROR failed to send pending response during drain error=channel
//! closed` for each — nothing failed: the client left, as clients do (a CLI that lists the
//! tools and exits). [`QuietExpected`] drops exactly that event (rmcp's service target, that
//! message, a closed channel); the same message with any other error still shows.
//!
//! Likewise a server that asks its client something while none of its calls is in flight
//! (server-everything asks `roots/list` right after every start): Loopgate tells it that no
//! client can answer ([`NO_CALL_IN_PROGRESS`]) and notes that in the server's own log on the
//! dashboard, so rmcp's `WARN response error` for exactly that answer is dropped here; any
//! other error answer still shows.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,rmcp=warn,memory_serve=warn";

/// Installs the global subscriber (a second call does nothing): `RUST_LOG` or
/// [`DEFAULT_FILTER`], lines to stderr through the redactor, expected noise dropped.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(crate::redact::make_writer)
        .with_target(false)
        .with_filter(QuietExpected);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init();
}

/// A per-layer filter that drops log events known to report no failure (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct QuietExpected;

/// The rmcp event that reports a client leaving before its answers were sent.
const DRAIN_MESSAGE: &str = "failed to send pending response during drain";

/// The rmcp event that reports an error answer to a server's request.
const RESPONSE_ERROR_MESSAGE: &str = "response error";

/// Why a server's request outside any call reached no client (the text of
/// `upstream::routes::Unroutable::NoCall`, which is built from it).
pub const NO_CALL_IN_PROGRESS: &str =
    "no client request is in progress on this server's connection";

impl<S> Filter<S> for QuietExpected {
    fn enabled(&self, _meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        let meta = event.metadata();
        if *meta.level() > Level::WARN || !meta.target().starts_with("rmcp::service") {
            return true;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let drained = *meta.level() == Level::ERROR
            && fields.message == DRAIN_MESSAGE
            && fields.error.contains("channel closed");
        let no_call = *meta.level() == Level::WARN
            && fields.message == RESPONSE_ERROR_MESSAGE
            && fields.error.contains(NO_CALL_IN_PROGRESS);
        !(drained || no_call)
    }
}

/// The `message` and `error` fields of an event, as text.
#[derive(Default)]
struct Fields {
    message: String,
    error: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "error" => {
                let _ = write!(self.error, "{value:?}");
            }
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "error" => self.error.push_str(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects what the formatter writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_client_leaving_is_not_an_error_but_real_errors_still_show() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_filter(QuietExpected),
        );
        tracing::subscriber::with_default(subscriber, || {
            let closed = "channel closed";
            tracing::error!(target: "rmcp::service", error = %closed, "failed to send pending response during drain");
            let broken = "connection reset by peer";
            tracing::error!(target: "rmcp::service", error = %broken, "failed to send pending response during drain");
            tracing::error!(target: "rmcp::service", "something else broke");
            let no_call = format!("ErrorData {{ message: \"Loopgate could not pass roots/list on to a client: {NO_CALL_IN_PROGRESS}, so no client can answer it\" }}");
            tracing::warn!(target: "rmcp::service", error = ?no_call, "response error");
            let other = "ErrorData { message: \"Method not found: other/thing\" }";
            tracing::warn!(target: "rmcp::service", error = ?other, "response error");
            tracing::info!(target: "loopgate", "an ordinary line");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("channel closed"), "{text}");
        assert!(!text.contains(NO_CALL_IN_PROGRESS), "{text}");
        assert!(text.contains("Method not found: other/thing"), "{text}");
        assert!(text.contains("connection reset by peer"), "{text}");
        assert!(text.contains("something else broke"), "{text}");
        assert!(text.contains("an ordinary line"), "{text}");
    }
}
