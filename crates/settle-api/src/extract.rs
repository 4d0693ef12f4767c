//! Request extractors whose failures are problem+json: bodies, query strings, path ids, and
//! the caller's API key.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use settle_engine::Principal;
use settle_store::{KeyCheck, Role};

use crate::error::ApiError;
use crate::state::AppState;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON body, read with the path of the first bad field reported.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the body is over 256 KiB",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", rejection.body_text())
            }
        })?;
        let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"{}")
        } else {
            bytes
        };
        if escapes_nul(&bytes) {
            // PostgreSQL's text cannot hold U+0000, and no field of Settle's means it.
            return Err(ApiError::invalid("body", "text must not contain the NUL character"));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => {
                deserializer.end().map_err(|e| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        format!("malformed JSON: {e}"),
                    )
                })?;
                Ok(JsonBody(value))
            }
            Err(err) => {
                let path = err.path().to_string();
                let inner = err.into_inner();
                if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                    Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        format!("malformed JSON: {inner}"),
                    ))
                } else {
                    let field = if path == "." { "body".to_owned() } else { path };
                    Err(ApiError::invalid(field, strip_position(&inner.to_string())))
                }
            }
        }
    }
}

/// True when a JSON text holds the escape `\u0000` (a raw NUL byte is not JSON at all). Each
/// backslash escape is stepped over whole, so an escaped backslash followed by `u0000` is text.
fn escapes_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&byte) = json.get(i) {
        if byte == b'\\' {
            if json.get(i + 1..i + 6) == Some(b"u0000".as_slice()) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// serde_json appends " at line 1 column 42"; the field path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(idx) => message[..idx].to_owned(),
        None => message.to_owned(),
    }
}

/// A query string.
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(QueryParams).map_err(|err| {
            let path = err.path().to_string();
            ApiError::invalid(
                if path == "." { "query".to_owned() } else { path },
                err.into_inner().to_string(),
            )
        })
    }
}

/// The caller, from `Authorization: Bearer <key>`. Viewers may only read.
///
/// A key this process found live before is taken as it was found, and the request's first
/// transaction confirms it ([`settle_engine::Engine::recall_key`]); [`confirm_key`] answers
/// 401 instead of the response when none did and a lookup refuses the key. Any other key is
/// looked up first.
pub(crate) struct Caller(pub(crate) Principal);

tokio::task_local! {
    /// The key check of the current request, once its [`Caller`] was recalled.
    static PRESENTED: OnceLock<Arc<KeyCheck>>;
}

/// The check of the current request's key, when it is confirmed by the request's transactions.
pub(crate) fn presented_key() -> Option<Arc<KeyCheck>> {
    PRESENTED.try_with(|slot| slot.get().cloned()).ok().flatten()
}

/// Runs the request with room for its key check, and answers 401 instead of its response when
/// the key was recalled, no transaction of the request confirmed it, and a lookup refuses it
/// (a request that failed before its first transaction, or one that began none).
pub(crate) async fn confirm_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (response, key) = PRESENTED
        .scope(OnceLock::new(), async {
            let response = next.run(request).await;
            (response, presented_key())
        })
        .await;
    let Some(key) = key.filter(|key| !key.is_confirmed()) else { return response };
    let engine = state.engine.clone();
    match tokio::task::spawn_blocking(move || engine.confirm_key(&key)).await {
        Ok(Ok(true)) => response,
        Ok(Ok(false)) => ApiError::unauthorized().into_response(),
        Ok(Err(err)) => ApiError::from(err).into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 256)
            .ok_or_else(ApiError::unauthorized)?
            .to_owned();
        let recalled = state.engine.recall_key(&key).filter(|check| {
            // Only where `confirm_key` will see that the check was confirmed.
            PRESENTED.try_with(|slot| slot.set(Arc::clone(check)).is_ok()).unwrap_or(false)
        });
        let principal = match recalled {
            Some(check) => Principal { tenant_id: check.tenant_id.clone(), role: check.role },
            None => {
                let engine = state.engine.clone();
                tokio::task::spawn_blocking(move || engine.authenticate(&key))
                    .await
                    .map_err(|_| ApiError::internal())??
                    .ok_or_else(ApiError::unauthorized)?
            }
        };
        crate::observe::record_tenant(principal.tenant_id.as_str());
        let reads_only = matches!(parts.method, Method::GET | Method::HEAD);
        if principal.role == Role::Viewer && !reads_only {
            return Err(ApiError::forbidden());
        }
        Ok(Caller(principal))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_nul_escape_is_found_and_an_escaped_backslash_is_not_one() {
        assert!(super::escapes_nul(br#"{"name":"a\u0000"}"#));
        assert!(!super::escapes_nul(br#"{"name":"a\\u0000"}"#));
        assert!(!super::escapes_nul(br#"{"name":"a\u0001"}"#));
    }
}
