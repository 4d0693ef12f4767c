//! Held single-row writes go out merged into multi-row statements: a flight of many rows sends
//! few statements, and a merged insert that fails still fails the commit with nothing written.
//! A batch sends its writes ahead, and an error among them still fails its commit.

use std::sync::Arc;

use settle_conformance as conformance;
use settle_store::{CustomerQuery, PageRequest, Store, StoreError};
use settle_store_postgres::PostgresStore;

use super::{TestDb, customer, subscribers};

/// The statements sent by a bill run of each of `sizes` customers (each a tenant of its own),
/// after a warm-up run of the first size has prepared what the runs prepare.
fn statements_per_bill_run(db: &TestDb, sizes: [usize; 2]) -> [u64; 2] {
    let store = Arc::new(db.open());
    let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
    let mut sent = [0; 3];
    let runs = [("Warm-up", sizes[0]), ("Smaller", sizes[0]), ("Larger", sizes[1])];
    for (at, (name, customers)) in runs.into_iter().enumerate() {
        let tenant = subscribers(&engine, name, customers);
        let jan_1 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
        let before = store.statements_sent();
        let run = engine.bill_run(&tenant, jan_1, None).expect("bill run");
        sent[at] = store.statements_sent() - before;
        assert_eq!(run.invoices_created, u32::try_from(customers).expect("few"));
    }
    println!("bill runs of {sizes:?} customers: {:?} statements sent", &sent[1..]);
    [sent[1], sent[2]]
}

/// A bill run's batch sends its invoices' writes table by table, a few multi-row statements
/// each (inserts, the account totals' upserts, the subscriptions' and the balances' updates),
/// not one statement per row.
#[test]
fn a_batch_of_many_invoices_sends_its_inserts_as_a_few_multi_row_statements() {
    let Some(db) = TestDb::new("a_batch_of_many_invoices_sends_its_inserts_as_a_few") else {
        return;
    };
    let sent = statements_per_bill_run(&db, [3, 9]);
    let more = sent[1] - sent[0];
    // Each invoice holds 13 writes; one per row made 78 more statements for 6 more customers,
    // and merging only the inserts about 25.
    assert!(more <= 6, "6 more customers sent {more} more statements: {sent:?}");
}

/// A batch sends its held writes ahead once every text held has 32 rows: 32 customers, whose
/// rows of each text go as one statement of 32. (Sent every 384 held statements instead, at
/// 13 statements per invoice a flight held about 29 customers, whose rows of each text went as
/// several statements: 32 more customers cost 62 statements.)
#[test]
fn a_batch_sends_ahead_every_32_customers_as_one_statement_per_table() {
    let Some(db) = TestDb::new("a_batch_sends_ahead_every_32_customers") else {
        return;
    };
    let sent = statements_per_bill_run(&db, [32, 64]);
    let more = sent[1] - sent[0];
    // An invoice holds 13 writes of 11 texts (two postings and two account totals): 32 more
    // customers add one flight of 9 statements of 32 rows and 4 of 32 rows twice over.
    assert!(more <= 13, "32 more customers sent {more} more statements: {sent:?}");
}

/// A merged insert that breaks a key fails the commit, and none of its rows, nor anything else
/// of the transaction, is written.
#[test]
fn a_merged_insert_that_breaks_a_key_fails_the_commit_and_writes_nothing() {
    let Some(db) = TestDb::new("a_merged_insert_that_breaks_a_key_fails_the_commit") else {
        return;
    };
    let store: PostgresStore = db.open();
    let tenant = super::seed(&store, &[]);
    let mut tx = store.begin_write().expect("begin");
    let first_sent = store.statements_sent();
    for n in 0..7 {
        tx.insert_customer(&tenant, &customer(&format!("cus_{n}"), "Held", 0)).expect("held");
    }
    // The same id again: the eighth row of the one insert that carries its twin too.
    tx.insert_customer(&tenant, &customer("cus_3", "Twin", 0)).expect("held");
    let err = tx.commit().expect_err("a key broken");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let sent = store.statements_sent() - first_sent;
    // BEGIN, the 8 rows, their 8 rows of `customer_search` (the first 7 as 4, 2 and 1 rows;
    // the twin's alone, as its key is taken), their 8 rows of `customer_balance_key` (one
    // insert, as the customers'), COMMIT and the ROLLBACK that ends the failed transaction: a
    // statement per row would be 27.
    assert!(sent <= 9, "{sent} statements for 24 held writes");
    let mut read = store.begin_read().expect("read");
    let page = PageRequest { limit: 100, cursor: None };
    let customers = read.customers(&tenant, &CustomerQuery::default(), &page).expect("list");
    assert!(customers.rows.is_empty(), "{:?}", customers.rows);
    // The connection is clean: the next transaction writes and commits.
    let mut tx = store.begin_write().expect("begin");
    for n in 0..10 {
        tx.insert_customer(&tenant, &customer(&format!("cus_{n}"), "Kept", 0)).expect("held");
    }
    tx.commit().expect("commit");
    let mut read = store.begin_read().expect("read");
    let customers = read.customers(&tenant, &CustomerQuery::default(), &page).expect("list");
    assert_eq!(customers.rows.len(), 10);
}

/// A batch's transaction sends its held writes ahead, before its commit; one that fails there
/// fails the commit and nothing is written. Other transactions hold their writes until they
/// must send them.
#[test]
fn a_batch_sends_its_writes_ahead_and_an_error_among_them_fails_the_commit() {
    let Some(db) = TestDb::new("a_batch_sends_its_writes_ahead_and_an_error") else {
        return;
    };
    let store: PostgresStore = db.open();
    let tenant = super::seed(&store, &[]);
    let id = |n: usize| settle_core::ids::CustomerId::parse(&format!("cus_{n}")).expect("an id");
    let exists = |n: usize| {
        let mut read = store.begin_read().expect("read");
        read.customer(&tenant, &id(n)).expect("read").is_some()
    };

    let mut tx = store.begin_write().expect("begin");
    let mut before = store.round_trips();
    for n in 0..1_000 {
        tx.insert_customer(&tenant, &customer(&format!("cus_{n}"), "Held", 0)).expect("held");
        if n == 0 {
            // The first prepared the statement.
            before = store.round_trips();
        }
    }
    assert_eq!(store.round_trips(), before, "a command's writes wait for its commit");
    tx.commit().expect("commit");
    assert!(exists(0) && exists(999));

    let mut tx = store.begin_batch_write().expect("begin");
    let before = store.round_trips();
    for n in 1_000..2_000 {
        tx.insert_customer(&tenant, &customer(&format!("cus_{n}"), "Ahead", 0)).expect("held");
    }
    assert!(store.round_trips() - before >= 2, "a batch sends its writes ahead");
    tx.commit().expect("commit");
    assert!(exists(1_000) && exists(1_999));

    // cus_5 again, among the first writes sent ahead: a later call or the commit says so.
    let mut tx = store.begin_batch_write().expect("begin");
    let mut refused = None;
    for n in (2_000..3_000).chain([5]).chain(3_000..4_000) {
        let held = tx.insert_customer(&tenant, &customer(&format!("cus_{n}"), "Twin", 0));
        refused = refused.or(held.err());
    }
    let refused = refused.map_or_else(|| tx.commit(), Err).expect_err("a key broken");
    assert!(matches!(refused, StoreError::Conflict { .. }), "{refused:?}");
    assert!(!exists(2_000) && !exists(3_999), "nothing of the batch is written");
}
