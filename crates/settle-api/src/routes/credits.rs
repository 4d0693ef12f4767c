//! Credit memos, refunds, payment voids, the credit balance and settings.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use settle_core::application::Rule;
use settle_core::document::DocumentKind;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId, ItemId, PaymentId};
use settle_core::money::Currency;
use settle_core::payment::PaymentMethod;
use settle_core::settings::NegativeInvoicePolicy;
use settle_engine::{NewCreditItem, NewCreditMemo, NewRefund, RefundFrom, SettingsPatch, TimeZone};

use super::parse_id;
use crate::call::{blocking, blocking_write};
use crate::dto::{
    CreditBalanceOut, CreditMemoIn, DocumentOut, PaymentOut, RefundIn, RefundOut, SettingsIn,
    SettingsOut,
};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;

fn memo_id(text: &str) -> Result<DocumentId, ApiError> {
    let id = parse_id(text, DocumentId::parse, "credit memo")?;
    if DocumentKind::of(&id) == DocumentKind::CreditMemo {
        Ok(id)
    } else {
        Err(ApiError::not_found("credit memo"))
    }
}

/// `POST /v1/credit-memos`.
#[utoipa::path(
    post,
    path = "/v1/credit-memos",
    tag = "credit-memos",
    summary = "Create a credit memo",
    description = "`{customer_id, items:[{description, amount, invoice_item_id?}], reason?, \
        from_invoice_id?, post?: bool, invoice_date?}` → credit memo (draft unless \
        `post: true`; a draft owes nothing and credits nothing until it is posted). Credit memo \
        items that name an invoice item take that item's sign and, with the credit adjustments \
        on it, never exceed its amount in size (`over_credit`).",
    request_body = CreditMemoIn,
    responses(
        (status = 201, description = "The credit memo.", body = DocumentOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "over_credit, currency_mismatch, customer_mismatch, \
            document_not_posted, document_voided, amount_out_of_range"),
    )
)]
pub(crate) async fn create_memo(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<CreditMemoIn>,
) -> Result<Response, ApiError> {
    let customer_id = parse_id(&body.customer_id, CustomerId::parse, "customer")?;
    let from_invoice_id =
        body.from_invoice_id.map(|id| parse_id(&id, DocumentId::parse, "invoice")).transpose()?;
    if body.items.len() > settle_core::document::MAX_ITEMS {
        return Err(ApiError::invalid("items", "at most 1000 items"));
    }
    let items = body
        .items
        .into_iter()
        .enumerate()
        .map(|(idx, item)| {
            Ok(NewCreditItem {
                description: item.description,
                amount: item.amount.0,
                invoice_item_id: item
                    .invoice_item_id
                    .map(|i| {
                        ItemId::parse(&i).ok_or_else(|| {
                            ApiError::invalid(
                                format!("items[{idx}].invoice_item_id"),
                                "not an item id",
                            )
                        })
                    })
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let new = NewCreditMemo {
        customer_id,
        items,
        reason: body.reason,
        from_invoice_id,
        post: body.post,
        invoice_date: body.invoice_date.map(|d| d.0),
    };
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.create_credit_memo(&caller.tenant_id, new)
    })
    .await
}

/// `POST /v1/credit-memos/{id}/cancel`.
#[utoipa::path(
    post,
    path = "/v1/credit-memos/{id}/cancel",
    tag = "credit-memos",
    summary = "Cancel a credit memo",
    description = "Cancels a credit memo; only with no live applications (`has_applications`).",
    params(("id" = String, Path, description = "The credit memo id (`cm_...`).")),
    responses(
        (status = 200, description = "The canceled credit memo.", body = DocumentOut),
        (status = 422, description = "has_applications, document_voided, amount_out_of_range"),
    )
)]
pub(crate) async fn cancel_memo(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = memo_id(&id)?;
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::OK, move |e| {
        e.cancel_credit_memo(&caller.tenant_id, &id)
    })
    .await
}

fn new_refund(body: RefundIn) -> Result<NewRefund, ApiError> {
    let method = body
        .method
        .map(|m| {
            PaymentMethod::parse(&m)
                .ok_or_else(|| ApiError::invalid("method", "one of cash, check, card, ach, other"))
        })
        .transpose()?;
    Ok(NewRefund {
        amount: body.amount.0,
        method,
        reference: body.reference,
        effective_date: body.effective_date.map(|d| d.0),
    })
}

async fn refund(
    state: AppState,
    caller: settle_engine::Principal,
    from: RefundFrom,
    body: RefundIn,
) -> Result<Response, ApiError> {
    let new = new_refund(body)?;
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.refund(&caller.tenant_id, from, new)
    })
    .await
}

/// `POST /v1/credit-memos/{id}/refunds`.
#[utoipa::path(
    post,
    path = "/v1/credit-memos/{id}/refunds",
    tag = "credit-memos",
    summary = "Refund from a credit memo",
    description = "`{amount, method?, reference?, effective_date?}` → refund: \
        pays out part or all of the credit memo's unapplied balance.",
    params(("id" = String, Path, description = "The credit memo id (`cm_...`).")),
    request_body = RefundIn,
    responses(
        (status = 201, description = "The refund.", body = RefundOut),
        (status = 422, description = "insufficient_unapplied, document_not_posted, \
            document_voided, amount_out_of_range"),
    )
)]
pub(crate) async fn refund_memo(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RefundIn>,
) -> Result<Response, ApiError> {
    let id = memo_id(&id)?;
    refund(state, caller, RefundFrom::CreditMemo(id), body).await
}

/// `POST /v1/payments/{id}/refunds`.
#[utoipa::path(
    post,
    path = "/v1/payments/{id}/refunds",
    tag = "payments",
    summary = "Refund from a payment",
    description = "`{amount, method?, reference?, effective_date?}` → refund: \
        pays out part or all of the payment's unapplied amount.",
    params(("id" = String, Path, description = "The payment id (`pay_...`).")),
    request_body = RefundIn,
    responses(
        (status = 201, description = "The refund.", body = RefundOut),
        (status = 422, description = "insufficient_unapplied, document_voided, \
            amount_out_of_range"),
    )
)]
pub(crate) async fn refund_payment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RefundIn>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, PaymentId::parse, "payment")?;
    refund(state, caller, RefundFrom::Payment(id), body).await
}

/// `POST /v1/customers/{id}/credit-balance/refunds`.
#[utoipa::path(
    post,
    path = "/v1/customers/{id}/credit-balance/refunds",
    tag = "credit-balance",
    summary = "Refund from the credit balance",
    description = "`{amount, method?, reference?, effective_date?}` → refund: \
        pays out part or all of the customer's credit balance.",
    params(("id" = String, Path, description = "The customer id (`cus_...`).")),
    request_body = RefundIn,
    responses(
        (status = 201, description = "The refund.", body = RefundOut),
        (status = 422, description = "insufficient_unapplied, amount_out_of_range"),
    )
)]
pub(crate) async fn refund_credit_balance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RefundIn>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    refund(state, caller, RefundFrom::CreditBalance(id), body).await
}

/// `POST /v1/payments/{id}/void`.
#[utoipa::path(
    post,
    path = "/v1/payments/{id}/void",
    tag = "payments",
    summary = "Void a payment",
    description = "Voids a payment; only with no live applications (`has_applications`).",
    params(("id" = String, Path, description = "The payment id (`pay_...`).")),
    responses(
        (status = 200, description = "The voided payment.", body = PaymentOut),
        (status = 422, description = "has_applications, document_voided, amount_out_of_range"),
    )
)]
pub(crate) async fn void_payment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, PaymentId::parse, "payment")?;
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::OK, move |e| {
        e.void_payment(&caller.tenant_id, &id)
    })
    .await
}

/// `GET /v1/customers/{id}/credit-balance`.
#[utoipa::path(
    get,
    path = "/v1/customers/{id}/credit-balance",
    tag = "credit-balance",
    summary = "A customer's credit balance",
    description = "→ `{amount}` (with `customer_id` and `currency`).",
    params(("id" = String, Path, description = "The customer id (`cus_...`).")),
    responses((status = 200, description = "The credit balance.", body = CreditBalanceOut))
)]
pub(crate) async fn credit_balance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<CreditBalanceOut>, ApiError> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let customer_id = id.to_string();
    let amount = blocking(&state, move |e| e.credit_balance(&caller.tenant_id, &id)).await?;
    Ok(Json(CreditBalanceOut {
        object: "credit_balance",
        customer_id,
        currency: amount.currency().code(),
        amount: amount.to_string(),
    }))
}

/// `GET /v1/settings`.
#[utoipa::path(
    get,
    path = "/v1/settings",
    tag = "settings",
    summary = "The tenant's settings",
    description = "`{default_currency, time_zone, application_rule, negative_invoice_policy: \
        \"keep\"|\"transfer_to_credit\"|\"transfer_and_apply\", auto_apply_credit: bool, \
        business_name}`. Defaults: `USD`, `UTC`, `net_first`, `keep`, `false`, `\"\"` (an \
        empty business name shows the tenant's name on the payment page).",
    responses((status = 200, description = "The settings.", body = SettingsOut))
)]
pub(crate) async fn show_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Json<SettingsOut>, ApiError> {
    let settings = blocking(&state, move |e| e.settings(&caller.tenant_id)).await?;
    Ok(Json(SettingsOut::from(&settings)))
}

/// `PATCH /v1/settings`.
#[utoipa::path(
    patch,
    path = "/v1/settings",
    tag = "settings",
    summary = "Change the tenant's settings",
    description = "Only the given fields change. Auto-apply (`auto_apply_credit`, and the \
        `transfer_and_apply` policy) pays open documents oldest due date first, then by \
        document number, using payments oldest first, then credit memos, then the credit \
        balance.",
    request_body = SettingsIn,
    responses((status = 200, description = "The settings.", body = SettingsOut))
)]
pub(crate) async fn update_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<SettingsIn>,
) -> Result<Json<SettingsOut>, ApiError> {
    if caller.role != settle_store::Role::Admin {
        return Err(ApiError::forbidden());
    }
    let application_rule = body
        .application_rule
        .map(|r| {
            Rule::parse(&r).ok_or_else(|| {
                ApiError::invalid("application_rule", "proration, sequential or net_first")
            })
        })
        .transpose()?;
    let negative_invoice_policy = body
        .negative_invoice_policy
        .map(|p| {
            NegativeInvoicePolicy::parse(&p).ok_or_else(|| {
                ApiError::invalid(
                    "negative_invoice_policy",
                    "keep, transfer_to_credit or transfer_and_apply",
                )
            })
        })
        .transpose()?;
    let default_currency = body
        .default_currency
        .map(|code| {
            Currency::parse(&code)
                .map_err(|e| ApiError::from(Rejection::money("default_currency", e)))
        })
        .transpose()?;
    let time_zone = body
        .time_zone
        .map(|zone| {
            TimeZone::parse(&zone).ok_or_else(|| {
                ApiError::invalid("time_zone", "an IANA time zone such as Europe/Paris")
            })
        })
        .transpose()?;
    let patch = SettingsPatch {
        default_currency,
        time_zone,
        application_rule,
        negative_invoice_policy,
        auto_apply_credit: body.auto_apply_credit,
        business_name: body.business_name,
    };
    let settings = blocking(&state, move |e| e.update_settings(&caller.tenant_id, patch)).await?;
    Ok(Json(SettingsOut::from(&settings)))
}
