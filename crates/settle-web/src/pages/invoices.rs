//! The new-invoice form: several lines (an amount, or quantity × unit price, each with an
//! optional tax by rate or amount), an optional invoice it adjusts, post now or save as draft.
//! Without JavaScript the form offers [`LINES`] blank lines and ignores the empty ones.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use settle_core::document::DocumentKind;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId};
use settle_core::money::parse_decimal;
use settle_engine::{Amount, NewDocument, NewItem, NewTax};

use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use settle_engine::StaffSession;

/// Blank lines the form offers.
pub(crate) const LINES: usize = 5;

/// The new-invoice form.
#[derive(Template)]
#[template(path = "invoice_new.html")]
pub(crate) struct InvoicePage {
    nav: Option<Nav>,
    section: &'static str,
    customer_id: String,
    customer_name: String,
    currency: &'static str,
    lines: Vec<usize>,
    fields: Fields,
    errors: Errors,
}

impl InvoicePage {
    /// A line's field name, as the engine names it in refusals (`items[0].amount`).
    fn name(&self, line: &usize, field: &str) -> String {
        format!("items[{line}].{field}")
    }

    fn value(&self, line: &usize, field: &str) -> &str {
        self.fields.get(&self.name(line, field))
    }

    fn error(&self, line: &usize, field: &str) -> Option<&str> {
        self.errors.get(&self.name(line, field))
    }
}

async fn page(
    state: &AppState,
    session: &StaffSession,
    customer_id: Option<CustomerId>,
    fields: Fields,
    errors: Errors,
) -> Result<InvoicePage, WebError> {
    let id = customer_id.ok_or(WebError::NotFound)?;
    let tenant_id = session.tenant_id.clone();
    let customer = blocking(state, move |e| e.customer(&tenant_id, &id)).await?;
    Ok(InvoicePage {
        nav: current_nav(),
        section: "customers",
        customer_id: customer.id.to_string(),
        customer_name: customer.name,
        currency: customer.currency.code(),
        lines: (0..LINES).collect(),
        fields,
        errors,
    })
}

/// `GET /invoices/new?customer_id=`.
pub(crate) async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(err) = crate::session::require_writer(&session) {
        return err.into_response();
    }
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let customer_id = CustomerId::parse(query.get("customer_id"));
    // An adjustment invoice opened from its invoice's page (seed 000 option 2) comes prefilled.
    let mut fields = Fields::default();
    if let Some(adjusts) = query.opt("adjusts_invoice_id") {
        fields.set("adjusts_invoice_id", adjusts);
    }
    match page(&state, &session, customer_id, fields, Errors::default()).await {
        Ok(page) => render(&page).into_response(),
        Err(err) => err.into_response(),
    }
}

fn decimal(fields: &Fields, name: &str, errors: &mut Errors) -> Option<Decimal> {
    let text = fields.opt(name)?;
    let value = parse_decimal(&text);
    if value.is_none() {
        errors.add(name, "a decimal number such as 2 or 12.50");
    }
    value
}

fn date(fields: &Fields, name: &str, errors: &mut Errors) -> Option<NaiveDate> {
    let text = fields.opt(name)?;
    let value = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
    if value.is_none() {
        errors.add(name, "a date as YYYY-MM-DD");
    }
    value
}

/// Reads an amount field; a refusal in the API's words goes beside it.
fn amount(fields: &Fields, name: &str, errors: &mut Errors) -> Option<Amount> {
    let text = fields.opt(name)?;
    match Amount::parse(&text) {
        Ok(amount) => Some(amount),
        Err(err) => {
            errors.add(name, err.to_string());
            None
        }
    }
}

/// Reads one line; `None` when it is left blank.
fn line(fields: &Fields, idx: usize, errors: &mut Errors) -> Option<NewItem> {
    let name = |field: &str| format!("items[{idx}].{field}");
    let filled = ["description", "amount", "quantity", "unit_price", "tax_rate", "tax_amount"]
        .iter()
        .any(|f| fields.opt(&name(f)).is_some());
    if !filled {
        return None;
    }
    let tax_rate = decimal(fields, &name("tax_rate"), errors);
    let tax_amount = amount(fields, &name("tax_amount"), errors);
    let taxes = if tax_rate.is_some() || tax_amount.is_some() {
        let tax_name = fields.opt(&name("tax_name")).unwrap_or_else(|| "Tax".to_owned());
        vec![NewTax { name: tax_name, rate: tax_rate, amount: tax_amount }]
    } else {
        Vec::new()
    };
    Some(NewItem {
        description: fields.get(&name("description")).trim().to_owned(),
        amount: amount(fields, &name("amount"), errors),
        quantity: decimal(fields, &name("quantity"), errors),
        unit_price: decimal(fields, &name("unit_price"), errors),
        taxes,
        invoice_item_id: None,
    })
}

/// Reads the form into the engine's request and, per sent line, the form line it came from.
fn parse(fields: &Fields, customer_id: CustomerId) -> Result<(NewDocument, Vec<usize>), Errors> {
    let mut errors = Errors::default();
    let mut items = Vec::new();
    let mut lines = Vec::new();
    for idx in 0..LINES {
        if let Some(item) = line(fields, idx, &mut errors) {
            items.push(item);
            lines.push(idx);
        }
    }
    if items.is_empty() {
        errors.add("items[0].description", "fill in at least one line");
    }
    let adjusts_invoice_id = fields.opt("adjusts_invoice_id").and_then(|text| {
        let id = DocumentId::parse(&text);
        if id.is_none() {
            errors.add("adjusts_invoice_id", "an invoice id such as inv_…");
        }
        id
    });
    let new = NewDocument {
        kind: DocumentKind::Invoice,
        customer_id,
        items,
        invoice_date: date(fields, "invoice_date", &mut errors),
        due_date: date(fields, "due_date", &mut errors),
        adjusts_invoice_id,
        reason: fields.opt("reason"),
        post: fields.get("post") == "true",
    };
    if errors.is_empty() { Ok((new, lines)) } else { Err(errors) }
}

/// The engine names sent lines by their place among the sent ones; the form by its own line.
pub(crate) fn form_field(field: &str, lines: &[usize]) -> String {
    let Some(rest) = field.strip_prefix("items[") else { return field.to_owned() };
    let Some((idx, tail)) = rest.split_once(']') else { return field.to_owned() };
    let Some(line) = idx.parse::<usize>().ok().and_then(|i| lines.get(i)) else {
        return field.to_owned();
    };
    let tail =
        tail.replace(".taxes[0].rate", ".tax_rate").replace(".taxes[0].amount", ".tax_amount");
    let tail = tail.replace(".taxes[0].name", ".tax_name");
    format!("items[{line}]{tail}")
}

/// Every field of the form, where refusals can be shown.
fn known_fields() -> Vec<String> {
    let mut known: Vec<String> =
        ["invoice_date", "due_date", "adjusts_invoice_id", "reason"].map(str::to_owned).to_vec();
    for idx in 0..LINES {
        for f in [
            "description",
            "amount",
            "quantity",
            "unit_price",
            "tax_name",
            "tax_rate",
            "tax_amount",
        ] {
            known.push(format!("items[{idx}].{f}"));
        }
    }
    known
}

/// `POST /invoices/new?customer_id=`: creates the invoice (posted, or a draft) and opens it.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let sent = fields.opt("customer_id").unwrap_or_else(|| query.get("customer_id").to_owned());
    let Some(customer_id) = CustomerId::parse(&sent) else {
        return WebError::NotFound.into_response();
    };
    let errors = match parse(&fields, customer_id.clone()) {
        Ok((new, lines)) => {
            let tenant_id = session.tenant_id.clone();
            match blocking(&state, move |e| e.create_document(&tenant_id, new)).await {
                Ok(document) => return see_other(&format!("/invoices/{}", document.id)),
                Err(WebError::Refused(rejection)) => {
                    let mut rejection = rejection;
                    if let Rejection::Invalid { field, .. }
                    | Rejection::AmountOutOfRange { field } = &mut rejection
                    {
                        *field = form_field(field, &lines);
                    }
                    let known = known_fields();
                    let known: Vec<&str> = known.iter().map(String::as_str).collect();
                    Errors::from_rejection(&rejection, &known)
                }
                Err(err) => return err.into_response(),
            }
        }
        Err(errors) => errors,
    };
    match page(&state, &session, Some(customer_id), fields, errors).await {
        Ok(page) => refused(render(&page)),
        Err(err) => err.into_response(),
    }
}
