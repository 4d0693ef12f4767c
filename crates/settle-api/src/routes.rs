//! The route table, and helpers shared by the handlers.

pub(crate) mod applications;
pub(crate) mod credits;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod export;
pub(crate) mod keys;
pub(crate) mod payments;
pub(crate) mod reports;

use axum::Router;
use axum::routing::MethodRouter;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use settle_store::{Page, PageRequest};

pub(crate) use customers::entry_out;

use crate::AppState;
use crate::dto::ListOut;
use crate::error::ApiError;

/// The upper-case name of a routing method.
macro_rules! method_name {
    (get) => {
        "GET"
    };
    (post) => {
        "POST"
    };
    (patch) => {
        "PATCH"
    };
    (put) => {
        "PUT"
    };
    (delete) => {
        "DELETE"
    };
}

/// The one list of routes: it builds both the router ([`routes`]) and [`route_table`], which
/// the `openapi` integration test compares with the OpenAPI document, so a route added here
/// without a `#[utoipa::path]` listed in `crate::openapi` fails that test. Add routes only here.
macro_rules! route_table {
    ($($path:literal => $($method:ident($handler:path)),+;)+) => {
        /// Every route of the API as `(METHOD, path)`, in the order the router is built from.
        pub fn route_table() -> &'static [(&'static str, &'static str)] {
            &[$($((method_name!($method), $path),)+)+]
        }

        pub(crate) fn routes() -> Router<AppState> {
            Router::new()$(.route($path, MethodRouter::new()$(.$method($handler))+))+
        }
    };
}

route_table! {
    "/healthz" => get(health);
    "/openapi.json" => get(crate::openapi::serve);
    "/v1/api-keys" => post(keys::create);
    "/v1/api-keys/{id}" => delete(keys::revoke);
    "/v1/customers" => post(customers::create), get(customers::list);
    "/v1/customers/{id}" => get(customers::show), patch(customers::update);
    "/v1/customers/{id}/history" => get(customers::history);
    "/v1/customers/{id}/entries" => post(customers::add_entry);
    "/v1/invoices" => post(documents::create_invoice), get(documents::list_invoices);
    "/v1/invoices/{id}" => get(documents::show_invoice);
    "/v1/invoices/{id}/post" => post(documents::post_invoice);
    "/v1/invoices/{id}/void" => post(documents::void_invoice);
    "/v1/invoices/{id}/net-items" => post(documents::net_invoice);
    "/v1/invoices/{id}/transfer-to-credit" => post(documents::transfer_invoice);
    "/v1/invoices/{id}/adjustments" => post(documents::adjust_invoice);
    "/v1/invoices/{id}/write-off" => post(documents::write_off_invoice);
    "/v1/debit-memos" => post(documents::create_debit_memo), get(documents::list_debit_memos);
    "/v1/debit-memos/{id}" => get(documents::show_debit_memo);
    "/v1/debit-memos/{id}/post" => post(documents::post_debit_memo);
    "/v1/debit-memos/{id}/void" => post(documents::void_debit_memo);
    "/v1/debit-memos/{id}/net-items" => post(documents::net_debit_memo);
    "/v1/debit-memos/{id}/transfer-to-credit" => post(documents::transfer_debit_memo);
    "/v1/debit-memos/{id}/adjustments" => post(documents::adjust_debit_memo);
    "/v1/debit-memos/{id}/write-off" => post(documents::write_off_debit_memo);
    "/v1/credit-memos" => post(credits::create_memo), get(documents::list_credit_memos);
    "/v1/credit-memos/{id}" => get(documents::show_credit_memo);
    "/v1/credit-memos/{id}/post" => post(documents::post_credit_memo);
    "/v1/credit-memos/{id}/cancel" => post(credits::cancel_memo);
    "/v1/credit-memos/{id}/refunds" => post(credits::refund_memo);
    "/v1/payments" => post(payments::create), get(payments::list);
    "/v1/payments/{id}" => get(payments::show);
    "/v1/payments/{id}/void" => post(credits::void_payment);
    "/v1/payments/{id}/refunds" => post(credits::refund_payment);
    "/v1/customers/{id}/credit-balance" => get(credits::credit_balance);
    "/v1/customers/{id}/credit-balance/refunds" => post(credits::refund_credit_balance);
    "/v1/settings" => get(credits::show_settings), patch(credits::update_settings);
    "/v1/applications" => post(applications::create), get(applications::list);
    "/v1/applications/{id}" => get(applications::show);
    "/v1/applications/{id}/reverse" => post(applications::reverse);
    "/v1/reports/trial-balance" => get(reports::trial_balance);
    "/v1/reports/aging" => get(reports::aging);
    "/v1/journal" => get(reports::journal);
    "/v1/export/journal" => get(export::export_journal);
}

/// `GET /healthz`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    summary = "Liveness",
    description = "Answers 200 `ok` without auth.",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain"))
)]
pub(crate) async fn health() -> &'static str {
    "ok"
}

/// Default page size of lists.
const DEFAULT_LIMIT: u32 = 50;

/// Reads `limit` (1–500, default 50) and the opaque `cursor`.
pub(crate) fn page_request(
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 500"));
    }
    let cursor = cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c.as_bytes())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| ApiError::invalid("cursor", "not a cursor of this list"))
        })
        .transpose()?;
    Ok(PageRequest { limit, cursor })
}

/// A list response from a page, converting each row.
pub(crate) fn list_out<T, O: Serialize>(page: &Page<T>, convert: impl Fn(&T) -> O) -> ListOut<O> {
    ListOut {
        object: "list",
        data: page.rows.iter().map(convert).collect(),
        next_cursor: page.next_cursor.as_ref().map(|c| URL_SAFE_NO_PAD.encode(c.as_bytes())),
    }
}

/// Parses an id in a path or a body; text that cannot be such an id is simply not found.
pub(crate) fn parse_id<T>(
    text: &str,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, ApiError> {
    parse(text).ok_or_else(|| ApiError::not_found(what))
}
