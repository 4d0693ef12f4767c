//! The storage port of Settle: the [`Store`] and [`StoreTx`] traits every adapter implements,
//! the records and queries they speak, and the [`CustomerLock`] guard that every write takes.
//!
//! A [`StoreTx`] is one database transaction. Several commands may run inside one (that is how
//! commits can be batched); each command appends exactly one journal transaction.

#![warn(missing_docs)]

mod billing;

pub use billing::{
    AmendmentRecord, BillRun, BillRunStatus, BilledLine, BillingTx, SubscriptionQuery,
};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use settle_core::adjustment::Adjustment;
use settle_core::aging::{CustomerCredit, OpenDocument};
use settle_core::application::Application;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::{Document, DocumentKind, DocumentStatus};
use settle_core::ids::{
    ApiKeyId, ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, PaymentLinkId, TenantId,
    UserId,
};
use settle_core::ledger::{Account, JournalTxn};
use settle_core::money::Currency;
use settle_core::payment::Payment;
use settle_core::refund::Refund;
use settle_core::settings::Settings;

/// An infrastructure failure (never a business rejection).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness, foreign key or check constraint refused the write.
    #[error("constraint {constraint} refused the write")]
    Conflict {
        /// The constraint's name or message.
        constraint: String,
    },
    /// A stored balance or total would exceed 10^14 − 1 minor units in size; the database refused
    /// the write (a check of the schema, named `amount_bound_*`).
    #[error("{total} would pass 99999999999999 minor units in size")]
    OutOfRange {
        /// Which balance or total.
        total: String,
    },
    /// The list cursor was not one this store wrote.
    #[error("malformed cursor")]
    BadCursor,
    /// There is no Settle store where one was expected: no such file, or a database without
    /// Settle's schema. Only opening a store to create it makes one.
    #[error("no Settle store: {0}")]
    Missing(String),
    /// Stored data could not be read back (a bug or a tampered database).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The API key a transaction was asked to confirm ([`StoreTx::confirm_api_key`]) is
    /// unknown, revoked, or no longer of the tenant and role it was presented with; the
    /// transaction commits nothing.
    #[error("the API key is not valid")]
    KeyRefused,
    /// The database could not be reached or failed.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The result of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Proof that the customer's lock is held in the current transaction, and the instant of the
/// unit of work that holds it. Only a store adapter builds one (in `lock_customer`, through
/// [`adapter::customer_lock`]), and every write that moves money takes one, so a write without
/// the lock does not compile. Every row such a write inserts is stamped with [`CustomerLock::now`]
/// (the engine's clock), never the database's or the system's clock.
#[derive(Debug)]
pub struct CustomerLock {
    tenant_id: TenantId,
    customer_id: CustomerId,
    now: DateTime<Utc>,
}

impl CustomerLock {
    /// The tenant.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// The locked customer.
    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }

    /// The engine's instant for the unit of work: the `created_at` of every row written under
    /// this lock.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
}

/// For store adapters only: the one way to build a [`CustomerLock`]. Rust has no visibility
/// for "these crates only", so the module is hidden from the documentation and a test
/// (`only_store_adapters_build_customer_locks` in this crate) fails when any crate but the
/// `settle-store-*` adapters names it.
#[doc(hidden)]
pub mod adapter {
    use chrono::{DateTime, Utc};
    use settle_core::ids::{CustomerId, TenantId};

    use crate::CustomerLock;

    /// Call this right after the database lock on the customer is taken; `now` is the instant
    /// the engine passed to `lock_customer`.
    pub fn customer_lock(
        tenant_id: TenantId,
        customer_id: CustomerId,
        now: DateTime<Utc>,
    ) -> CustomerLock {
        CustomerLock { tenant_id, customer_id, now }
    }
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, keys and settings included.
    Admin,
    /// All billing operations.
    Clerk,
    /// Reads only.
    Viewer,
}

impl Role {
    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Viewer => "viewer",
        }
    }

    /// Reads a name written by [`Role::name`].
    pub fn parse(name: &str) -> Option<Role> {
        [Role::Admin, Role::Clerk, Role::Viewer].into_iter().find(|r| r.name() == name)
    }
}

/// A stored API key (only its SHA-256 is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The key's id.
    pub id: ApiKeyId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Hex SHA-256 of the key text.
    pub key_hash: String,
    /// What it may do.
    pub role: Role,
    /// A label.
    pub name: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An API key a request presented, with the tenant and role it had when the process last read
/// it: the request's first transaction confirms that it still has them
/// ([`StoreTx::confirm_api_key`]), so a revoked key is refused as soon as it is revoked,
/// without a lookup of its own before every request.
#[derive(Debug)]
pub struct KeyCheck {
    /// Hex SHA-256 of the key text.
    pub key_hash: String,
    /// The tenant it must still belong to.
    pub tenant_id: TenantId,
    /// The role it must still have.
    pub role: Role,
    confirmed: AtomicBool,
}

impl KeyCheck {
    /// A check not yet confirmed.
    pub fn new(key_hash: String, tenant_id: TenantId, role: Role) -> KeyCheck {
        KeyCheck { key_hash, tenant_id, role, confirmed: AtomicBool::new(false) }
    }

    /// Whether a store has found the key live, of its tenant and with its role, since the
    /// check was made.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed.load(Ordering::Acquire)
    }

    /// Whether `record` is the key as presented, and live; if it is, the check is confirmed.
    pub fn confirm_with(&self, record: Option<&ApiKeyRecord>) -> bool {
        let live = record.is_some_and(|r| {
            r.revoked_at.is_none()
                && r.key_hash == self.key_hash
                && r.tenant_id == self.tenant_id
                && r.role == self.role
        });
        if live {
            self.confirm();
        }
        live
    }

    /// [`KeyCheck::confirm_with`] as a store answers it: [`StoreError::KeyRefused`] when
    /// `record` is not the key as presented and live.
    pub fn judge(&self, record: Option<&ApiKeyRecord>) -> StoreResult<()> {
        if self.confirm_with(record) { Ok(()) } else { Err(StoreError::KeyRefused) }
    }

    /// Records that a store found the key live (a store adapter calls it once the
    /// database's answer says so).
    pub fn confirm(&self) {
        self.confirmed.store(true, Ordering::Release);
    }
}

/// A stored staff user of the back office (only the Argon2id hash of the password is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUserRecord {
    /// The user's id.
    pub id: UserId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Trimmed and lower-cased; unique among users not removed, across all tenants.
    pub email: String,
    /// The password's Argon2id hash in PHC string form.
    pub password_hash: String,
    /// What the user may do.
    pub role: Role,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was removed, if it was.
    pub removed_at: Option<DateTime<Utc>>,
}

/// A stored sign-in session (only the SHA-256 of its cookie token is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionRecord {
    /// Hex SHA-256 of the session token.
    pub token_hash: String,
    /// The signed-in user.
    pub user_id: UserId,
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// The last request seen with it.
    pub last_seen_at: DateTime<Utc>,
    /// When it was ended (signed out), if it was.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A stored payment link of a customer (only the SHA-256 of its token is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLinkRecord {
    /// The link's id.
    pub id: PaymentLinkId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The customer it shows.
    pub customer_id: CustomerId,
    /// Hex SHA-256 of the link's token; unique.
    pub token_hash: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A saved response to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The client's key.
    pub key: String,
    /// Hex SHA-256 of method, route and body.
    pub request_hash: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The exact response body.
    pub body: String,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
}

/// What a unit of work on one customer reads and takes before its command runs
/// ([`StoreTx::open_unit`]).
#[derive(Debug, Clone, Copy)]
pub struct UnitOpening<'a> {
    /// The tenant.
    pub tenant_id: &'a TenantId,
    /// The customer to lock.
    pub customer_id: &'a CustomerId,
    /// The unit's instant: its lock carries it, and a number drawn records it.
    pub now: DateTime<Utc>,
    /// The request's idempotency key, to look up first.
    pub key: Option<&'a str>,
    /// The kind of document the command will number, to draw its number with the lock.
    pub number: Option<DocumentKind>,
    /// Documents the command reads before it writes any document (the targets of a payment's
    /// applications): a store may read them with the lock, for their first read.
    pub documents: &'a [DocumentId],
}

/// What [`StoreTx::open_unit`] found and took.
#[derive(Debug)]
pub struct OpenedUnit {
    /// The response saved under the key, if one is: the caller decides what it means (a
    /// replay, a reused key, an expired record to remove) before using the rest.
    pub saved: Option<IdempotencyRecord>,
    /// The customer's lock and row; `None` if there is no such customer.
    pub locked: Option<(CustomerLock, Customer)>,
    /// The tenant's settings.
    pub settings: Settings,
    /// The number drawn when one was asked for, the customer is known and no response is
    /// saved under the key; otherwise the command draws it itself.
    pub number: Option<u64>,
}

/// A journal transaction as stored: with its position and time of writing.
#[derive(Debug, Clone)]
pub struct StoredTxn {
    /// Position in the tenant's journal (increasing).
    pub seq: i64,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The transaction.
    pub txn: JournalTxn,
}

/// Sort orders of the customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CustomerSort {
    /// By name, A to Z.
    Name,
    /// By name, Z to A.
    NameDesc,
    /// Lowest (most owed) balance first.
    Balance,
    /// Highest balance first.
    BalanceDesc,
    /// Oldest first.
    Created,
    /// Newest first.
    #[default]
    CreatedDesc,
}

/// A page request: at most `limit` rows after the `cursor` of the previous page.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Rows wanted (1–500).
    pub limit: u32,
    /// Opaque position returned with the previous page.
    pub cursor: Option<String>,
}

/// A page of rows and the cursor of the next one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of the tenant's journal feed. Unlike [`Page`], the cursor is never absent: on the
/// last page it is the place to poll from later.
#[derive(Debug, Clone)]
pub struct FeedPage {
    /// The transactions, in feed order.
    pub rows: Vec<StoredTxn>,
    /// Where the next page starts (after the last row, or where the request started when
    /// there were none).
    pub next_cursor: String,
    /// More committed transactions follow `next_cursor`: read again (on PostgreSQL some may
    /// only be readable a moment later, once the transactions that began before them end).
    pub has_more: bool,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    /// Case-insensitive substring of name or email.
    pub search: Option<String>,
    /// Order.
    pub sort: CustomerSort,
}

/// Which balances a document list keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceFilter {
    /// Balance below zero.
    Negative,
    /// Balance above zero.
    Positive,
    /// Non-zero balance or any non-zero item balance.
    Open,
}

/// Filters of document lists (newest first).
#[derive(Debug, Clone, Default)]
pub struct DocumentQuery {
    /// Only these kinds (empty: all).
    pub kinds: Vec<DocumentKind>,
    /// One customer.
    pub customer_id: Option<CustomerId>,
    /// One status.
    pub status: Option<DocumentStatus>,
    /// Balance filter.
    pub balance: Option<BalanceFilter>,
}

/// What needs a person (the back office's Attention), each list newest first.
#[derive(Debug, Clone, Default)]
pub struct Attention {
    /// Posted invoices and debit memos with a negative balance.
    pub negative: Vec<Document>,
    /// Posted invoices and debit memos at zero with an item that is not.
    pub stuck: Vec<Document>,
    /// Draft invoices and debit memos dated before the day asked.
    pub old_drafts: Vec<Document>,
    /// Customers with available credit while a posted invoice or debit memo of theirs has a
    /// positive balance.
    pub idle_credit: Vec<Customer>,
    /// Of the customers with a negative document, those with a positive one too (in id order).
    pub owing: Vec<CustomerId>,
}

/// Filters of the payment list (newest first).
#[derive(Debug, Clone, Default)]
pub struct PaymentQuery {
    /// One customer.
    pub customer_id: Option<CustomerId>,
    /// Only payments with something unapplied.
    pub unapplied_only: bool,
}

/// Filters of the application list (newest first).
#[derive(Debug, Clone, Default)]
pub struct ApplicationQuery {
    /// One customer.
    pub customer_id: Option<CustomerId>,
    /// One source (payment or credit memo id).
    pub source_id: Option<String>,
    /// One target document.
    pub target_id: Option<DocumentId>,
}

/// One row of the trial balance. The sums span many rows, so they are `i128`, computed exactly
/// (never in an `i64` that a tenant with many large amounts would overflow, nor in a float).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTotal {
    /// The account.
    pub account: Account,
    /// Its currency.
    pub currency: Currency,
    /// Sum of debits, minor units.
    pub debit: i128,
    /// Sum of credits, minor units.
    pub credit: i128,
}

/// What an external id names in Settle: an imported customer or invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExternalKind {
    /// A customer (`settle import customers`).
    Customer,
    /// An invoice (`settle import invoices`).
    Invoice,
}

impl ExternalKind {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            ExternalKind::Customer => "customer",
            ExternalKind::Invoice => "invoice",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<ExternalKind> {
        [ExternalKind::Customer, ExternalKind::Invoice].into_iter().find(|k| k.name() == name)
    }
}

/// An object imported from another system under the id it had there: unique per tenant and
/// kind, so importing the same row again finds it and creates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRef {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Customer or invoice.
    pub kind: ExternalKind,
    /// The id in the other system.
    pub external_id: String,
    /// The id of the customer or document it became.
    pub object_id: String,
    /// The number it had in the other system (invoices).
    pub source_number: Option<String>,
    /// When it was imported.
    pub created_at: DateTime<Utc>,
}

/// A database that runs transactions.
pub trait Store: Send + Sync {
    /// Starts a read-write transaction. On SQLite this is `BEGIN IMMEDIATE` (one writer at a
    /// time); on PostgreSQL, READ COMMITTED with row locks taken by [`StoreTx::lock_customer`].
    fn begin_write(&self) -> StoreResult<Box<dyn StoreTx + '_>>;
    /// Starts a read-only transaction that sees one consistent snapshot.
    fn begin_read(&self) -> StoreResult<Box<dyn StoreTx + '_>>;
    /// Starts a read-only transaction for a read whose statements all go in one call (reading
    /// a customer, or a document with its items and group). A store that talks to its
    /// database over the network may end the transaction in that same flight, so the read
    /// costs one round trip instead of two; such a store refuses a second call that talks to
    /// the database, rather than answer it from another snapshot. By default,
    /// [`Store::begin_read`].
    fn begin_read_flight(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        self.begin_read()
    }
    /// The API key whose SHA-256 is `key_hash`, read by one statement, which needs no
    /// transaction around it: every request checks its key, and on PostgreSQL a read-only
    /// transaction's begin and end would cost a round trip more. By default, in a
    /// [`Store::begin_read`] transaction.
    fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.begin_read()?.api_key_by_hash(key_hash)
    }
    /// Begins a write transaction for a large batch (a bill run's or an import's). A store
    /// that groups concurrent writes into one commit gives it a group of its own, as the
    /// group's first member, so that its size costs neither it nor the others. By default,
    /// [`Store::begin_write`].
    fn begin_batch_write(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        self.begin_write()
    }
    /// How many batch write transactions (a bill run's batches of customers) are worth
    /// running at once. Batches never share a customer, so they conflict on nothing but the
    /// server's time: where one writer commits at a time (SQLite) a second batch only waits,
    /// so 1 by default.
    fn concurrent_batches(&self) -> usize {
        1
    }
    /// Waits a short, bounded while until every journal transaction of the tenant committed
    /// so far can be read from [`StoreTx::journal_feed`], so a client reads its own writes in
    /// the feed. A store whose feed shows every commit at once (SQLite) returns at once; when
    /// the wait runs out the feed is still correct, only behind.
    fn await_feed(&self, _tenant_id: &TenantId) -> StoreResult<()> {
        Ok(())
    }
    /// Connections of each of the store's pools that are in use right now, by pool name (for
    /// the `settle_store_connections_in_use` gauge). None by default.
    fn connections_in_use(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
    /// Whether the store can serve: it answers a query, and its schema is at exactly the
    /// migrations this build runs (`StoreError::Unavailable` naming both versions when not).
    fn check_ready(&self) -> StoreResult<()>;
    /// How many segments the customer search index is in. Every search looks in each, and a
    /// write transaction that adds customers can add one. 0 for a store whose database keeps
    /// its search index by itself.
    fn search_index_segments(&self) -> StoreResult<u64>;
    /// One short step, about `pages` pages written, of merging the customer search index into
    /// one segment, as a write transaction of its own; whether there was anything to merge.
    /// `settle serve` repeats it while the index is in many segments (ARCHITECTURE.md,
    /// "Lists").
    fn merge_search_index(&self, pages: u32) -> StoreResult<bool>;
}

/// One database transaction. Dropping it without [`StoreTx::commit`] rolls it back.
///
/// A write the database refuses (a `Conflict`, an `OutOfRange`) is reported by the call that
/// makes it or, where the store holds writes back to send them together (PostgreSQL), by the
/// next call that talks to the database or by [`StoreTx::commit`]; either way the transaction
/// then commits nothing.
pub trait StoreTx: BillingTx {
    /// Makes every write of the transaction durable.
    fn commit(self: Box<Self>) -> StoreResult<()>;

    /// Marks where [`StoreTx::rollback_to_savepoint`] returns to, so several customers' units
    /// can share one transaction (batched commits) and a refused one is undone alone.
    /// Savepoints do not nest: release or roll back one before marking the next.
    fn savepoint(&mut self) -> StoreResult<()>;
    /// Keeps what was written since [`StoreTx::savepoint`]; it commits with the transaction.
    fn release_savepoint(&mut self) -> StoreResult<()>;
    /// Undoes every write since [`StoreTx::savepoint`] and forgets the savepoint; the
    /// transaction goes on (on PostgreSQL, also after a statement of the unit failed).
    fn rollback_to_savepoint(&mut self) -> StoreResult<()>;

    /// Creates a tenant with default settings.
    fn insert_tenant(
        &mut self,
        tenant_id: &TenantId,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// All tenants, oldest first.
    fn tenants(&mut self) -> StoreResult<Vec<TenantId>>;
    /// The tenant's name; `None` for an unknown tenant.
    fn tenant_name(&mut self, tenant_id: &TenantId) -> StoreResult<Option<String>>;
    /// The tenant's settings.
    fn settings(&mut self, tenant_id: &TenantId) -> StoreResult<Settings>;
    /// Writes the tenant's settings.
    fn update_settings(&mut self, tenant_id: &TenantId, settings: &Settings) -> StoreResult<()>;
    /// The saved response for `(tenant, key)`, if any.
    fn idempotency(
        &mut self,
        tenant_id: &TenantId,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>>;
    /// Saves a response; a second record for the same `(tenant, key)` is a `Conflict` (at the
    /// call or later: see [`StoreTx`]).
    fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<()>;
    /// Deletes the record of `(tenant, key)` if it was saved at or before `expired_at`, so the
    /// key can be saved again in this transaction; `true` if one was deleted.
    fn remove_expired_idempotency(
        &mut self,
        tenant_id: &TenantId,
        key: &str,
        expired_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Deletes at most `limit` records of any tenant saved at or before `expired_at`, oldest
    /// first, skipping any another transaction holds; returns how many it deleted.
    fn prune_idempotency(&mut self, expired_at: DateTime<Utc>, limit: u32) -> StoreResult<usize>;
    /// Stores an API key.
    fn insert_api_key(&mut self, key: &ApiKeyRecord) -> StoreResult<()>;
    /// Revokes a key of the tenant; `false` when the tenant has no such live key.
    fn revoke_api_key(
        &mut self,
        tenant_id: &TenantId,
        key_id: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Finds a key by the SHA-256 of its text.
    fn api_key_by_hash(&mut self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Confirms `key` in this transaction: [`KeyCheck::confirm`] once the store has found it
    /// live, of its tenant and with its role, or [`StoreError::KeyRefused`]. A store that holds
    /// statements back may send the check with the transaction's next statements and report a
    /// refusal there, or at the latest at [`StoreTx::commit`], before anything commits. By
    /// default, [`StoreTx::api_key_by_hash`] at once.
    fn confirm_api_key(&mut self, key: &Arc<KeyCheck>) -> StoreResult<()> {
        key.judge(self.api_key_by_hash(&key.key_hash)?.as_ref())
    }
    /// The tenant's keys, revoked ones included, oldest first (then by id).
    fn api_keys(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<ApiKeyRecord>>;

    /// Stores a staff user; a second live user with the same email (in any tenant) is a
    /// `Conflict`.
    fn insert_staff_user(&mut self, user: &StaffUserRecord) -> StoreResult<()>;
    /// The live (not removed) user with this email, in any tenant.
    fn staff_user_by_email(&mut self, email: &str) -> StoreResult<Option<StaffUserRecord>>;
    /// A user of the tenant by id, removed or not.
    fn staff_user(
        &mut self,
        tenant_id: &TenantId,
        user_id: &UserId,
    ) -> StoreResult<Option<StaffUserRecord>>;
    /// The tenant's users, removed ones included, by email then id.
    fn staff_users(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<StaffUserRecord>>;
    /// Whether any staff user exists in any tenant, removed ones included.
    fn any_staff_user(&mut self) -> StoreResult<bool>;
    /// Gives a live user of the tenant `role`; `false` when there is no such live user.
    fn set_staff_user_role(
        &mut self,
        tenant_id: &TenantId,
        user_id: &UserId,
        role: Role,
    ) -> StoreResult<bool>;
    /// Marks a live user of the tenant removed at `now`; `false` when there is none.
    fn remove_staff_user(
        &mut self,
        tenant_id: &TenantId,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Stores a new session; a second one with the same token hash is a `Conflict`.
    fn insert_staff_session(&mut self, session: &StaffSessionRecord) -> StoreResult<()>;
    /// A session by the SHA-256 of its token, ended or not.
    fn staff_session(&mut self, token_hash: &str) -> StoreResult<Option<StaffSessionRecord>>;
    /// Sets a live session's last-seen time; `false` when there is no live session.
    fn touch_staff_session(&mut self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Ends a live session at `now`; `false` when there is no live session.
    fn end_staff_session(&mut self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Records a failed sign-in for a (lower-cased) email.
    fn insert_sign_in_failure(&mut self, email: &str, failed_at: DateTime<Utc>) -> StoreResult<()>;
    /// The times of the email's failed sign-ins after `since`, newest first.
    fn sign_in_failures(
        &mut self,
        email: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<DateTime<Utc>>>;
    /// Forgets every failed sign-in of the email; returns how many.
    fn clear_sign_in_failures(&mut self, email: &str) -> StoreResult<usize>;
    /// Forgets the failed sign-ins of every email at or before `before`; returns how many.
    fn prune_sign_in_failures(&mut self, before: DateTime<Utc>) -> StoreResult<usize>;
    /// Stores a payment link; a second one with the same token hash is a `Conflict`.
    fn insert_payment_link(&mut self, link: &PaymentLinkRecord) -> StoreResult<()>;
    /// A customer's links, revoked and expired ones included, newest first.
    fn payment_links(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
    ) -> StoreResult<Vec<PaymentLinkRecord>>;
    /// A link by the SHA-256 of its token, in any tenant.
    fn payment_link_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<PaymentLinkRecord>>;
    /// Revokes a live link of the tenant at `now`; `false` when there is none.
    fn revoke_payment_link(
        &mut self,
        tenant_id: &TenantId,
        link_id: &PaymentLinkId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Takes the next number of `kind` in the tenant (1, 2, ...): unique in the tenant and
    /// greater than every number taken before. Taking one never waits for another customer's
    /// transaction: on PostgreSQL a number is drawn outside the transaction (a sequence), so
    /// one whose transaction rolls back is never used (a gap); on SQLite, whose writers take
    /// turns anyway, it is part of the transaction. The first number of a kind records its
    /// sequence (or counter) at `now`.
    fn next_number(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// [`StoreTx::next_number`] `count` times in one call (at least once): a batch draws its
    /// units' numbers ahead. The numbers increase; on PostgreSQL another transaction's may
    /// fall between them. What the batch does not use it gives back with
    /// [`StoreTx::give_back_numbers`].
    fn next_numbers(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        count: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<u64>>;

    /// Gives back the numbers of `kind` after `used` that this transaction drew, up to `drawn`
    /// (the last it drew), so the next is `used + 1` again. SQLite's counter is part of the
    /// transaction and takes them back; a PostgreSQL sequence cannot, and they are gaps
    /// (ARCHITECTURE.md, "Document numbers").
    fn give_back_numbers(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        drawn: u64,
        used: u64,
    ) -> StoreResult<()>;

    /// The number the next [`StoreTx::next_number`] of `kind` in the tenant would give, without
    /// taking it: what a preview shows, since on PostgreSQL a number taken and rolled back is
    /// gone.
    fn peek_number(&mut self, tenant_id: &TenantId, kind: DocumentKind) -> StoreResult<u64>;

    /// Stores a new customer.
    fn insert_customer(&mut self, tenant_id: &TenantId, customer: &Customer) -> StoreResult<()>;
    /// Locks the customer for the rest of the transaction and reads it; `None` if unknown.
    /// `now` is the engine's instant for the unit of work; the lock carries it, and every row
    /// written under the lock gets it as its `created_at`.
    fn lock_customer(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(CustomerLock, Customer)>>;
    /// Opens a unit of work: looks up the idempotency key, locks the customer and reads it,
    /// reads the tenant's settings and draws the number the command will use, as
    /// [`StoreTx::idempotency`], [`StoreTx::lock_customer`], [`StoreTx::settings`] and
    /// [`StoreTx::next_number`] would one after the other (the default), except that no
    /// number is drawn for an unknown customer or a key with a saved response. A store that
    /// talks to its database over the network asks for them in one flight. A number drawn
    /// and not used is a gap on PostgreSQL, as one drawn by a command that is then refused.
    fn open_unit(&mut self, opening: &UnitOpening<'_>) -> StoreResult<OpenedUnit> {
        let saved = match opening.key {
            Some(key) => self.idempotency(opening.tenant_id, key)?,
            None => None,
        };
        let locked = self.lock_customer(opening.tenant_id, opening.customer_id, opening.now)?;
        let settings = self.settings(opening.tenant_id)?;
        let number = match opening.number {
            Some(kind) if saved.is_none() && locked.is_some() => {
                Some(self.next_number(opening.tenant_id, kind, opening.now)?)
            }
            _ => None,
        };
        Ok(OpenedUnit { saved, locked, settings, number })
    }
    /// [`StoreTx::lock_customer`] for many customers in a few statements: a batch's locks and
    /// reads, in id order (which is also the order PostgreSQL takes the row locks in, so two
    /// batches never wait for each other in a cycle). Every lock carries `now`. Unknown ids
    /// are left out.
    fn lock_customers(
        &mut self,
        tenant_id: &TenantId,
        customer_ids: &[CustomerId],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerLock, Customer)>>;
    /// Reads a customer.
    fn customer(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
    ) -> StoreResult<Option<Customer>>;
    /// Writes the customer's profile fields and balance projections.
    fn update_customer(&mut self, lock: &CustomerLock, customer: &Customer) -> StoreResult<()>;
    /// Writes only the customer's balance projections, leaving its profile (and the indexes
    /// over its name and email) untouched: what almost every command changes.
    fn update_customer_balances(
        &mut self,
        lock: &CustomerLock,
        customer: &Customer,
    ) -> StoreResult<()>;
    /// Lists customers.
    fn customers(
        &mut self,
        tenant_id: &TenantId,
        query: &CustomerQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>>;

    /// Stores a new document with its items.
    fn insert_document(&mut self, lock: &CustomerLock, document: &Document) -> StoreResult<()>;
    /// Writes a document's status and its items' balances and credited amounts.
    fn update_document(&mut self, lock: &CustomerLock, document: &Document) -> StoreResult<()>;
    /// Reads a document with its items.
    fn document(
        &mut self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> StoreResult<Option<Document>>;
    /// The document an item belongs to.
    fn item_document(
        &mut self,
        tenant_id: &TenantId,
        item_id: &ItemId,
    ) -> StoreResult<Option<DocumentId>>;
    /// Lists documents, newest first.
    fn documents(
        &mut self,
        tenant_id: &TenantId,
        query: &DocumentQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Document>>;

    /// Stores a new payment.
    fn insert_payment(&mut self, lock: &CustomerLock, payment: &Payment) -> StoreResult<()>;
    /// Writes a payment's status, unapplied and refunded amounts.
    fn update_payment(&mut self, lock: &CustomerLock, payment: &Payment) -> StoreResult<()>;
    /// Reads a payment.
    fn payment(
        &mut self,
        tenant_id: &TenantId,
        payment_id: &PaymentId,
    ) -> StoreResult<Option<Payment>>;
    /// Lists payments, newest first.
    fn payments(
        &mut self,
        tenant_id: &TenantId,
        query: &PaymentQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Payment>>;

    /// Stores a new application with its items.
    fn insert_application(
        &mut self,
        lock: &CustomerLock,
        application: &Application,
    ) -> StoreResult<()>;
    /// Writes what is still applied on each item.
    fn update_application(
        &mut self,
        lock: &CustomerLock,
        application: &Application,
    ) -> StoreResult<()>;
    /// Reads an application.
    fn application(
        &mut self,
        tenant_id: &TenantId,
        application_id: &ApplicationId,
    ) -> StoreResult<Option<Application>>;
    /// Lists applications, newest first.
    fn applications(
        &mut self,
        tenant_id: &TenantId,
        query: &ApplicationQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Application>>;

    /// Stores an invoice item adjustment.
    fn insert_adjustment(
        &mut self,
        lock: &CustomerLock,
        adjustment: &Adjustment,
    ) -> StoreResult<()>;
    /// Stores a refund.
    fn insert_refund(&mut self, lock: &CustomerLock, refund: &Refund) -> StoreResult<()>;

    /// Appends a journal transaction and adds it to the per-customer account totals.
    fn append_journal(
        &mut self,
        lock: &CustomerLock,
        txn: &JournalTxn,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Appends a billing-history line.
    fn append_history(&mut self, lock: &CustomerLock, line: &HistoryLine) -> StoreResult<()>;
    /// What needs a person: negative and stuck documents, drafts dated before
    /// `drafts_before`, customers with credit left idle while they owe (see [`Attention`]).
    fn attention(
        &mut self,
        tenant_id: &TenantId,
        drafts_before: NaiveDate,
    ) -> StoreResult<Attention>;
    /// A customer's billing history, newest first.
    fn history(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        page: &PageRequest,
    ) -> StoreResult<Page<HistoryLine>>;
    /// The journal in order, optionally of one customer.
    fn journal(
        &mut self,
        tenant_id: &TenantId,
        customer_id: Option<&CustomerId>,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredTxn>>;
    /// The tenant's journal as a feed: transactions after `page.cursor` (from the start
    /// without one) in an order in which no transaction can commit before one already read,
    /// so a reader following `next_cursor` sees every transaction exactly once.
    fn journal_feed(&mut self, tenant_id: &TenantId, page: &PageRequest) -> StoreResult<FeedPage>;
    /// Debit and credit totals per account and currency, from the per-customer totals.
    fn account_totals(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<AccountTotal>>;
    /// Debit and credit sums per account and currency of the postings of transactions
    /// effective on or before `as_of`: the trial balance at the end of that day.
    fn account_totals_until(
        &mut self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<AccountTotal>>;
    /// The currencies of the tenant's customers, by code.
    fn customer_currencies(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<Currency>>;
    /// Per-customer account totals, for verification.
    fn customer_account_totals(
        &mut self,
        tenant_id: &TenantId,
    ) -> StoreResult<Vec<(CustomerId, AccountTotal)>>;
    /// Debit and credit sums per account and currency of one customer's postings whose
    /// transactions are effective on or before `as_of`: its balances at the end of that day.
    fn customer_account_totals_until(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<AccountTotal>>;
    /// Invoices and debit memos in `currency` whose receivable balance at the end of `as_of`
    /// (the sum of their receivable postings of transactions effective on or before it) is not
    /// zero, with their due dates and customers' names.
    fn open_documents_until(
        &mut self,
        tenant_id: &TenantId,
        currency: Currency,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<OpenDocument>>;
    /// Each customer's available credit in `currency` at the end of `as_of` (credits minus
    /// debits of its unapplied payments, credit memos and credit balance postings of
    /// transactions effective on or before it), with its name; customers with no such postings
    /// are left out, those whose credit sums to zero may be included.
    fn available_credit_until(
        &mut self,
        tenant_id: &TenantId,
        currency: Currency,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<CustomerCredit>>;
    /// Records what an imported row became; a second record of the same tenant, kind and
    /// external id is refused (`StoreError::Conflict`).
    fn insert_external_ref(&mut self, record: &ExternalRef) -> StoreResult<()>;
    /// The record of an imported row, if that external id was imported into the tenant.
    fn external_ref(
        &mut self,
        tenant_id: &TenantId,
        kind: ExternalKind,
        external_id: &str,
    ) -> StoreResult<Option<ExternalRef>>;
    /// The tenant's customers with this email, compared without case, in id order.
    fn customers_by_email(
        &mut self,
        tenant_id: &TenantId,
        email: &str,
    ) -> StoreResult<Vec<CustomerId>>;
}

#[cfg(test)]
mod tests;
