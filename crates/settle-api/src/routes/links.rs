//! Payment links of a customer: make one (its URL and token are shown once), list them without
//! tokens, revoke one. The public page behind a link is the back office's, not the API's.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::call::{blocking, blocking_write};
use crate::dto::{PaymentLinkCreatedOut, PaymentLinkIn, PaymentLinkOut, PaymentLinksOut, instant};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;

/// `POST /v1/customers/{id}/payment-links`.
#[utoipa::path(
    operation_id = "create_payment_link",
    post,
    path = "/v1/customers/{id}/payment-links",
    tag = "payment-links",
    summary = "Create a payment link",
    description = "`{expires_at?}` → `{id, url, token, expires_at, created_at}` (clerk or \
        admin). `url` is the server's public base URL + `/pay/` + `token`: a read-only page of \
        this customer's balance, open documents and recent history, for the customer. The \
        token has over 256 random bits and only its SHA-256 is stored, so `token` and `url` \
        are shown only in this answer. `expires_at` (RFC 3339) must be in the future; \
        without it the link works until revoked.",
    params(("id" = String, Path, description = "The customer id (`cus_...`).")),
    request_body = PaymentLinkIn,
    responses(
        (status = 201, description = "The new link.", body = PaymentLinkCreatedOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PaymentLinkIn>,
) -> Result<Response, ApiError> {
    let expires_at = body
        .expires_at
        .map(|text| {
            instant(&text).ok_or_else(|| {
                ApiError::invalid("expires_at", "an RFC 3339 time such as 2026-04-01T00:00:00Z")
            })
        })
        .transpose()?;
    blocking_write(&state, StatusCode::CREATED, move |e| {
        e.create_payment_link(&caller.tenant_id, &id, expires_at)
    })
    .await
}

/// `GET /v1/customers/{id}/payment-links`.
#[utoipa::path(
    operation_id = "list_payment_links",
    get,
    path = "/v1/customers/{id}/payment-links",
    tag = "payment-links",
    summary = "List a customer's payment links",
    description = "Every link of the customer, revoked and expired ones included, newest \
        first, never with its token: `{\"object\": \"list\", \"data\": [...]}`, all in one \
        answer (no paging: a customer has few links).",
    params(("id" = String, Path, description = "The customer id (`cus_...`).")),
    responses(
        (status = 200, description = "The links.", body = PaymentLinksOut),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<PaymentLinksOut>, ApiError> {
    let links = blocking(&state, move |e| e.payment_links(&caller.tenant_id, &id)).await?;
    let data = links.iter().map(PaymentLinkOut::from).collect();
    Ok(Json(PaymentLinksOut { object: "list", data }))
}

/// `DELETE /v1/payment-links/{id}`.
#[utoipa::path(
    operation_id = "revoke_payment_link",
    delete,
    path = "/v1/payment-links/{id}",
    tag = "payment-links",
    summary = "Revoke a payment link",
    description = "Revokes one of the tenant's links (clerk or admin); its page answers 404 \
        from the next request on. Another tenant's link, an unknown link and a revoked link \
        are not found.",
    params(("id" = String, Path, description = "The link id (`plink_...`).")),
    responses(
        (status = 204, description = "The link is revoked."),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |e| e.revoke_payment_link(&caller.tenant_id, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
