//! `/v1/customers`: create, read, change, list, history and entries.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use settle_core::ids::CustomerId;
use settle_core::payment::PaymentMethod;
use settle_engine::{CustomerPatch, EntryKind, NewCustomer, NewEntry};
use settle_store::{CustomerQuery, CustomerSort};
use utoipa::IntoParams;

use super::{list_out, page_request, parse_id};
use crate::call::{blocking, blocking_write};
use crate::dto::{
    CustomerIn, CustomerOut, CustomerPatchIn, DateIn, EntryIn, EntryOut, HistoryOut, ListOut,
};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::state::AppState;

/// `POST /v1/customers`.
#[utoipa::path(
    operation_id = "create_customer",
    post,
    path = "/v1/customers",
    tag = "customers",
    summary = "Create a customer",
    description = "`{name, email?, currency?, payment_terms_days?, metadata?}` → customer. \
        `currency` defaults to the tenant's `default_currency`; `payment_terms_days` defaults \
        to 30 (due date = invoice date + terms unless a due date is given).",
    request_body = CustomerIn,
    responses((status = 201, description = "The customer.", body = CustomerOut))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<CustomerIn>,
) -> Result<Response, ApiError> {
    let new = NewCustomer {
        name: body.name,
        email: body.email,
        currency: body.currency,
        payment_terms_days: body.payment_terms_days,
        metadata: body.metadata.map(|m| m.0),
    };
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.create_customer(&caller.tenant_id, new)
    })
    .await
}

/// Query of `GET /v1/customers`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Matches name or email (case-insensitive substring); at most 1024 characters.
    search: Option<String>,
    /// `name`, `-name`, `balance`, `-balance`, `created`, `-created`; default `-created`
    /// (newest first).
    #[param(schema_with = crate::schema::customer_sort)]
    sort: Option<String>,
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/customers`.
#[utoipa::path(
    operation_id = "list_customers",
    get,
    path = "/v1/customers",
    tag = "customers",
    summary = "List customers",
    description = "`search` matches name or email (case insensitive substring); `sort` is \
        `name`, `-name`, `balance`, `-balance`, `created`, `-created` (default `-created`, \
        newest first).",
    params(ListQuery),
    responses((status = 200, description = "A page of customers.", body = ListOut<CustomerOut>))
)]
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

/// Query of `GET /v1/customers/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ShowQuery {
    /// `YYYY-MM-DD`: the balance fields as they stood at the end of this effective date,
    /// from the journal; absent, the balances now.
    #[param(schema_with = crate::schema::date)]
    as_of: Option<DateIn>,
}

/// `GET /v1/customers/{id}`.
#[utoipa::path(
    operation_id = "show_customer",
    get,
    path = "/v1/customers/{id}",
    tag = "customers",
    summary = "Retrieve a customer",
    description = "The customer with its balances. `balance = available_credit − receivable`: \
        negative means the customer owes. With `?as_of=YYYY-MM-DD` the balance fields (`balance`, \
        `receivable`, `unapplied_payments`, `credit_memo_balance`, `credit_balance`, \
        `available_credit`) are as they stood at the end of that effective date: the fold of \
        the customer's postings of journal transactions effective on or before it.",
    params(("id" = String, Path, description = "The customer id (`cus_...`)."), ShowQuery),
    responses((status = 200, description = "The customer.", body = CustomerOut))
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<ShowQuery>,
) -> Result<Json<CustomerOut>, ApiError> {
    let id = parse_id(&id, CustomerId::parse, "customer")?;
    let customer = match query.as_of {
        Some(DateIn(as_of)) => {
            blocking(&state, move |e| e.customer_as_of(&caller.tenant_id, &id, as_of)).await?
        }
        None => blocking(&state, move |e| e.customer(&caller.tenant_id, &id)).await?,
    };
    Ok(Json(CustomerOut::from(&customer)))
}

/// `PATCH /v1/customers/{id}`.
#[utoipa::path(
    operation_id = "update_customer",
    patch,
    path = "/v1/customers/{id}",
    tag = "customers",
    summary = "Update a customer",
    description = "`{name?, email?, payment_terms_days?, metadata?}`; only the given fields \
        change; `email: null` clears the email. The currency cannot change.",
    params(("id" = String, Path, description = "The customer id (`cus_...`).")),
    request_body = CustomerPatchIn,
    responses((status = 200, description = "The customer.", body = CustomerOut))
)]
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

/// `limit` and `cursor` of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/customers/{id}/history`.
#[utoipa::path(
    operation_id = "customer_history",
    get,
    path = "/v1/customers/{id}/history",
    tag = "customers",
    summary = "A customer's balance history",
    description = "Newest first: `{id, effective_date, kind, description, amount, \
        balance_after, document_id}`; `amount` is signed like the balance (a charge of 150 is \
        `\"-150.00\"`, a payment of 100 is `\"100.00\"`). Applications, nettings and transfers \
        do not change the balance and are not history lines (they are in the journal).",
    params(("id" = String, Path, description = "The customer id (`cus_...`)."), PageQuery),
    responses((status = 200, description = "A page of history lines.", body = ListOut<HistoryOut>))
)]
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

/// `POST /v1/customers/{id}/entries`.
#[utoipa::path(
    operation_id = "add_customer_entry",
    post,
    path = "/v1/customers/{id}/entries",
    tag = "customers",
    summary = "Add a charge or credit entry",
    description = "`{kind: \"charge\"|\"credit\", amount, description, payment_method?, notes?, \
        effective_date?}` → `{entry, document}`. A charge makes a posted invoice; a credit \
        makes a payment when `payment_method` is given, a posted credit memo otherwise \
        (`document` is that invoice, credit memo or payment). `amount` is positive.",
    params(("id" = String, Path, description = "The customer id (`cus_...`).")),
    request_body = EntryIn,
    responses(
        (status = 201, description = "The history line and what it made.", body = EntryOut),
        (status = 422, description = "amount_out_of_range"),
    )
)]
pub(crate) async fn add_entry(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EntryIn>,
) -> Result<Response, ApiError> {
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
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.add_entry(&caller.tenant_id, &id, new)
    })
    .await
}
