//! Settings (admins only): the tenant's settings as a form, each with a sentence saying what it
//! changes; saving writes them all through `Engine::update_settings`, or re-renders the form
//! with the API's words beside each refused field and writes nothing.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use settle_core::application::Rule;
use settle_core::error::Rejection;
use settle_core::money::Currency;
use settle_core::settings::{NegativeInvoicePolicy, Settings};
use settle_engine::{SettingsPatch, StaffSession, TimeZone};

use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav, require_admin};
use crate::templates::render;

/// The form's fields, in the order shown.
pub(crate) const FIELDS: [&str; 6] = [
    "business_name",
    "application_rule",
    "negative_invoice_policy",
    "auto_apply_credit",
    "time_zone",
    "default_currency",
];

/// One choice of a select: its value, its label, and whether it is the one chosen.
pub(crate) struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn choices(options: &[(&'static str, &'static str)], chosen: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|&(value, label)| Choice { value, label, selected: value == chosen })
        .collect()
}

const RULES: [(&str, &str); 3] =
    [("net_first", "Net first"), ("proration", "Proration"), ("sequential", "Sequential")];

const POLICIES: [(&str, &str); 3] = [
    ("keep", "Keep for a person to resolve"),
    ("transfer_to_credit", "Transfer to the credit balance"),
    ("transfer_and_apply", "Transfer to the credit balance and apply it"),
];

/// The settings page.
#[derive(Template)]
#[template(path = "settings.html")]
pub(crate) struct SettingsPage {
    nav: Option<Nav>,
    section: &'static str,
    rules: Vec<Choice>,
    policies: Vec<Choice>,
    auto_apply_credit: bool,
    time_zone: String,
    default_currency: String,
    business_name: String,
    errors: Errors,
    done: Option<&'static str>,
}

impl SettingsPage {
    /// The form showing `fields` (the stored settings, or what was sent).
    fn of(fields: &Fields, errors: Errors, done: Option<&'static str>) -> SettingsPage {
        SettingsPage {
            nav: current_nav(),
            section: "settings",
            rules: choices(&RULES, fields.get("application_rule")),
            policies: choices(&POLICIES, fields.get("negative_invoice_policy")),
            auto_apply_credit: checked(fields.get("auto_apply_credit")) == Some(true),
            time_zone: fields.get("time_zone").to_owned(),
            default_currency: fields.get("default_currency").to_owned(),
            business_name: fields.get("business_name").to_owned(),
            errors,
            done,
        }
    }
}

/// The stored settings as the form's fields.
fn fields_of(settings: &Settings) -> Fields {
    let auto = if settings.auto_apply_credit { "true" } else { "" };
    let pairs = [
        ("application_rule", settings.application_rule.name()),
        ("negative_invoice_policy", settings.negative_invoice_policy.name()),
        ("auto_apply_credit", auto),
        ("time_zone", settings.time_zone.as_str()),
        ("default_currency", settings.default_currency.code()),
        ("business_name", settings.business_name.as_str()),
    ];
    Fields::parse(serde_urlencoded::to_string(pairs).unwrap_or_default().as_bytes())
}

/// A checkbox: absent is off, `true` (or a browser's `on`) is on, anything else is no answer.
fn checked(text: &str) -> Option<bool> {
    match text {
        "" => Some(false),
        "true" | "on" => Some(true),
        _ => None,
    }
}

/// `GET /settings?done=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let done = (query.get("done") == "saved").then_some("Settings saved.");
    let tenant_id = session.tenant_id;
    match blocking(&state, move |e| e.settings(&tenant_id)).await {
        Ok(settings) => render(&SettingsPage::of(&fields_of(&settings), Errors::default(), done))
            .into_response(),
        Err(err) => err.into_response(),
    }
}

/// Reads the whole form into a patch, with the API's words for each field that is wrong.
pub(crate) fn patch_of(fields: &Fields) -> Result<SettingsPatch, Errors> {
    let mut errors = Errors::default();
    let rule = Rule::parse(fields.get("application_rule"));
    if rule.is_none() {
        errors.add("application_rule", "proration, sequential or net_first");
    }
    let policy = NegativeInvoicePolicy::parse(fields.get("negative_invoice_policy"));
    if policy.is_none() {
        errors.add("negative_invoice_policy", "keep, transfer_to_credit or transfer_and_apply");
    }
    let auto = checked(fields.get("auto_apply_credit"));
    if auto.is_none() {
        errors.add("auto_apply_credit", "true or false");
    }
    let zone = TimeZone::parse(fields.get("time_zone").trim());
    if zone.is_none() {
        errors.add("time_zone", "an IANA time zone such as Europe/Paris");
    }
    let currency = match Currency::parse(&fields.get("default_currency").trim().to_uppercase()) {
        Ok(currency) => Some(currency),
        Err(err) => {
            let refusal = settle_api::field_error(&Rejection::money("default_currency", err));
            let message = refusal.map_or_else(|| "an ISO 4217 currency code".into(), |e| e.message);
            errors.add("default_currency", message);
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SettingsPatch {
        default_currency: currency,
        time_zone: zone,
        application_rule: rule,
        negative_invoice_policy: policy,
        auto_apply_credit: auto,
        business_name: Some(fields.get("business_name").to_owned()),
    })
}

/// `POST /settings`: saves every field, then back to the form with a confirmation.
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    body: Bytes,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let fields = Fields::parse(&body);
    let errors = match patch_of(&fields) {
        Ok(patch) => {
            let tenant_id = session.tenant_id;
            match blocking(&state, move |e| e.update_settings(&tenant_id, patch)).await {
                Ok(_) => return see_other("/settings?done=saved"),
                Err(WebError::Refused(rejection)) => Errors::from_rejection(&rejection, &FIELDS),
                Err(err) => return err.into_response(),
            }
        }
        Err(errors) => errors,
    };
    refused(render(&SettingsPage::of(&fields, errors, None)))
}
