//! Group commit: write transactions that queue for the writer at the same time share one
//! SQLite transaction and one fsync, and a refused one rolls back alone.
//!
//! A first write transaction holds the writer while the others queue behind it; once every one
//! of them waits (`writers_waiting`, no clock involved), the first ends and the queue forms
//! groups whose sizes follow from the group limit alone.

use std::sync::Arc;

use settle_conformance as conformance;
use settle_core::document::DocumentKind;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId, TenantId};
use settle_core::payment::PaymentMethod;
use settle_engine::{
    Amount, ApplicationTarget, Engine, EngineError, NewCustomer, NewDocument, NewItem, NewPayment,
};
use settle_store::Store;
use settle_store_sqlite::{CommitGroups, Durability, SqliteStore};

const CUSTOMERS: usize = 6;

/// The customer whose payment is refused: it applies more than its invoice's open balance.
const REFUSED: usize = 3;

fn amount(text: &str) -> Amount {
    Amount::parse(text).expect("a decimal amount")
}

/// Returns once `n` write transactions wait for the writer.
fn until_waiting(store: &SqliteStore, n: usize) {
    while store.writers_waiting() < n {
        std::thread::yield_now();
    }
}

/// `CUSTOMERS` customers, each owing one posted 100.00 invoice.
fn customers_with_invoices(engine: &Engine) -> (TenantId, Vec<(CustomerId, DocumentId)>) {
    let tenant = engine.create_tenant("Group commit").expect("tenant").tenant_id;
    let owing = (0..CUSTOMERS)
        .map(|idx| {
            let name = format!("Customer {idx}");
            let customer = engine
                .create_customer(&tenant, NewCustomer { name, ..NewCustomer::default() })
                .expect("customer");
            let invoice = engine
                .create_document(
                    &tenant,
                    NewDocument {
                        kind: DocumentKind::Invoice,
                        customer_id: customer.id.clone(),
                        items: vec![NewItem {
                            description: "Work".into(),
                            amount: Some(amount("100.00")),
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
            (customer.id, invoice.id)
        })
        .collect();
    (tenant, owing)
}

fn pay(
    engine: &Engine,
    tenant: &TenantId,
    customer_id: &CustomerId,
    invoice_id: &DocumentId,
    applied: &str,
) -> Result<(), EngineError> {
    engine
        .record_payment(
            tenant,
            NewPayment {
                customer_id: customer_id.clone(),
                amount: amount(applied),
                method: PaymentMethod::Ach,
                reference: None,
                effective_date: None,
                applications: vec![ApplicationTarget {
                    target_id: invoice_id.clone(),
                    amount: Some(amount(applied)),
                    items: None,
                    rule: None,
                }],
                description: None,
            },
        )
        .map(|_| ())
}

fn since(before: CommitGroups, after: CommitGroups) -> (u64, u64) {
    (after.groups - before.groups, after.members - before.members)
}

#[test]
fn concurrent_payments_commit_together_and_a_refused_one_rolls_back_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let store =
        Arc::new(SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open"));
    let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
    let (tenant, owing) = customers_with_invoices(&engine);
    let before = store.commit_groups();
    let results = std::thread::scope(|s| {
        let first = store.begin_write().expect("begin");
        let payers: Vec<_> = owing
            .iter()
            .enumerate()
            .map(|(idx, (customer_id, invoice_id))| {
                let (engine, tenant) = (&engine, &tenant);
                let applied = if idx == REFUSED { "150.00" } else { "30.00" };
                s.spawn(move || pay(engine, tenant, customer_id, invoice_id, applied))
            })
            .collect();
        until_waiting(&store, CUSTOMERS);
        first.commit().expect("the first commits with the group");
        payers.into_iter().map(|payer| payer.join().expect("payer")).collect::<Vec<_>>()
    });
    for (idx, result) in results.iter().enumerate() {
        if idx == REFUSED {
            assert!(
                matches!(result, Err(EngineError::Rejected(Rejection::OverApplication { .. }))),
                "{result:?}"
            );
        } else {
            assert!(result.is_ok(), "{idx}: {result:?}");
        }
    }
    // One group: the first transaction and every payment, the refused one included.
    assert_eq!(since(before, store.commit_groups()), (1, 1 + CUSTOMERS as u64));
    assert_eq!(store.commit_groups().largest, 1 + CUSTOMERS as u64);
    let receivable: Vec<i64> = owing
        .iter()
        .map(|(customer_id, _)| {
            engine.customer(&tenant, customer_id).expect("customer").balances.receivable
        })
        .collect();
    assert_eq!(receivable, [7_000, 7_000, 7_000, 10_000, 7_000, 7_000]);
    let report = engine.verify().expect("verify");
    assert!(report.is_clean(), "{:#?}", report.differences);
    // Per customer: the invoice, and the payment with its application unless it was refused.
    assert_eq!(report.transactions, CUSTOMERS + 2 * (CUSTOMERS - 1));
}

#[test]
fn a_group_holds_at_most_its_limit_of_write_transactions() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full)
        .expect("open")
        .with_group_limit(2);
    let tenant = TenantId::parse("ten_limit").expect("id");
    let now = chrono::DateTime::UNIX_EPOCH;
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&tenant, "Limit", now).expect("tenant");
    tx.commit().expect("commit");
    let before = store.commit_groups();
    let numbers = std::thread::scope(|s| {
        let (store, tenant) = (&store, &tenant);
        let mut first = store.begin_write().expect("begin");
        let first_number = first.next_number(tenant, DocumentKind::Invoice, now).expect("number");
        let queued: Vec<_> = (0..5)
            .map(|_| {
                s.spawn(move || {
                    let mut tx = store.begin_write().expect("begin");
                    let n = tx.next_number(tenant, DocumentKind::Invoice, now).expect("number");
                    tx.commit().expect("commit");
                    n
                })
            })
            .collect();
        until_waiting(store, 5);
        first.commit().expect("commit");
        let mut numbers: Vec<u64> =
            queued.into_iter().map(|writer| writer.join().expect("writer")).collect();
        numbers.push(first_number);
        numbers.sort_unstable();
        numbers
    });
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    // Six transactions, at most two per group: three groups of two.
    assert_eq!(since(before, store.commit_groups()), (3, 6));
    assert_eq!(store.commit_groups().largest, 2);
}

#[test]
fn a_lone_writer_commits_at_once_in_a_group_of_its_own() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    let tenant = TenantId::parse("ten_alone").expect("id");
    let now = chrono::DateTime::UNIX_EPOCH;
    let before = store.commit_groups();
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&tenant, "Alone", now).expect("tenant");
    tx.commit().expect("commit");
    for _ in 0..3 {
        let mut tx = store.begin_write().expect("begin");
        tx.next_number(&tenant, DocumentKind::Invoice, now).expect("number");
        tx.commit().expect("commit");
    }
    // Committed at once, so readers see it: nothing waited for company.
    let mut read = store.begin_read().expect("read");
    assert_eq!(read.peek_number(&tenant, DocumentKind::Invoice).expect("peek"), 4);
    drop(read);
    assert_eq!(since(before, store.commit_groups()), (4, 4));
    assert_eq!(store.commit_groups().largest, 1);
}
