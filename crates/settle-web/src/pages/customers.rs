//! Customers (seed 002): the list with balances (search, sort, paging), the new-customer form
//! and the customer page with its balance, Billing history, open documents and payment links.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::{Document, DocumentStatus};
use settle_core::ids::CustomerId;
use settle_core::money::Money;
use settle_engine::NewCustomer;
use settle_store::{BalanceFilter, CustomerQuery, CustomerSort, DocumentQuery, PageRequest};

use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view::{Amount, label, object_href};
use settle_engine::{PaymentLink, StaffSession};

/// Customers per page of the list.
const PAGE_SIZE: u32 = 25;

/// History lines on the customer page before "Older entries".
const HISTORY_SIZE: u32 = 50;

/// A cursor as it travels in a link (the store's cursor is opaque text).
pub(crate) fn encode_cursor(cursor: &str) -> String {
    URL_SAFE_NO_PAD.encode(cursor.as_bytes())
}

/// A cursor from a link; `None` for text that is no cursor (the first page is shown).
pub(crate) fn decode_cursor(text: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()?;
    String::from_utf8(bytes).ok().filter(|c| !c.is_empty())
}

/// A customer id from a path; anything else is simply not found.
pub(crate) fn customer_id(text: &str) -> Result<CustomerId, WebError> {
    CustomerId::parse(text).ok_or(WebError::NotFound)
}

/// One row of the list.
pub(crate) struct CustomerRow {
    id: String,
    name: String,
    email: String,
    balance: Amount,
}

/// The customer list.
#[derive(Template)]
#[template(path = "customers.html")]
pub(crate) struct ListPage {
    nav: Option<Nav>,
    section: &'static str,
    search: String,
    sort: &'static str,
    rows: Vec<CustomerRow>,
    next_href: Option<String>,
    previous_href: Option<String>,
}

impl ListPage {
    /// The link that sorts by `key`, or by its reverse when already sorted by it.
    fn sort_href(&self, key: &str) -> String {
        let sort = if self.sort == key { format!("-{key}") } else { key.to_owned() };
        list_href(&self.search, &sort, None, &[])
    }

    /// `ascending`, `descending` or `none`, for the column header's `aria-sort`.
    fn aria_sort(&self, key: &str) -> &'static str {
        match self.sort.strip_prefix('-') {
            Some(rest) if rest == key => "descending",
            None if self.sort == key => "ascending",
            _ => "none",
        }
    }
}

fn parse_sort(text: &str) -> (CustomerSort, &'static str) {
    match text {
        "-name" => (CustomerSort::NameDesc, "-name"),
        "balance" => (CustomerSort::Balance, "balance"),
        "-balance" => (CustomerSort::BalanceDesc, "-balance"),
        _ => (CustomerSort::Name, "name"),
    }
}

/// A link to a page of the list; `trail` holds the cursors of the pages before it (the first
/// page's is empty), so Previous can go back with forward-only cursors.
fn list_href(search: &str, sort: &str, cursor: Option<&str>, trail: &[String]) -> String {
    let mut query = form_urlencoded(&[("search", search), ("sort", sort)]);
    if let Some(cursor) = cursor {
        query.push_str(&format!("&cursor={cursor}&trail={}", trail.join(".")));
    }
    format!("/customers?{query}")
}

fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// `GET /customers?search=&sort=&cursor=&trail=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let (sort, sort_name) = parse_sort(fields.get("sort"));
    let search = fields.get("search").trim().chars().take(1024).collect::<String>();
    let cursor = fields.opt("cursor");
    let trail: Vec<String> = match fields.opt("trail") {
        Some(t) if cursor.is_some() => t.split('.').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let page = PageRequest { limit: PAGE_SIZE, cursor: cursor.as_deref().and_then(decode_cursor) };
    let query = CustomerQuery { search: (!search.is_empty()).then(|| search.clone()), sort };
    let tenant_id = session.tenant_id;
    let got = match blocking(&state, move |e| e.customers(&tenant_id, &query, &page)).await {
        Ok(got) => got,
        Err(err) => return err.into_response(),
    };
    let here = cursor.clone().unwrap_or_default();
    let next_href = got.next_cursor.as_deref().map(|next| {
        let mut next_trail = trail.clone();
        next_trail.push(here.clone());
        list_href(&search, sort_name, Some(&encode_cursor(next)), &next_trail)
    });
    let previous_href = cursor.as_ref().map(|_| match trail.split_last() {
        Some((last, rest)) if !last.is_empty() => list_href(&search, sort_name, Some(last), rest),
        _ => list_href(&search, sort_name, None, &[]),
    });
    let rows = got.rows.iter().map(row).collect();
    let page = ListPage {
        nav: current_nav(),
        section: "customers",
        search,
        sort: sort_name,
        rows,
        next_href,
        previous_href,
    };
    render(&page).into_response()
}

fn row(customer: &Customer) -> CustomerRow {
    CustomerRow {
        id: customer.id.to_string(),
        name: customer.name.clone(),
        email: customer.email.clone().unwrap_or_default(),
        balance: Amount::balance(customer.balance()),
    }
}

/// The new-customer form.
#[derive(Template)]
#[template(path = "customer_new.html")]
pub(crate) struct NewPage {
    nav: Option<Nav>,
    section: &'static str,
    fields: Fields,
    errors: Errors,
}

/// `GET /customers/new`.
pub(crate) async fn new_form(Extension(session): Extension<StaffSession>) -> Response {
    if let Err(err) = crate::session::require_writer(&session) {
        return err.into_response();
    }
    let page = NewPage {
        nav: current_nav(),
        section: "customers",
        fields: Fields::default(),
        errors: Errors::default(),
    };
    render(&page).into_response()
}

/// `POST /customers/new`: creates the customer and opens its page.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let mut errors = Errors::default();
    let terms = match fields.opt("payment_terms_days") {
        None => None,
        Some(text) => match text.parse::<u32>() {
            Ok(days) => Some(days),
            Err(_) => {
                errors.add("payment_terms_days", "a whole number of days");
                None
            }
        },
    };
    if errors.is_empty() {
        let new = NewCustomer {
            name: fields.get("name").to_owned(),
            email: fields.opt("email"),
            currency: fields.opt("currency").map(|c| c.to_uppercase()),
            payment_terms_days: terms,
            metadata: None,
        };
        let tenant_id = session.tenant_id;
        match blocking(&state, move |e| e.create_customer(&tenant_id, new)).await {
            Ok(customer) => return see_other(&format!("/customers/{}?done=created", customer.id)),
            Err(WebError::Refused(rejection)) => {
                let known = ["name", "email", "currency", "payment_terms_days"];
                errors = Errors::from_rejection(&rejection, &known);
            }
            Err(err) => return err.into_response(),
        }
    }
    refused(render(&NewPage { nav: current_nav(), section: "customers", fields, errors }))
}

/// One line of the Billing history.
pub(crate) struct HistoryRow {
    id: String,
    date: String,
    kind: String,
    description: String,
    amount: Amount,
    balance_after: Amount,
    href: Option<String>,
}

impl HistoryRow {
    pub(crate) fn of(line: &HistoryLine) -> HistoryRow {
        HistoryRow {
            id: line.id.to_string(),
            date: line.effective_date.to_string(),
            kind: label(&line.kind),
            description: line.description.clone(),
            amount: Amount::balance(line.amount),
            balance_after: Amount::balance(line.balance_after),
            href: line.document_id.as_deref().and_then(object_href),
        }
    }
}

/// One open document or draft.
pub(crate) struct DocumentRow {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) number: String,
    pub(crate) kind: String,
    pub(crate) status: &'static str,
    pub(crate) invoice_date: String,
    pub(crate) due_date: String,
    pub(crate) total: Amount,
    pub(crate) balance: Amount,
    pub(crate) customer_id: String,
    /// The customer's name, on pages that list several customers' documents.
    pub(crate) customer_name: String,
}

impl DocumentRow {
    pub(crate) fn of(document: &Document) -> DocumentRow {
        let id = document.id.to_string();
        DocumentRow {
            href: object_href(&id).unwrap_or_default(),
            id,
            number: document.number.clone(),
            kind: label(document.kind.name()),
            status: document.status.name(),
            invoice_date: document.invoice_date.to_string(),
            due_date: document.due_date.to_string(),
            total: Amount::plain(document.total()),
            balance: Amount::plain(document.balance()),
            customer_id: document.customer_id.to_string(),
            customer_name: String::new(),
        }
    }
}

/// One live payment link.
pub(crate) struct LinkRow {
    id: String,
    created_at: String,
    expires_at: String,
}

/// The customer page.
#[derive(Template)]
#[template(path = "customer.html")]
pub(crate) struct ShowPage {
    nav: Option<Nav>,
    section: &'static str,
    id: String,
    name: String,
    email: String,
    currency: &'static str,
    terms: u32,
    balance: Amount,
    receivable: Amount,
    available_credit: Amount,
    unapplied_payments: Amount,
    credit_memo_balance: Amount,
    credit_balance: Amount,
    /// Whether the credit balance can be refunded (it is above zero).
    has_credit_balance: bool,
    /// The customer's version, which the credit-balance refund form carries.
    version: String,
    history: Vec<HistoryRow>,
    older_href: Option<String>,
    open_documents: Vec<DocumentRow>,
    negative_documents: Vec<DocumentRow>,
    drafts: Vec<DocumentRow>,
    links: Vec<LinkRow>,
    new_link_url: Option<String>,
    subscriptions: Vec<super::subscriptions::SubscriptionRow>,
    done: Option<&'static str>,
}

/// What the customer page needs from the engine, read on the blocking pool.
pub(crate) struct CustomerData {
    customer: Customer,
    history: settle_store::Page<HistoryLine>,
    open_documents: Vec<Document>,
    drafts: Vec<Document>,
    links: Vec<PaymentLink>,
    subscriptions: Vec<super::subscriptions::SubscriptionRow>,
}

/// Reads everything the customer page shows.
pub(crate) async fn load(
    state: &AppState,
    session: &StaffSession,
    id: CustomerId,
    history_cursor: Option<String>,
) -> Result<CustomerData, WebError> {
    let tenant_id = session.tenant_id.clone();
    blocking(state, move |e| {
        let customer = e.customer(&tenant_id, &id)?;
        let history = e.history(
            &tenant_id,
            &id,
            &PageRequest { limit: HISTORY_SIZE, cursor: history_cursor },
        )?;
        let open = DocumentQuery {
            kinds: Vec::new(),
            customer_id: Some(id.clone()),
            status: Some(DocumentStatus::Posted),
            balance: Some(BalanceFilter::Open),
        };
        let open_documents =
            e.documents(&tenant_id, &open, &PageRequest { limit: 200, cursor: None })?.rows;
        let drafts = DocumentQuery { status: Some(DocumentStatus::Draft), balance: None, ..open };
        let drafts =
            e.documents(&tenant_id, &drafts, &PageRequest { limit: 50, cursor: None })?.rows;
        let links = e.payment_links(&tenant_id, id.as_str())?;
        let subscriptions = super::subscriptions::customer_rows(e, &tenant_id, &id)?;
        Ok(CustomerData { customer, history, open_documents, drafts, links, subscriptions })
    })
    .await
}

/// The one-line confirmation a redirect asks for (fixed texts only, nothing reflected).
fn confirmation(done: &str) -> Option<&'static str> {
    match done {
        "created" => Some("Customer created."),
        "charge" => Some("Charge added."),
        "credit" => Some("Credit added."),
        "revoked" => Some("Payment link revoked."),
        "refunded" => Some("Refund recorded."),
        "collected" => Some("Payment saved and applied."),
        _ => None,
    }
}

/// Builds the customer page from what [`load`] read.
pub(crate) fn show_page(data: CustomerData, new_link_url: Option<String>, done: &str) -> ShowPage {
    let customer = &data.customer;
    let currency = customer.currency;
    let money = |minor: i64| Money::new(minor, currency);
    let b = customer.balances;
    let older_href = data
        .history
        .next_cursor
        .as_deref()
        .map(|c| format!("/customers/{}?history={}#billing", customer.id, encode_cursor(c)));
    let links = data
        .links
        .iter()
        .filter(|link| link.revoked_at.is_none())
        .map(|link| LinkRow {
            id: link.id.to_string(),
            created_at: link.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            expires_at: link
                .expires_at
                .map_or_else(|| "never".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        })
        .collect();
    ShowPage {
        nav: current_nav(),
        section: "customers",
        id: customer.id.to_string(),
        name: customer.name.clone(),
        email: customer.email.clone().unwrap_or_default(),
        currency: currency.code(),
        terms: customer.payment_terms_days,
        balance: Amount::balance(customer.balance()),
        receivable: Amount::plain(money(b.receivable)),
        available_credit: Amount::plain(money(b.available_credit())),
        unapplied_payments: Amount::plain(money(b.unapplied_payments)),
        credit_memo_balance: Amount::plain(money(b.credit_memo_balance)),
        credit_balance: Amount::plain(money(b.credit_balance)),
        has_credit_balance: b.credit_balance > 0,
        version: settle_engine::Engine::customer_version(customer),
        history: data.history.rows.iter().map(HistoryRow::of).collect(),
        older_href,
        open_documents: data.open_documents.iter().map(DocumentRow::of).collect(),
        negative_documents: data
            .open_documents
            .iter()
            .filter(|d| d.kind.is_receivable() && d.balance().is_negative())
            .map(DocumentRow::of)
            .collect(),
        drafts: data.drafts.iter().map(DocumentRow::of).collect(),
        links,
        new_link_url,
        subscriptions: data.subscriptions,
        done: confirmation(done),
    }
}

/// `GET /customers/{id}?history=&done=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let id = match customer_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let cursor = fields.opt("history").as_deref().and_then(decode_cursor);
    match load(&state, &session, id, cursor).await {
        Ok(data) => render(&show_page(data, None, fields.get("done"))).into_response(),
        Err(err) => err.into_response(),
    }
}
