//! Settle's HTTP JSON API (the contract is `API.md`): routes, request and response types, and
//! problem+json errors. Handlers parse at the edge, call `settle-engine` on the blocking pool,
//! and convert the result by hand.
//!
//! The modules read top-down, with no import circle: `router` (the route table) uses `openapi`
//! (the document) and `routes` (the handlers); handlers use `call`, `extract`, `dto` and
//! `error`; `call` uses `idempotency`, which renders results with `dto`, and `extract` (the
//! request's key check); `dto` uses only `schema`. Nothing below `router` imports it.

mod call;
mod command_metrics;
mod dto;
mod error;
mod extract;
mod idempotency;
mod observe;
mod openapi;
mod router;
mod routes;
mod schema;
mod state;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use settle_engine::Engine;
use tower_http::catch_panic::CatchPanicLayer;

pub use error::{ApiError, FieldError, field_error};
pub use extract::MAX_BODY_BYTES;
pub use observe::{
    NewRequestId, REQUEST_ID_HEADER, mark_routes, observed, record_tenant, sane_request_id,
};
pub use router::route_table;
pub use state::AppState;

#[cfg(test)]
mod tests;

/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole API as a router. `public_url` is where clients reach the server (such as
/// `https://billing.example.com` or `http://127.0.0.1:8080`): payment link URLs start with it.
pub fn router(engine: Engine, public_url: &str) -> Router {
    let state = AppState {
        engine,
        openapi: router::document_json(),
        public_url: public_url.trim_end_matches('/').into(),
    };
    observe::mark_routes(router::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), extract::confirm_key))
        .layer(axum::middleware::from_fn(idempotency::scope))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(CatchPanicLayer::custom(|_| {
            use axum::response::IntoResponse;
            ApiError::internal().into_response()
        }))
        .with_state(state)
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
