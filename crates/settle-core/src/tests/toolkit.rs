//! Tests of the operations toolkit: item adjustments, netting, transfers to the credit
//! balance, refunds, voids, credit memo cancels and write-offs.

use chrono::DateTime;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{
    alice, apply_payment, apply_source, assert_balanced, balances, charge, day, draft, ids,
    invoice, journal, payment, per_item, post, seed_003_invoice, settle, spec, usd,
};
use crate::adjustment::{
    AdjustRequest, AdjustmentType, adjust_item, net_items, transfer_to_credit,
};
use crate::application::{Rule, Source, Spread};
use crate::customer::{Balances, Customer};
use crate::document::{
    Document, DocumentKind, DocumentStatus, ItemSpec, Pricing, TaxSpec, WRITE_OFF, draft_document,
    post_document,
};
use crate::error::{Flaw, Input, Operation, Rejection};
use crate::fold;
use crate::ledger::{Account, JournalTxn, TxnKind};
use crate::money::{Currency, Money};
use crate::payment::{Payment, PaymentMethod, PaymentStatus};
use crate::refund::{
    RefundRequest, RefundSource, add_credit_balance, cancel_credit_memo, refund, void_document,
    void_payment,
};

// ---- fixtures ---------------------------------------------------------------------------

/// Adjusts item `idx` of `document` by `amount`, with `credited` already credited on it.
fn adjust(
    document: &Document,
    idx: usize,
    kind: AdjustmentType,
    amount: Money,
    credited: Money,
) -> Result<JournalTxn, Rejection> {
    adjust_item(AdjustRequest {
        txn_id: ids().txn(),
        adjustment_id: ids().adjustment().to_string(),
        document,
        item_id: &document.items[idx].id,
        kind,
        amount,
        credited,
        reason: "goodwill".to_owned(),
        effective_date: day(3),
    })
}

/// Adjusts item `idx` with nothing credited on it yet.
fn adjust_fresh(
    document: &Document,
    idx: usize,
    kind: AdjustmentType,
    amount: &str,
) -> Result<JournalTxn, Rejection> {
    adjust(document, idx, kind, usd(amount), usd("0.00"))
}

/// Seed 003 after its payment of 53.13 was applied by proration: the invoice is at 0.00 while
/// its items are at 50.00, 3.13, −50.00 and −3.13.
fn seed_003_prorated() -> Document {
    let mut target = seed_003_invoice();
    let mut pay = payment("53.13");
    let (_, txn) =
        apply_payment(&pay, &target, Spread::Amount(usd("53.13"), Rule::Proration)).unwrap();
    settle(&txn, &mut target, &mut pay);
    target
}

/// Charge A 30.00 and charge B −80.00 with 6.26% tax (−5.01): the customer is owed 55.01.
fn owed_invoice() -> Document {
    invoice(vec![charge("A", "30.00", &[]), charge("B", "-80.00", &["6.26"])])
}

/// A posted credit memo of items `small` 10.00 and `big` 60.00.
fn two_item_memo() -> Document {
    post(
        draft(
            DocumentKind::CreditMemo,
            vec![charge("small", "10.00", &[]), charge("big", "60.00", &[])],
        )
        .unwrap(),
    )
}

/// A credit memo draft of one item `bad` of 40.00 with `reason`.
fn memo_with_reason(reason: &str) -> Document {
    let mut request = spec(DocumentKind::CreditMemo, vec![charge("bad", "40.00", &[])]);
    request.reason = Some(reason.to_owned());
    let ids = ids();
    let id = ids.document(DocumentKind::CreditMemo);
    draft_document(request, id, DocumentKind::CreditMemo.number(1), &ids).unwrap()
}

/// Alice with `credit_balance` in her credit pool.
fn customer_with_credit(credit_balance: &str) -> Customer {
    Customer {
        id: alice(),
        name: "Alice".to_owned(),
        email: None,
        currency: Currency::USD,
        payment_terms_days: 30,
        metadata: "{}".to_owned(),
        created_at: DateTime::from_timestamp(1_700_000_000, 0).expect("a time"),
        balances: Balances { credit_balance: usd(credit_balance).minor(), ..Balances::default() },
    }
}

/// Refunds `amount` from `source` by check.
fn refund_from(source: RefundSource<'_>, amount: Money) -> Result<JournalTxn, Rejection> {
    refund(RefundRequest {
        txn_id: ids().txn(),
        refund_id: ids().refund().to_string(),
        source,
        amount,
        method: PaymentMethod::Check,
        reference: Some("R-7".to_owned()),
        effective_date: day(4),
    })
}

/// Folds a refund or void into a payment's unapplied and refunded amounts.
fn settle_payment(txn: &JournalTxn, pay: &mut Payment) {
    fold::payment(pay, &txn.effects()).unwrap();
}

/// Applies a transaction's item deltas to a copy of `document`.
fn after(txn: &JournalTxn, document: &Document) -> Document {
    let mut document = document.clone();
    fold::document(&mut document, &txn.effects()).unwrap();
    document
}

fn over(id: &str, balance: &str, attempted: &str) -> Rejection {
    Rejection::OverApplication {
        id: id.to_owned(),
        balance: usd(balance),
        attempted: usd(attempted),
    }
}

fn must_be_above_zero() -> Rejection {
    Rejection::refused(Input::Amount, Flaw::NotPositive)
}

// ---- adjust_item ------------------------------------------------------------------------

#[test]
fn a_credit_adjustment_lowers_a_positive_item_against_revenue_adjustments() {
    let document = seed_003_invoice();
    let txn = adjust_fresh(&document, 0, AdjustmentType::Credit, "10.00").unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::Adjustment);
    assert_eq!(
        journal(&txn, &[&document]),
        ["credit receivable 10.00 A", "debit revenue_adjustments 10.00"]
    );
    assert_eq!(txn.description(), "credit adjustment of A on INV-000001: goodwill");
    let effects = txn.effects();
    assert_eq!(effects.customer.receivable, -1000);
    assert_eq!(effects.customer.balance(), 1000);
    let adjusted = after(&txn, &document);
    assert_eq!(balances(&adjusted), ["90.00", "6.26", "-50.00", "-3.13"]);
    assert_eq!(adjusted.balance(), usd("43.13"));
}

#[test]
fn a_credit_adjustment_of_a_tax_item_posts_against_tax_payable() {
    let document = seed_003_invoice();
    let txn = adjust_fresh(&document, 1, AdjustmentType::Credit, "6.26").unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&document]),
        ["credit receivable 6.26 A tax", "debit tax_payable 6.26"]
    );
    assert_eq!(balances(&after(&txn, &document)), ["100.00", "0.00", "-50.00", "-3.13"]);
}

#[test]
fn a_charge_adjustment_raises_a_negative_item_toward_zero_against_revenue_adjustments() {
    let document = seed_003_invoice();
    let txn = adjust_fresh(&document, 2, AdjustmentType::Charge, "20.00").unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&document]),
        ["debit receivable 20.00 B", "credit revenue_adjustments 20.00"]
    );
    assert_eq!(txn.description(), "charge adjustment of B on INV-000001: goodwill");
    assert_eq!(txn.effects().customer.receivable, 2000);
    let adjusted = after(&txn, &document);
    assert_eq!(balances(&adjusted), ["100.00", "6.26", "-30.00", "-3.13"]);
    assert_eq!(adjusted.balance(), usd("73.13"));
}

#[test]
fn a_charge_adjustment_of_a_negative_tax_item_posts_against_tax_payable() {
    let document = seed_003_invoice();
    let txn = adjust_fresh(&document, 3, AdjustmentType::Charge, "3.13").unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&document]),
        ["debit receivable 3.13 B tax", "credit tax_payable 3.13"]
    );
    assert_eq!(balances(&after(&txn, &document)), ["100.00", "6.26", "-50.00", "0.00"]);
}

#[test]
fn an_adjustment_that_would_pass_zero_is_over_application() {
    let document = seed_003_invoice();
    let a = document.items[0].id.to_string();
    let b = document.items[2].id.to_string();
    assert_eq!(
        adjust_fresh(&document, 0, AdjustmentType::Credit, "100.01"),
        Err(over(&a, "100.00", "100.01"))
    );
    assert_eq!(
        adjust_fresh(&document, 2, AdjustmentType::Charge, "50.01"),
        Err(over(&b, "-50.00", "50.01"))
    );
    let exact = adjust_fresh(&document, 0, AdjustmentType::Credit, "100.00").unwrap();
    assert_eq!(balances(&after(&exact, &document)), ["0.00", "6.26", "-50.00", "-3.13"]);
}

#[test]
fn an_adjustment_in_the_wrong_direction_is_over_application() {
    let document = seed_003_invoice();
    let a = document.items[0].id.to_string();
    let b = document.items[2].id.to_string();
    let refused = adjust_fresh(&document, 0, AdjustmentType::Charge, "1.00");
    assert_eq!(refused, Err(over(&a, "100.00", "1.00")));
    assert_eq!(refused.unwrap_err().code(), "over_application");
    assert_eq!(
        adjust_fresh(&document, 2, AdjustmentType::Credit, "1.00"),
        Err(over(&b, "-50.00", "1.00"))
    );
}

#[test]
fn an_item_at_zero_takes_neither_a_credit_nor_a_charge() {
    let document = seed_003_prorated();
    let closed = after(&net_items(&document, ids().txn(), day(3)).unwrap(), &document);
    let a = closed.items[0].id.to_string();
    for kind in [AdjustmentType::Credit, AdjustmentType::Charge] {
        assert_eq!(adjust_fresh(&closed, 0, kind, "0.01"), Err(over(&a, "0.00", "0.01")));
    }
}

#[test]
fn a_credit_beyond_what_is_left_creditable_is_over_credit() {
    let mut document = seed_003_invoice();
    document.items[0].credited = usd("80.00");
    let item = document.items[0].clone();
    assert_eq!(document.creditable(&item), usd("20.00"));
    let refused = adjust(&document, 0, AdjustmentType::Credit, usd("20.01"), item.credited);
    assert_eq!(
        refused,
        Err(Rejection::OverCredit {
            item_id: item.id.to_string(),
            creditable: document.creditable(&item),
            attempted: usd("20.01"),
        })
    );
    assert_eq!(refused.unwrap_err().code(), "over_credit");
    let txn = adjust(&document, 0, AdjustmentType::Credit, usd("20.00"), item.credited).unwrap();
    assert_balanced(&txn);
    assert_eq!(balances(&after(&txn, &document)), ["80.00", "6.26", "-50.00", "-3.13"]);
}

#[test]
fn a_charge_beyond_what_is_left_creditable_on_a_negative_item_is_over_credit() {
    let mut document = seed_003_invoice();
    document.items[2].credited = usd("45.00");
    let item = document.items[2].clone();
    assert_eq!(document.creditable(&item), usd("5.00"));
    assert_eq!(
        adjust(&document, 2, AdjustmentType::Charge, usd("5.01"), item.credited),
        Err(Rejection::OverCredit {
            item_id: item.id.to_string(),
            creditable: usd("5.00"),
            attempted: usd("5.01"),
        })
    );
    assert!(adjust(&document, 2, AdjustmentType::Charge, usd("5.00"), item.credited).is_ok());
}

#[test]
fn passing_zero_is_checked_before_what_is_left_creditable() {
    let mut document = seed_003_invoice();
    document.items[0].credited = usd("100.00");
    let a = document.items[0].id.to_string();
    assert_eq!(
        adjust(&document, 0, AdjustmentType::Credit, usd("100.01"), usd("100.00")),
        Err(over(&a, "100.00", "100.01"))
    );
}

#[test]
fn an_adjustment_of_a_draft_is_document_not_posted() {
    let document = draft(DocumentKind::Invoice, vec![charge("A", "100.00", &[])]).unwrap();
    let refused = adjust_fresh(&document, 0, AdjustmentType::Credit, "0.00");
    assert_eq!(refused, Err(Rejection::DocumentNotPosted { id: document.id.to_string() }));
    assert_eq!(refused.unwrap_err().code(), "document_not_posted");
}

#[test]
fn an_adjustment_needs_an_amount_above_zero_an_own_item_and_a_receivable_document() {
    let document = seed_003_invoice();
    for amount in ["0.00", "-1.00"] {
        assert_eq!(
            adjust_fresh(&document, 0, AdjustmentType::Credit, amount),
            Err(must_be_above_zero())
        );
    }
    let other = seed_003_invoice();
    let refused = adjust_item(AdjustRequest {
        txn_id: ids().txn(),
        adjustment_id: "adj_1".to_owned(),
        document: &document,
        item_id: &other.items[0].id,
        kind: AdjustmentType::Credit,
        amount: usd("1.00"),
        credited: usd("0.00"),
        reason: "goodwill".to_owned(),
        effective_date: day(3),
    });
    assert!(
        matches!(
            &refused,
            Err(Rejection::Refused { input: Input::Item, flaw: Flaw::NotAnItemOf { .. } })
        ),
        "{refused:?}"
    );
    let memo = two_item_memo();
    let refused = adjust_fresh(&memo, 0, AdjustmentType::Credit, "1.00");
    assert_eq!(
        refused,
        Err(Rejection::refused(Input::Document, Flaw::NotReceivable(Operation::Adjust)))
    );
}

#[test]
fn creditable_is_the_size_of_the_amount_less_what_is_credited() {
    let mut document = seed_003_invoice();
    assert_eq!(document.creditable(&document.items[0]), usd("100.00"));
    assert_eq!(document.creditable(&document.items[3]), usd("3.13"));
    document.items[2].credited = usd("20.00");
    assert_eq!(document.creditable(&document.items[2]), usd("30.00"));
}

#[test]
fn adjustment_types_read_back_their_names() {
    for kind in [AdjustmentType::Credit, AdjustmentType::Charge] {
        assert_eq!(AdjustmentType::parse(kind.name()), Some(kind));
        assert_eq!(kind.to_string(), kind.name());
    }
    assert_eq!(AdjustmentType::parse("refund"), None);
}

// ---- net_items --------------------------------------------------------------------------

#[test]
fn netting_seed_003_after_proration_closes_every_item_and_keeps_the_balance() {
    let document = seed_003_prorated();
    assert_eq!(balances(&document), ["50.00", "3.13", "-50.00", "-3.13"]);
    let txn = net_items(&document, ids().txn(), day(3)).unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::ItemsNetted);
    assert_eq!(txn.subject_id(), Some(document.id.as_str()));
    assert_eq!(
        journal(&txn, &[&document]),
        [
            "credit receivable 50.00 A",
            "credit receivable 3.13 A tax",
            "debit receivable 50.00 B",
            "debit receivable 3.13 B tax",
        ]
    );
    assert!(txn.postings().iter().all(|p| p.account == Account::Receivable));
    let effects = txn.effects();
    assert_eq!(effects.customer.receivable, 0);
    assert_eq!(effects.customer.balance(), 0);
    let netted = after(&txn, &document);
    assert_eq!(balances(&netted), ["0.00", "0.00", "0.00", "0.00"]);
    assert_eq!(netted.balance(), document.balance());
    assert_eq!(netted.open_item_count(), 0);
}

#[test]
fn netting_a_fresh_seed_003_lowers_positive_items_in_document_order() {
    let document = seed_003_invoice();
    let txn = net_items(&document, ids().txn(), day(3)).unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&document]),
        ["credit receivable 53.13 A", "debit receivable 50.00 B", "debit receivable 3.13 B tax"]
    );
    let netted = after(&txn, &document);
    assert_eq!(balances(&netted), ["46.87", "6.26", "0.00", "0.00"]);
    assert_eq!(netted.balance(), usd("53.13"));
}

#[test]
fn a_document_with_nothing_to_net_is_refused() {
    let refuse = |document: &Document| {
        let refused = net_items(document, ids().txn(), day(3));
        assert_eq!(refused, Err(Rejection::refused(Input::Document, Flaw::NothingToNet)));
    };
    refuse(&invoice(vec![charge("A", "100.00", &["6.26"])]));
    refuse(&invoice(vec![charge("B", "-50.00", &["6.26"])]));
    let document = seed_003_prorated();
    refuse(&after(&net_items(&document, ids().txn(), day(3)).unwrap(), &document));
}

#[test]
fn netting_needs_a_posted_receivable_document() {
    let document = draft(DocumentKind::Invoice, vec![charge("A", "1.00", &[])]).unwrap();
    assert_eq!(
        net_items(&document, ids().txn(), day(3)),
        Err(Rejection::DocumentNotPosted { id: document.id.to_string() })
    );
    let refused = net_items(&two_item_memo(), ids().txn(), day(3));
    assert_eq!(
        refused,
        Err(Rejection::refused(Input::Document, Flaw::NotReceivable(Operation::Net)))
    );
}

// ---- transfer_to_credit -----------------------------------------------------------------

#[test]
fn a_full_transfer_closes_every_item_and_credits_the_credit_balance() {
    let document = owed_invoice();
    assert_eq!(balances(&document), ["30.00", "-80.00", "-5.01"]);
    assert_eq!(document.balance(), usd("-55.01"));
    let txn = transfer_to_credit(&document, None, ids().txn(), day(3)).unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::TransferredToCredit);
    assert_eq!(
        journal(&txn, &[&document]),
        [
            "credit receivable 30.00 A",
            "debit receivable 80.00 B",
            "debit receivable 5.01 B tax",
            "credit credit_balance 55.01",
        ]
    );
    let effects = txn.effects();
    assert_eq!(effects.customer.credit_balance, 5501);
    assert_eq!(effects.customer.receivable, 5501);
    assert_eq!(effects.customer.balance(), 0);
    let moved = after(&txn, &document);
    assert_eq!(balances(&moved), ["0.00", "0.00", "0.00"]);
    assert_eq!(moved.open_item_count(), 0);
}

#[test]
fn a_partial_transfer_nets_first_then_moves_only_the_amount() {
    let document = owed_invoice();
    let txn = transfer_to_credit(&document, Some(usd("20.00")), ids().txn(), day(3)).unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&document]),
        ["credit receivable 30.00 A", "debit receivable 50.00 B", "credit credit_balance 20.00"]
    );
    assert_eq!(txn.effects().customer.credit_balance, 2000);
    let moved = after(&txn, &document);
    assert_eq!(balances(&moved), ["0.00", "-30.00", "-5.01"]);
    assert_eq!(moved.balance(), usd("-35.01"));
    let rest = transfer_to_credit(&moved, None, ids().txn(), day(4)).unwrap();
    assert_eq!(journal(&rest, &[&moved]).last().unwrap(), "credit credit_balance 35.01");
    assert_eq!(balances(&after(&rest, &moved)), ["0.00", "0.00", "0.00"]);
}

#[test]
fn a_document_whose_balance_is_not_negative_is_not_negative() {
    let owed = seed_003_invoice();
    let refused = transfer_to_credit(&owed, None, ids().txn(), day(3));
    assert_eq!(
        refused,
        Err(Rejection::NotNegative { id: owed.id.to_string(), balance: usd("53.13") })
    );
    assert_eq!(refused.unwrap_err().code(), "not_negative");
    let settled = seed_003_prorated();
    assert_eq!(
        transfer_to_credit(&settled, Some(usd("1.00")), ids().txn(), day(3)),
        Err(Rejection::NotNegative { id: settled.id.to_string(), balance: usd("0.00") })
    );
}

#[test]
fn a_transfer_above_the_negative_balance_is_over_application() {
    let document = owed_invoice();
    let id = document.id.to_string();
    assert_eq!(
        transfer_to_credit(&document, Some(usd("55.02")), ids().txn(), day(3)),
        Err(over(&id, "-55.01", "55.02"))
    );
    for amount in ["0.00", "-1.00"] {
        assert_eq!(
            transfer_to_credit(&document, Some(usd(amount)), ids().txn(), day(3)),
            Err(must_be_above_zero())
        );
    }
    let draft = draft(DocumentKind::Invoice, vec![charge("B", "-1.00", &[])]).unwrap();
    assert_eq!(
        transfer_to_credit(&draft, None, ids().txn(), day(3)),
        Err(Rejection::DocumentNotPosted { id: draft.id.to_string() })
    );
}

// ---- refund -----------------------------------------------------------------------------

#[test]
fn a_refund_from_a_payment_lowers_unapplied_raises_refunded_and_credits_cash() {
    let mut pay = payment("100.00");
    let txn = refund_from(RefundSource::Payment(&pay), usd("40.00")).unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::Refund);
    assert_eq!(journal(&txn, &[]), ["debit unapplied_payments 40.00", "credit cash 40.00"]);
    assert_eq!(txn.description(), format!("Refund of payment {} (check, R-7)", pay.id));
    let effects = txn.effects();
    assert_eq!(effects.payments_unapplied[&pay.id], -4000);
    assert_eq!(effects.payments_refunded[&pay.id], 4000);
    assert_eq!(effects.accounts[&(Account::Cash, Currency::USD)], (0, 4000));
    assert_eq!(effects.customer.unapplied_payments, -4000);
    assert_eq!(effects.customer.balance(), -4000);
    settle_payment(&txn, &mut pay);
    assert_eq!(pay.unapplied, usd("60.00"));
    assert_eq!(pay.refunded, usd("40.00"));
    assert_eq!(pay.applied(), usd("0.00"));
}

#[test]
fn a_refund_of_more_than_a_payment_has_unapplied_is_insufficient_unapplied() {
    let mut target = seed_003_invoice();
    let mut pay = payment("100.00");
    let (_, txn) =
        apply_payment(&pay, &target, Spread::Amount(usd("53.13"), Rule::NetFirst)).unwrap();
    settle(&txn, &mut target, &mut pay);
    assert_eq!(pay.unapplied, usd("46.87"));
    let refused = refund_from(RefundSource::Payment(&pay), usd("46.88"));
    assert_eq!(
        refused,
        Err(Rejection::InsufficientUnapplied {
            source_id: pay.id.to_string(),
            available: usd("46.87"),
            attempted: usd("46.88"),
        })
    );
    assert_eq!(refused.unwrap_err().code(), "insufficient_unapplied");
    let txn = refund_from(RefundSource::Payment(&pay), usd("46.87")).unwrap();
    settle_payment(&txn, &mut pay);
    assert_eq!(pay.unapplied, usd("0.00"));
    assert_eq!(pay.refunded, usd("46.87"));
    assert_eq!(pay.applied(), usd("53.13"));
}

#[test]
fn a_refund_from_a_voided_payment_is_refused() {
    let mut pay = payment("100.00");
    void_payment(&mut pay, ids().txn(), day(3)).unwrap();
    assert_eq!(
        refund_from(RefundSource::Payment(&pay), usd("1.00")),
        Err(Rejection::DocumentVoided { id: pay.id.to_string() })
    );
}

#[test]
fn a_refund_from_a_credit_memo_draws_its_items_in_order() {
    let memo = two_item_memo();
    let txn = refund_from(RefundSource::CreditMemo(&memo), usd("30.00")).unwrap();
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&memo]),
        ["debit credit_memos 10.00 small", "debit credit_memos 20.00 big", "credit cash 30.00"]
    );
    assert_eq!(txn.description(), "Refund of credit memo CM-000001 (check, R-7)");
    let effects = txn.effects();
    assert_eq!(effects.customer.credit_memo_balance, -3000);
    assert_eq!(effects.customer.balance(), -3000);
    let drawn = after(&txn, &memo);
    assert_eq!(balances(&drawn), ["0.00", "40.00"]);
    assert_eq!(
        refund_from(RefundSource::CreditMemo(&drawn), usd("40.01")),
        Err(Rejection::InsufficientUnapplied {
            source_id: memo.id.to_string(),
            available: usd("40.00"),
            attempted: usd("40.01"),
        })
    );
    let rest = refund_from(RefundSource::CreditMemo(&drawn), usd("40.00")).unwrap();
    assert_eq!(journal(&rest, &[&drawn]), ["debit credit_memos 40.00 big", "credit cash 40.00"]);
    assert_eq!(balances(&after(&rest, &drawn)), ["0.00", "0.00"]);
}

#[test]
fn a_refund_of_more_than_a_credit_memo_holds_is_insufficient_unapplied() {
    let memo = two_item_memo();
    assert_eq!(
        refund_from(RefundSource::CreditMemo(&memo), usd("70.01")),
        Err(Rejection::InsufficientUnapplied {
            source_id: memo.id.to_string(),
            available: usd("70.00"),
            attempted: usd("70.01"),
        })
    );
}

#[test]
fn a_refund_source_must_be_a_posted_credit_memo() {
    let draft_memo = draft(DocumentKind::CreditMemo, vec![charge("c", "5.00", &[])]).unwrap();
    assert_eq!(
        refund_from(RefundSource::CreditMemo(&draft_memo), usd("1.00")),
        Err(Rejection::DocumentNotPosted { id: draft_memo.id.to_string() })
    );
    let refused = refund_from(RefundSource::CreditMemo(&seed_003_invoice()), usd("1.00"));
    assert_eq!(refused, Err(Rejection::refused(Input::Document, Flaw::NotACreditMemo)));
}

#[test]
fn a_refund_from_the_credit_balance_debits_the_pool() {
    let alice = customer_with_credit("25.00");
    let txn = refund_from(RefundSource::CreditBalance(&alice), usd("25.00")).unwrap();
    assert_balanced(&txn);
    assert_eq!(journal(&txn, &[]), ["debit credit_balance 25.00", "credit cash 25.00"]);
    assert_eq!(txn.customer_id(), &alice.id);
    let effects = txn.effects();
    assert_eq!(effects.customer.credit_balance, -2500);
    assert_eq!(effects.customer.balance(), -2500);
    assert!(effects.payments_refunded.is_empty());
    assert_eq!(
        refund_from(RefundSource::CreditBalance(&alice), usd("25.01")),
        Err(Rejection::InsufficientUnapplied {
            source_id: "credit_balance".to_owned(),
            available: usd("25.00"),
            attempted: usd("25.01"),
        })
    );
}

#[test]
fn a_refund_of_zero_or_less_is_refused_from_every_source() {
    let pay = payment("100.00");
    let memo = two_item_memo();
    let alice = customer_with_credit("25.00");
    for amount in ["0.00", "-1.00"] {
        for source in [
            RefundSource::Payment(&pay),
            RefundSource::CreditMemo(&memo),
            RefundSource::CreditBalance(&alice),
        ] {
            assert_eq!(refund_from(source, usd(amount)), Err(must_be_above_zero()), "{amount}");
        }
    }
}

#[test]
fn an_amount_of_zero_is_checked_before_the_source() {
    let mut pay = payment("100.00");
    void_payment(&mut pay, ids().txn(), day(3)).unwrap();
    assert_eq!(refund_from(RefundSource::Payment(&pay), usd("0.00")), Err(must_be_above_zero()));
}

// ---- void_document ----------------------------------------------------------------------

#[test]
fn voiding_reverses_what_is_left_on_each_item_against_revenue_or_tax_payable() {
    let document = seed_003_invoice();
    let adjustment = adjust_fresh(&document, 0, AdjustmentType::Credit, "10.00").unwrap();
    let mut document = after(&adjustment, &document);
    let before = document.clone();
    let txn = void_document(&mut document, ids().txn(), day(5)).unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::DocumentVoided);
    assert_eq!(txn.description(), "Voided INV-000001");
    assert_eq!(
        journal(&txn, &[&before]),
        [
            "credit receivable 90.00 A",
            "debit revenue 90.00",
            "credit receivable 6.26 A tax",
            "debit tax_payable 6.26",
            "debit receivable 50.00 B",
            "credit revenue 50.00",
            "debit receivable 3.13 B tax",
            "credit tax_payable 3.13",
        ]
    );
    assert_eq!(document.status, DocumentStatus::Voided);
    assert_eq!(txn.effects().customer.receivable, -4313);
    fold::document(&mut document, &txn.effects()).unwrap();
    assert_eq!(balances(&document), ["0.00", "0.00", "0.00", "0.00"]);
}

#[test]
fn a_voided_document_cannot_be_voided_again_or_take_more_moves() {
    let mut document = owed_invoice();
    let txn = void_document(&mut document, ids().txn(), day(5)).unwrap();
    let voided = Err(Rejection::DocumentVoided { id: document.id.to_string() });
    let mut again = document.clone();
    assert_eq!(void_document(&mut again, ids().txn(), day(6)), voided);
    assert_eq!(voided.clone().unwrap_err().code(), "document_voided");
    fold::document(&mut document, &txn.effects()).unwrap();
    assert_eq!(net_items(&document, ids().txn(), day(6)), voided);
    assert_eq!(transfer_to_credit(&document, None, ids().txn(), day(6)), voided);
    assert_eq!(adjust_fresh(&document, 1, AdjustmentType::Charge, "1.00"), voided);
}

#[test]
fn voiding_needs_a_posted_receivable_document() {
    let mut draft = draft(DocumentKind::Invoice, vec![charge("A", "1.00", &[])]).unwrap();
    assert_eq!(
        void_document(&mut draft, ids().txn(), day(5)),
        Err(Rejection::DocumentNotPosted { id: draft.id.to_string() })
    );
    assert_eq!(draft.status, DocumentStatus::Draft);
    let mut memo = two_item_memo();
    let refused = void_document(&mut memo, ids().txn(), day(5));
    assert_eq!(refused, Err(Rejection::refused(Input::Document, Flaw::CanceledNotVoided)));
    assert_eq!(memo.status, DocumentStatus::Posted);
}

// ---- cancel_credit_memo -----------------------------------------------------------------

#[test]
fn canceling_a_draft_credit_memo_makes_no_transaction() {
    let mut memo = draft(DocumentKind::CreditMemo, vec![charge("c", "5.00", &[])]).unwrap();
    assert_eq!(cancel_credit_memo(&mut memo, ids().txn(), day(5)), Ok(None));
    assert_eq!(memo.status, DocumentStatus::Canceled);
    assert_eq!(
        cancel_credit_memo(&mut memo, ids().txn(), day(6)),
        Err(Rejection::DocumentVoided { id: memo.id.to_string() })
    );
}

#[test]
fn canceling_an_untouched_posted_credit_memo_reverses_it() {
    let mut memo = two_item_memo();
    let before = memo.clone();
    let txn = cancel_credit_memo(&mut memo, ids().txn(), day(5)).unwrap().expect("a reversal");
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::CreditMemoCanceled);
    assert_eq!(
        journal(&txn, &[&before]),
        [
            "debit credit_memos 10.00 small",
            "credit revenue_adjustments 10.00",
            "debit credit_memos 60.00 big",
            "credit revenue_adjustments 60.00",
        ]
    );
    assert_eq!(memo.status, DocumentStatus::Canceled);
    assert_eq!(txn.effects().customer.credit_memo_balance, -7000);
    fold::document(&mut memo, &txn.effects()).unwrap();
    assert_eq!(balances(&memo), ["0.00", "0.00"]);
}

#[test]
fn canceling_a_write_off_reverses_it_against_bad_debt() {
    let mut memo = post(memo_with_reason(WRITE_OFF));
    let before = memo.clone();
    let txn = cancel_credit_memo(&mut memo, ids().txn(), day(5)).unwrap().expect("a reversal");
    assert_balanced(&txn);
    assert_eq!(
        journal(&txn, &[&before]),
        ["debit credit_memos 40.00 bad", "credit bad_debt 40.00"]
    );
}

#[test]
fn canceling_a_partly_applied_credit_memo_is_has_applications() {
    let target = seed_003_invoice();
    let mut memo = two_item_memo();
    let (_, txn) =
        apply_source(Source::CreditMemo(&memo), &target, per_item(&target, &[(0, "5.00")]))
            .unwrap();
    fold::document(&mut memo, &txn.effects()).unwrap();
    assert_eq!(balances(&memo), ["5.00", "60.00"]);
    let refused = cancel_credit_memo(&mut memo, ids().txn(), day(5));
    assert_eq!(refused, Err(Rejection::HasApplications { id: memo.id.to_string() }));
    assert_eq!(refused.unwrap_err().code(), "has_applications");
    assert_eq!(memo.status, DocumentStatus::Posted);
}

#[test]
fn only_a_credit_memo_can_be_canceled() {
    let mut document = seed_003_invoice();
    let refused = cancel_credit_memo(&mut document, ids().txn(), day(5));
    assert_eq!(refused, Err(Rejection::refused(Input::Document, Flaw::NotACreditMemo)));
    assert_eq!(document.status, DocumentStatus::Posted);
}

// ---- void_payment -----------------------------------------------------------------------

#[test]
fn voiding_an_untouched_payment_reverses_the_receipt() {
    let mut pay = payment("100.00");
    let txn = void_payment(&mut pay, ids().txn(), day(5)).unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::PaymentVoided);
    assert_eq!(journal(&txn, &[]), ["debit unapplied_payments 100.00", "credit cash 100.00"]);
    assert_eq!(pay.status, PaymentStatus::Voided);
    let effects = txn.effects();
    assert_eq!(effects.payments_unapplied[&pay.id], -10000);
    assert!(effects.payments_refunded.is_empty());
    settle_payment(&txn, &mut pay);
    assert_eq!(pay.unapplied, usd("0.00"));
    assert_eq!(
        void_payment(&mut pay, ids().txn(), day(6)),
        Err(Rejection::DocumentVoided { id: pay.id.to_string() })
    );
}

#[test]
fn voiding_a_negative_payment_reverses_it_the_other_way_round() {
    let mut pay = payment("-20.00");
    let txn = void_payment(&mut pay, ids().txn(), day(5)).unwrap();
    assert_balanced(&txn);
    assert_eq!(journal(&txn, &[]), ["credit unapplied_payments 20.00", "debit cash 20.00"]);
    assert_eq!(txn.effects().payments_unapplied[&pay.id], 2000);
}

#[test]
fn voiding_a_partly_applied_or_refunded_payment_is_has_applications() {
    let mut target = seed_003_invoice();
    let mut pay = payment("100.00");
    let (_, txn) =
        apply_payment(&pay, &target, Spread::Amount(usd("10.00"), Rule::Sequential)).unwrap();
    settle(&txn, &mut target, &mut pay);
    assert_eq!(
        void_payment(&mut pay, ids().txn(), day(5)),
        Err(Rejection::HasApplications { id: pay.id.to_string() })
    );
    assert_eq!(pay.status, PaymentStatus::Posted);
    let mut refunded = payment("100.00");
    let txn = refund_from(RefundSource::Payment(&refunded), usd("1.00")).unwrap();
    settle_payment(&txn, &mut refunded);
    assert_eq!(
        void_payment(&mut refunded, ids().txn(), day(5)),
        Err(Rejection::HasApplications { id: refunded.id.to_string() })
    );
}

// ---- add_credit_balance -----------------------------------------------------------------

#[test]
fn a_manual_credit_fills_the_credit_balance_against_revenue_adjustments() {
    let alice = customer_with_credit("0.00");
    let txn = add_credit_balance(&alice, usd("15.00"), "Goodwill".to_owned(), ids().txn(), day(5))
        .unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::CreditBalanceAdded);
    assert_eq!(txn.description(), "Goodwill");
    assert_eq!(txn.subject_id(), None);
    assert_eq!(
        journal(&txn, &[]),
        ["debit revenue_adjustments 15.00", "credit credit_balance 15.00"]
    );
    assert_eq!(txn.effects().customer.credit_balance, 1500);
    for amount in ["0.00", "-1.00"] {
        assert_eq!(
            add_credit_balance(&alice, usd(amount), "x".to_owned(), ids().txn(), day(5)),
            Err(must_be_above_zero())
        );
    }
}

// ---- write-offs -------------------------------------------------------------------------

#[test]
fn a_write_off_credit_memo_posts_against_bad_debt() {
    let mut memo = memo_with_reason(WRITE_OFF);
    assert!(memo.is_write_off());
    assert_eq!(memo.credit_contra(), Account::BadDebt);
    let txn = post_document(&mut memo, ids().txn(), day(1)).unwrap();
    assert_balanced(&txn);
    assert_eq!(txn.kind(), TxnKind::WriteOff);
    assert_eq!(txn.kind().name(), "write_off");
    assert_eq!(journal(&txn, &[&memo]), ["credit credit_memos 40.00 bad", "debit bad_debt 40.00"]);
    assert_eq!(txn.effects().customer.credit_memo_balance, 4000);
}

#[test]
fn a_credit_memo_with_another_reason_posts_against_revenue_adjustments() {
    let mut memo = memo_with_reason("goodwill");
    assert!(!memo.is_write_off());
    assert_eq!(memo.credit_contra(), Account::RevenueAdjustments);
    let txn = post_document(&mut memo, ids().txn(), day(1)).unwrap();
    assert_eq!(txn.kind(), TxnKind::CreditMemoPosted);
    assert_eq!(
        journal(&txn, &[&memo]),
        ["credit credit_memos 40.00 bad", "debit revenue_adjustments 40.00"]
    );
}

#[test]
fn only_a_credit_memo_can_be_a_write_off() {
    let mut request = spec(DocumentKind::Invoice, vec![charge("A", "40.00", &[])]);
    request.reason = Some(WRITE_OFF.to_owned());
    let ids = ids();
    let id = ids.document(DocumentKind::Invoice);
    let mut document = draft_document(request, id, DocumentKind::Invoice.number(1), &ids).unwrap();
    assert!(!document.is_write_off());
    let txn = post_document(&mut document, ids.txn(), day(1)).unwrap();
    assert_eq!(txn.kind(), TxnKind::InvoicePosted);
    assert_eq!(journal(&txn, &[&document]), ["debit receivable 40.00 A", "credit revenue 40.00"]);
}

// ---- properties -------------------------------------------------------------------------

/// Random charges of either sign (minor units), each with an optional tax (hundredths of a
/// percent, up to 30%), and per item how much of its amount is still open (per mille).
fn any_document() -> impl Strategy<Value = (Vec<(i64, Option<i64>)>, Vec<i64>)> {
    (
        prop::collection::vec(
            (
                prop_oneof![-1_000_000_i64..=1_000_000, -100_i64..=100],
                prop::option::of(0_i64..=3000),
            ),
            1..=6,
        ),
        prop::collection::vec(prop_oneof![2 => Just(1000_i64), 1 => 0_i64..=1000], 12),
    )
}

/// A posted invoice of `charges` whose item balances are the given share of their amounts, as
/// after applications.
fn random_document(charges: &[(i64, Option<i64>)], open_per_mille: &[i64]) -> Document {
    let mut document = invoice(
        charges
            .iter()
            .enumerate()
            .map(|(idx, (minor, rate))| ItemSpec {
                description: format!("charge {idx}"),
                pricing: Pricing::Amount(Money::new(*minor, Currency::USD)),
                taxes: rate
                    .iter()
                    .map(|r| TaxSpec::Rate { name: "tax".to_owned(), rate: Decimal::new(*r, 2) })
                    .collect(),
                invoice_item_id: None,
            })
            .collect(),
    );
    for (item, per_mille) in document.items.iter_mut().zip(open_per_mille) {
        item.balance = Money::new(item.amount.minor() * per_mille / 1000, Currency::USD);
    }
    document
}

/// Checks that every item moved toward zero and never past it.
fn check_toward_zero(before: &Document, after: &Document) -> Result<(), TestCaseError> {
    for (was, now) in before.items.iter().zip(&after.items) {
        let (was, now) = (was.balance.minor(), now.balance.minor());
        prop_assert!(was.signum() * now.signum() >= 0, "{} passed zero to {}", was, now);
        prop_assert!(now.abs() <= was.abs(), "{} grew to {}", was, now);
    }
    Ok(())
}

/// Checks debits equal credits, with a plain sum independent of the helper's.
fn check_balanced(txn: &JournalTxn) -> Result<(), TestCaseError> {
    assert_balanced(txn);
    let sum: i128 = txn.postings().iter().map(|p| i128::from(p.signed_debit())).sum();
    prop_assert_eq!(sum, 0);
    Ok(())
}

/// One random adjustment: the item (modulo the item count), its type, and the amount as per
/// mille of the item balance's size (above 1000 passes zero) or a fixed cent count.
#[derive(Debug, Clone)]
struct Step {
    item: usize,
    kind: AdjustmentType,
    per_mille: i64,
    cents: Option<i64>,
}

fn any_step() -> impl Strategy<Value = Step> {
    (
        0_usize..32,
        prop::sample::select(vec![AdjustmentType::Credit, AdjustmentType::Charge]),
        prop_oneof![6 => 1_i64..=1000, 2 => Just(1000_i64), 1 => 1001_i64..=2000],
        prop::option::weighted(0.2, 1_i64..=100),
    )
        .prop_map(|(item, kind, per_mille, cents)| Step { item, kind, per_mille, cents })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn netting_balances_never_passes_zero_and_keeps_the_document_balance(
        (charges, open) in any_document(),
    ) {
        let document = random_document(&charges, &open);
        let has = |positive: bool| {
            document.items.iter().any(|i| if positive { i.balance.is_positive() } else { i.balance.is_negative() })
        };
        let result = net_items(&document, ids().txn(), day(3));
        if !(has(true) && has(false)) {
            prop_assert_eq!(result, Err(Rejection::refused(Input::Document, Flaw::NothingToNet)));
            return Ok(());
        }
        let txn = result.expect("something to net");
        check_balanced(&txn)?;
        prop_assert!(txn.postings().iter().all(|p| p.account == Account::Receivable));
        prop_assert_eq!(txn.effects().customer.balance(), 0);
        let netted = after(&txn, &document);
        check_toward_zero(&document, &netted)?;
        prop_assert_eq!(netted.balance(), document.balance());
        let still_positive = netted.items.iter().any(|i| i.balance.is_positive());
        let still_negative = netted.items.iter().any(|i| i.balance.is_negative());
        prop_assert!(!(still_positive && still_negative), "{:?}", balances(&netted));
    }

    #[test]
    fn transfers_balance_never_pass_zero_and_move_exactly_the_amount(
        (charges, open) in any_document(),
        per_mille in prop::option::of(1_i64..=1000),
    ) {
        let document = random_document(&charges, &open);
        let balance = document.balance();
        let owed = -balance.minor();
        let amount = per_mille.map(|p| Money::new((owed * p / 1000).max(1), Currency::USD));
        let result = transfer_to_credit(&document, amount, ids().txn(), day(3));
        if owed <= 0 {
            prop_assert_eq!(result, Err(Rejection::NotNegative { id: document.id.to_string(), balance }));
            return Ok(());
        }
        let txn = result.expect("a negative balance to transfer");
        check_balanced(&txn)?;
        let moved = amount.map_or(owed, Money::minor);
        let effects = txn.effects();
        prop_assert_eq!(effects.customer.credit_balance, moved);
        prop_assert_eq!(effects.customer.receivable, moved);
        let transferred = after(&txn, &document);
        check_toward_zero(&document, &transferred)?;
        prop_assert_eq!(transferred.balance().minor(), balance.minor() + moved);
        if amount.is_none() {
            prop_assert_eq!(transferred.open_item_count(), 0, "{:?}", balances(&transferred));
        }
    }

    #[test]
    fn adjustments_never_grow_a_balance_or_credit_more_than_the_amount(
        (charges, open) in any_document(),
        credited_per_mille in prop::collection::vec(0_i64..=1000, 12),
        steps in prop::collection::vec(any_step(), 1..=8),
    ) {
        let mut document = random_document(&charges, &open);
        for (item, per_mille) in document.items.iter_mut().zip(&credited_per_mille) {
            item.credited = Money::new(item.amount.minor().abs() * per_mille / 1000, Currency::USD);
        }
        for step in &steps {
            let idx = step.item % document.items.len();
            let item = document.items[idx].clone();
            let size = item.balance.minor().abs();
            let minor = step.cents.unwrap_or((size * step.per_mille / 1000).max(1));
            let amount = Money::new(minor, Currency::USD);
            let result = adjust(&document, idx, step.kind, amount, item.credited);
            let right_way = match step.kind {
                AdjustmentType::Credit => item.balance.is_positive(),
                AdjustmentType::Charge => item.balance.is_negative(),
            };
            let creditable = item.amount.minor().abs() - item.credited.minor();
            let txn = match result {
                Ok(txn) => txn,
                Err(Rejection::OverApplication { .. }) => {
                    prop_assert!(!right_way || minor > size, "{:?} on {:?}", step, item);
                    continue;
                }
                Err(Rejection::OverCredit { creditable: left, .. }) => {
                    prop_assert!(right_way && minor <= size && minor > creditable);
                    prop_assert_eq!(left, document.creditable(&item));
                    continue;
                }
                Err(other) => return Err(TestCaseError::fail(format!("{step:?}: {other:?}"))),
            };
            prop_assert!(right_way && minor <= size && minor <= creditable, "{:?} on {:?}", step, item);
            check_balanced(&txn)?;
            let adjusted = after(&txn, &document);
            check_toward_zero(&document, &adjusted)?;
            let now = adjusted.items[idx].balance.minor();
            prop_assert_eq!(now.abs(), size - minor);
            document = adjusted;
            document.items[idx].credited = Money::new(item.credited.minor() + minor, Currency::USD);
            for each in &document.items {
                prop_assert!(each.credited.minor() <= each.amount.minor().abs(), "{:?}", each);
            }
        }
    }
}
