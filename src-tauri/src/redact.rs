//! Secret values never reach a log (ARCHITECTURE.md rule 8), whoever writes the line and at
//! whatever level.
//!
//! Every credential value Loopgate handles is registered here when it is read or made —
//! resolved `${secret:…}` values, OAuth access and refresh tokens and client secrets, the
//! gateway's and the clients' access tokens — and [`redact`] replaces each occurrence with
//! [`MASK`]. The log writer ([`RedactingWriter`], installed by the CLI and the desktop app for
//! `tracing`) and the per-server log buffers (`upstream::logs`) pass every line through it, so
//! even rmcp's own `trace`-level message dumps, or a server echoing a secret on stderr, show
//! `[redacted]` instead.
//!
//! Values are matched as written and as they appear inside JSON strings (escaped), with one
//! Aho-Corasick automaton (leftmost-longest). Values shorter than [`MIN_LEN`] bytes are not
//! registered: masking every `"1"` or `"on"` in a log would destroy it, and such values are no
//! secret. The set only grows (an old value stays masked after a secret changes), up to
//! [`MAX_VALUES`], beyond which the oldest registrations are forgotten.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::{AhoCorasick, MatchKind};
use arc_swap::ArcSwapOption;

/// What a secret value is replaced with.
pub const MASK: &str = "[redacted]";
/// Shortest value registered, in bytes.
pub const MIN_LEN: usize = 4;
/// Most values remembered.
pub const MAX_VALUES: usize = 4096;

/// The registered values and the automaton built from them.
pub struct Redactor {
    values: Mutex<VecDeque<String>>,
    matcher: ArcSwapOption<AhoCorasick>,
    max: usize,
}

/// The process-wide redactor (logging is process-wide too).
pub fn global() -> &'static Redactor {
    static GLOBAL: OnceLock<Redactor> = OnceLock::new();
    GLOBAL.get_or_init(Redactor::new)
}

/// Registers `value` with the [`global`] redactor.
pub fn register(value: &str) {
    global().add(value);
}

/// `text` with every registered value masked by the [`global`] redactor.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    global().redact(text)
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new()
    }
}

impl Redactor {
    /// An empty redactor remembering at most [`MAX_VALUES`] values.
    pub fn new() -> Self {
        Self::with_max(MAX_VALUES)
    }

    /// An empty redactor remembering at most `max` values.
    pub fn with_max(max: usize) -> Self {
        Self {
            values: Mutex::new(VecDeque::new()),
            matcher: ArcSwapOption::empty(),
            max,
        }
    }

    /// Registers `value` (and its JSON-escaped form) for masking; values shorter than
    /// [`MIN_LEN`] bytes, or already known, are ignored.
    pub fn add(&self, value: &str) {
        if value.len() < MIN_LEN {
            return;
        }
        let escaped = serde_json::to_string(value).unwrap_or_default();
        let escaped = escaped
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .unwrap_or(value)
            .to_string();
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        for v in [value.to_string(), escaped] {
            if !values.contains(&v) {
                values.push_back(v);
                changed = true;
            }
        }
        if !changed {
            return;
        }
        while values.len() > self.max {
            values.pop_front();
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(values.iter())
            .ok()
            .map(Arc::new);
        self.matcher.store(matcher);
    }

    /// `text` with every registered value replaced by [`MASK`] (borrowed when nothing
    /// matched).
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let guard = self.matcher.load();
        match guard.as_ref() {
            Some(m) if m.is_match(text) => {
                std::borrow::Cow::Owned(m.replace_all(text, &vec![MASK; m.patterns_len()]))
            }
            _ => std::borrow::Cow::Borrowed(text),
        }
    }
}

/// A log writer that collects one formatted event and writes it, redacted, to stderr when
/// dropped (`tracing_subscriber` makes one per event).
#[derive(Default)]
pub struct RedactingWriter {
    buf: Vec<u8>,
}

impl Write for RedactingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf);
        let out = redact(&text);
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
    }
}

/// The `MakeWriter` for `tracing_subscriber::fmt().with_writer(..)`: every event goes through
/// [`redact`] on its way to stderr.
pub fn make_writer() -> RedactingWriter {
    RedactingWriter::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_plain_and_json_escaped() {
        let r = Redactor::new();
        assert_eq!(r.redact("nothing registered"), "nothing registered");
        r.add("s3cr\"et");
        r.add("ab"); // too short to mask
        r.add("tok-12345");
        assert_eq!(
            r.redact("env A=s3cr\"et and B=tok-12345 ab"),
            "env A=[redacted] and B=[redacted] ab"
        );
        let json = serde_json::json!({"text": "value s3cr\"et"}).to_string();
        assert_eq!(r.redact(&json), r#"{"text":"value [redacted]"}"#);
        // A value containing another is masked whole.
        r.add("tok-12345-longer");
        assert_eq!(r.redact("x tok-12345-longer y"), "x [redacted] y");
        assert!(matches!(r.redact("clean"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn the_set_is_bounded() {
        let r = Redactor::with_max(64);
        for i in 0..64 + 10 {
            r.add(&format!("value-{i:06}"));
        }
        assert!(r.values.lock().unwrap().len() <= 64);
        assert_eq!(r.redact("value-000000"), "value-000000", "oldest forgotten");
        assert_eq!(r.redact(&format!("value-{:06}", 64 + 9)), "[redacted]");
    }
}
