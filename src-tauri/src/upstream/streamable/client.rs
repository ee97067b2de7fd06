//! The Streamable HTTP client transport, with the backend's session observed.
//!
//! rmcp's reqwest transport already follows ARCHITECTURE.md rules 1–3 and 6: it stores the
//! `Mcp-Session-Id` the backend issues in its `initialize` response and sends exactly that id
//! afterwards, sends none when none was issued (stateless), re-initializes and retries once on
//! HTTP 404 (`reinit_on_expired_session`), and DELETEs the session when closed. It does not tell
//! its caller about a re-initialization, so [`ObservedClient`] wraps the reqwest client and
//! records, in a shared [`SessionObserver`], the id each `initialize` response issued, how many
//! handshakes happened and how many 404s were seen. The supervisor re-lists tools when the
//! handshake count grows (rule 3) and shows the session in the server status.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use http::{HeaderMap, HeaderName, HeaderValue};
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, JsonRpcRequest, RequestId,
};
use rmcp::transport::auth::{AuthClient, AuthorizationManager};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use rmcp::transport::StreamableHttpClientTransport;
use sse_stream::Sse;
use tokio::sync::Notify;

use super::post::{self, Posted, Target, MAX_RESPONSE_BYTES};
use crate::wire::Answer;

/// What Loopgate has seen of one backend's HTTP session. Shared between the transport (which
/// writes it) and the supervisor (which reads it for status and re-listing).
#[derive(Debug, Default)]
pub struct SessionObserver {
    issued: Mutex<Option<String>>,
    /// The session requests may be sent on: set once `notifications/initialized` went out
    /// (the inner `Option`: the id, `None` for a server that issued none); `None` between an
    /// `initialize` and its `initialized`.
    ready: Mutex<Option<Option<Arc<str>>>>,
    handshakes: AtomicU32,
    expired: AtomicU32,
    reinitialized: Notify,
}

impl SessionObserver {
    /// The `Mcp-Session-Id` the backend issued in its latest `initialize` response; `None` for a
    /// stateless backend (or before the handshake).
    pub fn session_id(&self) -> Option<String> {
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many `initialize` handshakes have completed (1 after connecting; more after each
    /// re-initialization).
    pub fn handshakes(&self) -> u32 {
        self.handshakes.load(Ordering::SeqCst)
    }

    /// How many HTTP 404 "session expired" answers the backend gave.
    pub fn expired_count(&self) -> u32 {
        self.expired.load(Ordering::SeqCst)
    }

    /// Resolves after the next re-initialization (a handshake after the first).
    pub async fn reinitialized(&self) {
        self.reinitialized.notified().await
    }

    /// The session a request may go on now, if the handshake is complete: `Some(None)` for a
    /// server that issued no session id; `None` while a (re-)initialization is under way.
    pub fn ready_session(&self) -> Option<Option<Arc<str>>> {
        self.ready.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record_initialized(&self, session_id: Option<Arc<str>>) {
        *self.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some(session_id);
    }

    fn record_handshake(&self, session_id: Option<String>) {
        *self.ready.lock().unwrap_or_else(|e| e.into_inner()) = None;
        *self.issued.lock().unwrap_or_else(|e| e.into_inner()) = session_id;
        if self.handshakes.fetch_add(1, Ordering::SeqCst) >= 1 {
            self.reinitialized.notify_one();
        }
    }
}

/// The HTTP client under [`ObservedClient`]: rmcp's reqwest client, wrapped in rmcp's
/// [`AuthClient`] for servers Loopgate signed in to (it adds the bearer token, refreshes it
/// before expiry and once on a 401).
#[derive(Clone)]
enum Inner {
    Plain(reqwest::Client),
    OAuth(AuthClient<reqwest::Client>),
}

/// Calls the same method on whichever client `Inner` holds.
macro_rules! delegate {
    ($inner:expr, $method:ident ( $($arg:expr),* )) => {
        match $inner {
            Inner::Plain(c) => c.$method($($arg),*).await,
            Inner::OAuth(c) => c.$method($($arg),*).await,
        }
    };
}

/// A reqwest client that reports session facts to a [`SessionObserver`]; otherwise it is
/// rmcp's own reqwest implementation of [`StreamableHttpClient`] (with OAuth when signed in).
#[derive(Clone)]
pub struct ObservedClient {
    inner: Inner,
    observer: Arc<SessionObserver>,
}

impl ObservedClient {
    /// Wraps `inner`, reporting to `observer`; with `auth`, requests carry its OAuth tokens.
    pub fn new(
        inner: reqwest::Client,
        auth: Option<AuthorizationManager>,
        observer: Arc<SessionObserver>,
    ) -> Self {
        let inner = match auth {
            Some(manager) => Inner::OAuth(AuthClient::new(inner, manager)),
            None => Inner::Plain(inner),
        };
        Self { inner, observer }
    }
}

fn is_initialize(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Request(r) if matches!(r.request, ClientRequest::InitializeRequest(_)))
}

fn is_initialized(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Notification(n) if matches!(n.notification, ClientNotification::InitializedNotification(_)))
}

impl StreamableHttpClient for ObservedClient {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        let initialize = is_initialize(&message);
        let initialized = is_initialized(&message).then(|| session_id.clone());
        let result = delegate!(
            &self.inner,
            post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                limits
            )
        );
        match &result {
            Ok(
                StreamableHttpPostResponse::Json(_, sid) | StreamableHttpPostResponse::Sse(_, sid),
            ) if initialize => self.observer.record_handshake(sid.clone()),
            Ok(_) if initialized.is_some() => {
                self.observer.record_initialized(initialized.flatten())
            }
            Err(StreamableHttpError::SessionExpired) => {
                self.observer.expired.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
        result
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        delegate!(
            &self.inner,
            delete_session(uri, session_id, auth_header, custom_headers)
        )
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        delegate!(
            &self.inner,
            get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
        )
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<Self::Error>> {
        delegate!(
            &self.inner,
            get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size
            )
        )
    }
}

/// Whether `e` means the server did not take the request: the session is unknown (404) or the
/// server wants (other) credentials (401, 403).
fn not_taken(e: &StreamableHttpError<reqwest::Error>) -> bool {
    matches!(
        e,
        StreamableHttpError::SessionExpired
            | StreamableHttpError::AuthRequired(_)
            | StreamableHttpError::InsufficientScope(_)
    )
}

/// Errors building the transport from config values.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    /// A header from the config is not valid HTTP (config validation normally catches this).
    #[error("header \"{0}\" is not a valid HTTP header")]
    BadHeader(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("could not set up the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The HTTP client of one server, shared by its channels (one connection pool, one OAuth
/// manager), and the custom headers every request carries.
#[derive(Clone)]
pub struct SharedClient {
    client: ObservedClient,
    /// The configured headers (one value per name).
    headers: HeaderMap,
    observer: Arc<SessionObserver>,
}

impl SharedClient {
    /// A client sending `headers` (values already resolved; marked sensitive, never logged);
    /// with `auth` (a signed-in OAuth manager, see `oauth::flow::authorized_manager`) each
    /// request carries its bearer token instead of an `Authorization` header.
    /// `connect_timeout` bounds TCP/TLS connection set-up.
    ///
    /// Errors: [`HttpSetupError`] for a header that is not valid HTTP or a TLS set-up failure.
    pub fn new(
        headers: &[(String, String)],
        auth: Option<AuthorizationManager>,
        connect_timeout: Duration,
    ) -> Result<Self, HttpSetupError> {
        let mut custom_headers = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| HttpSetupError::BadHeader(k.clone()))?;
            let mut value =
                HeaderValue::from_str(v).map_err(|_| HttpSetupError::BadHeader(k.clone()))?;
            value.set_sensitive(true);
            custom_headers.insert(name, value);
        }
        let inner = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let observer = Arc::new(SessionObserver::default());
        Ok(Self {
            client: ObservedClient::new(inner, auth, observer.clone()),
            headers: custom_headers,
            observer,
        })
    }

    /// What has been seen of the server's session.
    pub fn observer(&self) -> &Arc<SessionObserver> {
        &self.observer
    }

    /// The headers of a request on the session: the configured ones plus
    /// `MCP-Protocol-Version: version`.
    fn session_headers(&self, version: &str) -> HashMap<HeaderName, HeaderValue> {
        let mut headers = self.configured();
        if let Ok(v) = HeaderValue::from_str(version) {
            headers.insert(HeaderName::from_static("mcp-protocol-version"), v);
        }
        headers
    }

    /// POSTs `message` to `url` on `session` (the `Mcp-Session-Id` the server issued, from
    /// [`SessionObserver::ready_session`]; `None` for a server that issued none, and for
    /// stateless 2026-07-28 requests) at protocol `version`, with `extra` headers besides the
    /// configured ones (a 2026-07-28 request's SEP-2243 headers) and the size limits of
    /// [`SharedClient::transport`]. Returns the server's answer: accepted, a JSON body (a
    /// JSON-RPC error that came with HTTP 400 or 404 too, when no session was named), or an
    /// event stream.
    ///
    /// Errors: rmcp's, e.g. `SessionExpired` for HTTP 404 on a session, `AuthRequired` for 401.
    pub async fn post(
        &self,
        url: &Arc<str>,
        session: Option<Arc<str>>,
        message: ClientJsonRpcMessage,
        version: &str,
        extra: Vec<(HeaderName, HeaderValue)>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_json_response_size = MAX_RESPONSE_BYTES;
        let mut headers = self.session_headers(version);
        headers.extend(extra);
        self.client
            .post_message_with_response_limits(url.clone(), message, session, None, headers, limits)
            .await
    }

    /// POSTs request `request` with id `id` to `target` on `session`, as [`SharedClient::post`]
    /// does, and says what the server did with it; a JSON answer is read as `answer` says.
    /// To a server Loopgate did not sign in to the request goes as [`super::post::post`]
    /// writes it, otherwise through rmcp's client (which adds the OAuth token).
    ///
    /// Errors: as for [`super::post::post`]; a server's 404 on the session, 401 and 403 are
    /// [`Posted::NotTaken`], not errors.
    pub async fn send(
        &self,
        target: &Target,
        session: Option<Arc<str>>,
        (id, request): (&RequestId, ClientRequest),
        (version, extra): (&str, Vec<(HeaderName, HeaderValue)>),
        answer: Answer,
    ) -> Result<Posted, StreamableHttpError<reqwest::Error>> {
        if let (Inner::Plain(client), Some(url)) = (&self.client.inner, &target.parsed) {
            let on_session = session.is_some();
            let headers = post::headers(&self.headers, version, session.as_deref(), extra);
            return post::post(client, url, (id, request), (headers, on_session), answer).await;
        }
        let message = ClientJsonRpcMessage::Request(JsonRpcRequest::new(id.clone(), request));
        match self
            .post(&target.url, session, message, version, extra)
            .await
        {
            Ok(StreamableHttpPostResponse::Json(m, _)) => Ok(Posted::Message(Box::new(m))),
            Ok(StreamableHttpPostResponse::Sse(stream, _)) => Ok(Posted::Stream(stream)),
            Ok(_) => Ok(Posted::Accepted),
            Err(e) if not_taken(&e) => Ok(Posted::NotTaken),
            Err(e) => Err(e),
        }
    }

    /// Resumes a response stream of `session` after `last_event_id` with a GET (Streamable
    /// HTTP, "Resumability and Redelivery").
    ///
    /// Errors: rmcp's, as for [`SharedClient::post`].
    pub async fn resume(
        &self,
        url: &Arc<str>,
        session: Option<Arc<str>>,
        version: &str,
        last_event_id: Option<String>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<reqwest::Error>>
    {
        self.client
            .get_stream(
                url.clone(),
                session,
                last_event_id,
                None,
                self.session_headers(version),
            )
            .await
    }

    /// The configured headers as rmcp's client takes them.
    fn configured(&self) -> HashMap<HeaderName, HeaderValue> {
        self.headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// A transport to `url` over this client.
    pub fn transport(&self, url: &str) -> StreamableHttpClientTransport<ObservedClient> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url);
        config.custom_headers = self.configured();
        config.allow_stateless = true;
        // rmcp caps in-flight POSTs per transport at 16; one backend connection carries every
        // client's calls, so a slow tool would make the 17th client wait.
        config.max_concurrent_requests = 256;
        config.reinit_on_expired_session = true;
        config.max_json_response_size = MAX_RESPONSE_BYTES;
        StreamableHttpClientTransport::with_client(self.client.clone(), config)
    }
}
