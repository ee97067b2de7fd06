//! Starting and stopping a whole gateway: config store, token, supervisor, gateway and HTTP
//! server wired together. Used by `loopgate serve`, the desktop app and the end-to-end tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigError, Store};
use crate::gateway::Gateway;
use crate::http::{self, AppState, BindError, GuardConfig};
use crate::secrets::SecretStore;
use crate::token::{self, TokenError};
use crate::upstream::Supervisor;

/// How to start.
#[derive(Debug, Clone)]
pub struct Options {
    /// The config file (created with defaults if missing).
    pub config_path: PathBuf,
    /// Overrides `gateway.port` (0 = any free port).
    pub port: Option<u16>,
    /// Where secrets come from; `None` = the OS keychain.
    pub secrets: Option<SecretStore>,
    /// How OAuth sign-in URLs reach the user (browser for the desktop app, log for `serve`).
    pub sign_in: crate::oauth::Presenter,
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config is missing, malformed or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The access token could not be read or created.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The port could not be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
}

/// A running gateway.
pub struct Running {
    /// The address clients connect to (`http://{addr}/mcp`).
    pub addr: SocketAddr,
    /// The access token clients must send.
    pub token: String,
    /// The gateway (registry, supervisor, clients).
    pub gateway: Arc<Gateway>,
    /// The config writer.
    pub store: Store,
    /// The secret store servers resolve `${secret:…}` from.
    pub secrets: SecretStore,
    /// Whether this start wrote the default config.
    pub created_config: bool,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    _watcher: Option<crate::config::watch::ConfigWatcher>,
    server: JoinHandle<()>,
}

/// Starts a gateway: loads (or writes the default) config, binds the loopback port, starts
/// every enabled server in the background and follows config changes.
///
/// Returns once the endpoint accepts connections (servers may still be starting).
/// Errors: [`StartError`] for a bad config, an unreadable token file or a taken port.
pub async fn start(options: Options) -> Result<Running, StartError> {
    let (store, created_config) = Store::open_or_init(&options.config_path)?;
    let config = store.current();
    let addr = SocketAddr::new(
        config.gateway.bind,
        options.port.unwrap_or(config.gateway.port),
    );
    let listener = http::bind(addr, &options.config_path).await?;
    let addr = listener
        .local_addr()
        .map_err(|source| BindError::Other { addr, source })?;
    let secrets = options.secrets.clone().unwrap_or_else(SecretStore::os);
    if let Err(e) = secrets.status().await {
        tracing::warn!("{e} — servers that use ${{secret:…}} will not start, and the access token is kept in a file");
    }
    let token = token::load_or_create(&options.config_path, &secrets).await?;

    let shutdown = CancellationToken::new();
    let oauth = crate::oauth::Hub::new(secrets.clone(), options.sign_in);
    let supervisor = Supervisor::with_oauth(secrets.clone(), oauth);
    let gateway = Gateway::new(supervisor.clone());
    let mut tasks = vec![gateway.spawn(shutdown.clone())];
    supervisor.apply(&config).await;

    // Hand edits of the file: valid ones apply, invalid ones are refused (last good stays).
    let watcher = match crate::config::watch::watch(store.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("not following edits of the config file: {e}");
            None
        }
    };
    // Follow config changes (UI, tray, CLI all write through the store).
    let mut changes = store.subscribe();
    let follow_sup = supervisor.clone();
    let follow_ct = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::select! {
                r = changes.changed() => if r.is_err() { return },
                _ = follow_ct.cancelled() => return,
            }
            let config = changes.borrow_and_update().clone();
            follow_sup.apply(&config).await;
        }
    }));

    let auth_none = config.gateway.auth == crate::config::model::AuthMode::None;
    if auth_none {
        tracing::warn!(
            "AUTHENTICATION IS OFF (\"gateway\": {{\"auth\": \"none\"}}): any program on this machine can use every server \
             behind this gateway. Remove the setting to require the access token again."
        );
    }
    let guard = std::sync::Arc::new(GuardConfig {
        token: (!auth_none).then(|| token.clone().into()),
        port: addr.port(),
        client_tokens: std::sync::Arc::new(arc_swap::ArcSwap::from_pointee(
            token::client_tokens(&options.config_path, &secrets)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(
                        "client tokens unavailable ({e}); only the gateway token is accepted"
                    );
                    Default::default()
                })
                .into_values()
                .collect(),
        )),
        extra_host: (!addr.ip().is_loopback()).then_some(addr.ip()),
    });
    let state = AppState {
        gw: gateway.clone(),
        store: store.clone(),
        secrets: secrets.clone(),
        mcp_url: format!("http://{addr}/mcp"),
        guard,
        shutdown: shutdown.clone(),
    };
    let app = http::router(state, shutdown.clone());
    let server_ct = shutdown.clone();
    let server = tokio::spawn(async move {
        let result = axum::serve(
            // Small MCP answers (an SSE event after the headers) must not wait for the
            // client's delayed ACK (Nagle): ~40 ms per call on keep-alive connections.
            axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            }),
            app,
        )
        .with_graceful_shutdown(server_ct.cancelled_owned())
        .await;
        if let Err(e) = result {
            tracing::error!("HTTP server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        token,
        gateway,
        store,
        secrets,
        created_config,
        shutdown,
        tasks,
        _watcher: watcher,
        server,
    })
}

impl Running {
    /// The MCP endpoint URL, e.g. `http://127.0.0.1:7337/mcp`.
    pub fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// A token that, when cancelled, stops the gateway (see [`Running::stopped`]).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops the gateway: closes client sessions and the listener (waiting at most 5 s for
    /// open streams), then ends every backend session and stops every child process.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.stopped().await;
    }

    /// Waits until the shutdown token is cancelled, then finishes stopping as [`Running::stop`].
    pub async fn stopped(self) {
        self.shutdown.cancelled().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.server).await;
        for t in self.tasks {
            t.abort();
        }
        self.gateway.supervisor().shutdown().await;
    }
}
