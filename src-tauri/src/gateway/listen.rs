//! A 2026-07-28 client's `subscriptions/listen` stream: the list changes of its own scope
//! (profile) and updates of the resources it listens to, for as long as the stream lasts.

use std::sync::Arc;

use rmcp::model::ErrorData;
use rmcp::service::SubscriptionContext;

use super::session::{Broadcast, ClientSession};
use super::Gateway;
use crate::caller::Caller;

/// Serves `context`'s stream for `caller` (who asked for profile `asked`): list changes as its
/// scope sees them, resource updates of the URIs it subscribed to (held at their servers while
/// the stream lasts). Returns when the client ends the stream or stops reading.
pub async fn serve(
    gw: &Arc<Gateway>,
    context: SubscriptionContext,
    caller: Caller,
    asked: Option<String>,
) -> Result<(), ErrorData> {
    let accepted = context.accepted().clone();
    let wants = |flag: Option<bool>| flag.unwrap_or(false);
    // The resources it listens to are held at their servers while the stream lasts.
    let listener = Arc::new(ClientSession::new());
    for uri in accepted.resource_subscriptions.iter().flatten() {
        listener.subscribe(uri, true);
    }
    if accepted.resource_subscriptions.is_some() {
        gw.subscriptions.add_listener(&listener);
        gw.subscriptions
            .reconcile(gw)
            .await
            .map_err(|e| ErrorData::internal_error(e.message, None))?;
    }
    let mut rx = gw.sessions().subscribe();
    let sink = context.sink().clone();
    loop {
        let event = tokio::select! {
            _ = context.cancelled() => break,
            e = rx.recv() => e,
        };
        let sent = match event {
            Ok(Broadcast::Lists(changes)) => {
                // What changed in the scope this listener sees now.
                let key = gw
                    .profiles()
                    .scope_for(&caller, asked.as_deref())
                    .ok()
                    .map(|s| s.key().map(str::to_string));
                let changed = key
                    .and_then(|k| changes.get(&k).copied())
                    .unwrap_or_default();
                let mut r = Ok(());
                if changed.tools && wants(accepted.tools_list_changed) {
                    r = r.and(sink.notify_tool_list_changed().await);
                }
                if changed.prompts && wants(accepted.prompts_list_changed) {
                    r = r.and(sink.notify_prompt_list_changed().await);
                }
                if changed.resources && wants(accepted.resources_list_changed) {
                    r = r.and(sink.notify_resource_list_changed().await);
                }
                r
            }
            Ok(Broadcast::ResourceUpdated(uri)) => {
                if listener.subscribed(&uri) {
                    sink.notify_resource_updated(uri).await
                } else {
                    Ok(())
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Ok(()),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        };
        if sent.is_err() {
            break;
        }
    }
    drop(listener);
    let _ = gw.subscriptions.reconcile(gw).await;
    Ok(())
}
