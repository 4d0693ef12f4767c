//! Add Entry (seed 002): a charge or a credit on the customer's page, through the same engine
//! command as `POST /v1/customers/{id}/entries`.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use settle_core::ids::CustomerId;
use settle_core::payment::PaymentMethod;
use settle_engine::{Amount, EntryKind, NewEntry};

use super::customers::customer_id;
use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use settle_engine::StaffSession;

/// The Add Entry form.
#[derive(Template)]
#[template(path = "entry_new.html")]
pub(crate) struct EntryPage {
    nav: Option<Nav>,
    section: &'static str,
    customer_id: String,
    customer_name: String,
    currency: &'static str,
    fields: Fields,
    errors: Errors,
}

impl EntryPage {
    fn kind_is(&self, kind: &str) -> bool {
        let sent = self.fields.get("kind");
        sent == kind || (sent.is_empty() && kind == "charge")
    }
}

async fn page(
    state: &AppState,
    session: &StaffSession,
    id: CustomerId,
    fields: Fields,
    errors: Errors,
) -> Result<EntryPage, WebError> {
    let tenant_id = session.tenant_id.clone();
    let customer = blocking(state, move |e| e.customer(&tenant_id, &id)).await?;
    Ok(EntryPage {
        nav: current_nav(),
        section: "customers",
        customer_id: customer.id.to_string(),
        customer_name: customer.name,
        currency: customer.currency.code(),
        fields,
        errors,
    })
}

/// `GET /customers/{id}/entries/new`.
pub(crate) async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Response {
    if let Err(err) = crate::session::require_writer(&session) {
        return err.into_response();
    }
    let result = match customer_id(&id) {
        Ok(id) => page(&state, &session, id, Fields::default(), Errors::default()).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(page) => render(&page).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Reads the form into the engine's request, or says which field is wrong.
fn parse(fields: &Fields) -> Result<NewEntry, Errors> {
    let mut errors = Errors::default();
    let kind = match fields.get("kind") {
        "charge" => Some(EntryKind::Charge),
        "credit" => Some(EntryKind::Credit),
        _ => {
            errors.add("kind", "choose Charge or Credit");
            None
        }
    };
    let payment_method = match fields.opt("payment_method") {
        None => None,
        Some(name) => {
            let method = PaymentMethod::parse(&name);
            if method.is_none() {
                errors.add("payment_method", "one of cash, check, card, ach, other");
            }
            method
        }
    };
    let effective_date = match fields.opt("effective_date") {
        None => None,
        Some(text) => {
            let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
            if date.is_none() {
                errors.add("effective_date", "a date as YYYY-MM-DD");
            }
            date
        }
    };
    match kind {
        Some(kind) if errors.is_empty() => Ok(NewEntry {
            kind,
            amount: Amount::new(fields.get("amount").trim()),
            description: fields.get("description").to_owned(),
            payment_method,
            notes: fields.opt("notes"),
            effective_date,
        }),
        _ => Err(errors),
    }
}

/// The form's fields, where the engine's refusals are shown.
const FIELDS: [&str; 6] =
    ["kind", "amount", "description", "payment_method", "notes", "effective_date"];

/// `POST /customers/{id}/entries/new`: adds the entry and goes back to the customer page.
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
    let errors = match parse(&fields) {
        Ok(new) => {
            let done = if new.kind == EntryKind::Charge { "charge" } else { "credit" };
            let (tenant_id, customer) = (session.tenant_id.clone(), id.clone());
            match blocking(&state, move |e| e.add_entry(&tenant_id, &customer, new)).await {
                Ok(_) => return see_other(&format!("/customers/{id}?done={done}#billing")),
                Err(WebError::Refused(rejection)) => Errors::from_rejection(&rejection, &FIELDS),
                Err(err) => return err.into_response(),
            }
        }
        Err(errors) => errors,
    };
    match page(&state, &session, id, fields, errors).await {
        Ok(page) => refused(render(&page)),
        Err(err) => err.into_response(),
    }
}
