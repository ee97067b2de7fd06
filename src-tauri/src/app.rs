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
    /// The gateway (registry, supervisor, clients).
    pub gateway: Arc<Gateway>,
    /// The config writer.
    pub store: Store,
    /// The secret store servers resolve `${secret:…}` from.
    pub secrets: SecretStore,
    /// Whether this start wrote the default config.
    pub created_config: bool,
    /// The activity log (every request and notification through `/mcp`).
    pub activity: crate::activity::Activity,
    guard: Arc<GuardConfig>,
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
    let token = match token::load_or_create(&options.config_path, &secrets).await? {
        token::Loaded::Ready(t) => Some(t),
        token::Loaded::Pending(why) => {
            tracing::warn!(
                "cannot read the access token yet ({why}); requests get 503 until the keychain answers"
            );
            None
        }
    };

    let activity_path = crate::activity::db_path(&options.config_path);
    let activity = match crate::activity::Activity::open(&activity_path, &config.gateway.activity) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("{e}; calls are not recorded");
            crate::activity::Activity::off()
        }
    };

    let shutdown = CancellationToken::new();
    let oauth = crate::oauth::Hub::new(secrets.clone(), options.sign_in);
    let supervisor = Supervisor::with_oauth(secrets.clone(), oauth);
    let gateway = Gateway::new(supervisor.clone());
    let mut tasks = vec![gateway.spawn(shutdown.clone())];
    gateway.apply_config(&config).await;

    // Hand edits of the file: valid ones apply, invalid ones are refused (last good stays).
    let watcher = match crate::config::watch::watch(store.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("not following edits of the config file: {e}");
            None
        }
    };
    // Follow config changes (UI, tray, CLI all write through the store); a write returns once
    // it is applied here. The first config it yields is the current one again (a hand edit
    // may have come since `config` was read); applying an unchanged config changes nothing.
    let mut follower = store.follow();
    let follow_gw = gateway.clone();
    let follow_activity = activity.clone();
    let follow_ct = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            let config = tokio::select! {
                c = follower.next() => match c { Some(c) => c, None => return },
                _ = follow_ct.cancelled() => return,
            };
            follow_activity.apply(&config.gateway.activity);
            follow_gw.apply_config(&config).await;
            follower.applied();
        }
    }));

    let auth_none = config.gateway.auth == crate::config::model::AuthMode::None;
    if auth_none {
        tracing::warn!(
            "AUTHENTICATION IS OFF for the MCP endpoint (\"gateway\": {{\"auth\": \"none\"}}): any program on this machine can use every server \
             behind this gateway. (The admin API still needs the token.) Remove the setting to require the access token again."
        );
    }
    let mut guard = GuardConfig::new(token.clone(), addr.port());
    guard.mcp_needs_token = !auth_none;
    guard.extra_host = (!addr.ip().is_loopback()).then_some(addr.ip());
    let guard = Arc::new(guard);
    match token::client_tokens(&options.config_path, &secrets).await {
        Ok(tokens) => guard
            .client_tokens
            .store(Arc::new(tokens.into_iter().collect())),
        Err(e) => {
            tracing::warn!("client tokens unavailable ({e}); only the gateway token is accepted")
        }
    }
    if token.is_none() {
        tasks.push(tokio::spawn(wait_for_token(
            options.config_path.clone(),
            secrets.clone(),
            guard.clone(),
            shutdown.clone(),
        )));
    }
    let state = AppState {
        gw: gateway.clone(),
        store: store.clone(),
        secrets: secrets.clone(),
        mcp_url: format!("http://{addr}/mcp"),
        guard: guard.clone(),
        shutdown: shutdown.clone(),
        activity: activity.clone(),
    };
    let app = http::router(state, shutdown.clone());
    let server_ct = shutdown.clone();
    let limits = &config.gateway.limits;
    let limits = http::server::ConnectionLimits {
        max_connections: limits
            .max_connections
            .unwrap_or(http::server::DEFAULT_MAX_CONNECTIONS),
        header_timeout: limits
            .header_timeout_ms
            .map_or(http::server::DEFAULT_HEADER_TIMEOUT, Duration::from_millis),
    };
    http::server::raise_fd_limit();
    let server = tokio::spawn(http::server::serve(listener, app, limits, server_ct));
    Ok(Running {
        addr,
        guard,
        gateway,
        store,
        secrets,
        created_config,
        activity,
        shutdown,
        tasks,
        _watcher: watcher,
        server,
    })
}

/// How often a gateway whose token is locked in the keychain asks again.
const TOKEN_RETRY: Duration = Duration::from_secs(3);

/// Reads the gateway token again every [`TOKEN_RETRY`] until the keychain answers, then lets
/// the guard accept requests; client tokens are read again too (they live beside it).
async fn wait_for_token(
    config_path: PathBuf,
    secrets: SecretStore,
    guard: Arc<GuardConfig>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TOKEN_RETRY) => {}
            _ = shutdown.cancelled() => return,
        }
        match token::load_existing(&config_path, &secrets).await {
            Ok(token::Loaded::Ready(t)) => {
                if let Ok(tokens) = token::client_tokens(&config_path, &secrets).await {
                    guard
                        .client_tokens
                        .store(Arc::new(tokens.into_iter().collect()));
                }
                guard.set_token(t);
                tracing::info!("the keychain answered; accepting requests with the access token");
                return;
            }
            Ok(token::Loaded::Pending(why)) => {
                tracing::debug!("access token still unreadable: {why}")
            }
            Err(e) => tracing::warn!("access token: {e}"),
        }
    }
}

impl Running {
    /// The gateway's access token; `None` while a locked keychain keeps it unreadable.
    pub fn token(&self) -> Option<String> {
        self.guard.token.load_full().map(|t| t.to_string())
    }

    /// A fresh one-time dashboard link (`http://<addr>/auth?nonce=…`, single use, valid for
    /// [`crate::http::session::LINK_TTL`]).
    pub fn dashboard_link(&self) -> String {
        format!(
            "http://{}/auth?nonce={}",
            self.addr,
            self.guard.sessions.mint_link()
        )
    }

    /// The tokens this gateway refused on `/mcp` (counted per token).
    pub fn refusals(&self) -> Arc<crate::http::refusals::Refusals> {
        self.guard.refusals.clone()
    }

    /// The dashboard links and sessions of this gateway.
    pub fn sessions(&self) -> Arc<crate::http::session::DashboardSessions> {
        self.guard.sessions.clone()
    }

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
        // Everything recorded so far reaches the database before the process may exit.
        self.activity.flush(Duration::from_secs(2)).await;
    }
}

/// Resolves when the process is asked to stop: Ctrl+C (SIGINT), SIGTERM (a service manager,
/// a logout) or SIGHUP (the terminal closed). Used by `loopgate serve` and the desktop app to
/// stop cleanly (backend sessions ended, server processes stopped) instead of dying.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            tracing::warn!("cannot install signal handlers; only Ctrl+C stops the gateway cleanly");
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Environment variable naming how many worker threads the async runtime runs (default
/// [`DEFAULT_WORKER_THREADS`]).
pub const WORKER_THREADS_ENV: &str = "LOOPGATE_WORKER_THREADS";

/// Worker threads of the runtime unless [`WORKER_THREADS_ENV`] says otherwise: one. A relayed
/// call crosses about eight tasks (docs/ARCHITECTURE.md, "How a request travels"); with one
/// worker those hand-offs stay on one thread instead of waking another, which measured a
/// third less CPU per call and a quarter less latency than two workers, and more calls per
/// second at 64 sessions on two cores (tests/bench/RESULTS.md, run F). A desktop gateway
/// serves a few clients; files, the keychain and SQLite run on tokio's blocking pool, not on
/// the worker.
pub const DEFAULT_WORKER_THREADS: usize = 1;

/// The worker count `value` (the [`WORKER_THREADS_ENV`] variable) asks for: a number from 1
/// to 64, else (unset, empty, not a number, 0) [`DEFAULT_WORKER_THREADS`] — with a warning
/// for a value that is set but unusable.
pub fn worker_threads(value: Option<&str>) -> usize {
    match value.map(str::trim) {
        None | Some("") => DEFAULT_WORKER_THREADS,
        Some(v) => match v.parse::<usize>() {
            Ok(n @ 1..=64) => n,
            _ => {
                tracing::warn!(
                    "{WORKER_THREADS_ENV}={v:?} is not a number from 1 to 64; using {DEFAULT_WORKER_THREADS}"
                );
                DEFAULT_WORKER_THREADS
            }
        },
    }
}

/// The async runtime the CLI and the desktop app run everything on: tokio's multi-thread
/// scheduler with [`worker_threads`] workers (from the environment) and its I/O and time
/// drivers.
///
/// Errors: the OS refused a thread or the I/O driver (out of resources).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let env = std::env::var(WORKER_THREADS_ENV).ok();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads(env.as_deref()))
        .enable_all()
        .build()
}

#[cfg(test)]
mod runtime_tests {
    use super::*;

    #[test]
    fn worker_threads_from_the_environment() {
        assert_eq!(worker_threads(None), DEFAULT_WORKER_THREADS);
        assert_eq!(worker_threads(Some("")), DEFAULT_WORKER_THREADS);
        assert_eq!(worker_threads(Some(" 4 ")), 4);
        assert_eq!(worker_threads(Some("0")), DEFAULT_WORKER_THREADS);
        assert_eq!(worker_threads(Some("many")), DEFAULT_WORKER_THREADS);
        assert_eq!(worker_threads(Some("65")), DEFAULT_WORKER_THREADS);
    }
}
