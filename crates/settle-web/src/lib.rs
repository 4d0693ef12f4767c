//! Settle's back office and the customer's payment page: HTML rendered on the server from
//! askama templates over the same `settle_engine::Engine` the JSON API calls (UI.md is the
//! contract: routes, form fields and `data-*` hooks).
//!
//! The modules read top-down: `router` (the route table and the layers) uses `pages/` (the
//! handlers, one module per area), which use `session` (who is signed in, CSRF, roles), `call`
//! (engine calls on the blocking pool and what their errors become), `form` (posted fields),
//! `view` (amounts and links as the pages show them) and `templates` (rendering; each page's
//! template struct lives beside its handler). `headers` and `assets` stand apart.

mod assets;
mod call;
mod form;
mod headers;
mod pages;
mod router;
mod session;
mod templates;
mod view;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use settle_engine::Engine;

/// How the back office is served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// The public base URL (`https://billing.example.com`), used for payment link URLs and to
    /// mark the session cookie `Secure`; absent, the request's `Host` over plain HTTP.
    pub public_url: Option<String>,
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) engine: Engine,
    pub(crate) config: Arc<WebConfig>,
}

/// The back office and the payment page as a router, to be merged beside the API.
pub fn router(engine: Engine, config: WebConfig) -> Router {
    router::routes(AppState { engine, config: Arc::new(config) }).layer(
        tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            use axum::response::IntoResponse;
            tracing::error!("a back-office handler panicked");
            call::WebError::Internal.into_response()
        }),
    )
}

/// Every route of the back office as `(METHOD, path)`.
pub use router::route_table;
