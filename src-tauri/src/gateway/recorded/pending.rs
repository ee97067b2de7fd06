//! A request being timed for the activity log, and the helpers that judge how it ended.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::{CallToolResponse, ErrorData, ServerResult};
use serde::Serialize;

use crate::activity::{Body, Entry, Outcome, Recorder};

pub(super) fn body<T: Serialize + Send + 'static>(value: T) -> Body {
    Box::new(move || serde_json::to_string(&value).unwrap_or_default())
}

/// A request being timed: recorded when finished, or as cancelled when dropped unfinished.
pub(super) struct Pending {
    pub(super) recorder: Recorder,
    pub(super) started: Instant,
    pub(super) entry: Option<Entry>,
    pub(super) cancel: tokio_util::sync::CancellationToken,
    pub(super) timed_out: Arc<AtomicBool>,
}

impl Pending {
    pub(super) fn finish<T>(
        mut self,
        result: &Result<T, ErrorData>,
        judge: impl FnOnce(&T) -> Outcome,
    ) where
        T: Clone,
        T: Into<ServerResult>,
    {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.duration_us = self.started.elapsed().as_micros() as i64;
        let timed_out = self.timed_out.load(Ordering::Relaxed);
        match result {
            Ok(v) => {
                entry.outcome = judge(v);
                if entry.outcome == Outcome::IsError && timed_out {
                    entry.outcome = Outcome::Timeout;
                }
                let result: ServerResult = v.clone().into();
                if entry.outcome != Outcome::Ok {
                    entry.error = first_text(&result);
                }
                entry.response = Some(body(result));
            }
            Err(e) => {
                entry.outcome = if timed_out {
                    Outcome::Timeout
                } else {
                    Outcome::Error
                };
                entry.error = Some(e.message.to_string());
                entry.response = Some(body(e.clone()));
            }
        }
        if self.cancel.is_cancelled() {
            entry.outcome = Outcome::Cancelled;
        }
        self.recorder.record(entry);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(mut entry) = self.entry.take() {
            entry.duration_us = self.started.elapsed().as_micros() as i64;
            entry.outcome = Outcome::Cancelled;
            self.recorder.record(entry);
        }
    }
}

/// The first text block of a tool result (the error message of an `isError` result).
fn first_text(result: &ServerResult) -> Option<String> {
    let ServerResult::CallToolResult(r) = result else {
        return None;
    };
    r.content
        .iter()
        .find_map(|c| c.as_text().map(|t| t.text.chars().take(500).collect()))
}

pub(super) fn tool_outcome(r: &CallToolResponse) -> Outcome {
    match r {
        CallToolResponse::Complete(r) if r.is_error == Some(true) => Outcome::IsError,
        _ => Outcome::Ok,
    }
}

pub(super) fn ok<T>(_: &T) -> Outcome {
    Outcome::Ok
}
