//! Attention: what needs a person. For now the negative invoices and debit memos (seed 000);
//! the other cases of UI.md and their fixes come with the resolving workflows.

use std::collections::BTreeMap;

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
    let read = blocking(&state, move |e| {
        let got = e.documents(&tenant_id, &query, &page)?;
        let mut names = BTreeMap::new();
        let mut rows = Vec::with_capacity(got.rows.len());
        for document in &got.rows {
            let id = &document.customer_id;
            if !names.contains_key(id) {
                names.insert(id.clone(), e.customer(&tenant_id, id)?.name);
            }
            let mut row = DocumentRow::of(document);
            row.customer_name = names.get(id).cloned().unwrap_or_default();
            rows.push(row);
        }
        Ok((rows, got.next_cursor.is_some()))
    })
    .await;
    match read {
        Ok((rows, more)) => {
            render(&AttentionPage { nav: current_nav(), section: "attention", rows, more })
                .into_response()
        }
        Err(err) => err.into_response(),
    }
}
