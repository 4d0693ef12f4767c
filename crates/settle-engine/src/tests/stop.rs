//! A raised stop signal ends a bill run at a customer boundary, leaving it `running` with
//! what it committed, and a new run for the same date bills the rest.

use chrono::NaiveDate;
use settle_store::BillRunStatus;

use super::World;
use crate::{NewCustomer, NewPrice, NewProduct, NewSubscription, NewSubscriptionItem, StopSignal};

#[test]
fn a_stopped_bill_run_stays_running_and_a_new_run_for_the_date_bills_the_rest() {
    let world = World::new();
    let engine = &world.engine;
    let product = engine
        .create_product(&world.tenant, NewProduct { name: "Pro".into(), description: None })
        .expect("product");
    let price = engine
        .create_price(
            &world.tenant,
            NewPrice {
                product_id: product.id,
                currency: "USD".into(),
                unit_amount: crate::Amount::parse("30.00").expect("an amount"),
                recurring: Some(("month".into(), None)),
                tax_rate: None,
            },
        )
        .expect("price");
    let jan_1 = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    for n in 0..3 {
        let name = format!("C{n}");
        let customer = engine
            .create_customer(&world.tenant, NewCustomer { name, ..NewCustomer::default() })
            .expect("customer");
        let items = vec![NewSubscriptionItem { price_id: price.id.clone(), quantity: None }];
        let new = NewSubscription { customer_id: customer.id, start_date: Some(jan_1), items };
        engine.create_subscription(&world.tenant, new).expect("subscription");
    }

    // The signal comes as the run starts (its first progress report): no batch is billed.
    let stop = StopSignal::default();
    let stopping = engine.clone().with_stop(stop.clone());
    let stopped = stopping
        .run_bill_run(&world.tenant, jan_1, None, &mut |_| stop.raise())
        .expect("a stopped run is not an error");
    let stored = engine.bill_run_record(&world.tenant, &stopped.id).expect("stored");
    for run in [&stopped, &stored] {
        assert_eq!(
            (run.status, run.customers_total, run.customers_done, run.invoices_created),
            (BillRunStatus::Running, 3, 0, 0)
        );
        assert_eq!(run.finished_at, None);
    }

    let rest = engine.bill_run(&world.tenant, jan_1, None).expect("the next run");
    assert_eq!(
        (rest.status, rest.customers_total, rest.customers_done, rest.invoices_created),
        (BillRunStatus::Done, 3, 3, 3)
    );
    let totals: Vec<i64> = rest.totals.iter().map(|t| t.minor()).collect();
    assert_eq!(totals, vec![9000]);
}
