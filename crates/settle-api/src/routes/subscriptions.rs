//! The catalog (`/v1/products`, `/v1/prices`), subscriptions with their amendments and the
//! preview of one, and bill runs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use settle_core::ids::{
    BillRunId, CustomerId, PriceId, ProductId, SubscriptionId, SubscriptionItemId,
};
use settle_core::subscription::{SubscriptionStatus, Timing};
use settle_engine::{
    NewAmendment, NewChange, NewPrice, NewProduct, NewSubscription, NewSubscriptionItem,
};
use settle_store::SubscriptionQuery;
use utoipa::IntoParams;

use super::{list_out, page_request, parse_id};
use crate::call::{DryRun, blocking, blocking_write, write_or_preview};
use crate::dto::{
    AmendmentIn, AmendmentOutcomeOut, AmendmentPreviewOut, BillRunIn, BillRunOut, CancelIn,
    ChangeIn, ListOut, PreviewOut, PriceIn, PriceOut, ProductIn, ProductOut, SubscriptionIn,
    SubscriptionOut,
};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::state::AppState;

/// Paging of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn id_in<T>(
    field: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, ApiError> {
    parse(text).ok_or_else(|| ApiError::invalid(field, format!("not a {what} id")))
}

/// `POST /v1/products`.
#[utoipa::path(
    operation_id = "create_product",
    post,
    path = "/v1/products",
    tag = "subscriptions",
    summary = "Create a product",
    description = "`{name, description?}` → product (`prod_`). Its name names invoice lines.",
    request_body = ProductIn,
    responses(
        (status = 201, description = "The product.", body = ProductOut),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn create_product(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<ProductIn>,
) -> Result<Response, ApiError> {
    let new = NewProduct { name: body.name, description: body.description };
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.create_product(&caller.tenant_id, new)
    })
    .await
}

/// `GET /v1/products`.
#[utoipa::path(
    operation_id = "list_products",
    get,
    path = "/v1/products",
    tag = "subscriptions",
    summary = "List products",
    description = "By id.",
    params(PageQuery),
    responses((status = 200, description = "A page of products.", body = ListOut<ProductOut>))
)]
pub(crate) async fn list_products(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<ListOut<ProductOut>>, ApiError> {
    let page = page_request(query.limit, query.cursor)?;
    let got = blocking(&state, move |e| e.products(&caller.tenant_id, &page)).await?;
    Ok(Json(list_out(&got, |p| ProductOut::from(p))))
}

/// `GET /v1/products/{id}`.
#[utoipa::path(
    operation_id = "get_product",
    get,
    path = "/v1/products/{id}",
    tag = "subscriptions",
    summary = "Get a product",
    params(("id" = String, Path, description = "The product id (`prod_...`).")),
    responses(
        (status = 200, description = "The product.", body = ProductOut),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn show_product(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<ProductOut>, ApiError> {
    let id = parse_id(&id, ProductId::parse, "product")?;
    let product = blocking(&state, move |e| e.product(&caller.tenant_id, &id)).await?;
    Ok(Json(ProductOut::from(&product)))
}

/// `POST /v1/prices`.
#[utoipa::path(
    operation_id = "create_price",
    post,
    path = "/v1/prices",
    tag = "subscriptions",
    summary = "Create a price",
    description = "`{product_id, currency, unit_amount, recurring?: {interval: \
        \"month\"|\"year\", interval_count?}, tax_rate?}` → price (`price_`). No `recurring` \
        is a one-time price, invoiced once on the first invoice of a subscription (or of the \
        period an item with it is added in). `unit_amount` is per unit: a line is quantity × \
        unit_amount, half away from zero. Prices never change; archive one to stop it \
        starting new subscriptions.",
    request_body = PriceIn,
    responses(
        (status = 201, description = "The price.", body = PriceOut),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn create_price(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<PriceIn>,
) -> Result<Response, ApiError> {
    let new = NewPrice {
        product_id: id_in("product_id", &body.product_id, ProductId::parse, "product")?,
        currency: body.currency,
        unit_amount: body.unit_amount.0,
        recurring: body.recurring.map(|r| (r.interval, r.interval_count)),
        tax_rate: body.tax_rate.map(|r| r.0),
    };
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.create_price(&caller.tenant_id, new)
    })
    .await
}

/// Query of `GET /v1/prices`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PricesQuery {
    /// Only this product's prices.
    product_id: Option<String>,
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/prices`.
#[utoipa::path(
    operation_id = "list_prices",
    get,
    path = "/v1/prices",
    tag = "subscriptions",
    summary = "List prices",
    description = "`?product_id=`. By id, archived ones included (`active: false`).",
    params(PricesQuery),
    responses((status = 200, description = "A page of prices.", body = ListOut<PriceOut>))
)]
pub(crate) async fn list_prices(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<PricesQuery>,
) -> Result<Json<ListOut<PriceOut>>, ApiError> {
    let page = page_request(query.limit, query.cursor)?;
    let product = match query.product_id {
        Some(text) => match ProductId::parse(&text) {
            Some(id) => Some(id),
            None => {
                return Ok(Json(ListOut { object: "list", data: Vec::new(), next_cursor: None }));
            }
        },
        None => None,
    };
    let got =
        blocking(&state, move |e| e.prices(&caller.tenant_id, product.as_ref(), &page)).await?;
    Ok(Json(list_out(&got, |p| PriceOut::from(p))))
}

/// `GET /v1/prices/{id}`.
#[utoipa::path(
    operation_id = "get_price",
    get,
    path = "/v1/prices/{id}",
    tag = "subscriptions",
    summary = "Get a price",
    params(("id" = String, Path, description = "The price id (`price_...`).")),
    responses(
        (status = 200, description = "The price.", body = PriceOut),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn show_price(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<PriceOut>, ApiError> {
    let id = parse_id(&id, PriceId::parse, "price")?;
    let price = blocking(&state, move |e| e.price(&caller.tenant_id, &id)).await?;
    Ok(Json(PriceOut::from(&price)))
}

/// `POST /v1/prices/{id}/archive`.
#[utoipa::path(
    operation_id = "archive_price",
    post,
    path = "/v1/prices/{id}/archive",
    tag = "subscriptions",
    summary = "Archive a price",
    description = "An archived price (`active: false`) cannot start a subscription or an \
        item, and keeps billing the subscriptions that have it. Archiving again changes \
        nothing.",
    params(("id" = String, Path, description = "The price id (`price_...`).")),
    responses(
        (status = 200, description = "The price.", body = PriceOut),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn archive_price(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, PriceId::parse, "price")?;
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::OK, move |e| {
        e.archive_price(&caller.tenant_id, &id)
    })
    .await
}

/// `POST /v1/subscriptions`.
#[utoipa::path(
    operation_id = "create_subscription",
    post,
    path = "/v1/subscriptions",
    tag = "subscriptions",
    summary = "Create a subscription",
    description = "`{customer_id, start_date?, items: [{price_id, quantity?}]}` → subscription \
        (`sub_`). The start date is the billing anchor: period k starts k periods after it \
        (a month after Jan 31 is the last day of February, then Mar 31). Billing is in \
        advance: a bill run on or after a period's start invoices it. Every price must be \
        active and in the customer's currency; the recurring ones share one period length; \
        at least one is recurring. Nothing is invoiced when it is created.",
    request_body = SubscriptionIn,
    responses(
        (status = 201, description = "The subscription.", body = SubscriptionOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "validation_error, currency_mismatch"),
    )
)]
pub(crate) async fn create_subscription(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<SubscriptionIn>,
) -> Result<Response, ApiError> {
    let items = body
        .items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let field = format!("items[{i}].price_id");
            Ok(NewSubscriptionItem {
                price_id: id_in(&field, &item.price_id, PriceId::parse, "price")?,
                quantity: item.quantity.map(|q| q.0),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let new = NewSubscription {
        customer_id: parse_id(&body.customer_id, CustomerId::parse, "customer")?,
        start_date: body.start_date.map(|d| d.0),
        items,
    };
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.create_subscription(&caller.tenant_id, new)
    })
    .await
}

/// Query of `GET /v1/subscriptions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SubscriptionsQuery {
    /// Only this customer's.
    customer_id: Option<String>,
    /// `active` or `canceled`.
    status: Option<String>,
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /v1/subscriptions`.
#[utoipa::path(
    operation_id = "list_subscriptions",
    get,
    path = "/v1/subscriptions",
    tag = "subscriptions",
    summary = "List subscriptions",
    description = "`?customer_id=&status=active|canceled`. By id.",
    params(SubscriptionsQuery),
    responses(
        (status = 200, description = "A page of subscriptions.", body = ListOut<SubscriptionOut>),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn list_subscriptions(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<SubscriptionsQuery>,
) -> Result<Json<ListOut<SubscriptionOut>>, ApiError> {
    let page = page_request(query.limit, query.cursor)?;
    let status = query
        .status
        .map(|s| {
            SubscriptionStatus::parse(&s)
                .ok_or_else(|| ApiError::invalid("status", "active or canceled"))
        })
        .transpose()?;
    let customer_id = match query.customer_id {
        Some(text) => match CustomerId::parse(&text) {
            Some(id) => Some(id),
            None => {
                return Ok(Json(ListOut { object: "list", data: Vec::new(), next_cursor: None }));
            }
        },
        None => None,
    };
    let filter = SubscriptionQuery { customer_id, status };
    let got = blocking(&state, move |e| e.subscriptions(&caller.tenant_id, &filter, &page)).await?;
    Ok(Json(list_out(&got, |s| SubscriptionOut::from(s))))
}

/// `GET /v1/subscriptions/{id}`.
#[utoipa::path(
    operation_id = "get_subscription",
    get,
    path = "/v1/subscriptions/{id}",
    tag = "subscriptions",
    summary = "Get a subscription",
    description = "With its current period and items as of today in the tenant's time zone.",
    params(("id" = String, Path, description = "The subscription id (`sub_...`).")),
    responses(
        (status = 200, description = "The subscription.", body = SubscriptionOut),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn show_subscription(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionOut>, ApiError> {
    let id = parse_id(&id, SubscriptionId::parse, "subscription")?;
    let view = blocking(&state, move |e| e.subscription(&caller.tenant_id, &id)).await?;
    Ok(Json(SubscriptionOut::from(&view)))
}

fn timing(text: Option<&str>) -> Result<Timing, ApiError> {
    match text {
        None => Ok(Timing::Immediate),
        Some(t) => Timing::parse(t)
            .ok_or_else(|| ApiError::invalid("timing", "immediate or end_of_period")),
    }
}

fn amendment(
    effective_date: Option<chrono::NaiveDate>,
    timing: Timing,
    changes: Vec<ChangeIn>,
) -> Result<NewAmendment, ApiError> {
    let changes = changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let item_id = c
                .item_id
                .map(|t| {
                    id_in(
                        &format!("changes[{i}].item_id"),
                        &t,
                        SubscriptionItemId::parse,
                        "subscription item",
                    )
                })
                .transpose()?;
            let price_id = c
                .price_id
                .map(|t| id_in(&format!("changes[{i}].price_id"), &t, PriceId::parse, "price"))
                .transpose()?;
            Ok(NewChange { kind: c.kind, item_id, price_id, quantity: c.quantity.map(|q| q.0) })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(NewAmendment { effective_date, timing, changes })
}

/// `POST /v1/subscriptions/{id}/amendments`.
#[utoipa::path(
    operation_id = "amend_subscription",
    post,
    path = "/v1/subscriptions/{id}/amendments",
    tag = "subscriptions",
    summary = "Amend a subscription",
    description = "`{effective_date?, timing?: \"immediate\"|\"end_of_period\", changes: \
        [{type: \"add_item\"|\"remove_item\"|\"change_quantity\"|\"change_price\"|\"cancel\", \
        item_id?, price_id?, quantity?}]}` → `{amendment, subscription, invoice}`. An \
        immediate amendment inside an invoiced period invoices at once: per item that ends, a \
        negative item of `amount × days_left / days_in_period` (days on `[effective_date, \
        period_end)`, half away from zero) naming the invoice item it credits in \
        `invoice_item_id` (the API's `credits_item_id`), capped by what is still creditable \
        on it; per item that starts, a positive item for the rest of the period; taxes \
        prorated per tax item. The invoice may be negative: the tenant's \
        `negative_invoice_policy` then applies. In a period not yet invoiced, the next bill \
        run invoices each price for its days instead. `end_of_period` takes effect at the \
        end of the period containing `effective_date`, with no proration. An immediate \
        amendment may not go back before the last invoiced period. `?dry_run=true` answers \
        the balances it would move (see `GET .../preview` for the invoice).",
    params(("id" = String, Path, description = "The subscription id (`sub_...`)."), DryRun),
    request_body = AmendmentIn,
    responses(
        (status = 201, description = "The amendment, subscription and invoice.", body = AmendmentOutcomeOut),
        (status = 200, description = "With `?dry_run=true`: the preview.", body = PreviewOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "validation_error, over_credit, amount_out_of_range"),
    )
)]
pub(crate) async fn amend(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    QueryParams(dry_run): QueryParams<DryRun>,
    JsonBody(body): JsonBody<AmendmentIn>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, SubscriptionId::parse, "subscription")?;
    let new =
        amendment(body.effective_date.map(|d| d.0), timing(body.timing.as_deref())?, body.changes)?;
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::CREATED, dry_run, move |e| {
        e.amend_subscription(&caller.tenant_id, &id, new)
    })
    .await
}

/// `POST /v1/subscriptions/{id}/cancel`.
#[utoipa::path(
    operation_id = "cancel_subscription",
    post,
    path = "/v1/subscriptions/{id}/cancel",
    tag = "subscriptions",
    summary = "Cancel a subscription",
    description = "`{effective_date?, at_period_end?}` → `{amendment, subscription, invoice}`: \
        an amendment with one `cancel` change, immediate (prorated when that period is \
        invoiced) or at the end of the period containing `effective_date`.",
    params(("id" = String, Path, description = "The subscription id (`sub_...`)."), DryRun),
    request_body = CancelIn,
    responses(
        (status = 201, description = "The amendment, subscription and invoice.", body = AmendmentOutcomeOut),
        (status = 200, description = "With `?dry_run=true`: the preview.", body = PreviewOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    QueryParams(dry_run): QueryParams<DryRun>,
    JsonBody(body): JsonBody<CancelIn>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, SubscriptionId::parse, "subscription")?;
    let date = body.effective_date.map(|d| d.0);
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::CREATED, dry_run, move |e| {
        e.cancel_subscription(&caller.tenant_id, &id, date, body.at_period_end)
    })
    .await
}

/// Query of `GET /v1/subscriptions/{id}/preview`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PreviewQuery {
    /// `YYYY-MM-DD`; default today.
    effective_date: Option<String>,
    /// `immediate` (default) or `end_of_period`.
    timing: Option<String>,
    /// The changes as a JSON array, as in the amendment's body.
    changes: String,
}

/// `GET /v1/subscriptions/{id}/preview`.
#[utoipa::path(
    operation_id = "preview_amendment",
    get,
    path = "/v1/subscriptions/{id}/preview",
    tag = "subscriptions",
    summary = "Preview an amendment",
    description = "`?effective_date=&timing=&changes=[...]` (the changes as URL-encoded JSON) \
        → `{amendment, subscription, invoice, preview}`: what the amendment would make, \
        computed by the same command and rolled back. Nothing is written; ids are not those a \
        real request makes.",
    params(("id" = String, Path, description = "The subscription id (`sub_...`)."), PreviewQuery),
    responses(
        (status = 200, description = "What the amendment would do.", body = AmendmentPreviewOut),
        (status = 404, description = "not_found"),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn preview(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<PreviewQuery>,
) -> Result<Json<AmendmentPreviewOut>, ApiError> {
    let id = parse_id(&id, SubscriptionId::parse, "subscription")?;
    let date = query
        .effective_date
        .map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| ApiError::invalid("effective_date", "a date YYYY-MM-DD"))
        })
        .transpose()?;
    let changes: Vec<ChangeIn> = serde_json::from_str(&query.changes)
        .map_err(|e| ApiError::invalid("changes", format!("a JSON array of changes: {e}")))?;
    let new = amendment(date, timing(query.timing.as_deref())?, changes)?;
    let (outcome, preview) =
        blocking(&state, move |e| e.preview_amendment(&caller.tenant_id, &id, new)).await?;
    let out = AmendmentOutcomeOut::from(&outcome);
    Ok(Json(AmendmentPreviewOut {
        amendment: out.amendment,
        subscription: out.subscription,
        invoice: out.invoice,
        preview: PreviewOut::from(&preview),
    }))
}

/// `POST /v1/bill-runs`.
#[utoipa::path(
    operation_id = "create_bill_run",
    post,
    path = "/v1/bill-runs",
    tag = "subscriptions",
    summary = "Run a bill run",
    description = "`{as_of, customer_ids?}` → bill run: invoices every period that started on \
        or before `as_of` and is not yet invoiced, for every customer with one due (or the \
        listed customers), one invoice per subscription and period, posted (policies run). \
        Each customer is billed in its own transaction: a refused one is rolled back alone \
        and listed in `failures`. Exactly once: running it again, or two at once, never \
        invoices a period twice; a run stopped half way is finished by running it again. \
        The answer comes when the run is done.",
    request_body = BillRunIn,
    responses(
        (status = 201, description = "The bill run.", body = BillRunOut),
        (status = 422, description = "validation_error"),
    )
)]
pub(crate) async fn create_bill_run(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<BillRunIn>,
) -> Result<Response, ApiError> {
    let customers = body
        .customer_ids
        .map(|ids| {
            ids.iter()
                .enumerate()
                .map(|(i, t)| {
                    id_in(&format!("customer_ids[{i}]"), t, CustomerId::parse, "customer")
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?;
    let as_of = body.as_of.0;
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.bill_run(&caller.tenant_id, as_of, customers)
    })
    .await
}

/// `GET /v1/bill-runs/{id}`.
#[utoipa::path(
    operation_id = "get_bill_run",
    get,
    path = "/v1/bill-runs/{id}",
    tag = "subscriptions",
    summary = "Get a bill run",
    description = "Its progress (`customers_done` of `customers_total`) and results.",
    params(("id" = String, Path, description = "The bill run id (`br_...`).")),
    responses(
        (status = 200, description = "The bill run.", body = BillRunOut),
        (status = 404, description = "not_found"),
    )
)]
pub(crate) async fn show_bill_run(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<BillRunOut>, ApiError> {
    let id = parse_id(&id, BillRunId::parse, "bill run")?;
    let run = blocking(&state, move |e| e.bill_run_record(&caller.tenant_id, &id)).await?;
    Ok(Json(BillRunOut::from(&run)))
}
