//! The document pages: `/invoices/{id}` and `/debit-memos/{id}` (status, totals, items and tax
//! items with their balances, applications; a draft's Post button), and the read-only credit
//! sources `/credit-memos/{id}` and `/payments/{id}`, so every history line opens its document.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use settle_core::application::Application;
use settle_core::document::{Document, DocumentKind, DocumentStatus, ItemKind};
use settle_core::ids::{DocumentId, PaymentId};
use settle_store::{ApplicationQuery, PageRequest};

use super::see_other;
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view::{Amount, label, object_href};
use settle_engine::StaffSession;

/// One item or tax item.
pub(crate) struct ItemRow {
    id: String,
    is_tax: bool,
    description: String,
    detail: String,
    amount: Amount,
    balance: Amount,
}

/// One application to or from the object on the page.
pub(crate) struct ApplicationRow {
    id: String,
    date: String,
    other: String,
    other_href: Option<String>,
    amount: Amount,
    net: Amount,
    /// Something is still applied, so it can be unapplied.
    live: bool,
}

/// A document's page.
#[derive(Template)]
#[template(path = "document.html")]
pub(crate) struct DocumentPage {
    nav: Option<Nav>,
    section: &'static str,
    id: String,
    kind: String,
    path: &'static str,
    number: String,
    status: &'static str,
    customer_id: String,
    customer_name: String,
    invoice_date: String,
    due_date: String,
    adjusts: Option<(String, String)>,
    reason: String,
    total: Amount,
    balance: Amount,
    group_balance: Option<Amount>,
    items: Vec<ItemRow>,
    applications: Vec<ApplicationRow>,
    can_post: bool,
    /// Posted and the user may write: the collect and credit actions are offered.
    can_act: bool,
    done: Option<&'static str>,
    /// This page's path, where forms on it come back to.
    self_href: String,
    /// The token the action forms carry (stale-page detection).
    version: String,
    /// The actions this page offers (`void`, `net-items`, ...), none to a viewer.
    offered: Vec<&'static str>,
    /// The adjustment form's item choice.
    item_choices: Vec<(String, String)>,
    fields: Fields,
    errors: Errors,
}

impl DocumentPage {
    fn offers(&self, action: &str) -> bool {
        self.offered.contains(&action)
    }
}

/// The actions a signed-in writer is offered on `document`.
fn offered_actions(document: &Document) -> Vec<&'static str> {
    let posted = document.status == DocumentStatus::Posted;
    if document.kind == DocumentKind::CreditMemo {
        let mut offered = Vec::new();
        if posted && document.balance().is_positive() {
            offered.push("refunds");
        }
        if matches!(document.status, DocumentStatus::Draft | DocumentStatus::Posted) {
            offered.push("cancel");
        }
        return offered;
    }
    if !posted {
        return Vec::new();
    }
    let balance = document.balance();
    let mut offered = vec!["void"];
    let positive = document.items.iter().any(|i| i.balance.is_positive());
    if positive && document.items.iter().any(|i| i.balance.is_negative()) {
        offered.push("net-items");
    }
    if balance.is_negative() {
        offered.push("transfer-to-credit");
    }
    offered.push("adjustments");
    if balance.is_positive() {
        offered.push("write-off");
    }
    offered
}

/// The path segment of a kind's pages.
pub(crate) fn kind_path(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "invoices",
        DocumentKind::DebitMemo => "debit-memos",
        DocumentKind::CreditMemo => "credit-memos",
    }
}

/// A document id of `kind` from a path; anything else is not found.
pub(crate) fn document_id(text: &str, kind: DocumentKind) -> Result<DocumentId, WebError> {
    DocumentId::parse(text).filter(|id| DocumentKind::of(id) == kind).ok_or(WebError::NotFound)
}

fn item_row(item: &settle_core::document::Item) -> ItemRow {
    let detail = match (&item.quantity, &item.unit_price, &item.tax_rate) {
        (Some(q), Some(p), _) => format!("{q} × {p}"),
        (_, _, Some(rate)) => format!("{rate}%"),
        _ => String::new(),
    };
    ItemRow {
        id: item.id.to_string(),
        is_tax: item.kind == ItemKind::Tax,
        description: item.description.clone(),
        detail,
        amount: Amount::plain(item.amount),
        balance: Amount::plain(item.balance),
    }
}

/// Rows of applications; `source_side` shows the source of each, else its target.
fn application_rows(applications: &[Application], source_side: bool) -> Vec<ApplicationRow> {
    applications
        .iter()
        .map(|a| {
            let other = if source_side {
                a.source.id().map_or_else(|| "credit balance".to_owned(), str::to_owned)
            } else {
                a.target_id.to_string()
            };
            ApplicationRow {
                id: a.id.to_string(),
                date: a.effective_date.to_string(),
                other_href: object_href(&other),
                other,
                amount: Amount::plain(a.amount()),
                net: Amount::plain(a.net()),
                live: a.items.iter().any(|i| !i.net.is_zero()),
            }
        })
        .collect()
}

fn document_page(
    document: &Document,
    applications: &[Application],
    nav: Option<Nav>,
) -> DocumentPage {
    let receivable = document.kind.is_receivable();
    let nav_can_write = nav.as_ref().is_some_and(|n| n.can_write);
    let can_post = document.status == DocumentStatus::Draft && nav_can_write;
    let can_act = document.status == DocumentStatus::Posted && nav_can_write;
    DocumentPage {
        nav,
        section: "customers",
        id: document.id.to_string(),
        kind: label(document.kind.name()),
        path: kind_path(document.kind),
        number: document.number.clone(),
        status: document.status.name(),
        customer_id: document.customer_id.to_string(),
        customer_name: String::new(),
        invoice_date: document.invoice_date.to_string(),
        due_date: document.due_date.to_string(),
        adjusts: document
            .adjusts_invoice_id
            .as_ref()
            .map(|id| (id.to_string(), format!("/invoices/{id}"))),
        reason: document.reason.clone().unwrap_or_default(),
        total: Amount::plain(document.total()),
        balance: Amount::plain(document.balance()),
        group_balance: (document.kind == DocumentKind::Invoice)
            .then(|| Amount::plain(document.group_balance)),
        items: document.items.iter().map(item_row).collect(),
        applications: application_rows(applications, receivable),
        can_post,
        can_act,
        done: None,
        version: super::actions::version_of(document),
        offered: if nav_can_write { offered_actions(document) } else { Vec::new() },
        item_choices: super::actions::item_choices(document),
        fields: Fields::default(),
        errors: Errors::default(),
        self_href: format!("/{}/{}", kind_path(document.kind), document.id),
    }
}

/// Reads a document of `kind` and its applications (to it, or from it for a credit memo).
async fn show_document(
    state: &AppState,
    session: &StaffSession,
    id: &str,
    kind: DocumentKind,
    done: &str,
) -> Result<Response, WebError> {
    let id = document_id(id, kind)?;
    let tenant_id = session.tenant_id.clone();
    let (document, customer_name, applications) = blocking(state, move |e| {
        let document = e.document(&tenant_id, &id)?;
        let customer_name = e.customer(&tenant_id, &document.customer_id)?.name;
        let query = if kind.is_receivable() {
            ApplicationQuery { target_id: Some(id.clone()), ..ApplicationQuery::default() }
        } else {
            ApplicationQuery { source_id: Some(id.to_string()), ..ApplicationQuery::default() }
        };
        let applications =
            e.applications(&tenant_id, &query, &PageRequest { limit: 200, cursor: None })?;
        Ok((document, customer_name, applications.rows))
    })
    .await?;
    let mut page = document_page(&document, &applications, current_nav());
    page.customer_name = customer_name;
    page.done = done_text(done);
    Ok(render(&page).into_response())
}

/// The one-line confirmation a redirect to a document or payment page asks for.
fn done_text(done: &str) -> Option<&'static str> {
    match done {
        "posted" => Some("Posted."),
        "unapplied" => Some("Unapplied: the amount is back with its source."),
        "created" => Some("Credit memo created."),
        "applied" => Some("Applied."),
        other => super::actions::done_text(other),
    }
}

macro_rules! document_handler {
    ($name:ident, $kind:expr) => {
        /// `GET` of this kind's document page.
        pub(crate) async fn $name(
            State(state): State<AppState>,
            Extension(session): Extension<StaffSession>,
            Path(id): Path<String>,
            RawQuery(query): RawQuery,
        ) -> Response {
            let done = Fields::parse(query.unwrap_or_default().as_bytes());
            show_document(&state, &session, &id, $kind, done.get("done"))
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
    };
}

document_handler!(show_invoice, DocumentKind::Invoice);
document_handler!(show_debit_memo, DocumentKind::DebitMemo);
document_handler!(show_credit_memo, DocumentKind::CreditMemo);

async fn post(state: &AppState, session: &StaffSession, id: &str, kind: DocumentKind) -> Response {
    let id = match document_id(id, kind) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let tenant_id = session.tenant_id.clone();
    match blocking(state, move |e| e.post_document(&tenant_id, &id)).await {
        Ok(document) => see_other(&format!("/{}/{}?done=posted", kind_path(kind), document.id)),
        Err(err) => err.into_response(),
    }
}

/// `POST /invoices/{id}/post`.
pub(crate) async fn post_invoice(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Response {
    post(&state, &session, &id, DocumentKind::Invoice).await
}

/// `POST /debit-memos/{id}/post`.
pub(crate) async fn post_debit_memo(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Response {
    post(&state, &session, &id, DocumentKind::DebitMemo).await
}

/// A payment's page.
#[derive(Template)]
#[template(path = "payment.html")]
pub(crate) struct PaymentPage {
    nav: Option<Nav>,
    section: &'static str,
    id: String,
    customer_id: String,
    customer_name: String,
    status: &'static str,
    method: &'static str,
    reference: String,
    date: String,
    amount: Amount,
    applied: Amount,
    unapplied: Amount,
    refunded: Amount,
    applications: Vec<ApplicationRow>,
    self_href: String,
    /// Whether a writer is offered the refund form (something is unapplied).
    can_refund: bool,
    /// The token the refund form carries (stale-page detection).
    version: String,
    done: Option<&'static str>,
    fields: Fields,
    errors: Errors,
    item_choices: Vec<(String, String)>,
}

/// `GET /payments/{id}`.
pub(crate) async fn show_payment(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let done = Fields::parse(query.unwrap_or_default().as_bytes());
    let Some(id) = PaymentId::parse(&id) else {
        return WebError::NotFound.into_response();
    };
    let tenant_id = session.tenant_id.clone();
    let read = blocking(&state, move |e| {
        let payment = e.payment(&tenant_id, &id)?;
        let customer_name = e.customer(&tenant_id, &payment.customer_id)?.name;
        let query =
            ApplicationQuery { source_id: Some(id.to_string()), ..ApplicationQuery::default() };
        let applications =
            e.applications(&tenant_id, &query, &PageRequest { limit: 200, cursor: None })?;
        Ok((payment, customer_name, applications.rows))
    })
    .await;
    let (payment, customer_name, applications) = match read {
        Ok(read) => read,
        Err(err) => return err.into_response(),
    };
    let nav = current_nav();
    let can_refund = nav.as_ref().is_some_and(|n| n.can_write) && payment.unapplied.is_positive();
    let version = settle_engine::Engine::payment_version(&payment);
    let page = PaymentPage {
        nav,
        section: "customers",
        id: payment.id.to_string(),
        customer_id: payment.customer_id.to_string(),
        customer_name,
        status: payment.status.name(),
        method: payment.method.name(),
        reference: payment.reference.clone().unwrap_or_default(),
        date: payment.effective_date.to_string(),
        amount: Amount::plain(payment.amount),
        applied: Amount::plain(payment.applied()),
        unapplied: Amount::plain(payment.unapplied),
        refunded: Amount::plain(payment.refunded),
        applications: application_rows(&applications, false),
        can_refund,
        version,
        done: done_text(done.get("done")),
        fields: Fields::default(),
        errors: Errors::default(),
        item_choices: Vec::new(),
        self_href: format!("/payments/{}", payment.id),
    };
    render(&page).into_response()
}
