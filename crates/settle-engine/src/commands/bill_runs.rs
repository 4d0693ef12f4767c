//! Bill runs: every period that started on or before a date and is not yet invoiced, across
//! the tenant's customers (or the listed ones).
//!
//! One customer's billing is [`Unit::bill_customer`], a function over the unit of work, so it
//! runs in whatever transaction holds that customer's lock: a batch of customers per
//! transaction (batched commits), whose locks and subscriptions are read together.
//! Exactly once: a period is invoiced in the same transaction that records it (a unique row per
//! subscription and period start) and advances the subscription, so a rerun, a concurrent run
//! or a run started again after a crash finds it invoiced and makes nothing.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use settle_core::document::Document;
use settle_core::error::Rejection;
use settle_core::ids::{BillRunId, CustomerId, TenantId};
use settle_core::money::Money;
use settle_core::subscription::{Price, Subscription, SubscriptionStatus, period_lines};
use settle_store::{BillRun, BillRunStatus};

use crate::unit::Unit;
use crate::{Engine, EngineError, EngineResult};

/// What billing one customer made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Billed {
    /// The invoices as posted (before a policy applied credit to them), in the order they
    /// were made.
    pub invoices: Vec<Document>,
}

impl Unit<'_> {
    /// Invoices every due, not yet invoiced period of the locked customer's `subscriptions`
    /// (those that may still bill, read under the lock), one invoice per subscription and
    /// period (a one-time price on the invoice of the period it starts in), and ends the
    /// subscriptions whose end has come.
    /// `known` holds the prices read so far (a batch reads each price once).
    pub(crate) fn bill_customer(
        &mut self,
        as_of: NaiveDate,
        subscriptions: Vec<Subscription>,
        known: &mut Vec<Price>,
    ) -> EngineResult<Billed> {
        let mut billed = Billed::default();
        for mut subscription in subscriptions {
            let unknown: Vec<_> = subscription
                .segments
                .iter()
                .filter(|s| !known.iter().any(|p| p.id == s.price_id))
                .map(|s| (&s.price_id, "price_id".to_owned()))
                .collect();
            let read = self.prices_of(unknown)?;
            known.extend(read);
            let prices = known.as_slice();
            while let Some(period) = subscription.next_due(as_of)? {
                let lines = period_lines(&subscription, period, prices)?;
                let invoice = if lines.is_empty() {
                    None
                } else {
                    Some(self.post_lines(&subscription.id, &lines, period.start, period.start)?)
                };
                let id = invoice.as_ref().map(|d| &d.id);
                self.tx.insert_billed_period(&self.lock, &subscription.id, period.start, id)?;
                billed.invoices.extend(invoice);
                subscription.billed_periods += 1;
            }
            if subscription.next_bill_on().is_none()
                && subscription.ends_on.is_some_and(|end| end <= as_of.max(self.today))
            {
                subscription.status = SubscriptionStatus::Canceled;
            }
            self.tx.update_subscription_billing(&self.lock, &subscription)?;
        }
        Ok(billed)
    }
}

fn add_total(totals: &mut Vec<Money>, amount: Money) -> Result<(), Rejection> {
    match totals.iter_mut().find(|t| t.currency() == amount.currency()) {
        Some(total) => {
            *total = total.checked_add(amount).map_err(|e| Rejection::money("total", e))?;
        }
        None => {
            totals.push(amount);
            totals.sort_by_key(|t| t.currency().code());
        }
    }
    Ok(())
}

/// Customers billed per database transaction (batched commits): large enough that a commit's
/// fsync and the pages it writes are shared by many invoices, small enough that a batch's
/// memory stays small and a concurrent write waits for at most one batch (about 150 ms on an
/// idle 2-core machine). Measured with `settle bench bill-run` side by side under the same
/// load: 500 customers per batch billed 6,000 invoices/s, 1,000 billed 7,200, 2,000 billed
/// 8,700 (docs/BENCHMARKS.md).
pub const BILL_RUN_BATCH: usize = 2000;

/// How long a run may go without committing progress before it is read as
/// [`BillRunStatus::Interrupted`]: its process died (kill -9, a lost machine) and nothing will
/// write to it again. A live run commits progress after every batch, which takes well under a
/// second on an idle machine and a few seconds under load with the default batch, so ten
/// minutes leaves room for a batch thousands of times slower before a live run is misread;
/// and a misread run that commits again reads as running again.
pub const BILL_RUN_STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The pages of customers a run bills, handed out one batch at a time.
struct Pages {
    /// The listed customers not yet handed out, in id order; `None`: the due ones.
    listed: Option<std::vec::IntoIter<CustomerId>>,
    /// The last customer handed out, where the next page of due customers starts.
    after: Option<CustomerId>,
    /// A batch failed: hand out nothing more.
    ended: bool,
}

impl Pages {
    /// The next batch: listed customers in id order; else the due ones after the last page's
    /// last customer, read as the run goes so memory stays flat in the tenant's size. Empty
    /// when there is none.
    fn next(
        &mut self,
        engine: &Engine,
        tenant_id: &TenantId,
        as_of: NaiveDate,
    ) -> EngineResult<Vec<CustomerId>> {
        if self.ended {
            return Ok(Vec::new());
        }
        let batch: Vec<CustomerId> = match &mut self.listed {
            Some(ids) => ids.by_ref().take(engine.bill_run_batch).collect(),
            None => engine.read(|tx| {
                let limit = u32::try_from(engine.bill_run_batch).unwrap_or(u32::MAX);
                Ok(tx.billable_customers(tenant_id, as_of, self.after.as_ref(), limit)?)
            })?,
        };
        if let Some(last) = batch.last() {
            self.after = Some(last.clone());
        }
        Ok(batch)
    }
}

/// A run as its committed batches left it, and the report it makes after each.
struct Committed<'p> {
    run: BillRun,
    progress: &'p mut (dyn FnMut(&BillRun) + Send),
}

impl Engine {
    /// Runs a bill run for `as_of` over `customer_ids` (default: every customer with a period
    /// due), [`BILL_RUN_BATCH`] customers per transaction (or what [`Engine::with_bill_run_batch`]
    /// set), calling `progress` after each batch commits.
    /// Each customer's billing runs in a savepoint: a customer whose billing is refused is
    /// rolled back alone and listed in `failures`; the run's progress is written in the same
    /// transaction as the batch's invoices, so after a crash it says exactly what was
    /// committed. A store failure stops the run (a new run for the same date finishes it), and
    /// so does the engine's [`crate::StopSignal`], checked before each batch: the run is then
    /// answered as it stands, [`BillRunStatus::Stopped`].
    ///
    /// Where the store runs batches side by side ([`settle_store::Store::concurrent_batches`],
    /// or [`Engine::with_bill_run_workers`]), that many batches are in flight at once, each on
    /// a thread (this one included) taking the next page of customers when its batch commits.
    /// Batches share no customer; their progress writes and reports take turns, so each commit
    /// records the run as every batch committed before it left it.
    pub fn run_bill_run(
        &self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
        customer_ids: Option<Vec<CustomerId>>,
        progress: &mut (dyn FnMut(&BillRun) + Send),
    ) -> EngineResult<BillRun> {
        let listed = customer_ids.map(|mut ids| {
            ids.sort();
            ids.dedup();
            ids.into_iter()
        });
        let customers_total = match &listed {
            Some(ids) => ids.len() as u64,
            None => self.read(|tx| Ok(tx.billable_customer_count(tenant_id, as_of)?))?,
        };
        let run = BillRun {
            id: self.new_ids().bill_run(),
            tenant_id: tenant_id.clone(),
            as_of,
            status: BillRunStatus::Running,
            customers_total: u32::try_from(customers_total).unwrap_or(u32::MAX),
            customers_done: 0,
            invoices_created: 0,
            totals: Vec::new(),
            failures: Vec::new(),
            created_at: self.now(),
            finished_at: None,
            updated_at: self.now(),
            stopped_at: None,
        };
        {
            let mut tx = self.begin_outside_unit()?;
            self.check_idempotency(tx.as_mut(), tenant_id)?;
            tx.insert_bill_run(&run)?;
            tx.commit()?;
        }
        crate::telemetry::bill_run_started();
        progress(&run);
        let pages = Mutex::new(Pages { listed, after: None, ended: false });
        let committed = Mutex::new(Committed { run, progress });
        let workers = self.bill_run_workers();
        let stopped = std::thread::scope(|scope| {
            let bill = || self.bill_pages(tenant_id, as_of, &pages, &committed);
            let others: Vec<_> = (1..workers).map(|_| scope.spawn(bill)).collect();
            let mut outcome = bill();
            for other in others {
                let theirs = other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                outcome = match (outcome, theirs) {
                    (Err(err), _) | (Ok(_), Err(err)) => Err(err),
                    (Ok(mine), Ok(theirs)) => Ok(mine || theirs),
                };
            }
            outcome
        })?;
        let Committed { run, progress } =
            committed.into_inner().unwrap_or_else(PoisonError::into_inner);
        if stopped {
            self.stop_bill_run(run, progress)
        } else {
            self.finish_bill_run(tenant_id, run, progress)
        }
    }

    /// One worker of a run: bills the next page of customers until there is none, the run is
    /// asked to stop (answers `true`) or a batch fails (which ends every worker's run).
    fn bill_pages(
        &self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
        pages: &Mutex<Pages>,
        committed: &Mutex<Committed<'_>>,
    ) -> EngineResult<bool> {
        let result = (|| loop {
            // Shutting down: stop at this customer boundary, with the progress committed so
            // far, and say so on the run; a new run for the same date bills the rest.
            if self.stop.is_raised() {
                return Ok(true);
            }
            let batch = pages
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .next(self, tenant_id, as_of)?;
            if batch.is_empty() {
                return Ok(false);
            }
            self.bill_batch(tenant_id, as_of, &batch, committed)?;
        })();
        if result.is_err() {
            pages.lock().unwrap_or_else(PoisonError::into_inner).ended = true;
        }
        result
    }

    /// Marks a run [`BillRunStatus::Done`] with the request's idempotent response.
    fn finish_bill_run(
        &self,
        tenant_id: &TenantId,
        mut run: BillRun,
        progress: &mut (dyn FnMut(&BillRun) + Send),
    ) -> EngineResult<BillRun> {
        run.status = BillRunStatus::Done;
        run.finished_at = Some(self.now());
        run.updated_at = self.now();
        let mut tx = self.begin_outside_unit()?;
        tx.update_bill_run(&run)?;
        self.save_idempotency(tx.as_mut(), tenant_id, &run)?;
        tx.commit()?;
        crate::telemetry::bill_run_finished();
        progress(&run);
        Ok(run)
    }

    /// Marks a run [`BillRunStatus::Stopped`] at a customer boundary, keeping what it committed.
    fn stop_bill_run(
        &self,
        mut run: BillRun,
        progress: &mut (dyn FnMut(&BillRun) + Send),
    ) -> EngineResult<BillRun> {
        run.status = BillRunStatus::Stopped;
        run.stopped_at = Some(self.now());
        run.updated_at = self.now();
        // No idempotent response is saved: the same request sent again after the restart is a
        // new run that bills the rest.
        let mut tx = self.begin_outside_unit()?;
        tx.update_bill_run(&run)?;
        tx.commit()?;
        progress(&run);
        Ok(run)
    }

    /// A run as read now: a running one that has not committed progress for
    /// [`BILL_RUN_STALE_AFTER`] is [`BillRunStatus::Interrupted`].
    fn as_read_now(&self, mut run: BillRun) -> BillRun {
        if run.status == BillRunStatus::Running
            && self.now().signed_duration_since(run.updated_at) > BILL_RUN_STALE_AFTER
        {
            run.status = BillRunStatus::Interrupted;
        }
        run
    }

    /// Bills one batch of customers in one transaction and writes the run's progress in it:
    /// the run as committed so far plus this batch. The progress is held from that write until
    /// the commit and the report after it, so batches in flight at once write and report in
    /// turn, each on top of the ones committed before it.
    fn bill_batch(
        &self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
        customers: &[CustomerId],
        committed: &Mutex<Committed<'_>>,
    ) -> EngineResult<()> {
        let mut held = None;
        let mut known = Vec::new();
        self.write_batch(
            tenant_id,
            customers,
            |tx, locks| {
                let mut of_customer: HashMap<CustomerId, Vec<Subscription>> = HashMap::new();
                for subscription in tx.customers_subscriptions(locks)? {
                    of_customer
                        .entry(subscription.customer_id.clone())
                        .or_default()
                        .push(subscription);
                }
                Ok(of_customer)
            },
            |unit, of_customer| {
                let subscriptions = of_customer.remove(&unit.customer.id).unwrap_or_default();
                unit.bill_customer(as_of, subscriptions, &mut known)
            },
            |tx, results| {
                let turn = committed.lock().unwrap_or_else(PoisonError::into_inner);
                let mut after = turn.run.clone();
                after.updated_at = self.now();
                for (customer_id, result) in results {
                    after.customers_done = after.customers_done.saturating_add(1);
                    match result {
                        Ok(billed) => {
                            let made = u32::try_from(billed.invoices.len()).unwrap_or(u32::MAX);
                            after.invoices_created = after.invoices_created.saturating_add(made);
                            for invoice in &billed.invoices {
                                add_total(&mut after.totals, invoice.total())?;
                            }
                        }
                        Err(rejection) => after.failures.push((
                            customer_id.clone(),
                            format!("{}: {rejection}", rejection.code()),
                        )),
                    }
                }
                tx.update_bill_run(&after)?;
                held = Some((turn, after));
                Ok(())
            },
        )?;
        // Committed: the run is now as this batch wrote it.
        let Some((mut turn, after)) = held else {
            return Err(EngineError::Store(settle_store::StoreError::Corrupt(
                "a batch wrote no progress".into(),
            )));
        };
        let before = (turn.run.customers_done, turn.run.invoices_created, turn.run.failures.len());
        crate::telemetry::bill_run_progress(before, &after);
        (turn.progress)(&after);
        turn.run = after;
        Ok(())
    }

    /// [`Engine::run_bill_run`] with no progress report.
    pub fn bill_run(
        &self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
        customer_ids: Option<Vec<CustomerId>>,
    ) -> EngineResult<BillRun> {
        self.run_bill_run(tenant_id, as_of, customer_ids, &mut |_| {})
    }

    /// The tenant's latest `limit` bill runs, the newest first.
    pub fn bill_runs(&self, tenant_id: &TenantId, limit: u32) -> EngineResult<Vec<BillRun>> {
        let runs = self.read(|tx| Ok(tx.bill_runs(tenant_id, limit)?))?;
        Ok(runs.into_iter().map(|run| self.as_read_now(run)).collect())
    }

    /// A bill run of the tenant.
    pub fn bill_run_record(&self, tenant_id: &TenantId, id: &BillRunId) -> EngineResult<BillRun> {
        let run = self.read(|tx| {
            tx.bill_run(tenant_id, id)?
                .ok_or_else(|| Rejection::NotFound { what: "bill run", id: id.to_string() }.into())
        })?;
        Ok(self.as_read_now(run))
    }
}
