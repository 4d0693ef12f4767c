//! A unit of work: one write transaction holding one customer's lock. Commands record journal
//! transactions through it, and it keeps every projection in step with each one.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use settle_core::application::Application;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::{Document, DocumentKind};
use settle_core::error::Rejection;
use settle_core::fold;
use settle_core::ids::{CustomerId, DocumentId, NewIds, TenantId};
use settle_core::ledger::JournalTxn;
use settle_core::payment::Payment;
use settle_core::settings::Settings;
use settle_store::{CustomerLock, StoreTx, UnitOpening};

use crate::preview::Watch;
use crate::telemetry;
use crate::{Engine, EngineError, EngineResult, Saved, TimeZone};

/// One customer's write transaction.
pub(crate) struct Unit<'a> {
    pub(crate) tx: &'a mut dyn StoreTx,
    pub(crate) lock: CustomerLock,
    pub(crate) customer: Customer,
    pub(crate) settings: Settings,
    pub(crate) ids: NewIds<'a>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) today: NaiveDate,
    /// The history line of the last recorded transaction that made one.
    pub(crate) last_history: Option<HistoryLine>,
    /// A payment whose row the running command writes itself once it is done with it: a new
    /// payment not yet stored, or a negative payment passing through an unapplied state that
    /// the database refuses (its applications reversed before it is voided).
    pub(crate) deferred_payment: Option<settle_core::ids::PaymentId>,
    /// In a dry run, the state each touched object started from.
    pub(crate) watch: Option<Watch>,
    /// Journal transactions this unit appended, counted in the metrics once they commit.
    pub(crate) appended: u64,
    /// In a batch, the invoice numbers it drew ahead for its units.
    pub(crate) drawn: Option<&'a mut DrawnNumbers>,
    /// The number of the kind the store drew when it opened the unit, until the command
    /// takes it ([`StoreTx::open_unit`]).
    pub(crate) numbered: Option<(DocumentKind, u64)>,
}

/// What a command will need when its unit opens, for the store to fetch with the lock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ahead<'a> {
    /// The kind of the one document it numbers.
    pub(crate) number: Option<DocumentKind>,
    /// The documents it reads before writing any.
    pub(crate) documents: &'a [DocumentId],
}

/// The numbers a unit starts with: a batch's drawn ahead, or one drawn with the lock.
pub(crate) struct Numbers<'a> {
    drawn: Option<&'a mut DrawnNumbers>,
    numbered: Option<(DocumentKind, u64)>,
}

impl<'a> Numbers<'a> {
    /// A batch's unit's: the numbers the batch drew ahead, if it did, with `units_left` units
    /// of the batch still to run, this one included.
    fn drawn(mut drawn: Option<&'a mut DrawnNumbers>, units_left: u32) -> Numbers<'a> {
        if let Some(drawn) = drawn.as_deref_mut() {
            drawn.units_left = units_left;
        }
        Numbers { drawn, numbered: None }
    }
}

/// Invoice numbers a batch draws ahead for its units and hands out in order: one call to the
/// store for many invoices instead of one each. What the batch does not use it gives back
/// ([`StoreTx::give_back_numbers`]). Only a batch whose units all commit or all roll back
/// (one without a savepoint per unit) draws ahead: a unit rolled back alone would take its
/// numbers back in the database but not here.
///
/// A draw takes as many numbers as the batch has units left, up to [`DRAW_AHEAD`] the first
/// time and twice the last draw after that, to at most [`DRAW_AHEAD_MOST`] ([`draw_size`]).
/// On PostgreSQL the numbers not used are gaps, and a batch draws again only once it has used
/// every number drawn before: so a batch whose customers turn out to owe nothing (a listed
/// customer with nothing due, an import run again over rows already in) leaves at most
/// [`DRAW_AHEAD`], and one that stops owing half way no more than 100 beyond what it used. A
/// PostgreSQL draw is a round trip that waits for every write sent before it, so a bill run's
/// batch of 2,000 draws 5 times instead of 20.
#[derive(Debug, Default)]
pub(crate) struct DrawnNumbers {
    /// Drawn and not yet used, the lowest last.
    ahead: Vec<u64>,
    /// How many to draw when none is left: the units still to run, this one included.
    pub(crate) units_left: u32,
    /// The last number drawn, and the last used (before any is used, the one before the
    /// first drawn).
    drawn: Option<(u64, u64)>,
    /// How many the last draw took.
    last_draw: Option<u32>,
}

impl DrawnNumbers {
    /// The next invoice number, drawing more when none is left.
    pub(crate) fn take(
        &mut self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
        now: DateTime<Utc>,
    ) -> EngineResult<u64> {
        let kind = settle_core::document::DocumentKind::Invoice;
        if self.ahead.is_empty() {
            let count = draw_size(self.last_draw, self.units_left);
            self.last_draw = Some(count);
            let mut numbers = tx.next_numbers(tenant_id, kind, count, now)?;
            let (Some(&first), Some(&last)) = (numbers.first(), numbers.last()) else {
                return Err(corrupt("no document number drawn"));
            };
            let used = self.drawn.map_or(first.saturating_sub(1), |(_, used)| used);
            self.drawn = Some((last, used));
            numbers.reverse();
            self.ahead = numbers;
        }
        let number = self.ahead.pop().ok_or_else(|| corrupt("no document number drawn"))?;
        if let Some((_, used)) = self.drawn.as_mut() {
            *used = number;
        }
        Ok(number)
    }

    /// Gives back what was drawn and not used.
    fn give_back(&self, tx: &mut dyn StoreTx, tenant_id: &TenantId) -> EngineResult<()> {
        match self.drawn {
            Some((drawn, used)) if drawn > used => {
                let kind = settle_core::document::DocumentKind::Invoice;
                Ok(tx.give_back_numbers(tenant_id, kind, drawn, used)?)
            }
            _ => Ok(()),
        }
    }
}

/// Most invoice numbers a batch's first draw takes ([`DrawnNumbers`]).
pub(crate) const DRAW_AHEAD: u32 = 100;

/// Most invoice numbers any draw of a batch takes.
pub(crate) const DRAW_AHEAD_MOST: u32 = 1_600;

/// How many numbers a batch draws when it has used all it drew: `units_left` (at least one),
/// at most [`DRAW_AHEAD`] the first time and twice the last draw after, up to
/// [`DRAW_AHEAD_MOST`].
pub(crate) fn draw_size(last_draw: Option<u32>, units_left: u32) -> u32 {
    let most = last_draw.map_or(DRAW_AHEAD, |last| last.saturating_mul(2).min(DRAW_AHEAD_MOST));
    units_left.clamp(1, most.max(1))
}

fn corrupt(what: &str) -> EngineError {
    EngineError::Store(settle_store::StoreError::Corrupt(what.to_owned()))
}

/// The objects a journal transaction changes, so that their projections follow it.
#[derive(Default)]
pub(crate) struct Touched<'a> {
    pub(crate) documents: Vec<&'a mut Document>,
    pub(crate) payments: Vec<&'a mut Payment>,
    pub(crate) applications: Vec<&'a mut Application>,
}

impl Unit<'_> {
    pub(crate) fn tenant_id(&self) -> &TenantId {
        self.lock.tenant_id()
    }

    /// Appends `txn` to the journal and applies its effects to the customer and to `touched`
    /// (in memory; the caller writes the touched objects). Returns its history line, if any.
    pub(crate) fn record(
        &mut self,
        txn: &JournalTxn,
        touched: Touched<'_>,
    ) -> EngineResult<Option<HistoryLine>> {
        let effects = txn.effects();
        if self.watch.is_some() {
            self.watch_touched(&touched)?;
        }
        // Every running total is checked before the journal is written; a refusal returns
        // before anything is stored, and the caller's transaction rolls back.
        for document in touched.documents {
            fold::document(document, &effects)?;
        }
        for payment in touched.payments {
            fold::payment(payment, &effects)?;
        }
        for application in touched.applications {
            fold::application(application, &effects)?;
        }
        let line = fold::customer(&mut self.customer, txn, &effects)?;
        self.tx.append_journal(&self.lock, txn, self.now)?;
        self.appended = self.appended.saturating_add(1);
        if let Some(line) = &line {
            self.tx.append_history(&self.lock, line)?;
            self.last_history = Some(line.clone());
        }
        Ok(line)
    }

    /// Loads a document of this customer; another customer's document is not found here.
    pub(crate) fn document(&mut self, id: &settle_core::ids::DocumentId) -> EngineResult<Document> {
        let document = self.tx.document(self.lock.tenant_id(), id)?;
        match document {
            Some(d) if d.customer_id == self.customer.id => Ok(d),
            Some(d) => Err(Rejection::CustomerMismatch {
                source_id: self.customer.id.to_string(),
                target_id: d.id.to_string(),
            }
            .into()),
            None => Err(Rejection::NotFound { what: "document", id: id.to_string() }.into()),
        }
    }
}

/// Today's date in the tenant's time zone; a stored zone that does not parse is corrupt data.
pub(crate) fn today_in(settings: &Settings, now: DateTime<Utc>) -> EngineResult<NaiveDate> {
    Ok(TimeZone::of(settings)?.today(now))
}

impl Engine {
    /// Runs `work` for the customer who owns `document_id`: finds the owner inside the write
    /// transaction, then takes that customer's lock as [`Engine::write`] does.
    pub(crate) fn write_for_document<T: Saved>(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
        work: impl FnOnce(&mut Unit<'_>) -> EngineResult<T>,
    ) -> EngineResult<T> {
        let mut tx = self.begin_write()?;
        let owner = tx
            .document(tenant_id, document_id)?
            .ok_or_else(|| Rejection::NotFound { what: "document", id: document_id.to_string() })?
            .customer_id;
        self.write_in(tx, tenant_id, &owner, Ahead::default(), work)
    }

    /// Runs `work` for one customer: begins a write transaction, takes the customer's lock,
    /// and commits only if `work` and the final customer write succeed.
    pub(crate) fn write<T: Saved>(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        work: impl FnOnce(&mut Unit<'_>) -> EngineResult<T>,
    ) -> EngineResult<T> {
        let tx = self.begin_write()?;
        self.write_in(tx, tenant_id, customer_id, Ahead::default(), work)
    }

    /// [`Engine::write`] for a command that says `ahead` what it will need: the store may
    /// draw its number and read its documents with the customer's lock
    /// ([`StoreTx::open_unit`]).
    pub(crate) fn write_with<T: Saved>(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        ahead: Ahead<'_>,
        work: impl FnOnce(&mut Unit<'_>) -> EngineResult<T>,
    ) -> EngineResult<T> {
        let tx = self.begin_write()?;
        self.write_in(tx, tenant_id, customer_id, ahead, work)
    }

    fn write_in<T: Saved>(
        &self,
        mut tx: Box<dyn settle_store::StoreTx + '_>,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        ahead: Ahead<'_>,
        work: impl FnOnce(&mut Unit<'_>) -> EngineResult<T>,
    ) -> EngineResult<T> {
        // A dry run neither looks its key up nor takes a number (a preview only peeks).
        let live = self.dry_run.is_none();
        let opening = UnitOpening {
            tenant_id,
            customer_id,
            // The unit's one instant: rows written under the lock are stamped with it.
            now: self.now(),
            key: if live { self.key_to_look_up() } else { None },
            number: ahead.number.filter(|_| live),
            documents: ahead.documents,
        };
        let opened = tx.open_unit(&opening)?;
        self.judge_saved(tx.as_mut(), tenant_id, opened.saved)?;
        let (lock, customer) = opened.locked.ok_or_else(|| not_found(customer_id))?;
        let numbered = opening.number.zip(opened.number);
        let (out, preview, appended) = self.unit_in(
            tx.as_mut(),
            (lock, customer),
            &opened.settings,
            Numbers { drawn: None, numbered },
            work,
        )?;
        if let (Some(dry_run), Some(preview)) = (&self.dry_run, preview) {
            // Dropping the transaction rolls it back: nothing the command wrote is kept.
            drop(tx);
            dry_run.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(preview);
            return Ok(out);
        }
        self.save_idempotency(tx.as_mut(), tenant_id, &out)?;
        telemetry::commit(tx, telemetry::Commit::Unit, appended)?;
        Ok(out)
    }

    /// One unit of work inside `tx` on a customer locked in it: runs `work` and writes the
    /// customer. Answers the preview too when this engine runs dry.
    fn unit_in<T>(
        &self,
        tx: &mut dyn settle_store::StoreTx,
        (lock, customer): (CustomerLock, Customer),
        settings: &Settings,
        numbers: Numbers<'_>,
        work: impl FnOnce(&mut Unit<'_>) -> EngineResult<T>,
    ) -> EngineResult<(T, Option<crate::Preview>, u64)> {
        let now = lock.now();
        let settings = settings.clone();
        let today = today_in(&settings, now)?;
        let watch = self.dry_run.as_ref().map(|_| Watch::new(&customer));
        let loaded = customer.clone();
        let mut unit = Unit {
            tx,
            lock,
            customer,
            settings,
            ids: self.new_ids(),
            now,
            today,
            last_history: None,
            deferred_payment: None,
            watch: None,
            appended: 0,
            drawn: numbers.drawn,
            numbered: numbers.numbered,
        };
        unit.check_versions(&self.expected_versions)?;
        unit.watch = watch;
        let out = work(&mut unit)?;
        // Most commands change only balances: writing the profile too would rewrite the
        // indexes over the customer's name and email for nothing.
        if unit.customer != loaded {
            if same_profile(&unit.customer, &loaded) {
                unit.tx.update_customer_balances(&unit.lock, &unit.customer)?;
            } else {
                unit.tx.update_customer(&unit.lock, &unit.customer)?;
            }
        }
        let preview = match unit.watch.take() {
            Some(watch) => Some(unit.preview(watch)?),
            None => None,
        };
        Ok((out, preview, unit.appended))
    }

    /// Runs `work` for each of `customers` in one write transaction (batched commits), each
    /// customer's unit of work atomic: a unit that is refused rolls back alone and its refusal
    /// stands in its place in the answer, in the order of `customers` (each named once; an
    /// unknown customer is refused as not found). The batch locks and reads its customers
    /// together, then `prepare` reads what the units need in a few statements (a bill run:
    /// the customers' subscriptions) and hands it to each `work`. `finish` then writes what
    /// the batch as a whole records (a bill run's progress), and the batch commits once.
    /// A store failure rolls the whole batch back. Writes no idempotency record: a batch
    /// answers no single request. The batch's rows carry one instant: they commit together.
    ///
    /// Refusals are rare, and a savepoint per unit costs every write a copy of each page it
    /// first touches, so the batch first runs without savepoints; only when a unit is refused
    /// is that attempt rolled back whole and the batch run again with a savepoint per unit.
    pub(crate) fn write_batch<T, P>(
        &self,
        tenant_id: &TenantId,
        customers: &[CustomerId],
        mut prepare: impl FnMut(&mut dyn StoreTx, &[&CustomerLock]) -> EngineResult<P>,
        mut work: impl FnMut(&mut Unit<'_>, &mut P) -> EngineResult<T>,
        finish: impl FnOnce(&mut dyn settle_store::StoreTx, &Batch<T>) -> EngineResult<()>,
    ) -> EngineResult<Batch<T>> {
        let mut savepoints = false;
        let (mut tx, done, appended) = loop {
            match self.run_batch(tenant_id, customers, &mut prepare, &mut work, savepoints)? {
                Some(attempt) => break attempt,
                // With savepoints an attempt always runs to the end.
                None => savepoints = true,
            }
        };
        finish(tx.as_mut(), &done)?;
        telemetry::commit(tx, telemetry::Commit::Batch { units: done.len() }, appended)?;
        Ok(done)
    }

    /// One attempt at a batch, uncommitted. Without `savepoints`, the first refused unit ends
    /// the attempt: it answers `None` and dropping its transaction rolls everything back.
    fn run_batch<T, P>(
        &self,
        tenant_id: &TenantId,
        customers: &[CustomerId],
        prepare: &mut impl FnMut(&mut dyn StoreTx, &[&CustomerLock]) -> EngineResult<P>,
        work: &mut impl FnMut(&mut Unit<'_>, &mut P) -> EngineResult<T>,
        savepoints: bool,
    ) -> EngineResult<Option<Attempt<'_, T>>> {
        let mut tx = self.begin_batch()?;
        let settings = tx.settings(tenant_id)?;
        let mut locked: HashMap<CustomerId, (CustomerLock, Customer)> = tx
            .lock_customers(tenant_id, customers, self.now())?
            .into_iter()
            .map(|(lock, customer)| (customer.id.clone(), (lock, customer)))
            .collect();
        let locks: Vec<&CustomerLock> = locked.values().map(|(lock, _)| lock).collect();
        let mut prepared = prepare(tx.as_mut(), &locks)?;
        let mut done = Vec::with_capacity(customers.len());
        let mut appended = 0_u64;
        let mut drawn = (!savepoints).then(DrawnNumbers::default);
        for (at, customer_id) in customers.iter().enumerate() {
            if savepoints {
                tx.savepoint()?;
            }
            let left = u32::try_from(customers.len() - at).unwrap_or(u32::MAX);
            let numbers = Numbers::drawn(drawn.as_mut(), left);
            let result = match locked.remove(customer_id) {
                Some(found) => self.unit_in(tx.as_mut(), found, &settings, numbers, |unit| {
                    work(unit, &mut prepared)
                }),
                None => Err(not_found(customer_id)),
            };
            // A store may hold writes back until it next talks to the database (PostgreSQL's
            // does); releasing the savepoint sends them, so a refusal they meet (a total out
            // of range) is this unit's and rolls back alone.
            let result = match result {
                Ok(done) if savepoints => tx.release_savepoint().map(|()| done).map_err(Into::into),
                other => other,
            };
            match result {
                Ok((out, _, units_appended)) => {
                    appended = appended.saturating_add(units_appended);
                    done.push((customer_id.clone(), Ok(out)));
                }
                Err(EngineError::Rejected(_)) if !savepoints => return Ok(None),
                Err(EngineError::Rejected(rejection)) => {
                    tx.rollback_to_savepoint()?;
                    done.push((customer_id.clone(), Err(rejection)));
                }
                Err(other) => return Err(other),
            }
        }
        if let Some(drawn) = &drawn {
            drawn.give_back(tx.as_mut(), tenant_id)?;
        }
        if !savepoints {
            // Sends what the store held back, so a refusal among the last units' writes ends
            // this attempt for one with a savepoint per unit, as a refusal found earlier does.
            tx.savepoint()?;
            match tx.release_savepoint().map_err(EngineError::from) {
                Ok(()) => {}
                Err(EngineError::Rejected(_)) => return Ok(None),
                Err(other) => return Err(other),
            }
        }
        Ok(Some((tx, done, appended)))
    }
}

/// The refusal of a unit whose customer is unknown.
fn not_found(customer_id: &CustomerId) -> EngineError {
    Rejection::NotFound { what: "customer", id: customer_id.to_string() }.into()
}

/// What each customer's unit of a batch answered, in the order the batch named them.
pub(crate) type Batch<T> = Vec<(CustomerId, Result<T, Rejection>)>;

/// A batch run to its end and not yet committed: its transaction, its answers and the journal
/// transactions it appended.
type Attempt<'s, T> = (Box<dyn StoreTx + 's>, Batch<T>, u64);

/// Whether two versions of a customer differ at most in their balances (every other field is
/// named, so a new one must be placed on one side or the other).
fn same_profile(now: &Customer, loaded: &Customer) -> bool {
    let Customer {
        id,
        name,
        email,
        currency,
        payment_terms_days,
        metadata,
        created_at,
        balances: _,
    } = loaded;
    now.id == *id
        && now.name == *name
        && now.email == *email
        && now.currency == *currency
        && now.payment_terms_days == *payment_terms_days
        && now.metadata == *metadata
        && now.created_at == *created_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_double_from_a_hundred_to_at_most_1600_and_never_past_the_units_left() {
        // A batch of 2,000 that uses every number it draws: five draws.
        let (mut last, mut left, mut sizes) = (None, 2_000_u32, Vec::new());
        while left > 0 {
            let size = draw_size(last, left);
            sizes.push(size);
            last = Some(size);
            left -= size;
        }
        assert_eq!(sizes, [100, 200, 400, 800, 500]);
        assert_eq!(draw_size(None, 30), 30);
        assert_eq!(draw_size(None, 0), 1);
        assert_eq!(draw_size(Some(1_000), 10_000), 1_600);
        assert_eq!(draw_size(Some(1_600), 10_000), 1_600);
    }
}
