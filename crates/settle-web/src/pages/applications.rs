//! Unapply (seed 000 option 1 step 1): `/applications/{id}/reverse` reverses an application
//! wholly, or partly by `amount`, and its value goes back to its source. The button sits on
//! every application row of the invoice, payment and credit memo pages; a refusal re-renders
//! the form on its own page with the engine's words beside the amount.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use settle_core::application::Application;
use settle_core::ids::ApplicationId;
use settle_engine::{Amount as EngineAmount, StaffSession};

use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav, require_writer};
use crate::templates::render;
use crate::view::{Amount, object_href};

/// The Unapply form of one application.
#[derive(Template)]
#[template(path = "unapply.html")]
pub(crate) struct UnapplyPage {
    nav: Option<Nav>,
    section: &'static str,
    id: String,
    source: String,
    source_href: Option<String>,
    target: String,
    target_href: Option<String>,
    net: Amount,
    back: String,
    fields: Fields,
    errors: Errors,
}

/// Where to go back to: the page the form was sent from when it is the source's or the
/// target's page (nothing else, so no link can send a clerk elsewhere), else the target's.
fn back(application: &Application, sent: &str) -> String {
    let target = object_href(application.target_id.as_str()).unwrap_or_default();
    let source = application.source.id().and_then(object_href);
    if source.as_deref() == Some(sent) { sent.to_owned() } else { target }
}

fn page(application: &Application, fields: Fields, errors: Errors) -> UnapplyPage {
    let source = application.source.id().map_or("credit balance", |id| id).to_owned();
    UnapplyPage {
        nav: current_nav(),
        section: "customers",
        id: application.id.to_string(),
        source_href: object_href(&source),
        source,
        target_href: object_href(application.target_id.as_str()),
        target: application.target_id.to_string(),
        net: Amount::plain(application.net()),
        back: back(application, fields.get("back")),
        fields,
        errors,
    }
}

async fn load(state: &AppState, session: &StaffSession, id: &str) -> Result<Application, WebError> {
    let id = ApplicationId::parse(id).ok_or(WebError::NotFound)?;
    let tenant_id = session.tenant_id.clone();
    blocking(state, move |e| e.application(&tenant_id, &id)).await
}

/// `GET /applications/{id}/reverse`: the form alone.
pub(crate) async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
) -> Response {
    if let Err(err) = require_writer(&session) {
        return err.into_response();
    }
    match load(&state, &session, &id).await {
        Ok(application) => {
            render(&page(&application, Fields::default(), Errors::default())).into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// `POST /applications/{id}/reverse` (`amount`, empty for all that is still applied).
pub(crate) async fn reverse(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let application = match load(&state, &session, &id).await {
        Ok(application) => application,
        Err(err) => return err.into_response(),
    };
    let fields = Fields::parse(&body);
    let amount = match fields.opt("amount").map(|text| EngineAmount::parse(&text)).transpose() {
        Ok(amount) => amount,
        Err(err) => {
            let mut errors = Errors::default();
            errors.add("amount", err.to_string());
            return refused(render(&page(&application, fields, errors)));
        }
    };
    let (tenant_id, app_id) = (session.tenant_id.clone(), application.id.clone());
    match blocking(&state, move |e| e.reverse_application(&tenant_id, &app_id, amount)).await {
        Ok(_) => see_other(&format!("{}?done=unapplied", back(&application, fields.get("back")))),
        Err(WebError::Refused(rejection)) => {
            // The form has one field: every refusal is about the amount.
            let mut errors = Errors::default();
            let words = settle_api::field_error(&rejection)
                .map_or_else(|| rejection.to_string(), |e| e.message);
            errors.add("amount", words);
            let fresh = load(&state, &session, &id).await.unwrap_or(application);
            refused(render(&page(&fresh, fields, errors)))
        }
        Err(err) => err.into_response(),
    }
}
