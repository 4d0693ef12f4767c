//! The one HTTP error type: every failure leaves as `application/problem+json` with a stable
//! `code`. Rejections map to 4xx; store failures to an opaque 500 (the log gets the cause).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use settle_core::error::Rejection;
use settle_engine::EngineError;
use settle_store::StoreError;

/// A problem to report to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
}

/// One invalid field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// An `application/problem+json` body (RFC 9457) with a stable machine-readable `code`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Problem<'a> {
    /// `https://settle.dev/problems/{code}`.
    #[serde(rename = "type")]
    kind: String,
    /// The HTTP reason phrase of `status`.
    title: &'a str,
    /// The HTTP status.
    status: u16,
    /// What went wrong, for people.
    detail: &'a str,
    /// Stable and machine readable, e.g. `validation_error`, `not_found`, `over_application`.
    code: &'a str,
    /// The invalid fields, on validation problems only.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    #[schema(value_type = Vec<FieldError>)]
    errors: &'a [FieldError],
}

impl ApiError {
    /// A problem with `status`, `code` and `detail`.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, code, detail: detail.into(), errors: Vec::new() }
    }

    /// 422 `validation_error` for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let field = field.into();
        let message = message.into();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_error",
            detail: format!("{field}: {message}"),
            errors: vec![FieldError { field, message }],
        }
    }

    /// 404 `not_found`.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid API key is required")
    }

    /// 403 `forbidden`.
    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this key's role may not do that")
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> ApiError {
        let code = rejection.code();
        if let Rejection::Refused { .. } = rejection
            && let Some(error) = rejection.field_error()
        {
            let detail = format!("{}: {}", error.field, error.message);
            return ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code,
                detail,
                errors: vec![FieldError { field: error.field, message: error.message }],
            };
        }
        let status = match &rejection {
            Rejection::NotFound { .. } => StatusCode::NOT_FOUND,
            Rejection::DocumentNotDraft { .. } | Rejection::EmailInUse => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let errors = rejection
            .field_error()
            .map(|e| vec![FieldError { field: e.field, message: e.message }])
            .unwrap_or_default();
        ApiError { status, code: rejection.code(), detail: rejection.to_string(), errors }
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> ApiError {
        match err {
            EngineError::Rejected(rejection) => rejection.into(),
            EngineError::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request",
            ),
            EngineError::Store(StoreError::BadCursor) => {
                ApiError::invalid("cursor", "not a cursor of this list")
            }
            EngineError::Store(StoreError::Conflict { constraint }) => {
                tracing::warn!(%constraint, "store constraint refused a write");
                ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "the request conflicts with stored data; retry it",
                )
            }
            EngineError::Replayed => {
                // `Engine::idempotent` turns this into `Outcome::Replayed`; a call outside it
                // has no key and cannot stop to replay.
                tracing::error!("a write stopped to replay outside an idempotent call");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
            }
            EngineError::SaveFailed => {
                tracing::error!("a write's response could not be rendered");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
            }
            EngineError::Output(err) => {
                tracing::error!(error = ?err, "writing an export failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
            }
            EngineError::Store(err) => {
                tracing::error!(error = ?err, "store failure");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("https://settle.dev/problems/{}", self.code),
            title: title(self.status),
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            errors: &self.errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}
