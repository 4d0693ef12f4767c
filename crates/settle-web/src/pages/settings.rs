//! Settings (admins only): the tenant's settings, read only for now (the API changes them).

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::call::blocking;
use crate::session::{Nav, current_nav, require_admin};
use crate::templates::render;
use settle_engine::StaffSession;

/// The settings page.
#[derive(Template)]
#[template(path = "settings.html")]
pub(crate) struct SettingsPage {
    nav: Option<Nav>,
    section: &'static str,
    default_currency: &'static str,
    time_zone: String,
    application_rule: &'static str,
    negative_invoice_policy: &'static str,
    auto_apply_credit: bool,
}

/// `GET /settings`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let tenant_id = session.tenant_id;
    match blocking(&state, move |e| e.settings(&tenant_id)).await {
        Ok(settings) => render(&SettingsPage {
            nav: current_nav(),
            section: "settings",
            default_currency: settings.default_currency.code(),
            time_zone: settings.time_zone,
            application_rule: settings.application_rule.name(),
            negative_invoice_policy: settings.negative_invoice_policy.name(),
            auto_apply_credit: settings.auto_apply_credit,
        })
        .into_response(),
        Err(err) => err.into_response(),
    }
}
