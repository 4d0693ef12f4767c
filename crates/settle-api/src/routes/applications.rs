//! `/v1/applications`: apply a source to a document, reverse, read, list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use settle_core::ids::{ApplicationId, CustomerId, DocumentId, PaymentId};
use settle_engine::{NewApplication, SourceInput};
use settle_store::ApplicationQuery;
use utoipa::IntoParams;

use super::payments::{item_amounts, rule};
use super::{list_out, page_request, parse_id};
use crate::call::{DryRun, blocking, blocking_write, write_or_preview};
use crate::dto::{ApplicationIn, ApplicationOut, ListOut, PreviewOut, ReverseIn};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::state::AppState;

/// `POST /v1/applications`.
#[utoipa::path(
    operation_id = "create_application",
    post,
    path = "/v1/applications",
    tag = "applications",
    summary = "Apply a payment, credit memo or the credit balance to a document",
    description = "`{source: {type: \"payment\"|\"credit_memo\"|\"credit_balance\", id?}, \
        target_id, amount?, items?: [{item_id, amount, credit_memo_item_id?}], rule?: \
        \"proration\"|\"sequential\"|\"net_first\", effective_date?}` → application. Give \
        `amount` (spread by the rule; default the tenant's `application_rule`) or `items` (per \
        item; may be negative for negative items; the total may be zero: a zero-total \
        item-level application is legal). With neither, the largest allowed amount is applied: \
        the lesser of the source's unapplied amount and the document's balance (toward zero for \
        a negative document), spread by the rule. For a credit memo source, each item may name \
        `credit_memo_item_id`. The credit balance takes no `id`. An item would pass zero: \
        `over_application`; the source has not enough: `insufficient_unapplied`.",
    params(DryRun),
    request_body = ApplicationIn,
    responses(
        (status = 201, description = "The application.", body = ApplicationOut),
        (status = 200, description = "With `dry_run=true`: the `Preview`.", body = PreviewOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "currency_mismatch, customer_mismatch, \
            document_not_posted, document_voided, over_application, insufficient_unapplied, \
            amount_out_of_range"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(dry_run): QueryParams<DryRun>,
    JsonBody(body): JsonBody<ApplicationIn>,
) -> Result<Response, ApiError> {
    let source = match (body.source.kind.as_str(), body.source.id) {
        ("payment", Some(id)) => SourceInput::Payment(parse_id(&id, PaymentId::parse, "payment")?),
        ("credit_memo", Some(id)) => {
            let id = parse_id(&id, DocumentId::parse, "credit memo")?;
            SourceInput::CreditMemo(id)
        }
        ("credit_balance", None) => SourceInput::CreditBalance,
        ("payment" | "credit_memo", None) => {
            return Err(ApiError::invalid("source.id", "required"));
        }
        ("credit_balance", Some(_)) => {
            return Err(ApiError::invalid("source.id", "the credit balance takes no id"));
        }
        _ => {
            return Err(ApiError::invalid("source.type", "payment, credit_memo or credit_balance"));
        }
    };
    let new = NewApplication {
        source,
        target: settle_engine::ApplicationTarget {
            target_id: parse_id(&body.target_id, DocumentId::parse, "document")?,
            amount: body.amount.map(|a| a.0),
            items: item_amounts("items", body.items)?,
            rule: rule("rule", body.rule)?,
        },
        effective_date: body.effective_date.map(|d| d.0),
    };
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::CREATED, dry_run, move |e| {
        e.apply(&caller.tenant_id, new)
    })
    .await
}

/// `POST /v1/applications/{id}/reverse`.
#[utoipa::path(
    operation_id = "reverse_application",
    post,
    path = "/v1/applications/{id}/reverse",
    tag = "applications",
    summary = "Reverse (unapply) an application",
    description = "`{amount?}` → the application after the reversal (unapply; partial allowed; \
        default all that is left). The value returns to its source.",
    params(("id" = String, Path, description = "The application id (`app_...`).")),
    request_body(content = ReverseIn, description = "Optional: an empty body is `{}`."),
    responses(
        (status = 200, description = "The application.", body = ApplicationOut),
        (status = 422, description = "over_reversal, currency_mismatch, amount_out_of_range"),
    )
)]
pub(crate) async fn reverse(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReverseIn>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, ApplicationId::parse, "application")?;
    let amount = body.amount.map(|a| a.0);
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::OK, move |e| {
        e.reverse_application(&caller.tenant_id, &id, amount)
    })
    .await
}

/// `GET /v1/applications/{id}`.
#[utoipa::path(
    operation_id = "show_application",
    get,
    path = "/v1/applications/{id}",
    tag = "applications",
    summary = "Retrieve an application",
    description = "The application `{id, source, target_id, amount, items:[{item_id, amount}], \
        status}`.",
    params(("id" = String, Path, description = "The application id (`app_...`).")),
    responses((status = 200, description = "The application.", body = ApplicationOut))
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let id = parse_id(&id, ApplicationId::parse, "application")?;
    let application = blocking(&state, move |e| e.application(&caller.tenant_id, &id)).await?;
    Ok(Json(ApplicationOut::from(&application)))
}

/// Query of `GET /v1/applications`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only this customer's applications.
    customer_id: Option<String>,
    /// Only applications from this payment or credit memo.
    source_id: Option<String>,
    /// Only applications to this document.
    target_id: Option<String>,
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/applications`.
#[utoipa::path(
    operation_id = "list_applications",
    get,
    path = "/v1/applications",
    tag = "applications",
    summary = "List applications",
    description = "`?customer_id=&source_id=&target_id=`. Newest first.",
    params(ListQuery),
    responses((
        status = 200, description = "A page of applications.", body = ListOut<ApplicationOut>
    ))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<ListOut<ApplicationOut>>, ApiError> {
    let empty = || Ok(Json(ListOut { object: "list", data: Vec::new(), next_cursor: None }));
    let customer_id = match query.customer_id.map(|c| CustomerId::parse(&c)) {
        Some(None) => return empty(),
        Some(id) => id,
        None => None,
    };
    let target_id = match query.target_id.map(|c| DocumentId::parse(&c)) {
        Some(None) => return empty(),
        Some(id) => id,
        None => None,
    };
    let page = page_request(query.limit, query.cursor)?;
    let application_query = ApplicationQuery { customer_id, source_id: query.source_id, target_id };
    let got =
        blocking(&state, move |e| e.applications(&caller.tenant_id, &application_query, &page))
            .await?;
    Ok(Json(list_out(&got, |r| ApplicationOut::from(r))))
}
