//! The amendment form of the subscription page (`POST /subscriptions/{id}/amendments`), which
//! also serves Cancel now and Cancel at period end (a `cancel` change): sending it shows the
//! proration invoice the amendment would make and every balance before → after, from the
//! engine's own dry run (`Engine::preview_amendment`); only `confirm` amends.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use settle_core::document::{Document, ItemKind};
use settle_core::error::Rejection;
use settle_core::ids::{PriceId, SubscriptionId, SubscriptionItemId};
use settle_core::subscription::Timing;
use settle_engine::{NewAmendment, NewChange, StaffSession};

use super::actions::{PreviewRow, preview_rows};
use super::subscriptions::{load, opt_date, opt_quantity, show_page, subscription_id};
use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view;

/// The amendment form's fields (the API's, one change per form), where refusals are shown.
const FIELDS: [&str; 6] = ["effective_date", "timing", "type", "item_id", "price_id", "quantity"];

/// Reads the form into the engine's request, or says which field is wrong.
fn parse(fields: &Fields) -> Result<NewAmendment, Errors> {
    let mut errors = Errors::default();
    let effective_date = opt_date(fields, "effective_date", &mut errors);
    let timing = Timing::parse(fields.get("timing"));
    if timing.is_none() {
        errors.add("timing", "choose Immediately or At the end of the period");
    }
    let kind = fields.get("type").to_owned();
    let needs_item = matches!(kind.as_str(), "remove_item" | "change_quantity" | "change_price");
    let needs_price = matches!(kind.as_str(), "add_item" | "change_price");
    let item_id = match fields.opt("item_id").filter(|_| needs_item) {
        None => None,
        Some(text) => {
            let id = SubscriptionItemId::parse(&text);
            if id.is_none() {
                errors.add("item_id", "choose an item");
            }
            id
        }
    };
    let price_id = match fields.opt("price_id").filter(|_| needs_price) {
        None => None,
        Some(text) => {
            let id = PriceId::parse(&text);
            if id.is_none() {
                errors.add("price_id", "choose a price");
            }
            id
        }
    };
    let wants_quantity = matches!(kind.as_str(), "add_item" | "change_quantity");
    let quantity =
        if wants_quantity { opt_quantity(fields, "quantity", &mut errors) } else { None };
    match timing {
        Some(timing) if errors.is_empty() => Ok(NewAmendment {
            effective_date,
            timing,
            changes: vec![NewChange { kind, item_id, price_id, quantity }],
        }),
        _ => Err(errors),
    }
}

/// The engine's refusal beside the form's field: `changes[0].item_id` is the form's `item_id`.
fn errors_of(rejection: &Rejection) -> Errors {
    let mut errors = Errors::default();
    match settle_api::field_error(rejection) {
        Some(e) => {
            let field = e.field.strip_prefix("changes[0].").unwrap_or(&e.field).to_owned();
            if FIELDS.contains(&field.as_str()) {
                errors.add(&field, e.message);
            } else {
                errors.general = Some(format!("{}: {}", field.replace('_', " "), e.message));
            }
        }
        None => errors.general = Some(view::rejection_text(rejection)),
    }
    errors
}

/// One line of the proration invoice an amendment would make.
pub(crate) struct LineRow {
    id: String,
    description: String,
    is_tax: bool,
    /// The invoice item a credit line credits (`credits_item_id`), when it names one.
    credits: String,
    amount: view::Amount,
}

/// The preview of an amendment: its invoice's lines, every balance before → after, and the
/// form again with `confirm`.
#[derive(Template)]
#[template(path = "amendment.html")]
pub(crate) struct PreviewPage {
    nav: Option<Nav>,
    section: &'static str,
    id: String,
    customer_name: String,
    customer_id: String,
    /// `Cancel` or `Amend`.
    verb: &'static str,
    timing: &'static str,
    takes_effect_on: String,
    lines: Vec<LineRow>,
    invoice_total: Option<view::Amount>,
    rows: Vec<PreviewRow>,
    fields: Fields,
}

fn lines_of(invoice: &Document) -> Vec<LineRow> {
    invoice
        .items
        .iter()
        .map(|item| LineRow {
            id: item.id.to_string(),
            description: item.description.clone(),
            is_tax: item.kind == ItemKind::Tax,
            credits: item.invoice_item_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            amount: view::Amount::plain(item.amount),
        })
        .collect()
}

/// `POST /subscriptions/{id}/amendments`: the subscription page again when the form is
/// refused, the preview when it is not yet confirmed, else the amendment.
pub(crate) async fn amend(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match subscription_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let fields = Fields::parse(&body);
    let new = match parse(&fields) {
        Ok(new) => new,
        Err(errors) => return refuse(&state, &session, id, fields, errors).await,
    };
    let cancel = new.changes.iter().any(|c| c.kind == "cancel");
    let tenant_id = session.tenant_id.clone();
    let sub = id.clone();
    let result = if fields.get("confirm").is_empty() {
        blocking(&state, move |e| e.preview_amendment(&tenant_id, &sub, new)).await.map(Some)
    } else {
        blocking(&state, move |e| e.amend_subscription(&tenant_id, &sub, new)).await.map(|_| None)
    };
    match result {
        Ok(Some((outcome, preview))) => {
            let data = match load(&state, &session, id.clone()).await {
                Ok(data) => data,
                Err(err) => return err.into_response(),
            };
            let page = show_page(data, Fields::default(), Errors::default(), "");
            let invoice = outcome.invoice.as_ref();
            render(&PreviewPage {
                nav: current_nav(),
                section: "customers",
                id: id.to_string(),
                customer_name: page.customer_name,
                customer_id: page.customer_id,
                verb: if cancel { "Cancel subscription" } else { "Amend subscription" },
                timing: outcome.amendment.timing.name(),
                takes_effect_on: outcome.amendment.takes_effect_on.to_string(),
                lines: invoice.map(lines_of).unwrap_or_default(),
                invoice_total: invoice.map(|d| view::Amount::plain(d.total())),
                rows: preview_rows(&preview),
                fields,
            })
            .into_response()
        }
        Ok(None) => {
            let done = if cancel { "canceled" } else { "amended" };
            see_other(&format!("/subscriptions/{id}?done={done}"))
        }
        Err(WebError::Refused(rejection)) => {
            refuse(&state, &session, id, fields, errors_of(&rejection)).await
        }
        Err(err) => err.into_response(),
    }
}

/// The subscription page again, 422, with the refusal beside the amendment form's field.
async fn refuse(
    state: &AppState,
    session: &StaffSession,
    id: SubscriptionId,
    fields: Fields,
    errors: Errors,
) -> Response {
    match load(state, session, id).await {
        Ok(data) => refused(render(&show_page(data, fields, errors, ""))),
        Err(err) => err.into_response(),
    }
}
