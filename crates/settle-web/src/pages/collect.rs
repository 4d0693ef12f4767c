//! Collect and Apply Payments (seed 000 option 1, steps 2.1–2.7): a new payment recorded
//! without charging anyone and/or existing credits, spread over the customer's open documents
//! with amounts the clerk may change, saved by one engine command (`Engine::collect`) that
//! writes every application or none.
//!
//! Save first shows the preview (UI.md): `Engine::preview` of the very same collect request,
//! each document's and the customer's balance before and after, with a `confirm` button; only
//! the confirmed form writes. The form carries the versions of the customer's balances and of
//! every document row it was drawn from (`version`, `version[DOCUMENT_ID]`); a save or preview
//! on a page that no longer matches is the 409 stale page and nothing is written.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use settle_core::customer::Customer;
use settle_core::document::{Document, DocumentKind, DocumentStatus};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId, PaymentId};
use settle_core::money::{Currency, Money, format_minor};
use settle_core::payment::{Payment, PaymentMethod};
use settle_engine::{
    Amount as EngineAmount, ApplicationTarget, Collect, CollectApplication, Engine, NewPayment,
    SourceInput, StaffSession,
};
use settle_store::{BalanceFilter, DocumentQuery, PageRequest, PaymentQuery};

use super::actions::{PreviewRow, preview_rows};
use super::customers::customer_id;
use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav, require_writer};
use crate::templates::render;
use crate::view::{Amount, label, object_href};

mod allocate;

use allocate::{Draw, allocate};

/// The key of the credit balance among the sources.
const CREDIT_BALANCE: &str = "credit_balance";

/// One existing credit the clerk may pick.
pub(crate) struct SourceRow {
    key: String,
    label: String,
    href: Option<String>,
    available: Amount,
    minor: i64,
    checked: bool,
}

/// One open document with its amount to apply.
pub(crate) struct DocumentRow {
    id: String,
    number: String,
    kind: String,
    href: String,
    due_date: String,
    balance: Amount,
    minor: i64,
    field: String,
    /// `version[DOCUMENT_ID]`: the hidden field holding the version the row was drawn from.
    version_field: String,
}

/// The Collect and Apply Payments page.
#[derive(Template)]
#[template(path = "collect.html")]
pub(crate) struct CollectPage {
    nav: Option<Nav>,
    section: &'static str,
    customer_id: String,
    customer_name: String,
    currency: &'static str,
    balance: Amount,
    sources: Vec<SourceRow>,
    documents: Vec<DocumentRow>,
    fields: Fields,
    errors: Errors,
    /// `Some` on the preview page: what the save would change.
    preview: Option<Vec<PreviewRow>>,
    /// The fields the preview's confirm form sends again.
    hidden: Vec<(String, String)>,
}

impl CollectPage {
    fn method_is(&self, method: &str) -> bool {
        let sent = self.fields.get("method");
        sent == method || (sent.is_empty() && method == "card")
    }
}

/// What the page is drawn from, read in one transaction.
struct Loaded {
    customer: Customer,
    documents: Vec<Document>,
    payments: Vec<Payment>,
    memos: Vec<Document>,
}

async fn load(
    state: &AppState,
    session: &StaffSession,
    id: CustomerId,
) -> Result<Loaded, WebError> {
    let tenant_id = session.tenant_id.clone();
    blocking(state, move |e| {
        let customer = e.customer(&tenant_id, &id)?;
        let all = PageRequest { limit: 500, cursor: None };
        let open = DocumentQuery {
            kinds: vec![DocumentKind::Invoice, DocumentKind::DebitMemo],
            customer_id: Some(id.clone()),
            status: Some(DocumentStatus::Posted),
            balance: Some(BalanceFilter::Open),
        };
        let mut documents = e.documents(&tenant_id, &open, &all)?.rows;
        documents.retain(|d| !d.balance().is_zero());
        documents.sort_by(|a, b| (a.due_date, &a.number).cmp(&(b.due_date, &b.number)));
        let unapplied = PaymentQuery { customer_id: Some(id.clone()), unapplied_only: true };
        let mut payments = e.payments(&tenant_id, &unapplied, &all)?.rows;
        payments.retain(|p| p.unapplied.is_positive());
        payments.sort_by(|a, b| (a.effective_date, &a.id).cmp(&(b.effective_date, &b.id)));
        let memos = DocumentQuery {
            kinds: vec![DocumentKind::CreditMemo],
            balance: Some(BalanceFilter::Positive),
            ..open
        };
        let mut memos = e.documents(&tenant_id, &memos, &all)?.rows;
        memos.sort_by(|a, b| (a.invoice_date, &a.number).cmp(&(b.invoice_date, &b.number)));
        Ok(Loaded { customer, documents, payments, memos })
    })
    .await
}

fn source_rows(loaded: &Loaded, fields: &Fields) -> Vec<SourceRow> {
    let picked = fields.all("source");
    let mut rows = Vec::new();
    let mut push = |key: String, label: String, money: Money| {
        let href = object_href(&key);
        let checked = picked.contains(&key.as_str());
        rows.push(SourceRow {
            key,
            label,
            href,
            available: Amount::plain(money),
            minor: money.minor(),
            checked,
        });
    };
    for p in &loaded.payments {
        let reference = p.reference.as_deref().map(|r| format!(" {r}")).unwrap_or_default();
        let text = format!("Payment {} · {}{reference}", p.effective_date, p.method.name());
        push(p.id.to_string(), text, p.unapplied);
    }
    for m in &loaded.memos {
        push(
            m.id.to_string(),
            format!("Credit memo {} · {}", m.number, m.invoice_date),
            m.balance(),
        );
    }
    let pool = loaded.customer.balances.credit_balance;
    if pool > 0 {
        push(
            CREDIT_BALANCE.to_owned(),
            "Credit balance".to_owned(),
            Money::new(pool, loaded.customer.currency),
        );
    }
    rows
}

fn document_rows(loaded: &Loaded) -> Vec<DocumentRow> {
    loaded
        .documents
        .iter()
        .map(|d| DocumentRow {
            id: d.id.to_string(),
            number: d.number.clone(),
            kind: label(d.kind.name()),
            href: object_href(d.id.as_str()).unwrap_or_default(),
            due_date: d.due_date.to_string(),
            balance: Amount::plain(d.balance()),
            minor: d.balance().minor(),
            field: format!("apply[{}]", d.id),
            version_field: format!("version[{}]", d.id),
        })
        .collect()
}

fn page(loaded: &Loaded, fields: Fields, errors: Errors) -> CollectPage {
    let customer = &loaded.customer;
    CollectPage {
        nav: current_nav(),
        section: "customers",
        customer_id: customer.id.to_string(),
        customer_name: customer.name.clone(),
        currency: customer.currency.code(),
        balance: Amount::balance(Money::new(customer.balances.balance(), customer.currency)),
        sources: source_rows(loaded, &fields),
        documents: document_rows(loaded),
        fields,
        errors,
        preview: None,
        hidden: Vec::new(),
    }
}

/// Stamps the form with the versions of what it is drawn from: the customer's balances and
/// each open document.
fn stamp(loaded: &Loaded, fields: &mut Fields) {
    fields.set("version", Engine::customer_version(&loaded.customer));
    for d in &loaded.documents {
        fields.set(&format!("version[{}]", d.id), Engine::document_version(d));
    }
}

/// The versions the sent form expects, as `(object id, version)`: the customer's and every
/// document row's. A row sent without one is stale.
fn expected(page: &CollectPage) -> Vec<(String, String)> {
    let mut expected = vec![(page.customer_id.clone(), page.fields.get("version").to_owned())];
    for doc in &page.documents {
        expected.push((doc.id.clone(), page.fields.get(&doc.version_field).to_owned()));
    }
    expected
}

/// An amount field in the customer's currency: `None` when blank; the API's words when not an
/// amount of that currency.
fn money(fields: &Fields, name: &str, currency: Currency) -> Result<Option<Money>, String> {
    let Some(text) = fields.opt(name) else { return Ok(None) };
    let amount = EngineAmount::parse(&text).map_err(|e| e.to_string())?;
    let money = amount.decimal().in_currency(currency).map_err(|e| {
        let rejection = Rejection::money(name, e);
        settle_api::field_error(&rejection).map_or_else(|| rejection.to_string(), |e| e.message)
    })?;
    Ok(Some(money))
}

/// Fills every document's amount oldest due first from what the new payment and the picked
/// credits hold (a negative payment fills negative documents), or only `document_id`'s when
/// the page was opened from one document.
fn prefill(page: &mut CollectPage) {
    let currency = Currency::parse(page.currency).ok();
    let Some(currency) = currency else { return };
    let payment = money(&page.fields, "amount", currency).ok().flatten().map_or(0, Money::minor);
    let picked: i64 = page.sources.iter().filter(|s| s.checked).map(|s| s.minor).sum();
    let (mut plus, mut minus) =
        if payment < 0 { (picked, payment) } else { (picked.saturating_add(payment), 0) };
    let only = page.fields.opt("document_id");
    for doc in &page.documents {
        if only.as_ref().is_some_and(|id| id != &doc.id) {
            page.fields.set(&doc.field, String::new());
            continue;
        }
        let pool = if doc.minor > 0 { &mut plus } else { &mut minus };
        let take = if doc.minor > 0 { doc.minor.min(*pool) } else { doc.minor.max(*pool) };
        *pool -= take;
        let text = if take == 0 { String::new() } else { format_minor(take.into(), currency) };
        page.fields.set(&doc.field, text);
    }
}

/// `GET /customers/{id}/collect[?source=…&amount=…&document_id=…]`.
pub(crate) async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(err) = require_writer(&session) {
        return err.into_response();
    }
    let id = match customer_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    match load(&state, &session, id).await {
        Ok(loaded) => {
            let mut fields = fields;
            stamp(&loaded, &mut fields);
            let mut page = page(&loaded, fields, Errors::default());
            prefill(&mut page);
            render(&page).into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// The form's own fields, where refusals are shown.
const FIELDS: [&str; 5] = ["amount", "method", "reference", "effective_date", "source"];

/// A picked source as the engine's, or `None` when it is not one this page offers.
fn source_input(key: &str, rows: &[SourceRow]) -> Option<SourceInput> {
    if !rows.iter().any(|r| r.key == key) {
        return None;
    }
    if key == CREDIT_BALANCE {
        return Some(SourceInput::CreditBalance);
    }
    PaymentId::parse(key)
        .map(SourceInput::Payment)
        .or_else(|| DocumentId::parse(key).map(SourceInput::CreditMemo))
}

/// The new payment's fields, when an amount was given.
fn new_payment(
    fields: &Fields,
    customer_id: &CustomerId,
    amount: Option<Money>,
    errors: &mut Errors,
) -> Option<NewPayment> {
    let method = PaymentMethod::parse(fields.get("method"));
    if amount.is_some() && method.is_none() {
        errors.add("method", "one of cash, check, card, ach, other");
    }
    let effective_date = fields.opt("effective_date").and_then(|text| {
        let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
        if date.is_none() {
            errors.add("effective_date", "a date as YYYY-MM-DD");
        }
        date
    });
    let (amount, method) = (amount?, method?);
    Some(NewPayment {
        customer_id: customer_id.clone(),
        amount: EngineAmount::parse(&format_minor(amount.minor().into(), amount.currency()))
            .ok()?,
        method,
        reference: fields.opt("reference"),
        effective_date,
        applications: Vec::new(),
        description: None,
    })
}

/// The request to save, and per application (the payment's first) the field of its row.
struct Plan {
    collect: Collect,
    rows: Vec<String>,
}

/// Reads the form into one collect request, or says which fields are wrong.
// tidy: long-function: reads the payment, the picked credits and every row's amount, then hands
// them to `allocate`; each step names the field it refuses.
fn plan(page: &CollectPage, customer_id: &CustomerId) -> Result<Plan, Errors> {
    let fields = &page.fields;
    let currency = Currency::parse(page.currency).map_err(|_| Errors::default())?;
    let mut errors = Errors::default();
    let amount = money(fields, "amount", currency).unwrap_or_else(|message| {
        errors.add("amount", message);
        None
    });
    let mut payment = new_payment(fields, customer_id, amount, &mut errors);
    let mut sources = Vec::new();
    for key in fields.all("source") {
        match source_input(key, &page.sources) {
            Some(input) => {
                let row = page.sources.iter().find(|r| r.key == key).map_or(0, |r| r.minor);
                sources.push((input, row));
            }
            None => errors.add("source", "not an available credit of this customer"),
        }
    }
    let mut wanted = Vec::new();
    for doc in &page.documents {
        match money(fields, &doc.field, currency) {
            Ok(Some(m)) if !m.is_zero() => {
                if let Some(id) = DocumentId::parse(&doc.id) {
                    wanted.push((doc.field.clone(), id, m.minor()));
                }
            }
            Ok(_) => {}
            Err(message) => errors.add(&doc.field, message),
        }
    }
    if payment.is_none() && sources.is_empty() && errors.is_empty() {
        errors.general = Some("Enter a payment amount or pick a credit to apply.".to_owned());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut pools: Vec<i64> = sources.iter().map(|(_, minor)| *minor).collect();
    pools.push(amount.map_or(0, Money::minor));
    let draws =
        allocate(&pools, &wanted.iter().map(|w| w.2).collect::<Vec<_>>()).map_err(|row| {
            let mut errors = Errors::default();
            errors.add(&wanted[row].0, "more than the picked credits and the new payment hold");
            errors
        })?;
    let target = |row: usize, minor: i64| ApplicationTarget {
        target_id: wanted[row].1.clone(),
        amount: EngineAmount::parse(&format_minor(minor.into(), currency)).ok(),
        items: None,
        rule: None,
    };
    let payment_pool = sources.len();
    let (mut rows, mut credit_rows, mut applications) = (Vec::new(), Vec::new(), Vec::new());
    for Draw { pool, row, minor } in draws {
        if pool == payment_pool {
            if let Some(p) = payment.as_mut() {
                p.applications.push(target(row, minor));
                rows.push(wanted[row].0.clone());
            }
        } else {
            let source = sources[pool].0.clone();
            applications.push(CollectApplication { source, target: target(row, minor) });
            credit_rows.push(wanted[row].0.clone());
        }
    }
    rows.extend(credit_rows);
    let effective_date = payment.as_ref().and_then(|p| p.effective_date);
    let collect =
        Collect { customer_id: customer_id.clone(), payment, applications, effective_date };
    Ok(Plan { collect, rows })
}

/// The engine's refusal beside the row or field it concerns.
fn place(rejection: &Rejection, rows: &[String]) -> Errors {
    let words =
        |r: &Rejection| settle_api::field_error(r).map_or_else(|| r.to_string(), |e| e.message);
    let mut errors = Errors::default();
    match rejection {
        Rejection::InApplication { index, rejection } if *index < rows.len() => {
            errors.add(&rows[*index], words(rejection));
        }
        Rejection::OverApplication { id, .. } => {
            errors.add(&format!("apply[{id}]"), words(rejection))
        }
        Rejection::NegativePaymentUnapplied { .. } | Rejection::InsufficientUnapplied { .. } => {
            errors.add("amount", words(rejection));
        }
        other => return Errors::from_rejection(other, &FIELDS),
    }
    errors
}

/// What a save did: the preview to show, or the redirect after the commit.
enum Saved {
    Previewed(Vec<PreviewRow>),
    Committed,
}

/// `POST /customers/{id}/collect`: `step=fill` fills the amounts again, `step=edit` shows the
/// form as sent; a save without `confirm` shows the preview, with `confirm` saves every
/// application or none and then shows the customer.
pub(crate) async fn save(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match customer_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let loaded = match load(&state, &session, id.clone()).await {
        Ok(loaded) => loaded,
        Err(err) => return err.into_response(),
    };
    let mut page = page(&loaded, Fields::parse(&body), Errors::default());
    match page.fields.get("step") {
        "fill" => {
            prefill(&mut page);
            return render(&page).into_response();
        }
        "edit" => return render(&page).into_response(),
        _ => {}
    }
    let errors = match plan(&page, &id) {
        Ok(Plan { collect, rows }) => {
            let (tenant_id, expected) = (session.tenant_id.clone(), expected(&page));
            let confirm = !page.fields.get("confirm").is_empty();
            let saved = blocking(&state, move |e| {
                let e = expected.iter().fold(e.clone(), |e, (id, v)| e.expecting(id, v));
                if confirm {
                    e.collect(&tenant_id, collect).map(|_| Saved::Committed)
                } else {
                    let preview = e.preview(|e| e.collect(&tenant_id, collect))?;
                    Ok(Saved::Previewed(preview_rows(&preview)))
                }
            })
            .await;
            match saved {
                Ok(Saved::Committed) => {
                    return see_other(&format!("/customers/{id}?done=collected#billing"));
                }
                Ok(Saved::Previewed(rows)) => {
                    page.hidden = page.fields.hidden(&["csrf", "confirm", "step"]);
                    page.preview = Some(rows);
                    return render(&page).into_response();
                }
                Err(WebError::Refused(rejection)) => place(&rejection, &rows),
                Err(err) => return err.into_response(),
            }
        }
        Err(errors) => errors,
    };
    // Re-read: the refusal may be because the page was stale.
    match load(&state, &session, id).await {
        Ok(loaded) => {
            let fields = std::mem::take(&mut page.fields);
            refused(render(&self::page(&loaded, fields, errors)))
        }
        Err(err) => err.into_response(),
    }
}
