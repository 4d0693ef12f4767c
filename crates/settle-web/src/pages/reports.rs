//! Reports: the aging report and the trial balance, one table per currency, as of a date.

use askama::Template;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use settle_core::aging::Buckets;
use settle_core::money::Currency;

use crate::AppState;
use crate::call::{WebError, blocking};
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

/// The aging report as the page shows it: the date and one section per currency.
async fn aging_report(
    state: &AppState,
    session: &StaffSession,
    date: Option<NaiveDate>,
) -> Result<(String, Vec<AgingSection>), WebError> {
    let tenant_id = session.tenant_id.clone();
    let report = blocking(state, move |e| e.aging_report(&tenant_id, date, None)).await?;
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
    Ok((report.as_of.to_string(), sections))
}

/// `GET /reports/aging?as_of=`.
pub(crate) async fn aging(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let (date, as_of_error) = as_of(&query);
    let (as_of, sections) = match aging_report(&state, &session, date).await {
        Ok(report) => report,
        Err(err) => return err.into_response(),
    };
    let page = AgingPage { nav: current_nav(), section: "reports", as_of, as_of_error, sections };
    render(&page).into_response()
}

/// `GET /reports/aging.csv?as_of=`: the same sections as the page for the same date, one row
/// per customer and one total row per currency, amounts as the page's `data-value`s.
pub(crate) async fn aging_csv(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let (date, _) = as_of(&query);
    let (as_of, sections) = match aging_report(&state, &session, date).await {
        Ok(report) => report,
        Err(err) => return err.into_response(),
    };
    let mut rows = vec![AGING_HEADER.map(str::to_owned).to_vec()];
    for s in &sections {
        for r in &s.rows {
            let who = [as_of.clone(), s.currency.to_owned(), r.customer_id.clone(), r.name.clone()];
            rows.push(aging_line(who, &r.buckets, &r.available_credit, &r.net));
        }
        let total = [as_of.clone(), s.currency.to_owned(), String::new(), "Total".to_owned()];
        rows.push(aging_line(total, &s.totals, &s.available_credit, &s.net));
    }
    csv_download(&format!("aging-{as_of}.csv"), &rows)
}

/// The aging CSV's columns.
pub(crate) const AGING_HEADER: [&str; 12] = [
    "as_of",
    "currency",
    "customer_id",
    "customer",
    "current",
    "days_1_30",
    "days_31_60",
    "days_61_90",
    "days_over_90",
    "total",
    "available_credit",
    "net",
];

fn aging_line(who: [String; 4], b: &BucketCells, credit: &Amount, net: &Amount) -> Vec<String> {
    let cells = [&b.current, &b.days_1_30, &b.days_31_60, &b.days_61_90, &b.days_over_90];
    let amounts = cells.into_iter().chain([&b.total, credit, net]).map(|a| a.value.clone());
    who.into_iter().chain(amounts).collect()
}

/// A CSV file (RFC 4180, CRLF) to download as `filename`.
fn csv_download(filename: &str, rows: &[Vec<String>]) -> Response {
    let mut writer =
        csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows {
        if writer.write_record(row).is_err() {
            return WebError::Internal.into_response();
        }
    }
    let Ok(bytes) = writer.into_inner() else { return WebError::Internal.into_response() };
    let disposition = format!("attachment; filename=\"{filename}\"");
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    (headers, bytes).into_response()
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

/// The trial balance as the page shows it, one section per currency.
async fn trial_report(
    state: &AppState,
    session: &StaffSession,
    date: Option<NaiveDate>,
) -> Result<Vec<TrialSection>, WebError> {
    let tenant_id = session.tenant_id.clone();
    let balances = blocking(state, move |e| e.trial_balance(&tenant_id, date, None)).await?;
    Ok(balances
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
        .collect())
}

/// `GET /reports/trial-balance?as_of=`.
pub(crate) async fn trial_balance(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let (date, as_of_error) = as_of(&query);
    let sections = match trial_report(&state, &session, date).await {
        Ok(sections) => sections,
        Err(err) => return err.into_response(),
    };
    let as_of = date.map(|d| d.to_string()).unwrap_or_default();
    let page = TrialPage { nav: current_nav(), section: "reports", as_of, as_of_error, sections };
    render(&page).into_response()
}

/// `GET /reports/trial-balance.csv?as_of=`: the page's sections for the same date (blank:
/// the whole journal, `as_of` empty and the file named after today), one row per account
/// and one total row per currency.
pub(crate) async fn trial_balance_csv(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let (date, _) = as_of(&query);
    let sections = match trial_report(&state, &session, date).await {
        Ok(sections) => sections,
        Err(err) => return err.into_response(),
    };
    let named = match date {
        Some(date) => date,
        None => {
            let tenant_id = session.tenant_id.clone();
            match blocking(&state, move |e| e.today(&tenant_id)).await {
                Ok(today) => today,
                Err(err) => return err.into_response(),
            }
        }
    };
    let as_of = date.map(|d| d.to_string()).unwrap_or_default();
    let mut rows = vec![TRIAL_HEADER.map(str::to_owned).to_vec()];
    for s in &sections {
        let line = |account: &str, debit: &Amount, credit: &Amount| {
            let cells = [as_of.as_str(), s.currency, account, &debit.value, &credit.value];
            cells.map(str::to_owned).to_vec()
        };
        rows.extend(s.rows.iter().map(|r| line(r.account, &r.debit, &r.credit)));
        rows.push(line("Total", &s.total_debit, &s.total_credit));
    }
    csv_download(&format!("trial-balance-{named}.csv"), &rows)
}

/// The trial balance CSV's columns.
pub(crate) const TRIAL_HEADER: [&str; 5] = ["as_of", "currency", "account", "debit", "credit"];
