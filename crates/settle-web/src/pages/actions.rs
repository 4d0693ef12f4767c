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
use settle_engine::{Amount, Engine, EngineResult, NewAdjustment, NewRefund, RefundFrom};

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
    /// `transfer-to-credit` (`amount`, blank = all).
    Transfer { amount: Option<Amount> },
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
            Act::Transfer { .. } => "transferred",
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
            Act::Transfer { amount } => engine.transfer_to_credit(tenant_id, id, amount).map(drop),
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
        "transfer-to-credit" => Some(Act::Transfer { amount: opt_amount(fields, &mut errors) }),
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

/// The token a document form carries so a command on a page drawn before the document last
/// changed is refused: a digest of the document's status and every item's balance and
/// credited amount, which every command on it changes.
pub(crate) fn version_of(document: &Document) -> String {
    let mut text = format!("{}|{}", document.status.name(), document.number);
    for item in &document.items {
        text.push_str(&format!("|{}:{}:{}", item.id, item.balance.minor(), item.credited.minor()));
    }
    // FNV-1a, 64 bits: stable across builds and processes.
    let digest = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{digest:016x}")
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

/// The preview of `act` on the document, from the engine's dry run. Until the engine offers
/// one, `None`: the page then asks for confirmation without figures.
fn preview_of(
    _engine: &Engine,
    _tenant_id: &TenantId,
    _id: &DocumentId,
    _act: &Act,
) -> EngineResult<Option<Vec<PreviewRow>>> {
    Ok(None)
}

/// What a document action's POST reads before deciding: the document, and the preview when
/// one is asked for.
struct Read {
    document: Document,
    preview: Option<Vec<PreviewRow>>,
}

/// Reads the document an action is on and, for `wanted` when the page is not stale, the
/// preview of that action.
async fn read(
    state: &AppState,
    session: &StaffSession,
    id: &DocumentId,
    version: &str,
    wanted: Option<Act>,
) -> Result<Read, WebError> {
    let (tenant_id, id, version) = (session.tenant_id.clone(), id.clone(), version.to_owned());
    blocking(state, move |e| {
        let document = e.document(&tenant_id, &id)?;
        let preview = match &wanted {
            Some(act) if version == version_of(&document) => preview_of(e, &tenant_id, &id, act)?,
            _ => None,
        };
        Ok(Read { document, preview })
    })
    .await
}

/// `POST /invoices/{id}/ACTION` and `/debit-memos/{id}/ACTION`.
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
    let parsed = parse_act(action, &fields);
    let confirm = !fields.get("confirm").is_empty();
    let wanted = parsed.clone().ok().filter(|act| act.previewed() && !confirm);
    let read = match read(&state, &session, &id, fields.get("version"), wanted).await {
        Ok(read) => read,
        Err(err) => return err.into_response(),
    };
    let back = format!("/{}/{id}", super::documents::kind_path(kind));
    if fields.get("version") != version_of(&read.document) {
        return WebError::Stale.into_response();
    }
    let mut page = ActionPage {
        nav: current_nav(),
        section: "customers",
        back: back.clone(),
        title: document_title(&read.document),
        action,
        verb: verb(action),
        fields: fields.clone(),
        errors: Errors::default(),
        item_choices: item_choices(&read.document),
        preview: None,
    };
    let act = match parsed {
        Ok(act) => act,
        Err(errors) => {
            page.errors = errors;
            return refused(render(&page));
        }
    };
    if act.previewed() && !confirm {
        page.preview = Some(read.preview.unwrap_or_default());
        return render(&page).into_response();
    }
    let done = act.done();
    let (tenant_id, version) = (session.tenant_id.clone(), fields.get("version").to_owned());
    let committed = blocking(&state, move |e| {
        if version != version_of(&e.document(&tenant_id, &id)?) {
            return Ok(false);
        }
        act.commit(e, &tenant_id, &id).map(|()| true)
    })
    .await;
    match committed {
        Ok(true) => see_other(&format!("{back}?done={done}")),
        Ok(false) => WebError::Stale.into_response(),
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
    let tenant_id = session.tenant_id.clone();
    match blocking(&state, move |e| e.refund(&tenant_id, from, new)).await {
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
        let memo = e.document(&tenant_id, &id)?;
        if version != version_of(&memo) {
            return Ok(None);
        }
        e.cancel_credit_memo(&tenant_id, &id).map(Some)
    })
    .await;
    match result {
        Ok(Some(memo)) => see_other(&format!("/credit-memos/{}?done=canceled", memo.id)),
        Ok(None) => WebError::Stale.into_response(),
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
        "adjusted" => "Adjustment recorded.",
        "written-off" => "Written off.",
        "refunded" => "Refund recorded.",
        "canceled" => "Credit memo canceled.",
        _ => return None,
    })
}
