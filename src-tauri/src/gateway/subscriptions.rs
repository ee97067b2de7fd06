//! Resource subscriptions through the gateway.
//!
//! Clients subscribe to a resource URI — initialize-based ones with `resources/subscribe`,
//! 2026-07-28 ones with `subscriptions/listen` and `resourceSubscriptions`. The gateway keeps
//! one subscription per URI at the server that owns it, for as long as any client wants it
//! ([`Subscriptions::reconcile`]): `resources/subscribe` on an initialize-based session, a
//! `subscriptions/listen` stream on a 2026-07-28 server. Updates go to the subscribed clients
//! only (see [`super::session::Sessions::resource_updated`]).

// Sampling, roots, logging and resource subscriptions are deprecated by SEP-2577 in rmcp,
// but clients and servers still use them, and a gateway must relay whatever they use.
#![allow(deprecated)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};

use rmcp::model::{
    ClientRequest, ErrorData, SubscribeRequest, SubscribeRequestParams, SubscriptionFilter,
    UnsubscribeRequest, UnsubscribeRequestParams,
};

use super::session::ClientSession;
use super::Gateway;
use crate::upstream::{Connection, RequestOptions};

/// One subscription held at a server.
enum Held {
    /// `resources/subscribe` on the server's session.
    Session(Arc<Connection>),
    /// A `subscriptions/listen` stream at a 2026-07-28 server (aborted when dropped).
    Listen(tokio::task::JoinHandle<()>),
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Held::Listen(task) = self {
            task.abort();
        }
    }
}

/// The subscriptions the gateway holds at servers, and the 2026-07-28 listeners that want some.
#[derive(Default)]
pub struct Subscriptions {
    held: tokio::sync::Mutex<HashMap<(String, String), Held>>,
    listeners: Mutex<Vec<Weak<ClientSession>>>,
}

impl Subscriptions {
    /// Registers a 2026-07-28 listener (its subscriptions live as long as it does).
    pub fn add_listener(&self, listener: &Arc<ClientSession>) {
        let mut l = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        l.retain(|w| w.strong_count() > 0);
        l.push(Arc::downgrade(listener));
    }

    /// Every URI some client wants.
    fn wanted(&self, gw: &Gateway) -> HashSet<String> {
        let mut uris: HashSet<String> = gw
            .sessions()
            .all()
            .iter()
            .flat_map(|s| s.subscriptions())
            .collect();
        let mut l = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        l.retain(|w| w.strong_count() > 0);
        uris.extend(
            l.iter()
                .filter_map(Weak::upgrade)
                .flat_map(|s| s.subscriptions()),
        );
        uris
    }

    /// Subscribes at the owning servers to every URI some client wants, and unsubscribes from
    /// the rest. Errors: the owning server refused one that was just asked for (the first
    /// error; the others are logged).
    pub async fn reconcile(&self, gw: &Arc<Gateway>) -> Result<(), ErrorData> {
        let wanted = self.wanted(gw);
        let registry = gw.registry();
        let snapshot = gw.supervisor().snapshot();
        let mut held = self.held.lock().await;
        // Drop what nobody wants (and what belongs to a connection that ended).
        let stale: Vec<(String, String)> = held
            .iter()
            .filter(|((server, uri), h)| {
                !wanted.contains(uri)
                    || match h {
                        Held::Session(c) => snapshot
                            .get(server)
                            .and_then(|v| v.connection.as_ref())
                            .is_none_or(|live| !Arc::ptr_eq(live, c)),
                        Held::Listen(t) => t.is_finished(),
                    }
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            let session = match held.remove(&key) {
                Some(Held::Session(ref c)) => Some(c.clone()),
                _ => None,
            };
            if let Some(c) = session {
                if !c.is_closed() {
                    let request = ClientRequest::UnsubscribeRequest(UnsubscribeRequest::new(
                        UnsubscribeRequestParams::new(key.1.clone()),
                    ));
                    let _ = c.request(request, RequestOptions::default()).await;
                }
            }
        }
        let mut first_error = None;
        for uri in wanted {
            let owner = registry
                .resource_owner(&uri)
                .map(str::to_string)
                .or_else(|| gw.links.owner(&uri));
            let Some(server) = owner else { continue };
            let key = (server.clone(), uri.clone());
            if held.contains_key(&key) {
                continue;
            }
            let Some(connection) = snapshot.get(&server).and_then(|v| v.connection.clone()) else {
                continue;
            };
            match subscribe(gw, &server, &connection, &uri).await {
                Ok(h) => {
                    held.insert(key, h);
                }
                Err(e) => {
                    tracing::warn!(server = %server, "subscribing to {uri} failed: {}", e.message);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Holds one subscription to `uri` at `server`.
async fn subscribe(
    gw: &Arc<Gateway>,
    server: &str,
    connection: &Arc<Connection>,
    uri: &str,
) -> Result<Held, ErrorData> {
    if connection.has_session() {
        let request = ClientRequest::SubscribeRequest(SubscribeRequest::new(
            SubscribeRequestParams::new(uri),
        ));
        connection
            .request(request, RequestOptions::default())
            .await
            .map_err(|e| e.to_mcp_error())?;
        return Ok(Held::Session(connection.clone()));
    }
    let peer = connection
        .stateless_peer()
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("no channel to subscribe on", None))?;
    let filter = SubscriptionFilter::builder()
        .resource_subscriptions(vec![uri.to_string()])
        .build();
    let mut sub = peer
        .listen(filter)
        .await
        .map_err(|e| ErrorData::internal_error(format!("server \"{server}\": {e}"), None))?;
    let gw = Arc::downgrade(gw);
    let uri = uri.to_string();
    Ok(Held::Listen(tokio::spawn(async move {
        while let Ok(Some(_)) = sub.next().await {
            let Some(gw) = gw.upgrade() else { return };
            gw.sessions().resource_updated(&uri).await;
        }
    })))
}
