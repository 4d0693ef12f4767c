//! The catalog (`/products`): every product with its prices, the forms that make a product
//! and a price, and Archive on each live price, through the same engine commands as
//! `POST /v1/products`, `POST /v1/prices` and the price's archive.

use std::str::FromStr;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use settle_core::ids::{PriceId, ProductId};
use settle_core::subscription::{Price, Product};
use settle_engine::{Amount, NewPrice, NewProduct, StaffSession};
use settle_store::PageRequest;

use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view;

/// Products (and prices) the catalog page reads; a catalog is small, so one page of each.
const CATALOG_SIZE: u32 = 200;

/// One price as the catalog and the subscription pages show it.
pub(crate) struct PriceRow {
    pub(crate) id: String,
    pub(crate) product_name: String,
    pub(crate) unit_amount: view::Amount,
    /// `per month`, `every 3 months`, `per year`, `one-time`.
    pub(crate) interval: String,
    /// `8.25%`, or empty.
    pub(crate) tax: String,
    pub(crate) archived: bool,
}

impl PriceRow {
    pub(crate) fn of(price: &Price) -> PriceRow {
        PriceRow {
            id: price.id.to_string(),
            product_name: price.product_name.clone(),
            unit_amount: view::Amount::plain(price.unit_amount),
            interval: interval_text(price),
            tax: price.tax_rate.map(|r| format!("{}%", r.normalize())).unwrap_or_default(),
            archived: price.archived,
        }
    }

    /// What a choice of this price reads (`Pro · $30.00 per month`).
    pub(crate) fn choice(&self) -> String {
        format!("{} · {} {}", self.product_name, self.unit_amount.text, self.interval)
    }
}

/// How often a price bills, in words.
pub(crate) fn interval_text(price: &Price) -> String {
    match price.recurring {
        None => "one-time".to_owned(),
        Some(r) if r.interval_count == 1 => format!("per {}", r.interval.name()),
        Some(r) => format!("every {} {}s", r.interval_count, r.interval.name()),
    }
}

/// One product with its prices.
pub(crate) struct ProductRow {
    id: String,
    name: String,
    description: String,
    prices: Vec<PriceRow>,
}

/// The catalog page.
#[derive(Template)]
#[template(path = "catalog.html")]
pub(crate) struct CatalogPage {
    nav: Option<Nav>,
    section: &'static str,
    products: Vec<ProductRow>,
    /// The default currency of a new price (the tenant's).
    currency: String,
    /// The form that was sent (`product` or `price`), with its fields and refusals.
    sent: &'static str,
    fields: Fields,
    errors: Errors,
    done: Option<&'static str>,
}

impl CatalogPage {
    /// The fields of `form` as sent, or empty ones for the other form.
    fn value(&self, form: &str, name: &str) -> &str {
        if self.sent == form { self.fields.get(name) } else { "" }
    }

    /// The refusal beside `name` in `form`.
    fn error(&self, form: &str, name: &str) -> Option<&str> {
        if self.sent == form { self.errors.get(name) } else { None }
    }
}

async fn page(
    state: &AppState,
    session: &StaffSession,
    sent: &'static str,
    fields: Fields,
    errors: Errors,
    done: Option<&'static str>,
) -> Result<CatalogPage, WebError> {
    let tenant_id = session.tenant_id.clone();
    let (products, prices, currency) = blocking(state, move |e| {
        let all = PageRequest { limit: CATALOG_SIZE, cursor: None };
        let products = e.products(&tenant_id, &all)?.rows;
        let prices = e.prices(&tenant_id, None, &all)?.rows;
        let currency = e.settings(&tenant_id)?.default_currency;
        Ok((products, prices, currency.code().to_owned()))
    })
    .await?;
    Ok(CatalogPage {
        nav: current_nav(),
        section: "catalog",
        products: products.iter().map(|p| product_row(p, &prices)).collect(),
        currency,
        sent,
        fields,
        errors,
        done,
    })
}

fn product_row(product: &Product, prices: &[Price]) -> ProductRow {
    ProductRow {
        id: product.id.to_string(),
        name: product.name.clone(),
        description: product.description.clone().unwrap_or_default(),
        prices: prices.iter().filter(|p| p.product_id == product.id).map(PriceRow::of).collect(),
    }
}

/// The one-line confirmation a redirect asks for (fixed texts only, nothing reflected).
fn confirmation(done: &str) -> Option<&'static str> {
    match done {
        "product" => Some("Product created."),
        "price" => Some("Price created."),
        "archived" => {
            Some("Price archived: it starts no new subscription and keeps billing the ones it has.")
        }
        _ => None,
    }
}

/// `GET /products?done=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let done = confirmation(query.get("done"));
    match page(&state, &session, "", Fields::default(), Errors::default(), done).await {
        Ok(page) => render(&page).into_response(),
        Err(err) => err.into_response(),
    }
}

/// The catalog again with the refusal beside its field in the form that was sent.
async fn refuse(
    state: &AppState,
    session: &StaffSession,
    sent: &'static str,
    fields: Fields,
    errors: Errors,
) -> Response {
    match page(state, session, sent, fields, errors, None).await {
        Ok(page) => refused(render(&page)),
        Err(err) => err.into_response(),
    }
}

/// `POST /products`: makes a product.
pub(crate) async fn create_product(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let new = NewProduct {
        name: fields.get("name").trim().to_owned(),
        description: fields.opt("description"),
    };
    let tenant_id = session.tenant_id.clone();
    let errors = match blocking(&state, move |e| e.create_product(&tenant_id, new)).await {
        Ok(_) => return see_other("/products?done=product"),
        Err(WebError::Refused(rejection)) => {
            Errors::from_rejection(&rejection, &["name", "description"])
        }
        Err(err) => return err.into_response(),
    };
    refuse(&state, &session, "product", fields, errors).await
}

/// The fields of the new-price form, where the engine's refusals are shown.
const PRICE_FIELDS: [&str; 6] =
    ["product_id", "currency", "unit_amount", "interval", "interval_count", "tax_rate"];

/// Reads the new-price form into the engine's request, or says which field is wrong.
fn parse_price(fields: &Fields) -> Result<NewPrice, Errors> {
    let mut errors = Errors::default();
    let product_id = ProductId::parse(fields.get("product_id").trim());
    if product_id.is_none() {
        errors.add("product_id", "choose a product");
    }
    let unit_amount = Amount::parse(fields.get("unit_amount").trim())
        .map_err(|err| errors.add("unit_amount", err.to_string()))
        .ok();
    let count = match fields.opt("interval_count") {
        None => None,
        Some(text) => {
            let count = text.parse::<u32>().ok();
            if count.is_none() {
                errors.add("interval_count", "a whole number of months or years");
            }
            count
        }
    };
    let recurring = match fields.get("interval") {
        "" | "one_time" => None,
        interval => Some((interval.to_owned(), count)),
    };
    let tax_rate = match fields.opt("tax_rate") {
        None => None,
        Some(text) => {
            let rate = Decimal::from_str(text.trim_end_matches('%').trim()).ok();
            if rate.is_none() {
                errors.add("tax_rate", "a percentage such as 8.25");
            }
            rate
        }
    };
    match (product_id, unit_amount) {
        (Some(product_id), Some(unit_amount)) if errors.is_empty() => Ok(NewPrice {
            product_id,
            currency: fields.get("currency").trim().to_uppercase(),
            unit_amount,
            recurring,
            tax_rate,
        }),
        _ => Err(errors),
    }
}

/// Puts the engine's `recurring.interval` and `recurring.interval_count` beside the form's
/// `interval` and `interval_count`.
fn price_errors(rejection: &settle_core::error::Rejection) -> Errors {
    let known = ["recurring.interval", "recurring.interval_count"];
    let errors = Errors::from_rejection(rejection, &PRICE_FIELDS);
    match settle_api::field_error(rejection) {
        Some(e) if known.contains(&e.field.as_str()) => {
            let mut moved = Errors::default();
            moved.add(e.field.trim_start_matches("recurring."), e.message);
            moved
        }
        _ => errors,
    }
}

/// `POST /prices`: makes a price of a product.
pub(crate) async fn create_price(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let errors = match parse_price(&fields) {
        Ok(new) => {
            let tenant_id = session.tenant_id.clone();
            match blocking(&state, move |e| e.create_price(&tenant_id, new)).await {
                Ok(_) => return see_other("/products?done=price"),
                Err(WebError::Refused(rejection)) => price_errors(&rejection),
                Err(err) => return err.into_response(),
            }
        }
        Err(errors) => errors,
    };
    refuse(&state, &session, "price", fields, errors).await
}

/// `POST /prices/{id}/archive`: archives a price.
pub(crate) async fn archive_price(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = PriceId::parse(&id) else {
        return WebError::NotFound.into_response();
    };
    let tenant_id = session.tenant_id.clone();
    match blocking(&state, move |e| e.archive_price(&tenant_id, &id)).await {
        Ok(_) => see_other("/products?done=archived"),
        Err(err) => err.into_response(),
    }
}
