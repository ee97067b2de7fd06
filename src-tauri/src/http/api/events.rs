//! `GET /api/events`: the dashboard's live view, as Server-Sent Events.
//!
//! On connect and after every change it sends `event: servers` (the body of
//! `GET /api/servers`, `[ServerInfo]`) and `event: tools` ([`ToolCount`] `{"count": n}`, what
//! clients see). Bursts are
//! coalesced (at most one update per 100 ms); a keep-alive comment every 15 s holds the
//! connection open through idle periods.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use super::server_list;
use super::types::ToolCount;
use crate::http::AppState;

/// Coalescing window for updates, in milliseconds.
pub const COALESCE_MS: u64 = 100;

/// The SSE stream handler.
pub async fn stream(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut status = s.gw.supervisor().events();
    let mut registry = s.gw.registry_changes();
    let stream = async_stream(move |tx| async move {
        loop {
            let count = s.gw.registry().tool_count();
            let (Ok(servers), Ok(tools)) = (
                Event::default().event("servers").json_data(server_list(&s)),
                Event::default()
                    .event("tools")
                    .json_data(ToolCount { count }),
            ) else {
                return;
            };
            if tx.send(Ok(servers)).await.is_err() || tx.send(Ok(tools)).await.is_err() {
                return;
            }
            tokio::select! {
                r = status.recv() => if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) { return },
                r = registry.changed() => if r.is_err() { return },
            }
            tokio::time::sleep(Duration::from_millis(COALESCE_MS)).await;
            while status.try_recv().is_ok() {}
            registry.borrow_and_update();
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A stream fed by a task through a small channel; the task ends when the client goes away.
fn async_stream<F, Fut>(f: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Event, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(f(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
