//! What every handler shares.

use settle_engine::Engine;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) engine: Engine,
    /// The OpenAPI document as JSON, which `GET /openapi.json` answers.
    pub(crate) openapi: Option<&'static str>,
}
