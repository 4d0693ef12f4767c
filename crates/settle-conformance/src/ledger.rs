//! The journal and the sums read from it: append-only transactions, lists in order with
//! cursors, and the totals and as-of reports.

use settle_core::aging::{CustomerCredit, OpenDocument};
use settle_core::document::DocumentStatus;
use settle_core::ids::CustomerId;
use settle_core::ledger::{Account, JournalTxn};
use settle_core::money::Currency;
use settle_store::{AccountTotal, PageRequest, Store, StoreError, StoredTxn};

use crate::fixture::{customer, day, document, read_all, receipt, sale, seed, t0};

fn total(account: Account, debit: i128, credit: i128) -> AccountTotal {
    AccountTotal { account, currency: Currency::USD, debit, credit }
}

fn ids(rows: &[StoredTxn]) -> Vec<String> {
    rows.iter().map(|r| r.txn.id().to_string()).collect()
}

/// Journal transactions read back exactly as appended, oldest first with increasing `seq` and
/// the instant they were written, per tenant or per customer at every page size; a transaction
/// cannot be appended twice; the per-customer account totals and the as-of sums (trial
/// balance, a customer's balances, open documents, available credit) count exactly the
/// transactions effective on or before the date.
pub fn the_journal_is_append_only_and_sums_by_date(store: &dyn Store) {
    let (ann, bob) = (customer("cus_ann", "Ann", 0), customer("cus_bob", "Bob", 0));
    let tenant = seed(store, "ten_journal", &[bob.clone(), ann.clone()]);
    let quiet = seed(store, "ten_quiet", &[]);
    let invoice =
        document("inv_ann", &ann.id, DocumentStatus::Posted, &[("item_a1", 9_000, 9_000)]);
    let bills = document("inv_bob", &bob.id, DocumentStatus::Posted, &[("item_b1", 4_000, 4_000)]);
    let txns: Vec<(CustomerId, JournalTxn)> = vec![
        (ann.id.clone(), sale("txn_j1", &ann.id, day(1), 9_000, Some(&invoice))),
        (bob.id.clone(), sale("txn_j2", &bob.id, day(2), 4_000, Some(&bills))),
        (ann.id.clone(), receipt("txn_j3", &ann.id, day(3), 2_500)),
        (bob.id.clone(), receipt("txn_j4", &bob.id, day(20), 1_000)),
        (ann.id.clone(), sale("txn_j5", &ann.id, day(25), 300, None)),
    ];
    let mut tx = store.begin_write().expect("begin");
    let (lock_ann, _) = tx.lock_customer(&tenant, &ann.id, t0()).expect("lock").expect("ann");
    let (lock_bob, _) = tx.lock_customer(&tenant, &bob.id, t0()).expect("lock").expect("bob");
    tx.insert_document(&lock_ann, &invoice).expect("invoice");
    tx.insert_document(&lock_bob, &bills).expect("invoice");
    for (n, (customer_id, txn)) in txns.iter().enumerate() {
        let lock = if *customer_id == ann.id { &lock_ann } else { &lock_bob };
        let written = t0() + chrono::TimeDelta::seconds(i64::try_from(n).expect("fits"));
        tx.append_journal(lock, txn, written).expect("append");
    }
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    let (lock_ann, _) = tx.lock_customer(&tenant, &ann.id, t0()).expect("lock").expect("ann");
    assert!(matches!(
        crate::or_at_commit(tx, |tx| tx.append_journal(&lock_ann, &txns[0].1, t0())),
        Err(StoreError::Conflict { .. })
    ));

    // Lists.
    for limit in [1, 2, 500] {
        let all = read_all(store, limit, &|tx, page| tx.journal(&tenant, None, page));
        assert_eq!(ids(&all), ["txn_j1", "txn_j2", "txn_j3", "txn_j4", "txn_j5"]);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "seq increases");
        for (n, (stored, (_, txn))) in all.iter().zip(&txns).enumerate() {
            assert_eq!(&stored.txn, txn);
            let written = t0() + chrono::TimeDelta::seconds(i64::try_from(n).expect("fits"));
            assert_eq!(stored.created_at, written);
        }
        let anns = read_all(store, limit, &|tx, page| tx.journal(&tenant, Some(&ann.id), page));
        assert_eq!(ids(&anns), ["txn_j1", "txn_j3", "txn_j5"]);
    }
    let mut tx = store.begin_read().expect("read");
    let none = tx.journal(&quiet, None, &PageRequest { limit: 5, cursor: None }).expect("journal");
    assert!(none.rows.is_empty() && none.next_cursor.is_none());
    let junk = PageRequest { limit: 5, cursor: Some("not a seq".into()) };
    assert!(matches!(tx.journal(&tenant, None, &junk), Err(StoreError::BadCursor)));

    // Totals of the whole journal, per tenant and per customer.
    let (receivable, revenue) = (Account::Receivable, Account::Revenue);
    let (cash, unapplied) = (Account::Cash, Account::UnappliedPayments);
    // Accounts sort by name.
    let everything = [
        total(cash, 3_500, 0),
        total(receivable, 13_300, 0),
        total(revenue, 0, 13_300),
        total(unapplied, 0, 3_500),
    ];
    assert_eq!(tx.account_totals(&tenant).expect("totals"), everything);
    assert_eq!(tx.account_totals(&quiet).expect("totals"), []);
    let per_customer = tx.customer_account_totals(&tenant).expect("per customer");
    assert_eq!(
        per_customer,
        [
            (ann.id.clone(), total(cash, 2_500, 0)),
            (ann.id.clone(), total(receivable, 9_300, 0)),
            (ann.id.clone(), total(revenue, 0, 9_300)),
            (ann.id.clone(), total(unapplied, 0, 2_500)),
            (bob.id.clone(), total(cash, 1_000, 0)),
            (bob.id.clone(), total(receivable, 4_000, 0)),
            (bob.id.clone(), total(revenue, 0, 4_000)),
            (bob.id.clone(), total(unapplied, 0, 1_000)),
        ]
    );
    assert_eq!(tx.customer_currencies(&tenant).expect("currencies"), [Currency::USD]);
    assert_eq!(tx.customer_currencies(&quiet).expect("currencies"), []);

    // As of a date: only transactions effective on or before it count.
    assert_eq!(tx.account_totals_until(&tenant, day(25)).expect("as of"), everything);
    assert_eq!(
        tx.account_totals_until(&tenant, day(19)).expect("as of"),
        [
            total(cash, 2_500, 0),
            total(receivable, 13_000, 0),
            total(revenue, 0, 13_000),
            total(unapplied, 0, 2_500),
        ]
    );
    assert_eq!(
        tx.account_totals_until(&tenant, day(1)).expect("as of"),
        [total(receivable, 9_000, 0), total(revenue, 0, 9_000)]
    );
    assert_eq!(
        tx.customer_account_totals_until(&tenant, &bob.id, day(19)).expect("as of"),
        [total(receivable, 4_000, 0), total(revenue, 0, 4_000)]
    );
    assert_eq!(
        tx.customer_account_totals_until(&tenant, &ann.id, day(1).pred_opt().expect("a day"))
            .expect("as of"),
        []
    );
    let open = |customer: &settle_core::customer::Customer,
                document: &settle_core::document::Document,
                balance| OpenDocument {
        customer_id: customer.id.clone(),
        customer_name: customer.name.clone(),
        document_id: document.id.clone(),
        due_date: document.due_date,
        balance,
    };
    // By customer name, then due date.
    assert_eq!(
        tx.open_documents_until(&tenant, Currency::USD, day(2)).expect("open"),
        [open(&ann, &invoice, 9_000), open(&bob, &bills, 4_000)]
    );
    assert_eq!(
        tx.open_documents_until(&tenant, Currency::USD, day(1)).expect("open"),
        [open(&ann, &invoice, 9_000)]
    );
    let eur = Currency::parse("EUR").expect("euro");
    assert_eq!(tx.open_documents_until(&tenant, eur, day(25)).expect("open"), []);
    let credit = |customer: &settle_core::customer::Customer, available_credit| CustomerCredit {
        customer_id: customer.id.clone(),
        customer_name: customer.name.clone(),
        available_credit,
    };
    assert_eq!(
        tx.available_credit_until(&tenant, Currency::USD, day(25)).expect("credit"),
        [credit(&ann, 2_500), credit(&bob, 1_000)]
    );
    assert_eq!(
        tx.available_credit_until(&tenant, Currency::USD, day(19)).expect("credit"),
        [credit(&ann, 2_500)]
    );
    assert_eq!(tx.available_credit_until(&tenant, eur, day(25)).expect("credit"), []);
}

/// After [`Store::await_feed`], the tenant's feed holds every committed transaction, each once,
/// in the journal's order, whatever the page size; the cursor of the last page is where to
/// poll from.
pub fn the_feed_holds_every_commit_after_await_feed(store: &dyn Store) {
    let ann = customer("cus_feed", "Feed", 0);
    let tenant = seed(store, "ten_feed", std::slice::from_ref(&ann));
    for n in 1..=5 {
        let mut tx = store.begin_write().expect("begin");
        let (lock, _) = tx.lock_customer(&tenant, &ann.id, t0()).expect("lock").expect("ann");
        tx.append_journal(&lock, &receipt(&format!("txn_f{n}"), &ann.id, day(n), 100), t0())
            .expect("append");
        tx.commit().expect("commit");
    }
    store.await_feed(&tenant).expect("await");
    for limit in [1, 2, 500] {
        let mut cursor = None;
        let mut read = Vec::new();
        loop {
            let mut tx = store.begin_read().expect("read");
            let page = tx
                .journal_feed(&tenant, &PageRequest { limit, cursor: cursor.clone() })
                .expect("feed");
            read.extend(page.rows);
            let more = page.has_more;
            cursor = Some(page.next_cursor);
            if !more {
                break;
            }
        }
        assert_eq!(ids(&read), ["txn_f1", "txn_f2", "txn_f3", "txn_f4", "txn_f5"], "limit {limit}");
        let mut tx = store.begin_read().expect("read");
        let idle = tx.journal_feed(&tenant, &PageRequest { limit, cursor: cursor.clone() });
        let idle = idle.expect("feed");
        assert!(idle.rows.is_empty() && !idle.has_more);
        assert_eq!(Some(idle.next_cursor), cursor);
    }
}
