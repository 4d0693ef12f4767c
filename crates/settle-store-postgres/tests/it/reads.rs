//! Reading a customer or a document is one round trip: `BEGIN`, the read's statements and
//! `COMMIT` go in one flight. A second flight in such a transaction is refused, and the
//! connection goes back to the pool with no transaction open.

use std::sync::Arc;

use settle_conformance as conformance;
use settle_store::Store;
use settle_store_postgres::PostgresStore;

use super::TestDb;

#[test]
fn a_customer_or_document_read_is_one_round_trip_and_leaves_nothing_open() {
    let Some(db) = TestDb::new("a_customer_or_document_read_is_one_round_trip") else {
        return;
    };
    let sep = if db.url.contains('?') { '&' } else { '?' };
    // One connection: whatever a read leaves open, the next transaction meets.
    let store =
        Arc::new(PostgresStore::open(&format!("{}{sep}pool_size=1", db.url)).expect("open"));
    let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
    let tenant = engine.create_tenant("Reads").expect("tenant").tenant_id;
    let customer = engine
        .create_customer(
            &tenant,
            settle_engine::NewCustomer { name: "Read".into(), ..Default::default() },
        )
        .expect("customer")
        .id;
    let invoice =
        engine.create_document(&tenant, super::three_line_invoice(&customer)).expect("post");
    // Warm-up: each statement is prepared on the connection's first use of it.
    engine.customer(&tenant, &customer).expect("customer");
    engine.document(&tenant, &invoice.id).expect("document");

    let before = store.round_trips();
    let read = engine.customer(&tenant, &customer).expect("customer");
    assert_eq!(store.round_trips() - before, 1, "reading a customer");
    assert_eq!(read.balances.receivable, 6_000);
    let before = store.round_trips();
    let read = engine.document(&tenant, &invoice.id).expect("document");
    assert_eq!(store.round_trips() - before, 1, "reading a document with its items and group");
    assert_eq!(read, invoice);

    // A second flight would read another snapshot: refused, and the next transaction on the
    // same connection begins afresh.
    let mut tx = store.begin_read_flight().expect("one flight");
    assert!(tx.customer(&tenant, &customer).expect("first flight").is_some());
    assert!(tx.document(&tenant, &invoice.id).is_err(), "a second flight is refused");
    drop(tx);
    let mut tx = store.begin_write().expect("write");
    assert!(tx.customer(&tenant, &customer).expect("read").is_some());
    tx.commit().expect("commit");
    let open: i64 = postgres::Client::connect(&db.url, postgres::NoTls)
        .expect("connect")
        .query_one(
            "select count(*) from pg_stat_activity where datname = current_database() \
             and state like 'idle in transaction%'",
            &[],
        )
        .expect("activity")
        .get(0);
    assert_eq!(open, 0, "no connection is left inside a transaction");
    assert_eq!(engine.document(&tenant, &invoice.id).expect("document"), invoice);
}
