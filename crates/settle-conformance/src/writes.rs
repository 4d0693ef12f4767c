//! Writes and reads of single records: what is written is read back, updates change only what
//! they name, and the database itself refuses what would break the ledger's rules.

use settle_core::adjustment::{Adjustment, AdjustmentType};
use settle_core::application::SourceRef;
use settle_core::customer::Customer;
use settle_core::document::DocumentStatus;
use settle_core::ids::{
    AdjustmentId, ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, RefundId,
};
use settle_core::payment::{PaymentMethod, PaymentStatus};
use settle_core::refund::Refund;
use settle_store::{Store, StoreError};

use crate::fixture::{application, customer, day, document, id, payment, seed, t0, usd};

fn is_refused<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict { .. } | StoreError::OutOfRange { .. }))
}

/// Customers, documents, payments and applications read back as written; updates write the
/// profile and balances, a document's status and balances, a payment's status and amounts,
/// and what is still applied; adjustments and refunds are stored; nothing is found in another
/// tenant.
pub fn records_read_back_as_written_and_updated(store: &dyn Store) {
    let owner = customer("cus_owner", "Owner", 0);
    let tenant = seed(store, "ten_records", std::slice::from_ref(&owner));
    let stranger = seed(store, "ten_stranger", &[]);
    let invoice = document(
        "inv_rec",
        &owner.id,
        DocumentStatus::Draft,
        &[("item_r1", 6_000, 6_000), ("item_r2", 4_000, 4_000)],
    );
    let memo =
        document("cm_rec", &owner.id, DocumentStatus::Posted, &[("item_m1", -1_000, -1_000)]);
    let paid = payment("pay_rec", &owner.id, 5_000, 5_000, PaymentStatus::Posted);
    let applied =
        application("app_rec", &owner.id, SourceRef::Payment(paid.id.clone()), &invoice, 2_000);

    let mut tx = store.begin_write().expect("begin");
    let (lock, locked) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
    assert_eq!(locked, owner);
    assert_eq!(lock.now(), t0());
    assert!(tx.lock_customer(&stranger, &owner.id, t0()).expect("lock").is_none());
    tx.insert_document(&lock, &invoice).expect("invoice");
    tx.insert_document(&lock, &memo).expect("memo");
    tx.insert_payment(&lock, &paid).expect("payment");
    tx.insert_application(&lock, &applied).expect("application");
    tx.commit().expect("commit");

    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.customer(&tenant, &owner.id).expect("read"), Some(owner.clone()));
    assert_eq!(tx.customer(&stranger, &owner.id).expect("read"), None);
    assert_eq!(tx.document(&tenant, &invoice.id).expect("read"), Some(invoice.clone()));
    assert_eq!(tx.document(&tenant, &memo.id).expect("read"), Some(memo.clone()));
    assert_eq!(tx.document(&stranger, &invoice.id).expect("read"), None);
    let item = id(ItemId::parse, "item_r2");
    assert_eq!(tx.item_document(&tenant, &item).expect("read"), Some(invoice.id.clone()));
    assert_eq!(tx.item_document(&stranger, &item).expect("read"), None);
    assert_eq!(tx.item_document(&tenant, &id(ItemId::parse, "item_none")).expect("read"), None);
    assert_eq!(tx.payment(&tenant, &paid.id).expect("read"), Some(paid.clone()));
    assert_eq!(tx.payment(&stranger, &paid.id).expect("read"), None);
    assert_eq!(tx.application(&tenant, &applied.id).expect("read"), Some(applied.clone()));
    assert_eq!(tx.application(&stranger, &applied.id).expect("read"), None);
    drop(tx);

    // Updates.
    let mut owner_now = owner.clone();
    owner_now.name = "Owner, renamed".to_owned();
    owner_now.email = None;
    owner_now.payment_terms_days = 15;
    owner_now.metadata = "{\"tier\":\"gold\"}".to_owned();
    owner_now.balances.receivable = 8_000;
    owner_now.balances.unapplied_payments = 3_000;
    owner_now.balances.credit_memo_balance = 1_000;
    let mut invoice_now = invoice.clone();
    invoice_now.status = DocumentStatus::Posted;
    invoice_now.items[0].balance = usd(4_000);
    invoice_now.items[0].credited = usd(500);
    invoice_now.group_balance = usd(8_000);
    let mut paid_now = paid.clone();
    paid_now.unapplied = usd(3_000);
    paid_now.refunded = usd(1_000);
    let mut applied_now = applied.clone();
    applied_now.items[0].net = usd(1_500);
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
    tx.update_customer(&lock, &owner_now).expect("customer");
    tx.update_document(&lock, &invoice_now).expect("document");
    tx.update_payment(&lock, &paid_now).expect("payment");
    tx.update_application(&lock, &applied_now).expect("application");
    let adjustment = Adjustment {
        id: id(AdjustmentId::parse, "adj_rec"),
        customer_id: owner.id.clone(),
        document_id: invoice.id.clone(),
        item_id: invoice.items[0].id.clone(),
        kind: AdjustmentType::Credit,
        amount: usd(500),
        reason: "discount".to_owned(),
        effective_date: day(5),
    };
    tx.insert_adjustment(&lock, &adjustment).expect("adjustment");
    let refund = Refund {
        id: id(RefundId::parse, "ref_rec"),
        customer_id: owner.id.clone(),
        source_type: "payment",
        source_id: Some(paid.id.to_string()),
        amount: usd(1_000),
        method: PaymentMethod::Check,
        reference: None,
        effective_date: day(6),
    };
    tx.insert_refund(&lock, &refund).expect("refund");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
    let again = crate::or_at_commit(tx, |tx| tx.insert_adjustment(&lock, &adjustment));
    assert!(is_refused(again), "a second adjustment, same id");
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
    let again = crate::or_at_commit(tx, |tx| tx.insert_refund(&lock, &refund));
    assert!(is_refused(again), "a second refund, same id");

    // A balances-only write changes the balances and leaves the profile as stored, whatever
    // the profile fields of what it is given.
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
    let mut given = owner.clone();
    given.balances.receivable = 9_000;
    given.balances.credit_balance = 250;
    tx.update_customer_balances(&lock, &given).expect("balances");
    tx.commit().expect("commit");
    let owner_now = Customer { balances: given.balances, ..owner_now };

    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.customer(&tenant, &owner.id).expect("read"), Some(owner_now));
    assert_eq!(tx.document(&tenant, &invoice.id).expect("read"), Some(invoice_now));
    assert_eq!(tx.payment(&tenant, &paid.id).expect("read"), Some(paid_now));
    assert_eq!(tx.application(&tenant, &applied.id).expect("read"), Some(applied_now));
}

/// The database refuses, whatever the caller: a second record with an id already used, a
/// second document number of a kind in a tenant, an item balance past zero or away from it, a
/// payment's unapplied amount outside the payment, a negative credit balance.
pub fn the_database_refuses_what_breaks_the_ledger(store: &dyn Store) {
    let owner = customer("cus_refuse", "Refuse", 0);
    let tenant = seed(store, "ten_refusals", std::slice::from_ref(&owner));
    let invoice =
        document("inv_ref", &owner.id, DocumentStatus::Posted, &[("item_f1", 1_000, 1_000)]);
    let paid = payment("pay_ref", &owner.id, 1_000, 1_000, PaymentStatus::Posted);
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
    tx.insert_document(&lock, &invoice).expect("invoice");
    tx.insert_payment(&lock, &paid).expect("payment");
    tx.commit().expect("commit");

    type Attempt<'a> = (
        &'a str,
        Box<
            dyn Fn(
                    &mut dyn settle_store::StoreTx,
                    &settle_store::CustomerLock,
                ) -> Result<(), StoreError>
                + 'a,
        >,
    );
    let attempts: Vec<Attempt<'_>> = vec![
        ("the same customer id", Box::new(|tx, _| tx.insert_customer(&tenant, &owner))),
        ("the same document id", Box::new(|tx, lock| tx.insert_document(lock, &invoice))),
        (
            "the same document number",
            Box::new(|tx, lock| {
                let mut twin = invoice.clone();
                twin.id = id(DocumentId::parse, "inv_twin");
                twin.items[0].id = id(ItemId::parse, "item_twin");
                tx.insert_document(lock, &twin)
            }),
        ),
        (
            "an item balance past zero",
            Box::new(|tx, lock| {
                let mut past = invoice.clone();
                past.items[0].balance = usd(-1);
                tx.update_document(lock, &past)
            }),
        ),
        (
            "an item balance away from zero",
            Box::new(|tx, lock| {
                let mut away = invoice.clone();
                away.items[0].balance = usd(1_001);
                tx.update_document(lock, &away)
            }),
        ),
        ("the same payment id", Box::new(|tx, lock| tx.insert_payment(lock, &paid))),
        (
            "an unapplied amount past the payment",
            Box::new(|tx, lock| {
                let mut over = paid.clone();
                over.unapplied = usd(1_001);
                tx.update_payment(lock, &over)
            }),
        ),
        (
            "a negative unapplied amount",
            Box::new(|tx, lock| {
                let mut under = paid.clone();
                under.unapplied = usd(-1);
                tx.update_payment(lock, &under)
            }),
        ),
        (
            "a negative credit balance",
            Box::new(|tx, lock| {
                let mut negative = owner.clone();
                negative.balances.credit_balance = -1;
                tx.update_customer(lock, &negative)
            }),
        ),
        (
            "an application of a missing payment's id to a missing document",
            Box::new(|tx, lock| {
                let mut stray = application(
                    "app_stray",
                    &owner.id,
                    SourceRef::Payment(id(PaymentId::parse, "pay_none")),
                    &invoice,
                    10,
                );
                stray.target_id = id(DocumentId::parse, "inv_none");
                stray.id = id(ApplicationId::parse, "app_stray");
                tx.insert_application(lock, &stray)
            }),
        ),
    ];
    for (what, attempt) in attempts {
        let mut tx = store.begin_write().expect("begin");
        let (lock, _) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
        let refused = crate::or_at_commit(tx, |tx| attempt(tx, &lock));
        assert!(is_refused(refused), "{what} was not refused");
    }
    // Past the amount bound, a customer's balances are out of range (not a conflict),
    // whichever way they are written.
    let mut huge = owner.clone();
    huge.balances.receivable = crate::MAX_AMOUNT_MINOR + 1;
    let mut newcomer = huge.clone();
    newcomer.id = id(CustomerId::parse, "cus_huge");
    let past_bound: Vec<Attempt<'_>> = vec![
        ("balances", Box::new(|tx, lock| tx.update_customer_balances(lock, &huge))),
        ("the whole row", Box::new(|tx, lock| tx.update_customer(lock, &huge))),
        ("a new customer", Box::new(|tx, _| tx.insert_customer(&tenant, &newcomer))),
    ];
    for (what, attempt) in past_bound {
        let mut tx = store.begin_write().expect("begin");
        let (lock, _) = tx.lock_customer(&tenant, &owner.id, t0()).expect("lock").expect("owner");
        let refused = crate::or_at_commit(tx, |tx| attempt(tx, &lock));
        assert!(
            matches!(&refused, Err(StoreError::OutOfRange { total }) if total.contains("customer")),
            "{what} past the bound: {refused:?}"
        );
    }
    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.document(&tenant, &invoice.id).expect("read"), Some(invoice.clone()));
    assert_eq!(tx.payment(&tenant, &paid.id).expect("read"), Some(paid.clone()));
    assert_eq!(tx.customer(&tenant, &owner.id).expect("read"), Some(owner.clone()));
}
