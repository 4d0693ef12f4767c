//! Held single-row inserts go out merged into multi-row inserts: a flight of many rows sends
//! few statements, and a merged insert that fails still fails the commit with nothing written.

use std::sync::Arc;

use settle_conformance as conformance;
use settle_store::{CustomerQuery, PageRequest, Store, StoreError};
use settle_store_postgres::PostgresStore;

use super::{TestDb, customer, subscribers};

/// A bill run's batch sends its invoices' inserts table by table, a few multi-row statements
/// each, so each further customer adds only the writes that cannot merge (its account totals,
/// its subscription and its balances), not one statement per row.
#[test]
fn a_batch_of_many_invoices_sends_its_inserts_as_a_few_multi_row_statements() {
    let Some(db) = TestDb::new("a_batch_of_many_invoices_sends_its_inserts_as_a_few") else {
        return;
    };
    let store = Arc::new(db.open());
    let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
    let mut sent = Vec::new();
    for (name, customers) in [("Warm-up", 3), ("Three", 3), ("Nine", 9)] {
        let tenant = subscribers(&engine, name, customers);
        let jan_1 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
        let before = store.statements_sent();
        let run = engine.bill_run(&tenant, jan_1, None).expect("bill run");
        sent.push(store.statements_sent() - before);
        assert_eq!(run.invoices_created, u32::try_from(customers).expect("few"));
    }
    let more = sent[2] - sent[1];
    println!("a bill run of 3 and of 9 customers: {:?} statements sent", &sent[1..]);
    // Each invoice holds 12 writes; one per row made 72 more statements for 6 more customers.
    assert!(more <= 6 * 5, "6 more customers sent {more} more statements: {sent:?}");
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
    // BEGIN, the 8 rows, COMMIT and the ROLLBACK that ends the failed transaction: a statement
    // per row would be 11.
    assert!(sent <= 4, "{sent} statements for 8 held inserts");
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
