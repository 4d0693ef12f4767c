//! `/v1/api-keys`: admins make and revoke their tenant's keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use settle_store::Role;

use crate::call::{blocking, blocking_write};
use crate::dto::{ApiKeyIn, ApiKeyOut, RevokedOut};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;

fn admin_only(caller: &settle_engine::Principal) -> Result<(), ApiError> {
    if caller.role == Role::Admin { Ok(()) } else { Err(ApiError::forbidden()) }
}

#[utoipa::path(
    post,
    path = "/v1/api-keys",
    tag = "api-keys",
    summary = "Create an API key",
    description = "`{role, name?}` → `{id, key, role}` (admin only). The key has the prefix \
        `sk_settle_` and over 128 random bits; only its SHA-256 is stored, so `key` is shown \
        only in this answer.",
    request_body = ApiKeyIn,
    responses(
        (status = 201, description = "The new key.", body = ApiKeyOut),
        (status = 403, description = "forbidden: only admin keys manage keys"),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<ApiKeyIn>,
) -> Result<Response, ApiError> {
    admin_only(&caller)?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::invalid("role", "admin, clerk or viewer"))?;
    let name = body.name;
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.create_api_key(&caller.tenant_id, role, name)
    })
    .await
}

#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    tag = "api-keys",
    summary = "Revoke an API key",
    description = "Revokes one of the tenant's keys (admin only); it is refused from the next \
        request on. Another tenant's key, an unknown key and a revoked key are not found.",
    params(("id" = String, Path, description = "The key id (`key_...`).")),
    responses(
        (status = 200, description = "The key is revoked.", body = RevokedOut),
        (status = 403, description = "forbidden: only admin keys manage keys"),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<RevokedOut>, ApiError> {
    admin_only(&caller)?;
    let key_id = id.clone();
    blocking(&state, move |e| e.revoke_api_key(&caller.tenant_id, &key_id)).await?;
    Ok(Json(RevokedOut { id, object: "api_key", revoked: true }))
}
