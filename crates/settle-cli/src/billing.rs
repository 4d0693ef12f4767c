//! `settle bill-run` with its progress bar, and the daily bill run of `settle serve
//! --bill-daily-at HH:MM`.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime};
use indicatif::{ProgressBar, ProgressStyle};
use settle_core::ids::TenantId;
use settle_engine::{Clock, Engine, TimeZone};
use settle_store::BillRun;

use crate::shutdown::Shutdown;
use crate::system::SystemClock;

/// Reads `HH:MM` (24-hour).
pub(crate) fn parse_time(text: &str) -> anyhow::Result<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .with_context(|| format!("--bill-daily-at {text:?}: a time HH:MM such as 02:30"))
}

/// Runs a bill run for `as_of` over the tenant's due customers, with a progress bar on
/// stderr (customers done, rate and time left), and prints what it made. When stderr is not a
/// terminal (a log, a scheduler), the bar is hidden and each committed batch is one line there
/// instead.
#[allow(clippy::print_stdout, clippy::print_stderr, reason = "the command line prints its results")]
pub(crate) fn bill_run(
    engine: &Engine,
    tenant_id: &TenantId,
    as_of: NaiveDate,
) -> anyhow::Result<BillRun> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} customers, {per_sec}, {eta} left",
        )
        .context("the progress bar's template")?
        .progress_chars("=> "),
    );
    bar.set_message(format!("bill run as of {as_of}"));
    let run = engine
        .run_bill_run(tenant_id, as_of, None, &mut |run| {
            bar.set_length(u64::from(run.customers_total));
            bar.set_position(u64::from(run.customers_done));
            if bar.is_hidden() {
                eprintln!(
                    "bill run {}: {}/{} customers, {} invoices committed",
                    run.id, run.customers_done, run.customers_total, run.invoices_created
                );
            }
        })
        .context("running the bill run")?;
    bar.finish();
    println!("{}", summary(&run));
    for (customer, reason) in &run.failures {
        println!("  failed: {customer}: {reason}");
    }
    Ok(run)
}

/// One line about a finished bill run.
pub(crate) fn summary(run: &BillRun) -> String {
    let totals: Vec<String> =
        run.totals.iter().map(|t| format!("{} {t}", t.currency().code())).collect();
    let ended = match run.status {
        settle_store::BillRunStatus::Done => String::new(),
        status => format!(" ({})", status.name()),
    };
    format!(
        "bill run {} as of {}{ended}: {} customers, {} invoices, total {}, {} failed",
        run.id,
        run.as_of,
        run.customers_done,
        run.invoices_created,
        if totals.is_empty() { "0".to_owned() } else { totals.join(", ") },
        run.failures.len()
    )
}

/// How often the daily bill run looks at the tenants' clocks.
const DAILY_CHECK: Duration = Duration::from_secs(30);

/// Runs each tenant's bill run once a day, as of the tenant's date, once its local time has
/// reached `at` (at start, a day whose time has passed runs at once: billing is exactly once,
/// so a run that finds nothing due makes nothing).
/// It ends once `shutdown` is asked for: a run in progress stops at its next customer boundary
/// (the engine's stop signal) and no new one starts.
pub(crate) async fn daily(engine: Engine, at: NaiveTime, shutdown: Shutdown) {
    let mut last: HashMap<TenantId, NaiveDate> = HashMap::new();
    while !shutdown.is_requested() {
        let due = {
            let engine = engine.clone();
            let last = last.clone();
            tokio::task::spawn_blocking(move || due_tenants(&engine, at, &last)).await
        };
        match due {
            Ok(Ok(due)) => {
                for (tenant_id, today) in due {
                    if shutdown.is_requested() {
                        break;
                    }
                    let engine = engine.clone();
                    let tenant = tenant_id.clone();
                    let ran =
                        tokio::task::spawn_blocking(move || engine.bill_run(&tenant, today, None))
                            .await;
                    match ran {
                        Ok(Ok(run)) => tracing::info!("{}", summary(&run)),
                        Ok(Err(err)) => {
                            tracing::warn!(error = %err, tenant = %tenant_id, "the daily bill run failed")
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, tenant = %tenant_id, "the daily bill run panicked")
                        }
                    }
                    last.insert(tenant_id, today);
                }
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "reading the tenants for the daily bill run failed")
            }
            Err(err) => tracing::warn!(error = %err, "the daily bill run panicked"),
        }
        tokio::select! {
            () = tokio::time::sleep(DAILY_CHECK) => {}
            () = shutdown.clone().requested() => {}
        }
    }
}

/// The tenants whose local time has reached `at` on a date not yet run, with that date.
fn due_tenants(
    engine: &Engine,
    at: NaiveTime,
    last: &HashMap<TenantId, NaiveDate>,
) -> anyhow::Result<Vec<(TenantId, NaiveDate)>> {
    let now = SystemClock.now();
    let mut due = Vec::new();
    for tenant_id in engine.tenants()? {
        let settings = engine.settings(&tenant_id)?;
        let zone = TimeZone::parse(&settings.time_zone)
            .with_context(|| format!("the time zone of {tenant_id}"))?;
        let local = zone.local(now);
        if local.time() >= at && last.get(&tenant_id) != Some(&local.date()) {
            due.push((tenant_id, local.date()));
        }
    }
    Ok(due)
}
