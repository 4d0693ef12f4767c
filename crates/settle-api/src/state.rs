//! What every handler shares.

use settle_engine::Engine;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) engine: Engine,
    /// Where the server is reached from outside, without a trailing `/`: payment link URLs
    /// start with it.
    pub(crate) public_url: std::sync::Arc<str>,
}
