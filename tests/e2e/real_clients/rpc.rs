//! Talking JSON-RPC to a real client's own control protocol over its stdio: Codex's
//! `app-server` (one JSON object per line, no `"jsonrpc"` field) and Copilot CLI's `--headless
//! --stdio` (JSON-RPC 2.0 with `Content-Length:` framing). Everything read is kept, so a
//! failure can print the whole conversation.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How messages are framed.
#[derive(Clone, Copy)]
pub enum Framing {
    /// One JSON object per line.
    Lines,
    /// `Content-Length: N\r\n\r\n` then N bytes.
    ContentLength,
}

/// A client process driven over its stdio.
pub struct Rpc {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    framing: Framing,
    /// Every message sent and received, for failure messages.
    pub transcript: Vec<String>,
    stderr: std::path::PathBuf,
}

impl Rpc {
    /// Starts `cmd` (its stderr going to the file `stderr`).
    pub fn start(mut cmd: Command, framing: Framing, stderr: std::path::PathBuf) -> Rpc {
        let err = std::fs::File::create(&stderr).unwrap();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = channel();
        std::thread::spawn(move || loop {
            let msg = match framing {
                Framing::Lines => {
                    let mut line = String::new();
                    if out.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    serde_json::from_str(&line).unwrap_or(Value::String(line))
                }
                Framing::ContentLength => {
                    let mut len = None;
                    loop {
                        let mut line = String::new();
                        if out.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim();
                        if line.is_empty() {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse::<usize>().ok();
                        }
                    }
                    let mut buf = vec![0; len.unwrap_or(0)];
                    if out.read_exact(&mut buf).is_err() {
                        return;
                    }
                    serde_json::from_slice(&buf).unwrap_or(Value::Null)
                }
            };
            if tx.send(msg).is_err() {
                return;
            }
        });
        Rpc {
            child,
            stdin,
            rx,
            framing,
            transcript: vec![],
            stderr,
        }
    }

    /// Sends `msg` (without waiting).
    pub fn send(&mut self, msg: Value) {
        let text = msg.to_string();
        self.transcript.push(format!("→ {text}"));
        let bytes = match self.framing {
            Framing::Lines => format!("{text}\n"),
            Framing::ContentLength => format!("Content-Length: {}\r\n\r\n{text}", text.len()),
        };
        let _ = self.stdin.write_all(bytes.as_bytes());
        let _ = self.stdin.flush();
    }

    /// Sends request `id` and waits up to `secs` for its answer (other messages are kept in
    /// the transcript and skipped). `None` on timeout or when the process ended.
    pub fn call(&mut self, id: u64, mut msg: Value, secs: u64) -> Option<Value> {
        msg["id"] = id.into();
        self.send(msg);
        let deadline = Instant::now() + Duration::from_secs(secs);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let m = self.rx.recv_timeout(left).ok()?;
            let mut text = m.to_string();
            text.truncate(4000);
            self.transcript.push(format!("← {text}"));
            if m.get("id").and_then(Value::as_u64) == Some(id)
                && (m.get("result").is_some() || m.get("error").is_some())
            {
                return Some(m);
            }
        }
        None
    }

    /// The conversation and the client's stderr, for a failure message.
    pub fn story(&self) -> String {
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let tail: String = err
            .chars()
            .rev()
            .take(4000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{}\nstderr (tail):\n{tail}", self.transcript.join("\n"))
    }
}

impl Drop for Rpc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
