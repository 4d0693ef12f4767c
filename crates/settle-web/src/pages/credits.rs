//! Credit memos from an invoice's page: a memo whose items name the invoice's items (amounts
//! editable, prefilled with what is still creditable; the engine caps them, `over_credit`), and
//! a credit memo applied per item with ± amounts and a total that may be zero (seed 003).
//!
//! The per-item apply is previewed (UI.md): sending it shows `Engine::preview` of the very same
//! application, and only the preview's `confirm` writes. Its form carries the versions of the
//! memo (`version`) and of the target (`target_version`) it was drawn from; a form that no
//! longer matches is the 409 stale page and nothing is written.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use settle_core::document::{Document, DocumentKind, DocumentStatus};
use settle_core::error::Rejection;
use settle_core::ids::DocumentId;
use settle_core::money::Money;
use settle_engine::{
    Amount as EngineAmount, ApplicationTarget, Engine, ItemAmountInput, NewApplication,
    NewCreditItem, NewCreditMemo, SourceInput, StaffSession,
};
use settle_store::{BalanceFilter, DocumentQuery, PageRequest};

use super::actions::{PreviewRow, preview_rows};
use super::documents::document_id;
use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav, require_writer};
use crate::templates::render;
use crate::view::Amount;

/// One row: an item of the document the page acts on, and its input.
pub(crate) struct Row {
    item_id: String,
    description: String,
    is_tax: bool,
    amount: Amount,
    balance: Amount,
    limit: Amount,
    field: String,
}

/// The credit memo form of an invoice, and the per-item apply form of a credit memo.
#[derive(Template)]
#[template(path = "credit_form.html")]
pub(crate) struct CreditPage {
    nav: Option<Nav>,
    section: &'static str,
    title: String,
    action: String,
    back: String,
    /// `credit` (new memo) or `apply`.
    mode: &'static str,
    targets: Vec<(String, String, bool)>,
    rows: Vec<Row>,
    fields: Fields,
    errors: Errors,
    /// `Some` on the apply's preview page.
    preview: Option<Vec<PreviewRow>>,
    /// The fields the preview's confirm form sends again.
    hidden: Vec<(String, String)>,
}

fn render_result(result: Result<CreditPage, WebError>, status_ok: bool) -> Response {
    match result {
        Ok(page) if status_ok => render(&page).into_response(),
        Ok(page) => refused(render(&page)),
        Err(err) => err.into_response(),
    }
}

async fn read_document(
    state: &AppState,
    session: &StaffSession,
    id: DocumentId,
) -> Result<Document, WebError> {
    let tenant_id = session.tenant_id.clone();
    blocking(state, move |e| e.document(&tenant_id, &id)).await
}

// ---- a credit memo from an invoice ----

fn credit_page(
    invoice: &Document,
    mut fields: Fields,
    errors: Errors,
    prefill: bool,
) -> CreditPage {
    let rows: Vec<Row> = invoice
        .items
        .iter()
        .map(|item| {
            let sign = item.amount.minor().signum();
            let limit = Money::new(invoice.creditable(item).minor() * sign, invoice.currency);
            let field = format!("credit[{}]", item.id);
            if prefill {
                let text = if limit.is_zero() { String::new() } else { limit.to_string() };
                fields.set(&field, text);
            }
            Row {
                item_id: item.id.to_string(),
                description: item.description.clone(),
                is_tax: item.kind == settle_core::document::ItemKind::Tax,
                amount: Amount::plain(item.amount),
                balance: Amount::plain(item.balance),
                limit: Amount::plain(limit),
                field,
            }
        })
        .collect();
    if prefill {
        fields.set("reason", "credit".to_owned());
    }
    CreditPage {
        nav: current_nav(),
        section: "customers",
        title: format!("Credit memo from invoice {}", invoice.number),
        action: format!("/invoices/{}/credit-memos/new", invoice.id),
        back: format!("/invoices/{}", invoice.id),
        mode: "credit",
        targets: Vec::new(),
        rows,
        fields,
        errors,
        preview: None,
        hidden: Vec::new(),
    }
}

/// `GET /invoices/{id}/credit-memos/new`.
pub(crate) async fn credit_form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        require_writer(&session)?;
        let invoice =
            read_document(&state, &session, document_id(&id, DocumentKind::Invoice)?).await?;
        Ok(credit_page(&invoice, Fields::default(), Errors::default(), true))
    }
    .await;
    render_result(result, true)
}

/// The engine names the `i`th sent item; the form names its row.
fn sent_field(field: &str, sent: &[String]) -> Option<String> {
    let rest = field.strip_prefix("items[")?;
    let (idx, _) = rest.split_once(']')?;
    sent.get(idx.parse::<usize>().ok()?).cloned()
}

/// Places a refusal beside the row it names (by the sent items' order or by an item id).
fn place(rejection: &Rejection, sent: &[String], prefix: &str) -> Errors {
    let words = settle_api::field_error(rejection);
    let mut errors = Errors::default();
    let by_item = match rejection {
        Rejection::OverCredit { item_id, .. } => Some(item_id.clone()),
        Rejection::OverApplication { id, .. }
        | Rejection::InsufficientUnapplied { source_id: id, .. } => Some(id.clone()),
        _ => None,
    };
    let message = words.as_ref().map_or_else(|| rejection.to_string(), |e| e.message.clone());
    let field = words
        .as_ref()
        .and_then(|e| sent_field(&e.field, sent))
        .or_else(|| by_item.map(|id| format!("{prefix}[{id}]")).filter(|f| sent.contains(f)));
    match field {
        Some(field) => errors.add(&field, message),
        None => errors.general = Some(crate::view::rejection_text(rejection)),
    }
    errors
}

/// `POST /invoices/{id}/credit-memos/new`: creates the memo (posted unless `post` is `false`).
pub(crate) async fn credit_create(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let invoice = match document_id(&id, DocumentKind::Invoice) {
        Ok(id) => match read_document(&state, &session, id).await {
            Ok(invoice) => invoice,
            Err(err) => return err.into_response(),
        },
        Err(err) => return err.into_response(),
    };
    let fields = Fields::parse(&body);
    let mut errors = Errors::default();
    let (mut items, mut sent) = (Vec::new(), Vec::new());
    for item in &invoice.items {
        let field = format!("credit[{}]", item.id);
        let Some(text) = fields.opt(&field) else { continue };
        match EngineAmount::parse(&text) {
            Ok(amount)
                if !amount.decimal().in_currency(invoice.currency).is_ok_and(Money::is_zero) =>
            {
                items.push(NewCreditItem {
                    description: None,
                    amount,
                    invoice_item_id: Some(item.id.clone()),
                });
                sent.push(field);
            }
            Ok(_) => {}
            Err(err) => errors.add(&field, err.to_string()),
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.general = Some("Enter an amount to credit on at least one item.".to_owned());
    }
    if errors.is_empty() {
        let new = NewCreditMemo {
            customer_id: invoice.customer_id.clone(),
            items,
            reason: fields.opt("reason"),
            from_invoice_id: Some(invoice.id.clone()),
            post: fields.get("post") != "false",
            invoice_date: None,
        };
        let tenant_id = session.tenant_id.clone();
        match blocking(&state, move |e| e.create_credit_memo(&tenant_id, new)).await {
            Ok(memo) => return see_other(&format!("/credit-memos/{}?done=created", memo.id)),
            Err(WebError::Refused(rejection)) => errors = place(&rejection, &sent, "credit"),
            Err(err) => return err.into_response(),
        }
    }
    render_result(Ok(credit_page(&invoice, fields, errors, false)), false)
}

// ---- a credit memo applied per item ----

/// What the apply page is drawn from.
struct ApplyData {
    memo: Document,
    targets: Vec<Document>,
}

async fn apply_data(
    state: &AppState,
    session: &StaffSession,
    id: &str,
) -> Result<ApplyData, WebError> {
    let id = document_id(id, DocumentKind::CreditMemo)?;
    let tenant_id = session.tenant_id.clone();
    blocking(state, move |e| {
        let memo = e.document(&tenant_id, &id)?;
        let open = DocumentQuery {
            kinds: vec![DocumentKind::Invoice, DocumentKind::DebitMemo],
            customer_id: Some(memo.customer_id.clone()),
            status: Some(DocumentStatus::Posted),
            balance: Some(BalanceFilter::Open),
        };
        let targets = e.documents(&tenant_id, &open, &PageRequest { limit: 500, cursor: None })?;
        Ok(ApplyData { memo, targets: targets.rows })
    })
    .await
}

/// The target picked (`target_id`), else the one holding the memo's first linked item.
fn pick_target<'a>(data: &'a ApplyData, fields: &Fields) -> Option<&'a Document> {
    let named = fields.opt("target_id");
    let linked = |d: &&Document| {
        data.memo
            .items
            .iter()
            .any(|m| m.invoice_item_id.as_ref().is_some_and(|i| d.item(i).is_some()))
    };
    match named {
        Some(id) => data.targets.iter().find(|d| d.id.as_str() == id),
        None => data.targets.iter().find(linked).or_else(|| data.targets.first()),
    }
}

/// Pairs of (memo item, target item) for the memo's items that name an item of `target`.
fn pairs<'a>(
    memo: &'a Document,
    target: &'a Document,
) -> Vec<(&'a settle_core::document::Item, &'a settle_core::document::Item)> {
    memo.items.iter().filter_map(|m| Some((m, target.item(m.invoice_item_id.as_ref()?)?))).collect()
}

fn apply_page(data: &ApplyData, mut fields: Fields, errors: Errors, prefill: bool) -> CreditPage {
    let target = pick_target(data, &fields);
    let mut rows = Vec::new();
    if prefill {
        fields.set("version", Engine::document_version(&data.memo));
    }
    if let Some(target) = target {
        fields.set("target_id", target.id.to_string());
        if prefill {
            fields.set("target_version", Engine::document_version(target));
        }
        for (memo_item, item) in pairs(&data.memo, target) {
            let field = format!("apply[{}]", memo_item.id);
            let (held, owed) = (memo_item.balance.minor(), item.balance.minor());
            let take = if held.signum() == owed.signum() {
                held.signum() * held.abs().min(owed.abs())
            } else {
                0
            };
            if prefill {
                let text = if take == 0 {
                    String::new()
                } else {
                    Money::new(take, item.balance.currency()).to_string()
                };
                fields.set(&field, text);
            }
            rows.push(Row {
                item_id: item.id.to_string(),
                description: item.description.clone(),
                is_tax: item.kind == settle_core::document::ItemKind::Tax,
                amount: Amount::plain(item.amount),
                balance: Amount::plain(item.balance),
                limit: Amount::plain(memo_item.balance),
                field,
            });
        }
    }
    let chosen = target.map(|t| t.id.to_string()).unwrap_or_default();
    CreditPage {
        nav: current_nav(),
        section: "customers",
        title: format!("Apply credit memo {} per item", data.memo.number),
        action: format!("/credit-memos/{}/apply", data.memo.id),
        back: format!("/credit-memos/{}", data.memo.id),
        mode: "apply",
        targets: data
            .targets
            .iter()
            .map(|d| (d.id.to_string(), d.number.clone(), d.id.as_str() == chosen))
            .collect(),
        rows,
        fields,
        errors,
        preview: None,
        hidden: Vec::new(),
    }
}

/// `GET /credit-memos/{id}/apply[?target_id=]`.
pub(crate) async fn apply_form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let fields = Fields::parse(query.unwrap_or_default().as_bytes());
    let result = async {
        require_writer(&session)?;
        let data = apply_data(&state, &session, &id).await?;
        Ok(apply_page(&data, fields, Errors::default(), true))
    }
    .await;
    render_result(result, true)
}

/// The per-item amounts sent for `target`, the fields they came from, and what is wrong.
fn read_items(
    memo: &Document,
    target: Option<&Document>,
    fields: &Fields,
) -> (Vec<ItemAmountInput>, Vec<String>, Errors) {
    let mut errors = Errors::default();
    let (mut items, mut sent) = (Vec::new(), Vec::new());
    let Some(target) = target else {
        errors.add("target_id", "pick an open invoice or debit memo of this customer");
        return (items, sent, errors);
    };
    for (memo_item, item) in pairs(memo, target) {
        let field = format!("apply[{}]", memo_item.id);
        let Some(text) = fields.opt(&field) else { continue };
        match EngineAmount::parse(&text) {
            Ok(amount) => {
                items.push(ItemAmountInput {
                    item_id: item.id.clone(),
                    amount,
                    credit_memo_item_id: Some(memo_item.id.clone()),
                });
                sent.push(field);
            }
            Err(err) => errors.add(&field, err.to_string()),
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.general = Some("Enter an amount for at least one item.".to_owned());
    }
    (items, sent, errors)
}

/// `POST /credit-memos/{id}/apply`: one application of the memo to `target_id`, per item; the
/// preview first, the commit with `confirm`.
pub(crate) async fn apply(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let data = match apply_data(&state, &session, &id).await {
        Ok(data) => data,
        Err(err) => return err.into_response(),
    };
    let fields = Fields::parse(&body);
    let target = pick_target(&data, &fields)
        .filter(|t| fields.opt("target_id").as_deref() == Some(t.id.as_str()));
    let (items, sent, mut errors) = read_items(&data.memo, target, &fields);
    if let (Some(target), true) = (target, errors.is_empty()) {
        let new = NewApplication {
            source: SourceInput::CreditMemo(data.memo.id.clone()),
            target: ApplicationTarget {
                target_id: target.id.clone(),
                amount: None,
                items: Some(items),
                rule: None,
            },
            effective_date: None,
        };
        let (tenant_id, back) =
            (session.tenant_id.clone(), format!("/credit-memos/{}", data.memo.id));
        let expected = [
            (data.memo.id.to_string(), fields.get("version").to_owned()),
            (target.id.to_string(), fields.get("target_version").to_owned()),
        ];
        let confirm = !fields.get("confirm").is_empty();
        let ran = blocking(&state, move |e| {
            let e = expected.iter().fold(e.clone(), |e, (id, v)| e.expecting(id, v));
            if confirm {
                e.apply(&tenant_id, new).map(|_| None)
            } else {
                e.preview(|e| e.apply(&tenant_id, new)).map(|p| Some(preview_rows(&p)))
            }
        })
        .await;
        match ran {
            Ok(None) => return see_other(&format!("{back}?done=applied")),
            Ok(Some(rows)) => {
                let mut page = apply_page(&data, fields.clone(), Errors::default(), false);
                page.hidden = fields.hidden(&["csrf", "confirm"]);
                page.preview = Some(rows);
                return render(&page).into_response();
            }
            Err(WebError::Refused(rejection)) => errors = place(&rejection, &sent, "apply"),
            Err(err) => return err.into_response(),
        }
    }
    let fresh = apply_data(&state, &session, &id).await.unwrap_or(data);
    render_result(Ok(apply_page(&fresh, fields, errors, false)), false)
}
