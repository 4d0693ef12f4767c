//! One SQLite transaction implementing the storage port.

use std::collections::HashMap;
use std::sync::MutexGuard;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, Row, params, params_from_iter};
use settle_core::adjustment::Adjustment;
use settle_core::aging::{CustomerCredit, OpenDocument};
use settle_core::application::{Application, ApplicationItem, Rule, SourceRef};
use settle_core::customer::{Balances, Customer, HistoryLine};
use settle_core::document::{Document, DocumentKind, DocumentStatus, Item, ItemKind};
use settle_core::ids::{
    ApiKeyId, ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, TenantId, TxnId,
};
use settle_core::ledger::{Account, JournalTxn, Posting, Side, TxnKind};
use settle_core::money::Currency;
use settle_core::payment::{Payment, PaymentMethod, PaymentStatus};
use settle_core::refund::Refund;
use settle_core::settings::{NegativeInvoicePolicy, Settings};
use settle_store::{
    AccountTotal, ApiKeyRecord, ApplicationQuery, BalanceFilter, CustomerLock, CustomerQuery,
    CustomerSort, DocumentQuery, FeedPage, IdempotencyRecord, Page, PageRequest, PaymentQuery,
    Role, StoreError, StoreResult, StoreTx, StoredTxn, adapter,
};

use crate::rows::{
    bad, currency, date, date_text, decimal_opt, money, parsed, parsed_opt, timestamp,
    timestamp_text,
};
use crate::{SqliteStore, unavailable};

enum Conn<'a> {
    Writer(MutexGuard<'a, Connection>),
    Reader(Option<Connection>, &'a SqliteStore),
}

/// An open SQLite transaction; rolled back on drop unless committed.
pub(crate) struct SqliteTx<'a> {
    conn: Conn<'a>,
    open: bool,
}

impl<'a> SqliteTx<'a> {
    pub(crate) fn writer(conn: MutexGuard<'a, Connection>) -> SqliteTx<'a> {
        SqliteTx { conn: Conn::Writer(conn), open: true }
    }

    pub(crate) fn reader(conn: Connection, store: &'a SqliteStore) -> SqliteTx<'a> {
        SqliteTx { conn: Conn::Reader(Some(conn), store), open: true }
    }

    fn conn(&self) -> &Connection {
        match &self.conn {
            Conn::Writer(conn) => conn,
            Conn::Reader(conn, _) => {
                conn.as_ref().expect("a reader holds its connection until drop")
            }
        }
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Rolling back can only fail when there is no transaction left to roll back.
            let _ = self.conn().execute_batch("rollback");
        }
        if let Conn::Reader(conn, store) = &mut self.conn
            && let Some(conn) = conn.take()
        {
            store.return_reader(conn);
        }
    }
}

/// Rows asked of the database for a page: one more than the limit tells whether more follow.
fn fetch_limit(page: &PageRequest) -> i64 {
    i64::from(page.limit.clamp(1, 500)) + 1
}

/// Cuts the extra row off and makes the cursor of the next page from the last row kept.
fn paginate<T>(mut rows: Vec<(T, String)>, page: &PageRequest) -> Page<T> {
    let limit = usize::try_from(page.limit.clamp(1, 500)).unwrap_or(500);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(|(_, c)| c.clone()) } else { None };
    Page { rows: rows.into_iter().map(|(r, _)| r).collect(), next_cursor }
}

fn seq_cursor(page: &PageRequest) -> StoreResult<Option<i64>> {
    page.cursor.as_deref().map(|c| c.parse::<i64>().map_err(|_| StoreError::BadCursor)).transpose()
}

/// Which way a list ordered by `seq` runs.
#[derive(Clone, Copy)]
enum SeqOrder {
    NewestFirst,
    OldestFirst,
}

/// Ends a list query ordered by `seq`: resumes after the cursor's row and asks for one row more
/// than the page (so [`paginate`] knows whether another page follows).
fn push_seq_page(
    sql: &mut String,
    args: &mut Vec<Box<dyn rusqlite::ToSql>>,
    page: &PageRequest,
    order: SeqOrder,
) -> StoreResult<()> {
    let (after, direction) = match order {
        SeqOrder::NewestFirst => ("<", "desc"),
        SeqOrder::OldestFirst => (">", "asc"),
    };
    if let Some(seq) = seq_cursor(page)? {
        args.push(Box::new(seq));
        sql.push_str(&format!(" and seq {after} ?{}", args.len()));
    }
    args.push(Box::new(fetch_limit(page)));
    sql.push_str(&format!(" order by seq {direction} limit ?{}", args.len()));
    Ok(())
}

fn like_pattern(search: &str) -> String {
    let escaped =
        search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

const CUSTOMER_COLUMNS: &str = "customer_id, name, email, currency, payment_terms_days, metadata, \
     created_at, receivable_minor, unapplied_payments_minor, credit_memo_balance_minor, \
     credit_balance_minor, seq";

fn customer_row(row: &Row<'_>) -> rusqlite::Result<(Customer, i64)> {
    let customer = Customer {
        id: parsed(row, 0, CustomerId::parse)?,
        name: row.get(1)?,
        email: row.get(2)?,
        currency: currency(row, 3)?,
        payment_terms_days: row.get(4)?,
        metadata: row.get(5)?,
        created_at: timestamp(row, 6)?,
        balances: Balances {
            receivable: row.get(7)?,
            unapplied_payments: row.get(8)?,
            credit_memo_balance: row.get(9)?,
            credit_balance: row.get(10)?,
        },
    };
    Ok((customer, row.get(11)?))
}

const DOCUMENT_COLUMNS: &str = "document_id, kind, number, customer_id, status, currency, \
     invoice_date, due_date, adjusts_invoice_id, reason, seq, \
     coalesce((select g.group_balance_minor from document g \
     where g.document_id = document.adjusts_invoice_id), group_balance_minor)";

fn document_row(row: &Row<'_>) -> rusqlite::Result<(Document, i64)> {
    let currency = currency(row, 5)?;
    let document = Document {
        id: parsed(row, 0, DocumentId::parse)?,
        kind: parsed(row, 1, DocumentKind::parse)?,
        number: row.get(2)?,
        customer_id: parsed(row, 3, CustomerId::parse)?,
        status: parsed(row, 4, DocumentStatus::parse)?,
        currency,
        invoice_date: date(row, 6)?,
        due_date: date(row, 7)?,
        adjusts_invoice_id: parsed_opt(row, 8, DocumentId::parse)?,
        reason: row.get(9)?,
        items: Vec::new(),
        group_balance: money(row, 11, currency)?,
        group: Vec::new(),
    };
    Ok((document, row.get(10)?))
}

const PAYMENT_COLUMNS: &str = "payment_id, customer_id, amount_minor, currency, unapplied_minor, \
     method, reference, status, effective_date, seq, refunded_minor";

fn payment_row(row: &Row<'_>) -> rusqlite::Result<(Payment, i64)> {
    let currency = currency(row, 3)?;
    let payment = Payment {
        id: parsed(row, 0, PaymentId::parse)?,
        customer_id: parsed(row, 1, CustomerId::parse)?,
        amount: money(row, 2, currency)?,
        unapplied: money(row, 4, currency)?,
        refunded: money(row, 10, currency)?,
        method: parsed(row, 5, PaymentMethod::parse)?,
        reference: row.get(6)?,
        status: parsed(row, 7, PaymentStatus::parse)?,
        effective_date: date(row, 8)?,
    };
    Ok((payment, row.get(9)?))
}

const APPLICATION_COLUMNS: &str = "application_id, customer_id, source_type, source_id, \
     target_id, rule, currency, effective_date, seq";

fn application_row(row: &Row<'_>) -> rusqlite::Result<(Application, i64)> {
    let source_type: String = row.get(2)?;
    let source_id: Option<String> = row.get(3)?;
    let source = match (source_type.as_str(), source_id.as_deref()) {
        ("payment", Some(id)) => {
            SourceRef::Payment(PaymentId::parse(id).ok_or_else(|| bad(3, id))?)
        }
        ("credit_memo", Some(id)) => {
            SourceRef::CreditMemo(DocumentId::parse(id).ok_or_else(|| bad(3, id))?)
        }
        ("credit_balance", None) => SourceRef::CreditBalance,
        _ => return Err(bad(2, &source_type)),
    };
    let application = Application {
        id: parsed(row, 0, ApplicationId::parse)?,
        customer_id: parsed(row, 1, CustomerId::parse)?,
        source,
        target_id: parsed(row, 4, DocumentId::parse)?,
        rule: parsed_opt(row, 5, Rule::parse)?,
        currency: currency(row, 6)?,
        effective_date: date(row, 7)?,
        items: Vec::new(),
    };
    Ok((application, row.get(8)?))
}

impl SqliteTx<'_> {
    fn query_rows<T>(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(unavailable)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), map).map_err(unavailable)?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(read_error)
    }

    fn execute(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> StoreResult<usize> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(unavailable)?;
        stmt.execute(params_from_iter(args.iter())).map_err(unavailable)
    }

    /// Loads the items of `documents` in one query and attaches them in order.
    fn attach_items(&self, documents: &mut [Document]) -> StoreResult<()> {
        if documents.is_empty() {
            return Ok(());
        }
        let marks = vec!["?"; documents.len()].join(", ");
        let sql = format!(
            "select document_id, item_id, kind, parent_item_id, description, quantity, \
             unit_price, tax_rate, invoice_item_id, amount_minor, balance_minor, credited_minor \
             from document_item where document_id in ({marks}) order by document_id, idx"
        );
        let currencies: HashMap<String, Currency> =
            documents.iter().map(|d| (d.id.to_string(), d.currency)).collect();
        let ids: Vec<String> = documents.iter().map(|d| d.id.to_string()).collect();
        let mut stmt = self.conn().prepare(&sql).map_err(unavailable)?;
        let rows = stmt
            .query_map(params_from_iter(ids.iter()), |row| {
                let document_id: String = row.get(0)?;
                let currency = *currencies.get(&document_id).ok_or_else(|| bad(0, &document_id))?;
                let item = Item {
                    id: parsed(row, 1, ItemId::parse)?,
                    kind: parsed(row, 2, ItemKind::parse)?,
                    parent_item_id: parsed_opt(row, 3, ItemId::parse)?,
                    description: row.get(4)?,
                    quantity: decimal_opt(row, 5)?,
                    unit_price: decimal_opt(row, 6)?,
                    tax_rate: decimal_opt(row, 7)?,
                    invoice_item_id: parsed_opt(row, 8, ItemId::parse)?,
                    amount: money(row, 9, currency)?,
                    balance: money(row, 10, currency)?,
                    credited: money(row, 11, currency)?,
                };
                Ok((document_id, item))
            })
            .map_err(unavailable)?;
        let mut by_document: HashMap<String, Vec<Item>> = HashMap::new();
        for row in rows {
            let (document_id, item) = row.map_err(read_error)?;
            by_document.entry(document_id).or_default().push(item);
        }
        for document in documents {
            document.items = by_document.remove(document.id.as_str()).unwrap_or_default();
        }
        Ok(())
    }

    /// Reads the invoice group of each invoice in `documents`: its original, then the
    /// adjustment invoices of that original in the order they were made.
    fn attach_groups(&self, documents: &mut [Document]) -> StoreResult<()> {
        let roots: Vec<String> = documents
            .iter()
            .filter(|d| d.kind == DocumentKind::Invoice)
            .map(|d| d.adjusts_invoice_id.as_ref().unwrap_or(&d.id).to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if roots.is_empty() {
            return Ok(());
        }
        let marks = vec!["?"; roots.len()].join(", ");
        let sql = format!(
            "select coalesce(adjusts_invoice_id, document_id), document_id from document \
             where document_id in ({marks}) or adjusts_invoice_id in ({marks}) order by seq"
        );
        let mut stmt = self.conn().prepare(&sql).map_err(unavailable)?;
        let rows = stmt
            .query_map(params_from_iter(roots.iter().chain(roots.iter())), |row| {
                Ok((row.get::<_, String>(0)?, parsed(row, 1, DocumentId::parse)?))
            })
            .map_err(unavailable)?;
        let mut groups: HashMap<String, Vec<DocumentId>> = HashMap::new();
        for row in rows {
            let (root, member) = row.map_err(read_error)?;
            groups.entry(root).or_default().push(member);
        }
        for document in documents.iter_mut().filter(|d| d.kind == DocumentKind::Invoice) {
            let root = document.adjusts_invoice_id.as_ref().unwrap_or(&document.id);
            document.group = groups.get(root.as_str()).cloned().unwrap_or_default();
        }
        Ok(())
    }

    fn add_group_balance(&self, document_id: &DocumentId, delta: i64) -> StoreResult<()> {
        self.execute(
            "update document set group_balance_minor = group_balance_minor + ?2 where document_id = ?1",
            &[&document_id.as_str(), &delta],
        )?;
        Ok(())
    }

    fn attach_application_items(&self, applications: &mut [Application]) -> StoreResult<()> {
        for application in applications {
            let currency = application.currency;
            application.items = self.query_rows(
                "select item_id, credit_memo_item_id, amount_minor, net_minor \
                 from application_item where application_id = ?1 order by idx",
                &[&application.id.as_str()],
                |row| {
                    Ok(ApplicationItem {
                        item_id: parsed(row, 0, ItemId::parse)?,
                        credit_memo_item_id: parsed_opt(row, 1, ItemId::parse)?,
                        amount: money(row, 2, currency)?,
                        net: money(row, 3, currency)?,
                    })
                },
            )?;
        }
        Ok(())
    }

    fn postings_of(&self, txn_ids: &[(i64, String)]) -> StoreResult<HashMap<String, Vec<Posting>>> {
        let mut by_txn: HashMap<String, Vec<Posting>> = HashMap::new();
        if txn_ids.is_empty() {
            return Ok(by_txn);
        }
        let marks = vec!["?"; txn_ids.len()].join(", ");
        let sql = format!(
            "select txn_id, account, side, amount_minor, currency, document_id, item_id, \
             payment_id, application_id from posting where txn_id in ({marks}) order by txn_id, idx"
        );
        let ids: Vec<&String> = txn_ids.iter().map(|(_, id)| id).collect();
        let mut stmt = self.conn().prepare(&sql).map_err(unavailable)?;
        let rows = stmt
            .query_map(params_from_iter(ids.iter()), |row| {
                let currency = currency(row, 4)?;
                let posting = Posting {
                    account: parsed(row, 1, Account::parse)?,
                    side: parsed(row, 2, Side::parse)?,
                    amount: money(row, 3, currency)?,
                    document_id: parsed_opt(row, 5, DocumentId::parse)?,
                    item_id: parsed_opt(row, 6, ItemId::parse)?,
                    payment_id: parsed_opt(row, 7, PaymentId::parse)?,
                    application_id: parsed_opt(row, 8, ApplicationId::parse)?,
                };
                Ok((row.get::<_, String>(0)?, posting))
            })
            .map_err(unavailable)?;
        for row in rows {
            let (txn_id, posting) = row.map_err(read_error)?;
            by_txn.entry(txn_id).or_default().push(posting);
        }
        Ok(by_txn)
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

/// An account total from four columns starting at `at`: account, currency, debit, credit.
fn account_total_row(row: &Row<'_>, at: usize) -> rusqlite::Result<AccountTotal> {
    Ok(AccountTotal {
        account: parsed(row, at, Account::parse)?,
        currency: currency(row, at + 1)?,
        debit: i128::from(row.get::<_, i64>(at + 2)?),
        credit: i128::from(row.get::<_, i64>(at + 3)?),
    })
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
fn exact_sum_at(row: &Row<'_>, at: usize) -> rusqlite::Result<i128> {
    let quotients: i64 = row.get(at)?;
    let remainders: i64 = row.get(at + 1)?;
    Ok(i128::from(quotients) * SUM_SPLIT + i128::from(remainders))
}

/// An account total of account, currency and two [`exact_sum`]s (debits, credits) from `at`.
fn account_sum_row(row: &Row<'_>, at: usize) -> rusqlite::Result<AccountTotal> {
    Ok(AccountTotal {
        account: parsed(row, at, Account::parse)?,
        currency: currency(row, at + 1)?,
        debit: exact_sum_at(row, at + 2)?,
        credit: exact_sum_at(row, at + 4)?,
    })
}

fn balance_filter_sql(filter: Option<BalanceFilter>) -> &'static str {
    match filter {
        None => "",
        Some(BalanceFilter::Negative) => " and balance_minor < 0",
        Some(BalanceFilter::Positive) => " and balance_minor > 0",
        Some(BalanceFilter::Open) => " and open_item_count > 0",
    }
}

impl StoreTx for SqliteTx<'_> {
    fn commit(mut self: Box<Self>) -> StoreResult<()> {
        self.conn().execute_batch("commit").map_err(unavailable)?;
        self.open = false;
        Ok(())
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
            parsed(row, 0, TenantId::parse)
        })
    }

    fn settings(&mut self, tenant_id: &TenantId) -> StoreResult<Settings> {
        let rows = self.query_rows(
            "select default_currency, time_zone, application_rule, negative_invoice_policy, \
             auto_apply_credit from tenant where tenant_id = ?1",
            &[&tenant_id.as_str()],
            |row| {
                Ok(Settings {
                    default_currency: currency(row, 0)?,
                    time_zone: row.get(1)?,
                    application_rule: parsed(row, 2, Rule::parse)?,
                    negative_invoice_policy: parsed(row, 3, NegativeInvoicePolicy::parse)?,
                    auto_apply_credit: row.get(4)?,
                })
            },
        )?;
        rows.into_iter().next().ok_or_else(|| StoreError::Corrupt(format!("no tenant {tenant_id}")))
    }

    fn update_settings(&mut self, tenant_id: &TenantId, settings: &Settings) -> StoreResult<()> {
        self.execute(
            "update tenant set default_currency = ?2, time_zone = ?3, application_rule = ?4, \
             negative_invoice_policy = ?5, auto_apply_credit = ?6 where tenant_id = ?1",
            &[
                &tenant_id.as_str(),
                &settings.default_currency.code(),
                &settings.time_zone,
                &settings.application_rule.name(),
                &settings.negative_invoice_policy.name(),
                &settings.auto_apply_credit,
            ],
        )?;
        Ok(())
    }

    fn idempotency(
        &mut self,
        tenant_id: &TenantId,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let rows = self.query_rows(
            "select request_hash, status, body, created_at from idempotency_key \
             where tenant_id = ?1 and idempotency_key = ?2",
            &[&tenant_id.as_str(), &key],
            |row| {
                Ok(IdempotencyRecord {
                    tenant_id: tenant_id.clone(),
                    key: key.to_owned(),
                    request_hash: row.get(0)?,
                    status: row.get(1)?,
                    body: row.get(2)?,
                    created_at: timestamp(row, 3)?,
                })
            },
        )?;
        Ok(rows.into_iter().next())
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
            |row| {
                Ok(ApiKeyRecord {
                    id: parsed(row, 0, ApiKeyId::parse)?,
                    tenant_id: parsed(row, 1, TenantId::parse)?,
                    key_hash: row.get(2)?,
                    role: parsed(row, 3, Role::parse)?,
                    name: row.get(4)?,
                    created_at: timestamp(row, 5)?,
                    revoked_at: parsed_opt(row, 6, |s| {
                        DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
                    })?,
                })
            },
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

    fn insert_customer(&mut self, tenant_id: &TenantId, customer: &Customer) -> StoreResult<()> {
        let b = customer.balances;
        self.execute(
            "insert into customer (customer_id, tenant_id, name, name_lower, email, email_lower, \
             currency, payment_terms_days, metadata, receivable_minor, unapplied_payments_minor, \
             credit_memo_balance_minor, credit_balance_minor, balance_minor, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            &[
                &customer.id.as_str(),
                &tenant_id.as_str(),
                &customer.name,
                &customer.name.to_lowercase(),
                &customer.email,
                &customer.email.as_ref().map(|e| e.to_lowercase()),
                &customer.currency.code(),
                &customer.payment_terms_days,
                &customer.metadata,
                &b.receivable,
                &b.unapplied_payments,
                &b.credit_memo_balance,
                &b.credit_balance,
                &b.balance(),
                &timestamp_text(customer.created_at),
            ],
        )?;
        Ok(())
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

    fn customer(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
    ) -> StoreResult<Option<Customer>> {
        let sql = format!(
            "select {CUSTOMER_COLUMNS} from customer where tenant_id = ?1 and customer_id = ?2"
        );
        let rows =
            self.query_rows(&sql, &[&tenant_id.as_str(), &customer_id.as_str()], customer_row)?;
        Ok(rows.into_iter().next().map(|(c, _)| c))
    }

    fn update_customer(&mut self, lock: &CustomerLock, customer: &Customer) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &customer.id);
        let b = customer.balances;
        self.execute(
            "update customer set name = ?3, name_lower = ?4, email = ?5, email_lower = ?6, \
             payment_terms_days = ?7, metadata = ?8, receivable_minor = ?9, \
             unapplied_payments_minor = ?10, credit_memo_balance_minor = ?11, \
             credit_balance_minor = ?12, balance_minor = ?13 \
             where tenant_id = ?1 and customer_id = ?2",
            &[
                &lock.tenant_id().as_str(),
                &lock.customer_id().as_str(),
                &customer.name,
                &customer.name.to_lowercase(),
                &customer.email,
                &customer.email.as_ref().map(|e| e.to_lowercase()),
                &customer.payment_terms_days,
                &customer.metadata,
                &b.receivable,
                &b.unapplied_payments,
                &b.credit_memo_balance,
                &b.credit_balance,
                &b.balance(),
            ],
        )?;
        Ok(())
    }

    fn customers(
        &mut self,
        tenant_id: &TenantId,
        query: &CustomerQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        let (key, order, cmp) = match query.sort {
            CustomerSort::Name => ("name", "asc", ">"),
            CustomerSort::NameDesc => ("name", "desc", "<"),
            CustomerSort::Balance => ("balance_minor", "asc", ">"),
            CustomerSort::BalanceDesc => ("balance_minor", "desc", "<"),
            CustomerSort::Created => ("seq", "asc", ">"),
            CustomerSort::CreatedDesc => ("seq", "desc", "<"),
        };
        let mut sql = format!("select {CUSTOMER_COLUMNS} from customer where tenant_id = ?1");
        let pattern = query.search.as_deref().map(like_pattern);
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(tenant_id.to_string())];
        if let Some(pattern) = pattern {
            args.push(Box::new(pattern));
            let n = args.len();
            sql.push_str(&format!(
                " and (name_lower like ?{n} escape '\\' or email_lower like ?{n} escape '\\')"
            ));
        }
        if let Some(cursor) = &page.cursor {
            let (value, id) = cursor.rsplit_once('\n').ok_or(StoreError::BadCursor)?;
            match key {
                "name" => args.push(Box::new(value.to_owned())),
                _ => args.push(Box::new(value.parse::<i64>().map_err(|_| StoreError::BadCursor)?)),
            }
            let v = args.len();
            if key == "seq" {
                sql.push_str(&format!(" and seq {cmp} ?{v}"));
            } else {
                args.push(Box::new(id.to_owned()));
                let i = args.len();
                sql.push_str(&format!(
                    " and ({key} {cmp} ?{v} or ({key} = ?{v} and customer_id {cmp} ?{i}))"
                ));
            }
        }
        args.push(Box::new(fetch_limit(page)));
        let l = args.len();
        if key == "seq" {
            sql.push_str(&format!(" order by seq {order} limit ?{l}"));
        } else {
            sql.push_str(&format!(" order by {key} {order}, customer_id {order} limit ?{l}"));
        }
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let rows = self.query_rows(&sql, &arg_refs, customer_row)?;
        let rows = rows
            .into_iter()
            .map(|(c, seq)| {
                let value = match key {
                    "name" => c.name.clone(),
                    "balance_minor" => c.balances.balance().to_string(),
                    _ => seq.to_string(),
                };
                let cursor = format!("{value}\n{}", c.id);
                (c, cursor)
            })
            .collect();
        Ok(paginate(rows, page))
    }

    fn insert_document(&mut self, lock: &CustomerLock, document: &Document) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &document.customer_id);
        self.execute(
            "insert into document (document_id, tenant_id, customer_id, kind, number, status, \
             currency, invoice_date, due_date, adjusts_invoice_id, reason, total_minor, \
             balance_minor, open_item_count, created_at, group_balance_minor) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?13)",
            &[
                &document.id.as_str(),
                &lock.tenant_id().as_str(),
                &document.customer_id.as_str(),
                &document.kind.name(),
                &document.number,
                &document.status.name(),
                &document.currency.code(),
                &date_text(document.invoice_date),
                &date_text(document.due_date),
                &document.adjusts_invoice_id.as_ref().map(|d| d.to_string()),
                &document.reason,
                &document.total().minor(),
                &document.balance().minor(),
                &i64::try_from(document.open_item_count()).unwrap_or(i64::MAX),
                &timestamp_text(lock.now()),
            ],
        )?;
        for (idx, item) in document.items.iter().enumerate() {
            self.execute(
                "insert into document_item (item_id, document_id, tenant_id, idx, kind, \
                 parent_item_id, description, quantity, unit_price, tax_rate, invoice_item_id, \
                 amount_minor, balance_minor, created_at) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                &[
                    &item.id.as_str(),
                    &document.id.as_str(),
                    &lock.tenant_id().as_str(),
                    &i64::try_from(idx).unwrap_or(i64::MAX),
                    &item.kind.name(),
                    &item.parent_item_id.as_ref().map(|i| i.to_string()),
                    &item.description,
                    &item.quantity.map(|q| q.to_string()),
                    &item.unit_price.map(|q| q.to_string()),
                    &item.tax_rate.map(|q| q.to_string()),
                    &item.invoice_item_id.as_ref().map(|i| i.to_string()),
                    &item.amount.minor(),
                    &item.balance.minor(),
                    &timestamp_text(lock.now()),
                ],
            )?;
        }
        if let Some(original) = &document.adjusts_invoice_id {
            self.add_group_balance(original, document.balance().minor())?;
        }
        Ok(())
    }

    fn update_document(&mut self, lock: &CustomerLock, document: &Document) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &document.customer_id);
        let stored: i64 = self
            .conn()
            .prepare_cached(
                "select balance_minor from document where tenant_id = ?1 and document_id = ?2",
            )
            .map_err(unavailable)?
            .query_row(params![lock.tenant_id().as_str(), document.id.as_str()], |row| row.get(0))
            .map_err(unavailable)?;
        let balance = document.balance().minor();
        self.execute(
            "update document set status = ?3, balance_minor = ?4, open_item_count = ?5, \
             group_balance_minor = group_balance_minor + ?6 \
             where tenant_id = ?1 and document_id = ?2",
            &[
                &lock.tenant_id().as_str(),
                &document.id.as_str(),
                &document.status.name(),
                &balance,
                &i64::try_from(document.open_item_count()).unwrap_or(i64::MAX),
                &(balance - stored),
            ],
        )?;
        if let Some(original) = &document.adjusts_invoice_id
            && balance != stored
        {
            self.add_group_balance(original, balance - stored)?;
        }
        // Items whose balance did not change match no row, so nothing is written for them.
        for item in &document.items {
            self.execute(
                "update document_item set balance_minor = ?2, credited_minor = ?3 \
                 where item_id = ?1 and (balance_minor <> ?2 or credited_minor <> ?3)",
                &[&item.id.as_str(), &item.balance.minor(), &item.credited.minor()],
            )?;
        }
        Ok(())
    }

    fn document(
        &mut self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> StoreResult<Option<Document>> {
        let sql = format!(
            "select {DOCUMENT_COLUMNS} from document where tenant_id = ?1 and document_id = ?2"
        );
        let mut rows: Vec<Document> = self
            .query_rows(&sql, &[&tenant_id.as_str(), &document_id.as_str()], document_row)?
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        self.attach_items(&mut rows)?;
        self.attach_groups(&mut rows)?;
        Ok(rows.into_iter().next())
    }

    fn item_document(
        &mut self,
        tenant_id: &TenantId,
        item_id: &ItemId,
    ) -> StoreResult<Option<DocumentId>> {
        let rows = self.query_rows(
            "select document_id from document_item where tenant_id = ?1 and item_id = ?2",
            &[&tenant_id.as_str(), &item_id.as_str()],
            |row| parsed(row, 0, DocumentId::parse),
        )?;
        Ok(rows.into_iter().next())
    }

    fn documents(
        &mut self,
        tenant_id: &TenantId,
        query: &DocumentQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Document>> {
        let mut sql = format!("select {DOCUMENT_COLUMNS} from document where tenant_id = ?1");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(tenant_id.to_string())];
        if !query.kinds.is_empty() {
            let mut marks = Vec::new();
            for kind in &query.kinds {
                args.push(Box::new(kind.name()));
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&format!(" and kind in ({})", marks.join(", ")));
        }
        if let Some(customer_id) = &query.customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = ?{}", args.len()));
        }
        if let Some(status) = query.status {
            args.push(Box::new(status.name()));
            sql.push_str(&format!(" and status = ?{}", args.len()));
        }
        sql.push_str(balance_filter_sql(query.balance));
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let rows = self.query_rows(&sql, &arg_refs, document_row)?;
        let mut page_rows =
            paginate(rows.into_iter().map(|(d, s)| (d, s.to_string())).collect(), page);
        self.attach_items(&mut page_rows.rows)?;
        self.attach_groups(&mut page_rows.rows)?;
        Ok(page_rows)
    }

    fn insert_payment(&mut self, lock: &CustomerLock, payment: &Payment) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &payment.customer_id);
        self.execute(
            "insert into payment (payment_id, tenant_id, customer_id, amount_minor, currency, \
             unapplied_minor, method, reference, status, effective_date, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            &[
                &payment.id.as_str(),
                &lock.tenant_id().as_str(),
                &payment.customer_id.as_str(),
                &payment.amount.minor(),
                &payment.amount.currency().code(),
                &payment.unapplied.minor(),
                &payment.method.name(),
                &payment.reference,
                &payment.status.name(),
                &date_text(payment.effective_date),
                &timestamp_text(lock.now()),
            ],
        )?;
        Ok(())
    }

    fn update_payment(&mut self, lock: &CustomerLock, payment: &Payment) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &payment.customer_id);
        self.execute(
            "update payment set status = ?3, unapplied_minor = ?4, refunded_minor = ?5 \
             where tenant_id = ?1 and payment_id = ?2",
            &[
                &lock.tenant_id().as_str(),
                &payment.id.as_str(),
                &payment.status.name(),
                &payment.unapplied.minor(),
                &payment.refunded.minor(),
            ],
        )?;
        Ok(())
    }

    fn payment(
        &mut self,
        tenant_id: &TenantId,
        payment_id: &PaymentId,
    ) -> StoreResult<Option<Payment>> {
        let sql = format!(
            "select {PAYMENT_COLUMNS} from payment where tenant_id = ?1 and payment_id = ?2"
        );
        let rows =
            self.query_rows(&sql, &[&tenant_id.as_str(), &payment_id.as_str()], payment_row)?;
        Ok(rows.into_iter().next().map(|(p, _)| p))
    }

    fn payments(
        &mut self,
        tenant_id: &TenantId,
        query: &PaymentQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Payment>> {
        let mut sql = format!("select {PAYMENT_COLUMNS} from payment where tenant_id = ?1");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(tenant_id.to_string())];
        if let Some(customer_id) = &query.customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = ?{}", args.len()));
        }
        if query.unapplied_only {
            sql.push_str(" and unapplied_minor <> 0 and status = 'posted'");
        }
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let rows = self.query_rows(&sql, &arg_refs, payment_row)?;
        Ok(paginate(rows.into_iter().map(|(p, s)| (p, s.to_string())).collect(), page))
    }

    fn insert_application(
        &mut self,
        lock: &CustomerLock,
        application: &Application,
    ) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &application.customer_id);
        self.execute(
            "insert into application (application_id, tenant_id, customer_id, source_type, \
             source_id, target_id, rule, currency, effective_date, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &[
                &application.id.as_str(),
                &lock.tenant_id().as_str(),
                &application.customer_id.as_str(),
                &application.source.type_name(),
                &application.source.id(),
                &application.target_id.as_str(),
                &application.rule.map(Rule::name),
                &application.currency.code(),
                &date_text(application.effective_date),
                &timestamp_text(lock.now()),
            ],
        )?;
        for (idx, item) in application.items.iter().enumerate() {
            self.execute(
                "insert into application_item (application_id, idx, tenant_id, item_id, \
                 credit_memo_item_id, amount_minor, net_minor, created_at) \
                 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                &[
                    &application.id.as_str(),
                    &i64::try_from(idx).unwrap_or(i64::MAX),
                    &lock.tenant_id().as_str(),
                    &item.item_id.as_str(),
                    &item.credit_memo_item_id.as_ref().map(|i| i.to_string()),
                    &item.amount.minor(),
                    &item.net.minor(),
                    &timestamp_text(lock.now()),
                ],
            )?;
        }
        Ok(())
    }

    fn update_application(
        &mut self,
        lock: &CustomerLock,
        application: &Application,
    ) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &application.customer_id);
        for (idx, item) in application.items.iter().enumerate() {
            self.execute(
                "update application_item set net_minor = ?3 where application_id = ?1 and idx = ?2",
                &[
                    &application.id.as_str(),
                    &i64::try_from(idx).unwrap_or(i64::MAX),
                    &item.net.minor(),
                ],
            )?;
        }
        Ok(())
    }

    fn application(
        &mut self,
        tenant_id: &TenantId,
        application_id: &ApplicationId,
    ) -> StoreResult<Option<Application>> {
        let sql = format!(
            "select {APPLICATION_COLUMNS} from application \
             where tenant_id = ?1 and application_id = ?2"
        );
        let mut rows: Vec<Application> = self
            .query_rows(&sql, &[&tenant_id.as_str(), &application_id.as_str()], application_row)?
            .into_iter()
            .map(|(a, _)| a)
            .collect();
        self.attach_application_items(&mut rows)?;
        Ok(rows.into_iter().next())
    }

    fn applications(
        &mut self,
        tenant_id: &TenantId,
        query: &ApplicationQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Application>> {
        let mut sql = format!("select {APPLICATION_COLUMNS} from application where tenant_id = ?1");
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(tenant_id.to_string())];
        if let Some(customer_id) = &query.customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = ?{}", args.len()));
        }
        if let Some(source_id) = &query.source_id {
            args.push(Box::new(source_id.clone()));
            sql.push_str(&format!(" and source_id = ?{}", args.len()));
        }
        if let Some(target_id) = &query.target_id {
            args.push(Box::new(target_id.to_string()));
            sql.push_str(&format!(" and target_id = ?{}", args.len()));
        }
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let rows = self.query_rows(&sql, &arg_refs, application_row)?;
        let mut page_rows =
            paginate(rows.into_iter().map(|(a, s)| (a, s.to_string())).collect(), page);
        self.attach_application_items(&mut page_rows.rows)?;
        Ok(page_rows)
    }

    fn insert_adjustment(
        &mut self,
        lock: &CustomerLock,
        adjustment: &Adjustment,
    ) -> StoreResult<()> {
        self.execute(
            "insert into adjustment (adjustment_id, tenant_id, customer_id, document_id, item_id, \
             type, amount_minor, currency, reason, effective_date, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            &[
                &adjustment.id.as_str(),
                &lock.tenant_id().as_str(),
                &lock.customer_id().as_str(),
                &adjustment.document_id.as_str(),
                &adjustment.item_id.as_str(),
                &adjustment.kind.name(),
                &adjustment.amount.minor(),
                &adjustment.amount.currency().code(),
                &adjustment.reason,
                &date_text(adjustment.effective_date),
                &timestamp_text(lock.now()),
            ],
        )?;
        Ok(())
    }

    fn insert_refund(&mut self, lock: &CustomerLock, refund: &Refund) -> StoreResult<()> {
        self.execute(
            "insert into refund (refund_id, tenant_id, customer_id, source_type, source_id, \
             amount_minor, currency, method, reference, effective_date, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            &[
                &refund.id.as_str(),
                &lock.tenant_id().as_str(),
                &lock.customer_id().as_str(),
                &refund.source_type,
                &refund.source_id,
                &refund.amount.minor(),
                &refund.amount.currency().code(),
                &refund.method.name(),
                &refund.reference,
                &date_text(refund.effective_date),
                &timestamp_text(lock.now()),
            ],
        )?;
        Ok(())
    }

    fn append_journal(
        &mut self,
        lock: &CustomerLock,
        txn: &JournalTxn,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), txn.customer_id());
        let now = timestamp_text(now);
        let tenant = lock.tenant_id().as_str();
        let customer = lock.customer_id().as_str();
        self.execute(
            "insert into journal_txn (txn_id, tenant_id, customer_id, kind, effective_date, \
             description, subject_id, created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &[
                &txn.id().as_str(),
                &tenant,
                &customer,
                &txn.kind().name(),
                &date_text(txn.effective_date()),
                &txn.description(),
                &txn.subject_id(),
                &now,
            ],
        )?;
        for (idx, posting) in txn.postings().iter().enumerate() {
            self.execute(
                "insert into posting (txn_id, idx, tenant_id, customer_id, account, side, \
                 amount_minor, currency, document_id, item_id, payment_id, application_id, \
                 created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                &[
                    &txn.id().as_str(),
                    &i64::try_from(idx).unwrap_or(i64::MAX),
                    &tenant,
                    &customer,
                    &posting.account.name(),
                    &posting.side.name(),
                    &posting.amount.minor(),
                    &posting.amount.currency().code(),
                    &posting.document_id.as_ref().map(|d| d.to_string()),
                    &posting.item_id.as_ref().map(|d| d.to_string()),
                    &posting.payment_id.as_ref().map(|d| d.to_string()),
                    &posting.application_id.as_ref().map(|d| d.to_string()),
                    &now,
                ],
            )?;
        }
        for ((account, currency), (debit, credit)) in txn.effects().accounts {
            self.execute(
                "insert into customer_account (tenant_id, customer_id, account, currency, \
                 debit_minor, credit_minor, created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 on conflict (customer_id, account, currency) do update set \
                 debit_minor = debit_minor + excluded.debit_minor, \
                 credit_minor = credit_minor + excluded.credit_minor",
                &[&tenant, &customer, &account.name(), &currency.code(), &debit, &credit, &now],
            )?;
        }
        Ok(())
    }

    fn append_history(&mut self, lock: &CustomerLock, line: &HistoryLine) -> StoreResult<()> {
        self.execute(
            "insert into history (history_id, tenant_id, customer_id, effective_date, kind, \
             description, amount_minor, balance_after_minor, currency, document_id, created_at) \
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            &[
                &line.id.as_str(),
                &lock.tenant_id().as_str(),
                &lock.customer_id().as_str(),
                &date_text(line.effective_date),
                &line.kind,
                &line.description,
                &line.amount.minor(),
                &line.balance_after.minor(),
                &line.amount.currency().code(),
                &line.document_id,
                &timestamp_text(lock.now()),
            ],
        )?;
        Ok(())
    }

    fn history(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        page: &PageRequest,
    ) -> StoreResult<Page<HistoryLine>> {
        let mut sql = "select history_id, effective_date, kind, description, amount_minor, \
             balance_after_minor, currency, document_id, seq from history \
             where tenant_id = ?1 and customer_id = ?2"
            .to_owned();
        let mut args: Vec<Box<dyn rusqlite::ToSql>> =
            vec![Box::new(tenant_id.to_string()), Box::new(customer_id.to_string())];
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let rows = self.query_rows(&sql, &arg_refs, |row| {
            let currency = currency(row, 6)?;
            let line = HistoryLine {
                id: parsed(row, 0, TxnId::parse)?,
                effective_date: date(row, 1)?,
                kind: row.get(2)?,
                description: row.get(3)?,
                amount: money(row, 4, currency)?,
                balance_after: money(row, 5, currency)?,
                document_id: row.get(7)?,
            };
            Ok((line, row.get::<_, i64>(8)?.to_string()))
        })?;
        Ok(paginate(rows, page))
    }

    fn journal(
        &mut self,
        tenant_id: &TenantId,
        customer_id: Option<&CustomerId>,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredTxn>> {
        let mut sql = "select seq, txn_id, customer_id, kind, effective_date, description, \
             subject_id, created_at from journal_txn where tenant_id = ?1"
            .to_owned();
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(tenant_id.to_string())];
        if let Some(customer_id) = customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = ?{}", args.len()));
        }
        push_seq_page(&mut sql, &mut args, page, SeqOrder::OldestFirst)?;
        let arg_refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        type Head = (
            i64,
            String,
            CustomerId,
            TxnKind,
            chrono::NaiveDate,
            String,
            Option<String>,
            DateTime<Utc>,
        );
        let heads: Vec<Head> = self.query_rows(&sql, &arg_refs, |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                parsed(row, 2, CustomerId::parse)?,
                parsed(row, 3, TxnKind::parse)?,
                date(row, 4)?,
                row.get(5)?,
                row.get(6)?,
                timestamp(row, 7)?,
            ))
        })?;
        let keys: Vec<(i64, String)> = heads.iter().map(|h| (h.0, h.1.clone())).collect();
        let mut postings = self.postings_of(&keys)?;
        let mut rows = Vec::with_capacity(heads.len());
        for (seq, txn_id, customer_id, kind, effective_date, description, subject_id, created_at) in
            heads
        {
            let id = TxnId::parse(&txn_id).ok_or_else(|| StoreError::Corrupt(txn_id.clone()))?;
            let txn = JournalTxn::new(
                id,
                customer_id,
                kind,
                effective_date,
                description,
                subject_id,
                postings.remove(&txn_id).unwrap_or_default(),
            )
            .map_err(|e| StoreError::Corrupt(format!("{txn_id}: {e}")))?;
            rows.push((StoredTxn { seq, created_at, txn }, seq.to_string()));
        }
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
            |row| currency(row, 0),
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
            |row| Ok((parsed(row, 0, CustomerId::parse)?, account_total_row(row, 1)?)),
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
                    customer_id: parsed(row, 0, CustomerId::parse)?,
                    customer_name: row.get(1)?,
                    document_id: parsed(row, 2, DocumentId::parse)?,
                    due_date: date(row, 3)?,
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
                customer_id: parsed(row, 0, CustomerId::parse)?,
                customer_name: row.get(1)?,
                available_credit: exact_sum_at(row, 2)?,
            })
        })
    }
}
