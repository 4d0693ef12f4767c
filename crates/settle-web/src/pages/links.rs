//! Payment links on the customer page: Generate Link (the URL shown once, with a Copy button)
//! and Revoke.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::customers::{customer_id, load, show_page};
use super::see_other;
use crate::AppState;
use crate::call::blocking;
use crate::form::Fields;
use crate::session::is_https;
use crate::templates::render;
use settle_engine::StaffSession;

/// The base of links: the configured public URL, else this request's host.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if is_https(state, headers) { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// `POST /customers/{id}/payment-links`: makes a link and shows the customer page with its URL,
/// the only time the token is shown.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let id = match customer_id(&id) {
        Ok(id) => id,
        Err(err) => return err.into_response(),
    };
    let (tenant_id, customer) = (session.tenant_id.clone(), id.to_string());
    let created =
        match blocking(&state, move |e| e.create_payment_link(&tenant_id, &customer, None)).await {
            Ok(created) => created,
            Err(err) => return err.into_response(),
        };
    let url = format!("{}/pay/{}", base_url(&state, &headers), created.token);
    match load(&state, &session, id, None).await {
        Ok(data) => (StatusCode::CREATED, render(&show_page(data, Some(url), ""))).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `POST /payment-links/{id}/revoke`: back to the customer page named in the form.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(link_id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let tenant_id = session.tenant_id.clone();
    if let Err(err) = blocking(&state, move |e| e.revoke_payment_link(&tenant_id, &link_id)).await {
        return err.into_response();
    }
    match fields.opt("customer_id").and_then(|c| customer_id(&c).ok()) {
        Some(customer) => see_other(&format!("/customers/{customer}?done=revoked#payment-link")),
        None => see_other("/customers"),
    }
}
