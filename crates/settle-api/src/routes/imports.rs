//! `POST /v1/imports`: customers or open invoices from another system, as a CSV body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use settle_engine::{ImportKind, ImportOptions};
use utoipa::IntoParams;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::call::blocking;
use crate::dto::ImportOut;
use crate::error::ApiError;
use crate::extract::{Caller, MAX_BODY_BYTES, QueryParams};
use crate::state::AppState;

/// Query of `POST /v1/imports`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportQuery {
    /// What the file holds: `customers` or `invoices`.
    #[param(schema_with = kinds, required = true)]
    kind: Option<String>,
    /// `true`: check the file and answer what would be created; write nothing.
    #[serde(default)]
    dry_run: bool,
    /// `true`: write the good rows of a file that has bad ones (else nothing is written).
    #[serde(default)]
    skip_bad_rows: bool,
}

/// `customers` or `invoices`.
fn kinds() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["customers", "invoices"]))
        .build()
}

/// A `text/csv` body: another media type is 415, one over the body limit 413.
pub(crate) struct CsvBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let media_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if media_type.as_deref() != Some("text/csv") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file as the body with Content-Type: text/csv",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!(
                        "the body is over {} KiB: split the file, or use `settle import`",
                        MAX_BODY_BYTES / 1024
                    ),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", rejection.body_text())
            }
        })?;
        Ok(CsvBody(bytes))
    }
}

#[utoipa::path(
    operation_id = "create_import",
    post,
    path = "/v1/imports",
    tag = "imports",
    summary = "Import customers or open invoices from CSV",
    description = "`?kind=customers|invoices[&dry_run=true][&skip_bad_rows=true]` with the \
        file as the body (`Content-Type: text/csv`, at most 256 KiB; the columns are those of \
        `settle import`, docs/IMPORT.md). The whole file is checked first. A file with bad \
        rows is 422 `bad_rows`, with `rows: [{line, column, reason}]`, and nothing is \
        written, unless `skip_bad_rows=true`: then the good rows are written and the answer \
        lists the bad ones in `errors`. `dry_run=true` writes nothing and answers 200 with \
        what would be created. Customers and invoices are written 500 per transaction; an \
        invoice's `amount_paid` becomes a payment applied to it. Each row's `external_id` is \
        its idempotency key: a row imported before is skipped (`already_imported`), so \
        sending the same file again creates nothing; an `Idempotency-Key` header is not \
        needed and each request runs.",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file, header line first."),
    responses(
        (status = 201, description = "What was imported.", body = ImportOut),
        (status = 200, description = "With `dry_run=true`: what would be imported.", body = ImportOut),
        (status = 415, description = "unsupported_media_type"),
        (status = 422, description = "bad_rows, validation_error"),
    )
)]
/// Imports a CSV file.
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<ImportQuery>,
    CsvBody(body): CsvBody,
) -> Result<Response, ApiError> {
    let kind = match query.kind.as_deref() {
        Some(name) => ImportKind::parse(name)
            .ok_or_else(|| ApiError::invalid("kind", "customers or invoices"))?,
        None => return Err(ApiError::invalid("kind", "required: customers or invoices")),
    };
    let options = ImportOptions { dry_run: query.dry_run, skip_bad_rows: query.skip_bad_rows };
    let report = blocking(&state, move |engine| {
        engine.import(&caller.tenant_id, kind, &body, options, &mut |_| {})
    })
    .await?;
    if !report.errors.is_empty() && !options.skip_bad_rows {
        let detail = format!(
            "{} of the file's {} {} have bad rows; nothing was written",
            report.bad_records,
            report.rows,
            kind.name()
        );
        return Err(ApiError::bad_rows(detail, &report.errors));
    }
    let status = if options.dry_run { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(ImportOut::new(kind, options.dry_run, &report))).into_response())
}
