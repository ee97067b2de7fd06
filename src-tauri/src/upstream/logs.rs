//! Bounded per-server log buffers (a server's stderr plus Loopgate's own notes about it).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Lines kept per server before the oldest are dropped.
pub const DEFAULT_CAPACITY: usize = 500;
/// Longest line kept, in bytes; longer lines are cut (on a char boundary) and marked with `…`.
pub const MAX_LINE_BYTES: usize = 4096;

/// One kept line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch when the line was recorded.
    pub ts_ms: u64,
    /// `"stderr"` for the server's own output, `"gateway"` for Loopgate's notes.
    pub source: &'static str,
    /// The text, without trailing newline.
    pub line: String,
}

/// A ring buffer of the most recent lines; memory is bounded by
/// `capacity × MAX_LINE_BYTES` whatever the server writes.
#[derive(Debug)]
pub struct LogBuffer {
    capacity: usize,
    lines: Mutex<VecDeque<LogLine>>,
}

impl Default for LogBuffer {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl LogBuffer {
    /// An empty buffer keeping at most `capacity` lines.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            lines: Mutex::new(VecDeque::new()),
        }
    }

    /// Appends a line, dropping the oldest when full and cutting it to [`MAX_LINE_BYTES`].
    /// Registered secret values are masked first ([`crate::redact`]).
    pub fn push(&self, source: &'static str, line: &str) {
        let line = crate::redact::redact(line);
        let mut text = line.trim_end_matches(['\r', '\n']).to_string();
        if text.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        let ts_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == self.capacity {
            lines.pop_front();
        }
        lines.push_back(LogLine {
            ts_ms,
            source,
            line: text,
        });
    }

    /// The most recent `n` lines, oldest first.
    pub fn tail(&self, n: usize) -> Vec<LogLine> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest_lines_and_cuts_long_ones() {
        let b = LogBuffer::new(3);
        for i in 0..10 {
            b.push("stderr", &format!("line {i}\n"));
        }
        let t = b.tail(10);
        assert_eq!(
            t.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(),
            ["line 7", "line 8", "line 9"]
        );
        assert_eq!(b.tail(1)[0].line, "line 9");
        b.push("stderr", &"é".repeat(MAX_LINE_BYTES));
        let last = &b.tail(1)[0].line;
        assert!(last.len() <= MAX_LINE_BYTES + '…'.len_utf8() && last.ends_with('…'));
    }
}
