//! Tests of aging: the bucket of each number of days past due, reports per customer with
//! negative balances, and as-of balances folded from account sums like the journal's effects.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{alice, apply_payment, bob, charge, day, draft, ids, usd};
use crate::aging::{Bucket, Buckets, CustomerCredit, OpenDocument, age, balances_from_totals};
use crate::application::{Rule, Spread};
use crate::customer::Balances;
use crate::document::{DocumentKind, post_document};
use crate::fold;
use crate::ids::{CustomerId, DocumentId};
use crate::ledger::{Account, JournalTxn, Side};
use crate::money::Currency;
use crate::payment::{PaymentMethod, PaymentRequest, record_payment};

/// A date of 2026.
fn date(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, d).expect("a date of 2026")
}

/// A date of 2025.
fn last_year(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, month, d).expect("a date of 2025")
}

fn open(
    customer_id: CustomerId,
    name: &str,
    document: &str,
    due: NaiveDate,
    balance: i128,
) -> OpenDocument {
    OpenDocument {
        customer_id,
        customer_name: name.to_owned(),
        document_id: DocumentId::parse(document).expect("a document id"),
        due_date: due,
        balance,
    }
}

#[test]
fn each_number_of_days_past_due_falls_in_its_bucket_at_every_boundary() {
    let cases = [
        (-5, Bucket::Current),
        (0, Bucket::Current),
        (1, Bucket::Days1To30),
        (30, Bucket::Days1To30),
        (31, Bucket::Days31To60),
        (60, Bucket::Days31To60),
        (61, Bucket::Days61To90),
        (90, Bucket::Days61To90),
        (91, Bucket::DaysOver90),
        (4000, Bucket::DaysOver90),
    ];
    for (days, bucket) in cases {
        assert_eq!(Bucket::of_days(days), bucket, "{days} days past due");
    }
}

#[test]
fn days_past_due_count_from_the_due_date_to_the_end_of_the_as_of_date() {
    let as_of = date(3, 31);
    // 2026-03-31 minus each due date: 0, 1, 30, 31, 60, 61, 90, 91 days.
    assert_eq!(Bucket::at(as_of, date(3, 31)), Bucket::Current);
    assert_eq!(Bucket::at(as_of, date(4, 15)), Bucket::Current);
    assert_eq!(Bucket::at(as_of, date(3, 30)), Bucket::Days1To30);
    assert_eq!(Bucket::at(as_of, date(3, 1)), Bucket::Days1To30);
    assert_eq!(Bucket::at(as_of, date(2, 28)), Bucket::Days31To60);
    assert_eq!(Bucket::at(as_of, date(1, 30)), Bucket::Days31To60);
    assert_eq!(Bucket::at(as_of, date(1, 29)), Bucket::Days61To90);
    assert_eq!(Bucket::at(as_of, last_year(12, 31)), Bucket::Days61To90);
    assert_eq!(Bucket::at(as_of, last_year(12, 30)), Bucket::DaysOver90);
}

#[test]
fn a_report_puts_each_balance_with_its_sign_in_its_bucket_and_sums_customers_and_totals() {
    let as_of = date(3, 31);
    let documents = [
        open(bob(), "Bob", "inv_1", date(3, 31), 10_000),
        open(bob(), "Bob", "inv_2", date(3, 1), 2_500),
        open(bob(), "Bob", "dm_3", date(3, 30), -700),
        open(alice(), "Alice", "inv_4", last_year(12, 1), 12_345),
        open(alice(), "Alice", "inv_5", date(1, 30), 1),
        open(alice(), "Alice", "inv_6", date(2, 1), 0),
    ];
    let report = age(as_of, Currency::USD, &documents, &[]);
    assert_eq!(report.as_of, as_of);
    let names: Vec<&str> = report.customers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Alice", "Bob"]);
    assert_eq!(
        report.customers[0].buckets,
        Buckets { days_31_60: 1, days_over_90: 12_345, ..Buckets::default() }
    );
    assert_eq!(report.customers[0].buckets.total(), 12_346);
    assert_eq!(
        report.customers[1].buckets,
        Buckets { current: 10_000, days_1_30: 1_800, ..Buckets::default() }
    );
    assert_eq!(report.customers[1].buckets.total(), 11_800);
    assert_eq!(
        report.totals,
        Buckets {
            current: 10_000,
            days_1_30: 1_800,
            days_31_60: 1,
            days_61_90: 0,
            days_over_90: 12_345
        }
    );
    assert_eq!(report.totals.total(), 24_146);
}

#[test]
fn a_report_without_open_documents_is_empty_with_zero_totals() {
    let report = age(
        date(3, 31),
        Currency::USD,
        &[open(alice(), "Alice", "inv_1", date(1, 1), 0)],
        &[CustomerCredit { customer_id: bob(), customer_name: "Bob".into(), available_credit: 0 }],
    );
    assert!(report.customers.is_empty());
    assert_eq!(report.available_credit, 0);
    assert_eq!(report.totals, Buckets::default());
    assert_eq!(report.totals.total(), 0);
}

/// Debit and credit sums per account of `txns`, as the store's `group by` answers them.
fn sums(txns: &[&JournalTxn]) -> Vec<(Account, i128, i128)> {
    let mut sums: BTreeMap<Account, (i128, i128)> = BTreeMap::new();
    for posting in txns.iter().flat_map(|t| t.postings()) {
        let sum = sums.entry(posting.account).or_default();
        match posting.side {
            Side::Debit => sum.0 += i128::from(posting.amount.minor()),
            Side::Credit => sum.1 += i128::from(posting.amount.minor()),
        }
    }
    sums.into_iter().map(|(account, (debit, credit))| (account, debit, credit)).collect()
}

#[test]
fn balances_from_account_sums_equal_the_fold_of_each_transactions_effects() {
    // An invoice of 150.00, a payment of 100.00 with 60.00 of it applied, a credit memo of 20.00.
    let mut invoice =
        draft(DocumentKind::Invoice, vec![charge("Work", "150.00", &[])]).expect("a valid invoice");
    let posted = post_document(&mut invoice, ids().txn(), day(1)).expect("posts");
    fold::document(&mut invoice, &posted.effects()).unwrap();
    let (paid, paid_txn) = record_payment(PaymentRequest {
        id: ids().payment(),
        txn_id: ids().txn(),
        customer_id: alice(),
        amount: usd("100.00"),
        method: PaymentMethod::Check,
        reference: None,
        effective_date: day(2),
        description: None,
    })
    .expect("a valid payment");
    let (_, applied) = apply_payment(&paid, &invoice, Spread::Amount(usd("60.00"), Rule::NetFirst))
        .expect("applies");
    let mut memo = draft(DocumentKind::CreditMemo, vec![charge("Goodwill", "20.00", &[])])
        .expect("a valid credit memo");
    let memo_txn = post_document(&mut memo, ids().txn(), day(3)).expect("posts");

    let txns = [&posted, &paid_txn, &applied, &memo_txn];
    let mut folded = Balances::default();
    for txn in txns {
        fold::balances(&mut folded, txn.effects().customer).unwrap();
    }
    let from_sums = balances_from_totals(sums(&txns)).expect("fits");
    assert_eq!(from_sums, folded);
    assert_eq!(
        from_sums,
        Balances {
            receivable: 9_000,
            unapplied_payments: 4_000,
            credit_memo_balance: 2_000,
            credit_balance: 0
        }
    );
    assert_eq!(from_sums.balance(), -3_000);
    // The first two transactions only: nothing applied yet.
    assert_eq!(
        balances_from_totals(sums(&txns[..2])).expect("fits"),
        Balances { receivable: 15_000, unapplied_payments: 10_000, ..Balances::default() }
    );
}

#[test]
fn customers_with_credit_appear_beside_their_open_documents_and_net_is_total_less_credit() {
    let as_of = date(3, 31);
    let documents = [open(bob(), "Bob", "inv_1", date(3, 1), 30_000)];
    let credits = [
        CustomerCredit {
            customer_id: bob(),
            customer_name: "Bob".into(),
            available_credit: 36_500,
        },
        CustomerCredit {
            customer_id: alice(),
            customer_name: "Alice".into(),
            available_credit: 1_000,
        },
    ];
    let report = age(as_of, Currency::USD, &documents, &credits);
    let lines: Vec<(&str, i128, i128, i128)> = report
        .customers
        .iter()
        .map(|c| (c.name.as_str(), c.buckets.total(), c.available_credit, c.net()))
        .collect();
    assert_eq!(lines, [("Alice", 0, 1_000, -1_000), ("Bob", 30_000, 36_500, -6_500)]);
    assert_eq!(report.customers[0].buckets, Buckets::default());
    assert_eq!(report.totals.total(), 30_000);
    assert_eq!(report.available_credit, 37_500);
    assert_eq!(report.net(), -7_500);
}

#[test]
fn report_totals_past_what_an_i64_holds_are_exact() {
    let max = 100_000_000_000_000_i128;
    let documents: Vec<OpenDocument> = (0..100_000)
        .map(|n| open(alice(), "Alice", &format!("inv_{n}"), date(3, 1), max))
        .collect();
    let credits =
        [CustomerCredit { customer_id: bob(), customer_name: "Bob".into(), available_credit: max }];
    let report = age(date(3, 31), Currency::USD, &documents, &credits);
    assert_eq!(report.totals.days_1_30, 10_000_000_000_000_000_000);
    assert!(report.totals.total() > i128::from(i64::MAX));
    assert_eq!(report.net(), 10_000_000_000_000_000_000 - max);
}

#[test]
fn as_of_balances_from_sums_past_an_i64_are_exact_or_refused() {
    let many = i128::from(i64::MAX) * 3;
    let balanced = balances_from_totals([
        (Account::Receivable, many + 500, many),
        (Account::CreditBalance, many, many + 200),
        (Account::Revenue, many, 0),
    ]);
    assert_eq!(
        balanced,
        Some(Balances { receivable: 500, credit_balance: 200, ..Balances::default() })
    );
    assert_eq!(balances_from_totals([(Account::Receivable, many, 0)]), None);
}
