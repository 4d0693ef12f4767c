//! Bill runs in the back office: `/bill-runs` starts one for an as-of date (the same engine
//! call as `POST /v1/bill-runs`, run on a thread of its own so the page can follow it), and
//! `/bill-runs/{id}` shows its progress (customers done of total, invoices created, totals per
//! currency, failures), reloading itself every few seconds while the run is going. The list
//! shows the latest runs, the newest first.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use settle_core::ids::{BillRunId, CustomerId};
use settle_engine::{Engine, StaffSession};
use settle_store::{BillRun, BillRunStatus};

use super::subscriptions::opt_date;
use super::{refused, see_other};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav};
use crate::templates::render;
use crate::view;

/// Seconds between reloads of a running bill run's page.
const REFRESH_SECONDS: u32 = 2;

/// Bill runs listed on `/bill-runs`, the newest first.
const LISTED_RUNS: u32 = 20;

/// The start form and the latest bill runs.
#[derive(Template)]
#[template(path = "bill_runs.html")]
pub(crate) struct ListPage {
    nav: Option<Nav>,
    section: &'static str,
    today: String,
    fields: Fields,
    errors: Errors,
    runs: Vec<RunRow>,
}

/// One of the latest bill runs.
pub(crate) struct RunRow {
    id: String,
    as_of: String,
    status: &'static str,
    customers_done: u32,
    customers_total: u32,
    invoices_created: u32,
    /// Per currency: its code and the total.
    totals: Vec<(&'static str, view::Amount)>,
    failures: usize,
    started_at: String,
}

fn run_row(run: &BillRun) -> RunRow {
    RunRow {
        id: run.id.to_string(),
        as_of: run.as_of.to_string(),
        status: run.status.name(),
        customers_done: run.customers_done,
        customers_total: run.customers_total,
        invoices_created: run.invoices_created,
        totals: run.totals.iter().map(|t| (t.currency().code(), view::Amount::plain(*t))).collect(),
        failures: run.failures.len(),
        started_at: run.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

async fn list_page(
    state: &AppState,
    session: &StaffSession,
    fields: Fields,
    errors: Errors,
) -> Result<ListPage, WebError> {
    let tenant_id = session.tenant_id.clone();
    let (today, runs) =
        blocking(state, move |e| Ok((e.today(&tenant_id)?, e.bill_runs(&tenant_id, LISTED_RUNS)?)))
            .await?;
    Ok(ListPage {
        nav: current_nav(),
        section: "bill-runs",
        today: today.to_string(),
        fields,
        errors,
        runs: runs.iter().map(run_row).collect(),
    })
}

/// `GET /bill-runs`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
) -> Response {
    match list_page(&state, &session, Fields::default(), Errors::default()).await {
        Ok(page) => render(&page).into_response(),
        Err(err) => err.into_response(),
    }
}

/// Starts `engine.run_bill_run` on a thread of its own and answers the run's id as soon as the
/// run is recorded; a run refused before that answers its refusal.
fn start(
    engine: &Engine,
    tenant_id: settle_core::ids::TenantId,
    as_of: chrono::NaiveDate,
    customer_ids: Option<Vec<CustomerId>>,
) -> Result<BillRunId, WebError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let engine = engine.clone();
    let runner = std::thread::Builder::new().name("bill-run".to_owned()).spawn(move || {
        let mut report = |run: &BillRun| {
            // Only the first report is awaited; later sends find the receiver gone.
            let _ = sender.send(run.id.clone());
        };
        let result = engine.run_bill_run(&tenant_id, as_of, customer_ids, &mut report);
        if let Err(err) = &result {
            tracing::warn!(error = ?err, "a bill run stopped");
        }
        result
    });
    let runner = runner.map_err(|err| {
        tracing::error!(error = %err, "no thread for a bill run");
        WebError::Internal
    })?;
    match receiver.recv() {
        Ok(id) => Ok(id),
        Err(_) => match runner.join() {
            Ok(Err(err)) => Err(WebError::from(err)),
            _ => Err(WebError::Internal),
        },
    }
}

/// Reads the form: the as-of date (required) and optional customer ids, one per line.
fn parse(fields: &Fields) -> Result<(chrono::NaiveDate, Option<Vec<CustomerId>>), Errors> {
    let mut errors = Errors::default();
    let as_of = opt_date(fields, "as_of", &mut errors);
    if as_of.is_none() && errors.is_empty() {
        errors.add("as_of", "the date periods must have started by");
    }
    let mut ids = Vec::new();
    for text in fields.get("customer_ids").split([',', '\n', ' ', '\r']).filter(|t| !t.is_empty()) {
        match CustomerId::parse(text) {
            Some(id) => ids.push(id),
            None => errors.add("customer_ids", format!("{text} is no customer id")),
        }
    }
    match as_of {
        Some(as_of) if errors.is_empty() => Ok((as_of, (!ids.is_empty()).then_some(ids))),
        _ => Err(errors),
    }
}

/// `POST /bill-runs`: starts a bill run and opens its page.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let errors = match parse(&fields) {
        Ok((as_of, customers)) => {
            let (engine, tenant_id) = (state.engine.clone(), session.tenant_id.clone());
            let started =
                tokio::task::spawn_blocking(move || start(&engine, tenant_id, as_of, customers))
                    .await
                    .unwrap_or(Err(WebError::Internal));
            match started {
                Ok(id) => return see_other(&format!("/bill-runs/{id}")),
                Err(WebError::Refused(rejection)) => {
                    Errors::from_rejection(&rejection, &["as_of", "customer_ids"])
                }
                Err(err) => return err.into_response(),
            }
        }
        Err(errors) => errors,
    };
    match list_page(&state, &session, fields, errors).await {
        Ok(page) => refused(render(&page)),
        Err(err) => err.into_response(),
    }
}

/// One customer whose billing failed.
pub(crate) struct FailureRow {
    customer_id: String,
    reason: String,
}

/// A bill run's page.
#[derive(Template)]
#[template(path = "bill_run.html")]
pub(crate) struct ShowPage {
    nav: Option<Nav>,
    section: &'static str,
    id: String,
    as_of: String,
    status: &'static str,
    running: bool,
    refresh: u32,
    customers_done: u32,
    customers_total: u32,
    invoices_created: u32,
    /// Per currency: its code and the total.
    totals: Vec<(&'static str, view::Amount)>,
    failures: Vec<FailureRow>,
    started_at: String,
    finished_at: String,
    /// When a shutdown stopped it, or empty.
    stopped_at: String,
    /// When it last committed progress.
    updated_at: String,
}

fn show_page(run: &BillRun) -> ShowPage {
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    ShowPage {
        nav: current_nav(),
        section: "bill-runs",
        id: run.id.to_string(),
        as_of: run.as_of.to_string(),
        status: run.status.name(),
        running: run.status == BillRunStatus::Running,
        refresh: REFRESH_SECONDS,
        customers_done: run.customers_done,
        customers_total: run.customers_total,
        invoices_created: run.invoices_created,
        totals: run.totals.iter().map(|t| (t.currency().code(), view::Amount::plain(*t))).collect(),
        failures: run
            .failures
            .iter()
            .map(|(id, reason)| FailureRow { customer_id: id.to_string(), reason: reason.clone() })
            .collect(),
        started_at: time(run.created_at),
        finished_at: run.finished_at.map(time).unwrap_or_default(),
        stopped_at: run.stopped_at.map(time).unwrap_or_default(),
        updated_at: time(run.updated_at),
    }
}

/// `GET /bill-runs/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(id): Path<String>,
    RawQuery(_query): RawQuery,
) -> Response {
    let Some(id) = BillRunId::parse(&id) else {
        return WebError::NotFound.into_response();
    };
    let tenant_id = session.tenant_id.clone();
    match blocking(&state, move |e| e.bill_run_record(&tenant_id, &id)).await {
        Ok(run) => render(&show_page(&run)).into_response(),
        Err(err) => err.into_response(),
    }
}
