//! Every list of the port: each sort, each filter, and cursors that resume exactly where the
//! previous page ended whatever the page size.

use settle_core::application::SourceRef;
use settle_core::customer::HistoryLine;
use settle_core::document::{Document, DocumentKind, DocumentStatus};
use settle_core::payment::PaymentStatus;
use settle_store::{
    ApplicationQuery, BalanceFilter, CustomerQuery, CustomerSort, DocumentQuery, PageRequest,
    PaymentQuery, Store, StoreError,
};

use crate::fixture::{
    application, customer, day, document, history_line, payment, read_all, sale, seed, t0,
};

/// Customers sort by name in byte order (as SQLite's BINARY collation, whatever the database's
/// collation), by balance and by creation, each both ways with ties by id bytes; the search is
/// a case-insensitive substring in which `%`, `_` and `\` match only themselves; cursors
/// resume at every page size; a cursor the store did not write is refused.
pub fn customer_lists_sort_by_bytes_and_cursors_round_trip(store: &dyn Store) {
    let tenant = seed(
        store,
        "ten_sorted",
        &[
            customer("cus_b1", "b", 300),
            customer("cus_B2", "B", 100),
            customer("cus_u3", "a_c", 200),
            customer("cus_p4", "a%c", 200),
            customer("cus_s5", "a\\c", 100),
            customer("cus_a6", "Äb", 0),
            customer("cus_a7", "abc", 200),
            customer("cus_Z8", "abc", 0),
        ],
    );
    let all = |sort: CustomerSort, search: Option<&str>, limit: u32| -> Vec<String> {
        let query = CustomerQuery { search: search.map(str::to_owned), sort };
        let rows = read_all(store, limit, &|tx, page| tx.customers(&tenant, &query, page));
        rows.iter().map(|c| c.id.to_string()).collect()
    };
    // Byte order: upper case before lower case, `%` (0x25) before `\` (0x5c) before `_` (0x5f)
    // before letters, `Ä` after ASCII; ties by id bytes.
    let by_name = ["cus_B2", "cus_p4", "cus_s5", "cus_u3", "cus_Z8", "cus_a7", "cus_b1", "cus_a6"];
    for limit in [1, 2, 3, 500] {
        assert_eq!(all(CustomerSort::Name, None, limit), by_name, "limit {limit}");
        let mut reversed = by_name;
        reversed.reverse();
        assert_eq!(all(CustomerSort::NameDesc, None, limit), reversed, "limit {limit}");
    }
    // Balance is minus what is owed; ties by id bytes.
    let by_balance =
        ["cus_b1", "cus_a7", "cus_p4", "cus_u3", "cus_B2", "cus_s5", "cus_Z8", "cus_a6"];
    assert_eq!(all(CustomerSort::Balance, None, 3), by_balance);
    let mut reversed = by_balance;
    reversed.reverse();
    assert_eq!(all(CustomerSort::BalanceDesc, None, 3), reversed);
    let created = ["cus_b1", "cus_B2", "cus_u3", "cus_p4", "cus_s5", "cus_a6", "cus_a7", "cus_Z8"];
    assert_eq!(all(CustomerSort::Created, None, 3), created);
    let mut reversed = created;
    reversed.reverse();
    assert_eq!(all(CustomerSort::CreatedDesc, None, 3), reversed);
    assert_eq!(CustomerSort::default(), CustomerSort::CreatedDesc);
    // The search is a case-insensitive substring; `%`, `_` and `\` match only themselves.
    assert_eq!(all(CustomerSort::Name, Some("_"), 2), ["cus_u3"]);
    assert_eq!(all(CustomerSort::Name, Some("%"), 2), ["cus_p4"]);
    assert_eq!(all(CustomerSort::Name, Some("\\"), 2), ["cus_s5"]);
    assert_eq!(all(CustomerSort::Name, Some("ABC"), 1), ["cus_Z8", "cus_a7"]);
    assert_eq!(all(CustomerSort::Name, Some("äB"), 1), ["cus_a6"]);
    // The email is searched too.
    assert_eq!(all(CustomerSort::Name, Some("B@EXAMPLE"), 2), ["cus_B2", "cus_b1", "cus_a6"]);
    // A balance written after the insert moves the customer in the list by balance, whichever
    // write changed it: the balances alone, or the profile with them.
    let by_id = |id: &str| settle_core::ids::CustomerId::parse(id).expect("id");
    let mut tx = store.begin_write().expect("begin");
    let (lock, mut b1) =
        tx.lock_customer(&tenant, &by_id("cus_b1"), t0()).expect("lock").expect("b1");
    b1.balances.receivable = 0;
    b1.balances.credit_balance = 50;
    tx.update_customer_balances(&lock, &b1).expect("balances");
    let (lock, mut z8) =
        tx.lock_customer(&tenant, &by_id("cus_Z8"), t0()).expect("lock").expect("z8");
    z8.balances.receivable = 400;
    tx.update_customer(&lock, &z8).expect("profile and balances");
    tx.commit().expect("commit");
    let by_balance =
        ["cus_Z8", "cus_a7", "cus_p4", "cus_u3", "cus_B2", "cus_s5", "cus_a6", "cus_b1"];
    for limit in [1, 3, 500] {
        assert_eq!(all(CustomerSort::Balance, None, limit), by_balance, "limit {limit}");
        let mut reversed = by_balance;
        reversed.reverse();
        assert_eq!(all(CustomerSort::BalanceDesc, None, limit), reversed, "limit {limit}");
    }
    assert_eq!(all(CustomerSort::BalanceDesc, Some("abc"), 1), ["cus_a7", "cus_Z8"]);
    assert_eq!(
        all(CustomerSort::Balance, Some("b"), 2),
        ["cus_Z8", "cus_a7", "cus_B2", "cus_a6", "cus_b1"]
    );
    let mut tx = store.begin_read().expect("read");
    let junk = PageRequest { limit: 2, cursor: Some("no newline".into()) };
    let err = tx.customers(&tenant, &CustomerQuery::default(), &junk).expect_err("bad cursor");
    assert!(matches!(err, StoreError::BadCursor));
}

/// What the document, payment and application lists are read from: two customers with
/// documents of every kind, status and balance sign, payments with and without something
/// unapplied, and applications from every kind of source.
struct Ledger {
    documents: Vec<Document>,
}

fn ledger(store: &dyn Store, tenant_id: &str) -> (settle_core::ids::TenantId, Ledger) {
    let (one, two) = (customer("cus_one", "One", 0), customer("cus_two", "Two", 0));
    let tenant = seed(store, tenant_id, &[one.clone(), two.clone()]);
    let (one, two) = (one.id, two.id);
    let posted = DocumentStatus::Posted;
    let documents = vec![
        document("inv_open", &one, posted, &[("item_o1", 10_000, 10_000)]),
        document("inv_paid", &one, posted, &[("item_p1", 5_000, 0)]),
        document("dm_draft", &one, DocumentStatus::Draft, &[("item_d1", 2_000, 2_000)]),
        document("cm_credit", &one, posted, &[("item_c1", -3_000, -3_000)]),
        document(
            "inv_netted",
            &two,
            posted,
            &[("item_n1", 1_000, 1_000), ("item_n2", -1_000, -1_000)],
        ),
        document("inv_void", &two, DocumentStatus::Voided, &[("item_v1", 7_000, 0)]),
        document("inv_negative", &two, posted, &[("item_g1", -500, -500)]),
        document("inv_two", &two, posted, &[("item_t1", 7_000, 4_000)]),
    ];
    let payments = vec![
        payment("pay_part", &one, 10_000, 4_000, PaymentStatus::Posted),
        payment("pay_used", &one, 5_000, 0, PaymentStatus::Posted),
        payment("pay_void", &two, 2_500, 0, PaymentStatus::Voided),
        payment("pay_free", &two, 2_500, 2_500, PaymentStatus::Posted),
    ];
    let by_id = |id: &str| documents.iter().find(|d| d.id.as_str() == id).expect("a document");
    let applications = vec![
        application(
            "app_pay",
            &one,
            SourceRef::Payment(payments[1].id.clone()),
            by_id("inv_paid"),
            5_000,
        ),
        application(
            "app_cm",
            &one,
            SourceRef::CreditMemo(by_id("cm_credit").id.clone()),
            by_id("inv_open"),
            1,
        ),
        application("app_bal", &two, SourceRef::CreditBalance, by_id("inv_two"), 3_000),
        application(
            "app_pay2",
            &one,
            SourceRef::Payment(payments[0].id.clone()),
            by_id("inv_open"),
            6_000,
        ),
    ];
    let mut tx = store.begin_write().expect("begin");
    let (lock_one, _) = tx.lock_customer(&tenant, &one, t0()).expect("lock").expect("customer one");
    let (lock_two, _) = tx.lock_customer(&tenant, &two, t0()).expect("lock").expect("customer two");
    let lock = |customer: &settle_core::ids::CustomerId| {
        if *customer == one { &lock_one } else { &lock_two }
    };
    for document in &documents {
        tx.insert_document(lock(&document.customer_id), document).expect("document");
    }
    for payment in &payments {
        tx.insert_payment(lock(&payment.customer_id), payment).expect("payment");
    }
    for application in &applications {
        tx.insert_application(lock(&application.customer_id), application).expect("application");
    }
    tx.commit().expect("commit");
    (tenant, Ledger { documents })
}

/// Documents are listed newest first; each filter (kinds, customer, status, each balance
/// filter) keeps exactly the documents it names, in the same order, at every page size.
pub fn document_lists_filter_by_kind_customer_status_and_balance(store: &dyn Store) {
    let (tenant, ledger) = ledger(store, "ten_documents");
    let ids = |query: &DocumentQuery, limit: u32| -> Vec<String> {
        let rows = read_all(store, limit, &|tx, page| tx.documents(&tenant, query, page));
        rows.iter().map(|d| d.id.to_string()).collect()
    };
    let newest_first: Vec<String> =
        ledger.documents.iter().rev().map(|d| d.id.to_string()).collect();
    for limit in [1, 3, 500] {
        assert_eq!(ids(&DocumentQuery::default(), limit), newest_first, "limit {limit}");
    }
    let expect = |keep: &dyn Fn(&Document) -> bool| -> Vec<String> {
        ledger.documents.iter().rev().filter(|d| keep(d)).map(|d| d.id.to_string()).collect()
    };
    let one = ledger.documents[0].customer_id.clone();
    let cases: Vec<(DocumentQuery, Vec<String>)> = vec![
        (
            DocumentQuery { kinds: vec![DocumentKind::Invoice], ..DocumentQuery::default() },
            expect(&|d| d.kind == DocumentKind::Invoice),
        ),
        (
            DocumentQuery {
                kinds: vec![DocumentKind::DebitMemo, DocumentKind::CreditMemo],
                ..DocumentQuery::default()
            },
            expect(&|d| d.kind != DocumentKind::Invoice),
        ),
        (
            DocumentQuery { customer_id: Some(one.clone()), ..DocumentQuery::default() },
            expect(&|d| d.customer_id == one),
        ),
        (
            DocumentQuery { status: Some(DocumentStatus::Posted), ..DocumentQuery::default() },
            expect(&|d| d.status == DocumentStatus::Posted),
        ),
        (
            DocumentQuery { status: Some(DocumentStatus::Draft), ..DocumentQuery::default() },
            expect(&|d| d.status == DocumentStatus::Draft),
        ),
        (
            DocumentQuery { balance: Some(BalanceFilter::Negative), ..DocumentQuery::default() },
            expect(&|d| d.balance().minor() < 0),
        ),
        (
            DocumentQuery { balance: Some(BalanceFilter::Positive), ..DocumentQuery::default() },
            expect(&|d| d.balance().minor() > 0),
        ),
        (
            DocumentQuery { balance: Some(BalanceFilter::Open), ..DocumentQuery::default() },
            expect(&|d| d.items.iter().any(|i| i.balance.minor() != 0)),
        ),
        (
            DocumentQuery {
                kinds: vec![DocumentKind::Invoice],
                customer_id: Some(one.clone()),
                status: Some(DocumentStatus::Posted),
                balance: Some(BalanceFilter::Open),
            },
            vec!["inv_open".to_owned()],
        ),
    ];
    for (query, expected) in cases {
        assert!(!expected.is_empty() && expected.len() < newest_first.len(), "{query:?}");
        for limit in [1, 2, 500] {
            assert_eq!(ids(&query, limit), expected, "{query:?} limit {limit}");
        }
    }
    // The open filter keeps a document whose items cancel out; the balance filters do not.
    let open =
        ids(&DocumentQuery { balance: Some(BalanceFilter::Open), ..DocumentQuery::default() }, 500);
    assert!(open.contains(&"inv_netted".to_owned()));
    let mut tx = store.begin_read().expect("read");
    let junk = PageRequest { limit: 2, cursor: Some("x".into()) };
    assert!(matches!(
        tx.documents(&tenant, &DocumentQuery::default(), &junk),
        Err(StoreError::BadCursor)
    ));
}

/// Payments are listed newest first, by customer and with only those with something
/// unapplied (and not voided), at every page size.
pub fn payment_lists_filter_by_customer_and_unapplied(store: &dyn Store) {
    let (tenant, ledger) = ledger(store, "ten_payments");
    let one = ledger.documents[0].customer_id.clone();
    let ids = |query: &PaymentQuery, limit: u32| -> Vec<String> {
        let rows = read_all(store, limit, &|tx, page| tx.payments(&tenant, query, page));
        rows.iter().map(|p| p.id.to_string()).collect()
    };
    for limit in [1, 3, 500] {
        assert_eq!(
            ids(&PaymentQuery::default(), limit),
            ["pay_free", "pay_void", "pay_used", "pay_part"],
            "limit {limit}"
        );
        let mine = PaymentQuery { customer_id: Some(one.clone()), unapplied_only: false };
        assert_eq!(ids(&mine, limit), ["pay_used", "pay_part"], "limit {limit}");
        let open = PaymentQuery { customer_id: None, unapplied_only: true };
        assert_eq!(ids(&open, limit), ["pay_free", "pay_part"], "limit {limit}");
        let both = PaymentQuery { customer_id: Some(one.clone()), unapplied_only: true };
        assert_eq!(ids(&both, limit), ["pay_part"], "limit {limit}");
    }
}

/// Applications are listed newest first, by customer, by source (a payment or a credit memo)
/// and by target document, at every page size.
pub fn application_lists_filter_by_customer_source_and_target(store: &dyn Store) {
    let (tenant, ledger) = ledger(store, "ten_applications");
    let one = ledger.documents[0].customer_id.clone();
    let ids = |query: &ApplicationQuery, limit: u32| -> Vec<String> {
        let rows = read_all(store, limit, &|tx, page| tx.applications(&tenant, query, page));
        rows.iter().map(|a| a.id.to_string()).collect()
    };
    let target = ledger.documents[0].id.clone();
    for limit in [1, 3, 500] {
        let all = ids(&ApplicationQuery::default(), limit);
        assert_eq!(all, ["app_pay2", "app_bal", "app_cm", "app_pay"], "limit {limit}");
        let mine =
            ApplicationQuery { customer_id: Some(one.clone()), ..ApplicationQuery::default() };
        assert_eq!(ids(&mine, limit), ["app_pay2", "app_cm", "app_pay"], "limit {limit}");
        let by_payment =
            ApplicationQuery { source_id: Some("pay_used".into()), ..ApplicationQuery::default() };
        assert_eq!(ids(&by_payment, limit), ["app_pay"], "limit {limit}");
        let by_memo =
            ApplicationQuery { source_id: Some("cm_credit".into()), ..ApplicationQuery::default() };
        assert_eq!(ids(&by_memo, limit), ["app_cm"], "limit {limit}");
        let by_target =
            ApplicationQuery { target_id: Some(target.clone()), ..ApplicationQuery::default() };
        assert_eq!(ids(&by_target, limit), ["app_pay2", "app_cm"], "limit {limit}");
    }
}

/// A customer's history is listed newest first with cursors, and holds only its own lines.
pub fn history_lists_newest_first_per_customer(store: &dyn Store) {
    let (one, two) = (customer("cus_hone", "One", 0), customer("cus_htwo", "Two", 0));
    let tenant = seed(store, "ten_history", &[one.clone(), two.clone()]);
    let lines: Vec<HistoryLine> =
        (1..=5).map(|n| history_line(&format!("txn_h{n}"), -100 * n, -100 * n)).collect();
    let mut tx = store.begin_write().expect("begin");
    let (lock_one, _) = tx.lock_customer(&tenant, &one.id, t0()).expect("lock").expect("one");
    let (lock_two, _) = tx.lock_customer(&tenant, &two.id, t0()).expect("lock").expect("two");
    for (n, line) in lines.iter().enumerate() {
        let lock = if n == 2 { &lock_two } else { &lock_one };
        // A history line belongs to the journal transaction it comes from.
        let txn = sale(line.id.as_str(), lock.customer_id(), day(4), 100, None);
        tx.append_journal(lock, &txn, t0()).expect("journal");
        tx.append_history(lock, line).expect("history");
    }
    tx.commit().expect("commit");
    let expected: Vec<HistoryLine> = [4, 3, 1, 0].into_iter().map(|n| lines[n].clone()).collect();
    for limit in [1, 3, 500] {
        let got = read_all(store, limit, &|tx, page| tx.history(&tenant, &one.id, page));
        assert_eq!(got, expected, "limit {limit}");
    }
    let theirs = read_all(store, 2, &|tx, page| tx.history(&tenant, &two.id, page));
    assert_eq!(theirs, [lines[2].clone()]);
}

/// Attention reads exactly what needs a person, each list newest first: posted invoices and
/// debit memos below zero (not credit memos, drafts or voided ones), posted ones at zero with
/// an item that is not, drafts dated strictly before the day asked, customers with available
/// credit while a posted document of theirs is owed, and of the customers with a negative
/// document those who also owe on another.
pub fn attention_reads_what_needs_a_person(store: &dyn Store) {
    let mut one = customer("cus_one", "One", 10_000);
    one.balances.credit_balance = 1_000;
    let two = customer("cus_two", "Two", 3_500);
    let mut three = customer("cus_three", "Three", 0);
    three.balances.unapplied_payments = 700;
    let tenant = seed(store, "ten_attention", &[one.clone(), two.clone(), three.clone()]);
    let posted = DocumentStatus::Posted;
    let mut draft_late =
        document("dm_late", &two.id, DocumentStatus::Draft, &[("item_l1", 900, 900)]);
    draft_late.invoice_date = day(5);
    let documents = vec![
        document("inv_open", &one.id, posted, &[("item_o1", 10_000, 10_000)]),
        document("dm_draft", &one.id, DocumentStatus::Draft, &[("item_d1", 2_000, 2_000)]),
        document("cm_credit", &one.id, posted, &[("item_c1", -3_000, -3_000)]),
        document(
            "inv_netted",
            &two.id,
            posted,
            &[("item_n1", 1_000, 1_000), ("item_n2", -1_000, -1_000)],
        ),
        document("inv_void", &two.id, DocumentStatus::Voided, &[("item_v1", -7_000, -7_000)]),
        document("inv_negative", &two.id, posted, &[("item_g1", -500, -500)]),
        document("inv_two", &two.id, posted, &[("item_t1", 7_000, 4_000)]),
        document("inv_paid", &two.id, posted, &[("item_p1", 5_000, 0)]),
        draft_late,
        document("inv_minus", &three.id, posted, &[("item_m1", -200, -200)]),
    ];
    let mut tx = store.begin_write().expect("begin");
    for customer in [&one, &two, &three] {
        let (lock, _) =
            tx.lock_customer(&tenant, &customer.id, t0()).expect("lock").expect("customer");
        for document in documents.iter().filter(|d| d.customer_id == customer.id) {
            tx.insert_document(&lock, document).expect("document");
        }
    }
    tx.commit().expect("commit");
    let read = |before| {
        let mut tx = store.begin_read().expect("read");
        tx.attention(&tenant, before).expect("attention")
    };
    let ids = |list: &[Document]| list.iter().map(|d| d.id.to_string()).collect::<Vec<_>>();
    let attention = read(day(2));
    assert_eq!(ids(&attention.negative), ["inv_minus", "inv_negative"]);
    assert_eq!(ids(&attention.stuck), ["inv_netted"]);
    assert_eq!(ids(&attention.old_drafts), ["dm_draft"]);
    let customers: Vec<String> = attention.idle_credit.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(customers, ["cus_one"]);
    assert_eq!(attention.idle_credit[0].balances.credit_balance, 1_000);
    let owing: Vec<String> = attention.owing.iter().map(ToString::to_string).collect();
    assert_eq!(owing, ["cus_two"]);
    // The documents come with their items, as read by id.
    let netted = &attention.stuck[0];
    let balances: Vec<i64> = netted.items.iter().map(|i| i.balance.minor()).collect();
    assert_eq!(balances, [1_000, -1_000]);
    // Drafts strictly before the day: none before the 1st, both after the 5th.
    assert!(read(day(1)).old_drafts.is_empty());
    assert_eq!(ids(&read(day(6)).old_drafts), ["dm_late", "dm_draft"]);
    // Another tenant sees none of it.
    let other = crate::fixture::tenant(store, "ten_calm");
    let mut tx = store.begin_read().expect("read");
    let empty = tx.attention(&other, day(30)).expect("attention");
    assert!(empty.negative.is_empty() && empty.stuck.is_empty() && empty.old_drafts.is_empty());
    assert!(empty.idle_credit.is_empty() && empty.owing.is_empty());
}
