//! Extractors that fail with the API's one error shape ([`ApiError`]) instead of axum's plain
//! text answers: [`ApiJson`] for JSON bodies and [`ServerName`] for the `{name}` of a
//! configured server.

use std::collections::HashMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::config::ServerEntry;
use crate::http::AppState;

/// A JSON request body of type `T`, like axum's [`Json`], whose rejections are [`ApiError`]s:
///
/// - a body that does not fit `T` (an unknown key where `T` denies them, a missing or mistyped
///   field): 400, naming the field (`"nmae"`, `"oauth.scopes"`, `"args[0]"`);
/// - a body that is not JSON: 400;
/// - no `Content-Type: application/json`: 415;
/// - a body that cannot be read (too large: 413): its status.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(&rejection)),
        }
    }
}

/// The [`ApiError`] for a refused JSON body.
fn json_error(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => match serde_error(e) {
            Some(err) => {
                let (message, field) = data_error(err);
                ApiError {
                    status: StatusCode::BAD_REQUEST,
                    message: format!("the request body was refused: {message}"),
                    field,
                }
            }
            None => ApiError::new(StatusCode::BAD_REQUEST, e.body_text()),
        },
        JsonRejection::JsonSyntaxError(e) => {
            let detail =
                serde_error(e).map_or_else(|| e.body_text(), |err| err.inner().to_string());
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the request body is not valid JSON: {detail}"),
            )
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request body as JSON, with `Content-Type: application/json`",
        ),
        other => ApiError::new(other.status(), other.body_text()),
    }
}

/// The serde error (with the path to the bad value) behind an axum JSON rejection.
fn serde_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a serde_path_to_error::Error<serde_json::Error>> {
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(found) = c.downcast_ref() {
            return Some(found);
        }
        cause = c.source();
    }
    None
}

/// The message (without serde's "at line L column C") and the field of a body that did not
/// fit its type. The field is the path to the bad value (`args[0]`, `oauth.scopes`) or the
/// unknown or missing key (`nmae`, `oauth.clientSecrt`); the message starts with where that is
/// unless it is at the top (`oauth: unknown field `clientSecrt`, expected one of …`).
fn data_error(err: &serde_path_to_error::Error<serde_json::Error>) -> (String, Option<String>) {
    let inner = err.inner();
    let mut message = inner.to_string();
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    if let Some(stripped) = message.strip_suffix(&position) {
        message.truncate(stripped.len());
    }
    let path = err.path().to_string();
    let path = (path != "." && !path.contains('?')).then_some(path);
    // An unknown key is the last segment of the path; a missing one is not in it.
    let key = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key.to_string());
    let (field, place) = match (path, key) {
        (Some(path), Some(key)) if path == key => (Some(path), None),
        (Some(path), Some(key)) => match path.strip_suffix(&format!(".{key}")) {
            Some(parent) => (Some(path.clone()), Some(parent.to_string())),
            None => (Some(format!("{path}.{key}")), Some(path)),
        },
        (None, key) => (key, None),
        (Some(path), None) => (Some(path.clone()), Some(path)),
    };
    match place {
        Some(place) => (format!("{place}: {message}"), field),
        None => (message, field),
    }
}

/// The `{name}` of a route, checked to name a server in the config: a handler that takes it
/// never sees an unknown server, which gets the one 404 ([`ApiError::not_found`]).
#[derive(Debug, Clone)]
pub struct ServerName {
    /// The server's name.
    pub name: String,
    /// Its config entry when the request came in.
    pub entry: ServerEntry,
}

impl FromRequestParts<AppState> for ServerName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, s)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        let name = params.get("name").cloned().unwrap_or_default();
        let entry = s
            .store
            .current()
            .mcp_servers
            .get(&name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&name))?;
        Ok(ServerName { name, entry })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Form {
        name: String,
        #[serde(default)]
        args: Vec<String>,
        #[serde(default)]
        oauth: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        client_id: String,
    }

    async fn refuse(content_type: Option<&str>, body: &str) -> ApiError {
        let mut req = Request::builder().method("POST").uri("/");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req.body(Body::from(body.to_string())).unwrap();
        ApiJson::<Form>::from_request(req, &()).await.unwrap_err()
    }

    #[tokio::test]
    async fn every_rejection_is_an_api_error_naming_the_field() {
        let json = Some("application/json");
        let e = refuse(json, r#"{"nmae": "x"}"#).await;
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.field.as_deref(), Some("nmae"));
        assert!(
            e.message
                .ends_with(": unknown field `nmae`, expected one of `name`, `args`, `oauth`"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("line 1"), "{}", e.message);

        let e = refuse(
            json,
            r#"{"name": "x", "oauth": {"clientId": "c", "clientSecrt": 1}}"#,
        )
        .await;
        assert_eq!(e.field.as_deref(), Some("oauth.clientSecrt"), "{e:?}");
        assert!(
            e.message.contains("oauth: unknown field `clientSecrt`"),
            "{}",
            e.message
        );

        let e = refuse(json, r#"{"name": "x", "oauth": {}}"#).await;
        assert_eq!(e.field.as_deref(), Some("oauth.clientId"), "{e:?}");
        assert!(
            e.message.contains("oauth: missing field `clientId`"),
            "{}",
            e.message
        );

        let e = refuse(json, r#"{"args": []}"#).await;
        assert_eq!(e.field.as_deref(), Some("name"), "{e:?}");
        assert!(e.message.contains("missing field `name`"), "{}", e.message);

        let e = refuse(json, r#"{"name": "x", "args": [1]}"#).await;
        assert_eq!(e.field.as_deref(), Some("args[0]"), "{e:?}");
        assert!(e.message.contains("args[0]: invalid type"), "{}", e.message);

        let e = refuse(json, r#"{"name": 7}"#).await;
        assert_eq!(e.field.as_deref(), Some("name"), "{e:?}");
        assert!(e.message.contains("name: invalid type"), "{}", e.message);

        let e = refuse(json, r#"{"name": "#).await;
        assert_eq!((e.status, e.field), (StatusCode::BAD_REQUEST, None));
        assert!(e.message.contains("not valid JSON"), "{}", e.message);

        let e = refuse(Some("text/plain"), r#"{"name": "x"}"#).await;
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(e.message.contains("application/json"), "{}", e.message);
        let e = refuse(None, r#"{"name": "x"}"#).await;
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
