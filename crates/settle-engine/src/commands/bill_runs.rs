//! Bill runs: every period that started on or before a date and is not yet invoiced, across
//! the tenant's customers (or the listed ones).
//!
//! One customer's billing is [`Unit::bill_customer`], a function over the unit of work, so it
//! runs in whatever transaction holds that customer's lock: today one `Engine::write` per
//! customer; batched commits can call the same function with many customers per transaction.
//! Exactly once: a period is invoiced in the same transaction that records it (a unique row per
//! subscription and period start) and advances the subscription, so a rerun, a concurrent run
//! or a run started again after a crash finds it invoiced and makes nothing.

use chrono::NaiveDate;
use settle_core::document::Document;
use settle_core::error::Rejection;
use settle_core::ids::{BillRunId, CustomerId, TenantId};
use settle_core::money::Money;
use settle_core::subscription::{SubscriptionStatus, period_lines};
use settle_store::{BillRun, BillRunStatus};

use crate::unit::Unit;
use crate::{Engine, EngineError, EngineResult, Saved, SavedResponse};

/// What billing one customer made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Billed {
    /// The invoices, in the order they were made.
    pub invoices: Vec<Document>,
}

/// How many due customers a bill run reads per query while it lists them.
const LIST_CHUNK: u32 = 1000;

impl Unit<'_> {
    /// Invoices every due, not yet invoiced period of the locked customer's subscriptions,
    /// one invoice per subscription and period (a one-time price on the invoice of the period
    /// it starts in), and ends the subscriptions whose end has come.
    pub(crate) fn bill_customer(&mut self, as_of: NaiveDate) -> EngineResult<Billed> {
        let mut billed = Billed::default();
        for mut subscription in self.tx.customer_subscriptions(&self.lock)? {
            let held = subscription.segments.iter().map(|s| (&s.price_id, "price_id".to_owned()));
            let held: Vec<_> = held.collect();
            let prices = self.prices_of(held)?;
            while let Some(period) = subscription.next_due(as_of)? {
                let lines = period_lines(&subscription, period, &prices)?;
                let invoice = if lines.is_empty() {
                    None
                } else {
                    Some(self.invoice_lines(
                        &subscription.id,
                        &lines,
                        period.start,
                        period.start,
                    )?)
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
            self.tx.update_subscription(&self.lock, &subscription)?;
        }
        Ok(billed)
    }
}

/// A bill run's state after one more customer, written in that customer's transaction.
struct Progress(BillRun);

impl Saved for Progress {
    fn save_with(
        &self,
        save: &dyn crate::SaveResponse,
    ) -> Result<SavedResponse, crate::SaveFailed> {
        self.0.save_with(save)
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

impl Engine {
    /// Runs a bill run for `as_of` over `customer_ids` (default: every customer with a period
    /// due), one customer per transaction, calling `progress` after each. A customer whose
    /// billing is refused is rolled back alone and listed in `failures`; a store failure stops
    /// the run (a new run for the same date finishes it).
    pub fn run_bill_run(
        &self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
        customer_ids: Option<Vec<CustomerId>>,
        progress: &mut dyn FnMut(&BillRun),
    ) -> EngineResult<BillRun> {
        let customers = match customer_ids {
            Some(ids) => ids,
            None => self.due_customers(tenant_id, as_of)?,
        };
        let mut run = BillRun {
            id: self.new_ids().bill_run(),
            tenant_id: tenant_id.clone(),
            as_of,
            status: BillRunStatus::Running,
            customers_total: u32::try_from(customers.len()).unwrap_or(u32::MAX),
            customers_done: 0,
            invoices_created: 0,
            totals: Vec::new(),
            failures: Vec::new(),
            created_at: self.now(),
            finished_at: None,
        };
        {
            let mut tx = self.begin_outside_unit()?;
            self.check_idempotency(tx.as_mut(), tenant_id)?;
            tx.insert_bill_run(&run)?;
            tx.commit()?;
        }
        progress(&run);
        // Customers' units must not save the request's idempotency record: the run does, at
        // its end.
        let plain = Engine { idempotency: None, ..self.clone() };
        for customer_id in customers {
            let before = run.clone();
            let result = plain.write(tenant_id, &customer_id, |unit| {
                let billed = unit.bill_customer(as_of)?;
                let mut next = before.clone();
                next.customers_done += 1;
                next.invoices_created += u32::try_from(billed.invoices.len()).unwrap_or(u32::MAX);
                for invoice in &billed.invoices {
                    add_total(&mut next.totals, invoice.total())?;
                }
                unit.tx.update_bill_run(&next)?;
                Ok(Progress(next))
            });
            run = match result {
                Ok(Progress(next)) => next,
                Err(EngineError::Rejected(rejection)) => {
                    self.record_failure(before, customer_id, &rejection)?
                }
                Err(other) => return Err(other),
            };
            progress(&run);
        }
        run.status = BillRunStatus::Done;
        run.finished_at = Some(self.now());
        let mut tx = self.begin_outside_unit()?;
        tx.update_bill_run(&run)?;
        self.save_idempotency(tx.as_mut(), tenant_id, &run)?;
        tx.commit()?;
        progress(&run);
        Ok(run)
    }

    /// Counts a customer whose billing was refused (and rolled back) as done, with the reason.
    fn record_failure(
        &self,
        mut run: BillRun,
        customer_id: CustomerId,
        rejection: &Rejection,
    ) -> EngineResult<BillRun> {
        run.customers_done += 1;
        run.failures.push((customer_id, format!("{}: {rejection}", rejection.code())));
        let mut tx = self.begin_outside_unit()?;
        tx.update_bill_run(&run)?;
        tx.commit()?;
        Ok(run)
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

    /// A bill run of the tenant.
    pub fn bill_run_record(&self, tenant_id: &TenantId, id: &BillRunId) -> EngineResult<BillRun> {
        self.read(|tx| {
            tx.bill_run(tenant_id, id)?
                .ok_or_else(|| Rejection::NotFound { what: "bill run", id: id.to_string() }.into())
        })
    }

    /// The customers with a period due by `as_of`, by id.
    fn due_customers(
        &self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
    ) -> EngineResult<Vec<CustomerId>> {
        let mut customers: Vec<CustomerId> = Vec::new();
        loop {
            let chunk = self.read(|tx| {
                Ok(tx.billable_customers(tenant_id, as_of, customers.last(), LIST_CHUNK)?)
            })?;
            let done = chunk.len() < LIST_CHUNK as usize;
            customers.extend(chunk);
            if done {
                return Ok(customers);
            }
        }
    }
}
