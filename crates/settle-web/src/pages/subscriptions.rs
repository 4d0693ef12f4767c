//! Subscriptions: the Subscriptions section of the customer page, the new-subscription form
//! (`/customers/{id}/subscriptions/new`) and the subscription page (`/subscriptions/{id}`:
//! items, current period, invoiced periods with their invoices, amendments, and the amendment
//! and cancel forms of `amendments.rs`), over the same engine calls as `/v1/subscriptions`.

use std::collections::HashMap;
use std::str::FromStr;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use settle_core::document::Document;
use settle_core::ids::{CustomerId, PriceId, SubscriptionId};
use settle_core::money::Money;
use settle_core::subscription::{Price, Segment};
use settle_engine::{
    Engine, EngineResult, NewSubscription, NewSubscriptionItem, StaffSession, SubscriptionView,
};
use settle_store::{PageRequest, SubscriptionQuery};

use super::catalog::PriceRow;
use super::customers::customer_id;
use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view;

/// Subscriptions the customer page lists.
const CUSTOMER_SUBSCRIPTIONS: u32 = 50;

/// Item rows on the new-subscription form.
pub(crate) const NEW_ITEM_ROWS: usize = 3;

/// A subscription id from a path; anything else is simply not found.
pub(crate) fn subscription_id(text: &str) -> Result<SubscriptionId, WebError> {
    SubscriptionId::parse(text).ok_or(WebError::NotFound)
}

/// A date field: `None` when blank, an error beside `name` when it is no date.
pub(crate) fn opt_date(fields: &Fields, name: &str, errors: &mut Errors) -> Option<NaiveDate> {
    let text = fields.opt(name)?;
    let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
    if date.is_none() {
        errors.add(name, "a date as YYYY-MM-DD");
    }
    date
}

/// A quantity field: `None` when blank, an error beside `name` when it is no number.
pub(crate) fn opt_quantity(fields: &Fields, name: &str, errors: &mut Errors) -> Option<Decimal> {
    let text = fields.opt(name)?;
    let quantity = Decimal::from_str(&text).ok();
    if quantity.is_none() {
        errors.add(name, "a number of units");
    }
    quantity
}

/// One subscription on the customer page.
pub(crate) struct SubscriptionRow {
    pub(crate) id: String,
    pub(crate) status: &'static str,
    pub(crate) start_date: String,
    pub(crate) current_period: String,
    pub(crate) ends_on: String,
    pub(crate) items: usize,
}

impl SubscriptionRow {
    fn of(view: &SubscriptionView) -> SubscriptionRow {
        let s = &view.subscription;
        SubscriptionRow {
            id: s.id.to_string(),
            status: s.status.name(),
            start_date: s.start_date.to_string(),
            current_period: period_text(view.current_period.start, view.current_period.end),
            ends_on: s.ends_on.map(|d| d.to_string()).unwrap_or_default(),
            items: view.items.len(),
        }
    }
}

/// `2026-01-01 – 2026-01-31`: a period `[start, end)` by its first and last day.
pub(crate) fn period_text(start: NaiveDate, end: NaiveDate) -> String {
    let last = end.pred_opt().unwrap_or(end);
    format!("{start} – {last}")
}

/// The customer's subscriptions, for the customer page.
pub(crate) fn customer_rows(
    engine: &Engine,
    tenant_id: &settle_core::ids::TenantId,
    customer_id: &CustomerId,
) -> EngineResult<Vec<SubscriptionRow>> {
    let query = SubscriptionQuery { customer_id: Some(customer_id.clone()), status: None };
    let page = PageRequest { limit: CUSTOMER_SUBSCRIPTIONS, cursor: None };
    Ok(engine
        .subscriptions(tenant_id, &query, &page)?
        .rows
        .iter()
        .map(SubscriptionRow::of)
        .collect())
}

/// The new-subscription form.
#[derive(Template)]
#[template(path = "subscription_new.html")]
pub(crate) struct NewPage {
    nav: Option<Nav>,
    section: &'static str,
    customer_id: String,
    customer_name: String,
    currency: &'static str,
    /// Live prices in the customer's currency.
    prices: Vec<PriceRow>,
    rows: Vec<usize>,
    fields: Fields,
    errors: Errors,
}

impl NewPage {
    fn item_field(&self, i: &usize, name: &str) -> String {
        format!("items[{i}].{name}")
    }

    fn value(&self, i: &usize, name: &str) -> &str {
        self.fields.get(&self.item_field(i, name))
    }

    fn error(&self, i: &usize, name: &str) -> Option<&str> {
        self.errors.get(&self.item_field(i, name))
    }
}

/// Live prices in `currency`, recurring first.
pub(crate) fn live_prices(
    prices: &[Price],
    currency: settle_core::money::Currency,
) -> Vec<PriceRow> {
    let mut live: Vec<&Price> =
        prices.iter().filter(|p| !p.archived && p.currency() == currency).collect();
    live.sort_by_key(|p| p.recurring.is_none());
    live.into_iter().map(PriceRow::of).collect()
}

async fn new_page(
    state: &AppState,
    session: &StaffSession,
    id: CustomerId,
    fields: Fields,
    errors: Errors,
) -> Result<NewPage, WebError> {
    let tenant_id = session.tenant_id.clone();
    let (customer, prices) = blocking(state, move |e| {
        let customer = e.customer(&tenant_id, &id)?;
        let all = PageRequest { limit: 200, cursor: None };
        Ok((customer, e.prices(&tenant_id, None, &all)?.rows))
    })
    .await?;
    Ok(NewPage {
        nav: current_nav(),
        section: "customers",
        customer_id: customer.id.to_string(),
        customer_name: customer.name,
        currency: customer.currency.code(),
        prices: live_prices(&prices, customer.currency),
        rows: (0..NEW_ITEM_ROWS).collect(),
        fields,
        errors,
    })
}

/// `GET /customers/{id}/subscriptions/new`.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Response {
    if let Err(err) = crate::session::require_writer(&session) {
        return err.into_response();
    }
    let id = match customer_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let mut fields = Fields::default();
    fields.set("items[0].quantity", "1".to_owned());
    match new_page(&state, &session, id, fields, Errors::default()).await {
        Ok(page) => render(&page).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Reads the new-subscription form: the rows with a price chosen, in order.
fn parse_new(customer_id: CustomerId, fields: &Fields) -> Result<NewSubscription, Errors> {
    let mut errors = Errors::default();
    let start_date = opt_date(fields, "start_date", &mut errors);
    let mut items = Vec::new();
    for i in 0..NEW_ITEM_ROWS {
        let Some(price) = fields.opt(&format!("items[{i}].price_id")) else { continue };
        let quantity = opt_quantity(fields, &format!("items[{i}].quantity"), &mut errors);
        match PriceId::parse(&price) {
            Some(price_id) => items.push(NewSubscriptionItem { price_id, quantity }),
            None => errors.add(&format!("items[{i}].price_id"), "choose a price"),
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.add("items[0].price_id", "choose at least one price");
    }
    if errors.is_empty() {
        Ok(NewSubscription { customer_id, start_date, items })
    } else {
        Err(errors)
    }
}

/// Every field of the form, where the engine's refusals are shown.
fn new_fields() -> Vec<String> {
    let mut known = vec!["start_date".to_owned(), "items".to_owned()];
    for i in 0..NEW_ITEM_ROWS {
        known.push(format!("items[{i}].price_id"));
        known.push(format!("items[{i}].quantity"));
    }
    known
}

/// `POST /customers/{id}/subscriptions/new`: creates the subscription and opens its page.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match customer_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let fields = Fields::parse(&body);
    let errors = match parse_new(id.clone(), &fields) {
        Ok(new) => {
            let tenant_id = session.tenant_id.clone();
            match blocking(&state, move |e| e.create_subscription(&tenant_id, new)).await {
                Ok(view) => {
                    return see_other(&format!(
                        "/subscriptions/{}?done=created",
                        view.subscription.id
                    ));
                }
                Err(WebError::Refused(rejection)) => {
                    let known = new_fields();
                    let known: Vec<&str> = known.iter().map(String::as_str).collect();
                    Errors::from_rejection(&rejection, &known)
                }
                Err(err) => return err.into_response(),
            }
        }
        Err(errors) => errors,
    };
    match new_page(&state, &session, id, fields, errors).await {
        Ok(page) => refused(render(&page)),
        Err(err) => err.into_response(),
    }
}

/// One running item.
pub(crate) struct ItemRow {
    pub(crate) id: String,
    pub(crate) price: String,
    pub(crate) price_id: String,
    pub(crate) interval: String,
    pub(crate) quantity: String,
    pub(crate) unit_amount: view::Amount,
    /// Unit amount × quantity, before tax.
    pub(crate) amount: Option<view::Amount>,
    pub(crate) since: String,
    pub(crate) ends_on: String,
}

fn item_row(segment: &Segment, prices: &HashMap<PriceId, Price>) -> Option<ItemRow> {
    let price = prices.get(&segment.price_id)?;
    let unit = price.unit_amount;
    // Shown only when exact: a fractional quantity's line is rounded when it is invoiced.
    let amount = Decimal::from(unit.minor())
        .checked_mul(segment.quantity)
        .filter(|a| a.fract().is_zero())
        .and_then(|a| i64::try_from(a).ok())
        .map(|minor| view::Amount::plain(Money::new(minor, unit.currency())));
    Some(ItemRow {
        id: segment.item_id.to_string(),
        price: price.product_name.clone(),
        price_id: price.id.to_string(),
        interval: super::catalog::interval_text(price),
        quantity: segment.quantity.normalize().to_string(),
        unit_amount: view::Amount::plain(unit),
        amount,
        since: segment.starts_on.to_string(),
        ends_on: segment.ends_on.map(|d| d.to_string()).unwrap_or_default(),
    })
}

/// One invoiced period.
pub(crate) struct PeriodRow {
    pub(crate) start: String,
    pub(crate) period: String,
    pub(crate) invoice: Option<InvoiceCell>,
}

/// The invoice of a period or an amendment.
pub(crate) struct InvoiceCell {
    pub(crate) id: String,
    pub(crate) number: String,
    pub(crate) total: view::Amount,
    pub(crate) balance: view::Amount,
}

impl InvoiceCell {
    fn of(document: &Document) -> InvoiceCell {
        InvoiceCell {
            id: document.id.to_string(),
            number: document.number.clone(),
            total: view::Amount::plain(document.total()),
            balance: view::Amount::plain(document.balance()),
        }
    }
}

/// One amendment.
pub(crate) struct AmendmentRow {
    pub(crate) id: String,
    pub(crate) effective_date: String,
    pub(crate) timing: &'static str,
    pub(crate) takes_effect_on: String,
    pub(crate) changes: String,
    pub(crate) invoice: Option<InvoiceCell>,
}

/// The subscription page.
#[derive(Template)]
#[template(path = "subscription.html")]
pub(crate) struct ShowPage {
    pub(crate) nav: Option<Nav>,
    pub(crate) section: &'static str,
    pub(crate) id: String,
    pub(crate) status: &'static str,
    pub(crate) customer_id: String,
    pub(crate) customer_name: String,
    pub(crate) start_date: String,
    pub(crate) billing: String,
    pub(crate) current_period: String,
    pub(crate) next_bill_on: String,
    pub(crate) ends_on: String,
    pub(crate) items: Vec<ItemRow>,
    pub(crate) periods: Vec<PeriodRow>,
    pub(crate) amendments: Vec<AmendmentRow>,
    /// Live prices for the amendment form's `price_id`.
    pub(crate) prices: Vec<PriceRow>,
    /// The amendment form as sent, with the refusals beside its fields.
    pub(crate) fields: Fields,
    pub(crate) errors: Errors,
    pub(crate) done: Option<&'static str>,
}

impl ShowPage {
    /// Whether the amendment form's `type` is `kind` (change_price when nothing was sent).
    fn type_is(&self, kind: &str) -> bool {
        let sent = self.fields.get("type");
        sent == kind || (sent.is_empty() && kind == "change_price")
    }
}

/// What the subscription page reads from the engine.
pub(crate) struct SubscriptionData {
    view: SubscriptionView,
    customer_name: String,
    prices: Vec<Price>,
    periods: Vec<(NaiveDate, Option<Document>)>,
    amendments: Vec<(settle_store::AmendmentRecord, Option<Document>)>,
}

/// Reads everything the subscription page shows.
pub(crate) async fn load(
    state: &AppState,
    session: &StaffSession,
    id: SubscriptionId,
) -> Result<SubscriptionData, WebError> {
    let tenant_id = session.tenant_id.clone();
    blocking(state, move |e| {
        let view = e.subscription(&tenant_id, &id)?;
        let customer = e.customer(&tenant_id, &view.subscription.customer_id)?;
        let all = PageRequest { limit: 200, cursor: None };
        let prices = e.prices(&tenant_id, None, &all)?.rows;
        let (billed, amended) = e.subscription_history(&tenant_id, &id)?;
        let document = |doc: Option<&settle_core::ids::DocumentId>| -> EngineResult<_> {
            doc.map(|d| e.document(&tenant_id, d)).transpose()
        };
        let mut periods = Vec::with_capacity(billed.len());
        for (start, doc) in billed.iter().rev() {
            periods.push((*start, document(doc.as_ref())?));
        }
        let mut amendments = Vec::with_capacity(amended.len());
        for record in amended.into_iter().rev() {
            let invoice = document(record.document_id.as_ref())?;
            amendments.push((record, invoice));
        }
        Ok(SubscriptionData { view, customer_name: customer.name, prices, periods, amendments })
    })
    .await
}

/// The one-line confirmation a redirect asks for (fixed texts only, nothing reflected).
fn confirmation(done: &str) -> Option<&'static str> {
    match done {
        "created" => Some("Subscription created. Its periods are invoiced by bill runs."),
        "amended" => Some("Amendment saved."),
        "canceled" => Some("Cancellation saved."),
        _ => None,
    }
}

/// Builds the subscription page from what [`load`] read.
pub(crate) fn show_page(
    data: SubscriptionData,
    fields: Fields,
    errors: Errors,
    done: &str,
) -> ShowPage {
    let s = &data.view.subscription;
    let by_id: HashMap<PriceId, Price> =
        data.prices.iter().map(|p| (p.id.clone(), p.clone())).collect();
    let recurring = s.recurring;
    let period_of = |start: NaiveDate| {
        recurring
            .period_of(s.start_date, start)
            .map_or_else(|| start.to_string(), |p| period_text(p.start, p.end))
    };
    ShowPage {
        nav: current_nav(),
        section: "customers",
        id: s.id.to_string(),
        status: s.status.name(),
        customer_id: s.customer_id.to_string(),
        customer_name: data.customer_name.clone(),
        start_date: s.start_date.to_string(),
        billing: match recurring.interval_count {
            1 => format!("every {}", recurring.interval.name()),
            n => format!("every {n} {}s", recurring.interval.name()),
        },
        current_period: period_text(data.view.current_period.start, data.view.current_period.end),
        next_bill_on: s.next_bill_on().map(|d| d.to_string()).unwrap_or_default(),
        ends_on: s.ends_on.map(|d| d.to_string()).unwrap_or_default(),
        items: data.view.items.iter().filter_map(|seg| item_row(seg, &by_id)).collect(),
        periods: data
            .periods
            .iter()
            .map(|(start, doc)| PeriodRow {
                start: start.to_string(),
                period: period_of(*start),
                invoice: doc.as_ref().map(InvoiceCell::of),
            })
            .collect(),
        amendments: data
            .amendments
            .iter()
            .map(|(a, doc)| AmendmentRow {
                id: a.id.to_string(),
                effective_date: a.effective_date.to_string(),
                timing: a.timing.name(),
                takes_effect_on: a.takes_effect_on.to_string(),
                changes: a.changes.replace('_', " ").replace(',', ", "),
                invoice: doc.as_ref().map(InvoiceCell::of),
            })
            .collect(),
        prices: live_prices(&data.prices, s.currency),
        fields,
        errors,
        done: confirmation(done),
    }
}

/// `GET /subscriptions/{id}?done=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let id = match subscription_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    match load(&state, &session, id).await {
        Ok(data) => {
            render(&show_page(data, Fields::default(), Errors::default(), query.get("done")))
                .into_response()
        }
        Err(err) => err.into_response(),
    }
}
