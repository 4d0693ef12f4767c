//! The handlers, one module per area of the back office, and the public payment page.

pub(crate) mod actions;
pub(crate) mod amendments;
pub(crate) mod api_keys;
pub(crate) mod applications;
pub(crate) mod attention;
pub(crate) mod bill_runs;
pub(crate) mod catalog;
pub(crate) mod collect;
pub(crate) mod credits;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod entries;
pub(crate) mod invoices;
pub(crate) mod links;
pub(crate) mod login;
pub(crate) mod pay;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod subscriptions;
pub(crate) mod users;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// 303 to `to`, the answer to every successful form.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A re-rendered form after a refusal.
pub(crate) fn refused(html: axum::response::Html<String>) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, html).into_response()
}
