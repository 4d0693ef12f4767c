//! Tests of the fold of effects into projections: what it changes, and the totals it refuses
//! past the amount bound without changing anything.

use std::collections::BTreeMap;

use super::{alice, apply_payment, payment, seed_003_invoice, settle, usd};
use crate::application::{Rule, Spread};
use crate::customer::Balances;
use crate::error::Rejection;
use crate::fold::{self, Replay};
use crate::ledger::{BalanceDelta, Effects};
use crate::money::{MAX_MINOR, Money};

#[test]
fn a_document_fold_past_the_bound_is_refused_and_changes_nothing() {
    let mut document = seed_003_invoice();
    let before = document.clone();
    let effects = Effects {
        items: BTreeMap::from([
            (document.items[0].id.clone(), -10_000),
            (document.items[1].id.clone(), MAX_MINOR),
        ]),
        ..Effects::default()
    };
    let refused = Rejection::total_out_of_range(format!("the balance of {}", document.id));
    assert_eq!(fold::document(&mut document, &effects), Err(refused));
    assert_eq!(document, before);
}

#[test]
fn a_document_fold_refuses_a_group_balance_past_the_bound() {
    let mut document = seed_003_invoice();
    document.group_balance = Money::new(MAX_MINOR, document.currency);
    let before = document.clone();
    let effects = Effects {
        items: BTreeMap::from([(document.items[0].id.clone(), 1)]),
        ..Effects::default()
    };
    assert_eq!(fold::document(&mut document, &effects).unwrap_err().code(), "amount_out_of_range");
    assert_eq!(document, before);
}

#[test]
fn a_payment_fold_moves_unapplied_and_refunded_and_refuses_past_the_bound() {
    let mut pay = payment("10.00");
    let effects = Effects {
        payments_unapplied: BTreeMap::from([(pay.id.clone(), -300)]),
        payments_refunded: BTreeMap::from([(pay.id.clone(), 300)]),
        ..Effects::default()
    };
    fold::payment(&mut pay, &effects).unwrap();
    assert_eq!((pay.unapplied, pay.refunded), (usd("7.00"), usd("3.00")));

    let before = pay.clone();
    let effects = Effects {
        payments_unapplied: BTreeMap::from([(pay.id.clone(), -1)]),
        payments_refunded: BTreeMap::from([(pay.id.clone(), MAX_MINOR)]),
        ..Effects::default()
    };
    let refused = Rejection::total_out_of_range(format!("the unapplied amount of {}", pay.id));
    assert_eq!(fold::payment(&mut pay, &effects), Err(refused));
    assert_eq!(pay, before);
}

#[test]
fn an_application_fold_moves_what_is_still_applied_and_refuses_past_the_bound() {
    let target = seed_003_invoice();
    let mut pay = payment("53.13");
    let (mut application, txn) =
        apply_payment(&pay, &target, Spread::Amount(usd("53.13"), Rule::Proration)).unwrap();
    settle(&txn, &mut target.clone(), &mut pay);
    let item = application.items[0].item_id.clone();
    let mut effects = Effects {
        applications: BTreeMap::from([((application.id.clone(), item.clone()), -100)]),
        ..Effects::default()
    };
    let net = application.items[0].net;
    fold::application(&mut application, &effects).unwrap();
    assert_eq!(application.items[0].net, net.checked_add_minor(-100).unwrap());

    let before = application.clone();
    effects.applications.insert((application.id.clone(), item), MAX_MINOR);
    let refused = Rejection::total_out_of_range(format!("application {}", application.id));
    assert_eq!(fold::application(&mut application, &effects), Err(refused));
    assert_eq!(application, before);
}

#[test]
fn balances_past_the_bound_in_a_component_or_in_a_sum_are_refused() {
    let refused = Err(Rejection::total_out_of_range("the customer's balance"));
    let mut balances = Balances { receivable: MAX_MINOR, ..Balances::default() };
    let before = balances;
    assert_eq!(
        fold::balances(&mut balances, BalanceDelta { receivable: 1, ..Default::default() }),
        refused
    );
    // Each component within the bound, their available credit past it.
    let delta =
        BalanceDelta { unapplied_payments: MAX_MINOR, credit_balance: 1, ..Default::default() };
    let mut fresh = Balances::default();
    assert_eq!(fold::balances(&mut fresh, delta), refused);
    assert_eq!((balances, fresh), (before, Balances::default()));
    fold::balances(
        &mut fresh,
        BalanceDelta { receivable: 5, credit_balance: 2, ..Default::default() },
    )
    .unwrap();
    assert_eq!((fresh.receivable, fresh.credit_balance, fresh.balance()), (5, 2, -3));
}

#[test]
fn a_replay_folds_from_zero_as_the_write_path_does() {
    let mut target = seed_003_invoice();
    let mut pay = payment("60.00");
    let (_, txn) =
        apply_payment(&pay, &target, Spread::Amount(usd("53.13"), Rule::Proration)).unwrap();
    let mut replay = Replay::default();
    let effects = txn.effects();
    let after = replay.fold(&alice(), &effects).unwrap();
    assert_eq!(
        after,
        Balances { receivable: -5313, unapplied_payments: -5313, ..Balances::default() }
    );
    settle(&txn, &mut target, &mut pay);
    assert_eq!(replay.payments_unapplied[&pay.id], -5313);
    for item in &target.items {
        let posted = seed_003_invoice_item_amount(&target, &item.id);
        assert_eq!(posted + replay.items.get(&item.id).copied().unwrap_or(0), item.balance.minor());
    }

    let over = Effects {
        items: BTreeMap::from([(target.items[0].id.clone(), MAX_MINOR + 5313)]),
        ..Effects::default()
    };
    let refused = Rejection::total_out_of_range(format!("the balance of {}", target.items[0].id));
    assert_eq!(replay.fold(&alice(), &over), Err(refused));
}

/// The amount of an item of `document` (its balance once posted, before any application).
fn seed_003_invoice_item_amount(
    document: &crate::document::Document,
    item: &crate::ids::ItemId,
) -> i64 {
    document.items.iter().find(|i| &i.id == item).map_or(0, |i| i.amount.minor())
}
