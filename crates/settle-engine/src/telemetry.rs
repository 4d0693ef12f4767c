//! The engine's metrics, recorded through the `metrics` facade (nothing is recorded until the
//! binary installs a recorder): how long commits take, how many units each batch commits, and
//! the journal transactions appended by committed work.

use std::time::Instant;

use settle_store::{StoreResult, StoreTx};

/// What a commit closes.
pub(crate) enum Commit {
    /// One customer's unit of work.
    Unit,
    /// Several customers' units in one transaction (a bill run's batch).
    Batch {
        /// The units the batch ran, refused ones included.
        units: usize,
    },
}

/// Commits `tx` and records how long the commit took and, once it is committed, the journal
/// transactions it appended.
pub(crate) fn commit(tx: Box<dyn StoreTx + '_>, what: Commit, appended: u64) -> StoreResult<()> {
    let started = Instant::now();
    tx.commit()?;
    let kind = match what {
        Commit::Unit => "unit",
        Commit::Batch { units } => {
            metrics::histogram!("settle_batch_units").record(units as f64);
            "batch"
        }
    };
    metrics::histogram!("settle_commit_duration_seconds", "kind" => kind)
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("settle_journal_transactions_appended_total").increment(appended);
    Ok(())
}

/// A bill run began (its record is committed).
pub(crate) fn bill_run_started() {
    metrics::counter!("settle_bill_runs_started_total").increment(1);
}

/// A bill run finished every customer it had to bill.
pub(crate) fn bill_run_finished() {
    metrics::counter!("settle_bill_runs_finished_total").increment(1);
}

/// A bill run's batch committed: what it added to customers done, invoices created and
/// customers refused, given the run's `(customers_done, invoices_created, failures)` before it.
pub(crate) fn bill_run_progress(before: (u32, u32, usize), after: &settle_store::BillRun) {
    let (done, invoices, failures) = before;
    metrics::counter!("settle_bill_run_customers_done_total")
        .increment(u64::from(after.customers_done.saturating_sub(done)));
    metrics::counter!("settle_bill_run_invoices_created_total")
        .increment(u64::from(after.invoices_created.saturating_sub(invoices)));
    let refused = after.failures.len().saturating_sub(failures);
    metrics::counter!("settle_bill_run_customers_refused_total")
        .increment(u64::try_from(refused).unwrap_or(u64::MAX));
}
