//! Idempotency keys with Stripe's semantics: the saved response is written in the same database
//! transaction as the effect it answers, so a request either happened with its response saved,
//! or did not happen at all.
//!
//! The engine never renders a response: the caller passes a [`SaveResponse`] that turns each
//! kind of command result into an opaque [`SavedResponse`], and a replay is an
//! [`Outcome::Replayed`], not an error: [`Engine::idempotent`] looks the key up before the
//! command's first write, and again after a write that lost the key to a concurrent twin. A
//! command whose first write is a customer's unit looks it up inside that unit's transaction,
//! where the unit checks it anyway (one read less, which on PostgreSQL is a round trip); any
//! other write transaction is preceded by the look-up on its own; and a command that ends
//! without having looked it up (it failed first, or wrote nothing) looks it up then.
//!
//! A saved response is kept for the retention period (by the engine's clock): after it the key
//! is as if never used, and `prune_idempotency` deletes such records in small batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use settle_core::adjustment::Adjustment;
use settle_core::application::Application;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::Document;
use settle_core::ids::TenantId;
use settle_core::payment::Payment;
use settle_core::refund::Refund;
use settle_store::{IdempotencyRecord, StoreError, StoreTx};

use crate::{CreatedKey, CreatedPaymentLink, Engine, EngineError, EngineResult, EntryOutcome};

/// How long a saved response is kept by default: 48 hours.
pub const DEFAULT_IDEMPOTENCY_RETENTION: TimeDelta = TimeDelta::hours(48);

/// The shortest retention Settle keeps: 24 hours, as the API promises.
pub const MIN_IDEMPOTENCY_RETENTION: TimeDelta = TimeDelta::hours(24);

/// Longest accepted key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A client's idempotency key: 1 to 255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key, if `text` is 1 to 255 printable ASCII characters (no spaces).
    pub fn parse(text: &str) -> Option<IdempotencyKey> {
        let valid = !text.is_empty()
            && text.len() <= MAX_IDEMPOTENCY_KEY_LEN
            && text.bytes().all(|b| b.is_ascii_graphic());
        valid.then(|| IdempotencyKey(text.to_owned()))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A response saved under an idempotency key, as the caller rendered it: the engine stores it
/// and hands it back, and never looks inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    /// The status the caller answered with.
    pub status: u16,
    /// The exact body the caller answered with.
    pub body: String,
}

/// The caller could not render a command's result, so nothing was saved or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveFailed;

/// How the caller saves each kind of command result. One method per result type: a command
/// with a new result type does not compile until its result is [`Saved`], and that does not
/// compile until this trait, and so every caller, says how it is saved.
pub trait SaveResponse: Send + Sync {
    /// A customer (created).
    fn customer(&self, customer: &Customer) -> Result<SavedResponse, SaveFailed>;
    /// A document (created, posted, voided, netted, written off).
    fn document(&self, document: &Document) -> Result<SavedResponse, SaveFailed>;
    /// A payment (recorded, voided).
    fn payment(&self, payment: &Payment) -> Result<SavedResponse, SaveFailed>;
    /// An application (made, reversed).
    fn application(&self, application: &Application) -> Result<SavedResponse, SaveFailed>;
    /// A refund.
    fn refund(&self, refund: &Refund) -> Result<SavedResponse, SaveFailed>;
    /// An adjustment.
    fn adjustment(&self, adjustment: &Adjustment) -> Result<SavedResponse, SaveFailed>;
    /// An entry: its history line and what it made.
    fn entry(
        &self,
        line: &HistoryLine,
        outcome: &EntryOutcome,
    ) -> Result<SavedResponse, SaveFailed>;
    /// An API key, just made.
    fn api_key(&self, key: &CreatedKey) -> Result<SavedResponse, SaveFailed>;
    /// A payment link, just made (its token is shown only in this answer).
    fn payment_link(&self, link: &CreatedPaymentLink) -> Result<SavedResponse, SaveFailed>;
    /// A document transferred to credit, with its customer after the transfer.
    fn transfer(
        &self,
        document: &Document,
        customer: &Customer,
    ) -> Result<SavedResponse, SaveFailed>;
    /// A result of the catalog, subscriptions, amendments or bill runs.
    fn billing(&self, result: BillingResult<'_>) -> Result<SavedResponse, SaveFailed>;
}

/// What a catalog, subscription, amendment or bill run command answers, for
/// [`SaveResponse::billing`].
#[derive(Debug, Clone, Copy)]
pub enum BillingResult<'a> {
    /// A product (created).
    Product(&'a settle_core::subscription::Product),
    /// A price (created, archived).
    Price(&'a settle_core::subscription::Price),
    /// A subscription (created).
    Subscription(&'a crate::SubscriptionView),
    /// An amendment (or cancellation) with its invoice.
    Amendment(&'a crate::AmendmentOutcome),
    /// A bill run.
    BillRun(&'a settle_store::BillRun),
}

macro_rules! saved_billing {
    ($($ty:ty => $variant:ident;)+) => {$(
        impl Saved for $ty {
            fn save_with(&self, save: &dyn SaveResponse) -> Result<SavedResponse, SaveFailed> {
                save.billing(BillingResult::$variant(self))
            }
        }
    )+};
}

saved_billing! {
    settle_core::subscription::Product => Product;
    settle_core::subscription::Price => Price;
    crate::SubscriptionView => Subscription;
    crate::AmendmentOutcome => Amendment;
    settle_store::BillRun => BillRun;
}

/// A result of a write command, which the caller's [`SaveResponse`] can save.
pub trait Saved {
    /// Renders `self` with the method of `save` for its type.
    fn save_with(&self, save: &dyn SaveResponse) -> Result<SavedResponse, SaveFailed>;
}

/// Implements [`Saved`] for single values by naming their [`SaveResponse`] method.
macro_rules! saved {
    ($($ty:ty => $method:ident;)+) => {$(
        impl Saved for $ty {
            fn save_with(&self, save: &dyn SaveResponse) -> Result<SavedResponse, SaveFailed> {
                save.$method(self)
            }
        }
    )+};
}

saved! {
    Customer => customer;
    Document => document;
    Payment => payment;
    Application => application;
    Refund => refund;
    Adjustment => adjustment;
    CreatedKey => api_key;
    CreatedPaymentLink => payment_link;
}

impl Saved for (HistoryLine, EntryOutcome) {
    fn save_with(&self, save: &dyn SaveResponse) -> Result<SavedResponse, SaveFailed> {
        save.entry(&self.0, &self.1)
    }
}

impl Saved for (Document, Customer) {
    fn save_with(&self, save: &dyn SaveResponse) -> Result<SavedResponse, SaveFailed> {
        save.transfer(&self.0, &self.1)
    }
}

/// What a keyed write did: ran now, or had run before and answers its saved response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The command ran now; its response is saved under the key.
    Done(T),
    /// The same request ran before with this key: its saved response, to answer again.
    Replayed(SavedResponse),
}

/// The idempotency scope of one request.
pub struct Idempotency {
    /// The tenant the request acts for; keys are scoped to it.
    pub tenant_id: TenantId,
    /// The client's key.
    pub key: IdempotencyKey,
    /// Hex SHA-256 of what identifies the request (for the API: method, route and body).
    pub request_hash: String,
    /// Renders the command's result as the response to save.
    pub save: Arc<dyn SaveResponse>,
}

/// The constraint a keyed write reports when it finds the key saved for the same request: by a
/// concurrent twin that committed first, or by the request made before this replay.
const KEY_TAKEN: &str = "idempotency key taken by a concurrent request";

fn key_taken() -> EngineError {
    EngineError::Store(StoreError::Conflict { constraint: KEY_TAKEN.to_owned() })
}

/// One request's idempotency while its command runs.
pub(crate) struct KeyScope {
    request: Idempotency,
    /// Set once the key has been looked up: by a write transaction's own check, or by
    /// [`Engine::look_up_key_first`].
    looked_up: AtomicBool,
}

impl Engine {
    /// Runs `call` as one request made with an idempotency key. Before `call`'s first write
    /// the key is looked up (inside a customer's unit, by the unit itself; before any other
    /// write transaction, on its own): a saved response for the same request is
    /// [`Outcome::Replayed`] and `call` writes nothing; for another request,
    /// [`EngineError::IdempotencyKeyReused`]. A `call` that ends without having looked the key
    /// up (it failed first, or wrote nothing) is answered the same way by a look-up then.
    /// Otherwise every write transaction of `call` saves the response `idempotency.save`
    /// renders before it commits. A write that finds the key taken by a concurrent twin (or
    /// fails on the key's uniqueness) rolls back as a conflict, and the key is looked up again
    /// to answer the twin's response.
    pub fn idempotent<T>(
        &self,
        idempotency: Idempotency,
        call: impl FnOnce(&Engine) -> EngineResult<T>,
    ) -> EngineResult<Outcome<T>> {
        let scope = Arc::new(KeyScope { request: idempotency, looked_up: AtomicBool::new(false) });
        let engine = Engine { idempotency: Some(Arc::clone(&scope)), ..self.clone() };
        let result = call(&engine);
        let looked_up = scope.looked_up.load(Ordering::SeqCst);
        match result {
            Ok(out) if looked_up => Ok(Outcome::Done(out)),
            // It wrote nothing that checks the key: a response saved before answers instead.
            Ok(out) => match self.saved_response(&scope.request)? {
                Some(saved) => Ok(Outcome::Replayed(saved)),
                None => Ok(Outcome::Done(out)),
            },
            Err(err) => {
                let conflict = matches!(err, EngineError::Store(StoreError::Conflict { .. }));
                if looked_up && !conflict {
                    return Err(err);
                }
                match self.saved_response(&scope.request) {
                    Ok(Some(saved)) => Ok(Outcome::Replayed(saved)),
                    Err(EngineError::IdempotencyKeyReused) => {
                        Err(EngineError::IdempotencyKeyReused)
                    }
                    Ok(None) | Err(_) => Err(err),
                }
            }
        }
    }

    /// Before a write transaction that is not a customer's unit: looks the key up, once per
    /// request, and stops with the conflict [`Engine::idempotent`] answers with the saved
    /// response when there is one.
    pub(crate) fn look_up_key_first(&self) -> EngineResult<()> {
        let Some(scope) = &self.idempotency else { return Ok(()) };
        if scope.looked_up.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        match self.saved_response(&scope.request)? {
            Some(_) => Err(key_taken()),
            None => Ok(()),
        }
    }

    /// The response saved for this request under its key, if any and not expired; a key saved
    /// for another request is [`EngineError::IdempotencyKeyReused`].
    fn saved_response(&self, idempotency: &Idempotency) -> EngineResult<Option<SavedResponse>> {
        match self.idempotency_record(&idempotency.tenant_id, idempotency.key.as_str())? {
            None => Ok(None),
            Some(record) if record.request_hash == idempotency.request_hash => {
                Ok(Some(SavedResponse { status: record.status, body: record.body }))
            }
            Some(_) => Err(EngineError::IdempotencyKeyReused),
        }
    }

    /// This engine, keeping saved responses for `retention` (never less than
    /// [`MIN_IDEMPOTENCY_RETENTION`]; a shorter one is raised to it).
    pub fn with_idempotency_retention(&self, retention: TimeDelta) -> Engine {
        Engine { idempotency_retention: retention.max(MIN_IDEMPOTENCY_RETENTION), ..self.clone() }
    }

    /// How long saved responses are kept.
    pub fn idempotency_retention(&self) -> TimeDelta {
        self.idempotency_retention
    }

    /// Records saved at or before this instant have expired.
    fn idempotency_expired_at(&self) -> DateTime<Utc> {
        self.now()
            .checked_sub_signed(self.idempotency_retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The saved response for a key, if any and not expired.
    pub fn idempotency_record(
        &self,
        tenant_id: &TenantId,
        key: &str,
    ) -> EngineResult<Option<IdempotencyRecord>> {
        let expired_at = self.idempotency_expired_at();
        let record = self.read(|tx| Ok(tx.idempotency(tenant_id, key)?))?;
        Ok(record.filter(|r| r.created_at > expired_at))
    }

    /// Deletes at most `batch` expired saved responses (of every tenant) in one short write
    /// transaction and returns how many it deleted; fewer than `batch` means none are left.
    pub fn prune_idempotency(&self, batch: u32) -> EngineResult<usize> {
        let expired_at = self.idempotency_expired_at();
        let mut tx = self.begin_outside_unit()?;
        let pruned = tx.prune_idempotency(expired_at, batch)?;
        tx.commit()?;
        Ok(pruned)
    }

    /// Inside a write transaction, before any effect: [`Engine::idempotent`] found no record
    /// for the key, so one here was saved by a concurrent request since. For the same request
    /// the write stops as a conflict, which `idempotent` answers with the saved response; for
    /// another request, a reused key. An expired one is deleted in this transaction, so the
    /// request is new and its response can be saved under the key.
    pub(crate) fn check_idempotency(
        &self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
    ) -> EngineResult<()> {
        let Some(key) = self.key_to_look_up() else { return Ok(()) };
        let saved = tx.idempotency(tenant_id, key)?;
        self.judge_saved(tx, tenant_id, saved)
    }

    /// The request's idempotency key, if it has one, marked as looked up: the caller looks it
    /// up in its transaction and hands what it found to [`Engine::judge_saved`].
    pub(crate) fn key_to_look_up(&self) -> Option<&str> {
        let scope = self.idempotency.as_ref()?;
        scope.looked_up.store(true, Ordering::SeqCst);
        Some(scope.request.key.as_str())
    }

    /// What the response `saved` under the request's key means (see
    /// [`Engine::check_idempotency`]): nothing saved, or an expired record (deleted here), lets
    /// the command go on.
    pub(crate) fn judge_saved(
        &self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
        saved: Option<IdempotencyRecord>,
    ) -> EngineResult<()> {
        let (Some(scope), Some(record)) = (&self.idempotency, saved) else { return Ok(()) };
        let scope = &scope.request;
        let expired_at = self.idempotency_expired_at();
        if record.created_at <= expired_at {
            // A twin replacing it too waits on this delete, then fails on the unique key
            // when it saves, and answers this request's response.
            tx.remove_expired_idempotency(tenant_id, scope.key.as_str(), expired_at)?;
            Ok(())
        } else if record.request_hash == scope.request_hash {
            Err(key_taken())
        } else {
            Err(EngineError::IdempotencyKeyReused)
        }
    }

    /// Saves the response the caller renders for `out` in the transaction, before it commits.
    pub(crate) fn save_idempotency<T: Saved>(
        &self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
        out: &T,
    ) -> EngineResult<()> {
        let Some(scope) = &self.idempotency else { return Ok(()) };
        let scope = &scope.request;
        let saved = out.save_with(scope.save.as_ref()).map_err(|_| EngineError::SaveFailed)?;
        tx.insert_idempotency(&IdempotencyRecord {
            tenant_id: tenant_id.clone(),
            key: scope.key.as_str().to_owned(),
            request_hash: scope.request_hash.clone(),
            status: saved.status,
            body: saved.body,
            created_at: self.now(),
        })?;
        Ok(())
    }
}
