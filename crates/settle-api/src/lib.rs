//! Settle's HTTP JSON API (the contract is `API.md`): routes, request and response types, and
//! problem+json errors. Handlers parse at the edge, call `settle-engine` on the blocking pool,
//! and convert the result by hand.

mod dto;
mod error;
mod extract;
mod idempotency;
mod openapi;
mod routes;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use settle_engine::{Engine, EngineResult};
use tower_http::catch_panic::CatchPanicLayer;

pub use error::{ApiError, FieldError};

#[cfg(test)]
mod tests;
pub use routes::route_table;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    engine: Engine,
}

/// The whole API as a router.
pub fn router(engine: Engine) -> Router {
    routes::routes()
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(axum::middleware::from_fn(idempotency::scope))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(CatchPanicLayer::custom(|_| {
            use axum::response::IntoResponse;
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
                .into_response()
        }))
        .with_state(AppState { engine })
}

/// Runs an engine call on the blocking pool (the store is synchronous).
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    call: impl FnOnce(&Engine) -> EngineResult<T> + Send + 'static,
) -> Result<T, ApiError> {
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || call(&engine))
        .await
        .map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
        })?
        .map_err(ApiError::from)
}

/// Runs a write command on the blocking pool. When the request carries an `Idempotency-Key`,
/// the engine saves the response (with `status`) in the command's transaction, or answers a
/// replay of the saved one.
pub(crate) async fn blocking_write<T: Send + 'static>(
    state: &AppState,
    status: StatusCode,
    call: impl FnOnce(&Engine) -> EngineResult<T> + Send + 'static,
) -> Result<T, ApiError> {
    let Some((_, idempotency)) = idempotency::for_engine(status) else {
        return blocking(state, call).await;
    };
    let engine = state.engine.idempotent(idempotency);
    tokio::task::spawn_blocking(move || call(&engine))
        .await
        .map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
        })?
        .map_err(ApiError::from)
}

/// Answers 408 `request_timeout` (as problem+json) when a request takes longer than
/// [`REQUEST_TIMEOUT`]. A write already handed to the store finishes or rolls back on its own
/// thread; the client learns the outcome by retrying with the same `Idempotency-Key`.
pub(crate) async fn time_limit(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request took too long; retry it with the same Idempotency-Key",
        )
        .into_response(),
    }
}
