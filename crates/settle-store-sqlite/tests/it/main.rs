//! The SQLite store against a real file: durability across a restart, journal immutability
//! enforced by the database, rollback of unfinished transactions, repeatable migrations.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use settle_core::document::DocumentKind;
use settle_core::ids::{IdGen, TenantId};
use settle_core::payment::PaymentMethod;
use settle_engine::{
    ApplicationTarget, Clock, Engine, NewCustomer, NewDocument, NewItem, NewPayment,
};
use settle_store::{Store, StoreError};
use settle_store_sqlite::{Durability, SqliteStore};

struct PinnedClock;

impl Clock for PinnedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("time")
    }
}

struct CountingIds(AtomicU64);

impl IdGen for CountingIds {
    fn suffix(&self) -> String {
        format!("{:08}", self.0.fetch_add(1, Ordering::Relaxed))
    }
}

fn engine(path: &Path, first_id: u64) -> Engine {
    let store = SqliteStore::open(path, Durability::Full).expect("open");
    store.integrity_check().expect("integrity");
    Engine::new(
        Arc::new(store),
        Arc::new(PinnedClock),
        Arc::new(CountingIds(AtomicU64::new(first_id))),
    )
}

/// A customer owing 120.00 against a 100.00 payment applied in full: balance −20.00.
fn workload(engine: &Engine) -> (TenantId, settle_core::ids::CustomerId) {
    let tenant = engine.create_tenant("Store test").expect("tenant").tenant_id;
    let customer = engine
        .create_customer(&tenant, NewCustomer { name: "Durable".into(), ..NewCustomer::default() })
        .expect("customer");
    let invoice = engine
        .create_document(
            &tenant,
            NewDocument {
                kind: DocumentKind::Invoice,
                customer_id: customer.id.clone(),
                items: vec![NewItem {
                    description: "Work".into(),
                    amount: Some("120.00".into()),
                    ..NewItem::default()
                }],
                invoice_date: None,
                due_date: None,
                adjusts_invoice_id: None,
                reason: None,
                post: true,
            },
        )
        .expect("invoice");
    engine
        .record_payment(
            &tenant,
            NewPayment {
                customer_id: customer.id.clone(),
                amount: "100.00".into(),
                method: PaymentMethod::Ach,
                reference: Some("wire 7".into()),
                effective_date: None,
                applications: vec![ApplicationTarget {
                    target_id: invoice.id,
                    amount: Some("100.00".into()),
                    items: None,
                    rule: None,
                }],
                description: None,
            },
        )
        .expect("payment");
    (tenant, customer.id)
}

#[test]
fn committed_writes_survive_a_restart_and_replay_exactly() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    let (tenant, customer) = workload(&engine(&path, 1));
    // A new process: the store is opened again from the file.
    let reopened = engine(&path, 1_000);
    let got = reopened.customer(&tenant, &customer).expect("customer");
    assert_eq!(got.balances.receivable, 2_000);
    assert_eq!(got.balances.unapplied_payments, 0);
    assert_eq!(got.balances.balance(), -2_000);
    let report = reopened.verify().expect("verify");
    assert!(report.is_clean(), "{:#?}", report.differences);
    assert_eq!(report.transactions, 3);
}

#[test]
fn the_database_refuses_to_change_or_delete_journal_rows() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    workload(&engine(&path, 1));
    let conn = rusqlite::Connection::open(&path).expect("open");
    for sql in [
        "update posting set amount_minor = amount_minor + 1",
        "delete from posting",
        "update journal_txn set description = 'edited'",
        "delete from journal_txn",
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("journal rows are immutable"), "{sql}: {err}");
    }
    let postings: i64 =
        conn.query_row("select count(*) from posting", [], |r| r.get(0)).expect("count");
    assert_eq!(postings, 6);
}

#[test]
fn a_transaction_dropped_without_commit_leaves_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    let store = SqliteStore::open(&path, Durability::Full).expect("open");
    {
        let mut tx = store.begin_write().expect("begin");
        let tenant = TenantId::parse("ten_dropped").expect("id");
        tx.insert_tenant(&tenant, "Dropped", PinnedClock.now()).expect("insert");
    }
    let mut tx = store.begin_read().expect("read");
    assert!(tx.tenants().expect("tenants").is_empty());
}

#[test]
fn the_database_refuses_an_item_balance_past_zero() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    workload(&engine(&path, 1));
    let conn = rusqlite::Connection::open(&path).expect("open");
    let err = conn
        .execute("update document_item set balance_minor = -1 where amount_minor > 0", [])
        .expect_err("check constraint");
    assert!(err.to_string().contains("CHECK"), "{err}");
}

#[test]
fn opening_twice_runs_migrations_once_and_a_bad_file_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    drop(SqliteStore::open(&path, Durability::Full).expect("first"));
    drop(SqliteStore::open(&path, Durability::Normal).expect("second"));
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database, just text that is long enough").expect("write");
    assert!(matches!(SqliteStore::open(&junk, Durability::Full), Err(StoreError::Unavailable(_))));
}
