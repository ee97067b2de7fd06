//! The process's log: `tracing-subscriber`'s formatter behind an `RUST_LOG`-style filter
//! (default `info,rmcp=warn`), every line through the secret redactor
//! ([`crate::redact`], ARCHITECTURE.md rule 8), and without the errors that cry wolf.
//!
//! **Crying wolf:** when a client closes its session or connection while answers to it are
//! still queued, rmcp logs `ERROR failed to send pending response during drain error=channel
//! closed` for each — nothing failed: the client left, as clients do (a CLI that lists the
//! tools and exits). [`QuietExpected`] drops exactly that event (rmcp's service target, that
//! message, a closed channel); the same message with any other error still shows.

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

impl<S> Filter<S> for QuietExpected {
    fn enabled(&self, _meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        let meta = event.metadata();
        if *meta.level() != Level::ERROR || !meta.target().starts_with("rmcp::service") {
            return true;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        !(fields.message == DRAIN_MESSAGE && fields.error.contains("channel closed"))
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
            tracing::info!(target: "loopgate", "an ordinary line");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("channel closed"), "{text}");
        assert!(text.contains("connection reset by peer"), "{text}");
        assert!(text.contains("something else broke"), "{text}");
        assert!(text.contains("an ordinary line"), "{text}");
    }
}
