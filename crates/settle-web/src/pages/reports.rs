//! Reports: the aging report and the trial balance, one table per currency, as of a date.

use askama::Template;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use settle_core::aging::Buckets;
use settle_core::money::Currency;

use crate::AppState;
use crate::call::blocking;
use crate::form::Fields;
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view::{Amount, Tone};
use settle_engine::StaffSession;

/// The five buckets and their total.
pub(crate) struct BucketCells {
    current: Amount,
    days_1_30: Amount,
    days_31_60: Amount,
    days_61_90: Amount,
    days_over_90: Amount,
    total: Amount,
}

impl BucketCells {
    fn of(buckets: &Buckets, currency: Currency) -> BucketCells {
        let a = |minor: i128| Amount::of_minor(minor, currency, Tone::Plain);
        BucketCells {
            current: a(buckets.current),
            days_1_30: a(buckets.days_1_30),
            days_31_60: a(buckets.days_31_60),
            days_61_90: a(buckets.days_61_90),
            days_over_90: a(buckets.days_over_90),
            total: a(buckets.total()),
        }
    }
}

/// One customer's line.
pub(crate) struct AgingRow {
    customer_id: String,
    name: String,
    buckets: BucketCells,
    available_credit: Amount,
    net: Amount,
}

/// One currency's aging table.
pub(crate) struct AgingSection {
    currency: &'static str,
    rows: Vec<AgingRow>,
    totals: BucketCells,
    available_credit: Amount,
    net: Amount,
}

/// The aging report.
#[derive(Template)]
#[template(path = "aging.html")]
pub(crate) struct AgingPage {
    nav: Option<Nav>,
    section: &'static str,
    as_of: String,
    as_of_error: Option<&'static str>,
    sections: Vec<AgingSection>,
}

/// The `as_of` field: a date, or today when blank; text that is no date is said so.
fn as_of(query: &Fields) -> (Option<NaiveDate>, Option<&'static str>) {
    match query.opt("as_of") {
        None => (None, None),
        Some(text) => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(date) => (Some(date), None),
            Err(_) => (None, Some("a date as YYYY-MM-DD; showing today")),
        },
    }
}

/// `GET /reports/aging?as_of=`.
pub(crate) async fn aging(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let (date, as_of_error) = as_of(&query);
    let tenant_id = session.tenant_id;
    let report = match blocking(&state, move |e| e.aging_report(&tenant_id, date, None)).await {
        Ok(report) => report,
        Err(err) => return err.into_response(),
    };
    let sections = report
        .currencies
        .iter()
        .map(|r| {
            let c = r.currency;
            let rows = r
                .customers
                .iter()
                .map(|line| AgingRow {
                    customer_id: line.customer_id.to_string(),
                    name: line.name.clone(),
                    buckets: BucketCells::of(&line.buckets, c),
                    available_credit: Amount::of_minor(line.available_credit, c, Tone::Plain),
                    net: Amount::of_minor(line.net(), c, Tone::Plain),
                })
                .collect();
            AgingSection {
                currency: c.code(),
                rows,
                totals: BucketCells::of(&r.totals, c),
                available_credit: Amount::of_minor(r.available_credit, c, Tone::Plain),
                net: Amount::of_minor(r.net(), c, Tone::Plain),
            }
        })
        .collect();
    let page = AgingPage {
        nav: current_nav(),
        section: "reports",
        as_of: report.as_of.to_string(),
        as_of_error,
        sections,
    };
    render(&page).into_response()
}

/// One account's line.
pub(crate) struct AccountRow {
    account: &'static str,
    debit: Amount,
    credit: Amount,
}

/// One currency's trial balance.
pub(crate) struct TrialSection {
    currency: &'static str,
    rows: Vec<AccountRow>,
    total_debit: Amount,
    total_credit: Amount,
}

/// The trial balance.
#[derive(Template)]
#[template(path = "trial_balance.html")]
pub(crate) struct TrialPage {
    nav: Option<Nav>,
    section: &'static str,
    as_of: String,
    as_of_error: Option<&'static str>,
    sections: Vec<TrialSection>,
}

/// `GET /reports/trial-balance?as_of=`.
pub(crate) async fn trial_balance(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let (date, as_of_error) = as_of(&query);
    let tenant_id = session.tenant_id;
    let balances = match blocking(&state, move |e| e.trial_balance(&tenant_id, date, None)).await {
        Ok(balances) => balances,
        Err(err) => return err.into_response(),
    };
    let sections = balances
        .iter()
        .map(|b| {
            let a = |minor: i128| Amount::of_minor(minor, b.currency, Tone::Plain);
            TrialSection {
                currency: b.currency.code(),
                rows: b
                    .accounts
                    .iter()
                    .map(|t| AccountRow {
                        account: t.account.name(),
                        debit: a(t.debit),
                        credit: a(t.credit),
                    })
                    .collect(),
                total_debit: a(b.total_debit),
                total_credit: a(b.total_credit),
            }
        })
        .collect();
    let as_of = date.map(|d| d.to_string()).unwrap_or_default();
    let page = TrialPage { nav: current_nav(), section: "reports", as_of, as_of_error, sections };
    render(&page).into_response()
}
