//! Document numbers when the customers of one tenant post at the same time.

use std::collections::BTreeSet;
use std::sync::Arc;

use settle_core::document::DocumentKind;
use settle_core::ids::{CustomerId, DocumentId};
use settle_engine::NewCustomer;
use settle_store::{IdempotencyRecord, Store, UnitOpening};

use settle_engine::Clock as _;

use crate::engine;

/// Posts per customer in [`document_numbers_stay_unique_and_increasing_across_customers`].
const POSTS: usize = 10;

/// Customers of one tenant post invoices at the same time, each from its own thread: every
/// number is used once in the tenant, each customer's numbers increase in the order it posted,
/// the stored documents carry them, and the ledger replays clean.
pub fn document_numbers_stay_unique_and_increasing_across_customers(store: Arc<dyn Store>) {
    let engine = engine(store, 1);
    let tenant = engine.create_tenant("Numbers").expect("tenant").tenant_id;
    let customers: Vec<_> = (0..4)
        .map(|i| {
            let new = NewCustomer { name: format!("Customer {i}"), ..NewCustomer::default() };
            engine.create_customer(&tenant, new).expect("customer").id
        })
        .collect();
    let posted: Vec<Vec<(DocumentId, u64)>> = std::thread::scope(|s| {
        let workers: Vec<_> = customers
            .iter()
            .map(|customer| {
                let (engine, tenant) = (&engine, &tenant);
                s.spawn(move || {
                    (0..POSTS)
                        .map(|_| {
                            let new = crate::one_line_invoice(customer, "10.00");
                            let document = engine.create_document(tenant, new).expect("post");
                            let n = document
                                .number
                                .strip_prefix("INV-")
                                .and_then(|digits| digits.parse().ok())
                                .expect("an invoice number");
                            (document.id, n)
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).collect()
    });
    let mut all = BTreeSet::new();
    for mine in &posted {
        let numbers: Vec<u64> = mine.iter().map(|(_, n)| *n).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "not increasing: {numbers:?}");
        all.extend(numbers);
    }
    // Every post committed, so no number was left unused.
    assert_eq!(all, (1..=(4 * POSTS as u64)).collect::<BTreeSet<u64>>());
    for (id, n) in posted.iter().flatten() {
        let stored = engine.document(&tenant, id).expect("document");
        assert_eq!(stored.number, DocumentKind::Invoice.number(*n));
    }
    for customer in &customers {
        let got = engine.customer(&tenant, customer).expect("customer");
        assert_eq!(got.balances.receivable, 10_000);
    }
    let report = engine.verify().expect("verify");
    assert!(report.is_clean(), "{:#?}", report.differences);
}

/// Peeking shows the number the next draw gives without taking it: 1 before the first draw,
/// then one past the last number taken, per tenant and kind, however often it is asked.
pub fn peeking_at_the_next_number_takes_nothing(store: &dyn Store) {
    let tenant = crate::fixture::tenant(store, "ten_peek");
    let now = crate::PinnedClock.now();
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.peek_number(&tenant, DocumentKind::Invoice).expect("peek"), 1);
    assert_eq!(tx.peek_number(&tenant, DocumentKind::Invoice).expect("peek"), 1);
    assert_eq!(tx.next_number(&tenant, DocumentKind::Invoice, now).expect("number"), 1);
    assert_eq!(tx.peek_number(&tenant, DocumentKind::Invoice).expect("peek"), 2);
    assert_eq!(tx.peek_number(&tenant, DocumentKind::CreditMemo).expect("peek"), 1);
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.peek_number(&tenant, DocumentKind::Invoice).expect("peek"), 2);
    drop(tx);
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.next_number(&tenant, DocumentKind::Invoice, now).expect("number"), 2);
    assert_eq!(tx.next_number(&tenant, DocumentKind::CreditMemo, now).expect("number"), 1);
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.peek_number(&tenant, DocumentKind::Invoice).expect("peek"), 3);
    assert_eq!(tx.peek_number(&tenant, DocumentKind::CreditMemo).expect("peek"), 2);
}

/// Numbers drawn ahead come in one call, increasing, and carry on from (and into) single
/// draws, per tenant and kind; a count of 0 still draws one. Then the invoices drawn and not
/// used are given back, in one tenant after some were used and in another before any was.
/// Answers the next number each tenant then gives, which each store's own test pins: SQLite
/// takes the numbers back, PostgreSQL leaves them as gaps.
pub fn numbers_drawn_ahead_increase_and_what_is_given_back_is_never_used_twice(
    store: &dyn Store,
) -> (u64, u64) {
    let tenant = crate::fixture::tenant(store, "ten_ahead");
    let fresh = crate::fixture::tenant(store, "ten_fresh");
    let now = crate::PinnedClock.now();
    let invoice = DocumentKind::Invoice;
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.next_numbers(&tenant, invoice, 3, now).expect("numbers"), [1, 2, 3]);
    assert_eq!(tx.next_number(&tenant, invoice, now).expect("number"), 4);
    assert_eq!(tx.next_numbers(&tenant, invoice, 0, now).expect("numbers"), [5]);
    let memos = tx.next_numbers(&tenant, DocumentKind::CreditMemo, 2, now).expect("numbers");
    assert_eq!(memos, [1, 2]);
    assert_eq!(tx.next_numbers(&tenant, invoice, 3, now).expect("numbers"), [6, 7, 8]);
    tx.give_back_numbers(&tenant, invoice, 8, 6).expect("give back");
    assert_eq!(tx.next_numbers(&fresh, invoice, 2, now).expect("numbers"), [1, 2]);
    tx.give_back_numbers(&fresh, invoice, 2, 0).expect("give back");
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    let next = tx.next_number(&tenant, invoice, now).expect("number");
    assert!([7, 9].contains(&next), "{next}");
    assert_eq!(tx.peek_number(&tenant, invoice).expect("peek"), next + 1);
    assert_eq!(tx.peek_number(&tenant, DocumentKind::CreditMemo).expect("peek"), 3);
    let first = tx.next_number(&fresh, invoice, now).expect("number");
    assert!([1, 3].contains(&first), "{first}");
    tx.commit().expect("commit");
    (next, first)
}

/// A unit opens with what its reads would find one by one
/// ([`StoreTx::open_unit`](settle_store::StoreTx::open_unit)): the customer locked, the
/// tenant's settings and the next number of the kind asked for; no number without a kind, for
/// an unknown customer, or when a response is saved under the key (a replay takes none), and
/// then the saved response itself.
pub fn a_unit_opens_with_its_lock_settings_number_and_saved_response(store: &dyn Store) {
    use crate::fixture::{customer, id, seed, t0};
    let tenant = seed(store, "ten_opening", &[customer("cus_opened", "Opened", 0)]);
    let known = id(CustomerId::parse, "cus_opened");
    let unknown = id(CustomerId::parse, "cus_unknown");
    let opening = |customer_id, key, number| UnitOpening {
        tenant_id: &tenant,
        customer_id,
        now: t0(),
        key,
        number,
        documents: &[],
    };
    let mut tx = store.begin_write().expect("begin");
    let expected_settings = tx.settings(&tenant).expect("settings");
    let opened = tx.open_unit(&opening(&known, None, Some(DocumentKind::Invoice))).expect("open");
    let (lock, found) = opened.locked.expect("the customer");
    assert_eq!((lock.customer_id(), lock.now(), found.name.as_str()), (&known, t0(), "Opened"));
    assert_eq!((opened.saved, opened.settings, opened.number), (None, expected_settings, Some(1)));
    assert_eq!(tx.next_number(&tenant, DocumentKind::Invoice, t0()).expect("number"), 2);
    let record = IdempotencyRecord {
        tenant_id: tenant.clone(),
        key: "saved-key".into(),
        request_hash: "hash".into(),
        status: 201,
        body: "{}".into(),
        created_at: t0(),
    };
    tx.insert_idempotency(&record).expect("save");
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    let unknown_customer = tx
        .open_unit(&opening(&unknown, Some("new-key"), Some(DocumentKind::Invoice)))
        .expect("open");
    assert!(unknown_customer.locked.is_none() && unknown_customer.saved.is_none());
    assert_eq!(unknown_customer.number, None, "no number for an unknown customer");
    let replay = tx
        .open_unit(&opening(&known, Some("saved-key"), Some(DocumentKind::Invoice)))
        .expect("open");
    assert_eq!((replay.saved, replay.number), (Some(record), None), "a replay takes no number");
    assert!(replay.locked.is_some(), "the customer is locked all the same");
    let plain = tx.open_unit(&opening(&known, Some("new-key"), None)).expect("open");
    assert_eq!((plain.saved, plain.number), (None, None), "no kind, no number");
    let memo = tx
        .open_unit(&opening(&known, Some("new-key"), Some(DocumentKind::CreditMemo)))
        .expect("open");
    assert_eq!(memo.number, Some(1), "numbers are per kind");
    assert_eq!(tx.peek_number(&tenant, DocumentKind::Invoice).expect("peek"), 3);
    tx.commit().expect("commit");
}
