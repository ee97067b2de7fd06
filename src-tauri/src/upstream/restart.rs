//! When a failed server is tried again: exponential backoff, reset by a stable connection, and
//! parking of a stdio server that keeps crashing at start. Pure arithmetic, no I/O (the runner
//! does the waiting).

use std::time::Duration;

/// First restart delay after a failure.
pub const BACKOFF_START: Duration = Duration::from_millis(500);
/// Longest restart delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A connection that lasted this long counts as stable: the crash count and backoff reset.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);
/// Consecutive rapid crashes after which a stdio server is parked as failed.
pub const MAX_RAPID_CRASHES: u32 = 5;

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again after this delay.
    RetryIn(Duration),
    /// Stop trying until the user restarts or re-enables the server; `failures` in a row.
    Park {
        /// How many rapid failures in a row led here.
        failures: u32,
    },
}

/// The restart state of one server.
#[derive(Debug, Clone)]
pub struct Restarts {
    parks: bool,
    backoff: Duration,
    rapid: u32,
}

impl Restarts {
    /// A fresh state. `parks`: whether rapid crashes park the server (stdio servers, whose
    /// crash loops are local and would only burn CPU; remote servers are retried forever).
    pub fn new(parks: bool) -> Self {
        Self {
            parks,
            backoff: BACKOFF_START,
            rapid: 0,
        }
    }

    /// A connection that lasted `lasted` (0 when it never came up) has failed: retry after
    /// the current backoff (which then doubles, up to [`BACKOFF_MAX`]), or park after
    /// [`MAX_RAPID_CRASHES`] rapid failures. A connection that lasted [`STABLE_AFTER`] resets
    /// both first.
    pub fn failed(&mut self, lasted: Duration) -> Next {
        if lasted >= STABLE_AFTER {
            self.reset();
        }
        self.rapid += 1;
        if self.parks && self.rapid >= MAX_RAPID_CRASHES {
            return Next::Park {
                failures: self.rapid,
            };
        }
        let delay = self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        Next::RetryIn(delay)
    }

    /// Starts over (after a successful sign-in).
    pub fn reset(&mut self) {
        self.backoff = BACKOFF_START;
        self.rapid = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut r = Restarts::new(false);
        let delays: Vec<_> = (0..10).map(|_| r.failed(Duration::ZERO)).collect();
        assert_eq!(delays[0], Next::RetryIn(Duration::from_millis(500)));
        assert_eq!(delays[1], Next::RetryIn(Duration::from_secs(1)));
        assert_eq!(delays[2], Next::RetryIn(Duration::from_secs(2)));
        assert_eq!(
            delays[9],
            Next::RetryIn(BACKOFF_MAX),
            "capped, never parked"
        );
    }

    #[test]
    fn stdio_servers_park_after_rapid_crashes_and_stability_resets() {
        let mut r = Restarts::new(true);
        for _ in 0..MAX_RAPID_CRASHES - 1 {
            assert!(matches!(r.failed(Duration::from_secs(1)), Next::RetryIn(_)));
        }
        // A long run in between: the count starts over.
        assert_eq!(r.failed(STABLE_AFTER), Next::RetryIn(BACKOFF_START));
        for _ in 0..MAX_RAPID_CRASHES - 2 {
            assert!(matches!(r.failed(Duration::ZERO), Next::RetryIn(_)));
        }
        assert_eq!(
            r.failed(Duration::ZERO),
            Next::Park {
                failures: MAX_RAPID_CRASHES
            }
        );
        r.reset();
        assert_eq!(r.failed(Duration::ZERO), Next::RetryIn(BACKOFF_START));
    }
}
