//! The actions on a document's page (UI.md): void, net items, transfer to credit, item
//! adjustments and write-off on invoices and debit memos; refunds from payments, credit memos
//! and the credit balance; cancel a credit memo. Each is a POST form with the API's field
//! names through the same engine command as the API.
//!
//! The actions that move balances between items or documents are previewed: a form sent
//! without `confirm` answers the preview page (the same fields, hidden, and a `confirm`
//! button); only a form with `confirm` commits. Every document form carries the page's
//! `version`; a form whose version no longer matches the document is the 409 stale page and
//! nothing is written.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use settle_core::adjustment::AdjustmentType;
use settle_core::document::{Document, DocumentKind};
use settle_core::ids::{CustomerId, DocumentId, ItemId, PaymentId, TenantId};
use settle_core::payment::PaymentMethod;
use settle_engine::{Amount, Engine, EngineResult, NewAdjustment, NewRefund, Preview, RefundFrom};

use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view::{self, label};
use settle_engine::StaffSession;

/// A document action, read from its form.
#[derive(Debug, Clone)]
pub(crate) enum Act {
    /// `void` (`reverse_applications`).
    Void { reverse: bool },
    /// `net-items`.
    NetItems,
    /// `transfer-to-credit` (`amount`, blank = all); with `apply=oldest` the credit then goes
    /// on to the customer's open documents, oldest due first.
    Transfer { amount: Option<Amount>, apply: bool },
    /// `adjustments` (`item_id`, `type`, `amount`, `reason`).
    Adjust(NewAdjustment),
    /// `write-off` (`amount`, blank = all; `reason`).
    WriteOff { amount: Option<Amount>, reason: Option<String> },
}

impl Act {
    /// Whether the action moves balances between items or documents, so it is previewed.
    pub(crate) fn previewed(&self) -> bool {
        !matches!(self, Act::Void { reverse: false })
    }

    /// The `done` word of the page the commit redirects to.
    fn done(&self) -> &'static str {
        match self {
            Act::Void { .. } => "voided",
            Act::NetItems => "netted",
            Act::Transfer { apply: false, .. } => "transferred",
            Act::Transfer { apply: true, .. } => "transferred-applied",
            Act::Adjust(_) => "adjusted",
            Act::WriteOff { .. } => "written-off",
        }
    }

    /// Runs the command.
    pub(crate) fn commit(
        self,
        engine: &Engine,
        tenant_id: &TenantId,
        id: &DocumentId,
    ) -> EngineResult<()> {
        match self {
            Act::Void { reverse } => engine.void_document(tenant_id, id, reverse).map(drop),
            Act::NetItems => engine.net_items(tenant_id, id).map(drop),
            Act::Transfer { amount, apply: false } => {
                engine.transfer_to_credit(tenant_id, id, amount).map(drop)
            }
            Act::Transfer { amount, apply: true } => {
                engine.transfer_and_apply(tenant_id, id, amount).map(drop)
            }
            Act::Adjust(new) => engine.adjust_item(tenant_id, id, new).map(drop),
            Act::WriteOff { amount, reason } => {
                engine.write_off(tenant_id, id, amount, reason).map(drop)
            }
        }
    }
}

/// The fields each action's form has, where refusals are shown.
pub(crate) fn known_fields(action: &str) -> &'static [&'static str] {
    match action {
        "void" => &["reverse_applications"],
        "transfer-to-credit" => &["amount"],
        "adjustments" => &["item_id", "type", "amount", "reason"],
        "write-off" => &["amount", "reason"],
        "refunds" => &["amount", "method", "reference"],
        _ => &[],
    }
}

/// An optional amount field; a refusal in the API's words goes beside it.
fn opt_amount(fields: &Fields, errors: &mut Errors) -> Option<Amount> {
    let text = fields.opt("amount")?;
    Amount::parse(&text).map_err(|err| errors.add("amount", err.to_string())).ok()
}

/// Reads a document action's form.
pub(crate) fn parse_act(action: &str, fields: &Fields) -> Result<Act, Errors> {
    let mut errors = Errors::default();
    let act = match action {
        "void" => Some(Act::Void { reverse: fields.get("reverse_applications") == "true" }),
        "net-items" => Some(Act::NetItems),
        "transfer-to-credit" => Some(Act::Transfer {
            amount: opt_amount(fields, &mut errors),
            apply: fields.get("apply") == "oldest",
        }),
        "write-off" => Some(Act::WriteOff {
            amount: opt_amount(fields, &mut errors),
            reason: fields.opt("reason"),
        }),
        "adjustments" => parse_adjustment(fields, &mut errors).map(Act::Adjust),
        _ => None,
    };
    match act {
        Some(act) if errors.is_empty() => Ok(act),
        _ => Err(errors),
    }
}

fn parse_adjustment(fields: &Fields, errors: &mut Errors) -> Option<NewAdjustment> {
    let item_id = ItemId::parse(fields.get("item_id"));
    if item_id.is_none() {
        errors.add("item_id", "choose an item");
    }
    let kind = AdjustmentType::parse(fields.get("type"));
    if kind.is_none() {
        errors.add("type", "choose credit or charge");
    }
    let amount = match Amount::parse(fields.get("amount").trim()) {
        Ok(amount) => Some(amount),
        Err(err) => {
            errors.add("amount", err.to_string());
            None
        }
    };
    Some(NewAdjustment {
        item_id: item_id?,
        kind: kind?,
        amount: amount?,
        reason: fields.get("reason").trim().to_owned(),
    })
}

/// The token a document's forms carry (stale-page detection).
pub(crate) fn version_of(document: &Document) -> String {
    Engine::document_version(document)
}

/// One line of a preview: an item's, a document's or the customer's balance before and after.
pub(crate) struct PreviewRow {
    /// What it is (`Invoice INV-000001`, `Item: Seats`, `Customer balance`).
    pub(crate) label: String,
    /// The id of the item or document; empty for the customer.
    pub(crate) id: String,
    pub(crate) before: view::Amount,
    pub(crate) after: view::Amount,
}

/// The page of an action's form sent back: the form again with the refusal beside its field,
/// or the preview with the `confirm` button.
#[derive(Template)]
#[template(path = "action.html")]
pub(crate) struct ActionPage {
    nav: Option<Nav>,
    section: &'static str,
    /// The page of the object acted on (`/invoices/inv_…`).
    back: String,
    /// The object (`Invoice INV-000001`).
    title: String,
    /// The action's path segment and `data-action` (`net-items`).
    action: &'static str,
    /// What the button says.
    verb: &'static str,
    fields: Fields,
    errors: Errors,
    /// The document's items, for the adjustment's item choice.
    item_choices: Vec<(String, String)>,
    /// `Some` on the preview page.
    preview: Option<Vec<PreviewRow>>,
}

/// What a person reads for an action.
pub(crate) fn verb(action: &str) -> &'static str {
    match action {
        "void" => "Void",
        "net-items" => "Net items",
        "transfer-to-credit" => "Transfer to credit balance",
        "adjustments" => "Adjust item",
        "write-off" => "Write off",
        "refunds" => "Refund",
        "cancel" => "Cancel credit memo",
        _ => "Send",
    }
}

/// One sentence under an action's name on the document page.
pub(crate) fn explain(action: &str) -> &'static str {
    match action {
        "void" => {
            "Takes the document out of the ledger. With applications on it, reverse them first."
        }
        "net-items" => {
            "Offsets the negative item balances against the positive ones; the document's balance stays the same."
        }
        "transfer-to-credit" => {
            "Moves the negative balance to the customer's credit balance, to apply elsewhere or refund."
        }
        "adjustments" => {
            "Credits a positive item or charges a negative one toward zero, with a reason."
        }
        "write-off" => "Writes off what is left as bad debt with a write-off credit memo.",
        "refunds" => "Pays money back to the customer from what is unapplied.",
        "cancel" => "Cancels this credit memo; only while nothing was taken from it.",
        _ => "",
    }
}

/// The path segment of an action named by a route (`/invoices/{id}/net-items`).
pub(crate) fn action_of(path: &str) -> &'static str {
    let last = path.rsplit('/').next().unwrap_or_default();
    ["void", "net-items", "transfer-to-credit", "adjustments", "write-off", "refunds", "cancel"]
        .into_iter()
        .find(|a| *a == last)
        .unwrap_or("")
}

fn kind_of(path: &str) -> DocumentKind {
    if path.starts_with("/debit-memos") { DocumentKind::DebitMemo } else { DocumentKind::Invoice }
}

fn document_title(document: &Document) -> String {
    format!("{} {}", label(document.kind.name()), document.number)
}

pub(crate) fn item_choices(document: &Document) -> Vec<(String, String)> {
    document
        .items
        .iter()
        .map(|i| {
            let balance = view::Amount::plain(i.balance).text;
            (i.id.to_string(), format!("{} (balance {balance})", i.description))
        })
        .collect()
}

/// The preview of `act` on the document: the engine runs the command itself and rolls it
/// back, so the figures are the ones the commit will write.
fn preview_of(
    engine: &Engine,
    tenant_id: &TenantId,
    id: &DocumentId,
    act: &Act,
) -> EngineResult<Vec<PreviewRow>> {
    let act = act.clone();
    let preview = engine.preview(|e| act.commit(e, tenant_id, id))?;
    Ok(preview_rows(&preview))
}

/// The rows of a preview: each item, each document, each payment, the credit balance when it
/// moves, and the customer's balance.
pub(crate) fn preview_rows(preview: &Preview) -> Vec<PreviewRow> {
    let mut rows = Vec::new();
    for doc in &preview.documents {
        rows.push(PreviewRow {
            label: format!("{} {}", label(doc.kind.name()), doc.number),
            id: doc.document_id.to_string(),
            before: view::Amount::plain(doc.before),
            after: view::Amount::plain(doc.after),
        });
        for item in preview.items.iter().filter(|i| i.document_id == doc.document_id) {
            rows.push(PreviewRow {
                label: format!("Item: {}", item.description),
                id: item.item_id.to_string(),
                before: view::Amount::plain(item.before),
                after: view::Amount::plain(item.after),
            });
        }
    }
    for payment in &preview.payments {
        rows.push(PreviewRow {
            label: format!("Payment {} (unapplied)", payment.payment_id),
            id: payment.payment_id.to_string(),
            before: view::Amount::plain(payment.before),
            after: view::Amount::plain(payment.after),
        });
    }
    let credit = preview.credit_balance;
    if credit.before != credit.after {
        rows.push(PreviewRow {
            label: "Credit balance".to_owned(),
            id: "credit_balance".to_owned(),
            before: view::Amount::plain(credit.before),
            after: view::Amount::plain(credit.after),
        });
    }
    rows.push(PreviewRow {
        label: "Customer balance".to_owned(),
        id: "customer".to_owned(),
        before: view::Amount::balance(preview.customer.before),
        after: view::Amount::balance(preview.customer.after),
    });
    rows
}

/// `POST /invoices/{id}/ACTION` and `/debit-memos/{id}/ACTION`: the form again when it is
/// refused, the preview when it is previewed and not yet confirmed, else the commit.
pub(crate) async fn document_action(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (kind, action) = (kind_of(uri.path()), action_of(uri.path()));
    let Some(id) = DocumentId::parse(&id).filter(|id| DocumentKind::of(id) == kind) else {
        return WebError::NotFound.into_response();
    };
    let fields = Fields::parse(&body);
    let (tenant_id, read_id) = (session.tenant_id.clone(), id.clone());
    let document = match blocking(&state, move |e| e.document(&tenant_id, &read_id)).await {
        Ok(document) => document,
        Err(err) => return err.into_response(),
    };
    if fields.get("version") != version_of(&document) {
        return WebError::Stale.into_response();
    }
    let back = format!("/{}/{id}", super::documents::kind_path(kind));
    let mut page = ActionPage {
        nav: current_nav(),
        section: "customers",
        back: back.clone(),
        title: document_title(&document),
        action,
        verb: if fields.get("apply") == "oldest" {
            "Transfer and apply to the oldest open documents"
        } else {
            verb(action)
        },
        fields: fields.clone(),
        errors: Errors::default(),
        item_choices: item_choices(&document),
        preview: None,
    };
    let act = match parse_act(action, &fields) {
        Ok(act) => act,
        Err(errors) => {
            page.errors = errors;
            return refused(render(&page));
        }
    };
    let preview = act.previewed() && fields.get("confirm").is_empty();
    let done = act.done();
    let (tenant_id, version) = (session.tenant_id.clone(), fields.get("version").to_owned());
    let ran = blocking(&state, move |e| {
        let e = e.expecting(id.as_str(), &version);
        if preview {
            preview_of(&e, &tenant_id, &id, &act).map(Some)
        } else {
            act.commit(&e, &tenant_id, &id).map(|()| None)
        }
    })
    .await;
    match ran {
        Ok(Some(rows)) => {
            page.preview = Some(rows);
            render(&page).into_response()
        }
        Ok(None) => see_other(&format!("{back}?done={done}")),
        Err(WebError::Refused(rejection)) => {
            page.errors = Errors::from_rejection(&rejection, known_fields(action));
            refused(render(&page))
        }
        Err(err) => err.into_response(),
    }
}

/// Reads a refund's form.
fn parse_refund(fields: &Fields) -> Result<NewRefund, Errors> {
    let mut errors = Errors::default();
    let amount = match Amount::parse(fields.get("amount").trim()) {
        Ok(amount) => Some(amount),
        Err(err) => {
            errors.add("amount", err.to_string());
            None
        }
    };
    let method = fields.opt("method").and_then(|name| {
        let method = PaymentMethod::parse(&name);
        if method.is_none() {
            errors.add("method", "one of cash, check, card, ach, other");
        }
        method
    });
    match amount {
        Some(amount) if errors.is_empty() => Ok(NewRefund {
            amount,
            method,
            reference: fields.opt("reference"),
            effective_date: None,
        }),
        _ => Err(errors),
    }
}

/// Where a refund comes from, its page and its title.
async fn refund_source(
    state: &AppState,
    session: &StaffSession,
    path: &str,
    id: &str,
) -> Result<(RefundFrom, String, String), WebError> {
    let tenant_id = session.tenant_id.clone();
    if path.starts_with("/payments") {
        let id = PaymentId::parse(id).ok_or(WebError::NotFound)?;
        let read = id.clone();
        blocking(state, move |e| e.payment(&tenant_id, &read)).await?;
        return Ok((
            RefundFrom::Payment(id.clone()),
            format!("/payments/{id}"),
            format!("Payment {id}"),
        ));
    }
    if path.starts_with("/credit-memos") {
        let id = DocumentId::parse(id)
            .filter(|id| DocumentKind::of(id) == DocumentKind::CreditMemo)
            .ok_or(WebError::NotFound)?;
        let read = id.clone();
        let memo = blocking(state, move |e| e.document(&tenant_id, &read)).await?;
        return Ok((
            RefundFrom::CreditMemo(id.clone()),
            format!("/credit-memos/{id}"),
            document_title(&memo),
        ));
    }
    let id = CustomerId::parse(id).ok_or(WebError::NotFound)?;
    let read = id.clone();
    let customer = blocking(state, move |e| e.customer(&tenant_id, &read)).await?;
    let title = format!("Credit balance of {}", customer.name);
    Ok((RefundFrom::CreditBalance(id.clone()), format!("/customers/{id}"), title))
}

/// `POST /payments/{id}/refunds`, `/credit-memos/{id}/refunds` and
/// `/customers/{id}/credit-balance/refunds`: pays money back, then shows the source's page.
pub(crate) async fn refund(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (from, back, title) = match refund_source(&state, &session, uri.path(), &id).await {
        Ok(source) => source,
        Err(err) => return err.into_response(),
    };
    let fields = Fields::parse(&body);
    let mut page = ActionPage {
        nav: current_nav(),
        section: "customers",
        back: back.clone(),
        title,
        action: "refunds",
        verb: verb("refunds"),
        fields: fields.clone(),
        errors: Errors::default(),
        item_choices: Vec::new(),
        preview: None,
    };
    let new = match parse_refund(&fields) {
        Ok(new) => new,
        Err(errors) => {
            page.errors = errors;
            return refused(render(&page));
        }
    };
    let (tenant_id, version) = (session.tenant_id.clone(), fields.get("version").to_owned());
    let object_id = match &from {
        RefundFrom::Payment(id) => id.to_string(),
        RefundFrom::CreditMemo(id) => id.to_string(),
        RefundFrom::CreditBalance(id) => id.to_string(),
    };
    let refunded = blocking(&state, move |e| {
        // A form drawn from a page carries the version of what it refunds from.
        let e = if version.is_empty() { e.clone() } else { e.expecting(&object_id, &version) };
        e.refund(&tenant_id, from, new)
    })
    .await;
    match refunded {
        Ok(_) => see_other(&format!("{back}?done=refunded")),
        Err(WebError::Refused(rejection)) => {
            page.errors = Errors::from_rejection(&rejection, known_fields("refunds"));
            refused(render(&page))
        }
        Err(err) => err.into_response(),
    }
}

/// `POST /credit-memos/{id}/cancel`.
pub(crate) async fn cancel_credit_memo(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(id) =
        DocumentId::parse(&id).filter(|id| DocumentKind::of(id) == DocumentKind::CreditMemo)
    else {
        return WebError::NotFound.into_response();
    };
    let fields = Fields::parse(&body);
    let tenant_id = session.tenant_id.clone();
    let version = fields.get("version").to_owned();
    let result = blocking(&state, move |e| {
        e.expecting(id.as_str(), &version).cancel_credit_memo(&tenant_id, &id)
    })
    .await;
    match result {
        Ok(memo) => see_other(&format!("/credit-memos/{}?done=canceled", memo.id)),
        Err(err) => err.into_response(),
    }
}

/// The one-line confirmation of a `done` word.
pub(crate) fn done_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "posted" => "Posted.",
        "voided" => "Voided.",
        "netted" => "Items netted: negative item balances offset against positive ones.",
        "transferred" => "Moved to the customer's credit balance.",
        "transferred-applied" => {
            "Moved to the credit balance and applied to the oldest open documents."
        }
        "adjusted" => "Adjustment recorded.",
        "written-off" => "Written off.",
        "refunded" => "Refund recorded.",
        "canceled" => "Credit memo canceled.",
        _ => return None,
    })
}
