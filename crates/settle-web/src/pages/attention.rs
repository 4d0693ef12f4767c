//! Attention: everything that needs a person, each row naming the situation in plain words and
//! offering the fixes that apply as preview forms (UI.md):
//!
//! - a negative invoice or debit memo (seed 000/001): transfer to the credit balance; transfer
//!   and apply to the oldest open documents; a charge adjustment of its most negative item;
//! - a document at zero whose items are not (seed 003): net items;
//! - a customer with unused credit while documents are open: the Collect screen;
//! - a draft dated more than seven days ago: post it.
//!
//! Read with one store query (`Engine::attention`, the port's `attention`), so only the
//! documents and customers that need a person are read; the sidebar's count on every signed-in
//! page uses the same query.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use settle_core::document::Document;
use settle_core::ids::{CustomerId, TenantId};
use settle_core::money::Money;
use settle_engine::{Engine, EngineResult, StaffSession};
use settle_store::Attention;

use crate::AppState;
use crate::call::blocking;
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view::{Amount, label, object_href};

/// Drafts dated longer ago than this many days need attention.
const DRAFT_DAYS: i64 = 7;

/// A fix offered in a row: a form posting `action` to `path` with `hidden` fields (and, for an
/// adjustment, a visible reason), or a link when `action` is empty.
pub(crate) struct Fix {
    action: &'static str,
    path: String,
    label: &'static str,
    hidden: Vec<(&'static str, String)>,
    reason: bool,
}

/// One situation.
pub(crate) struct Situation {
    /// `Some` for a document row (`tr[data-document-id]`), else the customer's row.
    document_id: Option<String>,
    customer_id: String,
    customer_name: String,
    /// The document's number or the customer's name, linked.
    title: String,
    href: String,
    /// The situation in plain words.
    text: String,
    /// The amount the situation is about.
    amount: Amount,
    fixes: Vec<Fix>,
}

/// The attention page.
#[derive(Template)]
#[template(path = "attention.html")]
pub(crate) struct AttentionPage {
    nav: Option<Nav>,
    section: &'static str,
    rows: Vec<Situation>,
}

fn document_situation(document: &Document, text: String, fixes: Vec<Fix>) -> Situation {
    let id = document.id.to_string();
    Situation {
        href: object_href(&id).unwrap_or_default(),
        title: format!("{} {}", label(document.kind.name()), document.number),
        document_id: Some(id),
        customer_id: document.customer_id.to_string(),
        customer_name: String::new(),
        text,
        amount: Amount::plain(document.balance()),
        fixes,
    }
}

fn form(document: &Document, action: &'static str, label: &'static str) -> Fix {
    let path = format!("{}/{action}", object_href(document.id.as_str()).unwrap_or_default());
    let version = settle_engine::Engine::document_version(document);
    Fix { action, path, label, hidden: vec![("version", version)], reason: false }
}

/// The fixes of a negative document.
fn negative_fixes(document: &Document, has_open: bool) -> Vec<Fix> {
    let mut fixes = vec![form(document, "transfer-to-credit", "Transfer to credit balance")];
    if has_open {
        let mut apply = form(document, "transfer-to-credit", "Transfer and apply to oldest open");
        apply.hidden.push(("apply", "oldest".to_owned()));
        fixes.push(apply);
    }
    // A charge adjustment of the most negative item, as far as the document's balance goes.
    let most_negative = document.items.iter().min_by_key(|i| i.balance.minor());
    if let Some(item) = most_negative.filter(|i| i.balance.is_negative()) {
        let amount = item.balance.minor().max(document.balance().minor()).saturating_neg();
        let mut charge = form(document, "adjustments", "Charge adjustment to zero");
        charge.hidden.push(("item_id", item.id.to_string()));
        charge.hidden.push(("type", "charge".to_owned()));
        let amount = Amount::plain(Money::new(amount, document.currency)).value;
        charge.hidden.push(("amount", amount));
        charge.reason = true;
        fixes.push(charge);
    }
    fixes
}

/// What Attention is drawn from: one store query (`Engine::attention`), drafts older than
/// [`DRAFT_DAYS`] by the tenant's today.
fn read(engine: &Engine, tenant_id: &TenantId) -> EngineResult<(Attention, NaiveDate)> {
    let today = engine.today(tenant_id)?;
    let before = today - Duration::days(DRAFT_DAYS);
    Ok((engine.attention(tenant_id, before)?, today))
}

/// Every situation of the tenant, documents first (negative, then stuck, then old drafts),
/// then customers with unused credit.
pub(crate) fn situations(engine: &Engine, tenant_id: &TenantId) -> EngineResult<Vec<Situation>> {
    let (attention, today) = read(engine, tenant_id)?;
    let mut rows = Vec::new();
    for document in &attention.negative {
        let text = "Negative balance: the customer is owed this money. Move it to their credit \
                    balance (to apply elsewhere or refund), or charge the negative item back to \
                    zero."
            .to_owned();
        let fixes = negative_fixes(document, attention.owing.contains(&document.customer_id));
        rows.push(document_situation(document, text, fixes));
    }
    for document in &attention.stuck {
        let text = "Balance is zero but its items are not: some items show money owed and others \
                    money owed back. Netting offsets them so every item is at zero."
            .to_owned();
        let fixes = vec![form(document, "net-items", "Net items")];
        rows.push(document_situation(document, text, fixes));
    }
    for document in &attention.old_drafts {
        let days = (today - document.invoice_date).num_days();
        let text = format!(
            "Draft dated {} ({days} days ago), not yet posted: the customer has not been billed.",
            document.invoice_date
        );
        let mut post = form(document, "post", "Post");
        post.hidden.clear();
        rows.push(document_situation(document, text, vec![post]));
    }
    for customer in &attention.idle_credit {
        let id = customer.id.to_string();
        rows.push(Situation {
            document_id: None,
            href: format!("/customers/{id}"),
            title: customer.name.clone(),
            customer_name: customer.name.clone(),
            text: "Has credit not applied while documents are open: apply it to them.".to_owned(),
            amount: Amount::plain(Money::new(
                customer.balances.available_credit(),
                customer.currency,
            )),
            fixes: vec![Fix {
                action: "",
                path: format!("/customers/{id}/collect"),
                label: "Apply credit",
                hidden: Vec::new(),
                reason: false,
            }],
            customer_id: id,
        });
    }
    let mut names = BTreeMap::new();
    for row in rows.iter_mut().filter(|r| r.document_id.is_some()) {
        if !names.contains_key(&row.customer_id) {
            let name = CustomerId::parse(&row.customer_id)
                .map(|id| engine.customer(tenant_id, &id).map(|c| c.name))
                .transpose()?
                .unwrap_or_default();
            names.insert(row.customer_id.clone(), name);
        }
        row.customer_name = names.get(&row.customer_id).cloned().unwrap_or_default();
    }
    Ok(rows)
}

/// How many situations need attention (the sidebar's count): the same query, without drawing
/// the rows.
pub(crate) fn count(engine: &Engine, tenant_id: &TenantId) -> EngineResult<usize> {
    let (a, _) = read(engine, tenant_id)?;
    Ok(a.negative.len() + a.stuck.len() + a.old_drafts.len() + a.idle_credit.len())
}

/// `GET /attention`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
) -> Response {
    let tenant_id = session.tenant_id;
    match blocking(&state, move |e| situations(e, &tenant_id)).await {
        Ok(rows) => render(&AttentionPage { nav: current_nav(), section: "attention", rows })
            .into_response(),
        Err(err) => err.into_response(),
    }
}
