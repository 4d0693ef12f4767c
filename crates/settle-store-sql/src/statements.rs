//! The write statements both stores run, one builder per statement, grouped by aggregate.
//!
//! The text uses SQLite's numbered placeholders (`?1`); the PostgreSQL adapter renumbers them
//! as `$1` (see [`Statement::numbered`]). A row that belongs to a parent row (a document's or
//! an application's item, a subscription's segment, invoiced period, line or amendment) is
//! built as an [`Insert`], its columns named beside their values, because the stores keep
//! different key columns in those tables: each adapter's `write_child` makes the statement.
//! Each parameter is a [`Value`] that the adapter binds as its driver's type, which is where
//! the stores really differ: SQLite keeps dates and instants as text, PostgreSQL as `date` and
//! `timestamptz`, and reads exact decimals through a cast. Upserts and locks differ in syntax
//! and stay in the adapters.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use settle_core::adjustment::Adjustment;
use settle_core::application::{Application, Rule};
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::{Document, Item};
use settle_core::ledger::{JournalTxn, Posting};
use settle_core::payment::Payment;
use settle_core::refund::Refund;
use settle_core::settings::Settings;
use settle_store::CustomerLock;

/// A statement parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text.
    Text(String),
    /// Nullable text.
    OptText(Option<String>),
    /// A `bigint` (amounts, sequences).
    Int(i64),
    /// An `integer` (positions, counts, terms).
    Int32(i32),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant.
    Instant(DateTime<Utc>),
    /// A nullable instant.
    OptInstant(Option<DateTime<Utc>>),
    /// A nullable calendar date.
    OptDate(Option<NaiveDate>),
    /// A nullable `integer`.
    OptInt32(Option<i32>),
    /// A nullable exact decimal (`numeric` in PostgreSQL, text in SQLite).
    Decimal(Option<Decimal>),
    /// A flag (`boolean` in PostgreSQL, 0 or 1 in SQLite).
    Bool(bool),
    /// A list of texts, written `x in ?N`: each adapter renders its placeholder as a subquery
    /// over the list ([`Statement::numbered`]), so one prepared statement serves any length.
    TextList(Vec<String>),
}

/// SQL text with `?N` placeholders and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The text.
    pub sql: std::borrow::Cow<'static, str>,
    /// The parameters, `?1` first.
    pub args: Vec<Value>,
}

impl Statement {
    /// Whether a parameter is a [`Value::TextList`], whose placeholder the adapter must render.
    pub fn has_list(&self) -> bool {
        self.args.iter().any(|arg| matches!(arg, Value::TextList(_)))
    }

    /// The text with each `?N` written by `mark(N, &args[N - 1])`.
    pub fn numbered(&self, mark: impl Fn(usize, &Value) -> String) -> String {
        let mut out = String::with_capacity(self.sql.len() + 16);
        let mut chars = self.sql.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            if c != '?' {
                out.push(c);
                continue;
            }
            let mut n = 0_usize;
            while let Some(&(_, d)) = chars.peek() {
                let Some(digit) = d.to_digit(10) else { break };
                n = n * 10 + usize::try_from(digit).unwrap_or(0);
                chars.next();
            }
            match self.args.get(n.wrapping_sub(1)) {
                Some(value) => out.push_str(&mark(n, value)),
                None => panic!("statement placeholder ?{n} has no parameter: {}", self.sql),
            }
        }
        out
    }
}

/// An insert of one row, each column named beside its value, for the rows that belong to a
/// parent row (a document's items, an application's items, a subscription's segments, invoiced
/// periods, lines and amendments). The adapters write them through their own `write_child`,
/// which may add the columns their tables keep beyond SQLite's (see
/// [`shared_writes!`](crate::shared_writes)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert {
    table: &'static str,
    row: Vec<(&'static str, Value)>,
}

impl Insert {
    pub(crate) fn new(table: &'static str, row: Vec<(&'static str, Value)>) -> Insert {
        Insert { table, row }
    }

    /// True when the row has a value for `column`.
    pub fn names(&self, column: &str) -> bool {
        self.row.iter().any(|(named, _)| *named == column)
    }

    /// The row with `column` set to `value` too, after its other columns.
    pub fn with(mut self, column: &'static str, value: Value) -> Insert {
        debug_assert!(!self.names(column), "{} names {column} twice", self.table);
        self.row.push((column, value));
        self
    }

    /// The statement: `insert into <table> (<columns>) values (?1, …)`.
    pub fn statement(self) -> Statement {
        use std::fmt::Write as _;
        let mut sql = String::with_capacity(32 + 24 * self.row.len());
        sql.push_str("insert into ");
        sql.push_str(self.table);
        sql.push_str(" (");
        for (n, (column, _)) in self.row.iter().enumerate() {
            sql.push_str(if n == 0 { "" } else { ", " });
            sql.push_str(column);
        }
        sql.push_str(") values (");
        for n in 1..=self.row.len() {
            // Writing to a String cannot fail.
            let _ = write!(sql, "{}?{n}", if n == 1 { "" } else { ", " });
        }
        sql.push(')');
        Statement { sql: sql.into(), args: self.row.into_iter().map(|(_, value)| value).collect() }
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn opt(value: Option<impl ToString>) -> Value {
    Value::OptText(value.map(|v| v.to_string()))
}

fn small(value: impl TryInto<i32>) -> Value {
    Value::Int32(value.try_into().unwrap_or(i32::MAX))
}

fn lowercase(value: &str) -> Value {
    text(&value.to_lowercase())
}

/// Writes a tenant's settings.
pub fn update_settings(tenant_id: &str, settings: &Settings) -> Statement {
    Statement {
        sql: "update tenant set default_currency = ?2, time_zone = ?3, application_rule = ?4, \
              negative_invoice_policy = ?5, auto_apply_credit = ?6, business_name = ?7 \
              where tenant_id = ?1"
            .into(),
        args: vec![
            text(tenant_id),
            text(settings.default_currency.code()),
            text(&settings.time_zone),
            text(settings.application_rule.name()),
            text(settings.negative_invoice_policy.name()),
            Value::Bool(settings.auto_apply_credit),
            text(&settings.business_name),
        ],
    }
}

/// Stores a new customer.
pub fn insert_customer(tenant_id: &str, customer: &Customer) -> Statement {
    let b = customer.balances;
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into customer (customer_id, tenant_id, name, name_lower, email, \
              email_lower, currency, payment_terms_days, metadata, receivable_minor, \
              unapplied_payments_minor, credit_memo_balance_minor, credit_balance_minor, \
              balance_minor, created_at) \
              values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        ),
        args: vec![
            text(customer.id.as_str()),
            text(tenant_id),
            text(&customer.name),
            lowercase(&customer.name),
            opt(customer.email.as_ref()),
            opt(customer.email.as_ref().map(|e| e.to_lowercase())),
            text(customer.currency.code()),
            small(customer.payment_terms_days),
            text(&customer.metadata),
            Value::Int(b.receivable),
            Value::Int(b.unapplied_payments),
            Value::Int(b.credit_memo_balance),
            Value::Int(b.credit_balance),
            Value::Int(b.balance()),
            Value::Instant(customer.created_at),
        ],
    }
}

/// Stores a new customer's row of PostgreSQL's `customer_balance_key`, the balance its list by
/// balance walks (migration 0019; SQLite indexes the customer's own column).
pub fn insert_customer_balance_key(tenant_id: &str, customer: &Customer) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into customer_balance_key (tenant_id, customer_id, balance_minor) \
              values (?1, ?2, ?3)",
        ),
        args: vec![
            text(tenant_id),
            text(customer.id.as_str()),
            Value::Int(customer.balances.balance()),
        ],
    }
}

/// Writes a customer's balance to its row of PostgreSQL's `customer_balance_key`.
pub fn update_customer_balance_key(lock: &CustomerLock, customer: &Customer) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update customer_balance_key set balance_minor = ?3 \
              where tenant_id = ?1 and customer_id = ?2",
        ),
        args: vec![
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            Value::Int(customer.balances.balance()),
        ],
    }
}

/// Writes a customer's profile and balances.
pub fn update_customer(lock: &CustomerLock, customer: &Customer) -> Statement {
    let b = customer.balances;
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update customer set name = ?3, name_lower = ?4, email = ?5, email_lower = ?6, \
              payment_terms_days = ?7, metadata = ?8, receivable_minor = ?9, \
              unapplied_payments_minor = ?10, credit_memo_balance_minor = ?11, \
              credit_balance_minor = ?12, balance_minor = ?13 \
              where tenant_id = ?1 and customer_id = ?2",
        ),
        args: vec![
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            text(&customer.name),
            lowercase(&customer.name),
            opt(customer.email.as_ref()),
            opt(customer.email.as_ref().map(|e| e.to_lowercase())),
            small(customer.payment_terms_days),
            text(&customer.metadata),
            Value::Int(b.receivable),
            Value::Int(b.unapplied_payments),
            Value::Int(b.credit_memo_balance),
            Value::Int(b.credit_balance),
            Value::Int(b.balance()),
        ],
    }
}

/// Writes a customer's balances only (its profile as it was).
pub fn update_customer_balances(lock: &CustomerLock, customer: &Customer) -> Statement {
    let b = customer.balances;
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update customer set receivable_minor = ?3, unapplied_payments_minor = ?4, \
              credit_memo_balance_minor = ?5, credit_balance_minor = ?6, balance_minor = ?7 \
              where tenant_id = ?1 and customer_id = ?2",
        ),
        args: vec![
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            Value::Int(b.receivable),
            Value::Int(b.unapplied_payments),
            Value::Int(b.credit_memo_balance),
            Value::Int(b.credit_balance),
            Value::Int(b.balance()),
        ],
    }
}

/// Stores a new document's row (its items are [`insert_item`]s); the group balance of a new
/// document is its own balance.
pub fn insert_document(lock: &CustomerLock, document: &Document) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into document (document_id, tenant_id, customer_id, kind, number, status, \
              currency, invoice_date, due_date, adjusts_invoice_id, reason, total_minor, \
              balance_minor, open_item_count, created_at, group_balance_minor) \
              values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?13)",
        ),
        args: vec![
            text(document.id.as_str()),
            text(lock.tenant_id().as_str()),
            text(document.customer_id.as_str()),
            text(document.kind.name()),
            text(&document.number),
            text(document.status.name()),
            text(document.currency.code()),
            Value::Date(document.invoice_date),
            Value::Date(document.due_date),
            opt(document.adjusts_invoice_id.as_ref()),
            opt(document.reason.as_ref()),
            Value::Int(document.total().minor()),
            Value::Int(document.balance().minor()),
            small(document.open_item_count()),
            Value::Instant(lock.now()),
        ],
    }
}

/// Stores item `idx` of a new document.
pub fn insert_item(lock: &CustomerLock, document: &Document, idx: usize, item: &Item) -> Insert {
    Insert::new(
        "document_item",
        vec![
            ("item_id", text(item.id.as_str())),
            ("document_id", text(document.id.as_str())),
            ("tenant_id", text(lock.tenant_id().as_str())),
            ("idx", small(idx)),
            ("kind", text(item.kind.name())),
            ("parent_item_id", opt(item.parent_item_id.as_ref())),
            ("description", text(&item.description)),
            ("quantity", Value::Decimal(item.quantity)),
            ("unit_price", Value::Decimal(item.unit_price)),
            ("tax_rate", Value::Decimal(item.tax_rate)),
            ("invoice_item_id", opt(item.invoice_item_id.as_ref())),
            ("amount_minor", Value::Int(item.amount.minor())),
            ("balance_minor", Value::Int(item.balance.minor())),
            ("created_at", Value::Instant(lock.now())),
        ],
    )
}

/// Writes a document's status and balance, and moves its own group balance by as much as its
/// balance moved (the right side of `set` reads the row as it was).
pub fn update_document(lock: &CustomerLock, document: &Document) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update document set status = ?3, balance_minor = ?4, open_item_count = ?5, \
              group_balance_minor = group_balance_minor + (?4 - balance_minor) \
              where tenant_id = ?1 and document_id = ?2",
        ),
        args: vec![
            text(lock.tenant_id().as_str()),
            text(document.id.as_str()),
            text(document.status.name()),
            Value::Int(document.balance().minor()),
            small(document.open_item_count()),
        ],
    }
}

/// Moves the group balance kept on `original` by as much as `member`'s balance moves from
/// its stored one to its balance now; writes nothing when it does not move. Runs before the
/// member's own update, whose stored balance it reads.
pub fn move_group_balance(
    lock: &CustomerLock,
    original: &settle_core::ids::DocumentId,
    member: &Document,
) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update document set group_balance_minor = group_balance_minor + (?4 - \
              (select m.balance_minor from document m where m.tenant_id = ?1 and m.document_id = ?3)) \
              where tenant_id = ?1 and document_id = ?2 and ?4 <> \
              (select m.balance_minor from document m where m.tenant_id = ?1 and m.document_id = ?3)",
        ),
        args: vec![
            text(lock.tenant_id().as_str()),
            text(original.as_str()),
            text(member.id.as_str()),
            Value::Int(member.balance().minor()),
        ],
    }
}

/// Writes an item's balance and credited amount; an unchanged item matches no row, so nothing
/// is written for it.
pub fn update_item(item: &Item) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update document_item set balance_minor = ?2, credited_minor = ?3 \
              where item_id = ?1 and (balance_minor <> ?2 or credited_minor <> ?3)",
        ),
        args: vec![
            text(item.id.as_str()),
            Value::Int(item.balance.minor()),
            Value::Int(item.credited.minor()),
        ],
    }
}

/// Adds `delta` to the group balance kept on an invoice group's original.
pub fn add_group_balance(document_id: &str, delta: i64) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update document set group_balance_minor = group_balance_minor + ?2 \
              where document_id = ?1",
        ),
        args: vec![text(document_id), Value::Int(delta)],
    }
}

/// Stores a new payment.
pub fn insert_payment(lock: &CustomerLock, payment: &Payment) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into payment (payment_id, tenant_id, customer_id, amount_minor, currency, \
              unapplied_minor, method, reference, status, effective_date, created_at) \
              values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        ),
        args: vec![
            text(payment.id.as_str()),
            text(lock.tenant_id().as_str()),
            text(payment.customer_id.as_str()),
            Value::Int(payment.amount.minor()),
            text(payment.amount.currency().code()),
            Value::Int(payment.unapplied.minor()),
            text(payment.method.name()),
            opt(payment.reference.as_ref()),
            text(payment.status.name()),
            Value::Date(payment.effective_date),
            Value::Instant(lock.now()),
        ],
    }
}

/// Writes a payment's status, unapplied and refunded amounts.
pub fn update_payment(lock: &CustomerLock, payment: &Payment) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update payment set status = ?3, unapplied_minor = ?4, refunded_minor = ?5 \
              where tenant_id = ?1 and payment_id = ?2",
        ),
        args: vec![
            text(lock.tenant_id().as_str()),
            text(payment.id.as_str()),
            text(payment.status.name()),
            Value::Int(payment.unapplied.minor()),
            Value::Int(payment.refunded.minor()),
        ],
    }
}

/// Stores a new application's row (its items are [`insert_application_item`]s).
pub fn insert_application(lock: &CustomerLock, application: &Application) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into application (application_id, tenant_id, customer_id, source_type, \
              source_id, target_id, rule, currency, effective_date, created_at) \
              values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        ),
        args: vec![
            text(application.id.as_str()),
            text(lock.tenant_id().as_str()),
            text(application.customer_id.as_str()),
            text(application.source.type_name()),
            opt(application.source.id()),
            text(application.target_id.as_str()),
            opt(application.rule.map(Rule::name)),
            text(application.currency.code()),
            Value::Date(application.effective_date),
            Value::Instant(lock.now()),
        ],
    }
}

/// Stores item `idx` of a new application.
pub fn insert_application_item(
    lock: &CustomerLock,
    application: &Application,
    idx: usize,
) -> Insert {
    let item = &application.items[idx];
    Insert::new(
        "application_item",
        vec![
            ("application_id", text(application.id.as_str())),
            ("idx", small(idx)),
            ("tenant_id", text(lock.tenant_id().as_str())),
            ("item_id", text(item.item_id.as_str())),
            ("credit_memo_item_id", opt(item.credit_memo_item_id.as_ref())),
            ("amount_minor", Value::Int(item.amount.minor())),
            ("net_minor", Value::Int(item.net.minor())),
            ("created_at", Value::Instant(lock.now())),
        ],
    )
}

/// Writes what is still applied on item `idx` of an application.
pub fn update_application_item(application: &Application, idx: usize) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "update application_item set net_minor = ?3 where application_id = ?1 and idx = ?2",
        ),
        args: vec![
            text(application.id.as_str()),
            small(idx),
            Value::Int(application.items[idx].net.minor()),
        ],
    }
}

/// Stores an invoice item adjustment.
pub fn insert_adjustment(lock: &CustomerLock, adjustment: &Adjustment) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into adjustment (adjustment_id, tenant_id, customer_id, document_id, \
              item_id, type, amount_minor, currency, reason, effective_date, created_at) \
              values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        ),
        args: vec![
            text(adjustment.id.as_str()),
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            text(adjustment.document_id.as_str()),
            text(adjustment.item_id.as_str()),
            text(adjustment.kind.name()),
            Value::Int(adjustment.amount.minor()),
            text(adjustment.amount.currency().code()),
            text(&adjustment.reason),
            Value::Date(adjustment.effective_date),
            Value::Instant(lock.now()),
        ],
    }
}

/// Stores a refund.
pub fn insert_refund(lock: &CustomerLock, refund: &Refund) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into refund (refund_id, tenant_id, customer_id, source_type, source_id, \
              amount_minor, currency, method, reference, effective_date, created_at) \
              values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        ),
        args: vec![
            text(refund.id.as_str()),
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            text(refund.source_type),
            opt(refund.source_id.as_ref()),
            Value::Int(refund.amount.minor()),
            text(refund.amount.currency().code()),
            text(refund.method.name()),
            opt(refund.reference.as_ref()),
            Value::Date(refund.effective_date),
            Value::Instant(lock.now()),
        ],
    }
}

/// Appends a journal transaction's row (its postings are [`insert_posting`]s).
pub fn insert_txn(lock: &CustomerLock, txn: &JournalTxn, now: DateTime<Utc>) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into journal_txn (txn_id, tenant_id, customer_id, kind, effective_date, \
              description, subject_id, created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        ),
        args: vec![
            text(txn.id().as_str()),
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            text(txn.kind().name()),
            Value::Date(txn.effective_date()),
            text(txn.description()),
            opt(txn.subject_id()),
            Value::Instant(now),
        ],
    }
}

/// Appends posting `idx` of a journal transaction.
pub fn insert_posting(
    lock: &CustomerLock,
    txn: &JournalTxn,
    idx: usize,
    posting: &Posting,
    now: DateTime<Utc>,
) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into posting (txn_id, idx, tenant_id, customer_id, account, side, \
              amount_minor, currency, document_id, item_id, payment_id, application_id, \
              created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        ),
        args: vec![
            text(txn.id().as_str()),
            small(idx),
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            text(posting.account.name()),
            text(posting.side.name()),
            Value::Int(posting.amount.minor()),
            text(posting.amount.currency().code()),
            opt(posting.document_id.as_ref()),
            opt(posting.item_id.as_ref()),
            opt(posting.payment_id.as_ref()),
            opt(posting.application_id.as_ref()),
            Value::Instant(now),
        ],
    }
}

/// Appends a billing-history line.
pub fn insert_history(lock: &CustomerLock, line: &HistoryLine) -> Statement {
    Statement {
        sql: std::borrow::Cow::Borrowed(
            "insert into history (history_id, tenant_id, customer_id, effective_date, kind, \
              description, amount_minor, balance_after_minor, currency, document_id, created_at) \
              values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        ),
        args: vec![
            text(line.id.as_str()),
            text(lock.tenant_id().as_str()),
            text(lock.customer_id().as_str()),
            Value::Date(line.effective_date),
            text(&line.kind),
            text(&line.description),
            Value::Int(line.amount.minor()),
            Value::Int(line.balance_after.minor()),
            text(line.amount.currency().code()),
            opt(line.document_id.as_ref()),
            Value::Instant(lock.now()),
        ],
    }
}
