//! The route table: one list that builds the router, the documented route table and the
//! OpenAPI document's paths. The top of the API: it depends on the handlers and the
//! document, and nothing below depends on it.

use std::sync::OnceLock;

use axum::Router;
use axum::routing::MethodRouter;
use utoipa::OpenApi;

use crate::openapi;
use crate::routes::{
    self, applications, credits, customers, documents, export, imports, keys, links, payments,
    ready, reports, subscriptions,
};
use crate::state::AppState;

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

/// The one list of routes: it builds the router ([`routes`]), [`route_table`], and the
/// OpenAPI document's paths ([`document`], from each handler's `#[utoipa::path]`), so a route
/// is added here and nowhere else. The `openapi` integration test checks that every route has
/// its path item. Handlers are named by their path from here (`keys::create`).
macro_rules! route_table {
    ($($path:literal => $($method:ident($($handler:ident)::+)),+;)+) => {
        /// Every route of the API as `(METHOD, path)`, in the order the router is built from.
        pub fn route_table() -> &'static [(&'static str, &'static str)] {
            &[$($((method_name!($method), $path),)+)+]
        }

        pub(crate) fn routes() -> Router<AppState> {
            Router::new()$(.route($path, MethodRouter::new()$(.$method($($handler)::+))+))+
        }

        /// The path items of every route, in the order of the table.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($($($handler)::+),+),+))]
        struct RoutePaths;
    };
}

/// The OpenAPI document: the route table's path items inside `crate::openapi`'s frame.
pub(crate) fn document() -> utoipa::openapi::OpenApi {
    openapi::document(RoutePaths::openapi())
}

/// The OpenAPI document as JSON, rendered once (`None` if it cannot be rendered).
pub(crate) fn document_json() -> Option<&'static str> {
    static JSON: OnceLock<Option<String>> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().ok()).as_deref()
}

route_table! {
    "/healthz" => get(routes::health);
    "/readyz" => get(ready::ready);
    "/openapi.json" => get(openapi::serve);
    "/v1/api-keys" => post(keys::create);
    "/v1/api-keys/{id}" => delete(keys::revoke);
    "/v1/customers" => post(customers::create), get(customers::list);
    "/v1/customers/{id}" => get(customers::show), patch(customers::update);
    "/v1/customers/{id}/history" => get(customers::history);
    "/v1/customers/{id}/entries" => post(customers::add_entry);
    "/v1/customers/{id}/payment-links" => post(links::create), get(links::list);
    "/v1/payment-links/{id}" => delete(links::revoke);
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
    "/v1/products" => post(subscriptions::create_product), get(subscriptions::list_products);
    "/v1/products/{id}" => get(subscriptions::show_product);
    "/v1/prices" => post(subscriptions::create_price), get(subscriptions::list_prices);
    "/v1/prices/{id}" => get(subscriptions::show_price);
    "/v1/prices/{id}/archive" => post(subscriptions::archive_price);
    "/v1/subscriptions" =>
        post(subscriptions::create_subscription), get(subscriptions::list_subscriptions);
    "/v1/subscriptions/{id}" => get(subscriptions::show_subscription);
    "/v1/subscriptions/{id}/amendments" => post(subscriptions::amend);
    "/v1/subscriptions/{id}/cancel" => post(subscriptions::cancel);
    "/v1/subscriptions/{id}/preview" => get(subscriptions::preview);
    "/v1/bill-runs" => post(subscriptions::create_bill_run);
    "/v1/bill-runs/{id}" => get(subscriptions::show_bill_run);
    "/v1/imports" => post(imports::create);
}
