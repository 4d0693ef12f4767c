//! One PostgreSQL transaction implementing the storage port.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use postgres::Row;
use postgres::types::ToSql;
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
    bad, currency, date, decimal_opt, decimal_text, get, int, micros, money, parsed, parsed_opt,
    timestamp,
};
use crate::{Manager, unavailable};

/// A statement parameter.
type Param<'a> = &'a (dyn ToSql + Sync);

/// An owned statement parameter, for statements assembled from optional filters.
type Arg = Box<dyn ToSql + Sync>;

/// An open PostgreSQL transaction on a pooled connection; rolled back on drop unless committed.
pub(crate) struct PgTx {
    conn: r2d2::PooledConnection<Manager>,
    open: bool,
    /// A statement failed, so PostgreSQL has aborted the transaction and would turn a COMMIT
    /// into a silent ROLLBACK; `commit` reports it instead.
    failed: bool,
}

impl PgTx {
    pub(crate) fn new(conn: r2d2::PooledConnection<Manager>) -> PgTx {
        PgTx { conn, open: true, failed: false }
    }

    fn checked<T>(&mut self, result: Result<T, postgres::Error>) -> StoreResult<T> {
        result.map_err(|err| {
            self.failed = true;
            unavailable(err)
        })
    }

    fn query(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        let result = self.conn.statement(sql).and_then(|s| self.conn.client.query(&s, args));
        self.checked(result)
    }

    fn query_rows<T>(
        &mut self,
        sql: &str,
        args: &[Param<'_>],
        map: impl FnMut(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.query(sql, args)?.iter().map(map).collect()
    }

    fn execute(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<u64> {
        let result = self.conn.statement(sql).and_then(|s| self.conn.client.execute(&s, args));
        self.checked(result)
    }

    /// Runs a statement assembled from optional filters, with owned parameters.
    fn query_args<T>(
        &mut self,
        sql: &str,
        args: &[Arg],
        map: impl FnMut(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let refs: Vec<Param<'_>> = args.iter().map(|a| a.as_ref() as Param<'_>).collect();
        self.query_rows(sql, &refs, map)
    }

    /// Reads the invoice group of each invoice in `documents`: its original, then the
    /// adjustment invoices of that original in the order they were made.
    fn attach_groups(&mut self, documents: &mut [Document]) -> StoreResult<()> {
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
        let rows = self.query_rows(
            "select coalesce(adjusts_invoice_id, document_id), document_id from document \
             where document_id = any($1) or adjusts_invoice_id = any($1) order by seq",
            &[&roots],
            |row| Ok((get::<String>(row, 0)?, parsed(row, 1, DocumentId::parse)?)),
        )?;
        let mut groups: HashMap<String, Vec<DocumentId>> = HashMap::new();
        for (root, member) in rows {
            groups.entry(root).or_default().push(member);
        }
        for document in documents.iter_mut().filter(|d| d.kind == DocumentKind::Invoice) {
            let root = document.adjusts_invoice_id.as_ref().unwrap_or(&document.id);
            document.group = groups.get(root.as_str()).cloned().unwrap_or_default();
        }
        Ok(())
    }

    /// Loads the items of `documents` in one query and attaches them in order.
    fn attach_items(&mut self, documents: &mut [Document]) -> StoreResult<()> {
        if documents.is_empty() {
            return Ok(());
        }
        let currencies: HashMap<String, Currency> =
            documents.iter().map(|d| (d.id.to_string(), d.currency)).collect();
        let ids: Vec<String> = documents.iter().map(|d| d.id.to_string()).collect();
        let rows = self.query_rows(
            "select document_id, item_id, kind, parent_item_id, description, quantity::text, \
             unit_price::text, tax_rate::text, invoice_item_id, amount_minor, balance_minor, \
             credited_minor from document_item where document_id = any($1) \
             order by document_id, idx",
            &[&ids],
            |row| {
                let document_id: String = get(row, 0)?;
                let currency = *currencies.get(&document_id).ok_or_else(|| bad(0, &document_id))?;
                let item = Item {
                    id: parsed(row, 1, ItemId::parse)?,
                    kind: parsed(row, 2, ItemKind::parse)?,
                    parent_item_id: parsed_opt(row, 3, ItemId::parse)?,
                    description: get(row, 4)?,
                    quantity: decimal_opt(row, 5)?,
                    unit_price: decimal_opt(row, 6)?,
                    tax_rate: decimal_opt(row, 7)?,
                    invoice_item_id: parsed_opt(row, 8, ItemId::parse)?,
                    amount: money(row, 9, currency)?,
                    balance: money(row, 10, currency)?,
                    credited: money(row, 11, currency)?,
                };
                Ok((document_id, item))
            },
        )?;
        let mut by_document: HashMap<String, Vec<Item>> = HashMap::new();
        for (document_id, item) in rows {
            by_document.entry(document_id).or_default().push(item);
        }
        for document in documents {
            document.items = by_document.remove(document.id.as_str()).unwrap_or_default();
        }
        Ok(())
    }

    fn add_group_balance(&mut self, document_id: &DocumentId, delta: i64) -> StoreResult<()> {
        self.execute(
            "update document set group_balance_minor = group_balance_minor + $2 \
             where document_id = $1",
            &[&document_id.as_str(), &delta],
        )?;
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
                let application_id: String = get(row, 0)?;
                let currency =
                    *currencies.get(&application_id).ok_or_else(|| bad(0, &application_id))?;
                let item = ApplicationItem {
                    item_id: parsed(row, 1, ItemId::parse)?,
                    credit_memo_item_id: parsed_opt(row, 2, ItemId::parse)?,
                    amount: money(row, 3, currency)?,
                    net: money(row, 4, currency)?,
                };
                Ok((application_id, item))
            },
        )?;
        let mut by_application: HashMap<String, Vec<ApplicationItem>> = HashMap::new();
        for (application_id, item) in rows {
            by_application.entry(application_id).or_default().push(item);
        }
        for application in applications {
            application.items = by_application.remove(application.id.as_str()).unwrap_or_default();
        }
        Ok(())
    }

    /// Journal transactions with their postings from a query selecting [`JOURNAL_COLUMNS`]
    /// and then each row's cursor as text.
    fn stored_txns(&mut self, sql: &str, args: &[Arg]) -> StoreResult<Vec<(StoredTxn, String)>> {
        type Head = (
            i64,
            String,
            CustomerId,
            TxnKind,
            NaiveDate,
            String,
            Option<String>,
            DateTime<Utc>,
            String,
        );
        let heads: Vec<Head> = self.query_args(sql, args, |row| {
            Ok((
                get(row, 0)?,
                get(row, 1)?,
                parsed(row, 2, CustomerId::parse)?,
                parsed(row, 3, TxnKind::parse)?,
                date(row, 4)?,
                get(row, 5)?,
                get(row, 6)?,
                timestamp(row, 7)?,
                get(row, 8)?,
            ))
        })?;
        let keys: Vec<String> = heads.iter().map(|h| h.1.clone()).collect();
        let mut postings = self.postings_of(&keys)?;
        let mut rows = Vec::with_capacity(heads.len());
        for (
            seq,
            txn_id,
            customer_id,
            kind,
            effective_date,
            description,
            subject_id,
            created_at,
            cursor,
        ) in heads
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
            rows.push((StoredTxn { seq, created_at, txn }, cursor));
        }
        Ok(rows)
    }

    fn postings_of(&mut self, txn_ids: &[String]) -> StoreResult<HashMap<String, Vec<Posting>>> {
        let mut by_txn: HashMap<String, Vec<Posting>> = HashMap::new();
        if txn_ids.is_empty() {
            return Ok(by_txn);
        }
        let ids = txn_ids.to_vec();
        let rows = self.query_rows(
            "select txn_id, account, side, amount_minor, currency, document_id, item_id, \
             payment_id, application_id from posting where txn_id = any($1) order by txn_id, idx",
            &[&ids],
            |row| {
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
                Ok((get::<String>(row, 0)?, posting))
            },
        )?;
        for (txn_id, posting) in rows {
            by_txn.entry(txn_id).or_default().push(posting);
        }
        Ok(by_txn)
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if self.open && self.conn.client.batch_execute("rollback").is_err() {
            // The connection may still hold the transaction: the pool must not hand it out.
            self.conn.broken = true;
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

/// The columns [`PgTx::stored_txns`] reads, in its order.
const JOURNAL_COLUMNS: &str =
    "seq, txn_id, customer_id, kind, effective_date, description, subject_id, created_at";

/// Reads a feed cursor, `XID:SEQ` (the last row read; `0:0` is the start).
fn feed_cursor(cursor: &str) -> Option<(u64, i64)> {
    let (xid, seq) = cursor.split_once(':')?;
    if xid.is_empty() || !xid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((xid.parse().ok()?, seq.parse().ok()?))
}

fn seq_cursor(page: &PageRequest) -> StoreResult<Option<i64>> {
    page.cursor.as_deref().map(|c| c.parse::<i64>().map_err(|_| StoreError::BadCursor)).transpose()
}

/// A LIKE pattern matching `search` anywhere in a lower-cased column; `\`, `%` and `_` in the
/// search match themselves.
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
    args: &mut Vec<Arg>,
    page: &PageRequest,
    order: SeqOrder,
) -> StoreResult<()> {
    let (after, direction) = match order {
        SeqOrder::NewestFirst => ("<", "desc"),
        SeqOrder::OldestFirst => (">", "asc"),
    };
    if let Some(seq) = seq_cursor(page)? {
        args.push(Box::new(seq));
        sql.push_str(&format!(" and seq {after} {}", mark(args)));
    }
    args.push(Box::new(fetch_limit(page)));
    sql.push_str(&format!(" order by seq {direction} limit {}", mark(args)));
    Ok(())
}

fn like_pattern(search: &str) -> String {
    let escaped =
        search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The next placeholder after `args`.
fn mark(args: &[Arg]) -> String {
    format!("${}", args.len())
}

const CUSTOMER_COLUMNS: &str = "customer_id, name, email, currency, payment_terms_days, metadata, \
     created_at, receivable_minor, unapplied_payments_minor, credit_memo_balance_minor, \
     credit_balance_minor, seq";

fn customer_row(row: &Row) -> StoreResult<(Customer, i64)> {
    let terms: i32 = get(row, 4)?;
    let customer = Customer {
        id: parsed(row, 0, CustomerId::parse)?,
        name: get(row, 1)?,
        email: get(row, 2)?,
        currency: currency(row, 3)?,
        payment_terms_days: u32::try_from(terms).map_err(|_| bad(4, &terms.to_string()))?,
        metadata: get(row, 5)?,
        created_at: timestamp(row, 6)?,
        balances: Balances {
            receivable: get(row, 7)?,
            unapplied_payments: get(row, 8)?,
            credit_memo_balance: get(row, 9)?,
            credit_balance: get(row, 10)?,
        },
    };
    Ok((customer, get(row, 11)?))
}

const DOCUMENT_COLUMNS: &str = "document_id, kind, number, customer_id, status, currency, \
     invoice_date, due_date, adjusts_invoice_id, reason, seq, \
     coalesce((select g.group_balance_minor from document g \
     where g.document_id = document.adjusts_invoice_id), group_balance_minor)";

fn document_row(row: &Row) -> StoreResult<(Document, String)> {
    let currency = currency(row, 5)?;
    let document = Document {
        id: parsed(row, 0, DocumentId::parse)?,
        kind: parsed(row, 1, DocumentKind::parse)?,
        number: get(row, 2)?,
        customer_id: parsed(row, 3, CustomerId::parse)?,
        status: parsed(row, 4, DocumentStatus::parse)?,
        currency,
        invoice_date: date(row, 6)?,
        due_date: date(row, 7)?,
        adjusts_invoice_id: parsed_opt(row, 8, DocumentId::parse)?,
        reason: get(row, 9)?,
        items: Vec::new(),
        group_balance: money(row, 11, currency)?,
        group: Vec::new(),
    };
    Ok((document, get::<i64>(row, 10)?.to_string()))
}

const PAYMENT_COLUMNS: &str = "payment_id, customer_id, amount_minor, currency, unapplied_minor, \
     method, reference, status, effective_date, seq, refunded_minor";

fn payment_row(row: &Row) -> StoreResult<(Payment, String)> {
    let currency = currency(row, 3)?;
    let payment = Payment {
        id: parsed(row, 0, PaymentId::parse)?,
        customer_id: parsed(row, 1, CustomerId::parse)?,
        amount: money(row, 2, currency)?,
        unapplied: money(row, 4, currency)?,
        refunded: money(row, 10, currency)?,
        method: parsed(row, 5, PaymentMethod::parse)?,
        reference: get(row, 6)?,
        status: parsed(row, 7, PaymentStatus::parse)?,
        effective_date: date(row, 8)?,
    };
    Ok((payment, get::<i64>(row, 9)?.to_string()))
}

const APPLICATION_COLUMNS: &str = "application_id, customer_id, source_type, source_id, \
     target_id, rule, currency, effective_date, seq";

fn application_row(row: &Row) -> StoreResult<(Application, String)> {
    let source_type: &str = get(row, 2)?;
    let source_id: Option<&str> = get(row, 3)?;
    let source = match (source_type, source_id) {
        ("payment", Some(id)) => {
            SourceRef::Payment(PaymentId::parse(id).ok_or_else(|| bad(3, id))?)
        }
        ("credit_memo", Some(id)) => {
            SourceRef::CreditMemo(DocumentId::parse(id).ok_or_else(|| bad(3, id))?)
        }
        ("credit_balance", None) => SourceRef::CreditBalance,
        _ => return Err(bad(2, source_type)),
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
    Ok((application, get::<i64>(row, 8)?.to_string()))
}

/// An account total from four columns starting at `at`: account, currency, debit, credit.
fn account_total_row(row: &Row, at: usize) -> StoreResult<AccountTotal> {
    Ok(AccountTotal {
        account: parsed(row, at, Account::parse)?,
        currency: currency(row, at + 1)?,
        debit: i128::from(get::<i64>(row, at + 2)?),
        credit: i128::from(get::<i64>(row, at + 3)?),
    })
}

/// An exact sum over many rows from column `at`: `sum()` over `bigint` is `numeric` in
/// PostgreSQL, exact however many rows it spans; the query casts it to `text`, read here into
/// an `i128` (a `::bigint` cast would fail past an `i64`).
fn exact_sum_at(row: &Row, at: usize) -> StoreResult<i128> {
    let text: String = get(row, at)?;
    text.parse().map_err(|_| bad(at, &format!("sum {text:?} is not an integer")))
}

/// An account total of account, currency and two exact sums as text (debits, credits) from `at`.
fn account_sum_row(row: &Row, at: usize) -> StoreResult<AccountTotal> {
    Ok(AccountTotal {
        account: parsed(row, at, Account::parse)?,
        currency: currency(row, at + 1)?,
        debit: exact_sum_at(row, at + 2)?,
        credit: exact_sum_at(row, at + 3)?,
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

impl StoreTx for PgTx {
    fn commit(mut self: Box<Self>) -> StoreResult<()> {
        if self.failed {
            // PostgreSQL would answer COMMIT with a ROLLBACK: say so rather than lose the writes
            // quietly. Drop rolls back.
            return Err(StoreError::Unavailable(
                "commit refused: a statement of this transaction failed, so it was aborted".into(),
            ));
        }
        let result = self.conn.client.batch_execute("commit");
        self.checked(result)?;
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
            "insert into tenant (tenant_id, name, created_at) values ($1, $2, $3)",
            &[&tenant_id.as_str(), &name, &micros(now)],
        )?;
        Ok(())
    }

    fn tenants(&mut self) -> StoreResult<Vec<TenantId>> {
        self.query_rows(
            "select tenant_id from tenant order by created_at, tenant_id collate \"C\"",
            &[],
            |row| parsed(row, 0, TenantId::parse),
        )
    }

    fn settings(&mut self, tenant_id: &TenantId) -> StoreResult<Settings> {
        let rows = self.query_rows(
            "select default_currency, time_zone, application_rule, negative_invoice_policy, \
             auto_apply_credit from tenant where tenant_id = $1",
            &[&tenant_id.as_str()],
            |row| {
                Ok(Settings {
                    default_currency: currency(row, 0)?,
                    time_zone: get(row, 1)?,
                    application_rule: parsed(row, 2, Rule::parse)?,
                    negative_invoice_policy: parsed(row, 3, NegativeInvoicePolicy::parse)?,
                    auto_apply_credit: get(row, 4)?,
                })
            },
        )?;
        rows.into_iter().next().ok_or_else(|| StoreError::Corrupt(format!("no tenant {tenant_id}")))
    }

    fn update_settings(&mut self, tenant_id: &TenantId, settings: &Settings) -> StoreResult<()> {
        self.execute(
            "update tenant set default_currency = $2, time_zone = $3, application_rule = $4, \
             negative_invoice_policy = $5, auto_apply_credit = $6 where tenant_id = $1",
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
             where tenant_id = $1 and idempotency_key = $2",
            &[&tenant_id.as_str(), &key],
            |row| {
                let status: i32 = get(row, 1)?;
                Ok(IdempotencyRecord {
                    tenant_id: tenant_id.clone(),
                    key: key.to_owned(),
                    request_hash: get(row, 0)?,
                    status: u16::try_from(status).map_err(|_| bad(1, &status.to_string()))?,
                    body: get(row, 2)?,
                    created_at: timestamp(row, 3)?,
                })
            },
        )?;
        Ok(rows.into_iter().next())
    }

    fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<()> {
        self.execute(
            "insert into idempotency_key (tenant_id, idempotency_key, request_hash, status, \
             body, created_at) values ($1, $2, $3, $4, $5, $6)",
            &[
                &record.tenant_id.as_str(),
                &record.key,
                &record.request_hash,
                &i32::from(record.status),
                &record.body,
                &micros(record.created_at),
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
        let rows = self.query_rows(
            "select api_key_id, tenant_id, key_hash, role, name, created_at, revoked_at \
             from api_key where key_hash = $1",
            &[&key_hash],
            |row| {
                Ok(ApiKeyRecord {
                    id: parsed(row, 0, ApiKeyId::parse)?,
                    tenant_id: parsed(row, 1, TenantId::parse)?,
                    key_hash: get(row, 2)?,
                    role: parsed(row, 3, Role::parse)?,
                    name: get(row, 4)?,
                    created_at: timestamp(row, 5)?,
                    revoked_at: get(row, 6)?,
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
        // The upsert takes the counter row's lock, so concurrent callers queue and each gets
        // its own number.
        let values = self.query_rows(
            "insert into counter (tenant_id, kind, last_value, created_at) \
             values ($1, $2, 1, $3) \
             on conflict (tenant_id, kind) do update set last_value = counter.last_value + 1 \
             returning last_value",
            &[&tenant_id.as_str(), &kind.name(), &micros(now)],
            |row| get::<i64>(row, 0),
        )?;
        let value = values
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt("the counter upsert returned no row".to_owned()))?;
        u64::try_from(value).map_err(|_| StoreError::Corrupt("negative counter".to_owned()))
    }

    fn insert_customer(&mut self, tenant_id: &TenantId, customer: &Customer) -> StoreResult<()> {
        let b = customer.balances;
        let terms = i32::try_from(customer.payment_terms_days).unwrap_or(i32::MAX);
        self.execute(
            "insert into customer (customer_id, tenant_id, name, name_lower, email, email_lower, \
             currency, payment_terms_days, metadata, receivable_minor, unapplied_payments_minor, \
             credit_memo_balance_minor, credit_balance_minor, balance_minor, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            &[
                &customer.id.as_str(),
                &tenant_id.as_str(),
                &customer.name,
                &customer.name.to_lowercase(),
                &customer.email,
                &customer.email.as_ref().map(|e| e.to_lowercase()),
                &customer.currency.code(),
                &terms,
                &customer.metadata,
                &b.receivable,
                &b.unapplied_payments,
                &b.credit_memo_balance,
                &b.credit_balance,
                &b.balance(),
                &micros(customer.created_at),
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
        // The row lock is held until the transaction ends: another command for this customer
        // waits here, while commands for other customers go on.
        let sql = format!(
            "select {CUSTOMER_COLUMNS} from customer where tenant_id = $1 and customer_id = $2 \
             for update"
        );
        let rows =
            self.query_rows(&sql, &[&tenant_id.as_str(), &customer_id.as_str()], customer_row)?;
        Ok(rows
            .into_iter()
            .next()
            .map(|(c, _)| (adapter::customer_lock(tenant_id.clone(), customer_id.clone(), now), c)))
    }

    fn customer(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
    ) -> StoreResult<Option<Customer>> {
        let sql = format!(
            "select {CUSTOMER_COLUMNS} from customer where tenant_id = $1 and customer_id = $2"
        );
        let rows =
            self.query_rows(&sql, &[&tenant_id.as_str(), &customer_id.as_str()], customer_row)?;
        Ok(rows.into_iter().next().map(|(c, _)| c))
    }

    fn update_customer(&mut self, lock: &CustomerLock, customer: &Customer) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &customer.id);
        let b = customer.balances;
        let terms = i32::try_from(customer.payment_terms_days).unwrap_or(i32::MAX);
        self.execute(
            "update customer set name = $3, name_lower = $4, email = $5, email_lower = $6, \
             payment_terms_days = $7, metadata = $8, receivable_minor = $9, \
             unapplied_payments_minor = $10, credit_memo_balance_minor = $11, \
             credit_balance_minor = $12, balance_minor = $13 \
             where tenant_id = $1 and customer_id = $2",
            &[
                &lock.tenant_id().as_str(),
                &lock.customer_id().as_str(),
                &customer.name,
                &customer.name.to_lowercase(),
                &customer.email,
                &customer.email.as_ref().map(|e| e.to_lowercase()),
                &terms,
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
        // Names and ids compare by bytes (`collate "C"`), as SQLite's BINARY collation does,
        // whatever the database's default collation.
        let (key, order, cmp) = match query.sort {
            CustomerSort::Name => ("name", "asc", ">"),
            CustomerSort::NameDesc => ("name", "desc", "<"),
            CustomerSort::Balance => ("balance_minor", "asc", ">"),
            CustomerSort::BalanceDesc => ("balance_minor", "desc", "<"),
            CustomerSort::Created => ("seq", "asc", ">"),
            CustomerSort::CreatedDesc => ("seq", "desc", "<"),
        };
        let sort_key = if key == "name" { "name collate \"C\"" } else { key };
        let mut sql = format!("select {CUSTOMER_COLUMNS} from customer where tenant_id = $1");
        let mut args: Vec<Arg> = vec![Box::new(tenant_id.to_string())];
        if let Some(search) = query.search.as_deref() {
            args.push(Box::new(like_pattern(search)));
            let n = mark(&args);
            sql.push_str(&format!(
                " and (name_lower like {n} escape '\\' or email_lower like {n} escape '\\')"
            ));
        }
        if let Some(cursor) = &page.cursor {
            let (value, id) = cursor.rsplit_once('\n').ok_or(StoreError::BadCursor)?;
            match key {
                "name" => args.push(Box::new(value.to_owned())),
                _ => args.push(Box::new(value.parse::<i64>().map_err(|_| StoreError::BadCursor)?)),
            }
            let v = mark(&args);
            if key == "seq" {
                sql.push_str(&format!(" and seq {cmp} {v}"));
            } else {
                args.push(Box::new(id.to_owned()));
                let i = mark(&args);
                sql.push_str(&format!(
                    " and ({sort_key}, customer_id collate \"C\") {cmp} ({v}, {i})"
                ));
            }
        }
        args.push(Box::new(fetch_limit(page)));
        let l = mark(&args);
        if key == "seq" {
            sql.push_str(&format!(" order by seq {order} limit {l}"));
        } else {
            sql.push_str(&format!(
                " order by {sort_key} {order}, customer_id collate \"C\" {order} limit {l}"
            ));
        }
        let rows = self.query_args(&sql, &args, customer_row)?;
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
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $13)",
            &[
                &document.id.as_str(),
                &lock.tenant_id().as_str(),
                &document.customer_id.as_str(),
                &document.kind.name(),
                &document.number,
                &document.status.name(),
                &document.currency.code(),
                &document.invoice_date,
                &document.due_date,
                &document.adjusts_invoice_id.as_ref().map(|d| d.to_string()),
                &document.reason,
                &document.total().minor(),
                &document.balance().minor(),
                &int(document.open_item_count()),
                &micros(lock.now()),
            ],
        )?;
        for (idx, item) in document.items.iter().enumerate() {
            self.execute(
                "insert into document_item (item_id, document_id, tenant_id, idx, kind, \
                 parent_item_id, description, quantity, unit_price, tax_rate, invoice_item_id, \
                 amount_minor, balance_minor, created_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9::text::numeric, \
                 $10::text::numeric, $11, $12, $13, $14)",
                &[
                    &item.id.as_str(),
                    &document.id.as_str(),
                    &lock.tenant_id().as_str(),
                    &int(idx),
                    &item.kind.name(),
                    &item.parent_item_id.as_ref().map(|i| i.to_string()),
                    &item.description,
                    &decimal_text(item.quantity),
                    &decimal_text(item.unit_price),
                    &decimal_text(item.tax_rate),
                    &item.invoice_item_id.as_ref().map(|i| i.to_string()),
                    &item.amount.minor(),
                    &item.balance.minor(),
                    &micros(lock.now()),
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
        let stored = self
            .query_rows(
                "select balance_minor from document where tenant_id = $1 and document_id = $2",
                &[&lock.tenant_id().as_str(), &document.id.as_str()],
                |row| get::<i64>(row, 0),
            )?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt(format!("no document {}", document.id)))?;
        let balance = document.balance().minor();
        self.execute(
            "update document set status = $3, balance_minor = $4, open_item_count = $5, \
             group_balance_minor = group_balance_minor + $6 \
             where tenant_id = $1 and document_id = $2",
            &[
                &lock.tenant_id().as_str(),
                &document.id.as_str(),
                &document.status.name(),
                &balance,
                &int(document.open_item_count()),
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
                "update document_item set balance_minor = $2, credited_minor = $3 \
                 where item_id = $1 and (balance_minor <> $2 or credited_minor <> $3)",
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
            "select {DOCUMENT_COLUMNS} from document where tenant_id = $1 and document_id = $2"
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
            "select document_id from document_item where tenant_id = $1 and item_id = $2",
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
        let mut sql = format!("select {DOCUMENT_COLUMNS} from document where tenant_id = $1");
        let mut args: Vec<Arg> = vec![Box::new(tenant_id.to_string())];
        if !query.kinds.is_empty() {
            let kinds: Vec<String> = query.kinds.iter().map(|k| k.name().to_owned()).collect();
            args.push(Box::new(kinds));
            sql.push_str(&format!(" and kind = any({})", mark(&args)));
        }
        if let Some(customer_id) = &query.customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = {}", mark(&args)));
        }
        if let Some(status) = query.status {
            args.push(Box::new(status.name()));
            sql.push_str(&format!(" and status = {}", mark(&args)));
        }
        sql.push_str(balance_filter_sql(query.balance));
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let rows = self.query_args(&sql, &args, document_row)?;
        let mut page_rows = paginate(rows, page);
        self.attach_items(&mut page_rows.rows)?;
        self.attach_groups(&mut page_rows.rows)?;
        Ok(page_rows)
    }

    fn insert_payment(&mut self, lock: &CustomerLock, payment: &Payment) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &payment.customer_id);
        self.execute(
            "insert into payment (payment_id, tenant_id, customer_id, amount_minor, currency, \
             unapplied_minor, method, reference, status, effective_date, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
                &payment.effective_date,
                &micros(lock.now()),
            ],
        )?;
        Ok(())
    }

    fn update_payment(&mut self, lock: &CustomerLock, payment: &Payment) -> StoreResult<()> {
        debug_assert_eq!(lock.customer_id(), &payment.customer_id);
        self.execute(
            "update payment set status = $3, unapplied_minor = $4, refunded_minor = $5 \
             where tenant_id = $1 and payment_id = $2",
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
            "select {PAYMENT_COLUMNS} from payment where tenant_id = $1 and payment_id = $2"
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
        let mut sql = format!("select {PAYMENT_COLUMNS} from payment where tenant_id = $1");
        let mut args: Vec<Arg> = vec![Box::new(tenant_id.to_string())];
        if let Some(customer_id) = &query.customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = {}", mark(&args)));
        }
        if query.unapplied_only {
            sql.push_str(" and unapplied_minor <> 0 and status = 'posted'");
        }
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let rows = self.query_args(&sql, &args, payment_row)?;
        Ok(paginate(rows, page))
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
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &application.id.as_str(),
                &lock.tenant_id().as_str(),
                &application.customer_id.as_str(),
                &application.source.type_name(),
                &application.source.id(),
                &application.target_id.as_str(),
                &application.rule.map(Rule::name),
                &application.currency.code(),
                &application.effective_date,
                &micros(lock.now()),
            ],
        )?;
        for (idx, item) in application.items.iter().enumerate() {
            self.execute(
                "insert into application_item (application_id, idx, tenant_id, item_id, \
                 credit_memo_item_id, amount_minor, net_minor, created_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &application.id.as_str(),
                    &int(idx),
                    &lock.tenant_id().as_str(),
                    &item.item_id.as_str(),
                    &item.credit_memo_item_id.as_ref().map(|i| i.to_string()),
                    &item.amount.minor(),
                    &item.net.minor(),
                    &micros(lock.now()),
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
                "update application_item set net_minor = $3 \
                 where application_id = $1 and idx = $2",
                &[&application.id.as_str(), &int(idx), &item.net.minor()],
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
             where tenant_id = $1 and application_id = $2"
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
        let mut sql = format!("select {APPLICATION_COLUMNS} from application where tenant_id = $1");
        let mut args: Vec<Arg> = vec![Box::new(tenant_id.to_string())];
        if let Some(customer_id) = &query.customer_id {
            args.push(Box::new(customer_id.to_string()));
            sql.push_str(&format!(" and customer_id = {}", mark(&args)));
        }
        if let Some(source_id) = &query.source_id {
            args.push(Box::new(source_id.clone()));
            sql.push_str(&format!(" and source_id = {}", mark(&args)));
        }
        if let Some(target_id) = &query.target_id {
            args.push(Box::new(target_id.to_string()));
            sql.push_str(&format!(" and target_id = {}", mark(&args)));
        }
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let rows = self.query_args(&sql, &args, application_row)?;
        let mut page_rows = paginate(rows, page);
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
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
                &adjustment.effective_date,
                &micros(lock.now()),
            ],
        )?;
        Ok(())
    }

    fn insert_refund(&mut self, lock: &CustomerLock, refund: &Refund) -> StoreResult<()> {
        self.execute(
            "insert into refund (refund_id, tenant_id, customer_id, source_type, source_id, \
             amount_minor, currency, method, reference, effective_date, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
                &refund.effective_date,
                &micros(lock.now()),
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
        let now = micros(now);
        let tenant = lock.tenant_id().as_str();
        let customer = lock.customer_id().as_str();
        self.execute(
            "insert into journal_txn (txn_id, tenant_id, customer_id, kind, effective_date, \
             description, subject_id, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &txn.id().as_str(),
                &tenant,
                &customer,
                &txn.kind().name(),
                &txn.effective_date(),
                &txn.description(),
                &txn.subject_id(),
                &now,
            ],
        )?;
        for (idx, posting) in txn.postings().iter().enumerate() {
            self.execute(
                "insert into posting (txn_id, idx, tenant_id, customer_id, account, side, \
                 amount_minor, currency, document_id, item_id, payment_id, application_id, \
                 created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                &[
                    &txn.id().as_str(),
                    &int(idx),
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
                 debit_minor, credit_minor, created_at) values ($1, $2, $3, $4, $5, $6, $7) \
                 on conflict (customer_id, account, currency) do update set \
                 debit_minor = customer_account.debit_minor + excluded.debit_minor, \
                 credit_minor = customer_account.credit_minor + excluded.credit_minor",
                &[&tenant, &customer, &account.name(), &currency.code(), &debit, &credit, &now],
            )?;
        }
        Ok(())
    }

    fn append_history(&mut self, lock: &CustomerLock, line: &HistoryLine) -> StoreResult<()> {
        self.execute(
            "insert into history (history_id, tenant_id, customer_id, effective_date, kind, \
             description, amount_minor, balance_after_minor, currency, document_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &line.id.as_str(),
                &lock.tenant_id().as_str(),
                &lock.customer_id().as_str(),
                &line.effective_date,
                &line.kind,
                &line.description,
                &line.amount.minor(),
                &line.balance_after.minor(),
                &line.amount.currency().code(),
                &line.document_id,
                &micros(lock.now()),
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
             where tenant_id = $1 and customer_id = $2"
            .to_owned();
        let mut args: Vec<Arg> =
            vec![Box::new(tenant_id.to_string()), Box::new(customer_id.to_string())];
        push_seq_page(&mut sql, &mut args, page, SeqOrder::NewestFirst)?;
        let rows = self.query_args(&sql, &args, |row| {
            let currency = currency(row, 6)?;
            let line = HistoryLine {
                id: parsed(row, 0, TxnId::parse)?,
                effective_date: date(row, 1)?,
                kind: get(row, 2)?,
                description: get(row, 3)?,
                amount: money(row, 4, currency)?,
                balance_after: money(row, 5, currency)?,
                document_id: get(row, 7)?,
            };
            Ok((line, get::<i64>(row, 8)?.to_string()))
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
        let rows = self.stored_txns(&sql, &args)?;
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
        let mut rows = self.stored_txns(&sql, &args)?;
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
            has_more =
                held_back.first().map(|row| get::<bool>(row, 0)).transpose()?.unwrap_or(false);
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
             from journal_txn j join posting p on p.txn_id = j.txn_id \
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
            |row| currency(row, 0),
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
        self.query_rows(
            "select p.account, p.currency, \
             sum(case p.side when 'debit' then p.amount_minor else 0 end)::text, \
             sum(case p.side when 'credit' then p.amount_minor else 0 end)::text \
             from journal_txn j join posting p on p.txn_id = j.txn_id \
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
                   from posting p join journal_txn j on j.txn_id = p.txn_id \
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
                    customer_id: parsed(row, 0, CustomerId::parse)?,
                    customer_name: get(row, 1)?,
                    document_id: parsed(row, 2, DocumentId::parse)?,
                    due_date: date(row, 3)?,
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
                   from posting p join journal_txn j on j.txn_id = p.txn_id \
                   where p.tenant_id = $1 and p.currency = $2 and j.effective_date <= $3 \
                   and p.account in ('unapplied_payments', 'credit_memos', 'credit_balance') \
                   group by j.customer_id) s \
             join customer c on c.customer_id = s.customer_id \
             order by c.name collate \"C\", c.customer_id collate \"C\"",
            &[&tenant_id.as_str(), &currency.code(), &as_of],
            |row| {
                Ok(CustomerCredit {
                    customer_id: parsed(row, 0, CustomerId::parse)?,
                    customer_name: get(row, 1)?,
                    available_credit: exact_sum_at(row, 2)?,
                })
            },
        )
    }
}
