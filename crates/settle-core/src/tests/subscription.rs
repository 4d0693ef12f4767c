//! Periods from the anchor, the figures of day proration worked by hand, and properties of
//! random amendment sequences.

use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{ids, usd};
use crate::document::{ItemSpec, Pricing, TaxSpec};
use crate::error::Rejection;
use crate::ids::{CustomerId, ItemId, PriceId, ProductId, SubscriptionId};
use crate::money::{Currency, Money};
use crate::subscription::{
    Amended, Change, Creditable, Interval, Line, Price, Recurring, Segment, Subscription,
    SubscriptionStatus, Timing, amend, period_lines, prorate, proration_lines,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn monthly() -> Recurring {
    Recurring::new(Interval::Month, 1).expect("a period")
}

fn price(id: &str, amount: &str, tax_rate: Option<&str>) -> Price {
    Price {
        id: PriceId::parse(id).expect("a price id"),
        product_id: ProductId::parse("prod_plan").expect("a product id"),
        product_name: "Plan".to_owned(),
        unit_amount: usd(amount),
        recurring: Some(monthly()),
        tax_rate: tax_rate.map(|r| r.parse().expect("a rate")),
        archived: false,
        created_at: DateTime::UNIX_EPOCH,
    }
}

fn subscription(start: NaiveDate, items: &[(&Price, i64)]) -> Subscription {
    let ids = ids();
    Subscription {
        id: SubscriptionId::parse("sub_1").expect("an id"),
        customer_id: CustomerId::parse("cus_alice").expect("an id"),
        currency: Currency::USD,
        status: SubscriptionStatus::Active,
        start_date: start,
        recurring: monthly(),
        ends_on: None,
        billed_periods: 0,
        segments: items
            .iter()
            .map(|(p, q)| Segment {
                item_id: ids.subscription_item(),
                price_id: p.id.clone(),
                quantity: Decimal::from(*q),
                starts_on: start,
                ends_on: None,
            })
            .collect(),
        created_at: DateTime::UNIX_EPOCH,
    }
}

fn amount(line: &Line) -> Money {
    match &line.spec.pricing {
        Pricing::Amount(amount) => *amount,
        Pricing::PerUnit { .. } => panic!("a prorated line has an amount"),
    }
}

fn tax_amounts(spec: &ItemSpec) -> Vec<Money> {
    spec.taxes
        .iter()
        .map(|t| match t {
            TaxSpec::Amount { amount, .. } => *amount,
            TaxSpec::Rate { .. } => panic!("a prorated tax has an amount"),
        })
        .collect()
}

/// Everything of the invoiced period still creditable: the full amount of each segment.
fn fully_creditable(full: &str) -> impl FnMut(&Segment) -> Option<Creditable> {
    let full = usd(full);
    move |_| {
        Some(Creditable {
            item_id: ItemId::parse("item_billed").expect("an id"),
            creditable: full,
            taxes: Vec::new(),
        })
    }
}

fn amend_billed(
    subscription: &mut Subscription,
    effective: NaiveDate,
    changes: &[Change],
    prices: &[Price],
) -> Amended {
    subscription.billed_periods = subscription.period_of(effective).expect("a period").index + 1;
    amend(subscription, effective, Timing::Immediate, changes, prices, &ids()).expect("amended")
}

#[test]
fn a_downgrade_from_30_to_10_on_jan_16_credits_15_48_and_charges_5_16() {
    let (pro, basic) = (price("price_pro", "30.00", None), price("price_basic", "10.00", None));
    let prices = [pro.clone(), basic.clone()];
    let mut sub = subscription(date(2026, 1, 1), &[(&pro, 1)]);
    let item_id = sub.segments[0].item_id.clone();
    let change = Change::ChangePrice { item_id, price_id: basic.id.clone() };
    let amended = amend_billed(&mut sub, date(2026, 1, 16), &[change], &prices);
    assert_eq!(amended.prorate_in.map(|p| p.days()), Some(31));
    let lines = proration_lines(&amended, &prices, fully_creditable("30.00")).expect("lines");
    let amounts: Vec<Money> = lines.iter().map(amount).collect();
    assert_eq!(amounts, vec![usd("-15.48"), usd("5.16")]);
    assert_eq!(Money::checked_sum(Currency::USD, amounts).expect("a sum"), usd("-10.32"));
    assert_eq!(lines[0].spec.invoice_item_id, ItemId::parse("item_billed"));
    assert_eq!(lines[1].spec.invoice_item_id, None);
}

#[test]
fn two_to_five_seats_at_5_on_mar_31_of_mar_15_to_apr_15_credits_4_84_and_charges_12_10() {
    let seat = price("price_seat", "5.00", None);
    let prices = [seat.clone()];
    let mut sub = subscription(date(2026, 1, 15), &[(&seat, 2)]);
    let item_id = sub.segments[0].item_id.clone();
    let change = Change::ChangeQuantity { item_id, quantity: Decimal::from(5) };
    let amended = amend_billed(&mut sub, date(2026, 3, 31), &[change], &prices);
    let period = amended.prorate_in.expect("an invoiced period");
    assert_eq!((period.start, period.end), (date(2026, 3, 15), date(2026, 4, 15)));
    let lines = proration_lines(&amended, &prices, fully_creditable("10.00")).expect("lines");
    assert_eq!(lines.iter().map(amount).collect::<Vec<_>>(), vec![usd("-4.84"), usd("12.10")]);
}

#[test]
fn a_cancel_on_jan_16_credits_15_48_and_ends_the_subscription() {
    let pro = price("price_pro", "30.00", None);
    let prices = [pro.clone()];
    let mut sub = subscription(date(2026, 1, 1), &[(&pro, 1)]);
    let amended = amend_billed(&mut sub, date(2026, 1, 16), &[Change::Cancel], &prices);
    let lines = proration_lines(&amended, &prices, fully_creditable("30.00")).expect("lines");
    assert_eq!(lines.iter().map(amount).collect::<Vec<_>>(), vec![usd("-15.48")]);
    assert_eq!(amended.subscription.status, SubscriptionStatus::Canceled);
    assert_eq!(amended.subscription.ends_on, Some(date(2026, 1, 16)));
    assert_eq!(amended.subscription.next_due(date(2026, 3, 1)), Ok(None));
}

#[test]
fn a_credit_is_capped_by_what_is_still_creditable_and_tax_is_prorated_per_tax_item() {
    let pro = price("price_pro", "30.00", Some("10"));
    let prices = [pro.clone()];
    let mut sub = subscription(date(2026, 1, 1), &[(&pro, 1)]);
    let amended = amend_billed(&mut sub, date(2026, 1, 16), &[Change::Cancel], &prices);
    // 10.00 of the 30.00 was credited already (a credit memo); the tax item is untouched.
    let billed = |_: &Segment| {
        Some(Creditable {
            item_id: ItemId::parse("item_plan").expect("an id"),
            creditable: usd("20.00"),
            taxes: vec![(ItemId::parse("item_tax").expect("an id"), usd("3.00"))],
        })
    };
    let lines = proration_lines(&amended, &prices, billed).expect("lines");
    assert_eq!(amount(&lines[0]), usd("-15.48"));
    // 3.00 × 16 / 31 = 1.548…
    assert_eq!(tax_amounts(&lines[0].spec), vec![usd("-1.55")]);
    assert_eq!(lines[0].credits_tax_items, vec![ItemId::parse("item_tax").expect("an id")]);
    let billed = |_: &Segment| {
        Some(Creditable {
            item_id: ItemId::parse("item_plan").expect("an id"),
            creditable: usd("12.00"),
            taxes: vec![(ItemId::parse("item_tax").expect("an id"), usd("0.50"))],
        })
    };
    let lines = proration_lines(&amended, &prices, billed).expect("lines");
    assert_eq!(amount(&lines[0]), usd("-12.00"));
    assert_eq!(tax_amounts(&lines[0].spec), vec![usd("-0.50")]);
}

#[test]
fn a_month_end_anchor_bills_on_the_last_days_of_the_months_and_not_before() {
    let plan = price("price_pro", "30.00", None);
    let mut sub = subscription(date(2026, 1, 31), &[(&plan, 1)]);
    let starts: Vec<NaiveDate> = (0..4).map(|k| sub.period(k).expect("a period").start).collect();
    assert_eq!(
        starts,
        vec![date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    );
    assert_eq!(sub.next_due(date(2026, 1, 30)), Ok(None));
    assert_eq!(
        sub.next_due(date(2026, 1, 31)).expect("due").map(|p| p.start),
        Some(date(2026, 1, 31))
    );
    sub.billed_periods = 1;
    assert_eq!(sub.next_due(date(2026, 2, 27)), Ok(None));
    assert_eq!(
        sub.next_due(date(2026, 2, 28)).expect("due").map(|p| p.end),
        Some(date(2026, 3, 31))
    );
    sub.billed_periods = 2;
    assert_eq!(sub.next_due(date(2026, 3, 30)), Ok(None));
    assert!(sub.next_due(date(2026, 3, 31)).expect("due").is_some());
    assert_eq!(sub.period_of(date(2026, 3, 30)).map(|p| p.index), Ok(1));
    assert_eq!(sub.period_of(date(2026, 3, 31)).map(|p| p.index), Ok(2));
    // In a leap year, a month after Jan 31 is Feb 29.
    assert_eq!(monthly().period_start(date(2028, 1, 31), 1), Some(date(2028, 2, 29)));
    let yearly = Recurring::new(Interval::Year, 1).expect("a period");
    assert_eq!(yearly.period_start(date(2028, 2, 29), 1), Some(date(2029, 2, 28)));
    assert_eq!(yearly.period_start(date(2028, 2, 29), 4), Some(date(2032, 2, 29)));
}

#[test]
fn a_full_period_is_quantity_times_unit_amount_and_one_time_prices_bill_once() {
    let seat = price("price_seat", "5.00", Some("8.25"));
    let setup = Price {
        id: PriceId::parse("price_setup").expect("an id"),
        recurring: None,
        ..price("price_setup", "99.00", None)
    };
    let prices = [seat.clone(), setup.clone()];
    let sub = subscription(date(2026, 1, 1), &[(&seat, 3), (&setup, 1)]);
    let first = period_lines(&sub, sub.period(0).expect("a period"), &prices).expect("lines");
    assert_eq!(first.len(), 2);
    assert_eq!(
        first[0].spec.pricing,
        Pricing::PerUnit {
            quantity: Decimal::from(3),
            unit_price: "5.00".parse().expect("a decimal")
        }
    );
    assert!(matches!(&first[0].spec.taxes[..], [TaxSpec::Rate { .. }]));
    let second = period_lines(&sub, sub.period(1).expect("a period"), &prices).expect("lines");
    assert_eq!(second.len(), 1);
}

#[test]
fn amendments_refuse_what_cannot_be_done() {
    let plan = price("price_pro", "30.00", None);
    let archived = Price { archived: true, ..price("price_old", "10.00", None) };
    let prices = [plan.clone(), archived.clone()];
    let mut sub = subscription(date(2026, 1, 1), &[(&plan, 1)]);
    sub.billed_periods = 3;
    let ids = ids();
    let add =
        |price_id: &PriceId| Change::AddItem { price_id: price_id.clone(), quantity: Decimal::ONE };
    // Before the last invoiced period (Mar 1 – Apr 1).
    let refused =
        amend(&sub, date(2026, 2, 10), Timing::Immediate, &[add(&plan.id)], &prices, &ids);
    assert!(matches!(refused, Err(Rejection::Invalid { field, .. }) if field == "effective_date"));
    // The end of March's period is April's start, which is not invoiced: fine.
    assert!(
        amend(&sub, date(2026, 3, 10), Timing::EndOfPeriod, &[add(&plan.id)], &prices, &ids)
            .is_ok()
    );
    let refused =
        amend(&sub, date(2026, 3, 10), Timing::Immediate, &[add(&archived.id)], &prices, &ids);
    assert!(
        matches!(refused, Err(Rejection::Invalid { field, .. }) if field == "changes[0].price_id")
    );
    let zero = Change::AddItem { price_id: plan.id.clone(), quantity: Decimal::ZERO };
    let refused = amend(&sub, date(2026, 3, 10), Timing::Immediate, &[zero], &prices, &ids);
    assert!(
        matches!(refused, Err(Rejection::Invalid { field, .. }) if field == "changes[0].quantity")
    );
    let gone = Change::RemoveItem {
        item_id: crate::ids::SubscriptionItemId::parse("si_nope").expect("an id"),
    };
    let refused = amend(&sub, date(2026, 3, 10), Timing::Immediate, &[gone], &prices, &ids);
    assert!(
        matches!(refused, Err(Rejection::Invalid { field, .. }) if field == "changes[0].item_id")
    );
}

#[test]
fn prorate_rounds_half_away_from_zero() {
    assert_eq!(prorate(usd("0.31"), 1, 62), usd("0.01")); // 0.5 → 1
    assert_eq!(prorate(usd("-0.31"), 1, 62), usd("-0.01"));
    assert_eq!(prorate(usd("0.30"), 1, 62), usd("0.00")); // 0.48 → 0
    assert_eq!(prorate(usd("30.00"), 31, 31), usd("30.00"));
    assert_eq!(
        prorate(Money::new(99_999_999_999_999, Currency::USD), 30, 31),
        Money::new(96_774_193_548_386, Currency::USD)
    );
}

/// One invoice item of the simulation: what it billed or credited.
struct Billed {
    id: ItemId,
    item: crate::ids::SubscriptionItemId,
    segment_start: NaiveDate,
    period_start: NaiveDate,
    amount: i64,
    credited: i64,
    is_charge: bool,
    prorated: bool,
}

#[derive(Debug, Clone)]
enum Step {
    Add(usize, i64),
    Remove(usize),
    Quantity(usize, i64),
    Price(usize, usize),
    Cancel,
}

fn step() -> impl Strategy<Value = (u32, Step, bool)> {
    let change = prop_oneof![
        3 => (0..3_usize, 1..5_i64).prop_map(|(p, q)| Step::Add(p, q)),
        2 => (0..4_usize).prop_map(Step::Remove),
        3 => (0..4_usize, 1..6_i64).prop_map(|(i, q)| Step::Quantity(i, q)),
        3 => (0..4_usize, 0..3_usize).prop_map(|(i, p)| Step::Price(i, p)),
        1 => Just(Step::Cancel),
    ];
    (0..45_u32, change, any::<bool>())
}

struct Simulation {
    sub: Subscription,
    prices: Vec<Price>,
    items: Vec<Billed>,
}

impl Simulation {
    fn post(&mut self, lines: &[Line], period_start: NaiveDate) {
        for line in lines {
            let amount = match &line.spec.pricing {
                Pricing::Amount(a) => a.minor(),
                Pricing::PerUnit { quantity, unit_price } => {
                    crate::money::round_half_away_from_zero(
                        quantity * unit_price * Decimal::from(100),
                    )
                    .expect("an amount")
                }
            };
            if let Some(target) = &line.spec.invoice_item_id {
                let billed =
                    self.items.iter_mut().find(|b| &b.id == target).expect("a billed item");
                billed.credited += amount.abs();
                assert!(billed.credited <= billed.amount.abs(), "credited past what was billed");
            }
            self.items.push(Billed {
                id: ids().item(),
                item: line.item_id.clone(),
                segment_start: line.segment_start,
                period_start,
                amount,
                credited: 0,
                is_charge: line.is_charge(),
                prorated: matches!(line.spec.pricing, Pricing::Amount(_)),
            });
        }
    }

    fn bill(&mut self, as_of: NaiveDate) {
        while let Some(period) = self.sub.next_due(as_of).expect("a period") {
            let lines = period_lines(&self.sub, period, &self.prices).expect("lines");
            self.post(&lines, period.start);
            self.sub.billed_periods += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Whatever the amendments, the sum invoiced equals each segment's full amount weighted by
    /// its days in each period, within one minor unit per prorated item, and no invoice item is
    /// credited past what was billed on it.
    #[test]
    fn invoiced_totals_follow_the_days_each_price_was_active(
        start_day in 1..=31_u32,
        steps in proptest::collection::vec(step(), 1..12),
    ) {
        let prices = vec![price("price_a", "10.00", None), price("price_b", "30.00", None), price("price_c", "7.77", None)];
        let start = date(2026, 1, 1) + chrono::Days::new(u64::from(start_day) + 29);
        let sub = subscription(start, &[(&prices[1], 1)]);
        let mut sim = Simulation { sub, prices: prices.clone(), items: Vec::new() };
        let mut today = start;
        for (days, change, immediate) in steps {
            today = today + chrono::Days::new(u64::from(days));
            sim.bill(today);
            let running: Vec<_> = sim.sub.items_on(today).into_iter().map(|s| s.item_id.clone()).collect();
            let pick = |i: usize| running.get(i % running.len().max(1)).cloned();
            let change = match change {
                Step::Add(p, q) => Change::AddItem { price_id: prices[p].id.clone(), quantity: Decimal::from(q) },
                Step::Remove(i) => match pick(i) { Some(item_id) => Change::RemoveItem { item_id }, None => continue },
                Step::Quantity(i, q) => match pick(i) { Some(item_id) => Change::ChangeQuantity { item_id, quantity: Decimal::from(q) }, None => continue },
                Step::Price(i, p) => match pick(i) { Some(item_id) => Change::ChangePrice { item_id, price_id: prices[p].id.clone() }, None => continue },
                Step::Cancel => Change::Cancel,
            };
            let timing = if immediate { Timing::Immediate } else { Timing::EndOfPeriod };
            let Ok(amended) = amend(&sim.sub, today, timing, &[change], &sim.prices, &ids()) else { continue };
            let period_start = amended.prorate_in.map(|p| p.start);
            let lines = {
                let items = &sim.items;
                proration_lines(&amended, &sim.prices, |segment| {
                    let billed = items.iter().rev().find(|b| b.is_charge && b.item == segment.item_id && b.segment_start == segment.starts_on && Some(b.period_start) == period_start)?;
                    Some(Creditable { item_id: billed.id.clone(), creditable: Money::new(billed.amount.abs() - billed.credited, Currency::USD), taxes: Vec::new() })
                }).expect("lines")
            };
            sim.sub = amended.subscription;
            if let Some(start) = period_start {
                sim.post(&lines, start);
            }
            if sim.sub.status == SubscriptionStatus::Canceled { break; }
        }
        let last = sim.sub.period_of(today).expect("a period");
        sim.bill(last.start);
        let horizon = sim.sub.ends_on.map_or(last.end, |end| end.min(last.end));
        // Expected, as a fraction over the lcm of every possible period's days (28..=31).
        let scale: i128 = 28 * 29 * 15 * 31;
        let mut expected: i128 = 0;
        for segment in &sim.sub.segments {
            let price = sim.prices.iter().find(|p| p.id == segment.price_id).expect("a price");
            let full = i128::from(crate::subscription::full_amount(price, segment.quantity).expect("an amount").minor());
            let mut k = 0;
            while let Ok(period) = sim.sub.period(k) {
                if period.start >= horizon { break; }
                if let Some((from, to)) = segment.overlap(period.start, period.end.min(horizon)) {
                    expected += full * i128::from((to - from).num_days()) * scale / i128::from(period.days());
                }
                k += 1;
            }
        }
        let invoiced: i128 = sim.items.iter().map(|b| i128::from(b.amount)).sum();
        let prorated = sim.items.iter().filter(|b| b.prorated).count() as i128;
        prop_assert!((invoiced * scale - expected).abs() <= prorated * scale / 2 + prorated,
            "invoiced {} expected {}/{} over {} prorated items", invoiced, expected, scale, prorated);
    }
}
