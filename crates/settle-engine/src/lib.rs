//! Settle's use cases. Each command loads what it needs through the store inside one database
//! transaction, takes the customer's lock, decides with `settle-core`, and writes the journal
//! transaction and every projection it changes before committing.

#![warn(missing_docs)]

mod commands;
mod idempotency;
mod keys;
mod preview;
mod stop;
mod telemetry;
mod unit;
mod verify;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use settle_core::error::Rejection;
use settle_core::ids::{IdGen, NewIds};
use settle_store::{Store, StoreError, StoreTx};

pub use commands::Amount;
pub use commands::adjustments::NewAdjustment;
pub use commands::applications::{ApplicationTarget, ItemAmountInput, NewApplication, SourceInput};
pub use commands::bill_runs::{BILL_RUN_BATCH, BILL_RUN_STALE_AFTER, Billed};
pub use commands::catalog::{NewPrice, NewProduct};
pub use commands::collect::{Collect, CollectApplication};
pub use commands::credits::{NewCreditItem, NewCreditMemo, NewRefund, RefundFrom};
pub use commands::customers::{CustomerPatch, DEFAULT_PAYMENT_TERMS_DAYS, NewCustomer};
pub use commands::documents::{NewDocument, NewItem, NewTax};
pub use commands::entries::{EntryKind, EntryOutcome, NewEntry};
pub use commands::export::{CSV_HEADER, ExportFormat};
pub use commands::imports::{
    IMPORT_BATCH, ImportKind, ImportOptions, ImportProgress, ImportReport, MAX_EXTERNAL_ID_CHARS,
    MAX_REPORTED_ERRORS, RowError,
};
pub use commands::links::{CreatedPaymentLink, PAY_VIEW_HISTORY, PayView, PaymentLink};
pub use commands::payments::NewPayment;
pub use commands::reports::{Aging, TrialBalance};
pub use commands::settings::{SettingsPatch, TimeZone};
pub use commands::staff::{
    BOOTSTRAP_ADMIN_EMAIL, CreatedUser, DEFAULT_SESSION_IDLE, LAST_ADMIN, LOCKOUT_FAILURES,
    LOCKOUT_WINDOW, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, SignIn, StaffSession, StaffUser,
    csrf_token,
};
pub use commands::subscriptions::{
    AmendmentOutcome, NewAmendment, NewChange, NewSubscription, NewSubscriptionItem,
    SubscriptionHistory, SubscriptionView,
};
pub use commands::tenants::{ApiKey, CreatedKey, KEY_PREFIX, NewKey, Principal};
pub use idempotency::{
    BillingResult, DEFAULT_IDEMPOTENCY_RETENTION, Idempotency, IdempotencyKey,
    MAX_IDEMPOTENCY_KEY_LEN, MIN_IDEMPOTENCY_RETENTION, Outcome, SaveFailed, SaveResponse, Saved,
    SavedResponse,
};
pub use preview::{BalanceChange, DocumentChange, ItemChange, PaymentChange, Preview};
pub use settle_store::Role;
pub use stop::StopSignal;
pub use verify::VerifyReport;

/// Tells the time. The real one reads the system clock; tests pin it.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Why a command did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request broke a rule; nothing was written.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The store failed; nothing was written.
    #[error("store failure")]
    Store(StoreError),
    /// The caller's [`SaveResponse`] could not render the result; nothing was written.
    #[error("the response could not be saved")]
    SaveFailed,
    /// The idempotency key was used before for another request.
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    /// Writing an export to its output failed (the journal itself is unchanged).
    #[error("writing the export failed")]
    Output(#[from] std::io::Error),
}

impl From<StoreError> for EngineError {
    /// A bound the database enforces on a stored total is a rejection like the engine's own.
    fn from(err: StoreError) -> EngineError {
        match err {
            StoreError::OutOfRange { total } => {
                EngineError::Rejected(Rejection::TotalOutOfRange { total })
            }
            other => EngineError::Store(other),
        }
    }
}

/// The result of engine calls.
pub type EngineResult<T> = Result<T, EngineError>;

/// The use cases over one store.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    idempotency: Option<Arc<idempotency::KeyScope>>,
    idempotency_retention: chrono::TimeDelta,
    session_idle: chrono::TimeDelta,
    /// Set on the copy [`Engine::preview`] runs a command on: units roll back and leave their
    /// preview here.
    dry_run: Option<preview::DryRun>,
    /// `(object id, version)` pairs a command checks under the lock ([`Engine::expecting`]).
    expected_versions: Arc<Vec<(String, String)>>,
    /// Raised when the process is shutting down: a bill run stops between batches of customers.
    stop: StopSignal,
    /// Customers a bill run bills per transaction ([`BILL_RUN_BATCH`] unless set).
    bill_run_batch: usize,
    /// Batches a bill run keeps in flight at once (the store's
    /// [`Store::concurrent_batches`] unless set).
    bill_run_workers: Option<usize>,
    /// API keys found live (`keys.rs`), shared by every copy of the engine.
    known_keys: Arc<keys::KnownKeys>,
    /// The request's key, which its transactions confirm until one has ([`Engine::confirming`]).
    key_check: Option<Arc<settle_store::KeyCheck>>,
}

impl Engine {
    /// An engine over `store`, with the clock and id generator it must use.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Engine {
        Engine {
            store,
            clock,
            ids,
            idempotency: None,
            idempotency_retention: DEFAULT_IDEMPOTENCY_RETENTION,
            session_idle: DEFAULT_SESSION_IDLE,
            dry_run: None,
            expected_versions: Arc::default(),
            stop: StopSignal::default(),
            bill_run_batch: BILL_RUN_BATCH,
            bill_run_workers: None,
            known_keys: Arc::default(),
            key_check: None,
        }
    }

    /// This engine, stopping its long runs (bill runs) once `stop` is raised.
    pub fn with_stop(mut self, stop: StopSignal) -> Engine {
        self.stop = stop;
        self
    }

    /// This engine, billing `customers` per transaction in its bill runs (at least one).
    pub fn with_bill_run_batch(mut self, customers: usize) -> Engine {
        self.bill_run_batch = customers.max(1);
        self
    }

    /// This engine, keeping `batches` bill-run batches in flight at once (at least one)
    /// instead of what the store suggests ([`Store::concurrent_batches`]).
    pub fn with_bill_run_workers(mut self, batches: usize) -> Engine {
        self.bill_run_workers = Some(batches.max(1));
        self
    }

    /// Batches a bill run keeps in flight at once.
    pub fn bill_run_workers(&self) -> usize {
        self.bill_run_workers.unwrap_or_else(|| self.store.concurrent_batches()).max(1)
    }

    /// Connections in use in each of the store's pools, by pool name.
    pub fn store_connections_in_use(&self) -> Vec<(&'static str, u64)> {
        self.store.connections_in_use()
    }

    /// How many segments the customer search index is in (`Store::search_index_segments`).
    pub fn search_index_segments(&self) -> EngineResult<u64> {
        Ok(self.store.search_index_segments()?)
    }

    /// One short step, about `pages` pages written, of merging the customer search index into
    /// one segment; whether there was anything to merge (`Store::merge_search_index`).
    pub fn merge_search_index(&self, pages: u32) -> EngineResult<bool> {
        Ok(self.store.merge_search_index(pages)?)
    }

    /// Whether the store can serve: it answers a query and its schema is at this build's
    /// migrations (`/readyz`).
    pub fn check_ready(&self) -> EngineResult<()> {
        Ok(self.store.check_ready()?)
    }

    fn new_ids(&self) -> NewIds<'_> {
        NewIds(self.ids.as_ref())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Begins a write transaction for a command that runs no unit of work (nothing that moves
    /// balances); a dry-run engine refuses it, so a preview can never commit anything.
    fn begin_outside_unit(&self) -> EngineResult<Box<dyn StoreTx + '_>> {
        if self.dry_run.is_some() {
            return Err(Rejection::invalid("dry_run", "this request cannot be previewed").into());
        }
        self.look_up_key_first()?;
        self.begin_write()
    }

    /// [`Engine::begin_outside_unit`] for a large batch ([`settle_store::Store::begin_batch_write`]).
    fn begin_batch(&self) -> EngineResult<Box<dyn StoreTx + '_>> {
        if self.dry_run.is_some() {
            return Err(Rejection::invalid("dry_run", "this request cannot be previewed").into());
        }
        self.look_up_key_first()?;
        let mut tx = self.store.begin_batch_write()?;
        self.confirm_key_in(tx.as_mut())?;
        Ok(tx)
    }

    /// Runs `read` in a read-only transaction.
    fn read<T>(&self, read: impl FnOnce(&mut dyn StoreTx) -> EngineResult<T>) -> EngineResult<T> {
        let mut tx = self.begin_read()?;
        read(tx.as_mut())
    }

    /// A read of one store call, whose statements go to the database together
    /// ([`settle_store::Store::begin_read_flight`]): one round trip on PostgreSQL, not two.
    fn read_flight<T>(
        &self,
        read: impl FnOnce(&mut dyn StoreTx) -> EngineResult<T>,
    ) -> EngineResult<T> {
        let mut tx = self.store.begin_read_flight()?;
        self.confirm_key_in(tx.as_mut())?;
        read(tx.as_mut())
    }

    /// A write transaction, in which the request's key is confirmed ([`Engine::confirming`]).
    fn begin_write(&self) -> EngineResult<Box<dyn StoreTx + '_>> {
        let mut tx = self.store.begin_write()?;
        self.confirm_key_in(tx.as_mut())?;
        Ok(tx)
    }

    /// A read-only transaction, in which the request's key is confirmed.
    fn begin_read(&self) -> EngineResult<Box<dyn StoreTx + '_>> {
        let mut tx = self.store.begin_read()?;
        self.confirm_key_in(tx.as_mut())?;
        Ok(tx)
    }
}

#[cfg(test)]
mod tests;
