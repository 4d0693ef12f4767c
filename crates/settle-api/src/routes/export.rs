//! `GET /v1/export/journal`: the tenant's whole journal as a Beancount ledger or as CSV.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use settle_engine::ExportFormat;
use utoipa::IntoParams;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::call::blocking;
use crate::error::ApiError;
use crate::extract::{Caller, QueryParams};
use crate::state::AppState;

/// Query of `GET /v1/export/journal`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `beancount` (a ledger `bean-check` accepts; the default) or `csv` (RFC 4180, one row
    /// per posting).
    #[param(schema_with = formats)]
    format: Option<String>,
}

/// `beancount` or `csv`.
fn formats() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["beancount", "csv"]))
        .default(Some(serde_json::json!("beancount")))
        .build()
}

/// The media type an export is answered with.
fn content_type(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Beancount => "text/plain; charset=utf-8",
        ExportFormat::Csv => "text/csv; charset=utf-8",
    }
}

#[utoipa::path(
    get,
    path = "/v1/export/journal",
    tag = "reports",
    summary = "Export the journal",
    description = "`?format=beancount|csv` (default `beancount`) — the tenant's whole \
        journal, oldest first; any other format is 422 `validation_error`. \
        `beancount`: `option \"operating_currency\"` per currency, an `open` per account used \
        (customer-balance accounts have one sub-account per customer, `Cus-` and the id's \
        suffix), then one `*` transaction per journal transaction with `settle_txn` metadata \
        and one posting per posting (debits positive, credits negative, exact amounts). \
        `csv`: header `txn_id,seq,effective_date,customer_id,kind,description,account,side,\
        amount,currency,document_id,item_id,payment_id,application_id`, one row per posting, \
        CRLF line ends. Viewers may export.",
    params(ExportQuery),
    responses(
        (status = 200, description = "The journal in the asked format.", content(
            (String = "text/plain; charset=utf-8"),
            (String = "text/csv; charset=utf-8"),
        )),
        (status = 422, description = "validation_error"),
    )
)]
/// The whole journal as text.
pub(crate) async fn export_journal(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = match query.format.as_deref() {
        None => ExportFormat::Beancount,
        Some(name) => ExportFormat::parse(name)
            .ok_or_else(|| ApiError::invalid("format", "beancount or csv"))?,
    };
    let body = blocking(&state, move |engine| {
        let mut out = Vec::new();
        engine.export_journal(&caller.tenant_id, format, &mut out)?;
        Ok(out)
    })
    .await?;
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(format)));
    Ok(response)
}
