//! `/v1/customers`: create, read, change, list, history and entries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use settle_core::ids::CustomerId;
use settle_core::payment::PaymentMethod;
use settle_engine::{CustomerPatch, EntryKind, EntryOutcome, NewCustomer, NewEntry};
use settle_store::{CustomerQuery, CustomerSort};

use super::{list_out, page_request, parse_id};
use crate::dto::{
    CustomerIn, CustomerOut, CustomerPatchIn, DocumentOut, EntryIn, EntryOut, HistoryOut, ListOut,
    PaymentOut,
};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::{AppState, blocking};

pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<CustomerIn>,
) -> Result<(StatusCode, Json<CustomerOut>), ApiError> {
    let new = NewCustomer {
        name: body.name,
        email: body.email,
        currency: body.currency,
        payment_terms_days: body.payment_terms_days,
        metadata: body.metadata.map(|m| m.0),
    };
    let customer = blocking(&state, move |e| e.create_customer(&caller.tenant_id, new)).await?;
    Ok((StatusCode::CREATED, Json(CustomerOut::from(&customer))))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    search: Option<String>,
    sort: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<ListOut<CustomerOut>>, ApiError> {
    let sort = match query.sort.as_deref() {
        None | Some("-created") => CustomerSort::CreatedDesc,
        Some("created") => CustomerSort::Created,
        Some("name") => CustomerSort::Name,
        Some("-name") => CustomerSort::NameDesc,
        Some("balance") => CustomerSort::Balance,
        Some("-balance") => CustomerSort::BalanceDesc,
        Some(_) => {
            return Err(ApiError::invalid(
                "sort",
                "one of name, -name, balance, -balance, created, -created",
            ));
        }
    };
    let search = query.search.filter(|s| !s.trim().is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 1024) {
        return Err(ApiError::invalid("search", "at most 1024 characters"));
    }
    let page = page_request(query.limit, query.cursor)?;
    let customer_query = CustomerQuery { search: search.map(|s| s.trim().to_owned()), sort };
    let got =
        blocking(&state, move |e| e.customers(&caller.tenant_id, &customer_query, &page)).await?;
    Ok(Json(list_out(&got, |r| CustomerOut::from(r))))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<CustomerOut>, ApiError> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let customer = blocking(&state, move |e| e.customer(&caller.tenant_id, &id)).await?;
    Ok(Json(CustomerOut::from(&customer)))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CustomerPatchIn>,
) -> Result<Json<CustomerOut>, ApiError> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let patch = CustomerPatch {
        name: body.name,
        email: body.email,
        payment_terms_days: body.payment_terms_days,
        metadata: body.metadata.map(|m| m.0),
    };
    let customer =
        blocking(&state, move |e| e.update_customer(&caller.tenant_id, &id, patch)).await?;
    Ok(Json(CustomerOut::from(&customer)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(crate) async fn history(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<ListOut<HistoryOut>>, ApiError> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let page = page_request(query.limit, query.cursor)?;
    let got = blocking(&state, move |e| e.history(&caller.tenant_id, &id, &page)).await?;
    Ok(Json(list_out(&got, |r| HistoryOut::from(r))))
}

pub(crate) async fn add_entry(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EntryIn>,
) -> Result<(StatusCode, Json<EntryOut>), ApiError> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let kind = match body.kind.as_str() {
        "charge" => EntryKind::Charge,
        "credit" => EntryKind::Credit,
        _ => return Err(ApiError::invalid("kind", "charge or credit")),
    };
    let payment_method = body
        .payment_method
        .map(|m| {
            PaymentMethod::parse(&m).ok_or_else(|| {
                ApiError::invalid("payment_method", "one of cash, check, card, ach, other")
            })
        })
        .transpose()?;
    let new = NewEntry {
        kind,
        amount: body.amount.0,
        description: body.description,
        payment_method,
        notes: body.notes,
        effective_date: body.effective_date.map(|d| d.0),
    };
    let (line, outcome) =
        blocking(&state, move |e| e.add_entry(&caller.tenant_id, &id, new)).await?;
    let document = match &outcome {
        EntryOutcome::Document(d) => serde_json::to_value(DocumentOut::from(d)),
        EntryOutcome::Payment(p) => serde_json::to_value(PaymentOut::from(p)),
    }
    .map_err(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
    })?;
    Ok((StatusCode::CREATED, Json(EntryOut { entry: HistoryOut::from(&line), document })))
}
