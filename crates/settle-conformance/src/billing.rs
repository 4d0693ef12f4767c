//! The catalog, subscriptions, invoiced periods and lines, amendments and bill runs.

use chrono::{NaiveDate, TimeDelta};
use settle_core::document::DocumentStatus;
use settle_core::ids::{
    AmendmentId, BillRunId, CustomerId, DocumentId, ItemId, PriceId, ProductId, SubscriptionId,
    SubscriptionItemId, TenantId,
};
use settle_core::money::{Currency, Money};
use settle_core::subscription::{
    Interval, Price, Product, Recurring, Segment, Subscription, SubscriptionStatus, Timing,
};
use settle_store::{
    AmendmentRecord, BillRun, BillRunStatus, BilledLine, PageRequest, Store, StoreError,
    SubscriptionQuery,
};

use crate::fixture::{customer, day, document, id, seed, t0, usd};

fn product(product_id: &str, name: &str) -> Product {
    Product {
        id: id(ProductId::parse, product_id),
        name: name.to_owned(),
        description: Some(format!("{name}, described")),
        created_at: t0(),
    }
}

fn price(price_id: &str, product: &Product, minor: i64, recurring: Option<Recurring>) -> Price {
    Price {
        id: id(PriceId::parse, price_id),
        product_id: product.id.clone(),
        product_name: product.name.clone(),
        unit_amount: usd(minor),
        recurring,
        tax_rate: Some("8.250".parse().expect("a rate")),
        archived: false,
        created_at: t0(),
    }
}

fn monthly() -> Recurring {
    Recurring { interval: Interval::Month, interval_count: 1 }
}

fn subscription(sub_id: &str, customer_id: &str, price: &Price, start: NaiveDate) -> Subscription {
    Subscription {
        id: id(SubscriptionId::parse, sub_id),
        customer_id: id(CustomerId::parse, customer_id),
        currency: Currency::USD,
        status: SubscriptionStatus::Active,
        start_date: start,
        recurring: monthly(),
        ends_on: None,
        billed_periods: 0,
        segments: vec![Segment {
            item_id: id(SubscriptionItemId::parse, &format!("si_{}", &sub_id[4..])),
            price_id: price.id.clone(),
            quantity: "2.50".parse().expect("a quantity"),
            starts_on: start,
            ends_on: None,
        }],
        created_at: t0(),
    }
}

fn all() -> PageRequest {
    PageRequest { limit: 500, cursor: None }
}

/// Products and prices read back as written (a rate's and a quantity's scale kept), list by
/// id with cursors, stay inside their tenant, and a price is archived once.
pub fn products_and_prices_read_back_list_by_id_and_archive_once(store: &dyn Store) {
    let tenant = seed(store, "ten_acme", &[]);
    let other = seed(store, "ten_other", &[]);
    let (pro, seats) = (product("prod_b", "Pro"), product("prod_a", "Seats"));
    let monthly_pro = price("price_2", &pro, 3000, Some(monthly()));
    let setup = Price { tax_rate: None, ..price("price_1", &pro, 9900, None) };
    let yearly = Recurring { interval: Interval::Year, interval_count: 2 };
    let seat = price("price_3", &seats, 500, Some(yearly));
    let mut tx = store.begin_write().expect("begin");
    for p in [&pro, &seats] {
        tx.insert_product(&tenant, p).expect("product");
    }
    for p in [&monthly_pro, &setup, &seat] {
        tx.insert_price(&tenant, p).expect("price");
    }
    tx.commit().expect("commit");
    let tx = store.begin_write().expect("begin");
    let orphan = Price { product_id: id(ProductId::parse, "prod_none"), ..seat.clone() };
    let orphan = Price { id: id(PriceId::parse, "price_9"), ..orphan };
    assert!(matches!(
        crate::or_at_commit(tx, |tx| tx.insert_price(&tenant, &orphan)),
        Err(StoreError::Conflict { .. })
    ));

    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.product(&tenant, &pro.id).expect("read"), Some(pro.clone()));
    assert_eq!(tx.product(&other, &pro.id).expect("read"), None);
    assert_eq!(tx.products(&tenant, &all()).expect("list").rows, [seats.clone(), pro.clone()]);
    let first = tx.products(&tenant, &PageRequest { limit: 1, cursor: None }).expect("list");
    assert_eq!(first.rows, std::slice::from_ref(&seats));
    let next = PageRequest { limit: 1, cursor: first.next_cursor };
    let second = tx.products(&tenant, &next).expect("list");
    assert_eq!((second.rows, second.next_cursor), (vec![pro.clone()], None));
    assert_eq!(tx.price(&tenant, &seat.id).expect("read"), Some(seat.clone()));
    let read = tx.price(&tenant, &seat.id).expect("read").expect("a price");
    assert_eq!(read.tax_rate.map(|r| r.to_string()).as_deref(), Some("8.250"));
    assert_eq!(tx.price(&other, &seat.id).expect("read"), None);
    let prices = tx.prices(&tenant, None, &all()).expect("list").rows;
    assert_eq!(prices, [setup.clone(), monthly_pro.clone(), seat.clone()]);
    let of_pro = tx.prices(&tenant, Some(&pro.id), &all()).expect("list").rows;
    assert_eq!(of_pro, [setup.clone(), monthly_pro.clone()]);
    assert!(tx.prices(&other, None, &all()).expect("list").rows.is_empty());
    let later = t0() + TimeDelta::hours(1);
    assert!(!tx.archive_price(&other, &seat.id, later).expect("archive"));
    assert!(tx.archive_price(&tenant, &seat.id, later).expect("archive"));
    assert!(!tx.archive_price(&tenant, &seat.id, later).expect("archive"));
    let archived = tx.price(&tenant, &seat.id).expect("read").expect("a price");
    assert_eq!(archived, Price { archived: true, ..seat });
    tx.commit().expect("commit");
}

fn catalog(store: &dyn Store, tenant: &TenantId) -> Price {
    let pro = product("prod_pro", "Pro");
    let monthly_pro = price("price_pro", &pro, 3000, Some(monthly()));
    let mut tx = store.begin_write().expect("begin");
    tx.insert_product(tenant, &pro).expect("product");
    tx.insert_price(tenant, &monthly_pro).expect("price");
    tx.commit().expect("commit");
    monthly_pro
}

/// Subscriptions read back with their segments, are rewritten whole, list by customer and
/// status, and the customers with a period due by a date are found by the next period's start.
pub fn subscriptions_read_back_list_and_are_found_when_due(store: &dyn Store) {
    let customers = [customer("cus_a", "Ann", 0), customer("cus_b", "Ben", 0)];
    let tenant = seed(store, "ten_acme", &customers);
    let pro = catalog(store, &tenant);
    let mut ann = subscription("sub_1", "cus_a", &pro, day(1));
    let mut ben = subscription("sub_2", "cus_b", &pro, day(15));
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &customers[0].id, t0()).expect("lock").expect("ann");
    tx.insert_subscription(&lock, &ann).expect("insert");
    let (lock_b, _) = tx.lock_customer(&tenant, &customers[1].id, t0()).expect("lock").expect("b");
    tx.insert_subscription(&lock_b, &ben).expect("insert");
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.subscription(&tenant, &ann.id).expect("read"), Some(ann.clone()));
    assert_eq!(
        tx.billable_customers(&tenant, day(1), None, 10).expect("due"),
        [ann.customer_id.clone()]
    );
    let both = tx.billable_customers(&tenant, day(20), None, 10).expect("due");
    assert_eq!(both, [ann.customer_id.clone(), ben.customer_id.clone()]);
    let after = tx.billable_customers(&tenant, day(20), Some(&ann.customer_id), 10).expect("due");
    assert_eq!(after, std::slice::from_ref(&ben.customer_id));
    assert_eq!(tx.billable_customers(&tenant, day(20), None, 1).expect("due").len(), 1);
    assert_eq!(tx.billable_customer_count(&tenant, day(1)).expect("count"), 1);
    assert_eq!(tx.billable_customer_count(&tenant, day(20)).expect("count"), 2);
    let (lock, _) = tx.lock_customer(&tenant, &customers[0].id, t0()).expect("lock").expect("ann");
    ann.billed_periods = 1;
    ann.segments[0].ends_on = Some(day(10));
    ann.segments.push(Segment {
        starts_on: day(10),
        quantity: "5".parse().expect("a quantity"),
        ..ann.segments[0].clone()
    });
    ann.segments[1].ends_on = None;
    tx.update_subscription(&lock, &ann).expect("update");
    assert_eq!(tx.customer_subscriptions(&lock).expect("read"), [ann.clone()]);
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.subscription(&tenant, &ann.id).expect("read"), Some(ann.clone()));
    assert_eq!(
        tx.billable_customers(&tenant, day(20), None, 10).expect("due"),
        std::slice::from_ref(&ben.customer_id)
    );
    let (lock_b, _) = tx.lock_customer(&tenant, &customers[1].id, t0()).expect("lock").expect("b");
    ben.billed_periods = 1;
    tx.update_subscription_billing(&lock_b, &ben).expect("advance");
    assert_eq!(tx.subscription(&tenant, &ben.id).expect("read"), Some(ben.clone()));
    let (lock, _) = tx.lock_customer(&tenant, &customers[0].id, t0()).expect("lock").expect("ann");
    ann.status = SubscriptionStatus::Canceled;
    ann.ends_on = Some(day(12));
    tx.update_subscription(&lock, &ann).expect("update");
    assert!(tx.customer_subscriptions(&lock).expect("read").is_empty());
    let by_ann = SubscriptionQuery { customer_id: Some(ann.customer_id.clone()), status: None };
    assert_eq!(tx.subscriptions(&tenant, &by_ann, &all()).expect("list").rows, [ann.clone()]);
    let active = SubscriptionQuery { customer_id: None, status: Some(SubscriptionStatus::Active) };
    assert_eq!(
        tx.subscriptions(&tenant, &active, &all()).expect("list").rows,
        std::slice::from_ref(&ben)
    );
    let first = tx
        .subscriptions(
            &tenant,
            &SubscriptionQuery::default(),
            &PageRequest { limit: 1, cursor: None },
        )
        .expect("list");
    assert_eq!(first.rows, [ann.clone()]);
    let rest = PageRequest { limit: 1, cursor: first.next_cursor };
    assert_eq!(
        tx.subscriptions(&tenant, &SubscriptionQuery::default(), &rest).expect("list").rows,
        [ben.clone()]
    );
    // A bill run ends a subscription whose end has come through the same write.
    ben.status = SubscriptionStatus::Canceled;
    ben.ends_on = Some(day(20));
    tx.update_subscription_billing(&lock_b, &ben).expect("end");
    assert_eq!(tx.subscription(&tenant, &ben.id).expect("read"), Some(ben.clone()));
    assert!(tx.subscriptions(&tenant, &active, &all()).expect("list").rows.is_empty());
    tx.commit().expect("commit");
}

/// A batch locks its customers in one call (in id order, unknown and other tenants' ids left
/// out, each lock carrying the batch's instant) and reads their subscriptions that may still
/// bill in one more, by customer, then by id, each with its segments in order.
pub fn a_batch_locks_its_customers_and_reads_their_subscriptions_together(store: &dyn Store) {
    let customers =
        [customer("cus_a", "Ann", 0), customer("cus_b", "Ben", 0), customer("cus_c", "Cal", 0)];
    let tenant = seed(store, "ten_acme", &customers);
    seed(store, "ten_other", &[customer("cus_z", "Zoe", 0)]);
    let pro = catalog(store, &tenant);
    let mut ann_later = subscription("sub_3", "cus_a", &pro, day(5));
    ann_later.segments[0].ends_on = Some(day(10));
    ann_later.segments.push(Segment {
        item_id: id(SubscriptionItemId::parse, "si_3b"),
        starts_on: day(10),
        quantity: "2".parse().expect("a quantity"),
        ..ann_later.segments[0].clone()
    });
    ann_later.segments[1].ends_on = None;
    let ann_first = subscription("sub_1", "cus_a", &pro, day(1));
    let mut cal_ended = subscription("sub_2", "cus_c", &pro, day(1));
    cal_ended.status = SubscriptionStatus::Canceled;
    cal_ended.ends_on = Some(day(2));
    let cal = subscription("sub_4", "cus_c", &pro, day(3));
    let mut tx = store.begin_write().expect("begin");
    for (owner, subscription) in [(0, &ann_later), (0, &ann_first), (2, &cal_ended), (2, &cal)] {
        let (lock, _) =
            tx.lock_customer(&tenant, &customers[owner].id, t0()).expect("lock").expect("known");
        tx.insert_subscription(&lock, subscription).expect("insert");
    }
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    let now = t0() + TimeDelta::minutes(5);
    let asked = vec![
        customers[2].id.clone(),
        customers[0].id.clone(),
        id(CustomerId::parse, "cus_none"),
        id(CustomerId::parse, "cus_z"),
    ];
    let locked = tx.lock_customers(&tenant, &asked, now).expect("lock");
    let read: Vec<_> = locked.iter().map(|(lock, c)| (lock.customer_id(), lock.now(), c)).collect();
    assert_eq!(
        read,
        [(&customers[0].id, now, &customers[0]), (&customers[2].id, now, &customers[2])]
    );
    let locks: Vec<_> = locked.iter().map(|(lock, _)| lock).collect();
    assert_eq!(
        tx.customers_subscriptions(&locks).expect("read"),
        [ann_first.clone(), ann_later, cal.clone()]
    );
    assert_eq!(tx.customers_subscriptions(&locks[1..]).expect("read"), std::slice::from_ref(&cal));
    assert!(tx.customers_subscriptions(&[]).expect("read").is_empty());
    assert!(tx.lock_customers(&tenant, &[], now).expect("lock").is_empty());
    tx.commit().expect("commit");

    // Billing a subscription that is not as stored (its start moved) changes no row: the
    // write is refused, at the call or at the commit after it, and nothing is kept.
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &customers[2].id, t0()).expect("lock").expect("c");
    let moved = Subscription { start_date: day(4), billed_periods: 1, ..cal.clone() };
    let refused = crate::or_at_commit(tx, |tx| tx.update_subscription_billing(&lock, &moved));
    assert!(matches!(refused, Err(StoreError::Corrupt(_))), "{refused:?}");
    let mut tx = store.begin_read().expect("begin");
    assert_eq!(tx.subscription(&tenant, &cal.id).expect("read"), Some(cal.clone()));

    // The same behind another subscription's billing in the same transaction (a store may
    // send the two as one statement, which must still change one row for each).
    let mut tx = store.begin_write().expect("begin");
    let (lock_a, _) = tx.lock_customer(&tenant, &customers[0].id, t0()).expect("lock").expect("a");
    let (lock_c, _) = tx.lock_customer(&tenant, &customers[2].id, t0()).expect("lock").expect("c");
    let advanced = Subscription { billed_periods: 1, ..ann_first.clone() };
    tx.update_subscription_billing(&lock_a, &advanced).expect("held or written");
    let refused = crate::or_at_commit(tx, |tx| tx.update_subscription_billing(&lock_c, &moved));
    assert!(matches!(refused, Err(StoreError::Corrupt(_))), "{refused:?}");
    let mut tx = store.begin_read().expect("begin");
    assert_eq!(tx.subscription(&tenant, &ann_first.id).expect("read"), Some(ann_first.clone()));
    assert_eq!(tx.subscription(&tenant, &cal.id).expect("read"), Some(cal.clone()));

    // The same after writes to other tables, which a store may send with it as one statement:
    // refused, and none of those writes kept.
    let mut tx = store.begin_write().expect("begin");
    let (lock_c, _) = tx.lock_customer(&tenant, &customers[2].id, t0()).expect("lock").expect("c");
    tx.insert_customer(&tenant, &customer("cus_joined", "Joined", 0)).expect("held or written");
    let refused = crate::or_at_commit(tx, |tx| tx.update_subscription_billing(&lock_c, &moved));
    assert!(matches!(refused, Err(StoreError::Corrupt(_))), "{refused:?}");
    let mut tx = store.begin_read().expect("begin");
    let joined = id(CustomerId::parse, "cus_joined");
    assert_eq!(tx.customer(&tenant, &joined).expect("read"), None);
    assert_eq!(tx.subscription(&tenant, &cal.id).expect("read"), Some(cal));
}

/// A period is recorded as invoiced once: the second record of it is refused, whatever
/// invoice it names; lines come back in the order they were written; amendments read back.
pub fn a_period_is_invoiced_once_and_lines_and_amendments_read_back(store: &dyn Store) {
    let customers = [customer("cus_a", "Ann", 0)];
    let tenant = seed(store, "ten_acme", &customers);
    let pro = catalog(store, &tenant);
    let ann = subscription("sub_1", "cus_a", &pro, day(1));
    let first =
        document("inv_1", &customers[0].id, DocumentStatus::Posted, &[("item_1", 7500, 7500)]);
    let second = document(
        "inv_2",
        &customers[0].id,
        DocumentStatus::Posted,
        &[("item_2", -3000, -3000), ("item_3", 1000, 1000)],
    );
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &customers[0].id, t0()).expect("lock").expect("ann");
    tx.insert_subscription(&lock, &ann).expect("insert");
    tx.insert_document(&lock, &first).expect("invoice");
    tx.insert_document(&lock, &second).expect("invoice");
    tx.insert_billed_period(&lock, &ann.id, day(1), Some(&first.id)).expect("period");
    let line = |item: &str| BilledLine {
        subscription_id: ann.id.clone(),
        period_start: day(1),
        item_id: ann.segments[0].item_id.clone(),
        segment_start: day(1),
        invoice_item_id: id(ItemId::parse, item),
    };
    tx.insert_billed_line(&lock, &line("item_1")).expect("line");
    tx.insert_billed_line(&lock, &line("item_3")).expect("line");
    let amendment = AmendmentRecord {
        id: id(AmendmentId::parse, "amd_1"),
        subscription_id: ann.id.clone(),
        effective_date: day(10),
        timing: Timing::Immediate,
        takes_effect_on: day(10),
        changes: "change_quantity".to_owned(),
        document_id: Some(second.id.clone()),
        created_at: t0(),
    };
    tx.insert_amendment(&lock, &amendment).expect("amendment");
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &customers[0].id, t0()).expect("lock").expect("ann");
    let twice = crate::or_at_commit(tx, |tx| tx.insert_billed_period(&lock, &ann.id, day(1), None));
    assert!(matches!(twice, Err(StoreError::Conflict { .. })), "{twice:?}");
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) = tx.lock_customer(&tenant, &customers[0].id, t0()).expect("lock").expect("ann");
    let none: Option<&DocumentId> = None;
    tx.insert_billed_period(&lock, &ann.id, day(31), none).expect("an empty period");
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    let periods = tx.billed_periods(&tenant, &ann.id).expect("periods");
    assert_eq!(periods, [(day(1), Some(first.id.clone())), (day(31), None)]);
    let lines =
        tx.billed_lines(&tenant, &ann.id, day(1), &ann.segments[0].item_id, day(1)).expect("lines");
    assert_eq!(lines, [line("item_1"), line("item_3")]);
    assert!(
        tx.billed_lines(&tenant, &ann.id, day(2), &ann.segments[0].item_id, day(1))
            .expect("lines")
            .is_empty()
    );
    assert_eq!(tx.amendments(&tenant, &ann.id).expect("amendments"), [amendment]);
    let other = id(TenantId::parse, "ten_other");
    assert!(tx.amendments(&other, &ann.id).expect("amendments").is_empty());
    tx.commit().expect("commit");
}

/// A bill run's progress, totals and failures read back as last written.
pub fn bill_runs_read_back_as_last_written(store: &dyn Store) {
    let tenant = seed(store, "ten_acme", &[]);
    let mut run = BillRun {
        id: id(BillRunId::parse, "br_1"),
        tenant_id: tenant.clone(),
        as_of: day(1),
        status: BillRunStatus::Running,
        customers_total: 3,
        customers_done: 0,
        invoices_created: 0,
        totals: Vec::new(),
        failures: Vec::new(),
        created_at: t0(),
        finished_at: None,
        updated_at: t0(),
        stopped_at: None,
    };
    let mut tx = store.begin_write().expect("begin");
    tx.insert_bill_run(&run).expect("insert");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.bill_run(&tenant, &run.id).expect("read"), Some(run.clone()));
    // Stopped by a shutdown half way: it reads back stopped, with when.
    run.customers_done = 1;
    run.status = BillRunStatus::Stopped;
    run.updated_at = t0() + TimeDelta::seconds(1);
    run.stopped_at = Some(t0() + TimeDelta::seconds(1));
    tx.update_bill_run(&run).expect("update");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.bill_run(&tenant, &run.id).expect("read"), Some(run.clone()));
    // A later write of a running run (a new process resuming it) clears the stop.
    run.status = BillRunStatus::Running;
    run.stopped_at = None;
    tx.update_bill_run(&run).expect("update");
    assert_eq!(tx.bill_run(&tenant, &run.id).expect("read"), Some(run.clone()));
    run.customers_done = 3;
    run.invoices_created = 2;
    run.totals = vec![Money::new(150, Currency::parse("JPY").expect("JPY")), usd(-1032)];
    run.failures = vec![(id(CustomerId::parse, "cus_x"), "amount_out_of_range: total".to_owned())];
    run.status = BillRunStatus::Done;
    run.finished_at = Some(t0() + TimeDelta::seconds(3));
    run.updated_at = t0() + TimeDelta::seconds(3);
    tx.update_bill_run(&run).expect("update");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.bill_run(&tenant, &run.id).expect("read"), Some(run.clone()));
    assert_eq!(tx.bill_run(&id(TenantId::parse, "ten_other"), &run.id).expect("read"), None);
    run.totals = vec![usd(5)];
    run.failures.clear();
    tx.update_bill_run(&run).expect("update");
    assert_eq!(tx.bill_run(&tenant, &run.id).expect("read"), Some(run.clone()));
    // The latest runs, the newest first, with their totals and failures.
    let later = BillRun {
        id: id(BillRunId::parse, "br_2"),
        as_of: day(2),
        created_at: t0() + TimeDelta::seconds(60),
        failures: vec![(id(CustomerId::parse, "cus_y"), "refused".to_owned())],
        ..run.clone()
    };
    tx.insert_bill_run(&later).expect("insert");
    assert_eq!(tx.bill_runs(&tenant, 10).expect("list"), vec![later.clone(), run]);
    assert_eq!(tx.bill_runs(&tenant, 1).expect("list"), vec![later]);
    assert_eq!(tx.bill_runs(&id(TenantId::parse, "ten_other"), 10).expect("list"), vec![]);
}
