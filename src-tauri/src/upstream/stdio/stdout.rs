//! A stdio server's stdout, watched for messages too large to accept.
//!
//! rmcp drops a line longer than its limit without telling anyone, so the request it answered
//! would wait for its timeout. [`WatchedStdout`] passes the bytes through unchanged, keeps the
//! first [`PREFIX_BYTES`] of each line, and when a line grows past [`MAX_MESSAGE_BYTES`] reads
//! the JSON-RPC `id` from that prefix and reports it: only the request it answered fails, with a
//! clear error. (When no id can be read, every waiting request is told.)

use rmcp::model::RequestId;
use tokio::sync::broadcast;

/// Largest single message accepted from a stdio server, in bytes (16 MiB, rmcp's line limit).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// How much of each line is kept to find its `id`, in bytes.
pub const PREFIX_BYTES: usize = 512;

/// A stdout reader reporting oversized messages (see the module docs).
pub struct WatchedStdout<R> {
    inner: R,
    line_len: usize,
    prefix: Vec<u8>,
    flagged: bool,
    oversized: broadcast::Sender<Option<RequestId>>,
}

impl<R> WatchedStdout<R> {
    /// Wraps `inner`, reporting each oversized line's request id to `oversized`.
    pub fn new(inner: R, oversized: broadcast::Sender<Option<RequestId>>) -> Self {
        Self {
            inner,
            line_len: 0,
            prefix: Vec::with_capacity(PREFIX_BYTES),
            flagged: false,
            oversized,
        }
    }

    fn observe(&mut self, bytes: &[u8]) {
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            self.line_len += chunk.len();
            let room = PREFIX_BYTES.saturating_sub(self.prefix.len());
            self.prefix
                .extend_from_slice(&chunk[..chunk.len().min(room)]);
            if self.line_len > MAX_MESSAGE_BYTES && !self.flagged {
                self.flagged = true;
                let _ = self.oversized.send(id_in(&self.prefix));
            }
            if chunk.ends_with(b"\n") {
                self.line_len = 0;
                self.prefix.clear();
                self.flagged = false;
            }
        }
    }
}

/// The top-level `"id"` of a JSON-RPC message from its first bytes (a number or a string),
/// when it comes before the payload (as every SDK writes it).
pub fn id_in(prefix: &[u8]) -> Option<RequestId> {
    let text = String::from_utf8_lossy(prefix);
    let at = text.find("\"id\"")?;
    let rest = text[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        let end = s.find('"')?;
        return Some(RequestId::String(s[..end].into()));
    }
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok().map(RequestId::Number)
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WatchedStdout<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = &poll {
            let this = &mut *self;
            this.observe(&buf.filled()[before..]);
        }
        poll
    }
}

/// Resolves when `oversized` reports a dropped message for request `id` (or one whose id could
/// not be read); never without a receiver.
pub async fn too_large(oversized: Option<broadcast::Receiver<Option<RequestId>>>, id: &RequestId) {
    let Some(mut rx) = oversized else {
        return std::future::pending().await;
    };
    loop {
        match rx.recv().await {
            Ok(Some(dropped)) if &dropped == id => return,
            Ok(None) => return,
            Ok(Some(_)) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn reads_ids_from_message_prefixes() {
        assert_eq!(
            id_in(br#"{"jsonrpc":"2.0","id":42,"result":{"#),
            Some(RequestId::Number(42))
        );
        assert_eq!(
            id_in(br#"{"jsonrpc": "2.0", "id" : "abc", "result""#),
            Some(RequestId::String("abc".into()))
        );
        assert_eq!(id_in(br#"{"result":{"content":[{"text":"xxxx"#), None);
    }

    #[tokio::test]
    async fn reports_only_the_oversized_message() {
        let (tx, mut rx) = broadcast::channel(4);
        let mut input = br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_vec();
        input.push(b'\n');
        input.extend_from_slice(br#"{"jsonrpc":"2.0","id":7,"result":{"text":""#);
        input.extend(std::iter::repeat_n(b'x', MAX_MESSAGE_BYTES));
        input.extend_from_slice(b"\"}}\n");
        let mut w = WatchedStdout::new(&input[..], tx);
        let mut out = Vec::new();
        w.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, input, "passed through unchanged");
        assert_eq!(rx.try_recv().unwrap(), Some(RequestId::Number(7)));
        assert!(rx.try_recv().is_err(), "reported once");
    }
}
