//! A stdio server's pipes as rmcp's transport, shared with the direct exchange.
//!
//! rmcp's client service owns a stdio server's pipes: a request crosses to its service task,
//! is written by a task spawned for it, and the answer is read and parsed by the service task
//! and handed back. For the calls the gateway relays on the session,
//! [`super::exchange::Exchange`] writes the request itself and waits for the answer in the
//! caller's task. [`Pipe`] is the [`Transport`] rmcp's service runs on, and [`Shared`] the part
//! both use:
//!
//! - **Writing:** one writer at a time holds stdin ([`Shared::write`]), so the lines of rmcp's
//!   messages and the exchange's never interleave. Closing the transport closes stdin, as
//!   rmcp's own transport does (the first step of a graceful stop).
//! - **Reading:** lines are framed by rmcp's [`JsonRpcMessageCodec`] (its length limit, byte
//!   order mark and `\r` handling) and read as JSON text first. An answer (a result or an
//!   error) whose id is a waiting direct call goes to that call unparsed. Every other message
//!   is parsed as rmcp parses it and handed to rmcp's service, except a direct call's
//!   progress, which moves the call's timeout ([`Alive`]) and goes to the call here, and log
//!   messages, which go to the pipe's [`Logging`]: both in order (ARCHITECTURE.md rule 21:
//!   rmcp handles each notification on a task of its own).
//! - **Faults**, as rmcp's transport treats them: a line that is no JSON is skipped; JSON that
//!   is no message gets an "Invalid Request" error back; a line over [`MAX_MESSAGE_BYTES`] is
//!   dropped (the [`super::WatchedStdout`] under it reports its id). At end of file, and when rmcp closes the transport, every waiting call fails,
//!   and later ones go rmcp's way, which reports the closed transport. One difference: a
//!   notification rmcp cannot read is skipped, where rmcp's transport answers one with a
//!   standard method (JSON-RPC 2.0, section 4.1: a notification gets no reply).

// Logging is deprecated by SEP-2577 in rmcp, but servers still log, and a gateway relays it.
#![allow(deprecated)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, ErrorData, JsonRpcMessage,
    LoggingMessageNotificationParam, RequestId, ServerJsonRpcMessage, ServerNotification,
};
use rmcp::transport::async_rw::{JsonRpcMessageCodec, JsonRpcMessageCodecError};
use rmcp::transport::Transport;
use rmcp::RoleClient;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use super::stdout::MAX_MESSAGE_BYTES;
use crate::upstream::call::Alive;
use crate::upstream::routes::CallRoute;
use crate::wire::{Envelope, Shape};

/// How much room is made in the read buffer before each read, in bytes (rmcp's own stdio
/// transport reads through a buffer of this size; a longer message grows the buffer).
const READ_CHUNK: usize = 8 * 1024;

/// The server's stdin, as written by rmcp's service and the exchange alike.
type Stdin = Box<dyn AsyncWrite + Send + Unpin>;

/// rmcp's transport over a stdio server's pipes (see the module docs).
pub struct Pipe<R> {
    read: R,
    buf: BytesMut,
    lines: JsonRpcMessageCodec<Box<RawValue>>,
    shared: Arc<Shared>,
    logging: Option<Logging>,
}

/// Where the server's log messages go when the pipe hands them over itself
/// ([`Pipe::with_logging`]).
pub type Logging = Box<dyn Fn(LoggingMessageNotificationParam) + Send + Sync>;

/// What the transport and the exchange share: stdin and the direct calls waiting.
pub struct Shared {
    stdin: tokio::sync::Mutex<Option<Stdin>>,
    waiting: Mutex<Waiting>,
    /// An "Invalid Request" reply is on its way ([`Shared::refuse`]).
    replying: AtomicBool,
}

/// A write the caller stopped waiting for, finished by a task of its own when dropped.
struct Unfinished(Option<Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(write) = self.0.take() {
            tokio::spawn(write);
        }
    }
}

#[derive(Default)]
struct Waiting {
    calls: HashMap<RequestId, Waiter>,
    /// Set at end of file: nothing more will be read.
    closed: bool,
}

struct Waiter {
    answer: oneshot::Sender<Answered>,
    alive: Arc<Alive>,
    /// Where its progress goes.
    route: Option<Arc<CallRoute>>,
}

/// An answer taken off the pipe for a direct call: its JSON text, and the shape its envelope
/// was read as ([`Shape::Response`] or [`Shape::Error`]), so it is not read again.
#[derive(Debug)]
pub struct Answered {
    /// [`Shape::Response`] or [`Shape::Error`].
    pub shape: Shape,
    /// The whole message, as the server sent it.
    pub text: Box<RawValue>,
}

/// A direct call's place among the waiting ones; removed when dropped.
pub struct Pending {
    shared: Arc<Shared>,
    id: RequestId,
    /// Gets the answer; fails when the pipe closes first.
    pub answer: oneshot::Receiver<Answered>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.shared.lock().calls.remove(&self.id);
    }
}

/// A transport over `stdout` (the server's messages) and `stdin` (to the server), and the
/// part the exchange shares.
pub fn pipe<R, W>(stdout: R, stdin: W) -> (Pipe<R>, Arc<Shared>)
where
    R: AsyncRead + Send + Unpin,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let shared = Arc::new(Shared {
        stdin: tokio::sync::Mutex::new(Some(Box::new(stdin))),
        waiting: Mutex::new(Waiting::default()),
        replying: AtomicBool::new(false),
    });
    let pipe = Pipe {
        read: stdout,
        buf: BytesMut::new(),
        lines: JsonRpcMessageCodec::new_with_max_length(MAX_MESSAGE_BYTES),
        shared: shared.clone(),
        logging: None,
    };
    (pipe, shared)
}

/// `message` as one line of the stdio transport (JSON, then `\n`).
pub fn line(message: ClientJsonRpcMessage) -> Vec<u8> {
    let mut buf = BytesMut::new();
    match JsonRpcMessageCodec::default().encode(message, &mut buf) {
        Ok(()) => buf.to_vec(),
        // rmcp's messages always serialize; were one not to, the server gets no line.
        Err(e) => {
            tracing::error!("a message could not be serialized: {e}");
            Vec::new()
        }
    }
}

/// The request `request` with id `id` as one line of the stdio transport (JSON, then `\n`),
/// written by [`crate::wire::request_json`]. A request that does not serialize (rmcp's types
/// always do) is reported and gives no line, as in [`line()`].
pub fn request_line(id: &RequestId, mut request: ClientRequest) -> Vec<u8> {
    match crate::wire::request_json(id, &mut request) {
        Ok(mut json) => {
            json.push(b'\n');
            json
        }
        Err(e) => {
            tracing::error!("a request could not be serialized: {e}");
            Vec::new()
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `line` (one whole message, [`line()`]) to the server's stdin.
    ///
    /// A line is written whole even when the caller stops waiting halfway (its client went
    /// away): the rest is written by a task of its own, still holding stdin, since half a line
    /// would corrupt the next message.
    ///
    /// Errors: `NotConnected` once the transport closed stdin; the OS error when the server
    /// no longer reads it (it exited).
    pub async fn write(self: &Arc<Self>, line: Vec<u8>) -> std::io::Result<()> {
        let shared = self.clone();
        let mut unfinished =
            Unfinished(Some(Box::pin(async move { shared.write_now(&line).await })));
        let result = std::future::poll_fn(|cx| match unfinished.0.as_mut() {
            Some(write) => write.as_mut().poll(cx),
            None => std::task::Poll::Ready(Ok(())),
        })
        .await;
        unfinished.0 = None;
        result
    }

    async fn write_now(&self, line: &[u8]) -> std::io::Result<()> {
        let mut stdin = self.stdin.lock().await;
        let Some(stdin) = stdin.as_mut() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "the server's stdin is closed",
            ));
        };
        stdin.write_all(line).await?;
        stdin.flush().await
    }

    /// Tells the server it sent JSON that is no message, one reply at a time: a server that
    /// floods them without reading its stdin gets no more than one waiting.
    fn refuse(self: &Arc<Self>) {
        if self.replying.swap(true, Ordering::AcqRel) {
            return;
        }
        let shared = self.clone();
        tokio::spawn(async move {
            let reply = ClientJsonRpcMessage::error(
                ErrorData::invalid_request("Invalid request", None),
                None,
            );
            let _ = shared.write(line(reply)).await;
            shared.replying.store(false, Ordering::Release);
        });
    }

    /// Waits for the answer `id`, whose progress (token `id`) touches `alive` and goes to
    /// the call's `route` before the answer; `None` once the pipe reached end of file.
    /// Registered before the request is written: the server may answer before the write
    /// returns.
    pub fn wait_for(
        self: &Arc<Self>,
        id: RequestId,
        alive: Arc<Alive>,
        route: Option<Arc<CallRoute>>,
    ) -> Option<Pending> {
        let mut waiting = self.lock();
        if waiting.closed {
            return None;
        }
        let (answer, rx) = oneshot::channel();
        let waiter = Waiter {
            answer,
            alive,
            route,
        };
        waiting.calls.insert(id.clone(), waiter);
        Some(Pending {
            shared: self.clone(),
            id,
            answer: rx,
        })
    }

    /// Hands `text` (an answer of `shape`) to the call waiting for answer `id`; gives it
    /// back when none waits.
    fn deliver(&self, id: &RequestId, shape: Shape, text: Box<RawValue>) -> Option<Box<RawValue>> {
        match self.lock().calls.remove(id) {
            Some(waiter) => {
                // rmcp's service logs each message it reads at this level; this one skips it.
                tracing::trace!(answer = text.get(), "answer to a direct call");
                // A call that gave up meanwhile drops the answer, as rmcp drops a late one.
                let _ = waiter.answer.send(Answered { shape, text });
                None
            }
            None => Some(text),
        }
    }

    /// End of file, or the transport closed: every waiting call fails, and no more wait.
    fn close(&self) {
        let mut waiting = self.lock();
        waiting.closed = true;
        waiting.calls.clear();
    }
}

impl<R> Pipe<R> {
    /// This pipe, handing the server's log messages to `logging` as it reads them, in the
    /// order of the server's other messages, instead of to rmcp's service (which handles each
    /// on a task of its own, so one written before an answer could reach its call after it).
    pub fn with_logging(mut self, logging: Logging) -> Self {
        self.logging = Some(logging);
        self
    }
}

impl<R: AsyncRead + Send + Unpin> Pipe<R> {
    /// The next whole line as JSON text; `None` at end of file or on a read error.
    async fn next_line(&mut self) -> Option<Box<RawValue>> {
        loop {
            match self.lines.decode(&mut self.buf) {
                Ok(Some(text)) => return Some(text),
                Ok(None) => {}
                // Reported by the WatchedStdout under this pipe, with the id it answered.
                Err(JsonRpcMessageCodecError::MaxLineLengthExceeded) => continue,
                Err(e) => {
                    tracing::debug!("ignoring a line from the server that is no JSON: {e}");
                    continue;
                }
            }
            self.buf.reserve(READ_CHUNK);
            match self.read.read_buf(&mut self.buf).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!("reading the server's stdout failed: {e}");
                    return None;
                }
            }
        }
    }

    /// The message `text` holds for rmcp; `None` when it went to a direct call or is skipped.
    fn sort(&self, text: Box<RawValue>) -> Option<ServerJsonRpcMessage> {
        let envelope = Envelope::read(text.get().as_bytes());
        let text = match &envelope {
            Some(Envelope {
                shape: shape @ (Shape::Response | Shape::Error),
                id: Some(id),
                ..
            }) => self.shared.deliver(id, *shape, text)?,
            _ => text,
        };
        match serde_json::from_str::<ServerJsonRpcMessage>(text.get()) {
            Ok(message) => {
                let JsonRpcMessage::Notification(n) = &message else {
                    return Some(message);
                };
                match (&n.notification, &self.logging) {
                    (ServerNotification::ProgressNotification(p), _) => {
                        if let Some(w) = self.shared.lock().calls.get(&p.params.progress_token.0) {
                            w.alive.touch();
                            if w.route
                                .as_ref()
                                .is_some_and(|r| r.progress(p.params.clone()))
                            {
                                return None;
                            }
                        }
                    }
                    (ServerNotification::LoggingMessageNotification(l), Some(logging)) => {
                        logging(l.params.clone());
                        return None;
                    }
                    _ => {}
                }
                Some(message)
            }
            Err(e) if envelope.is_some_and(|e| e.shape == Shape::Notification) => {
                tracing::debug!("ignoring a notification from the server rmcp cannot read: {e}");
                None
            }
            Err(e) => {
                tracing::debug!("the server sent JSON that is no MCP message: {e}");
                self.shared.refuse();
                None
            }
        }
    }
}

impl<R: AsyncRead + Send + Unpin> Transport<RoleClient> for Pipe<R> {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send + 'static {
        let shared = self.shared.clone();
        let line = line(item);
        async move { shared.write(line).await }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        loop {
            let Some(text) = self.next_line().await else {
                self.shared.close();
                return None;
            };
            if let Some(message) = self.sort(text) {
                return Some(message);
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        // Nothing reads the server's answers any more.
        self.shared.close();
        // Dropping stdin is what ends a well-behaved server.
        drop(self.shared.stdin.lock().await.take());
        Ok(())
    }
}

#[cfg(test)]
mod tests;
