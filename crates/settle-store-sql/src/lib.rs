//! What the SQL stores share and no database driver needs to know: the columns each list
//! reads, keyset paging and cursors, `LIKE` patterns, and the mapping of rows to domain
//! records over the small [`Row`] trait each adapter implements for its driver's row.
//!
//! What really differs between SQLite and PostgreSQL stays in the adapters: connections,
//! placeholders (`?N`, `$N`), parameter types (dates and timestamps as text or as SQL types,
//! `numeric` casts), locking, exact sums and migrations.

#![warn(missing_docs)]

pub mod billing;
mod billing_macros;
pub mod imports;
mod page;
pub mod queries;
mod records;
mod row;
pub mod search;
pub mod staff;
pub mod statements;
mod writes;

pub use page::{
    CustomerOrder, SeqOrder, SortValue, balance_filter_sql, customer_cursor, customer_order,
    fetch_limit, like_pattern, paginate, seq_cursor, split_customer_cursor,
};
pub use records::{
    APPLICATION_COLUMNS, CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, HISTORY_COLUMNS, JOURNAL_COLUMNS,
    PAYMENT_COLUMNS, POSTING_COLUMNS, TxnHead, account_total, api_key, application,
    application_item, attach_application_items, attach_groups, attach_items, customer, document,
    group_roots, history_line, idempotency_record, item, payment, posting, settings, stored_txns,
    txn_head,
};
pub use row::{Row, bad};
pub use statements::{Insert, Statement, Value};

#[cfg(test)]
mod tests;
