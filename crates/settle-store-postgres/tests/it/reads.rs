//! Reading a customer or a document is one round trip: `BEGIN`, the read's statements and
//! `COMMIT` go in one flight. A second flight in such a transaction is refused, and the
//! connection goes back to the pool with no transaction open.

use std::sync::Arc;

use settle_conformance as conformance;
use settle_store::Store;

use super::{Counted, TestDb};

#[test]
fn a_customer_or_document_read_is_one_round_trip_and_leaves_nothing_open() {
    let Some(db) = TestDb::new("a_customer_or_document_read_is_one_round_trip") else {
        return;
    };
    // One connection: whatever a read leaves open, the next transaction meets.
    let Counted { store, engine, tenant, customer, key } = db.counted("Reads", "Read");
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
    // The request's API key is confirmed in that same flight.
    assert!(engine.authenticate(&key).expect("authenticate").is_some());
    let read = |check: &Arc<_>| {
        let confirming = engine.confirming(Arc::clone(check));
        confirming.customer(&tenant, &customer)
    };
    read(&engine.recall_key(&key).expect("remembered")).expect("warm-up");
    let check = engine.recall_key(&key).expect("remembered");
    let before = store.round_trips();
    let read = read(&check).expect("read");
    assert_eq!(store.round_trips() - before, 1, "reading a customer, with the key confirmed");
    assert!(check.is_confirmed());
    assert_eq!(read.balances.receivable, 6_000);

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

/// A payment of 10.00 from `customer` applied to each of `targets` in turn, 10.00 in all.
fn payment(
    customer: &settle_core::ids::CustomerId,
    targets: &[(&settle_core::ids::DocumentId, &str)],
) -> settle_engine::NewPayment {
    conformance::applied_payment(customer, "10.00", targets)
}

/// A payment's targets are read with the customer's lock, in the unit's opening flight: paying
/// one invoice is two round trips. What was read ahead serves only a document's first read and
/// is forgotten once a document is written, so a payment applied to two invoices, or twice to
/// one, leaves each with the balance the applications say.
#[test]
fn a_payment_reads_its_targets_with_the_lock_and_never_a_stale_one() {
    let Some(db) = TestDb::new("a_payment_reads_its_targets_with_the_lock") else {
        return;
    };
    let Counted { store, engine, tenant, customer, .. } = db.counted("Paid", "Payer");
    let post =
        || engine.create_document(&tenant, super::three_line_invoice(&customer)).expect("post");
    let (warm, first, second) = (post(), post(), post());
    engine.record_payment(&tenant, payment(&customer, &[(&warm.id, "10.00")])).expect("warm-up");

    let before = store.round_trips();
    engine.record_payment(&tenant, payment(&customer, &[(&first.id, "10.00")])).expect("pay");
    // BEGIN with the lock, the settings and the invoice; the writes with COMMIT.
    assert_eq!(store.round_trips() - before, 2, "paying one invoice");

    let both = [(&first.id, "4.00"), (&second.id, "6.00")];
    engine.record_payment(&tenant, payment(&customer, &both)).expect("two invoices");
    let twice = [(&second.id, "3.00"), (&second.id, "7.00")];
    engine.record_payment(&tenant, payment(&customer, &twice)).expect("one invoice twice");
    let balance = |id| engine.document(&tenant, id).expect("read").balance().minor();
    assert_eq!(
        (balance(&warm.id), balance(&first.id), balance(&second.id)),
        (5_000, 4_600, 4_400),
        "60.00 each: 10.00 paid; 10.00 + 4.00; 6.00 + 3.00 + 7.00"
    );
    assert_eq!(engine.customer(&tenant, &customer).expect("read").balances.receivable, 14_000);

    // Paying an adjustment invoice moves its original's group balance: the original, read
    // ahead, is read again after that write.
    let adjustment = settle_engine::NewDocument {
        items: vec![settle_engine::NewItem {
            description: "More work".into(),
            amount: Some(settle_engine::Amount::parse("10.00").expect("amount")),
            ..settle_engine::NewItem::default()
        }],
        adjusts_invoice_id: Some(warm.id.clone()),
        ..super::three_line_invoice(&customer)
    };
    let adjustment = engine.create_document(&tenant, adjustment).expect("adjustment");
    let group = [(&adjustment.id, "5.00"), (&warm.id, "5.00")];
    let paid = engine.record_payment(&tenant, payment(&customer, &group)).expect("group");
    assert!(paid.unapplied.is_zero());
    let original = engine.document(&tenant, &warm.id).expect("read");
    let added = engine.document(&tenant, &adjustment.id).expect("read");
    assert_eq!(
        (original.balance().minor(), added.balance().minor(), original.group_balance.minor()),
        (4_500, 500, 5_000),
        "60.00 − 10.00 − 5.00; 10.00 − 5.00; the group's 50.00 + 10.00 − 10.00"
    );
}
