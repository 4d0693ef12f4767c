//! Subscriptions through the engine on a real SQLite store: bill runs invoice each period once,
//! amendments make proration invoices with exact figures whose credits are counted on the
//! items they credit, and the negative-invoice policies act on them.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use settle_core::document::Document;
use settle_core::ids::PriceId;
use settle_core::money::{Currency, Money};
use settle_core::settings::NegativeInvoicePolicy;
use settle_core::subscription::{Price, SubscriptionStatus, Timing};
use settle_store::BillRunStatus;

use super::World;
use crate::{
    NewAmendment, NewChange, NewCreditItem, NewCreditMemo, NewPrice, NewProduct, NewSubscription,
    NewSubscriptionItem, SettingsPatch, SubscriptionView,
};

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("a date")
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn monthly(world: &World, name: &str, amount: &str, tax_rate: Option<&str>) -> Price {
    let engine = &world.engine;
    let product = engine
        .create_product(&world.tenant, NewProduct { name: name.into(), description: None })
        .expect("product");
    engine
        .create_price(
            &world.tenant,
            NewPrice {
                product_id: product.id,
                currency: "USD".into(),
                unit_amount: crate::Amount::parse(amount).expect("an amount"),
                recurring: Some(("month".into(), None)),
                tax_rate: tax_rate.map(|r| r.parse().expect("a rate")),
            },
        )
        .expect("price")
}

fn subscribe(world: &World, start: NaiveDate, items: &[(&PriceId, i64)]) -> SubscriptionView {
    let items = items
        .iter()
        .map(|(p, q)| NewSubscriptionItem {
            price_id: (*p).clone(),
            quantity: Some(Decimal::from(*q)),
        })
        .collect();
    world
        .engine
        .create_subscription(
            &world.tenant,
            NewSubscription { customer_id: world.customer.clone(), start_date: Some(start), items },
        )
        .expect("subscription")
}

fn change(kind: &str, view: &SubscriptionView) -> NewChange {
    NewChange {
        kind: kind.into(),
        item_id: Some(view.items[0].item_id.clone()),
        ..NewChange::default()
    }
}

fn amounts(document: &Document) -> Vec<i64> {
    document.items.iter().map(|i| i.amount.minor()).collect()
}

fn set_policy(world: &World, policy: NegativeInvoicePolicy) {
    let patch = SettingsPatch { negative_invoice_policy: Some(policy), ..SettingsPatch::default() };
    world.engine.update_settings(&world.tenant, patch).expect("settings");
}

/// A downgrade of a 30.00 plan to 10.00 on Jan 16 (a 31-day period): −15.48 and +5.16.
fn downgrade(world: &World) -> (Document, Document) {
    let pro = monthly(world, "Pro", "30.00", None);
    let basic = monthly(world, "Basic", "10.00", None);
    let sub = subscribe(world, date(1, 1), &[(&pro.id, 1)]);
    let run = world.engine.bill_run(&world.tenant, date(1, 1), None).expect("bill run");
    assert_eq!((run.invoices_created, run.totals.clone()), (1, vec![usd(3000)]));
    let (periods, _) =
        world.engine.subscription_history(&world.tenant, &sub.subscription.id).expect("history");
    let first = world
        .engine
        .document(&world.tenant, periods[0].1.as_ref().expect("an invoice"))
        .expect("invoice");
    let amendment = NewAmendment {
        effective_date: Some(date(1, 16)),
        timing: Timing::Immediate,
        changes: vec![NewChange {
            price_id: Some(basic.id.clone()),
            ..change("change_price", &sub)
        }],
    };
    let outcome = world
        .engine
        .amend_subscription(&world.tenant, &sub.subscription.id, amendment)
        .expect("amend");
    (first, outcome.invoice.expect("a proration invoice"))
}

#[test]
fn a_downgrade_on_jan_16_invoices_minus_15_48_and_5_16_and_counts_the_credit() {
    let world = World::new();
    let (first, proration) = downgrade(&world);
    assert_eq!(amounts(&proration), [-1548, 516]);
    assert_eq!(proration.total(), usd(-1032));
    assert_eq!(proration.balance(), usd(-1032), "kept: the default policy");
    assert_eq!(proration.items[0].invoice_item_id.as_ref(), Some(&first.items[0].id));
    let first = world.engine.document(&world.tenant, &first.id).expect("invoice");
    assert_eq!(first.items[0].credited, usd(1548));
    // Feb bills the new price in full, once, however often the run is repeated.
    for _ in 0..2 {
        world.engine.bill_run(&world.tenant, date(2, 1), None).expect("bill run");
    }
    let run = world.engine.bill_run(&world.tenant, date(2, 1), None).expect("bill run");
    assert_eq!(
        (run.customers_total, run.invoices_created, run.status),
        (0, 0, BillRunStatus::Done)
    );
    let customer = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    assert_eq!(customer.balances.receivable, 3000 - 1032 + 1000);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn voiding_a_proration_invoice_makes_what_it_credited_creditable_again() {
    let world = World::new();
    let (first, proration) = downgrade(&world);
    world.engine.void_document(&world.tenant, &proration.id, false).expect("void");
    let first = world.engine.document(&world.tenant, &first.id).expect("invoice");
    assert_eq!(first.items[0].credited, usd(0));
    assert_eq!(first.creditable(&first.items[0]), usd(3000));
    let customer = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    assert_eq!(customer.balances.receivable, 3000);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn a_negative_proration_invoice_goes_to_credit_under_transfer_to_credit() {
    let world = World::new();
    set_policy(&world, NegativeInvoicePolicy::TransferToCredit);
    let (first, proration) = downgrade(&world);
    assert_eq!(proration.total(), usd(-1032));
    assert_eq!(proration.balance(), usd(0));
    let customer = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    assert_eq!(customer.balances.credit_balance, 1032);
    let first = world.engine.document(&world.tenant, &first.id).expect("invoice");
    assert_eq!(first.balance(), usd(3000), "transfer to credit applies nothing");
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn a_negative_proration_invoice_pays_the_open_invoice_under_transfer_and_apply() {
    let world = World::new();
    set_policy(&world, NegativeInvoicePolicy::TransferAndApply);
    let (first, proration) = downgrade(&world);
    assert_eq!(proration.balance(), usd(0));
    let first = world.engine.document(&world.tenant, &first.id).expect("invoice");
    assert_eq!(first.balance(), usd(3000 - 1032));
    let customer = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    assert_eq!(customer.balances.credit_balance, 0);
    assert_eq!(customer.balances.receivable, 3000 - 1032);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn two_to_five_seats_on_mar_31_of_a_mar_15_period_invoices_minus_4_84_and_12_10() {
    let world = World::new();
    let seat = monthly(&world, "Seat", "5.00", None);
    let sub = subscribe(&world, date(1, 15), &[(&seat.id, 2)]);
    let run = world.engine.bill_run(&world.tenant, date(3, 15), None).expect("bill run");
    assert_eq!((run.invoices_created, run.totals), (3, vec![usd(3000)]));
    let amendment = NewAmendment {
        effective_date: Some(date(3, 31)),
        timing: Timing::Immediate,
        changes: vec![NewChange {
            quantity: Some(Decimal::from(5)),
            ..change("change_quantity", &sub)
        }],
    };
    let outcome = world
        .engine
        .amend_subscription(&world.tenant, &sub.subscription.id, amendment)
        .expect("amend");
    assert_eq!(amounts(&outcome.invoice.expect("an invoice")), [-484, 1210]);
    assert_eq!(outcome.subscription.subscription.segments.len(), 2);
}

#[test]
fn a_cancel_on_jan_16_credits_15_48_and_an_earlier_credit_memo_is_not_credited_twice() {
    let world = World::new();
    let pro = monthly(&world, "Pro", "30.00", Some("10"));
    let sub = subscribe(&world, date(1, 1), &[(&pro.id, 1)]);
    world.engine.bill_run(&world.tenant, date(1, 1), None).expect("bill run");
    let (periods, _) =
        world.engine.subscription_history(&world.tenant, &sub.subscription.id).expect("history");
    let first = world
        .engine
        .document(&world.tenant, periods[0].1.as_ref().expect("invoice"))
        .expect("invoice");
    assert_eq!(amounts(&first), [3000, 300]);
    // A credit memo took 20.00 of the plan already: 10.00 is left creditable.
    let memo = NewCreditMemo {
        customer_id: world.customer.clone(),
        items: vec![NewCreditItem {
            description: Some("goodwill".into()),
            amount: crate::Amount::parse("20.00").expect("an amount"),
            invoice_item_id: Some(first.items[0].id.clone()),
        }],
        reason: None,
        from_invoice_id: None,
        invoice_date: None,
        post: true,
    };
    world.engine.create_credit_memo(&world.tenant, memo).expect("credit memo");
    let outcome = world
        .engine
        .cancel_subscription(&world.tenant, &sub.subscription.id, Some(date(1, 16)), false)
        .expect("cancel");
    let invoice = outcome.invoice.expect("an invoice");
    // −15.48 capped at the 10.00 left; the tax, 3.00 × 16 / 31 = 1.548…, in full.
    assert_eq!(amounts(&invoice), [-1000, -155]);
    assert_eq!(outcome.subscription.subscription.status, SubscriptionStatus::Canceled);
    let first = world.engine.document(&world.tenant, &first.id).expect("invoice");
    assert_eq!((first.items[0].credited, first.items[1].credited), (usd(3000), usd(155)));
    let run = world.engine.bill_run(&world.tenant, date(6, 1), None).expect("bill run");
    assert_eq!(run.invoices_created, 0);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn a_preview_shows_the_invoice_and_writes_nothing() {
    let world = World::new();
    let pro = monthly(&world, "Pro", "30.00", None);
    let sub = subscribe(&world, date(1, 1), &[(&pro.id, 1)]);
    world.engine.bill_run(&world.tenant, date(1, 1), None).expect("bill run");
    let cancel = NewAmendment {
        effective_date: Some(date(1, 16)),
        timing: Timing::Immediate,
        changes: vec![change("cancel", &sub)],
    };
    let (outcome, preview) = world
        .engine
        .preview_amendment(&world.tenant, &sub.subscription.id, cancel.clone())
        .expect("preview");
    assert_eq!(amounts(outcome.invoice.as_ref().expect("an invoice")), [-1548]);
    assert_eq!(preview.customer.after.minor() - preview.customer.before.minor(), 1548);
    let now = world.engine.subscription(&world.tenant, &sub.subscription.id).expect("read");
    assert_eq!(now.subscription.status, SubscriptionStatus::Active);
    let customer = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    assert_eq!(customer.balances.receivable, 3000);
    let (_, amendments) =
        world.engine.subscription_history(&world.tenant, &sub.subscription.id).expect("history");
    assert!(amendments.is_empty());
}

#[test]
fn an_end_of_period_change_bills_the_next_period_at_the_new_price_with_no_proration() {
    let world = World::new();
    let pro = monthly(&world, "Pro", "30.00", None);
    let basic = monthly(&world, "Basic", "10.00", None);
    let sub = subscribe(&world, date(1, 31), &[(&pro.id, 1)]);
    let run = world.engine.bill_run(&world.tenant, date(1, 30), None).expect("bill run");
    assert_eq!(run.invoices_created, 0, "not before the anchor");
    world.engine.bill_run(&world.tenant, date(1, 31), None).expect("bill run");
    let amendment = NewAmendment {
        effective_date: Some(date(2, 10)),
        timing: Timing::EndOfPeriod,
        changes: vec![NewChange {
            price_id: Some(basic.id.clone()),
            ..change("change_price", &sub)
        }],
    };
    let outcome = world
        .engine
        .amend_subscription(&world.tenant, &sub.subscription.id, amendment)
        .expect("amend");
    assert!(outcome.invoice.is_none());
    assert_eq!(outcome.amendment.takes_effect_on, date(2, 28));
    let run = world.engine.bill_run(&world.tenant, date(2, 27), None).expect("bill run");
    assert_eq!(run.invoices_created, 0);
    let run = world.engine.bill_run(&world.tenant, date(3, 31), None).expect("bill run");
    assert_eq!((run.invoices_created, run.totals), (2, vec![usd(2000)]));
}

#[test]
fn two_bill_runs_at_once_invoice_every_period_exactly_once() {
    let world = World::new();
    let pro = monthly(&world, "Pro", "30.00", None);
    for n in 0..12 {
        let customer = world
            .engine
            .create_customer(
                &world.tenant,
                crate::NewCustomer { name: format!("C{n}"), ..crate::NewCustomer::default() },
            )
            .expect("customer");
        let items = vec![NewSubscriptionItem { price_id: pro.id.clone(), quantity: None }];
        let new =
            NewSubscription { customer_id: customer.id, start_date: Some(date(1, 1 + n)), items };
        world.engine.create_subscription(&world.tenant, new).expect("subscription");
    }
    let runs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope
                    .spawn(|| world.engine.bill_run(&world.tenant, date(3, 20), None).expect("run"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("joined")).collect()
    });
    // Jan, Feb and Mar for each of the twelve, split between the two runs in whatever way.
    let made: u32 = runs.iter().map(|r| r.invoices_created).sum();
    assert_eq!(made, 36);
    let total: i64 = runs.iter().flat_map(|r| r.totals.iter()).map(|t| t.minor()).sum();
    assert_eq!(total, 36 * 3000);
    let customers = world
        .engine
        .customers(
            &world.tenant,
            &Default::default(),
            &settle_store::PageRequest { limit: 100, cursor: None },
        )
        .expect("list");
    let receivable: i64 = customers.rows.iter().map(|c| c.balances.receivable).sum();
    assert_eq!(receivable, 36 * 3000);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn a_customer_whose_invoice_is_refused_is_rolled_back_alone_and_the_batch_commits_the_rest() {
    let world = World::new();
    let pro = monthly(&world, "Pro", "30.00", None);
    let mut customers = Vec::new();
    // The middle customer has two subscriptions of 30.00 × 33,333,333,333: its first
    // invoice is written, its second would take the receivable past the amount bound, so the
    // customer is refused after writing and must leave nothing behind.
    for (n, quantity, subscriptions) in [(0, 1_i64, 1), (1, 33_333_333_333, 2), (2, 1, 1)] {
        let customer = world
            .engine
            .create_customer(
                &world.tenant,
                crate::NewCustomer { name: format!("C{n}"), ..crate::NewCustomer::default() },
            )
            .expect("customer");
        let items = vec![NewSubscriptionItem {
            price_id: pro.id.clone(),
            quantity: Some(Decimal::from(quantity)),
        }];
        let new = NewSubscription {
            customer_id: customer.id.clone(),
            start_date: Some(date(3, 1)),
            items,
        };
        for _ in 0..subscriptions {
            world.engine.create_subscription(&world.tenant, new.clone()).expect("subscription");
        }
        customers.push(customer.id);
    }
    let run = world.engine.bill_run(&world.tenant, date(3, 20), None).expect("run");
    assert_eq!(run.status, BillRunStatus::Done);
    assert_eq!(run.customers_done, 3);
    assert_eq!(run.invoices_created, 2, "{:?}", run.failures);
    assert_eq!(run.totals, vec![usd(6000)]);
    assert_eq!(run.failures.len(), 1, "{:?}", run.failures);
    assert_eq!(run.failures[0].0, customers[1]);
    let receivable =
        |id| world.engine.customer(&world.tenant, id).expect("customer").balances.receivable;
    assert_eq!(customers.iter().map(receivable).collect::<Vec<_>>(), vec![3000, 0, 3000]);
    // The refused customer's period is still due: a later run tries it again.
    let again = world.engine.bill_run(&world.tenant, date(3, 20), None).expect("run");
    assert_eq!((again.invoices_created, again.failures.len()), (0, 1));
    assert!(world.engine.verify().expect("verify").is_clean());
}
