//! Tests of documents: drafting (amounts, per-item tax, limits) and posting to the journal.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{
    alice, assert_balanced, balances, charge, currency, day, draft, draft_spec, ids, invoice,
    journal, percent, post, reference_round, seed_003_invoice, spec, usd,
};
use crate::document::{
    DocumentKind, DocumentStatus, ItemKind, ItemSpec, MAX_ITEMS, Pricing, TaxSpec, post_document,
};
use crate::error::{Flaw, Input, Rejection};
use crate::fold;
use crate::ledger::{Effects, TxnKind};
use crate::money::{Currency, MAX_MINOR, Money};

fn amounts(document: &crate::document::Document) -> Vec<String> {
    document.items.iter().map(|i| i.amount.to_string()).collect()
}

fn per_unit(name: &str, quantity: &str, unit_price: &str, rates: &[&str]) -> ItemSpec {
    ItemSpec {
        pricing: Pricing::PerUnit { quantity: percent(quantity), unit_price: percent(unit_price) },
        ..charge(name, "0", rates)
    }
}

// ---- drafting ---------------------------------------------------------------------------

#[test]
fn tax_is_computed_per_item_and_rounded_half_away_from_zero() {
    let document = draft(
        DocumentKind::Invoice,
        vec![
            charge("A", "100.00", &["6.26"]),
            charge("B", "19.99", &["8.25"]),
            charge("C", "-50.00", &["6.26"]),
            charge("D", "10.00", &["0.05"]),
            charge("E", "-10.00", &["0.05"]),
        ],
    )
    .unwrap();
    // 19.99 × 8.25% = 1.649175 → 1.65; 10.00 × 0.05% = 0.005 → 0.01 and −0.005 → −0.01.
    assert_eq!(
        amounts(&document),
        ["100.00", "6.26", "19.99", "1.65", "-50.00", "-3.13", "10.00", "0.01", "-10.00", "-0.01"]
    );
    assert_eq!(document.total(), usd("74.77"));
}

#[test]
fn quantity_times_unit_price_rounds_half_away_from_zero() {
    let document = draft(
        DocumentKind::Invoice,
        vec![
            per_unit("widgets", "3", "19.999", &[]),
            per_unit("half cent", "1", "0.005", &["50"]),
            per_unit("refund", "-1", "0.005", &[]),
            per_unit("hours", "2.5", "4.00", &[]),
        ],
    )
    .unwrap();
    // 59.997 → 60.00; the tax is on the rounded 0.01 (0.005 → 0.01), not on 0.005.
    assert_eq!(amounts(&document), ["60.00", "0.01", "0.01", "-0.01", "10.00"]);
    assert_eq!(document.items[0].quantity, Some(percent("3")));
    assert_eq!(document.items[0].unit_price, Some(percent("19.999")));
}

#[test]
fn quantity_times_unit_price_rounds_to_the_currency_minor_unit() {
    let mut yen = spec(DocumentKind::Invoice, vec![per_unit("tea", "3", "33.5", &[])]);
    yen.currency = currency("JPY");
    let document = draft_spec(yen).unwrap();
    assert_eq!(document.items[0].amount, Money::new(101, currency("JPY")));
}

#[test]
fn tax_items_follow_their_charge_and_name_it() {
    let document = draft(
        DocumentKind::Invoice,
        vec![
            ItemSpec {
                taxes: vec![
                    TaxSpec::Rate { name: "state".to_owned(), rate: percent("6.25") },
                    TaxSpec::Amount { name: "fee".to_owned(), amount: usd("1.00") },
                ],
                ..charge("A", "100.00", &[])
            },
            charge("B", "20.00", &[]),
        ],
    )
    .unwrap();
    let shape: Vec<(ItemKind, &str, String)> = document
        .items
        .iter()
        .map(|i| (i.kind, i.description.as_str(), i.amount.to_string()))
        .collect();
    assert_eq!(
        shape,
        [
            (ItemKind::Charge, "A", "100.00".to_owned()),
            (ItemKind::Tax, "state", "6.25".to_owned()),
            (ItemKind::Tax, "fee", "1.00".to_owned()),
            (ItemKind::Charge, "B", "20.00".to_owned()),
        ]
    );
    let parent = Some(document.items[0].id.clone());
    assert_eq!(document.items[1].parent_item_id, parent);
    assert_eq!(document.items[2].parent_item_id, parent);
    assert_eq!(document.items[0].parent_item_id, None);
    assert_eq!(document.items[1].tax_rate, Some(percent("6.25")));
    assert_eq!(document.items[2].tax_rate, None);
}

#[test]
fn a_draft_owes_nothing_until_posted() {
    let document = draft(DocumentKind::Invoice, vec![charge("A", "100.00", &["6.26"])]).unwrap();
    assert_eq!(document.status, DocumentStatus::Draft);
    assert_eq!(document.total(), usd("106.26"));
    assert_eq!(document.balance(), usd("0.00"));
    assert_eq!(document.group_balance, usd("0.00"));
    assert_eq!(document.open_item_count(), 0);
    assert_eq!(document.number, "INV-000001");
    assert_eq!((document.invoice_date, document.due_date), (day(1), day(31)));
}

#[test]
fn a_document_needs_at_least_one_item() {
    assert_eq!(
        draft(DocumentKind::Invoice, vec![]),
        Err(Rejection::refused(Input::Items, Flaw::NoItems))
    );
}

#[test]
fn more_than_a_thousand_items_are_refused() {
    let refused = Err(Rejection::refused(Input::Items, Flaw::TooManyItems { limit: 1000 }));
    let ones = |n: usize| (0..n).map(|i| charge(&format!("line {i}"), "1.00", &[])).collect();
    assert_eq!(draft(DocumentKind::Invoice, ones(MAX_ITEMS)).unwrap().items.len(), 1000);
    assert_eq!(draft(DocumentKind::Invoice, ones(MAX_ITEMS + 1)), refused);
    // Tax items count: 500 charges with a tax each is 1000, 501 is too many.
    let taxed = |n: usize| (0..n).map(|i| charge(&format!("line {i}"), "1.00", &["5"])).collect();
    assert_eq!(draft(DocumentKind::Invoice, taxed(500)).unwrap().items.len(), 1000);
    assert_eq!(draft(DocumentKind::Invoice, taxed(501)), refused);
}

#[test]
fn a_due_date_before_the_invoice_date_is_refused() {
    let mut early = spec(DocumentKind::Invoice, vec![charge("A", "1.00", &[])]);
    early.due_date = day(1);
    assert!(draft_spec(early.clone()).is_ok(), "due the same day is fine");
    early.invoice_date = day(2);
    assert_eq!(draft_spec(early), Err(Rejection::refused(Input::DueDate, Flaw::BeforeInvoiceDate)));
}

#[test]
fn an_amount_in_another_currency_is_refused() {
    let euros = Money::new(100, currency("EUR"));
    let mismatch =
        Err(Rejection::CurrencyMismatch { expected: "USD".to_owned(), got: "EUR".to_owned() });
    let item = ItemSpec { pricing: Pricing::Amount(euros), ..charge("A", "1.00", &[]) };
    assert_eq!(draft(DocumentKind::Invoice, vec![item]), mismatch);
    let tax = ItemSpec {
        taxes: vec![TaxSpec::Amount { name: "fee".to_owned(), amount: euros }],
        ..charge("A", "1.00", &[])
    };
    assert_eq!(draft(DocumentKind::Invoice, vec![tax]), mismatch);
}

#[test]
fn a_document_side_beyond_the_bound_is_refused() {
    let largest = Money::new(MAX_MINOR, Currency::USD);
    let item =
        |amount: Money| ItemSpec { pricing: Pricing::Amount(amount), ..charge("A", "1.00", &[]) };
    assert_eq!(
        draft(DocumentKind::Invoice, vec![item(largest), item(usd("0.01"))]),
        Err(Rejection::refused(Input::Items, Flaw::OutOfRange))
    );
    let taxed = ItemSpec { pricing: Pricing::Amount(largest), ..charge("A", "1.00", &["1"]) };
    assert_eq!(
        draft(DocumentKind::Invoice, vec![taxed]),
        Err(Rejection::refused(Input::Items, Flaw::OutOfRange))
    );
    let overtaxed = ItemSpec { pricing: Pricing::Amount(largest), ..charge("A", "1.00", &["300"]) };
    assert_eq!(
        draft(DocumentKind::Invoice, vec![overtaxed]),
        Err(Rejection::refused(Input::TaxRate { item: 0, tax: 0 }, Flaw::OutOfRange))
    );
    // Each side is bounded on its own, so a zero total of two largest amounts is fine, and its
    // balance stays within the bound however it is applied.
    let negative = Money::new(-MAX_MINOR, Currency::USD);
    let both = draft(DocumentKind::Invoice, vec![item(largest), item(negative)]).unwrap();
    assert_eq!(both.total(), usd("0.00"));
    assert_eq!(
        draft(DocumentKind::Invoice, vec![item(negative), item(usd("-0.01"))]),
        Err(Rejection::refused(Input::Items, Flaw::OutOfRange))
    );
}

#[test]
fn a_quantity_times_unit_price_beyond_range_is_refused() {
    let beyond_decimal = ItemSpec {
        pricing: Pricing::PerUnit { quantity: Decimal::MAX, unit_price: percent("2") },
        ..charge("A", "0", &[])
    };
    assert_eq!(
        draft(DocumentKind::Invoice, vec![beyond_decimal]),
        Err(Rejection::refused(Input::UnitPrice(0), Flaw::OutOfRange))
    );
    let beyond_bound = per_unit("A", "1000000000000", "1000", &[]);
    assert_eq!(
        draft(DocumentKind::Invoice, vec![beyond_bound]),
        Err(Rejection::refused(Input::UnitPrice(0), Flaw::OutOfRange))
    );
    let at_bound = per_unit("A", "99999999999999", "0.01", &[]);
    assert_eq!(
        draft(DocumentKind::Invoice, vec![at_bound]).unwrap().total(),
        Money::new(MAX_MINOR, Currency::USD)
    );
}

// ---- posting ----------------------------------------------------------------------------

#[test]
fn posting_an_invoice_debits_receivable_per_item_against_revenue_and_tax_payable() {
    let mut document = draft(
        DocumentKind::Invoice,
        vec![charge("A", "100.00", &["6.26"]), charge("B", "-50.00", &["6.26"])],
    )
    .unwrap();
    let txn = post_document(&mut document, ids().txn(), day(3)).unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&document]),
        [
            "debit receivable 100.00 A",
            "credit revenue 100.00",
            "debit receivable 6.26 A tax",
            "credit tax_payable 6.26",
            "credit receivable 50.00 B",
            "debit revenue 50.00",
            "credit receivable 3.13 B tax",
            "debit tax_payable 3.13",
        ]
    );
    assert_eq!(txn.kind(), TxnKind::InvoicePosted);
    assert_eq!(txn.effective_date(), day(3));
    assert_eq!(txn.customer_id(), &alice());
    assert_eq!(txn.description(), "INV-000001");
    assert_eq!(txn.subject_id(), Some(document.id.as_str()));
    assert_eq!(document.status, DocumentStatus::Posted);
}

#[test]
fn posting_makes_every_item_balance_its_amount_once_the_effects_are_applied() {
    let mut document = draft(
        DocumentKind::Invoice,
        vec![charge("A", "100.00", &["6.26"]), charge("B", "-50.00", &["6.26"])],
    )
    .unwrap();
    let txn = post_document(&mut document, ids().txn(), day(1)).unwrap();
    assert_eq!(
        balances(&document),
        ["0.00", "0.00", "0.00", "0.00"],
        "posting alone moves nothing"
    );
    let effects = txn.effects();
    fold::document(&mut document, &effects).unwrap();
    assert_eq!(balances(&document), ["100.00", "6.26", "-50.00", "-3.13"]);
    assert_eq!(document.balance(), usd("53.13"));
    assert_eq!(document.group_balance, usd("53.13"));
    assert_eq!(document.open_item_count(), 4);
    assert_eq!(effects.customer.receivable, 5313);
    assert_eq!(effects.customer.balance(), -5313);
}

#[test]
fn a_one_item_document_posts_under_the_item_description() {
    let mut document =
        draft(DocumentKind::Invoice, vec![charge("Consulting", "80.00", &[])]).unwrap();
    let txn = post_document(&mut document, ids().txn(), day(1)).unwrap();
    assert_eq!(txn.description(), "Consulting");
}

#[test]
fn posting_twice_is_refused() {
    let mut document = seed_003_invoice();
    let refused = post_document(&mut document, ids().txn(), day(1));
    assert_eq!(
        refused,
        Err(Rejection::DocumentNotDraft { id: document.id.to_string(), status: "posted" })
    );
    assert_eq!(refused.unwrap_err().code(), "document_not_draft");
    document.status = DocumentStatus::Voided;
    assert_eq!(
        post_document(&mut document, ids().txn(), day(1)),
        Err(Rejection::DocumentNotDraft { id: document.id.to_string(), status: "voided" })
    );
}

#[test]
fn posting_a_credit_memo_credits_credit_memos_against_revenue_adjustments() {
    let mut memo = draft(
        DocumentKind::CreditMemo,
        vec![charge("refund", "20.00", &[]), charge("clawback", "-5.00", &[])],
    )
    .unwrap();
    let txn = post_document(&mut memo, ids().txn(), day(1)).unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::CreditMemoPosted);
    assert_eq!(
        journal(&txn, &[&memo]),
        [
            "credit credit_memos 20.00 refund",
            "debit revenue_adjustments 20.00",
            "debit credit_memos 5.00 clawback",
            "credit revenue_adjustments 5.00",
        ]
    );
    let effects = txn.effects();
    fold::document(&mut memo, &effects).unwrap();
    assert_eq!(balances(&memo), ["20.00", "-5.00"]);
    assert_eq!(effects.customer.credit_memo_balance, 1500);
    assert_eq!(effects.customer.balance(), 1500);
}

#[test]
fn posting_a_debit_memo_records_a_debit_memo() {
    let mut memo = draft(DocumentKind::DebitMemo, vec![charge("late fee", "15.00", &[])]).unwrap();
    let txn = post_document(&mut memo, ids().txn(), day(1)).unwrap();
    assert_eq!(txn.kind(), TxnKind::DebitMemoPosted);
    assert_eq!(
        journal(&txn, &[&memo]),
        ["debit receivable 15.00 late fee", "credit revenue 15.00"]
    );
}

#[test]
fn an_item_of_the_most_negative_amount_is_refused() {
    let item = ItemSpec {
        pricing: Pricing::Amount(Money::new(i64::MIN, Currency::USD)),
        ..charge("A", "1.00", &[])
    };
    assert_eq!(
        draft(DocumentKind::Invoice, vec![item]),
        Err(Rejection::refused(Input::Items, Flaw::OutOfRange))
    );
}

#[test]
fn only_a_posted_document_takes_part_in_balance_moves() {
    let mut document = seed_003_invoice();
    assert_eq!(document.ensure_posted(), Ok(()));
    let id = document.id.to_string();
    document.status = DocumentStatus::Draft;
    assert_eq!(document.ensure_posted(), Err(Rejection::DocumentNotPosted { id: id.clone() }));
    document.status = DocumentStatus::Voided;
    assert_eq!(document.ensure_posted(), Err(Rejection::DocumentVoided { id: id.clone() }));
    document.status = DocumentStatus::Canceled;
    assert_eq!(document.ensure_posted(), Err(Rejection::DocumentVoided { id }));
}

#[test]
fn item_deltas_of_other_documents_are_ignored() {
    let mut document = seed_003_invoice();
    let other = invoice(vec![charge("other", "1.00", &[])]);
    let deltas =
        BTreeMap::from([(other.items[0].id.clone(), -100), (document.items[1].id.clone(), -626)]);
    fold::document(&mut document, &Effects { items: deltas, ..Effects::default() }).unwrap();
    assert_eq!(balances(&document), ["100.00", "0.00", "-50.00", "-3.13"]);
    assert_eq!(document.group_balance, usd("46.87"));
    assert_eq!(document.item(&document.items[1].id.clone()).map(|i| i.balance), Some(usd("0.00")));
    assert_eq!(document.item(&other.items[0].id), None);
    assert_eq!(document.open_item_count(), 3);
}

#[test]
fn kinds_and_statuses_read_back_their_names() {
    for kind in [DocumentKind::Invoice, DocumentKind::DebitMemo, DocumentKind::CreditMemo] {
        assert_eq!(DocumentKind::parse(kind.name()), Some(kind));
        assert_eq!(DocumentKind::of(&ids().document(kind)), kind);
    }
    assert_eq!(DocumentKind::DebitMemo.number(42), "DM-000042");
    assert!(DocumentKind::Invoice.is_receivable() && DocumentKind::DebitMemo.is_receivable());
    assert!(!DocumentKind::CreditMemo.is_receivable());
    for status in [
        DocumentStatus::Draft,
        DocumentStatus::Posted,
        DocumentStatus::Voided,
        DocumentStatus::Canceled,
    ] {
        assert_eq!(DocumentStatus::parse(status.name()), Some(status));
    }
    for kind in [ItemKind::Charge, ItemKind::Tax] {
        assert_eq!(ItemKind::parse(kind.name()), Some(kind));
    }
    assert_eq!(DocumentKind::parse("receipt"), None);
    assert_eq!(DocumentStatus::parse("paid"), None);
    assert_eq!(ItemKind::parse("fee"), None);
}

// ---- properties -------------------------------------------------------------------------

/// Random charges (minor units, either sign) with up to two taxes each (rates in hundredths of
/// a percent, 0 to 30%).
fn any_charges() -> impl Strategy<Value = Vec<(i64, Vec<i64>)>> {
    prop::collection::vec(
        (-10_000_000_i64..=10_000_000, prop::collection::vec(0_i64..=3000, 0..=2)),
        1..=8,
    )
}

fn charge_specs(charges: &[(i64, Vec<i64>)]) -> Vec<ItemSpec> {
    charges
        .iter()
        .enumerate()
        .map(|(idx, (minor, rates))| ItemSpec {
            description: format!("charge {idx}"),
            pricing: Pricing::Amount(Money::new(*minor, Currency::USD)),
            taxes: rates
                .iter()
                .map(|r| TaxSpec::Rate { name: "tax".to_owned(), rate: Decimal::new(*r, 2) })
                .collect(),
            invoice_item_id: None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn every_tax_item_is_its_charge_times_the_rate_rounded_half_away_from_zero(charges in any_charges()) {
        let document = draft(DocumentKind::Invoice, charge_specs(&charges)).expect("a valid draft");
        let mut items = document.items.iter();
        for (minor, rates) in &charges {
            let charge = items.next().expect("the charge item");
            prop_assert_eq!(charge.amount.minor(), *minor);
            for rate in rates {
                let tax = items.next().expect("a tax item");
                let expected = reference_round(i128::from(*minor) * i128::from(*rate), 10_000);
                prop_assert_eq!(Some(tax.amount.minor()), expected);
                prop_assert_eq!(tax.parent_item_id.as_ref(), Some(&charge.id));
            }
        }
        prop_assert!(items.next().is_none());
    }

    #[test]
    fn posting_balances_and_owes_exactly_the_total(
        charges in any_charges(),
        kind in prop::sample::select(vec![DocumentKind::Invoice, DocumentKind::DebitMemo, DocumentKind::CreditMemo]),
    ) {
        let mut document = draft(kind, charge_specs(&charges)).expect("a valid draft");
        let total = document.total().minor();
        let txn = post_document(&mut document, ids().txn(), day(1)).expect("a postable draft");
        assert_balanced(&txn);
        let effects = txn.effects();
        let owed = if kind.is_receivable() { -total } else { total };
        prop_assert_eq!(effects.customer.balance(), owed);
        fold::document(&mut document, &effects).unwrap();
        for item in &document.items {
            prop_assert_eq!(item.balance, item.amount);
        }
        prop_assert_eq!(document.balance().minor(), total);
        let posted = post(draft(kind, charge_specs(&charges)).expect("a valid draft"));
        prop_assert_eq!(posted.balance().minor(), total);
    }
}
