//! The loopback redirect listener of a sign-in (RFC 8252 §7.3).
//!
//! [`RedirectListener::bind`] listens on `127.0.0.1` on a free port; the authorization server
//! sends the browser back to `http://127.0.0.1:<port>/callback?code=…&state=…`. The first
//! callback whose `state` is the one of this sign-in is handed to the waiting sign-in and the
//! browser gets a short page saying it can be closed; the listener then shuts down. A callback
//! with another (or no) `state` — a stray tab, or another local program guessing the port — is
//! answered 400 and consumes nothing. Only `/callback` answers; nothing else is served.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::OAuthError;

/// The waiting sign-in: where to hand the callback, and the `state` it must carry.
#[derive(Default)]
struct Waiting {
    sender: Option<oneshot::Sender<String>>,
    state: Option<String>,
}

type Slot = Arc<Mutex<Waiting>>;

/// A bound redirect listener waiting for one callback.
pub struct RedirectListener {
    addr: SocketAddr,
    callback: oneshot::Receiver<String>,
    slot: Slot,
    shutdown: CancellationToken,
}

impl Drop for RedirectListener {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl RedirectListener {
    /// Binds `127.0.0.1:<port>` (`0`: any free port) and starts serving `/callback`. A fixed
    /// port is the one of a client registered earlier, whose redirect URI names it.
    ///
    /// Errors: [`OAuthError::Listener`] when the port cannot be bound (taken; or, for `0`, no
    /// loopback port at all).
    pub async fn bind(port: u16) -> Result<Self, OAuthError> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(OAuthError::Listener)?;
        let addr = listener.local_addr().map_err(OAuthError::Listener)?;
        let (tx, rx) = oneshot::channel();
        let slot: Slot = Arc::new(Mutex::new(Waiting {
            sender: Some(tx),
            state: None,
        }));
        let app = Router::new()
            .route("/callback", get(callback))
            .with_state(slot.clone());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        Ok(Self {
            addr,
            callback: rx,
            slot,
            shutdown,
        })
    }

    /// Sets the `state` the callback must carry (the one in the authorization URL); until it
    /// is set, every callback is refused.
    pub fn expect_state(&self, state: &str) {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).state = Some(state.to_string());
    }

    /// The redirect URI to register and send: `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://{}/callback", self.addr)
    }

    /// The port of a redirect URI this listener would serve (`http://127.0.0.1:<port>/callback`),
    /// `None` for any other URI.
    pub fn port_of(redirect_uri: &str) -> Option<u16> {
        let url = url::Url::parse(redirect_uri).ok()?;
        (url.scheme() == "http"
            && url.host_str() == Some("127.0.0.1")
            && url.path() == "/callback"
            && url.query().is_none())
        .then(|| url.port())
        .flatten()
    }

    /// Waits for the browser to arrive, at most `timeout`, or until `cancel` fires. Returns the
    /// full callback URL (with `code`/`state`, or `error`).
    ///
    /// Errors: [`OAuthError::TimedOut`], [`OAuthError::Cancelled`].
    pub async fn wait(
        mut self,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<String, OAuthError> {
        let base = self.redirect_uri();
        tokio::select! {
            r = tokio::time::timeout(timeout, &mut self.callback) => match r {
                Ok(Ok(query)) => Ok(format!("{base}?{query}")),
                Ok(Err(_)) => Err(OAuthError::Cancelled),
                Err(_) => Err(OAuthError::TimedOut { minutes: timeout.as_secs().div_ceil(60) }),
            },
            _ = cancel.cancelled() => Err(OAuthError::Cancelled),
        }
    }
}

const PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Loopgate</title>
<style>body{font:16px system-ui,sans-serif;margin:15vh auto;max-width:32em;color:#222;text-align:center}</style>
</head><body><h1>{title}</h1><p>{text}</p></body></html>"#;

fn page(title: &str, text: &str) -> Html<String> {
    Html(PAGE.replace("{title}", title).replace("{text}", text))
}

async fn callback(
    State(slot): State<Slot>,
    RawQuery(query): RawQuery,
) -> (axum::http::StatusCode, Html<String>) {
    use axum::http::StatusCode;
    let query = query.unwrap_or_default();
    let given = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    let sender = {
        let mut waiting = slot.lock().unwrap_or_else(|e| e.into_inner());
        let matches = match (&waiting.state, &given) {
            (Some(want), Some(got)) => crate::token::matches(want, got),
            _ => false,
        };
        if !matches && waiting.sender.is_some() {
            return (
                StatusCode::BAD_REQUEST,
                page(
                    "Not this sign-in",
                    "This page does not belong to the sign-in Loopgate is waiting for. Start the sign-in again from Loopgate.",
                ),
            );
        }
        waiting.sender.take()
    };
    let Some(sender) = sender else {
        return (
            StatusCode::OK,
            page(
                "Already handled",
                "This sign-in was already completed. You can close this tab.",
            ),
        );
    };
    let denied = url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "error");
    let _ = sender.send(query);
    if denied {
        (
            StatusCode::OK,
            page(
                "Sign-in not completed",
                "The authorization server did not grant access. Loopgate shows the reason; you can close this tab.",
            ),
        )
    } else {
        (
            StatusCode::OK,
            page(
                "Signed in",
                "Loopgate received the authorization. You can close this tab and go back to your AI client.",
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hands_over_the_first_callback_with_the_right_state_only() {
        let listener = RedirectListener::bind(0).await.unwrap();
        let uri = listener.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"));
        let client = reqwest::Client::new();
        // Before the sign-in's state is known, and with another state, nothing is consumed.
        let early = client
            .get(format!("{uri}?code=abc&state=xyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(early.status(), 400);
        listener.expect_state("xyz");
        for stray in [
            "?code=evil&state=guess",
            "?code=evil",
            "?error=access_denied",
        ] {
            let r = client.get(format!("{uri}{stray}")).send().await.unwrap();
            assert_eq!(r.status(), 400, "{stray}");
            assert!(r.text().await.unwrap().contains("Not this sign-in"));
        }
        let first = client
            .get(format!("{uri}?code=abc&state=xyz"))
            .send()
            .await
            .unwrap();
        assert!(first.text().await.unwrap().contains("Signed in"));
        let second = client
            .get(format!("{uri}?code=zzz&state=1"))
            .send()
            .await
            .unwrap();
        assert!(second.text().await.unwrap().contains("Already handled"));
        let got = listener
            .wait(Duration::from_secs(5), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(got, format!("{uri}?code=abc&state=xyz"));
    }

    #[tokio::test]
    async fn binds_the_port_of_an_earlier_redirect_uri() {
        let first = RedirectListener::bind(0).await.unwrap();
        let port = RedirectListener::port_of(&first.redirect_uri()).unwrap();
        // Taken while the first one listens; free again once it is dropped.
        assert!(matches!(
            RedirectListener::bind(port).await,
            Err(OAuthError::Listener(_))
        ));
        let uri = first.redirect_uri();
        drop(first);
        // The listener task closes the socket shortly after the drop.
        let mut again = RedirectListener::bind(port).await;
        for _ in 0..40 {
            if again.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            again = RedirectListener::bind(port).await;
        }
        let again = again.unwrap();
        assert_eq!(again.redirect_uri(), uri);
        for other in [
            "http://localhost:5/callback",
            "http://127.0.0.1:5/cb",
            "https://127.0.0.1:5/callback",
            "http://127.0.0.1/callback",
            "not a url",
        ] {
            assert_eq!(RedirectListener::port_of(other), None, "{other}");
        }
    }

    #[tokio::test]
    async fn times_out_and_cancels() {
        let listener = RedirectListener::bind(0).await.unwrap();
        let err = listener
            .wait(Duration::from_millis(50), &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(err, OAuthError::TimedOut { .. }));
        let listener = RedirectListener::bind(0).await.unwrap();
        let ct = CancellationToken::new();
        ct.cancel();
        let err = listener
            .wait(Duration::from_secs(5), &ct)
            .await
            .unwrap_err();
        assert!(matches!(err, OAuthError::Cancelled));
    }
}
