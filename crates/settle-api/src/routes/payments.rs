//! `/v1/payments`: record (and apply in the same call), read, list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use settle_core::application::Rule;
use settle_core::ids::{CustomerId, DocumentId, ItemId, PaymentId};
use settle_core::payment::PaymentMethod;
use settle_engine::{ApplicationTarget, ItemAmountInput, NewPayment};
use settle_store::PaymentQuery;
use utoipa::IntoParams;

use super::{list_out, page_request, parse_id};
use crate::call::{blocking, blocking_write};
use crate::dto::{ItemAmountIn, ListOut, PaymentIn, PaymentOut, TargetIn};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::state::AppState;

/// Parses an application rule name.
pub(crate) fn rule(field: &str, text: Option<String>) -> Result<Option<Rule>, ApiError> {
    text.map(|r| {
        Rule::parse(&r)
            .ok_or_else(|| ApiError::invalid(field, "proration, sequential or net_first"))
    })
    .transpose()
}

/// Parses per-item amounts.
pub(crate) fn item_amounts(
    field: &str,
    items: Option<Vec<ItemAmountIn>>,
) -> Result<Option<Vec<ItemAmountInput>>, ApiError> {
    let Some(items) = items else { return Ok(None) };
    if items.len() > settle_core::document::MAX_ITEMS {
        return Err(ApiError::invalid(field, "at most 1000 items"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(idx, item)| {
            let item_id = ItemId::parse(&item.item_id).ok_or_else(|| {
                ApiError::invalid(format!("{field}[{idx}].item_id"), "not an item id")
            })?;
            let credit_memo_item_id = item
                .credit_memo_item_id
                .map(|c| {
                    ItemId::parse(&c).ok_or_else(|| {
                        ApiError::invalid(
                            format!("{field}[{idx}].credit_memo_item_id"),
                            "not an item id",
                        )
                    })
                })
                .transpose()?;
            Ok(ItemAmountInput { item_id, amount: item.amount.0, credit_memo_item_id })
        })
        .collect::<Result<Vec<_>, ApiError>>()
        .map(Some)
}

/// Parses an application target.
pub(crate) fn target(field: &str, target: TargetIn) -> Result<ApplicationTarget, ApiError> {
    Ok(ApplicationTarget {
        target_id: parse_id(&target.target_id, DocumentId::parse, "document")?,
        amount: target.amount.map(|a| a.0),
        items: item_amounts(&format!("{field}.items"), target.items)?,
        rule: rule(&format!("{field}.rule"), target.rule)?,
    })
}

/// `POST /v1/payments`.
#[utoipa::path(
    operation_id = "create_payment",
    post,
    path = "/v1/payments",
    tag = "payments",
    summary = "Record a payment",
    description = "`{customer_id, amount, method: \"cash\"|\"check\"|\"card\"|\"ach\"|\"other\", \
        reference?, effective_date?, applications?: [{target_id, amount? | items?, rule?}]}` → \
        payment. Collect-and-apply in one call: each application target is applied as by \
        `POST /v1/applications` (at most 100; without `amount` and `items`, the largest allowed \
        amount), and errors inside one name its full path (`applications[0].amount`). A \
        negative payment must be applied in full in the same call \
        (`negative_payment_unapplied` otherwise), so `unapplied` is never negative.",
    request_body = PaymentIn,
    responses(
        (status = 201, description = "The payment.", body = PaymentOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "currency_mismatch, customer_mismatch, \
            document_not_posted, document_voided, over_application, insufficient_unapplied, \
            amount_out_of_range, negative_payment_unapplied"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<PaymentIn>,
) -> Result<Response, ApiError> {
    let customer_id = parse_id(&body.customer_id, CustomerId::parse, "customer")?;
    let method = PaymentMethod::parse(&body.method)
        .ok_or_else(|| ApiError::invalid("method", "one of cash, check, card, ach, other"))?;
    if body.applications.len() > 100 {
        return Err(ApiError::invalid("applications", "at most 100"));
    }
    let applications = body
        .applications
        .into_iter()
        .enumerate()
        .map(|(idx, t)| target(&format!("applications[{idx}]"), t))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let new = NewPayment {
        customer_id,
        amount: body.amount.0,
        method,
        reference: body.reference,
        effective_date: body.effective_date.map(|d| d.0),
        applications,
        description: None,
    };
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.record_payment(&caller.tenant_id, new)
    })
    .await
}

/// `GET /v1/payments/{id}`.
#[utoipa::path(
    operation_id = "show_payment",
    get,
    path = "/v1/payments/{id}",
    tag = "payments",
    summary = "Retrieve a payment",
    description = "The payment `{id, customer_id, amount, applied, unapplied, method, reference, \
        status, effective_date}`.",
    params(("id" = String, Path, description = "The payment id (`pay_...`).")),
    responses((status = 200, description = "The payment.", body = PaymentOut))
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<PaymentOut>, ApiError> {
    let id = parse_id(&id, PaymentId::parse, "payment")?;
    let payment = blocking(&state, move |e| e.payment(&caller.tenant_id, &id)).await?;
    Ok(Json(PaymentOut::from(&payment)))
}

/// Query of `GET /v1/payments`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only this customer's payments (an id that cannot exist gives an empty list).
    customer_id: Option<String>,
    /// `true`: only payments with an unapplied amount.
    unapplied: Option<bool>,
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/payments`.
#[utoipa::path(
    operation_id = "list_payments",
    get,
    path = "/v1/payments",
    tag = "payments",
    summary = "List payments",
    description = "`?customer_id=&unapplied=true`. Newest first.",
    params(ListQuery),
    responses((status = 200, description = "A page of payments.", body = ListOut<PaymentOut>))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<ListOut<PaymentOut>>, ApiError> {
    let customer_id = match query.customer_id {
        Some(text) => match CustomerId::parse(&text) {
            Some(id) => Some(id),
            None => {
                return Ok(Json(ListOut { object: "list", data: Vec::new(), next_cursor: None }));
            }
        },
        None => None,
    };
    let page = page_request(query.limit, query.cursor)?;
    let payment_query =
        PaymentQuery { customer_id, unapplied_only: query.unapplied.unwrap_or(false) };
    let got =
        blocking(&state, move |e| e.payments(&caller.tenant_id, &payment_query, &page)).await?;
    Ok(Json(list_out(&got, |r| PaymentOut::from(r))))
}
