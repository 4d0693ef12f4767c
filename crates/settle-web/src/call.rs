//! Engine calls on Tokio's blocking pool (the stores are synchronous), and what their failures
//! become in the back office: an unknown object is the 404 page, a refusal goes back to the
//! form that caused it, a store failure is a plain error page with the cause only in the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use settle_core::error::Rejection;
use settle_engine::{Engine, EngineError, EngineResult};
use settle_store::StoreError;

use crate::AppState;
use crate::templates::{ErrorPage, render};

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum WebError {
    /// Nothing of this tenant by that id (or text that is no id at all).
    NotFound,
    /// The signed-in user's role may not do this, or the form's CSRF token is wrong.
    Forbidden,
    /// The form was drawn before its document last changed (409); nothing was written.
    Stale,
    /// The engine refused the request; forms re-render with it.
    Refused(Rejection),
    /// Infrastructure failed; logged, never shown.
    Internal,
}

impl From<EngineError> for WebError {
    fn from(err: EngineError) -> WebError {
        match err {
            EngineError::Rejected(Rejection::NotFound { .. }) => WebError::NotFound,
            EngineError::Rejected(Rejection::Stale { .. }) => WebError::Stale,
            EngineError::Rejected(rejection) => WebError::Refused(rejection),
            EngineError::Store(StoreError::BadCursor) => WebError::NotFound,
            EngineError::IdempotencyKeyReused => {
                WebError::Refused(Rejection::invalid("form", "this form was sent before"))
            }
            other => {
                tracing::error!(error = ?other, "engine call failed");
                WebError::Internal
            }
        }
    }
}

/// Runs an engine call on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    call: impl FnOnce(&Engine) -> EngineResult<T> + Send + 'static,
) -> Result<T, WebError> {
    let engine = state.engine.clone();
    match tokio::task::spawn_blocking(move || call(&engine)).await {
        Ok(result) => result.map_err(WebError::from),
        Err(_) => {
            tracing::error!("an engine call panicked");
            Err(WebError::Internal)
        }
    }
}

impl WebError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here. It may have been removed, or the address is mistyped."
                    .to_owned(),
            ),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role may not do this, or the form was stale. Nothing was changed.".to_owned(),
            ),
            WebError::Stale => (
                StatusCode::CONFLICT,
                "Changed since this page was drawn",
                "This document changed since this page was drawn; reload it and try again. \
                 Nothing was changed."
                    .to_owned(),
            ),
            WebError::Refused(rejection) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not done",
                crate::view::rejection_text(rejection),
            ),
            WebError::Internal => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Something went wrong",
                "Settle could not finish this just now. Nothing was changed; please try again."
                    .to_owned(),
            ),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = self.parts();
        let page = ErrorPage { nav: crate::session::current_nav(), section: "", title, message };
        (status, render(&page)).into_response()
    }
}
