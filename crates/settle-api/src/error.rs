//! The one HTTP error type: every failure leaves as `application/problem+json` with a stable
//! `code`. Rejections map to 4xx; store failures to an opaque 500 (the log gets the cause).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use settle_core::error::{Flaw, Input, OUT_OF_RANGE, Operation, Rejection};
use settle_engine::{EngineError, RowError};
use settle_store::StoreError;

/// A problem to report to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    /// The bad rows of an import file.
    rows: Vec<RowErrorOut>,
}

/// One invalid field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A bad field of an import file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct RowErrorOut {
    /// The line of the file (the header is line 1).
    pub(crate) line: u64,
    /// The column's name; empty when the line as a whole is refused.
    pub(crate) column: String,
    /// Why.
    pub(crate) reason: String,
}

impl From<&RowError> for RowErrorOut {
    fn from(error: &RowError) -> RowErrorOut {
        RowErrorOut { line: error.line, column: error.column.clone(), reason: error.reason.clone() }
    }
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
    /// The bad rows of an import file (`bad_rows` only): line, column and reason of each.
    #[serde(skip_serializing_if = "<[RowErrorOut]>::is_empty")]
    #[schema(value_type = Vec<RowErrorOut>)]
    rows: &'a [RowErrorOut],
    /// The request's id, as in its `X-Request-Id` response header: quote it when reporting a
    /// problem, and it finds the request's log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    request_id: Option<&'a str>,
}

impl ApiError {
    /// A problem with `status`, `code` and `detail`.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, code, detail: detail.into(), errors: Vec::new(), rows: Vec::new() }
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
            rows: Vec::new(),
        }
    }

    /// 422 `bad_rows`: an import file with bad rows, nothing written.
    pub(crate) fn bad_rows(detail: impl Into<String>, rows: &[RowError]) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "bad_rows",
            detail: detail.into(),
            errors: Vec::new(),
            rows: rows.iter().map(RowErrorOut::from).collect(),
        }
    }

    /// 404 `not_found`.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 500 `internal_error`: what went wrong is only in the log.
    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
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

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// The JSON field path of an input the core refused.
fn field_path(input: Input) -> String {
    match input {
        Input::Amount => "amount".to_owned(),
        Input::Document => "id".to_owned(),
        Input::Item => "item_id".to_owned(),
        Input::Items => "items".to_owned(),
        Input::DueDate => "due_date".to_owned(),
        Input::Target => "target_id".to_owned(),
        Input::Source => "source.id".to_owned(),
        Input::ItemId(idx) => format!("items[{idx}].item_id"),
        Input::CreditMemoItemId(idx) => format!("items[{idx}].credit_memo_item_id"),
        Input::UnitPrice(idx) => format!("items[{idx}].unit_price"),
        Input::TaxRate { item, tax } => format!("items[{item}].taxes[{tax}].rate"),
    }
}

/// What the API says about a flaw the core found.
fn flaw_message(flaw: Flaw) -> String {
    let text = match flaw {
        Flaw::Zero => "must not be zero",
        Flaw::NotPositive => "must be above zero",
        Flaw::OutOfRange => OUT_OF_RANGE,
        Flaw::NotACreditMemo => "must be a credit memo",
        Flaw::CanceledNotVoided => "credit memos are canceled, not voided",
        Flaw::NotReceivable(Operation::Adjust) => "only invoices and debit memos take adjustments",
        Flaw::NotReceivable(Operation::Net) => "only invoices and debit memos are netted",
        Flaw::NotReceivable(Operation::Transfer) => {
            "only invoices and debit memos have balances to transfer"
        }
        Flaw::NotAnItemOf { item_id, document_id } => {
            return format!("{item_id} is not an item of {document_id}");
        }
        Flaw::NothingToNet => "no negative item balance to offset against a positive one",
        Flaw::RateOutOfRange => "out of range",
        Flaw::NoItems => "at least one item is required",
        Flaw::TooManyItems { limit } => return format!("at most {limit} items and tax items"),
        Flaw::BeforeInvoiceDate => "must not be before the invoice date",
        Flaw::NotAnInvoiceOrDebitMemo => "must be an invoice or a debit memo",
        Flaw::ListedTwice => "listed twice",
        Flaw::NothingToApply => "every amount is zero: nothing to apply",
        Flaw::MixedSignsReversedWhole => {
            "an application with items of both signs can only be reversed whole"
        }
    };
    text.to_owned()
}

/// A refusal inside `applications[index]` of a request, named by its full path: every field it
/// names, and the detail, which starts with the field.
fn in_application(index: usize, mut error: ApiError) -> ApiError {
    let prefix = format!("applications[{index}].");
    if !error.errors.is_empty() {
        error.detail.insert_str(0, &prefix);
    }
    for field_error in &mut error.errors {
        field_error.field.insert_str(0, &prefix);
    }
    error
}

/// The field a rejection names and what to say beside it, in the API's words (`errors[0]` of
/// its problem); `None` for a refusal of the request as a whole. The back office shows the
/// same words beside its form fields, so the wording lives here once.
pub fn field_error(rejection: &Rejection) -> Option<FieldError> {
    ApiError::from(rejection.clone()).errors.into_iter().next()
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> ApiError {
        let code = rejection.code();
        let rejection = match rejection {
            Rejection::Refused { input, flaw } => {
                let (field, message) = (field_path(input), flaw_message(flaw));
                return ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code,
                    detail: format!("{field}: {message}"),
                    errors: vec![FieldError { field, message }],
                    rows: Vec::new(),
                };
            }
            Rejection::InApplication { index, rejection } => {
                return in_application(index, ApiError::from(*rejection));
            }
            other => other,
        };
        let status = match &rejection {
            Rejection::NotFound { .. } => StatusCode::NOT_FOUND,
            Rejection::DocumentNotDraft { .. }
            | Rejection::EmailInUse
            | Rejection::Stale { .. } => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let errors = match &rejection {
            Rejection::Invalid { field, message } => {
                vec![FieldError { field: field.clone(), message: message.clone() }]
            }
            Rejection::AmountOutOfRange { field } => {
                vec![FieldError { field: field.clone(), message: OUT_OF_RANGE.to_owned() }]
            }
            Rejection::EmailInUse => {
                vec![FieldError { field: "email".to_owned(), message: rejection.to_string() }]
            }
            _ => Vec::new(),
        };
        ApiError {
            status,
            code: rejection.code(),
            detail: rejection.to_string(),
            errors,
            rows: Vec::new(),
        }
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
            EngineError::Store(StoreError::KeyRefused) => ApiError::unauthorized(),
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
            EngineError::SaveFailed => {
                tracing::error!("a write's response could not be rendered");
                ApiError::internal()
            }
            EngineError::Output(err) => {
                tracing::error!(error = ?err, "writing an export failed");
                ApiError::internal()
            }
            EngineError::Store(err) => {
                tracing::error!(error = ?err, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = crate::observe::current_request_id();
        let problem = Problem {
            kind: format!("https://settle.dev/problems/{}", self.code),
            title: title(self.status),
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            errors: &self.errors,
            rows: &self.rows,
            request_id: request_id.as_deref(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}
