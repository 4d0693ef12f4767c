//! One PostgreSQL transaction implementing the storage port.

mod beside;
mod keys;
mod reads;
mod search;
mod sending;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use settle_core::aging::{CustomerCredit, OpenDocument};
use settle_core::application::Application;
use settle_core::customer::Customer;
use settle_core::document::{Document, DocumentKind};
use settle_core::ids::{ApiKeyId, CustomerId, DocumentId, TenantId};
use settle_core::ledger::Account;
use settle_core::money::Currency;
use settle_core::settings::Settings;
use settle_store::{
    AccountTotal, ApiKeyRecord, CustomerLock, CustomerQuery, FeedPage, IdempotencyRecord, KeyCheck,
    OpenedUnit, Page, PageRequest, StoreError, StoreResult, StoreTx, StoredTxn, UnitOpening,
    adapter,
};

use crate::bind::{bind, params};
use crate::rows::{PgRow, micros};
use crate::{Answer, Arg, Manager, Param, Sent, unavailable};
use settle_store_sql::{
    CUSTOMER_COLUMNS, Insert, JOURNAL_COLUMNS, POSTING_COLUMNS, Row, SeqOrder, SortValue,
    Statement, Value, bad, customer_cursor, customer_order, fetch_limit, paginate, seq_cursor,
    split_customer_cursor,
};

/// A statement held back until the transaction next talks to the database.
pub(crate) enum Held {
    /// A write whose answer the caller does not need (only that it succeeds).
    Write(HeldWrite),
    /// `begin` or a savepoint command.
    Simple(&'static str),
}

/// A held write, or the held check of an API key ([`PgTx::confirm_api_key`]): a read whose
/// count is checked as a write's row count is.
pub(crate) struct HeldWrite {
    pub(crate) statement: tokio_postgres::Statement,
    /// The statement's text, which `merge.rs` reads.
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
    /// When named, what it writes: then it must change exactly one row (merged with others of
    /// its text, as many rows as they are).
    pub(crate) check: Option<&'static str>,
}

/// What [`SAVEPOINT`] marks.
const SAVEPOINT: &str = "savepoint unit";

/// An API key by the SHA-256 of its text, in a transaction or outside any
/// ([`PostgresStore::api_key_by_hash`](crate::PostgresStore)).
pub(crate) const API_KEY_BY_HASH: &str = "select api_key_id, tenant_id, key_hash, role, name, \
     created_at, revoked_at from api_key where key_hash = $1";

/// An open PostgreSQL transaction on a pooled connection; rolled back on drop unless committed.
///
/// Statements whose answer Settle does not use (`begin`, inserts and updates whose row count
/// nobody reads, savepoints) are held back and sent pipelined with the next statement whose
/// answer is needed, or with the COMMIT: a command costs one round trip per read it makes and
/// one for the commit, not one per row. A held statement's error is reported by the call that
/// sends it (a later read, a savepoint's release, or `commit`), mapped as before.
///
/// Sending ahead: on a batch connection (`PgConn::threaded`), whose socket a thread of its own
/// drives, held statements outside any savepoint are sent once 32 customers' worth are held
/// (`sending::SEND_AHEAD_ROWS`), without waiting for their answers, so the server runs them
/// while the batch builds its next customers' writes. At most one such flight stays unanswered when the next is sent; every
/// other flight first collects their answers, so an error among them is reported by the next
/// call that talks to the database or holds a write, and fails the transaction as before.
pub(crate) struct PgTx {
    conn: r2d2::PooledConnection<Manager>,
    /// Held back, in order.
    held: Vec<Held>,
    /// On a batch connection, the held writes of each text, in the order the texts came: the
    /// rows each merged statement will carry (see `sending::SEND_AHEAD_ROWS`).
    rows_by_text: Vec<(String, usize)>,
    /// Flights sent ahead, oldest first, whose answers have not been looked at.
    ahead: VecDeque<sending::Ahead>,
    /// BEGIN has been sent: the server holds a transaction to end.
    begun: bool,
    open: bool,
    /// A statement failed, so PostgreSQL has aborted the transaction and would turn a COMMIT
    /// into a silent ROLLBACK; `commit` reports it instead.
    failed: bool,
    /// The tenant's settings, read in the flight that locked a customer, for the unit's
    /// `settings` call that follows (see [`PgTx::prefetched_settings`]).
    settings: Option<(TenantId, Settings)>,
    /// Whether the transaction ends with its first flight (a read of one flight).
    one_flight: OneFlight,
    /// Documents the unit's opening flight read, each kept for its first read and all
    /// forgotten at the first write of a document (see [`PgTx::open_unit_in_one_flight`]).
    ahead_documents: Vec<(TenantId, DocumentId, Option<Document>)>,
    /// The API key whose check is held or sent, confirmed once its count is answered.
    key: Option<Arc<KeyCheck>>,
}

/// Whether a transaction ends with its first flight ([`settle_store::Store::begin_read_flight`]):
/// its `COMMIT` goes last in that flight, so the read costs one round trip, not two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OneFlight {
    /// An ordinary transaction, ended by its own `COMMIT` or `ROLLBACK`.
    No,
    /// It ends with its first flight, which has not gone yet.
    Unsent,
    /// Its one flight went: another would read outside its snapshot, so it is refused.
    Sent,
}

impl PgTx {
    /// A transaction that `begin` (a BEGIN statement) starts with its first flight.
    pub(crate) fn new(conn: r2d2::PooledConnection<Manager>, begin: &'static str) -> PgTx {
        PgTx {
            conn,
            held: vec![Held::Simple(begin)],
            rows_by_text: Vec::new(),
            ahead: VecDeque::new(),
            begun: false,
            open: true,
            failed: false,
            settings: None,
            one_flight: OneFlight::No,
            ahead_documents: Vec::new(),
            key: None,
        }
    }

    /// A document is about to be written: what was read ahead may no longer be what is stored.
    fn documents_changed(&mut self) {
        self.ahead_documents.clear();
    }

    /// A read-only transaction that `begin` starts and a `COMMIT` ends, both in its one flight.
    pub(crate) fn one_flight(conn: r2d2::PooledConnection<Manager>, begin: &'static str) -> PgTx {
        let mut tx = PgTx::new(conn, begin);
        tx.one_flight = OneFlight::Unsent;
        tx
    }

    fn checked<T>(&mut self, result: Result<T, postgres::Error>) -> StoreResult<T> {
        result.map_err(|err| {
            self.failed = true;
            unavailable(err)
        })
    }

    /// Holds a write back until the next statement whose answer is needed, or the commit.
    fn hold(&mut self, sql: String, args: Vec<Arg>) -> StoreResult<()> {
        self.hold_write(sql, args, None)
    }

    /// Holds a write, preparing its statement first if the connection has not (after
    /// collecting the answers of flights sent ahead, which must not wait behind it).
    fn hold_write(
        &mut self,
        sql: String,
        args: Vec<Arg>,
        check: Option<&'static str>,
    ) -> StoreResult<()> {
        // What this write changes may be the prefetched settings' row.
        self.settings = None;
        if self.conn.cached(&sql).is_none() {
            self.land()?;
        }
        let result = self.conn.statement(&sql);
        let statement = self.checked(result)?;
        self.count_row(&sql);
        self.held.push(Held::Write(HeldWrite { statement, sql, args, check }));
        self.maybe_send_ahead()
    }

    /// Holds back `any`, which must change exactly one row. `kept`, the narrower form SQLite
    /// prefers, saves nothing here: whether an update writes index entries depends on whether
    /// an indexed column's value changes, not on which columns it names. A row count other
    /// than one fails the call that sends it.
    fn write_one_of(
        &mut self,
        _kept: Statement,
        any: Statement,
        what: &'static str,
    ) -> StoreResult<()> {
        let (sql, args) = bind(any);
        self.hold_write(sql, args, Some(what))
    }

    /// Holds a shared write back (see [`PgTx::hold`]).
    fn write(&mut self, statement: Statement) -> StoreResult<()> {
        let (sql, args) = bind(statement);
        self.hold(sql, args)
    }

    /// Holds back the insert of a row that belongs to a parent row of `lock`'s customer, naming
    /// its tenant and customer where the shared row does not: every per-customer table carries
    /// them, and a database sharded by customer finds an insert's shard by them
    /// (docs/SCALING.md).
    fn write_child(&mut self, lock: &CustomerLock, mut insert: Insert) -> StoreResult<()> {
        let keys = [
            ("tenant_id", lock.tenant_id().as_str()),
            ("customer_id", lock.customer_id().as_str()),
        ];
        for (column, id) in keys {
            if !insert.names(column) {
                insert = insert.with(column, Value::Text(id.to_owned()));
            }
        }
        self.write(insert.statement())
    }

    fn query(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<Vec<postgres::Row>> {
        let result = self.conn.statement(sql);
        let statement = self.checked(result)?;
        self.send(Some(Sent::Prepared(&statement, args))).map(reads::rows)
    }

    fn query_rows<T>(
        &mut self,
        sql: &str,
        args: &[Param<'_>],
        mut map: impl FnMut(&PgRow<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.query(sql, args)?.iter().map(|row| map(&PgRow(row))).collect()
    }

    /// Runs a statement whose row count is needed, with everything held before it.
    fn execute(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<u64> {
        let result = self.conn.statement(sql);
        let statement = self.checked(result)?;
        match self.send(Some(Sent::Prepared(&statement, args)))? {
            Answer::Count(count) => Ok(count),
            Answer::Rows(rows) => Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX)),
            Answer::Done | Answer::Prepared(_) => Ok(0),
        }
    }

    /// Runs a shared statement.
    fn run(&mut self, statement: Statement) -> StoreResult<u64> {
        let (sql, args) = bind(statement);
        let refs = params(&args);
        self.execute(&sql, &refs)
    }

    /// Runs a shared query, mapping each row.
    fn fetch<T>(
        &mut self,
        statement: Statement,
        map: impl FnMut(&PgRow<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let (sql, args) = bind(statement);
        self.query_args(&sql, &args, map)
    }

    /// Runs a statement assembled from optional filters, with owned parameters.
    fn query_args<T>(
        &mut self,
        sql: &str,
        args: &[Arg],
        map: impl FnMut(&PgRow<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let refs = params(args);
        self.query_rows(sql, &refs, map)
    }

    /// The tenant's settings if the flight that locked a customer of `tenant_id` read them, and
    /// nothing was taken or written since: read in this transaction after everything it had
    /// written, at READ COMMITTED, they are what a statement sent now would read, but for
    /// another transaction's commit in between, which a unit may see or not either way.
    fn prefetched_settings(&mut self, tenant_id: &TenantId) -> Option<Settings> {
        match self.settings.take() {
            Some((tenant, settings)) if tenant == *tenant_id => Some(settings),
            _ => None,
        }
    }

    /// Reads the invoice group of each invoice in `documents`: its original, then the
    /// adjustment invoices of that original in the order they were made.
    fn attach_groups(&mut self, documents: &mut [Document]) -> StoreResult<()> {
        let roots = settle_store_sql::group_roots(documents);
        if roots.is_empty() {
            return Ok(());
        }
        let rows = self.query_rows(
            "select coalesce(adjusts_invoice_id, document_id), document_id from document \
             where document_id = any($1) or adjusts_invoice_id = any($1) order by seq",
            &[&roots],
            reads::group_row,
        )?;
        settle_store_sql::attach_groups(documents, rows);
        Ok(())
    }

    /// Loads the items of `documents` (all of `tenant_id`) in one query and attaches them in
    /// order. They are found by their key (tenant, customer, document, position), as a
    /// database sharded by customer finds them (migration 0021).
    fn attach_items(
        &mut self,
        tenant_id: &TenantId,
        documents: &mut [Document],
    ) -> StoreResult<()> {
        if documents.is_empty() {
            return Ok(());
        }
        let currencies = reads::currencies(documents);
        let customers: Vec<&str> = documents.iter().map(|d| d.customer_id.as_str()).collect();
        let ids: Vec<&str> = documents.iter().map(|d| d.id.as_str()).collect();
        let rows = self.query_rows(
            &format!(
                "select {} from document_item where tenant_id = $1 and \
                 (customer_id, document_id) in (select * from unnest($2::text[], $3::text[])) \
                 order by document_id, idx",
                reads::ITEM_COLUMNS
            ),
            &[&tenant_id.as_str(), &customers, &ids],
            |row| reads::item_row(row, &currencies),
        )?;
        settle_store_sql::attach_items(documents, rows);
        Ok(())
    }

    /// Loads the items of `applications` in one query and attaches them in order.
    fn attach_application_items(&mut self, applications: &mut [Application]) -> StoreResult<()> {
        if applications.is_empty() {
            return Ok(());
        }
        let currencies: HashMap<String, Currency> =
            applications.iter().map(|a| (a.id.to_string(), a.currency)).collect();
        let ids: Vec<String> = applications.iter().map(|a| a.id.to_string()).collect();
        let rows = self.query_rows(
            "select application_id, item_id, credit_memo_item_id, amount_minor, net_minor \
             from application_item where application_id = any($1) order by application_id, idx",
            &[&ids],
            |row| {
                let application_id = row.text(0)?;
                let currency =
                    *currencies.get(&application_id).ok_or_else(|| bad(0, &application_id))?;
                Ok((application_id, settle_store_sql::application_item(row, 1, currency)?))
            },
        )?;
        settle_store_sql::attach_application_items(applications, rows);
        Ok(())
    }

    /// Journal transactions of `tenant_id` with their postings, from a query selecting
    /// [`JOURNAL_COLUMNS`] and then each row's cursor as text.
    fn stored_txns(
        &mut self,
        tenant_id: &TenantId,
        sql: &str,
        args: &[Arg],
    ) -> StoreResult<Vec<(StoredTxn, String)>> {
        let heads =
            self.query_args(sql, args, |row| Ok((settle_store_sql::txn_head(row)?, row.text(8)?)))?;
        let customers: Vec<&str> = heads.iter().map(|(h, _)| h.customer_id().as_str()).collect();
        let ids: Vec<&str> = heads.iter().map(|(h, _)| h.txn_id()).collect();
        let postings = if ids.is_empty() {
            Vec::new()
        } else {
            // Each transaction's postings by the posting key (tenant, customer, transaction),
            // as a sharded database finds them (migration 0021).
            self.query_rows(
                &format!(
                    "select {POSTING_COLUMNS} from posting where tenant_id = $1 \
                     and (customer_id, txn_id) in (select * from unnest($2::text[], $3::text[])) \
                     order by txn_id, idx"
                ),
                &[&tenant_id.as_str(), &customers, &ids],
                |row| settle_store_sql::posting(row),
            )?
        };
        settle_store_sql::stored_txns(heads, postings)
    }
}

/// What a customer list ordered by `key` reads, and its sort and tie-break expressions (names
/// and ids compare by bytes). The list by balance walks the index of `customer_balance_key`
/// (migration 0019) and joins each customer's row to it.
fn customer_list_source(key: &str) -> (&'static str, &str, &'static str) {
    match key {
        "name" => ("customer", "name collate \"C\"", "customer_id collate \"C\""),
        "balance_minor" => (
            "customer join customer_balance_key k using (tenant_id, customer_id)",
            "k.balance_minor",
            "k.customer_id collate \"C\"",
        ),
        _ => ("customer", key, "customer_id collate \"C\""),
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // Held statements are dropped unsent, and answers to flights sent ahead unread (the
        // connection reads past them); before BEGIN went out there is nothing to end.
        self.ahead.clear();
        if self.open
            && self.begun
            && self.conn.flight(&[Sent::Simple("rollback")]).iter().any(Result::is_err)
        {
            // The connection may still hold the transaction: the pool must not hand it out.
            self.conn.broken = true;
        }
    }
}

/// Reads a feed cursor, `XID:SEQ` (the last row read; `0:0` is the start).
fn feed_cursor(cursor: &str) -> Option<(u64, i64)> {
    let (xid, seq) = cursor.split_once(':')?;
    if xid.is_empty() || !xid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((xid.parse().ok()?, seq.parse().ok()?))
}

/// Ends a list query ordered by `seq`: resumes after the cursor's row and asks for one row more
/// than the page (so [`paginate`] knows whether another page follows).
fn push_seq_page(
    sql: &mut String,
    args: &mut Vec<Arg>,
    page: &PageRequest,
    order: SeqOrder,
) -> StoreResult<()> {
    let (after, direction) = order.after_and_direction();
    if let Some(seq) = seq_cursor(page)? {
        args.push(Box::new(seq));
        sql.push_str(&format!(" and seq {after} {}", mark(args)));
    }
    args.push(Box::new(fetch_limit(page)));
    sql.push_str(&format!(" order by seq {direction} limit {}", mark(args)));
    Ok(())
}

/// The next placeholder after `args`.
pub(super) fn mark(args: &[Arg]) -> String {
    format!("${}", args.len())
}

/// An exact sum over many rows from column `at`: `sum()` over `bigint` is `numeric` in
/// PostgreSQL, exact however many rows it spans; the query casts it to `text`, read here into
/// an `i128` (a `::bigint` cast would fail past an `i64`).
fn exact_sum_at(row: &PgRow<'_>, at: usize) -> StoreResult<i128> {
    let text: String = row.get(at)?;
    text.parse().map_err(|_| bad(at, &format!("sum {text:?} is not an integer")))
}

/// An account total of account, currency and two exact sums as text (debits, credits) from `at`.
fn account_sum_row(row: &PgRow<'_>, at: usize) -> StoreResult<AccountTotal> {
    Ok(AccountTotal {
        account: row.parsed(at, Account::parse)?,
        currency: row.currency(at + 1)?,
        debit: exact_sum_at(row, at + 2)?,
        credit: exact_sum_at(row, at + 3)?,
    })
}

impl StoreTx for PgTx {
    settle_store_sql::shared_writes!();
    settle_store_sql::shared_reads!();
    settle_store_sql::shared_staff!();
    settle_store_sql::shared_imports!();

    fn commit(mut self: Box<Self>) -> StoreResult<()> {
        if self.failed {
            // PostgreSQL would answer COMMIT with a ROLLBACK: say so rather than lose the writes
            // quietly. Drop rolls back.
            return Err(StoreError::Unavailable(
                "commit refused: a statement of this transaction failed, so it was aborted".into(),
            ));
        }
        if !self.begun && self.held.len() <= 1 {
            // Nothing but BEGIN was ever asked for: there is nothing to commit.
            self.take_held();
            self.open = false;
            return Ok(());
        }
        // A write whose row count is checked is answered before the COMMIT goes: a count
        // found wrong after it would report as failed a transaction that committed.
        let checked = |h: &Held| matches!(h, Held::Write(write) if write.check.is_some());
        if self.held.iter().any(checked) {
            self.send(None)?;
        }
        // The held writes go with the COMMIT. If one fails, PostgreSQL answers the COMMIT
        // with a ROLLBACK and the write's error is the answer: the writes are reported lost,
        // never lost quietly.
        self.send(Some(Sent::Simple("commit")))?;
        self.open = false;
        Ok(())
    }

    fn savepoint(&mut self) -> StoreResult<()> {
        self.held.push(Held::Simple(SAVEPOINT));
        Ok(())
    }

    // Sends the unit's held writes, so a refusal among them is the unit's, found while it can
    // still be rolled back alone.
    fn release_savepoint(&mut self) -> StoreResult<()> {
        self.send(Some(Sent::Simple("release savepoint unit"))).map(|_| ())
    }

    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        if let Some(at) = self.held.iter().rposition(|h| matches!(h, Held::Simple(SAVEPOINT))) {
            // The savepoint was never sent: forgetting it and what came after is the rollback.
            self.forget_held_from(at);
            return Ok(());
        }
        // Everything held came after the savepoint and is undone unsent. Rolling back to the
        // savepoint ends the abort a failed statement of the unit caused.
        self.take_held();
        self.send(Some(Sent::Simple("rollback to savepoint unit; release savepoint unit")))?;
        self.failed = false;
        Ok(())
    }

    fn insert_tenant(
        &mut self,
        tenant_id: &TenantId,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "insert into tenant (tenant_id, name, created_at) values ($1, $2, $3)",
            &[&tenant_id.as_str(), &name, &micros(now)],
        )?;
        Ok(())
    }

    fn tenants(&mut self) -> StoreResult<Vec<TenantId>> {
        self.query_rows(
            "select tenant_id from tenant order by created_at, tenant_id collate \"C\"",
            &[],
            |row| row.parsed(0, TenantId::parse),
        )
    }

    fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<()> {
        // Held like the command's other writes, so it goes with the COMMIT: a concurrent twin
        // that saved the key first fails it there, and the unique violation is the conflict
        // the engine answers with the twin's saved response.
        let args: Vec<Arg> = vec![
            Box::new(record.tenant_id.as_str().to_owned()),
            Box::new(record.key.clone()),
            Box::new(record.request_hash.clone()),
            Box::new(i32::from(record.status)),
            Box::new(record.body.clone()),
            Box::new(micros(record.created_at)),
        ];
        self.hold(
            "insert into idempotency_key (tenant_id, idempotency_key, request_hash, status, \
             body, created_at) values ($1, $2, $3, $4, $5, $6)"
                .to_owned(),
            args,
        )
    }

    fn remove_expired_idempotency(
        &mut self,
        tenant_id: &TenantId,
        key: &str,
        expired_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let deleted = self.execute(
            "delete from idempotency_key where tenant_id = $1 and idempotency_key = $2 \
             and created_at <= $3",
            &[&tenant_id.as_str(), &key, &micros(expired_at)],
        )?;
        Ok(deleted > 0)
    }

    fn prune_idempotency(&mut self, expired_at: DateTime<Utc>, limit: u32) -> StoreResult<usize> {
        // `idempotency_by_created` finds the oldest rows; rows a write is replacing right now
        // are skipped rather than waited for.
        let deleted = self.execute(
            "delete from idempotency_key where (tenant_id, idempotency_key) in \
             (select tenant_id, idempotency_key from idempotency_key where created_at <= $1 \
             order by created_at limit $2 for update skip locked)",
            &[&micros(expired_at), &i64::from(limit)],
        )?;
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }

    fn insert_api_key(&mut self, key: &ApiKeyRecord) -> StoreResult<()> {
        self.execute(
            "insert into api_key (api_key_id, tenant_id, key_hash, role, name, created_at) \
             values ($1, $2, $3, $4, $5, $6)",
            &[
                &key.id.as_str(),
                &key.tenant_id.as_str(),
                &key.key_hash,
                &key.role.name(),
                &key.name,
                &micros(key.created_at),
            ],
        )?;
        Ok(())
    }

    fn revoke_api_key(
        &mut self,
        tenant_id: &TenantId,
        key_id: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = self.execute(
            "update api_key set revoked_at = $3 \
             where tenant_id = $1 and api_key_id = $2 and revoked_at is null",
            &[&tenant_id.as_str(), &key_id.as_str(), &now],
        )?;
        Ok(changed == 1)
    }

    fn api_key_by_hash(&mut self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let rows =
            self.query_rows(API_KEY_BY_HASH, &[&key_hash], |row| settle_store_sql::api_key(row))?;
        Ok(rows.into_iter().next())
    }

    fn confirm_api_key(&mut self, key: &Arc<KeyCheck>) -> StoreResult<()> {
        self.hold_key_check(key)
    }

    fn next_number(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        // A sequence per tenant and kind (migration 0013): no lock held until commit, so
        // documents of different customers never wait for each other's number.
        let values = self.query_rows(
            "select next_document_number($1, $2, $3)",
            &[&tenant_id.as_str(), &kind.name(), &micros(now)],
            |row| row.get::<i64>(0),
        )?;
        let value = values.into_iter().next().ok_or_else(|| {
            StoreError::Corrupt("next_document_number returned no row".to_owned())
        })?;
        u64::try_from(value).map_err(|_| StoreError::Corrupt("negative counter".to_owned()))
    }

    fn next_numbers(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        count: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<u64>> {
        let count = i32::try_from(count.max(1)).unwrap_or(i32::MAX);
        let values = self.query_rows(
            "select next_document_number($1, $2, $3) as n from generate_series(1, $4) order by n",
            &[&tenant_id.as_str(), &kind.name(), &micros(now), &count],
            |row| row.get::<i64>(0),
        )?;
        values
            .into_iter()
            .map(|n| u64::try_from(n).map_err(|_| StoreError::Corrupt("negative counter".into())))
            .collect()
    }

    fn give_back_numbers(
        &mut self,
        _tenant_id: &TenantId,
        _kind: DocumentKind,
        _drawn: u64,
        _used: u64,
    ) -> StoreResult<()> {
        // A sequence cannot take numbers back: those drawn and not used are gaps.
        Ok(())
    }

    fn peek_number(&mut self, tenant_id: &TenantId, kind: DocumentKind) -> StoreResult<u64> {
        let values = self.query_rows(
            "select peek_document_number($1, $2)",
            &[&tenant_id.as_str(), &kind.name()],
            |row| row.get::<i64>(0),
        )?;
        let value = values.into_iter().next().ok_or_else(|| {
            StoreError::Corrupt("peek_document_number returned no row".to_owned())
        })?;
        u64::try_from(value).map_err(|_| StoreError::Corrupt("negative counter".to_owned()))
    }

    fn lock_customer(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(CustomerLock, Customer)>> {
        // The row lock is held until the transaction ends: another command for this customer
        // waits here, while commands for other customers go on. Every unit reads its tenant's
        // settings next, so they come in the same flight, after the lock.
        self.lock_with_settings(tenant_id, customer_id, now)
    }

    fn open_unit(&mut self, opening: &UnitOpening<'_>) -> StoreResult<OpenedUnit> {
        self.open_unit_in_one_flight(opening)
    }

    fn lock_customers(
        &mut self,
        tenant_id: &TenantId,
        customer_ids: &[CustomerId],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerLock, Customer)>> {
        // The rows are locked in id order (the query's order), as every batch takes them.
        let mut statement = settle_store_sql::queries::customers_by_ids(
            "tenant_id",
            tenant_id.as_str(),
            customer_ids,
        );
        statement.sql = format!("{} for update", statement.sql).into();
        let rows = self.fetch(statement, |row| settle_store_sql::customer(row))?;
        Ok(rows
            .into_iter()
            .map(|(c, _)| (adapter::customer_lock(tenant_id.clone(), c.id.clone(), now), c))
            .collect())
    }

    fn customers(
        &mut self,
        tenant_id: &TenantId,
        query: &CustomerQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        // Names and ids compare by bytes (`collate "C"`), as SQLite's BINARY collation does,
        // whatever the database's default collation.
        let order = customer_order(query.sort);
        let (key, direction, cmp) = (order.key, order.direction, order.after);
        let (rows_from, sort_key, id_key) = customer_list_source(key);
        let mut sql = format!("select {CUSTOMER_COLUMNS} from {rows_from} where tenant_id = $1");
        let mut args: Vec<Arg> = vec![Box::new(tenant_id.to_string())];
        if let Some(search) = query.search.as_deref() {
            sql.push_str(&search::customer_search_filter(search, &mut args));
        }
        if let Some(cursor) = &page.cursor {
            let (value, id) = split_customer_cursor(order, cursor)?;
            match value {
                SortValue::Text(text) => args.push(Box::new(text)),
                SortValue::Int(int) => args.push(Box::new(int)),
            }
            let v = mark(&args);
            if key == "seq" {
                sql.push_str(&format!(" and seq {cmp} {v}"));
            } else {
                args.push(Box::new(id));
                let i = mark(&args);
                sql.push_str(&format!(" and ({sort_key}, {id_key}) {cmp} ({v}, {i})"));
            }
        }
        args.push(Box::new(fetch_limit(page)));
        let l = mark(&args);
        if key == "seq" {
            sql.push_str(&format!(" order by seq {direction} limit {l}"));
        } else {
            sql.push_str(&format!(
                " order by {sort_key} {direction}, {id_key} {direction} limit {l}"
            ));
        }
        let rows = self.query_args(&sql, &args, |row| {
            let (customer, seq) = settle_store_sql::customer(row)?;
            let cursor = customer_cursor(order, &customer, seq);
            Ok((customer, cursor))
        })?;
        Ok(paginate(rows, page))
    }

    fn journal(
        &mut self,
        tenant_id: &TenantId,
        customer_id: Option<&CustomerId>,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredTxn>> {
        let mut sql = format!(
            "select {JOURNAL_COLUMNS}, seq::text as cursor from journal_txn where tenant_id = $1"
        );
        let mut args: Vec<Arg> = vec![Box::new(tenant_id.to_string())];
        if let Some(customer_id) = customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = {}", mark(&args)));
        }
        push_seq_page(&mut sql, &mut args, page, SeqOrder::OldestFirst)?;
        let rows = self.stored_txns(tenant_id, &sql, &args)?;
        Ok(paginate(rows, page))
    }

    fn journal_feed(&mut self, tenant_id: &TenantId, page: &PageRequest) -> StoreResult<FeedPage> {
        // Every transaction below the snapshot's xmin has ended, so no row can ever appear
        // below that watermark again; read in (xid, seq) order up to it, the feed never skips.
        // `journal_feed` serves the range and the order.
        let (xid, seq) = match page.cursor.as_deref() {
            None => (0, 0),
            Some(cursor) => feed_cursor(cursor).ok_or(StoreError::BadCursor)?,
        };
        let sql = format!(
            "select {JOURNAL_COLUMNS}, xid::text || ':' || seq::text as cursor from journal_txn \
             where tenant_id = $1 and xid < pg_snapshot_xmin(pg_current_snapshot()) \
             and (xid, seq) > ($2::text::xid8, $3) order by journal_txn.xid, journal_txn.seq \
             limit $4"
        );
        let args: Vec<Arg> = vec![
            Box::new(tenant_id.to_string()),
            Box::new(xid.to_string()),
            Box::new(seq),
            Box::new(fetch_limit(page)),
        ];
        let mut rows = self.stored_txns(tenant_id, &sql, &args)?;
        let limit = usize::try_from(page.limit.clamp(1, 500)).unwrap_or(500);
        let mut has_more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor =
            rows.last().map_or_else(|| format!("{xid}:{seq}"), |(_, cursor)| cursor.clone());
        if !has_more {
            // Committed transactions still above the watermark come after every row below it:
            // they are there to read as soon as the transactions before them end.
            let (xid, seq) = feed_cursor(&next_cursor).ok_or(StoreError::BadCursor)?;
            let held_back = self.query(
                "select exists (select 1 from journal_txn where tenant_id = $1 \
                 and (xid, seq) > ($2::text::xid8, $3))",
                &[&tenant_id.as_str(), &xid.to_string(), &seq],
            )?;
            has_more = held_back
                .first()
                .map(|row| PgRow(row).get::<bool>(0))
                .transpose()?
                .unwrap_or(false);
        }
        Ok(FeedPage { rows: rows.into_iter().map(|(r, _)| r).collect(), next_cursor, has_more })
    }

    fn account_totals(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<AccountTotal>> {
        self.query_rows(
            "select account, currency, sum(debit_minor)::text, sum(credit_minor)::text \
             from customer_account where tenant_id = $1 group by account, currency \
             order by account collate \"C\", currency collate \"C\"",
            &[&tenant_id.as_str()],
            |row| account_sum_row(row, 0),
        )
    }

    fn account_totals_until(
        &mut self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<AccountTotal>> {
        self.query_rows(
            "select p.account, p.currency, \
             sum(case p.side when 'debit' then p.amount_minor else 0 end)::text, \
             sum(case p.side when 'credit' then p.amount_minor else 0 end)::text \
             from journal_txn j join posting p \
             using (tenant_id, customer_id, txn_id) \
             where j.tenant_id = $1 and j.effective_date <= $2 \
             group by p.account, p.currency \
             order by p.account collate \"C\", p.currency collate \"C\"",
            &[&tenant_id.as_str(), &as_of],
            |row| account_sum_row(row, 0),
        )
    }

    fn customer_currencies(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<Currency>> {
        self.query_rows(
            "select distinct currency collate \"C\" from customer where tenant_id = $1 \
             order by 1",
            &[&tenant_id.as_str()],
            |row| row.currency(0),
        )
    }

    fn customer_account_totals(
        &mut self,
        tenant_id: &TenantId,
    ) -> StoreResult<Vec<(CustomerId, AccountTotal)>> {
        self.query_rows(
            "select customer_id, account, currency, debit_minor, credit_minor \
             from customer_account where tenant_id = $1 \
             order by customer_id collate \"C\", account collate \"C\", currency collate \"C\"",
            &[&tenant_id.as_str()],
            |row| Ok((row.parsed(0, CustomerId::parse)?, settle_store_sql::account_total(row, 1)?)),
        )
    }

    fn customer_account_totals_until(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<AccountTotal>> {
        // `journal_by_customer_date` finds the transactions; the posting key, their postings.
        self.query_rows(
            "select p.account, p.currency, \
             sum(case p.side when 'debit' then p.amount_minor else 0 end)::text, \
             sum(case p.side when 'credit' then p.amount_minor else 0 end)::text \
             from journal_txn j join posting p \
             using (tenant_id, customer_id, txn_id) \
             where j.tenant_id = $1 and j.customer_id = $2 and j.effective_date <= $3 \
             group by p.account, p.currency \
             order by p.account collate \"C\", p.currency collate \"C\"",
            &[&tenant_id.as_str(), &customer_id.as_str(), &as_of],
            |row| account_sum_row(row, 0),
        )
    }

    fn open_documents_until(
        &mut self,
        tenant_id: &TenantId,
        currency: Currency,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<OpenDocument>> {
        // `posting_by_account` covers the inner `group by`; the order is the report's own.
        self.query_rows(
            "select d.customer_id, c.name, d.document_id, d.due_date, b.balance::text \
             from (select p.document_id, \
                   sum(case p.side when 'debit' then p.amount_minor \
                   else -p.amount_minor end) as balance \
                   from posting p join journal_txn j \
                   using (tenant_id, customer_id, txn_id) \
                   where p.tenant_id = $1 and p.account = 'receivable' and p.currency = $2 \
                   and p.document_id is not null and j.effective_date <= $3 \
                   group by p.document_id \
                   having sum(case p.side when 'debit' then p.amount_minor \
                   else -p.amount_minor end) <> 0) b \
             join document d on d.document_id = b.document_id \
             join customer c on c.customer_id = d.customer_id \
             where d.tenant_id = $1 and d.kind in ('invoice', 'debit_memo') \
             order by c.name collate \"C\", d.customer_id collate \"C\", d.due_date, \
             d.document_id collate \"C\"",
            &[&tenant_id.as_str(), &currency.code(), &as_of],
            |row| {
                Ok(OpenDocument {
                    customer_id: row.parsed(0, CustomerId::parse)?,
                    customer_name: row.get(1)?,
                    document_id: row.parsed(2, DocumentId::parse)?,
                    due_date: row.date(3)?,
                    balance: exact_sum_at(row, 4)?,
                })
            },
        )
    }

    fn available_credit_until(
        &mut self,
        tenant_id: &TenantId,
        currency: Currency,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<CustomerCredit>> {
        self.query_rows(
            "select c.customer_id, c.name, s.credit::text \
             from (select j.customer_id, \
                   sum(case p.side when 'credit' then p.amount_minor \
                   else -p.amount_minor end) as credit \
                   from posting p join journal_txn j \
                   using (tenant_id, customer_id, txn_id) \
                   where p.tenant_id = $1 and p.currency = $2 and j.effective_date <= $3 \
                   and p.account in ('unapplied_payments', 'credit_memos', 'credit_balance') \
                   group by j.customer_id) s \
             join customer c on c.customer_id = s.customer_id \
             order by c.name collate \"C\", c.customer_id collate \"C\"",
            &[&tenant_id.as_str(), &currency.code(), &as_of],
            |row| {
                Ok(CustomerCredit {
                    customer_id: row.parsed(0, CustomerId::parse)?,
                    customer_name: row.get(1)?,
                    available_credit: exact_sum_at(row, 2)?,
                })
            },
        )
    }
}

impl settle_store::BillingTx for PgTx {
    settle_store_sql::shared_billing!();
}

impl PgTx {
    settle_store_sql::billing_helpers!();
}
