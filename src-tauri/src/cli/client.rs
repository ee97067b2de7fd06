//! A small client for the running gateway's `/api` (address from the config, token from the
//! keychain or token file). Answers are read as the typed bodies the handlers send
//! ([`crate::http::api::types`]); errors carry the message of the API's error body.

use std::path::Path;

use anyhow::{bail, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::store;
use crate::http::api::types::ApiErrorBody;
use crate::secrets::SecretStore;

/// Why a request to the running gateway did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Nothing listens on the configured address.
    #[error("no gateway is running on {0} (start one with `loopgate serve`)")]
    NotRunning(String),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Sends `method /api/<path>` (with an optional JSON body) to the gateway configured at
/// `config_path` and reads its answer as `T`.
///
/// Errors: [`ApiError::NotRunning`] when nothing listens there; otherwise an error saying the
/// status and the gateway's message (its [`ApiErrorBody`]), or that the answer was not a `T`.
pub async fn call<T: DeserializeOwned>(
    config_path: &Path,
    secrets: &SecretStore,
    method: reqwest::Method,
    path: &str,
    body: Option<&(impl Serialize + ?Sized)>,
) -> Result<T, ApiError> {
    let config = store::load(config_path).map_err(anyhow::Error::from)?;
    let base = std::net::SocketAddr::new(config.gateway.bind, config.gateway.port);
    let token = match crate::token::read(config_path, secrets)
        .await
        .map_err(anyhow::Error::from)?
    {
        Some(token) => token,
        // No gateway ever ran with this config; say "not running" when nothing listens, so
        // commands that can work without one (e.g. `auth login`) do.
        None if tokio::net::TcpStream::connect(base).await.is_err() => {
            return Err(ApiError::NotRunning(base.to_string()))
        }
        None => {
            return Err(anyhow::anyhow!(
                "no access token for {}; has `loopgate serve` run with this config?",
                config_path.display()
            )
            .into())
        }
    };
    let mut req = reqwest::Client::new()
        .request(method, format!("http://{base}/api/{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Err(ApiError::NotRunning(base.to_string())),
        Err(e) => {
            return Err(anyhow::Error::from(e)
                .context(format!("asking the gateway at {base}"))
                .into())
        }
    };
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap_or_default();
    if !status.is_success() {
        let msg = serde_json::from_slice::<ApiErrorBody>(&bytes)
            .map(|e| e.error)
            .unwrap_or_default();
        return Err(anyhow::anyhow!("the gateway at {base} answered {status}: {msg}").into());
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!("unexpected answer from the gateway at {base} to {path}: {e}").into()
    })
}

/// `POST /api/<path>` without a body; errors as [`call`].
pub async fn post<T: DeserializeOwned>(
    config_path: &Path,
    secrets: &SecretStore,
    path: &str,
) -> Result<T, ApiError> {
    call(
        config_path,
        secrets,
        reqwest::Method::POST,
        path,
        None::<&()>,
    )
    .await
}

/// GET `/api/<path>`; errors as [`call`], with "not running" as a plain error.
pub async fn get<T: DeserializeOwned>(
    config_path: &Path,
    secrets: &SecretStore,
    path: &str,
) -> Result<T> {
    match call(
        config_path,
        secrets,
        reqwest::Method::GET,
        path,
        None::<&()>,
    )
    .await
    {
        Ok(v) => Ok(v),
        Err(ApiError::NotRunning(addr)) => {
            bail!("no gateway is running on {addr} (start one with `loopgate serve`)")
        }
        Err(ApiError::Other(e)) => Err(e),
    }
}
