//! The customer's payment page (seed 002, "Share balance with customer"): public, read only,
//! one customer's balance, open documents and recent history behind a link's token.
//! Unknown, revoked and expired tokens answer the same 404 page, word for word. The token is never logged:
//! nothing here traces it, and the router has no layer that traces paths.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::call::blocking;
use crate::templates::render;
use crate::view::{Amount, label};
use settle_engine::PayView;

/// The page.
#[derive(Template)]
#[template(path = "pay.html")]
pub(crate) struct PayPage {
    business_name: String,
    customer_name: String,
    balance: Amount,
    headline: String,
    owes: bool,
    /// Open documents and credit on account, shown when credit makes the balance differ from
    /// what the open documents add up to.
    breakdown: Option<(Amount, Amount)>,
    documents: Vec<PayDocument>,
    history: Vec<PayLine>,
}

/// One open document.
pub(crate) struct PayDocument {
    number: String,
    kind: String,
    due_date: String,
    balance: Amount,
}

/// One history line.
pub(crate) struct PayLine {
    date: String,
    description: String,
    amount: Amount,
}

/// The page every token that opens nothing gets: one text, whatever the reason.
#[derive(Template)]
#[template(path = "pay_not_found.html")]
pub(crate) struct PayNotFound;

/// The one answer for every token that opens nothing (unknown, revoked, expired, malformed).
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, render(&PayNotFound)).into_response()
}

/// Looks the token up; `None` for anything that is not a live link. Text that cannot be a
/// token at all is refused without a lookup, with the same answer.
async fn view(state: &AppState, token: String) -> Option<PayView> {
    let plausible = (20..=128).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plausible {
        return None;
    }
    blocking(state, move |e| e.pay_view(&token)).await.ok().flatten()
}

fn page(view: &PayView) -> PayPage {
    let balance = view.customer.balance();
    PayPage {
        business_name: view.business_name.clone(),
        customer_name: view.customer.name.clone(),
        headline: Amount::balance(balance).text.trim_start_matches('-').to_owned(),
        balance: Amount::balance(balance),
        owes: balance.is_negative(),
        breakdown: (view.customer.balances.available_credit() != 0).then(|| {
            let c = &view.customer;
            let money = |minor| settle_core::money::Money::new(minor, c.currency);
            (
                Amount::plain(money(c.balances.receivable)),
                Amount::plain(money(c.balances.available_credit())),
            )
        }),
        documents: view
            .open_documents
            .iter()
            .map(|d| PayDocument {
                number: d.number.clone(),
                kind: label(d.kind.name()),
                due_date: d.due_date.to_string(),
                balance: Amount::plain(d.balance()),
            })
            .collect(),
        history: view
            .recent_history
            .iter()
            .map(|l| PayLine {
                date: l.effective_date.to_string(),
                description: l.description.clone(),
                amount: Amount::balance(l.amount),
            })
            .collect(),
    }
}

/// `GET /pay/{token}`.
pub(crate) async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match view(&state, token).await {
        Some(view) => render(&page(&view)).into_response(),
        None => not_found(),
    }
}

fn summary(view: &PayView) -> Value {
    let c = &view.customer;
    let b = c.balances;
    let money = |minor: i64| settle_core::money::Money::new(minor, c.currency).to_string();
    json!({
        "business_name": view.business_name,
        "customer": {
            "name": c.name,
            "currency": c.currency.code(),
            "balance": money(b.balance()),
            "receivable": money(b.receivable),
            "available_credit": money(b.available_credit()),
        },
        "open_documents": view.open_documents.iter().map(|d| json!({
            "number": d.number,
            "kind": d.kind.name(),
            "invoice_date": d.invoice_date.to_string(),
            "due_date": d.due_date.to_string(),
            "total": d.total().to_string(),
            "balance": d.balance().to_string(),
        })).collect::<Vec<_>>(),
        "recent_history": view.recent_history.iter().map(|l| json!({
            "effective_date": l.effective_date.to_string(),
            "kind": l.kind,
            "description": l.description,
            "amount": l.amount.to_string(),
            "balance_after": l.balance_after.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /pay/{token}/summary.json`.
pub(crate) async fn summary_json(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    match view(&state, token).await {
        Some(view) => {
            let mut response = summary(&view).to_string().into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        None => not_found(),
    }
}
