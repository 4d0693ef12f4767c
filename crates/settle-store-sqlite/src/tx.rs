//! One SQLite transaction implementing the storage port.

use std::sync::MutexGuard;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension as _, params, params_from_iter};
use settle_core::aging::{CustomerCredit, OpenDocument};
use settle_core::customer::Customer;
use settle_core::document::DocumentKind;
use settle_core::ids::{ApiKeyId, CustomerId, DocumentId, TenantId};
use settle_core::ledger::{Account, JournalTxn, Posting};
use settle_core::money::Currency;
use settle_store::{
    AccountTotal, ApiKeyRecord, CustomerLock, CustomerQuery, FeedPage, IdempotencyRecord, Page,
    PageRequest, StoreError, StoreResult, StoreTx, StoredTxn, adapter,
};

use crate::group::{Writer, Writers};
use crate::rows::{SqlRow, date_text, timestamp_text};
use crate::{SqliteStore, unavailable};
use settle_store_sql::search::{
    SearchEntry, UNINDEXED, number_key_range, number_keys, number_keys_json,
};
use settle_store_sql::{
    CUSTOMER_COLUMNS, Insert, JOURNAL_COLUMNS, POSTING_COLUMNS, Row, SeqOrder, SortValue,
    Statement, TxnHead, Value, customer_cursor, customer_order, fetch_limit, like_pattern,
    paginate, seq_cursor, split_customer_cursor,
};

enum Conn<'a> {
    /// A member of the group transaction on the writer connection (see `group.rs`); the
    /// connection is taken out when the member ends.
    Writer(Option<MutexGuard<'a, Writer>>, &'a Writers),
    Reader(Option<Connection>, &'a SqliteStore),
}

/// An open SQLite transaction; rolled back on drop unless committed. A write transaction is one
/// member of a group transaction: rolling it back undoes only its own writes.
mod documents;

pub(crate) struct SqliteTx<'a> {
    conn: Conn<'a>,
    open: bool,
}

impl<'a> SqliteTx<'a> {
    pub(crate) fn writer(writer: MutexGuard<'a, Writer>, writers: &'a Writers) -> SqliteTx<'a> {
        SqliteTx { conn: Conn::Writer(Some(writer), writers), open: true }
    }

    pub(crate) fn reader(conn: Connection, store: &'a SqliteStore) -> SqliteTx<'a> {
        SqliteTx { conn: Conn::Reader(Some(conn), store), open: true }
    }

    fn conn(&self) -> &Connection {
        match &self.conn {
            Conn::Writer(writer, _) => {
                &writer.as_ref().expect("a member holds the writer until it ends").conn
            }
            Conn::Reader(conn, _) => {
                conn.as_ref().expect("a reader holds its connection until drop")
            }
        }
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        match &mut self.conn {
            Conn::Writer(writer, writers) => {
                if let Some(writer) = writer.take() {
                    writers.roll_back(writer);
                }
            }
            Conn::Reader(conn, store) => {
                if let Some(conn) = conn.take() {
                    if self.open {
                        // Rolling back can only fail when there is no transaction left.
                        let _ = conn.execute_batch("rollback");
                    }
                    store.return_reader(conn);
                }
            }
        }
    }
}

/// Ends a list query ordered by `seq`: resumes after the cursor's row and asks for one row more
/// than the page (so [`paginate`] knows whether another page follows).
fn push_seq_page(
    sql: &mut String,
    args: &mut Vec<Box<dyn rusqlite::ToSql>>,
    page: &PageRequest,
    order: SeqOrder,
) -> StoreResult<()> {
    let (after, direction) = order.after_and_direction();
    if let Some(seq) = seq_cursor(page)? {
        args.push(Box::new(seq));
        sql.push_str(&format!(" and seq {after} ?{}", args.len()));
    }
    args.push(Box::new(fetch_limit(page)));
    sql.push_str(&format!(" order by seq {direction} limit ?{}", args.len()));
    Ok(())
}

impl SqliteTx<'_> {
    fn query_rows<T>(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        mut map: impl FnMut(&SqlRow<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(unavailable)?;
        let mut rows = stmt.query(params_from_iter(args.iter())).map_err(unavailable)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(read_error)? {
            out.push(map(&SqlRow(row))?);
        }
        Ok(out)
    }

    fn execute(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> StoreResult<usize> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(unavailable)?;
        stmt.execute(params_from_iter(args.iter())).map_err(unavailable)
    }

    /// Writes the customer's keys of the number index (migration 0017), after a replaced
    /// entry's old keys are deleted; the trigram index follows the customer row by triggers
    /// (migration 0010).
    fn index_customer_search(
        &mut self,
        tenant_id: &TenantId,
        customer: &Customer,
        entry: SearchEntry,
    ) -> StoreResult<()> {
        let (tenant, id) = (tenant_id.as_str(), customer.id.as_str());
        if entry == SearchEntry::Replaced {
            self.execute(
                "delete from customer_number where seq = \
                 (select seq from customer where tenant_id = ?1 and customer_id = ?2)",
                &[&tenant, &id],
            )?;
        }
        let keys = number_keys(customer);
        if !keys.is_empty() {
            self.execute(
                "insert or ignore into customer_number (digits, seq) select k.value, seq \
                 from customer, json_each(?3) as k where tenant_id = ?1 and customer_id = ?2",
                &[&tenant, &id, &number_keys_json(&keys)],
            )?;
        }
        Ok(())
    }

    /// Nothing: the list by balance walks an index on the customer's own `balance_minor`
    /// (SQLite updates a row in place and rewrites only the index entries whose columns
    /// changed).
    fn add_customer_balance_key(
        &mut self,
        _tenant_id: &TenantId,
        _customer: &Customer,
    ) -> StoreResult<()> {
        Ok(())
    }

    /// Nothing, as [`Self::add_customer_balance_key`].
    fn update_customer_balance_key(
        &mut self,
        _lock: &CustomerLock,
        _customer: &Customer,
    ) -> StoreResult<()> {
        Ok(())
    }

    /// Adds a journal transaction's effects to the per-customer account totals (an upsert,
    /// whose syntax is the dialect's).
    fn add_to_account_totals(
        &mut self,
        lock: &CustomerLock,
        txn: &JournalTxn,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let tenant = lock.tenant_id().as_str();
        let customer = lock.customer_id().as_str();
        for ((account, currency), (debit, credit)) in txn.effects().accounts {
            self.execute(
                "insert into customer_account (tenant_id, customer_id, account, currency, \
                 debit_minor, credit_minor, created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 on conflict (customer_id, account, currency) do update set \
                 debit_minor = debit_minor + excluded.debit_minor, \
                 credit_minor = credit_minor + excluded.credit_minor",
                &[
                    &tenant,
                    &customer,
                    &account.name(),
                    &currency.code(),
                    &debit,
                    &credit,
                    &timestamp_text(now),
                ],
            )?;
        }
        Ok(())
    }

    /// Runs a shared statement.
    fn run(&self, statement: Statement) -> StoreResult<usize> {
        let rendered = with_lists(&statement);
        let Statement { sql, args } = statement;
        let args = bind(args);
        let refs: Vec<&dyn rusqlite::ToSql> =
            args.iter().map(|a| a as &dyn rusqlite::ToSql).collect();
        self.execute(rendered.as_deref().unwrap_or(&sql), &refs)
    }

    /// Runs `kept`, and `any` only when `kept` changed nothing; exactly one row must change.
    /// SQLite rewrites every index over a column the update names, changed or not, so the
    /// narrower statement first spares those rewrites (see `shared_billing!`).
    fn write_one_of(&self, kept: Statement, any: Statement, what: &str) -> StoreResult<()> {
        let mut changed = self.run(kept)?;
        if changed == 0 {
            changed = self.run(any)?;
        }
        settle_store_sql::billing::one_changed(changed, what)
    }

    /// Runs a shared write whose row count is not needed (the shared macros' `write`; SQLite
    /// runs it at once).
    fn write(&self, statement: Statement) -> StoreResult<()> {
        self.run(statement).map(|_| ())
    }

    /// Runs the insert of a row that belongs to a parent row as it is: such a row reaches its
    /// customer through its parent, and SQLite's tables keep no customer column for it.
    fn write_child(&self, _lock: &CustomerLock, insert: Insert) -> StoreResult<()> {
        self.write(insert.statement())
    }

    /// Runs a shared query, mapping each row.
    fn fetch<T>(
        &self,
        statement: Statement,
        map: impl FnMut(&SqlRow<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let rendered = with_lists(&statement);
        let Statement { sql, args } = statement;
        let args = bind(args);
        let refs: Vec<&dyn rusqlite::ToSql> =
            args.iter().map(|a| a as &dyn rusqlite::ToSql).collect();
        self.query_rows(rendered.as_deref().unwrap_or(&sql), &refs, map)
    }

    /// The postings of `heads`' transactions, as `(txn id, posting)` in order.
    fn postings_of(&self, heads: &[(TxnHead, String)]) -> StoreResult<Vec<(String, Posting)>> {
        if heads.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; heads.len()].join(", ");
        let sql = format!(
            "select {POSTING_COLUMNS} from posting where txn_id in ({marks}) order by txn_id, idx"
        );
        let ids: Vec<&str> = heads.iter().map(|(h, _)| h.txn_id()).collect();
        let args: Vec<&dyn rusqlite::ToSql> =
            ids.iter().map(|i| i as &dyn rusqlite::ToSql).collect();
        self.query_rows(&sql, &args, |row| settle_store_sql::posting(row))
    }
}

/// The text of a shared statement with a list parameter as SQLite runs it (`None`: the text
/// as written). The list is bound as one JSON array and read back by `json_each`, so the
/// statement stays the same whatever the list's length.
fn with_lists(statement: &Statement) -> Option<String> {
    statement.has_list().then(|| {
        statement.numbered(|n, value| match value {
            Value::TextList(_) => format!("(select value from json_each(?{n}))"),
            _ => format!("?{n}"),
        })
    })
}

/// Binds shared parameters: dates, instants and decimals are stored as text.
fn bind(args: Vec<Value>) -> Vec<Bound> {
    args.into_iter().map(Bound).collect()
}

/// A shared parameter as SQLite takes it: text and numbers are bound where they are (no copy,
/// no box per parameter), dates, instants and decimals as their text.
struct Bound(Value);

impl rusqlite::ToSql for Bound {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let text = |text: String| ToSqlOutput::Owned(SqlValue::Text(text));
        let or_null = |value: Option<ToSqlOutput<'static>>| {
            value.unwrap_or(ToSqlOutput::Owned(SqlValue::Null))
        };
        Ok(match &self.0 {
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::OptText(t) => match t {
                Some(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
                None => ToSqlOutput::Owned(SqlValue::Null),
            },
            Value::Int(int) => ToSqlOutput::Owned(SqlValue::Integer(*int)),
            Value::Int32(int) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*int))),
            Value::Date(date) => text(date_text(*date)),
            Value::Instant(at) => text(timestamp_text(*at)),
            Value::OptInstant(at) => or_null(at.map(|at| text(timestamp_text(at)))),
            Value::OptDate(date) => or_null(date.map(|date| text(date_text(date)))),
            Value::OptInt32(int) => {
                or_null(int.map(|int| ToSqlOutput::Owned(SqlValue::Integer(i64::from(int)))))
            }
            Value::Bool(flag) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*flag))),
            Value::Decimal(decimal) => or_null(decimal.map(|d| text(d.to_string()))),
            Value::TextList(list) => text(
                serde_json::to_string(list)
                    .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?,
            ),
        })
    }
}

fn read_error(err: rusqlite::Error) -> StoreError {
    match err {
        rusqlite::Error::FromSqlConversionFailure(_, _, source) => {
            StoreError::Corrupt(source.to_string())
        }
        other => unavailable(other),
    }
}

/// The divisor that splits each summed value in [`exact_sum`].
const SUM_SPLIT: i128 = 1_000_000_000;

/// Two columns whose sums make the exact sum of the integer expression `expr` over any number
/// of rows: SQLite's `sum()` raises "integer overflow" past an `i64` (and `total()` is a float),
/// so each value `x` is summed as `x / 10^9` and `x % 10^9` (both truncate toward zero, so
/// `x = q·10^9 + r` for negative `x` too), which cannot overflow, and [`exact_sum_at`] joins
/// them in an `i128`.
fn exact_sum(expr: &str) -> String {
    format!("sum(({expr}) / 1000000000), sum(({expr}) % 1000000000)")
}

/// The exact sum from the two columns of [`exact_sum`] starting at `at`.
fn exact_sum_at(row: &SqlRow<'_, '_>, at: usize) -> StoreResult<i128> {
    let quotients: i64 = row.get(at)?;
    let remainders: i64 = row.get(at + 1)?;
    Ok(i128::from(quotients) * SUM_SPLIT + i128::from(remainders))
}

/// An account total of account, currency and two [`exact_sum`]s (debits, credits) from `at`.
fn account_sum_row(row: &SqlRow<'_, '_>, at: usize) -> StoreResult<AccountTotal> {
    Ok(AccountTotal {
        account: row.parsed(at, Account::parse)?,
        currency: row.currency(at + 1)?,
        debit: exact_sum_at(row, at + 2)?,
        credit: exact_sum_at(row, at + 4)?,
    })
}

impl StoreTx for SqliteTx<'_> {
    settle_store_sql::shared_writes!();
    settle_store_sql::shared_reads!();
    settle_store_sql::shared_staff!();
    settle_store_sql::shared_imports!();

    fn commit(mut self: Box<Self>) -> StoreResult<()> {
        if let Conn::Writer(writer, writers) = &mut self.conn {
            let writer = writer.take().expect("a member holds the writer until it ends");
            return writers.commit(writer);
        }
        self.conn().execute_batch("commit").map_err(unavailable)?;
        self.open = false;
        Ok(())
    }

    fn savepoint(&mut self) -> StoreResult<()> {
        self.conn().execute_batch("savepoint unit").map_err(unavailable)
    }

    fn release_savepoint(&mut self) -> StoreResult<()> {
        self.conn().execute_batch("release unit").map_err(unavailable)
    }

    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.conn().execute_batch("rollback to unit; release unit").map_err(unavailable)
    }

    fn insert_tenant(
        &mut self,
        tenant_id: &TenantId,
        name: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute(
            "insert into tenant (tenant_id, name, created_at) values (?1, ?2, ?3)",
            &[&tenant_id.as_str(), &name, &timestamp_text(now)],
        )?;
        Ok(())
    }

    fn tenants(&mut self) -> StoreResult<Vec<TenantId>> {
        self.query_rows("select tenant_id from tenant order by created_at, tenant_id", &[], |row| {
            row.parsed(0, TenantId::parse)
        })
    }

    fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<()> {
        self.execute(
            "insert into idempotency_key (tenant_id, idempotency_key, request_hash, status, body, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                &record.tenant_id.as_str(),
                &record.key,
                &record.request_hash,
                &record.status,
                &record.body,
                &timestamp_text(record.created_at),
            ],
        )?;
        Ok(())
    }

    fn remove_expired_idempotency(
        &mut self,
        tenant_id: &TenantId,
        key: &str,
        expired_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let deleted = self.execute(
            "delete from idempotency_key where tenant_id = ?1 and idempotency_key = ?2 \
             and created_at <= ?3",
            &[&tenant_id.as_str(), &key, &timestamp_text(expired_at)],
        )?;
        Ok(deleted > 0)
    }

    fn prune_idempotency(&mut self, expired_at: DateTime<Utc>, limit: u32) -> StoreResult<usize> {
        // `idempotency_by_created` finds the oldest rows; the key deletes them.
        self.execute(
            "delete from idempotency_key where rowid in (select rowid from idempotency_key \
             where created_at <= ?1 order by created_at limit ?2)",
            &[&timestamp_text(expired_at), &i64::from(limit)],
        )
    }

    fn insert_api_key(&mut self, key: &ApiKeyRecord) -> StoreResult<()> {
        self.execute(
            "insert into api_key (api_key_id, tenant_id, key_hash, role, name, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                &key.id.as_str(),
                &key.tenant_id.as_str(),
                &key.key_hash,
                &key.role.name(),
                &key.name,
                &timestamp_text(key.created_at),
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
            "update api_key set revoked_at = ?3 \
             where tenant_id = ?1 and api_key_id = ?2 and revoked_at is null",
            &[&tenant_id.as_str(), &key_id.as_str(), &timestamp_text(now)],
        )?;
        Ok(changed == 1)
    }

    fn api_key_by_hash(&mut self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let rows = self.query_rows(
            "select api_key_id, tenant_id, key_hash, role, name, created_at, revoked_at \
             from api_key where key_hash = ?1",
            &[&key_hash],
            |row| settle_store_sql::api_key(row),
        )?;
        Ok(rows.into_iter().next())
    }

    fn next_number(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let value: i64 = self
            .conn()
            .prepare_cached(
                "insert into counter (tenant_id, kind, last_value, created_at) \
                 values (?1, ?2, 1, ?3) \
                 on conflict (tenant_id, kind) do update set last_value = last_value + 1 \
                 returning last_value",
            )
            .map_err(unavailable)?
            .query_row(params![tenant_id.as_str(), kind.name(), timestamp_text(now)], |row| {
                row.get(0)
            })
            .map_err(unavailable)?;
        u64::try_from(value).map_err(|_| StoreError::Corrupt("negative counter".to_owned()))
    }

    fn next_numbers(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        count: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<u64>> {
        let count = count.max(1);
        let last: i64 = self
            .conn()
            .prepare_cached(
                "insert into counter (tenant_id, kind, last_value, created_at) \
                 values (?1, ?2, ?3, ?4) \
                 on conflict (tenant_id, kind) do update set last_value = last_value + ?3 \
                 returning last_value",
            )
            .map_err(unavailable)?
            .query_row(
                params![tenant_id.as_str(), kind.name(), count, timestamp_text(now)],
                |row| row.get(0),
            )
            .map_err(unavailable)?;
        let last =
            u64::try_from(last).map_err(|_| StoreError::Corrupt("negative counter".into()))?;
        Ok((last - u64::from(count) + 1..=last).collect())
    }

    fn give_back_numbers(
        &mut self,
        tenant_id: &TenantId,
        kind: DocumentKind,
        drawn: u64,
        used: u64,
    ) -> StoreResult<()> {
        let as_int = |n: u64| i64::try_from(n).map_err(|_| StoreError::Corrupt("counter".into()));
        // Writers take turns on SQLite: nothing else drew since, so the counter stands at
        // `drawn`. Given back to before its first number, the counter goes, as it was then
        // (its check allows no zero).
        let changed = if used == 0 {
            self.execute(
                "delete from counter where tenant_id = ?1 and kind = ?2 and last_value = ?3",
                &[&tenant_id.as_str(), &kind.name(), &as_int(drawn)?],
            )?
        } else {
            self.execute(
                "update counter set last_value = ?4 \
                 where tenant_id = ?1 and kind = ?2 and last_value = ?3",
                &[&tenant_id.as_str(), &kind.name(), &as_int(drawn)?, &as_int(used)?],
            )?
        };
        settle_store_sql::billing::one_changed(changed, "document number counter")
    }

    fn peek_number(&mut self, tenant_id: &TenantId, kind: DocumentKind) -> StoreResult<u64> {
        let last: Option<i64> = self
            .conn()
            .prepare_cached("select last_value from counter where tenant_id = ?1 and kind = ?2")
            .map_err(unavailable)?
            .query_row(params![tenant_id.as_str(), kind.name()], |row| row.get(0))
            .optional()
            .map_err(unavailable)?;
        u64::try_from(last.unwrap_or(0) + 1)
            .map_err(|_| StoreError::Corrupt("negative counter".to_owned()))
    }

    fn lock_customer(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(CustomerLock, Customer)>> {
        // The write transaction began with BEGIN IMMEDIATE, so this connection already holds
        // the database's write lock: every customer is serialized.
        Ok(self
            .customer(tenant_id, customer_id)?
            .map(|c| (adapter::customer_lock(tenant_id.clone(), customer_id.clone(), now), c)))
    }

    fn lock_customers(
        &mut self,
        tenant_id: &TenantId,
        customer_ids: &[CustomerId],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerLock, Customer)>> {
        // As in `lock_customer`, the write transaction already serializes every customer.
        let statement = settle_store_sql::queries::customers_by_ids(
            "+tenant_id",
            tenant_id.as_str(),
            customer_ids,
        );
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
        let order = customer_order(query.sort);
        let (key, direction, cmp) = (order.key, order.direction, order.after);
        // A search the number index (a run of digits, migration 0017) or the trigram index
        // answers with few rows starts from those rows; one neither serves (under three
        // characters) or that matches many rows reads the customers in the list's order until
        // the page is full, as before, from the name index, which carries the columns the LIKE
        // tests (migration 0015). The LIKE below decides either way (migration 0010).
        let indexed = match query.search.as_deref() {
            Some(search) => self.few_search_matches(search)?,
            None => None,
        };
        // `+tenant_id` keeps the planner from reading the tenant's whole sort index instead.
        let tenant = if indexed.is_some() { "+tenant_id" } else { "tenant_id" };
        let mut sql = format!("select {CUSTOMER_COLUMNS} from customer where {tenant} = ?1");
        let pattern = query.search.as_deref().map(like_pattern);
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(tenant_id.to_string())];
        if let Some(seqs) = indexed {
            args.push(Box::new(seqs));
            let m = args.len();
            sql.push_str(&format!(" and seq in (select value from json_each(?{m}))"));
        }
        if let Some(pattern) = pattern {
            args.push(Box::new(pattern));
            let n = args.len();
            sql.push_str(&format!(
                " and (name_lower like ?{n} escape '\\' or email_lower like ?{n} escape '\\')"
            ));
        }
        if let Some(cursor) = &page.cursor {
            let (value, id) = split_customer_cursor(order, cursor)?;
            match value {
                SortValue::Text(text) => args.push(Box::new(text)),
                SortValue::Int(int) => args.push(Box::new(int)),
            }
            let v = args.len();
            if key == "seq" {
                sql.push_str(&format!(" and seq {cmp} ?{v}"));
            } else {
                args.push(Box::new(id));
                let i = args.len();
                sql.push_str(&format!(
                    " and ({key} {cmp} ?{v} or ({key} = ?{v} and customer_id {cmp} ?{i}))"
                ));
            }
        }
        args.push(Box::new(fetch_limit(page)));
        let l = args.len();
        if key == "seq" {
            sql.push_str(&format!(" order by seq {direction} limit ?{l}"));
        } else {
            sql.push_str(&format!(
                " order by {key} {direction}, customer_id {direction} limit ?{l}"
            ));
        }
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let rows = self.query_rows(&sql, &arg_refs, |row| {
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
        let mut sql = format!("select {JOURNAL_COLUMNS} from journal_txn where tenant_id = ?1");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(tenant_id.to_string())];
        if let Some(customer_id) = customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = ?{}", args.len()));
        }
        push_seq_page(&mut sql, &mut args, page, SeqOrder::OldestFirst)?;
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let heads = self.query_rows(&sql, &arg_refs, |row| {
            let head = settle_store_sql::txn_head(row)?;
            let cursor = head.seq().to_string();
            Ok((head, cursor))
        })?;
        let postings = self.postings_of(&heads)?;
        let rows = settle_store_sql::stored_txns(heads, postings)?;
        Ok(paginate(rows, page))
    }

    fn journal_feed(&mut self, tenant_id: &TenantId, page: &PageRequest) -> StoreResult<FeedPage> {
        // Writers take turns (`BEGIN IMMEDIATE`), so `seq` order is commit order: a reader
        // that has seen a `seq` can never see a lower one commit later.
        let start = seq_cursor(page)?.unwrap_or(0);
        let got = self.journal(tenant_id, None, page)?;
        let next_cursor = got.rows.last().map_or(start, |r| r.seq).to_string();
        Ok(FeedPage { has_more: got.next_cursor.is_some(), rows: got.rows, next_cursor })
    }

    fn account_totals(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<AccountTotal>> {
        let sql = format!(
            "select account, currency, {}, {} from customer_account \
             where tenant_id = ?1 group by account, currency order by account, currency",
            exact_sum("debit_minor"),
            exact_sum("credit_minor"),
        );
        self.query_rows(&sql, &[&tenant_id.as_str()], |row| account_sum_row(row, 0))
    }

    fn account_totals_until(
        &mut self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<AccountTotal>> {
        let sql = format!(
            "select p.account, p.currency, {}, {} \
             from journal_txn j join posting p on p.txn_id = j.txn_id \
             where j.tenant_id = ?1 and j.effective_date <= ?2 \
             group by p.account, p.currency order by p.account, p.currency",
            exact_sum("case p.side when 'debit' then p.amount_minor else 0 end"),
            exact_sum("case p.side when 'credit' then p.amount_minor else 0 end"),
        );
        self.query_rows(&sql, &[&tenant_id.as_str(), &date_text(as_of)], |row| {
            account_sum_row(row, 0)
        })
    }

    fn customer_currencies(&mut self, tenant_id: &TenantId) -> StoreResult<Vec<Currency>> {
        self.query_rows(
            "select distinct currency from customer where tenant_id = ?1 order by currency",
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
             from customer_account where tenant_id = ?1 order by customer_id, account, currency",
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
        let sql = format!(
            "select p.account, p.currency, {}, {} \
             from journal_txn j join posting p on p.txn_id = j.txn_id \
             where j.tenant_id = ?1 and j.customer_id = ?2 and j.effective_date <= ?3 \
             group by p.account, p.currency order by p.account, p.currency",
            exact_sum("case p.side when 'debit' then p.amount_minor else 0 end"),
            exact_sum("case p.side when 'credit' then p.amount_minor else 0 end"),
        );
        self.query_rows(
            &sql,
            &[&tenant_id.as_str(), &customer_id.as_str(), &date_text(as_of)],
            |row| account_sum_row(row, 0),
        )
    }

    fn open_documents_until(
        &mut self,
        tenant_id: &TenantId,
        currency: Currency,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<OpenDocument>> {
        // `posting_by_account` holds every column the inner `group by` reads, in its order.
        // The exact balance is zero only if both split sums are zero, which `having` keeps
        // out; a document whose split sums cancel is dropped after the exact sum is joined.
        let signed = "case p.side when 'debit' then p.amount_minor else -p.amount_minor end";
        let sql = format!(
            "select d.customer_id, c.name, d.document_id, d.due_date, b.q, b.r \
             from (select p.document_id, sum(({signed}) / 1000000000) as q, \
                   sum(({signed}) % 1000000000) as r \
                   from posting p join journal_txn j on j.txn_id = p.txn_id \
                   where p.tenant_id = ?1 and p.account = 'receivable' and p.currency = ?2 \
                   and p.document_id is not null and j.effective_date <= ?3 \
                   group by p.document_id having q <> 0 or r <> 0) b \
             join document d on d.document_id = b.document_id \
             join customer c on c.customer_id = d.customer_id \
             where d.tenant_id = ?1 and d.kind in ('invoice', 'debit_memo') \
             order by c.name, d.customer_id, d.due_date, d.document_id"
        );
        let documents = self.query_rows(
            &sql,
            &[&tenant_id.as_str(), &currency.code(), &date_text(as_of)],
            |row| {
                Ok(OpenDocument {
                    customer_id: row.parsed(0, CustomerId::parse)?,
                    customer_name: row.get(1)?,
                    document_id: row.parsed(2, DocumentId::parse)?,
                    due_date: row.date(3)?,
                    balance: exact_sum_at(row, 4)?,
                })
            },
        )?;
        Ok(documents.into_iter().filter(|d| d.balance != 0).collect())
    }

    fn available_credit_until(
        &mut self,
        tenant_id: &TenantId,
        currency: Currency,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<CustomerCredit>> {
        let signed = "case p.side when 'credit' then p.amount_minor else -p.amount_minor end";
        let sql = format!(
            "select c.customer_id, c.name, s.q, s.r \
             from (select j.customer_id as customer_id, sum(({signed}) / 1000000000) as q, \
                   sum(({signed}) % 1000000000) as r \
                   from posting p join journal_txn j on j.txn_id = p.txn_id \
                   where p.tenant_id = ?1 and p.currency = ?2 and j.effective_date <= ?3 \
                   and p.account in ('unapplied_payments', 'credit_memos', 'credit_balance') \
                   group by j.customer_id) s \
             join customer c on c.customer_id = s.customer_id \
             order by c.name, c.customer_id"
        );
        self.query_rows(&sql, &[&tenant_id.as_str(), &currency.code(), &date_text(as_of)], |row| {
            Ok(CustomerCredit {
                customer_id: row.parsed(0, CustomerId::parse)?,
                customer_name: row.get(1)?,
                available_credit: exact_sum_at(row, 2)?,
            })
        })
    }
}

impl settle_store::BillingTx for SqliteTx<'_> {
    settle_store_sql::shared_billing!();
}

impl SqliteTx<'_> {
    settle_store_sql::billing_helpers!();
}

/// Most rows of the customer search index a search may match and still start from the index:
/// past it, the matches are dense enough that reading the list in order fills a page sooner
/// than sorting every match would.
const FEW_SEARCH_MATCHES: usize = 2_000;

impl SqliteTx<'_> {
    /// One step of FTS5's incremental merge of the customer search index, about `pages`
    /// pages written. A negative page count merges segments of every level into one. The step
    /// did some work when the connection's total change count grew by two or more (FTS5's
    /// documented test).
    pub(crate) fn merge_search_index(&mut self, pages: u32) -> StoreResult<bool> {
        let conn = self.conn();
        let before = conn.total_changes();
        conn.execute(
            "insert into customer_search (customer_search, rank) values ('merge', ?1)",
            [-i64::from(pages.max(1))],
        )
        .map_err(unavailable)?;
        Ok(conn.total_changes().saturating_sub(before) >= 2)
    }

    /// The customers (their `seq`, in every tenant, as a JSON array) that the number index,
    /// for a search with a run of digits, or else the trigram index finds for `search`, when
    /// there are at most [`FEW_SEARCH_MATCHES`]; `None` past that, having read no more than one
    /// past it. The index is asked once: the list query then reads these customers by their
    /// key.
    fn few_search_matches(&mut self, search: &str) -> StoreResult<Option<String>> {
        let limit = i64::try_from(FEW_SEARCH_MATCHES + 1).unwrap_or(i64::MAX);
        if let Some((from, to)) = number_key_range(search) {
            let few = self.few_seqs(
                "select distinct seq from customer_number \
                 where digits >= ?1 and digits < ?2 or digits = ?3 limit ?4",
                params![from, to, UNINDEXED, limit],
            )?;
            if few.is_some() {
                return Ok(few);
            }
        }
        match trigram_phrase(search) {
            Some(phrase) => self.few_seqs(
                "select rowid from customer_search where customer_search match ?1 limit ?2",
                params![phrase, limit],
            ),
            None => Ok(None),
        }
    }

    fn few_seqs(
        &mut self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> StoreResult<Option<String>> {
        let mut statement = self.conn().prepare_cached(sql).map_err(unavailable)?;
        let seqs = statement
            .query_map(params, |row| row.get::<_, i64>(0))
            .map_err(unavailable)?
            .collect::<Result<Vec<i64>, _>>()
            .map_err(unavailable)?;
        if seqs.len() > FEW_SEARCH_MATCHES {
            return Ok(None);
        }
        let listed: Vec<String> = seqs.iter().map(i64::to_string).collect();
        Ok(Some(format!("[{}]", listed.join(","))))
    }
}

/// An FTS5 query for the customers whose lower-cased name or email holds `search`: the text as
/// one phrase, which the trigram tokenizer matches as a substring. `None` below three
/// characters, which have no trigram to look up.
fn trigram_phrase(search: &str) -> Option<String> {
    let lower = search.to_lowercase();
    (lower.chars().count() >= 3).then(|| format!("\"{}\"", lower.replace('"', "\"\"")))
}
