//! The route table: one list that builds the router and [`route_table`]; the session check
//! guards every route except `/login`, `/pay/…` and `/assets/…`, which are listed apart.

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodRouter, get};

use crate::AppState;
use crate::assets;
use crate::pages::{
    actions, amendments, api_keys, applications, attention, bill_runs, catalog, collect, credits,
    customers, documents, entries, invoices, links, login, pay, reports, settings, subscriptions,
    users,
};

/// The upper-case name of a routing method.
macro_rules! method_name {
    (get) => {
        "GET"
    };
    (post) => {
        "POST"
    };
}

/// The signed-in routes: one list builds both the router and the documented table.
macro_rules! staff_routes {
    ($($path:literal => $($method:ident($handler:path)),+;)+) => {
        const STAFF_ROUTES: &[(&str, &str)] = &[$($((method_name!($method), $path),)+)+];

        fn staff_router() -> Router<AppState> {
            Router::new()$(.route($path, MethodRouter::new()$(.$method($handler))+))+
        }
    };
}

staff_routes! {
    "/logout" => post(login::logout);
    "/customers" => get(customers::list);
    "/customers/new" => get(customers::new_form), post(customers::create);
    "/customers/{id}" => get(customers::show);
    "/customers/{id}/entries/new" => get(entries::form), post(entries::create);
    "/customers/{id}/collect" => get(collect::form), post(collect::save);
    "/customers/{id}/payment-links" => post(links::create);
    "/customers/{id}/subscriptions/new" => get(subscriptions::new_form), post(subscriptions::create);
    "/subscriptions/{id}" => get(subscriptions::show);
    "/subscriptions/{id}/amendments" => post(amendments::amend);
    "/products" => get(catalog::list), post(catalog::create_product);
    "/prices" => post(catalog::create_price);
    "/prices/{id}/archive" => post(catalog::archive_price);
    "/bill-runs" => get(bill_runs::list), post(bill_runs::create);
    "/bill-runs/{id}" => get(bill_runs::show);
    "/payment-links/{id}/revoke" => post(links::revoke);
    "/invoices/new" => get(invoices::form), post(invoices::create);
    "/invoices/{id}" => get(documents::show_invoice);
    "/invoices/{id}/post" => post(documents::post_invoice);
    "/invoices/{id}/void" => post(actions::document_action);
    "/invoices/{id}/net-items" => post(actions::document_action);
    "/invoices/{id}/transfer-to-credit" => post(actions::document_action);
    "/invoices/{id}/adjustments" => post(actions::document_action);
    "/invoices/{id}/write-off" => post(actions::document_action);
    "/debit-memos/{id}" => get(documents::show_debit_memo);
    "/debit-memos/{id}/post" => post(documents::post_debit_memo);
    "/debit-memos/{id}/void" => post(actions::document_action);
    "/debit-memos/{id}/net-items" => post(actions::document_action);
    "/debit-memos/{id}/transfer-to-credit" => post(actions::document_action);
    "/debit-memos/{id}/adjustments" => post(actions::document_action);
    "/debit-memos/{id}/write-off" => post(actions::document_action);
    "/credit-memos/{id}" => get(documents::show_credit_memo);
    "/credit-memos/{id}/refunds" => post(actions::refund);
    "/credit-memos/{id}/cancel" => post(actions::cancel_credit_memo);
    "/invoices/{id}/credit-memos/new" => get(credits::credit_form), post(credits::credit_create);
    "/credit-memos/{id}/apply" => get(credits::apply_form), post(credits::apply);
    "/payments/{id}" => get(documents::show_payment);
    "/payments/{id}/refunds" => post(actions::refund);
    "/customers/{id}/credit-balance/refunds" => post(actions::refund);
    "/applications/{id}/reverse" => get(applications::form), post(applications::reverse);
    "/attention" => get(attention::show);
    "/reports/aging" => get(reports::aging);
    "/reports/aging.csv" => get(reports::aging_csv);
    "/reports/trial-balance" => get(reports::trial_balance);
    "/reports/trial-balance.csv" => get(reports::trial_balance_csv);
    "/settings" => get(settings::show), post(settings::update);
    "/users" => get(users::list), post(users::invite);
    "/users/{id}/role" => post(users::change_role);
    "/users/{id}/remove" => post(users::remove);
    "/api-keys" => get(api_keys::list), post(api_keys::create);
    "/api-keys/{id}/revoke" => post(api_keys::revoke);
}

/// The routes open without a session.
const OPEN_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/assets/{file}"),
    ("GET", "/pay/{token}"),
    ("GET", "/pay/{token}/summary.json"),
];

/// Every route of the back office as `(METHOD, path)`: the open ones, then the signed-in ones.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    OPEN_ROUTES.iter().chain(STAFF_ROUTES).copied().collect()
}

/// The whole back office.
pub(crate) fn routes(state: AppState) -> Router {
    let staff = staff_router()
        .route("/reports", get(|| async { axum::response::Redirect::to("/reports/aging") }))
        .layer(from_fn_with_state(state.clone(), crate::session::require));
    let open = Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::show).post(login::submit));
    let pay = Router::new()
        .route("/pay/{token}", get(pay::show))
        .route("/pay/{token}/summary.json", get(pay::summary_json))
        .layer(from_fn(crate::headers::pay));
    let back_office = staff
        .merge(open)
        .route("/assets/{file}", get(assets::serve))
        .layer(from_fn(crate::headers::back_office));
    back_office.merge(pay).with_state(state)
}
