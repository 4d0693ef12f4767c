//! Attention: what needs a person. For now the negative invoices and debit memos (seed 000);
//! the other cases of UI.md and their fixes come with the resolving workflows.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use settle_core::document::{DocumentKind, DocumentStatus};
use settle_store::{BalanceFilter, DocumentQuery, PageRequest};

use super::customers::DocumentRow;
use crate::AppState;
use crate::call::blocking;
use crate::session::{Nav, current_nav};
use crate::templates::render;
use settle_engine::StaffSession;

/// The attention page.
#[derive(Template)]
#[template(path = "attention.html")]
pub(crate) struct AttentionPage {
    nav: Option<Nav>,
    section: &'static str,
    rows: Vec<DocumentRow>,
    more: bool,
}

/// Documents listed before "and more".
const LIMIT: u32 = 200;

/// `GET /attention`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
) -> Response {
    let tenant_id = session.tenant_id;
    let query = DocumentQuery {
        kinds: vec![DocumentKind::Invoice, DocumentKind::DebitMemo],
        customer_id: None,
        status: Some(DocumentStatus::Posted),
        balance: Some(BalanceFilter::Negative),
    };
    let page = PageRequest { limit: LIMIT, cursor: None };
    match blocking(&state, move |e| e.documents(&tenant_id, &query, &page)).await {
        Ok(got) => render(&AttentionPage {
            nav: current_nav(),
            section: "attention",
            rows: got.rows.iter().map(DocumentRow::of).collect(),
            more: got.next_cursor.is_some(),
        })
        .into_response(),
        Err(err) => err.into_response(),
    }
}
