//! `GET /readyz`: whether this process can serve, for a load balancer or an orchestrator that
//! sends it traffic only when it can (unlike `/healthz`, which never touches the store).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::error::ApiError;
use crate::state::AppState;

/// How long the store gets to answer before the probe says not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// `GET /readyz`.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "meta",
    summary = "Readiness",
    description = "Answers 200 `ready` without auth when the store answers a query within 3 seconds and its schema is at the migrations this build runs; else 503 `not_ready` (the cause is only in the log).",
    responses(
        (status = 200, description = "`ready`", body = String, content_type = "text/plain"),
        (status = 503, description = "not_ready")
    )
)]
pub(crate) async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    let engine = state.engine.clone();
    let check = tokio::task::spawn_blocking(move || engine.check_ready());
    let why = match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(Ok(()))) => return Ok("ready"),
        Ok(Ok(Err(err))) => with_causes(&err),
        Ok(Err(_)) => "the readiness check panicked".to_owned(),
        Err(_) => format!("the store did not answer within {}s", READY_TIMEOUT.as_secs()),
    };
    tracing::warn!(why = %why, "not ready");
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        "the store is unavailable or its schema is not at this build's migrations",
    ))
}

/// An error with its chain of causes, as one line.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}
