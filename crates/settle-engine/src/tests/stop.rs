//! A raised stop signal ends a bill run at a customer boundary, marking it `stopped` with
//! what it committed; a run whose process died reads as `interrupted` once it is stale; and a
//! new run for the same date bills the rest.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use settle_core::ids::TenantId;
use settle_store::BillRunStatus;
use settle_store_sqlite::{Durability, SqliteStore};

use super::{CountingIds, HandClock, World};
use crate::{
    BILL_RUN_STALE_AFTER, Engine, NewCustomer, NewPrice, NewProduct, NewSubscription,
    NewSubscriptionItem, StopSignal,
};

/// Three customers, each with a 30.00 monthly subscription from Jan 1.
pub(super) fn three_subscribers(engine: &Engine, tenant: &TenantId) {
    let product = engine
        .create_product(tenant, NewProduct { name: "Pro".into(), description: None })
        .expect("product");
    let price = engine
        .create_price(
            tenant,
            NewPrice {
                product_id: product.id,
                currency: "USD".into(),
                unit_amount: crate::Amount::parse("30.00").expect("an amount"),
                recurring: Some(("month".into(), None)),
                tax_rate: None,
            },
        )
        .expect("price");
    for n in 0..3 {
        let name = format!("C{n}");
        let customer = engine
            .create_customer(tenant, NewCustomer { name, ..NewCustomer::default() })
            .expect("customer");
        let items = vec![NewSubscriptionItem { price_id: price.id.clone(), quantity: None }];
        let new = NewSubscription { customer_id: customer.id, start_date: Some(jan_1()), items };
        engine.create_subscription(tenant, new).expect("subscription");
    }
}

pub(super) fn jan_1() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date")
}

#[test]
fn a_stopped_bill_run_is_marked_stopped_and_a_new_run_for_the_date_bills_the_rest() {
    let world = World::new();
    let engine = &world.engine;
    three_subscribers(engine, &world.tenant);
    let jan_1 = jan_1();

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
            (BillRunStatus::Stopped, 3, 0, 0)
        );
        assert_eq!(run.finished_at, None);
        assert_eq!(run.stopped_at, Some(run.created_at));
    }

    let rest = engine.bill_run(&world.tenant, jan_1, None).expect("the next run");
    assert_eq!(
        (rest.status, rest.customers_total, rest.customers_done, rest.invoices_created),
        (BillRunStatus::Done, 3, 3, 3)
    );
    let totals: Vec<i64> = rest.totals.iter().map(|t| t.minor()).collect();
    assert_eq!(totals, vec![9000]);
    let first = engine.bill_run_record(&world.tenant, &stopped.id).expect("stored");
    assert_eq!(
        first.status,
        BillRunStatus::Stopped,
        "a later run leaves the stopped one as it was"
    );
}

#[test]
fn a_run_whose_process_died_reads_as_interrupted_once_stale_and_a_new_run_bills_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("crash.db"), Durability::Normal).expect("open");
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).single().expect("time");
    let clock = Arc::new(HandClock(Mutex::new(start)));
    let engine = Engine::new(Arc::new(store), clock.clone(), Arc::new(CountingIds::default()))
        .with_bill_run_batch(2);
    let tenant = engine.create_tenant("Acme").expect("tenant").tenant_id;
    three_subscribers(&engine, &tenant);

    // The process dies right after its first batch (two customers) committed: the panic stands
    // for kill -9, which leaves the run as the last commit wrote it.
    let mut run_id = None;
    let died = catch_unwind(AssertUnwindSafe(|| {
        engine.run_bill_run(&tenant, jan_1(), None, &mut |run| {
            run_id = Some(run.id.clone());
            if run.customers_done >= 2 {
                panic!("the process dies after its first batch");
            }
        })
    }));
    assert!(died.is_err());
    let run_id = run_id.expect("the run started");

    let read = |engine: &Engine| engine.bill_run_record(&tenant, &run_id).expect("stored");
    let just_after = read(&engine);
    assert_eq!(
        (just_after.status, just_after.customers_done, just_after.invoices_created),
        (BillRunStatus::Running, 2, 2),
        "until it is stale, a run that committed progress lately may still be going"
    );
    *clock.0.lock().expect("clock") += BILL_RUN_STALE_AFTER;
    assert_eq!(read(&engine).status, BillRunStatus::Running, "exactly the limit is not stale");
    *clock.0.lock().expect("clock") += TimeDelta::seconds(1);
    let stale = read(&engine);
    assert_eq!(
        (stale.status, stale.customers_done, stale.invoices_created, stale.finished_at),
        (BillRunStatus::Interrupted, 2, 2, None)
    );
    let listed = engine.bill_runs(&tenant, 20).expect("list");
    assert_eq!(listed.iter().map(|r| r.status).collect::<Vec<_>>(), [BillRunStatus::Interrupted]);

    let rest = engine.bill_run(&tenant, jan_1(), None).expect("the next run");
    assert_eq!(
        (rest.status, rest.customers_total, rest.customers_done, rest.invoices_created),
        (BillRunStatus::Done, 1, 1, 1),
        "the new run bills only the customer the dead one had not reached"
    );
    let statuses: Vec<_> =
        engine.bill_runs(&tenant, 20).expect("list").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [BillRunStatus::Done, BillRunStatus::Interrupted]);
}
