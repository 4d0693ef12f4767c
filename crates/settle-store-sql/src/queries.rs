//! The read statements both stores run: single records by id and the lists whose filters are
//! the same text in both dialects. Like [`statements`](crate::statements), the text uses `?N`.

use std::borrow::Cow;

use chrono::NaiveDate;
use settle_core::document::{DocumentKind, DocumentStatus};
use settle_core::ids::CustomerId;
use settle_store::{ApplicationQuery, DocumentQuery, PageRequest, PaymentQuery, StoreResult};

use crate::page::{SeqOrder, balance_filter_sql, fetch_limit, seq_cursor};
use crate::records::{
    APPLICATION_COLUMNS, CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, HISTORY_COLUMNS, PAYMENT_COLUMNS,
};
use crate::statements::{Statement, Value};

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// A record of `table` by tenant and id, reading `columns`.
fn by_id(columns: &str, table: &str, key: &str, tenant_id: &str, id: &str) -> Statement {
    Statement {
        sql: Cow::Owned(format!(
            "select {columns} from {table} where tenant_id = ?1 and {key} = ?2"
        )),
        args: vec![text(tenant_id), text(id)],
    }
}

/// A tenant's settings; auto-apply as 0 or 1 (a boolean in PostgreSQL, an integer in SQLite).
pub fn settings(tenant_id: &str) -> Statement {
    Statement {
        sql: "select default_currency, time_zone, application_rule, negative_invoice_policy, \
              cast(case when auto_apply_credit then 1 else 0 end as bigint), business_name \
              from tenant where tenant_id = ?1"
            .into(),
        args: vec![text(tenant_id)],
    }
}

/// The response saved under an idempotency key.
pub fn idempotency(tenant_id: &str, key: &str) -> Statement {
    Statement {
        sql: "select request_hash, status, body, created_at from idempotency_key \
              where tenant_id = ?1 and idempotency_key = ?2"
            .into(),
        args: vec![text(tenant_id), text(key)],
    }
}

/// A customer by id.
pub fn customer(tenant_id: &str, customer_id: &str) -> Statement {
    by_id(CUSTOMER_COLUMNS, "customer", "customer_id", tenant_id, customer_id)
}

/// The tenant's customers among `ids`, by id. A PostgreSQL batch locks them with it.
/// `tenant_column` is how the filter names `tenant_id`: SQLite's planner, given a plain
/// `tenant_id`, reads every customer of the tenant through an index led by it and checks
/// each against the list; SQLite's adapter writes `+tenant_id` so that the list's ids are
/// looked up instead.
pub fn customers_by_ids(tenant_column: &str, tenant_id: &str, ids: &[CustomerId]) -> Statement {
    Statement {
        sql: format!(
            "select {CUSTOMER_COLUMNS} from customer where {tenant_column} = ?1 \
             and customer_id in ?2 order by customer_id"
        )
        .into(),
        args: vec![
            Value::Text(tenant_id.to_owned()),
            Value::TextList(ids.iter().map(ToString::to_string).collect()),
        ],
    }
}

/// A document by id.
pub fn document(tenant_id: &str, document_id: &str) -> Statement {
    by_id(DOCUMENT_COLUMNS, "document", "document_id", tenant_id, document_id)
}

/// The document an item belongs to.
pub fn item_document(tenant_id: &str, item_id: &str) -> Statement {
    by_id("document_id", "document_item", "item_id", tenant_id, item_id)
}

/// A payment by id.
pub fn payment(tenant_id: &str, payment_id: &str) -> Statement {
    by_id(PAYMENT_COLUMNS, "payment", "payment_id", tenant_id, payment_id)
}

/// An application by id.
pub fn application(tenant_id: &str, application_id: &str) -> Statement {
    by_id(APPLICATION_COLUMNS, "application", "application_id", tenant_id, application_id)
}

/// A list statement being assembled from optional filters.
struct List {
    sql: String,
    args: Vec<Value>,
}

impl List {
    fn new(columns: &str, table: &str, tenant_id: &str) -> List {
        List {
            sql: format!("select {columns} from {table} where tenant_id = ?1"),
            args: vec![text(tenant_id)],
        }
    }

    /// The next placeholder, for `value`.
    fn mark(&mut self, value: Value) -> String {
        self.args.push(value);
        format!("?{}", self.args.len())
    }

    fn filter(&mut self, column: &str, value: &str) {
        let mark = self.mark(text(value));
        self.sql.push_str(&format!(" and {column} = {mark}"));
    }

    /// Ends a list ordered by `seq`: resumes after the cursor's row and asks for one row more
    /// than the page (so [`paginate`](crate::paginate) knows whether another page follows).
    fn seq_page(mut self, page: &PageRequest, order: SeqOrder) -> StoreResult<Statement> {
        let (after, direction) = order.after_and_direction();
        if let Some(seq) = seq_cursor(page)? {
            let mark = self.mark(Value::Int(seq));
            self.sql.push_str(&format!(" and seq {after} {mark}"));
        }
        let mark = self.mark(Value::Int(fetch_limit(page)));
        self.sql.push_str(&format!(" order by seq {direction} limit {mark}"));
        Ok(Statement { sql: Cow::Owned(self.sql), args: self.args })
    }
}

/// A page of documents, newest first.
pub fn documents(
    tenant_id: &str,
    query: &DocumentQuery,
    page: &PageRequest,
) -> StoreResult<Statement> {
    let mut list = List::new(DOCUMENT_COLUMNS, "document", tenant_id);
    if !query.kinds.is_empty() {
        let marks: Vec<String> = query.kinds.iter().map(|k| list.mark(text(k.name()))).collect();
        list.sql.push_str(&format!(" and kind in ({})", marks.join(", ")));
    }
    if let Some(customer_id) = &query.customer_id {
        list.filter("customer_id", customer_id.as_str());
    }
    if let Some(status) = query.status {
        list.filter("status", status.name());
    }
    list.sql.push_str(balance_filter_sql(query.balance));
    list.seq_page(page, SeqOrder::NewestFirst)
}

/// A page of payments, newest first.
pub fn payments(
    tenant_id: &str,
    query: &PaymentQuery,
    page: &PageRequest,
) -> StoreResult<Statement> {
    let mut list = List::new(PAYMENT_COLUMNS, "payment", tenant_id);
    if let Some(customer_id) = &query.customer_id {
        list.filter("customer_id", customer_id.as_str());
    }
    if query.unapplied_only {
        list.sql.push_str(" and unapplied_minor <> 0 and status = 'posted'");
    }
    list.seq_page(page, SeqOrder::NewestFirst)
}

/// A page of applications, newest first.
pub fn applications(
    tenant_id: &str,
    query: &ApplicationQuery,
    page: &PageRequest,
) -> StoreResult<Statement> {
    let mut list = List::new(APPLICATION_COLUMNS, "application", tenant_id);
    if let Some(customer_id) = &query.customer_id {
        list.filter("customer_id", customer_id.as_str());
    }
    if let Some(source_id) = &query.source_id {
        list.filter("source_id", source_id);
    }
    if let Some(target_id) = &query.target_id {
        list.filter("target_id", target_id.as_str());
    }
    list.seq_page(page, SeqOrder::NewestFirst)
}

/// A page of a customer's history, newest first.
pub fn history(tenant_id: &str, customer_id: &str, page: &PageRequest) -> StoreResult<Statement> {
    let mut list = List::new(HISTORY_COLUMNS, "history", tenant_id);
    list.filter("customer_id", customer_id);
    list.seq_page(page, SeqOrder::NewestFirst)
}

/// Which documents of Attention a statement reads.
#[derive(Debug, Clone, Copy)]
pub enum AttentionList {
    /// Posted, balance below zero.
    Negative,
    /// Posted, balance zero while an item is not.
    Stuck,
    /// Drafts dated before the day.
    OldDrafts(NaiveDate),
}

/// The receivable documents of tenant `?1`: invoices and debit memos (`?2`, `?3`) with
/// status `?4`. Every Attention statement starts with it.
fn receivable_args(tenant_id: &str, status: DocumentStatus) -> Vec<Value> {
    vec![
        text(tenant_id),
        text(DocumentKind::Invoice.name()),
        text(DocumentKind::DebitMemo.name()),
        text(status.name()),
    ]
}

const RECEIVABLE: &str = "tenant_id = ?1 and kind in (?2, ?3) and status = ?4";

/// One list of Attention's documents, newest first.
pub fn attention_documents(tenant_id: &str, list: AttentionList) -> Statement {
    let (status, condition) = match list {
        AttentionList::Negative => (DocumentStatus::Posted, "balance_minor < 0"),
        AttentionList::Stuck => {
            (DocumentStatus::Posted, "balance_minor = 0 and open_item_count > 0")
        }
        AttentionList::OldDrafts(_) => (DocumentStatus::Draft, "invoice_date < ?5"),
    };
    let mut args = receivable_args(tenant_id, status);
    if let AttentionList::OldDrafts(day) = list {
        args.push(Value::Date(day));
    }
    Statement {
        sql: Cow::Owned(format!(
            "select {DOCUMENT_COLUMNS} from document where {RECEIVABLE} and {condition} \
             order by seq desc"
        )),
        args,
    }
}

/// Customers with available credit while a posted receivable document of theirs is owed,
/// newest first.
pub fn idle_credit(tenant_id: &str) -> Statement {
    Statement {
        sql: Cow::Owned(format!(
            "select {CUSTOMER_COLUMNS} from customer where tenant_id = ?1 \
             and unapplied_payments_minor + credit_memo_balance_minor + credit_balance_minor > 0 \
             and customer_id in (select customer_id from document where {RECEIVABLE} \
             and balance_minor > 0) order by seq desc"
        )),
        args: receivable_args(tenant_id, DocumentStatus::Posted),
    }
}

/// Customers with a negative posted receivable document and a positive one, by id.
pub fn owing(tenant_id: &str) -> Statement {
    Statement {
        sql: Cow::Owned(format!(
            "select distinct customer_id from document where {RECEIVABLE} and balance_minor > 0 \
             and customer_id in (select customer_id from document where {RECEIVABLE} \
             and balance_minor < 0) order by customer_id"
        )),
        args: receivable_args(tenant_id, DocumentStatus::Posted),
    }
}
