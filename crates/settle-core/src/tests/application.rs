//! Tests of applications: the three rules on seed 003's invoice, per-item amounts, every refusal
//! in its documented order, negative payments, reversals, and properties over random documents.

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{
    alice, applied, apply_payment, apply_source, assert_balanced, balances, bob, charge, currency,
    day, draft, ids, invoice, journal, payment, payment_of, per_item, post, record_reversal,
    seed_003_invoice, settle, usd,
};
use crate::application::{Application, ItemAmount, Rule, Source, SourceRef, Spread, reverse};
use crate::document::{Document, DocumentKind, DocumentStatus, ItemSpec, Pricing, TaxSpec};
use crate::error::{Flaw, Input, Rejection};
use crate::fold;
use crate::ledger::{JournalTxn, TxnKind};
use crate::money::{Currency, Money};
use crate::payment::{Payment, PaymentStatus};

fn by_rule(amount: &str, rule: Rule) -> Spread {
    Spread::Amount(usd(amount), rule)
}

/// Charge A 100.00 and charge C 40.00, each with 6.26% tax: 100.00, 6.26, 40.00, 2.50.
fn two_charge_invoice() -> Document {
    invoice(vec![charge("A", "100.00", &["6.26"]), charge("C", "40.00", &["6.26"])])
}

/// A posted invoice of one item of −20.00 (the customer is owed 20.00).
fn negative_invoice() -> Document {
    invoice(vec![charge("credit", "-20.00", &[])])
}

/// Seed 003 after its payment of 53.13 was applied by proration: the invoice is at 0.00 while
/// its items are at 50.00, 3.13, −50.00 and −3.13.
fn seed_003_prorated() -> (Document, Payment, Application) {
    let mut target = seed_003_invoice();
    let mut pay = payment("53.13");
    let (application, txn) =
        apply_payment(&pay, &target, by_rule("53.13", Rule::Proration)).unwrap();
    settle(&txn, &mut target, &mut pay);
    (target, pay, application)
}

/// Applies and folds the result into the target and the payment.
fn apply_and_settle(pay: &mut Payment, target: &mut Document, spread: Spread) -> Application {
    let (application, txn) = apply_payment(pay, target, spread).unwrap();
    assert_balanced(&txn);
    settle(&txn, target, pay);
    application
}

/// Reverses (wholly for `None`) and folds the result into everything it touches.
fn reverse_and_settle(
    application: &mut Application,
    amount: Option<&str>,
    target: &mut Document,
    pay: &mut Payment,
) -> JournalTxn {
    let txn = reverse(application, amount.map(usd), ids().txn(), day(5)).unwrap();
    assert_balanced(&txn);
    settle(&txn, target, pay);
    record_reversal(application, &txn);
    txn
}

fn over(id: &str, balance: &str, attempted: Money) -> Rejection {
    Rejection::OverApplication { id: id.to_owned(), balance: usd(balance), attempted }
}

// ---- seed 003 ---------------------------------------------------------------------------

#[test]
fn proration_spreads_over_positive_items_only_and_leaves_seed_003_items_open() {
    let mut target = seed_003_invoice();
    let mut pay = payment("53.13");
    let (application, txn) =
        apply_payment(&pay, &target, by_rule("53.13", Rule::Proration)).unwrap();
    assert_balanced(&txn);
    assert_eq!(applied(&application, &target), ["A 50.00", "A tax 3.13"]);
    assert_eq!(
        journal(&txn, &[&target]),
        [
            "credit receivable 50.00 A",
            "credit receivable 3.13 A tax",
            "debit unapplied_payments 53.13",
        ]
    );
    assert_eq!(application.amount(), usd("53.13"));
    assert_eq!(application.rule, Some(Rule::Proration));
    assert_eq!(application.source, SourceRef::Payment(pay.id.clone()));
    assert_eq!(application.status(), "applied");
    assert_eq!(txn.kind(), TxnKind::Application);
    assert_eq!(txn.effects().customer.balance(), 0, "applications move no customer balance");
    settle(&txn, &mut target, &mut pay);
    assert_eq!(balances(&target), ["50.00", "3.13", "-50.00", "-3.13"]);
    assert_eq!(target.balance(), usd("0.00"));
    assert_eq!(target.open_item_count(), 4);
    assert_eq!(pay.unapplied, usd("0.00"));
    assert_eq!(pay.applied(), usd("53.13"));
}

#[test]
fn proration_of_part_of_the_balance_rounds_by_largest_remainder() {
    let target = seed_003_invoice();
    let (application, _) =
        apply_payment(&payment("10.00"), &target, by_rule("10.00", Rule::Proration)).unwrap();
    // 10.00 × 100.00/106.26 = 9.4109 and 10.00 × 6.26/106.26 = 0.5891.
    assert_eq!(applied(&application, &target), ["A 9.41", "A tax 0.59"]);
}

#[test]
fn an_item_level_application_summing_to_zero_closes_every_seed_003_item() {
    let (mut target, mut pay, _) = seed_003_prorated();
    let (zeroing, txn) = apply_payment(
        &pay,
        &target,
        per_item(&target, &[(0, "50.00"), (1, "3.13"), (2, "-50.00"), (3, "-3.13")]),
    )
    .unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&target]),
        [
            "credit receivable 50.00 A",
            "credit receivable 3.13 A tax",
            "debit receivable 50.00 B",
            "debit receivable 3.13 B tax",
        ]
    );
    assert_eq!(zeroing.amount(), usd("0.00"));
    assert_eq!(zeroing.rule, None);
    settle(&txn, &mut target, &mut pay);
    assert_eq!(balances(&target), ["0.00", "0.00", "0.00", "0.00"]);
    assert_eq!(target.open_item_count(), 0);
    assert_eq!(pay.unapplied, usd("0.00"));
}

#[test]
fn a_zero_credit_memo_applied_item_by_item_closes_every_seed_003_item() {
    // The fix the seed proposes: a credit memo of 50.00, 3.13, −50.00 and −3.13, applied item
    // by item, each invoice item naming its credit memo item.
    let (mut target, _, _) = seed_003_prorated();
    let mut memo = post(
        draft(
            DocumentKind::CreditMemo,
            vec![
                charge("cm A", "50.00", &[]),
                charge("cm A tax", "3.13", &[]),
                charge("cm B", "-50.00", &[]),
                charge("cm B tax", "-3.13", &[]),
            ],
        )
        .unwrap(),
    );
    assert_eq!(memo.balance(), usd("0.00"));
    let items = ["50.00", "3.13", "-50.00", "-3.13"]
        .iter()
        .enumerate()
        .map(|(idx, amount)| ItemAmount {
            item_id: target.items[idx].id.clone(),
            amount: usd(amount),
            credit_memo_item_id: Some(memo.items[idx].id.clone()),
        })
        .collect();
    let (application, txn) =
        apply_source(Source::CreditMemo(&memo), &target, Spread::Items(items)).unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&target, &memo]),
        [
            "credit receivable 50.00 A",
            "debit credit_memos 50.00 cm A",
            "credit receivable 3.13 A tax",
            "debit credit_memos 3.13 cm A tax",
            "debit receivable 50.00 B",
            "credit credit_memos 50.00 cm B",
            "debit receivable 3.13 B tax",
            "credit credit_memos 3.13 cm B tax",
        ]
    );
    assert_eq!(application.source, SourceRef::CreditMemo(memo.id.clone()));
    let effects = txn.effects();
    assert_eq!(effects.customer.balance(), 0);
    fold::document(&mut target, &effects).unwrap();
    fold::document(&mut memo, &effects).unwrap();
    assert_eq!(balances(&target), ["0.00", "0.00", "0.00", "0.00"]);
    assert_eq!(balances(&memo), ["0.00", "0.00", "0.00", "0.00"]);
}

// ---- rules ------------------------------------------------------------------------------

#[test]
fn sequential_fills_each_charge_then_its_tax_in_document_order() {
    let mut target = two_charge_invoice();
    assert_eq!(balances(&target), ["100.00", "6.26", "40.00", "2.50"]);
    let mut pay = payment("200.00");
    let first = apply_and_settle(&mut pay, &mut target, by_rule("103.00", Rule::Sequential));
    assert_eq!(applied(&first, &target), ["A 100.00", "A tax 3.00"]);
    assert_eq!(balances(&target), ["0.00", "3.26", "40.00", "2.50"]);
    let second = apply_and_settle(&mut pay, &mut target, by_rule("10.00", Rule::Sequential));
    assert_eq!(applied(&second, &target), ["A tax 3.26", "C 6.74"]);
    assert_eq!(balances(&target), ["0.00", "0.00", "33.26", "2.50"]);
    assert_eq!(pay.unapplied, usd("87.00"));
}

#[test]
fn sequential_leaves_negative_items_alone() {
    let mut target = seed_003_invoice();
    let mut pay = payment("53.13");
    let application = apply_and_settle(&mut pay, &mut target, by_rule("53.13", Rule::Sequential));
    assert_eq!(applied(&application, &target), ["A 53.13"]);
    assert_eq!(balances(&target), ["46.87", "6.26", "-50.00", "-3.13"]);
    assert_eq!(target.balance(), usd("0.00"));
}

#[test]
fn net_first_settling_the_whole_balance_leaves_every_item_at_zero() {
    let mut target = seed_003_invoice();
    let mut pay = payment("53.13");
    let (application, txn) =
        apply_payment(&pay, &target, by_rule("53.13", Rule::NetFirst)).unwrap();
    assert_balanced(&txn);
    assert_eq!(
        applied(&application, &target),
        ["A 100.00", "A tax 6.26", "B -50.00", "B tax -3.13"]
    );
    assert_eq!(
        journal(&txn, &[&target]),
        [
            "credit receivable 100.00 A",
            "credit receivable 6.26 A tax",
            "debit receivable 50.00 B",
            "debit receivable 3.13 B tax",
            "debit unapplied_payments 53.13",
        ]
    );
    settle(&txn, &mut target, &mut pay);
    assert_eq!(balances(&target), ["0.00", "0.00", "0.00", "0.00"]);
    assert_eq!(target.open_item_count(), 0);
}

#[test]
fn net_first_offsets_negative_items_before_paying() {
    let mut target = seed_003_invoice();
    let mut pay = payment("10.00");
    let application = apply_and_settle(&mut pay, &mut target, by_rule("10.00", Rule::NetFirst));
    assert_eq!(applied(&application, &target), ["A 63.13", "B -50.00", "B tax -3.13"]);
    assert_eq!(balances(&target), ["36.87", "6.26", "0.00", "0.00"]);
    assert_eq!(target.balance(), usd("43.13"));
}

#[test]
fn net_first_is_the_default_rule_and_rules_read_back_their_names() {
    assert_eq!(Rule::default(), Rule::NetFirst);
    for rule in [Rule::Proration, Rule::Sequential, Rule::NetFirst] {
        assert_eq!(Rule::parse(rule.name()), Some(rule));
    }
    assert_eq!(Rule::parse("fifo"), None);
}

// ---- refusals ---------------------------------------------------------------------------

#[test]
fn more_than_the_document_balance_is_over_application() {
    let target = seed_003_invoice();
    let id = target.id.to_string();
    for rule in [Rule::Proration, Rule::Sequential, Rule::NetFirst] {
        let refused = apply_payment(&payment("100.00"), &target, by_rule("53.14", rule));
        assert_eq!(refused, Err(over(&id, "53.13", usd("53.14"))), "{rule:?}");
    }
    let refused = apply_payment(&payment("100.00"), &target, by_rule("53.14", Rule::NetFirst));
    assert_eq!(refused.unwrap_err().code(), "over_application");
}

#[test]
fn an_amount_against_the_document_sign_is_over_application() {
    let target = seed_003_invoice();
    assert_eq!(
        apply_payment(&payment("-1.00"), &target, by_rule("-1.00", Rule::Proration)),
        Err(over(target.id.as_str(), "53.13", usd("-1.00")))
    );
}

#[test]
fn a_settled_document_takes_no_more() {
    let mut target = seed_003_invoice();
    let mut pay = payment("60.00");
    apply_and_settle(&mut pay, &mut target, by_rule("53.13", Rule::NetFirst));
    assert_eq!(
        apply_payment(&pay, &target, by_rule("0.01", Rule::Proration)),
        Err(over(target.id.as_str(), "0.00", usd("0.01")))
    );
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(0, "0.01")])),
        Err(over(target.items[0].id.as_str(), "0.00", usd("0.01")))
    );
}

#[test]
fn a_zero_amount_is_refused() {
    let target = seed_003_invoice();
    assert_eq!(
        apply_payment(&payment("1.00"), &target, by_rule("0.00", Rule::NetFirst)),
        Err(Rejection::refused(Input::Amount, Flaw::Zero))
    );
}

#[test]
fn an_item_amount_of_the_wrong_sign_is_over_application() {
    let target = seed_003_invoice();
    let pay = payment("100.00");
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(2, "10.00")])),
        Err(over(target.items[2].id.as_str(), "-50.00", usd("10.00")))
    );
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(0, "-1.00")])),
        Err(over(target.items[0].id.as_str(), "100.00", usd("-1.00")))
    );
}

#[test]
fn an_item_amount_beyond_its_balance_is_over_application() {
    let target = seed_003_invoice();
    let pay = payment("100.00");
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(1, "6.27")])),
        Err(over(target.items[1].id.as_str(), "6.26", usd("6.27")))
    );
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(0, "50.00"), (2, "-50.01")])),
        Err(over(target.items[2].id.as_str(), "-50.00", usd("-50.01")))
    );
}

#[test]
fn item_amounts_that_would_flip_the_document_are_over_application() {
    let target = seed_003_invoice();
    let pay = payment("100.00");
    // Item A may take 100.00, but the invoice owes only 53.13.
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(0, "100.00")])),
        Err(over(target.id.as_str(), "53.13", usd("100.00")))
    );
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(0, "50.00"), (1, "3.14")])),
        Err(over(target.id.as_str(), "53.13", usd("53.14")))
    );
    let (application, _) =
        apply_payment(&pay, &target, per_item(&target, &[(0, "50.00"), (1, "3.13")])).unwrap();
    assert_eq!(application.amount(), usd("53.13"), "exactly to zero is fine");
}

#[test]
fn clearing_only_negative_items_of_an_owed_document_is_over_application() {
    // The invoice owes 53.13; clearing its −50.00 and −3.13 alone would make it owe 106.26.
    let target = seed_003_invoice();
    let pay = payment("-53.13");
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(2, "-50.00"), (3, "-3.13")])),
        Err(over(target.id.as_str(), "53.13", usd("-53.13")))
    );
}

#[test]
fn a_source_with_too_little_is_insufficient_unapplied() {
    let target = seed_003_invoice();
    let pay = payment("10.00");
    let refused = apply_payment(&pay, &target, by_rule("53.13", Rule::NetFirst));
    assert_eq!(
        refused,
        Err(Rejection::InsufficientUnapplied {
            source_id: pay.id.to_string(),
            available: usd("10.00"),
            attempted: usd("53.13"),
        })
    );
    assert_eq!(refused.unwrap_err().code(), "insufficient_unapplied");
}

#[test]
fn a_partly_applied_payment_offers_only_what_is_left() {
    let mut target = seed_003_invoice();
    let mut pay = payment("60.00");
    apply_and_settle(&mut pay, &mut target, by_rule("53.13", Rule::NetFirst));
    assert_eq!(pay.unapplied, usd("6.87"));
    let other = two_charge_invoice();
    assert_eq!(
        apply_payment(&pay, &other, by_rule("10.00", Rule::NetFirst)),
        Err(Rejection::InsufficientUnapplied {
            source_id: pay.id.to_string(),
            available: usd("6.87"),
            attempted: usd("10.00"),
        })
    );
    assert!(apply_payment(&pay, &other, by_rule("6.87", Rule::NetFirst)).is_ok());
}

#[test]
fn a_draft_target_is_not_posted() {
    let target = draft(DocumentKind::Invoice, vec![charge("A", "10.00", &[])]).unwrap();
    let refused = apply_payment(&payment("10.00"), &target, by_rule("10.00", Rule::NetFirst));
    assert_eq!(refused, Err(Rejection::DocumentNotPosted { id: target.id.to_string() }));
    assert_eq!(refused.unwrap_err().code(), "document_not_posted");
}

#[test]
fn a_voided_target_is_refused() {
    let mut target = seed_003_invoice();
    target.status = DocumentStatus::Voided;
    let refused = apply_payment(&payment("10.00"), &target, by_rule("10.00", Rule::NetFirst));
    assert_eq!(refused, Err(Rejection::DocumentVoided { id: target.id.to_string() }));
    assert_eq!(refused.unwrap_err().code(), "document_voided");
}

#[test]
fn a_credit_memo_cannot_be_a_target() {
    let memo = post(draft(DocumentKind::CreditMemo, vec![charge("A", "10.00", &[])]).unwrap());
    assert_eq!(
        apply_payment(&payment("10.00"), &memo, by_rule("10.00", Rule::NetFirst)),
        Err(Rejection::refused(Input::Target, Flaw::NotAnInvoiceOrDebitMemo))
    );
}

#[test]
fn a_debit_memo_takes_applications_like_an_invoice() {
    let mut target =
        post(draft(DocumentKind::DebitMemo, vec![charge("fee", "15.00", &[])]).unwrap());
    let mut pay = payment("15.00");
    apply_and_settle(&mut pay, &mut target, by_rule("15.00", Rule::NetFirst));
    assert_eq!(balances(&target), ["0.00"]);
}

#[test]
fn a_voided_payment_is_refused() {
    let target = seed_003_invoice();
    let mut pay = payment("53.13");
    pay.status = PaymentStatus::Voided;
    assert_eq!(
        apply_payment(&pay, &target, by_rule("53.13", Rule::NetFirst)),
        Err(Rejection::DocumentVoided { id: pay.id.to_string() })
    );
}

#[test]
fn a_credit_memo_source_must_be_a_posted_credit_memo() {
    let target = seed_003_invoice();
    let spread = || by_rule("10.00", Rule::NetFirst);
    let mut memo = draft(DocumentKind::CreditMemo, vec![charge("A", "10.00", &[])]).unwrap();
    assert_eq!(
        apply_source(Source::CreditMemo(&memo), &target, spread()),
        Err(Rejection::DocumentNotPosted { id: memo.id.to_string() })
    );
    memo.status = DocumentStatus::Canceled;
    assert_eq!(
        apply_source(Source::CreditMemo(&memo), &target, spread()),
        Err(Rejection::DocumentVoided { id: memo.id.to_string() })
    );
    let not_a_memo = two_charge_invoice();
    assert_eq!(
        apply_source(Source::CreditMemo(&not_a_memo), &target, spread()),
        Err(Rejection::refused(Input::Source, Flaw::NotACreditMemo))
    );
}

#[test]
fn another_customers_source_is_customer_mismatch() {
    let target = seed_003_invoice();
    let pay = payment_of(bob(), usd("53.13"));
    let refused = apply_payment(&pay, &target, by_rule("53.13", Rule::NetFirst));
    assert_eq!(
        refused,
        Err(Rejection::CustomerMismatch {
            source_id: pay.id.to_string(),
            target_id: target.id.to_string(),
        })
    );
    assert_eq!(refused.unwrap_err().code(), "customer_mismatch");
    let bobs = bob();
    let pool = Source::CreditBalance { customer_id: &bobs, available: usd("60.00") };
    assert_eq!(
        apply_source(pool, &target, by_rule("53.13", Rule::NetFirst)),
        Err(Rejection::CustomerMismatch {
            source_id: "credit_balance".to_owned(),
            target_id: target.id.to_string(),
        })
    );
}

#[test]
fn a_source_in_another_currency_is_currency_mismatch() {
    let target = seed_003_invoice();
    let pay = payment_of(alice(), Money::new(5313, currency("EUR")));
    let refused = apply_payment(&pay, &target, by_rule("53.13", Rule::NetFirst));
    let mismatch =
        Rejection::CurrencyMismatch { expected: "USD".to_owned(), got: "EUR".to_owned() };
    assert_eq!(refused, Err(mismatch.clone()));
    assert_eq!(refused.unwrap_err().code(), "currency_mismatch");
}

#[test]
fn an_amount_in_another_currency_is_currency_mismatch() {
    let target = seed_003_invoice();
    let pay = payment("53.13");
    let euros = Money::new(100, currency("EUR"));
    let mismatch =
        Err(Rejection::CurrencyMismatch { expected: "USD".to_owned(), got: "EUR".to_owned() });
    assert_eq!(apply_payment(&pay, &target, Spread::Amount(euros, Rule::NetFirst)), mismatch);
    let item = ItemAmount {
        item_id: target.items[0].id.clone(),
        amount: euros,
        credit_memo_item_id: None,
    };
    assert_eq!(apply_payment(&pay, &target, Spread::Items(vec![item])), mismatch);
}

#[test]
fn an_item_of_another_document_is_invalid() {
    let target = seed_003_invoice();
    let other = two_charge_invoice();
    let item = ItemAmount {
        item_id: other.items[0].id.clone(),
        amount: usd("1.00"),
        credit_memo_item_id: None,
    };
    let refused = apply_payment(&payment("1.00"), &target, Spread::Items(vec![item]));
    assert_eq!(
        refused,
        Err(Rejection::refused(
            Input::ItemId(0),
            Flaw::NotAnItemOf {
                item_id: other.items[0].id.to_string(),
                document_id: target.id.to_string(),
            },
        ))
    );
    assert_eq!(refused.unwrap_err().code(), "validation_error");
}

#[test]
fn an_item_listed_twice_is_invalid() {
    let target = seed_003_invoice();
    assert_eq!(
        apply_payment(&payment("2.00"), &target, per_item(&target, &[(0, "1.00"), (0, "1.00")])),
        Err(Rejection::refused(Input::ItemId(1), Flaw::ListedTwice))
    );
}

#[test]
fn an_item_level_application_needs_an_amount_that_is_not_zero() {
    let target = seed_003_invoice();
    let pay = payment("1.00");
    assert_eq!(
        apply_payment(&pay, &target, Spread::Items(vec![])),
        Err(Rejection::refused(Input::Items, Flaw::NoItems))
    );
    assert_eq!(
        apply_payment(&pay, &target, per_item(&target, &[(0, "0.00"), (2, "0.00")])),
        Err(Rejection::refused(Input::Items, Flaw::NothingToApply))
    );
    let (application, _) =
        apply_payment(&pay, &target, per_item(&target, &[(0, "0.00"), (1, "1.00")])).unwrap();
    assert_eq!(applied(&application, &target), ["A tax 1.00"], "zero amounts are dropped");
}

#[test]
fn checks_run_in_the_documented_order() {
    let mut target = seed_003_invoice();
    let bobs_euros = payment_of(bob(), Money::new(1, currency("EUR")));
    let alices_euros = payment_of(alice(), Money::new(1, currency("EUR")));
    let too_much = || by_rule("99.00", Rule::NetFirst);
    // Target state, then customer, then currency, then the amounts, then the source's funds.
    assert_eq!(
        apply_payment(&bobs_euros, &target, too_much()),
        Err(Rejection::CustomerMismatch {
            source_id: bobs_euros.id.to_string(),
            target_id: target.id.to_string(),
        })
    );
    assert!(matches!(
        apply_payment(&alices_euros, &target, too_much()),
        Err(Rejection::CurrencyMismatch { .. })
    ));
    assert_eq!(
        apply_payment(&payment("1.00"), &target, too_much()),
        Err(over(target.id.as_str(), "53.13", usd("99.00")))
    );
    target.status = DocumentStatus::Draft;
    assert_eq!(
        apply_payment(&bobs_euros, &target, too_much()),
        Err(Rejection::DocumentNotPosted { id: target.id.to_string() })
    );
}

// ---- other sources ----------------------------------------------------------------------

#[test]
fn the_credit_balance_pays_like_a_payment() {
    let target = seed_003_invoice();
    let alices = alice();
    let pool = Source::CreditBalance { customer_id: &alices, available: usd("60.00") };
    let (application, txn) = apply_source(pool, &target, by_rule("53.13", Rule::NetFirst)).unwrap();
    assert_balanced(&txn);
    assert_eq!(application.source, SourceRef::CreditBalance);
    assert_eq!(journal(&txn, &[&target]).last().unwrap(), "debit credit_balance 53.13");
    let effects = txn.effects();
    assert_eq!(effects.customer.credit_balance, -5313);
    assert_eq!(effects.customer.receivable, -5313);
    assert_eq!(effects.customer.balance(), 0);
    let poor = Source::CreditBalance { customer_id: &alices, available: usd("10.00") };
    assert_eq!(
        apply_source(poor, &target, by_rule("53.13", Rule::NetFirst)),
        Err(Rejection::InsufficientUnapplied {
            source_id: "credit_balance".to_owned(),
            available: usd("10.00"),
            attempted: usd("53.13"),
        })
    );
}

#[test]
fn a_credit_memo_pays_each_item_from_its_first_item_with_room() {
    let mut target = seed_003_invoice();
    let mut memo = post(
        draft(
            DocumentKind::CreditMemo,
            vec![charge("small", "10.00", &[]), charge("big", "60.00", &[])],
        )
        .unwrap(),
    );
    let (application, txn) =
        apply_source(Source::CreditMemo(&memo), &target, by_rule("53.13", Rule::Sequential))
            .unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&target, &memo]),
        ["credit receivable 53.13 A", "debit credit_memos 53.13 big"]
    );
    assert_eq!(application.items[0].credit_memo_item_id, Some(memo.items[1].id.clone()));
    let effects = txn.effects();
    assert_eq!(effects.customer.credit_memo_balance, -5313);
    assert_eq!(effects.customer.balance(), 0);
    fold::document(&mut target, &effects).unwrap();
    fold::document(&mut memo, &effects).unwrap();
    assert_eq!(balances(&memo), ["10.00", "6.87"]);
    assert_eq!(balances(&target), ["46.87", "6.26", "-50.00", "-3.13"]);
}

#[test]
fn a_credit_memo_with_too_little_is_insufficient_unapplied() {
    let target = seed_003_invoice();
    let memo = post(draft(DocumentKind::CreditMemo, vec![charge("small", "10.00", &[])]).unwrap());
    assert_eq!(
        apply_source(Source::CreditMemo(&memo), &target, by_rule("53.13", Rule::Sequential)),
        Err(Rejection::InsufficientUnapplied {
            source_id: memo.id.to_string(),
            available: usd("10.00"),
            attempted: usd("53.13"),
        })
    );
}

#[test]
fn a_named_credit_memo_item_must_belong_to_the_memo_and_hold_enough() {
    let target = seed_003_invoice();
    let memo = post(
        draft(
            DocumentKind::CreditMemo,
            vec![charge("small", "10.00", &[]), charge("big", "60.00", &[])],
        )
        .unwrap(),
    );
    let from = |memo_item: &crate::ids::ItemId| {
        Spread::Items(vec![ItemAmount {
            item_id: target.items[0].id.clone(),
            amount: usd("50.00"),
            credit_memo_item_id: Some(memo_item.clone()),
        }])
    };
    let stranger = target.items[1].id.clone();
    assert_eq!(
        apply_source(Source::CreditMemo(&memo), &target, from(&stranger)),
        Err(Rejection::refused(
            Input::CreditMemoItemId(0),
            Flaw::NotAnItemOf { item_id: stranger.to_string(), document_id: memo.id.to_string() },
        ))
    );
    assert_eq!(
        apply_source(Source::CreditMemo(&memo), &target, from(&memo.items[0].id)),
        Err(Rejection::InsufficientUnapplied {
            source_id: memo.items[0].id.to_string(),
            available: usd("10.00"),
            attempted: usd("50.00"),
        })
    );
    assert!(apply_source(Source::CreditMemo(&memo), &target, from(&memo.items[1].id)).is_ok());
}

// ---- negative payments ------------------------------------------------------------------

#[test]
fn a_negative_payment_settles_a_negative_invoice() {
    let mut target = negative_invoice();
    let mut pay = payment("-20.00");
    let (application, txn) =
        apply_payment(&pay, &target, by_rule("-20.00", Rule::Proration)).unwrap();
    assert_balanced(&txn);
    assert_eq!(applied(&application, &target), ["credit -20.00"]);
    assert_eq!(
        journal(&txn, &[&target]),
        ["debit receivable 20.00 credit", "credit unapplied_payments 20.00"]
    );
    settle(&txn, &mut target, &mut pay);
    assert_eq!(balances(&target), ["0.00"]);
    assert_eq!(pay.unapplied, usd("0.00"));
}

#[test]
fn a_negative_payment_cannot_pay_a_positive_invoice() {
    let target = seed_003_invoice();
    let pay = payment("-20.00");
    assert_eq!(
        apply_payment(&pay, &target, by_rule("-20.00", Rule::NetFirst)),
        Err(over(target.id.as_str(), "53.13", usd("-20.00")))
    );
    assert_eq!(
        apply_payment(&pay, &target, by_rule("20.00", Rule::NetFirst)),
        Err(Rejection::InsufficientUnapplied {
            source_id: pay.id.to_string(),
            available: usd("-20.00"),
            attempted: usd("20.00"),
        })
    );
}

#[test]
fn a_positive_payment_cannot_pay_a_negative_invoice() {
    let target = negative_invoice();
    let pay = payment("20.00");
    assert_eq!(
        apply_payment(&pay, &target, by_rule("20.00", Rule::NetFirst)),
        Err(over(target.id.as_str(), "-20.00", usd("20.00")))
    );
    assert_eq!(
        apply_payment(&pay, &target, by_rule("-20.00", Rule::NetFirst)),
        Err(Rejection::InsufficientUnapplied {
            source_id: pay.id.to_string(),
            available: usd("20.00"),
            attempted: usd("-20.00"),
        })
    );
}

#[test]
fn the_most_negative_item_amount_is_refused_without_panicking() {
    let target = negative_invoice();
    let most_negative = Money::new(i64::MIN, Currency::USD);
    let item = ItemAmount {
        item_id: target.items[0].id.clone(),
        amount: most_negative,
        credit_memo_item_id: None,
    };
    assert_eq!(
        apply_payment(&payment("-20.00"), &target, Spread::Items(vec![item])),
        Err(over(target.items[0].id.as_str(), "-20.00", most_negative))
    );
}

#[test]
fn the_most_negative_document_amount_is_refused_without_panicking() {
    let target = negative_invoice();
    let most_negative = Money::new(i64::MIN, Currency::USD);
    for rule in [Rule::Proration, Rule::Sequential, Rule::NetFirst] {
        assert_eq!(
            apply_payment(&payment("-20.00"), &target, Spread::Amount(most_negative, rule)),
            Err(over(target.id.as_str(), "-20.00", most_negative))
        );
    }
}

// ---- reversals --------------------------------------------------------------------------

#[test]
fn reversing_a_whole_application_restores_every_balance_exactly() {
    let (mut target, mut pay, mut application) = seed_003_prorated();
    let txn = reverse_and_settle(&mut application, None, &mut target, &mut pay);
    assert_eq!(
        journal(&txn, &[&target]),
        [
            "debit receivable 50.00 A",
            "debit receivable 3.13 A tax",
            "credit unapplied_payments 53.13",
        ]
    );
    assert_eq!(txn.kind(), TxnKind::ApplicationReversal);
    assert_eq!(txn.effective_date(), day(5));
    assert_eq!(txn.subject_id(), Some(application.id.as_str()));
    assert_eq!(txn.effects().customer.balance(), 0);
    assert_eq!(balances(&target), ["100.00", "6.26", "-50.00", "-3.13"]);
    assert_eq!(pay.unapplied, usd("53.13"));
    assert_eq!(application.net(), usd("0.00"));
    assert_eq!(application.amount(), usd("53.13"));
    assert_eq!(application.status(), "reversed");
}

#[test]
fn reversing_what_is_already_reversed_is_over_reversal() {
    let (mut target, mut pay, mut application) = seed_003_prorated();
    reverse_and_settle(&mut application, None, &mut target, &mut pay);
    let refused = reverse(&application, None, ids().txn(), day(6));
    assert_eq!(
        refused,
        Err(Rejection::OverReversal {
            id: application.id.to_string(),
            remaining: usd("0.00"),
            attempted: usd("0.00"),
        })
    );
    assert_eq!(refused.unwrap_err().code(), "over_reversal");
    assert!(matches!(
        reverse(&application, Some(usd("0.01")), ids().txn(), day(6)),
        Err(Rejection::OverReversal { .. })
    ));
}

#[test]
fn a_partial_reversal_is_spread_in_proportion_to_what_is_still_applied() {
    let (mut target, mut pay, mut application) = seed_003_prorated();
    let txn = reverse_and_settle(&mut application, Some("10.00"), &mut target, &mut pay);
    // 10.00 × 50.00/53.13 = 9.4109 and 10.00 × 3.13/53.13 = 0.5891.
    assert_eq!(
        journal(&txn, &[&target]),
        [
            "debit receivable 9.41 A",
            "debit receivable 0.59 A tax",
            "credit unapplied_payments 10.00",
        ]
    );
    assert_eq!(balances(&target), ["59.41", "3.72", "-50.00", "-3.13"]);
    assert_eq!(pay.unapplied, usd("10.00"));
    assert_eq!(application.net(), usd("43.13"));
    assert_eq!(application.status(), "partially_reversed");
    assert_eq!(
        reverse(&application, Some(usd("43.14")), ids().txn(), day(6)),
        Err(Rejection::OverReversal {
            id: application.id.to_string(),
            remaining: usd("43.13"),
            attempted: usd("43.14"),
        })
    );
    let rest = reverse_and_settle(&mut application, None, &mut target, &mut pay);
    assert_eq!(
        journal(&rest, &[&target]),
        [
            "debit receivable 40.59 A",
            "debit receivable 2.54 A tax",
            "credit unapplied_payments 43.13",
        ]
    );
    assert_eq!(balances(&target), ["100.00", "6.26", "-50.00", "-3.13"]);
    assert_eq!(pay.unapplied, usd("53.13"));
    assert_eq!(application.status(), "reversed");
}

#[test]
fn a_reversal_must_have_the_application_sign_and_currency() {
    let (_, _, application) = seed_003_prorated();
    let over = |attempted: Money| {
        Err(Rejection::OverReversal {
            id: application.id.to_string(),
            remaining: usd("53.13"),
            attempted,
        })
    };
    assert_eq!(reverse(&application, Some(usd("-1.00")), ids().txn(), day(5)), over(usd("-1.00")));
    assert_eq!(reverse(&application, Some(usd("0.00")), ids().txn(), day(5)), over(usd("0.00")));
    assert_eq!(
        reverse(&application, Some(Money::new(100, currency("EUR"))), ids().txn(), day(5)),
        Err(Rejection::CurrencyMismatch { expected: "USD".to_owned(), got: "EUR".to_owned() })
    );
}

#[test]
fn a_mixed_sign_application_is_reversed_whole_or_not_at_all() {
    let mut target = seed_003_invoice();
    let mut pay = payment("53.13");
    let mut application = apply_and_settle(&mut pay, &mut target, by_rule("53.13", Rule::NetFirst));
    assert_eq!(
        reverse(&application, Some(usd("10.00")), ids().txn(), day(5)),
        Err(Rejection::refused(Input::Amount, Flaw::MixedSignsReversedWhole))
    );
    reverse_and_settle(&mut application, None, &mut target, &mut pay);
    assert_eq!(balances(&target), ["100.00", "6.26", "-50.00", "-3.13"]);
    assert_eq!(pay.unapplied, usd("53.13"));
}

#[test]
fn a_zero_sum_application_can_only_be_reversed_whole() {
    let (mut target, mut pay, _) = seed_003_prorated();
    let spread = per_item(&target, &[(0, "50.00"), (1, "3.13"), (2, "-50.00"), (3, "-3.13")]);
    let mut zeroing = apply_and_settle(&mut pay, &mut target, spread);
    assert!(matches!(
        reverse(&zeroing, Some(usd("0.01")), ids().txn(), day(5)),
        Err(Rejection::Refused { input: Input::Amount, flaw: Flaw::MixedSignsReversedWhole })
    ));
    reverse_and_settle(&mut zeroing, None, &mut target, &mut pay);
    assert_eq!(balances(&target), ["50.00", "3.13", "-50.00", "-3.13"]);
    assert_eq!(pay.unapplied, usd("0.00"));
}

#[test]
fn a_negative_application_reverses_partly_with_negative_amounts() {
    let mut target = negative_invoice();
    let mut pay = payment("-20.00");
    let mut application =
        apply_and_settle(&mut pay, &mut target, by_rule("-20.00", Rule::NetFirst));
    let txn = reverse_and_settle(&mut application, Some("-5.00"), &mut target, &mut pay);
    assert_eq!(
        journal(&txn, &[&target]),
        ["credit receivable 5.00 credit", "debit unapplied_payments 5.00"]
    );
    assert_eq!(balances(&target), ["-5.00"]);
    assert_eq!(pay.unapplied, usd("-5.00"));
    let over = |attempted: Money| {
        Err(Rejection::OverReversal {
            id: application.id.to_string(),
            remaining: usd("-15.00"),
            attempted,
        })
    };
    assert_eq!(
        reverse(&application, Some(usd("-15.01")), ids().txn(), day(5)),
        over(usd("-15.01"))
    );
    assert_eq!(reverse(&application, Some(usd("5.00")), ids().txn(), day(5)), over(usd("5.00")));
    let most_negative = Money::new(i64::MIN, Currency::USD);
    assert_eq!(
        reverse(&application, Some(most_negative), ids().txn(), day(5)),
        over(most_negative)
    );
}

// ---- properties -------------------------------------------------------------------------

/// One application attempt, sized from the target's balances when it runs.
#[derive(Debug, Clone)]
enum Step {
    /// A document-level amount: `per_mille` of the balance (at least one unit), by `rule`.
    Amount { rule: Rule, per_mille: i64 },
    /// A document-level amount `extra` units beyond the balance.
    Beyond { rule: Rule, extra: i64 },
    /// Per-item amounts: `per_mille[i]` of item i's balance (negative: the wrong sign; above
    /// 1000: more than the balance).
    Items { per_mille: Vec<i64> },
}

fn any_rule() -> impl Strategy<Value = Rule> {
    prop::sample::select(vec![Rule::Proration, Rule::Sequential, Rule::NetFirst])
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any_rule(), prop_oneof![1_i64..=1000, Just(1000)])
            .prop_map(|(rule, per_mille)| Step::Amount { rule, per_mille }),
        1 => (any_rule(), 1_i64..=1000).prop_map(|(rule, extra)| Step::Beyond { rule, extra }),
        3 => prop::collection::vec(
            prop_oneof![6 => 0_i64..=1000, 2 => Just(0), 2 => Just(1000), 1 => -100_i64..=1100],
            18,
        )
        .prop_map(|per_mille| Step::Items { per_mille }),
    ]
}

/// Random charges of either sign (minor units) with up to two taxes each (hundredths of a
/// percent, up to 30%).
fn any_charges() -> impl Strategy<Value = Vec<(i64, Vec<i64>)>> {
    prop::collection::vec(
        (
            prop_oneof![-1_000_000_i64..=1_000_000, -100_i64..=100],
            prop::collection::vec(0_i64..=3000, 0..=2),
        ),
        1..=6,
    )
}

fn random_invoice(charges: &[(i64, Vec<i64>)]) -> Document {
    invoice(
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
            .collect(),
    )
}

fn share(total: i64, part: i64, whole: i64) -> i64 {
    i64::try_from(i128::from(total) * i128::from(part) / i128::from(whole)).expect("a share")
}

/// The outcome `apply` must give for `step` on `target`: the spread and the amount it moves,
/// or the rejection it must give.
fn expect(step: &Step, target: &Document) -> (Spread, Result<i64, Rejection>) {
    let balance = target.balance();
    let b = balance.minor();
    let usd = |minor: i64| Money::new(minor, Currency::USD);
    let over_document = |attempted: i64| Rejection::OverApplication {
        id: target.id.to_string(),
        balance,
        attempted: usd(attempted),
    };
    match step {
        Step::Amount { rule, per_mille } => {
            let amount = share(b.abs(), *per_mille, 1000).max(1) * b.signum();
            let expected = if b == 0 {
                // Nothing to pay: the smallest unit is already too much.
                Err(over_document(1))
            } else {
                Ok(amount)
            };
            let amount = if b == 0 { 1 } else { amount };
            (Spread::Amount(usd(amount), *rule), expected)
        }
        Step::Beyond { rule, extra } => {
            let amount = b + extra * if b < 0 { -1 } else { 1 };
            (Spread::Amount(usd(amount), *rule), Err(over_document(amount)))
        }
        Step::Items { per_mille } => {
            let items: Vec<ItemAmount> = target
                .items
                .iter()
                .zip(per_mille)
                .map(|(item, per_mille)| ItemAmount {
                    item_id: item.id.clone(),
                    amount: usd(share(item.balance.minor(), *per_mille, 1000)),
                    credit_memo_item_id: None,
                })
                .collect();
            let offending = items.iter().zip(&target.items).find(|(wanted, item)| {
                let (a, b) = (wanted.amount.minor(), item.balance.minor());
                a != 0 && (a.signum() != b.signum() || a.abs() > b.abs())
            });
            let total: i64 = items.iter().map(|i| i.amount.minor()).sum();
            let after = b - total;
            let expected = if let Some((wanted, item)) = offending {
                Err(Rejection::OverApplication {
                    id: item.id.to_string(),
                    balance: item.balance,
                    attempted: wanted.amount,
                })
            } else if items.iter().all(|i| i.amount.is_zero()) {
                Err(Rejection::refused(Input::Items, Flaw::NothingToApply))
            } else if !match b.signum() {
                1 => (0..=b).contains(&after),
                -1 => (b..=0).contains(&after),
                _ => after == 0,
            } {
                Err(over_document(total))
            } else {
                Ok(total)
            };
            (Spread::Items(items), expected)
        }
    }
}

/// Checks what an accepted application did to the target, item by item and rule by rule.
fn check_moves(
    step: &Step,
    before: &Document,
    after: &Document,
    application: &Application,
) -> Result<(), TestCaseError> {
    let sign = before.balance().minor().signum();
    for (was, now) in before.items.iter().zip(&after.items) {
        let (b, a) = (was.balance.minor(), now.balance.minor());
        prop_assert!(b.signum() * a >= 0 && a.abs() <= b.abs(), "item went from {} to {}", b, a);
    }
    let (b, a) = (before.balance().minor(), after.balance().minor());
    prop_assert!(b.signum() * a >= 0 && (b != 0 || a == 0), "document went from {} to {}", b, a);
    prop_assert_eq!(a, b - application.amount().minor());
    prop_assert!(application.items.iter().all(|i| !i.amount.is_zero() && i.net == i.amount));
    let moved: Vec<i64> = before
        .items
        .iter()
        .zip(&after.items)
        .map(|(was, now)| (was.balance.minor() - now.balance.minor()) * sign)
        .collect();
    let oriented: Vec<i64> = before.items.iter().map(|i| i.balance.minor() * sign).collect();
    if let Step::Amount { rule, per_mille } = step {
        prop_assert!(a.abs() < b.abs(), "a document-level amount moves the document toward zero");
        let wanted = (b - a) * sign;
        match rule {
            Rule::Proration => {
                let weight: i64 = oriented.iter().filter(|o| **o > 0).sum();
                for (o, m) in oriented.iter().zip(&moved) {
                    if *o <= 0 {
                        prop_assert_eq!(*m, 0, "proration leaves negative items alone");
                    } else {
                        let exact = i128::from(wanted) * i128::from(*o);
                        let got = i128::from(*m) * i128::from(weight);
                        prop_assert!(
                            (exact - got).abs() < i128::from(weight),
                            "{} of {} is not within a unit of its share",
                            m,
                            o
                        );
                    }
                }
            }
            Rule::Sequential => {
                let mut open_seen = false;
                for (o, m) in oriented.iter().zip(&moved) {
                    if *o <= 0 {
                        prop_assert_eq!(*m, 0, "sequential leaves negative items alone");
                        continue;
                    }
                    prop_assert!(!open_seen || *m == 0, "sequential filled past an open item");
                    if m < o {
                        open_seen = true;
                    }
                }
            }
            Rule::NetFirst => {
                for (o, m) in oriented.iter().zip(&moved) {
                    if *o < 0 {
                        prop_assert_eq!(m, o, "net first closes every negative item");
                    }
                }
                if *per_mille == 1000 {
                    prop_assert_eq!(
                        after.open_item_count(),
                        0,
                        "settled in full, every item is zero"
                    );
                }
            }
        }
    }
    Ok(())
}

/// Reverses part of an application (when its items share one sign) and checks the spread.
fn check_partial_reversal(
    application: &mut Application,
    target: &mut Document,
    per_mille: i64,
) -> Result<(), TestCaseError> {
    let nets: Vec<i64> = application.items.iter().map(|i| i.net.minor()).collect();
    let remaining: i64 = nets.iter().sum();
    let mixed = nets.iter().any(|n| n.signum() != remaining.signum());
    let amount = share(remaining, per_mille, 1000);
    let result = reverse(application, Some(Money::new(amount, Currency::USD)), ids().txn(), day(9));
    if mixed {
        prop_assert_eq!(
            result,
            Err(Rejection::refused(Input::Amount, Flaw::MixedSignsReversedWhole))
        );
        return Ok(());
    }
    if amount == 0 {
        prop_assert!(matches!(result, Err(Rejection::OverReversal { .. })), "{:?}", result);
        return Ok(());
    }
    let txn = result.expect("a partial reversal within what is applied");
    assert_balanced(&txn);
    prop_assert_eq!(txn.effects().customer.balance(), 0);
    let before = application.clone();
    fold::document(target, &txn.effects()).unwrap();
    record_reversal(application, &txn);
    let mut reversed = 0;
    for (was, now) in before.items.iter().zip(&application.items) {
        let part = was.net.minor() - now.net.minor();
        reversed += part;
        prop_assert!(
            part.signum() * was.net.minor().signum() >= 0 && part.abs() <= was.net.minor().abs()
        );
        let exact = i128::from(amount) * i128::from(was.net.minor());
        let got = i128::from(part) * i128::from(remaining);
        prop_assert!((exact - got).abs() < i128::from(remaining.abs()), "{} of {}", part, was.net);
    }
    prop_assert_eq!(reversed, amount);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn applications_move_balances_toward_zero_and_reversals_restore_them(
        charges in any_charges(),
        steps in prop::collection::vec(any_step(), 1..=5),
        reverse_per_mille in 0_i64..=1000,
    ) {
        let original = random_invoice(&charges);
        let mut target = original.clone();
        let alices = alice();
        let mut applications = Vec::new();
        for step in &steps {
            let (spread, expected) = expect(step, &target);
            let wanted = expected.as_ref().map_or(0, |moved| *moved);
            // A pool holding exactly what is asked (the funds are tested elsewhere).
            let pool = Source::CreditBalance {
                customer_id: &alices,
                available: Money::new(wanted, Currency::USD),
            };
            let result = apply_source(pool, &target, spread);
            let (application, txn) = match (result, expected) {
                (Ok(done), Ok(_)) => done,
                (Err(got), Err(want)) => {
                    prop_assert_eq!(got, want);
                    continue;
                }
                (got, want) => {
                    return Err(TestCaseError::fail(format!(
                        "{step:?} gave {got:?}, expected {want:?}"
                    )));
                }
            };
            assert_balanced(&txn);
            let effects = txn.effects();
            prop_assert_eq!(effects.customer.balance(), 0);
            prop_assert_eq!(application.amount().minor(), wanted);
            let before = target.clone();
            fold::document(&mut target, &effects).unwrap();
            check_moves(step, &before, &target, &application)?;
            applications.push(application);
        }
        if let Some(first) = applications.first_mut() {
            check_partial_reversal(first, &mut target, reverse_per_mille)?;
        }
        for application in applications.iter().rev() {
            if application.net().is_zero() && application.items.iter().all(|i| i.net.is_zero()) {
                continue;
            }
            let txn = reverse(application, None, ids().txn(), day(9)).expect("a whole reversal");
            assert_balanced(&txn);
            prop_assert_eq!(txn.effects().customer.balance(), 0);
            fold::document(&mut target, &txn.effects()).unwrap();
        }
        prop_assert_eq!(balances(&target), balances(&original));
    }
}

#[test]
fn the_largest_document_applies_and_reverses_in_any_item_order_without_overflow() {
    // Items whose sides come near the bound of 10^14 minor units: every running sum must fit.
    let (big, small) = (40_000_000_000_000_i64, -10_000_000_000_000_i64);
    let item = |minor: i64| ItemSpec {
        pricing: Pricing::Amount(Money::new(minor, Currency::USD)),
        ..charge("huge", "0", &[])
    };
    let mut target = invoice(vec![item(big), item(small), item(big)]);
    let owed = target.balance();
    assert_eq!(owed.minor(), 70_000_000_000_000);
    let alices = alice();
    let pool = Source::CreditBalance { customer_id: &alices, available: owed };
    let (netted, txn) = apply_source(pool, &target, Spread::Amount(owed, Rule::NetFirst)).unwrap();
    assert_balanced(&txn);
    assert_eq!(netted.amount(), owed);
    let reversal = reverse(&netted, None, ids().txn(), day(5)).unwrap();
    assert_balanced(&reversal);
    let spread = Spread::Items(
        [(0, big), (2, big), (1, small)]
            .iter()
            .map(|(idx, minor)| ItemAmount {
                item_id: target.items[*idx].id.clone(),
                amount: Money::new(*minor, Currency::USD),
                credit_memo_item_id: None,
            })
            .collect(),
    );
    let (application, txn) = apply_source(pool, &target, spread).unwrap();
    assert_balanced(&txn);
    assert_eq!(application.amount(), owed);
    fold::document(&mut target, &txn.effects()).unwrap();
    assert_eq!(target.open_item_count(), 0);
}
