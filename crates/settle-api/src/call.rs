//! Engine calls on Tokio's blocking pool (the stores are synchronous): reads answer their value;
//! writes answer their rendered response, saved under the request's `Idempotency-Key` when it
//! has one, or the response saved before.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use settle_core::ids::TenantId;
use settle_engine::{Engine, EngineResult, Idempotency, Outcome, Saved};

use crate::dto::PreviewOut;
use crate::error::ApiError;
use crate::idempotency::{self, Responder};
use crate::state::AppState;

/// Runs an engine call on the blocking pool (the store is synchronous).
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    call: impl FnOnce(&Engine) -> EngineResult<T> + Send + 'static,
) -> Result<T, ApiError> {
    // The request's transactions confirm its key, when it was recalled (`extract::Caller`).
    let engine = match crate::extract::presented_key() {
        Some(key) => state.engine.confirming(key),
        None => state.engine.clone(),
    };
    tokio::task::spawn_blocking(move || call(&engine))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::from)
}

/// Runs a write command on the blocking pool and answers its result with `status`, rendered by
/// [`Responder`] (the result's type says how). When the request carries an `Idempotency-Key`
/// (scoped to `tenant_id`), the engine saves that same response in the command's transaction,
/// or answers the response saved before, marked `Idempotent-Replayed`.
pub(crate) async fn blocking_write<T: Saved + Send + 'static>(
    state: &AppState,
    tenant_id: TenantId,
    status: StatusCode,
    call: impl FnOnce(&Engine) -> EngineResult<T> + Send + 'static,
) -> Result<Response, ApiError> {
    let responder = Arc::new(Responder::new(status, Arc::clone(&state.public_url)));
    let outcome = match idempotency::current() {
        None => blocking(state, call).await.map(Outcome::Done),
        Some(keyed) => {
            let idempotency = Idempotency {
                tenant_id,
                key: keyed.key,
                request_hash: keyed.request_hash,
                save: Arc::new(Responder::kept(status, Arc::clone(&state.public_url))),
            };
            blocking(state, move |engine| engine.idempotent(idempotency, call)).await
        }
    };
    let outcome = crate::command_metrics::count(outcome)?;
    match outcome {
        Outcome::Done(out) => {
            let saved = out.save_with(responder.as_ref()).map_err(|_| ApiError::internal())?;
            Ok(idempotency::answer(saved, false))
        }
        Outcome::Replayed(saved) => Ok(idempotency::answer(saved, true)),
    }
}

/// `?dry_run=true` on a POST that moves balances.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DryRun {
    /// `true`: answer 200 with a `Preview` of what the request would change (each item's,
    /// document's and payment's balance before and after, and the customer's), computed by the
    /// same command inside its transaction and rolled back: nothing is written and no
    /// `Idempotency-Key` is used up. Refusals are the same as without it.
    #[serde(default)]
    pub(crate) dry_run: bool,
}

/// [`blocking_write`], or with `?dry_run=true` the command's preview (200): the same `call`,
/// run by [`Engine::preview`], which rolls it back.
pub(crate) async fn write_or_preview<T: Saved + Send + 'static>(
    state: &AppState,
    tenant_id: TenantId,
    status: StatusCode,
    dry_run: DryRun,
    call: impl FnOnce(&Engine) -> EngineResult<T> + Send + 'static,
) -> Result<Response, ApiError> {
    if dry_run.dry_run {
        let preview = blocking(state, move |engine| engine.preview(call)).await?;
        return Ok((StatusCode::OK, Json(PreviewOut::from(&preview))).into_response());
    }
    blocking_write(state, tenant_id, status, call).await
}
