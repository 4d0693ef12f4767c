//! A bill run with several batches in flight at once invoices every due period once, and each
//! progress report, like the stored run, is the run as the batches committed before it left it.

use settle_core::money::{Currency, Money};
use settle_store::{BillRunStatus, DocumentQuery, PageRequest};

use super::World;
use super::stop::{jan_1, three_subscribers};

#[test]
fn batches_in_flight_at_once_invoice_each_period_once_and_report_in_the_order_they_commit() {
    let world = World::new();
    let engine = world.engine.clone().with_bill_run_batch(2).with_bill_run_workers(3);
    let tenant = &world.tenant;
    for _ in 0..4 {
        three_subscribers(&engine, tenant);
    }

    let mut reports = Vec::new();
    let mut threads = Vec::new();
    let run = engine
        .run_bill_run(tenant, jan_1(), None, &mut |run| {
            reports.push((run.customers_done, run.invoices_created));
            threads.push(std::thread::current().id());
        })
        .expect("bill run");
    // A batch reports from the thread that billed it, the run's start and end from the
    // caller's: some batches were billed on threads of their own.
    threads.sort_by_key(|id| format!("{id:?}"));
    threads.dedup();
    assert!(threads.len() > 1, "every batch was billed on one thread");
    assert_eq!(
        (run.status, run.customers_total, run.customers_done, run.invoices_created),
        (BillRunStatus::Done, 12, 12, 12)
    );
    assert_eq!(run.totals, vec![Money::new(36_000, Currency::USD)]);
    assert!(run.failures.is_empty(), "{:?}", run.failures);
    // The start, six batches of two customers whichever thread billed them, and the end.
    let expected: Vec<(u32, u32)> =
        [0, 2, 4, 6, 8, 10, 12, 12].into_iter().map(|n| (n, n)).collect();
    assert_eq!(reports, expected);
    assert_eq!(engine.bill_run_record(tenant, &run.id).expect("stored"), run);

    let page = PageRequest { limit: 50, cursor: None };
    let invoices = engine.documents(tenant, &DocumentQuery::default(), &page).expect("list");
    let mut customers: Vec<_> = invoices.rows.iter().map(|d| d.customer_id.clone()).collect();
    customers.sort();
    customers.dedup();
    assert_eq!((invoices.rows.len(), customers.len()), (12, 12), "one invoice per customer");

    let again = engine.bill_run(tenant, jan_1(), None).expect("again");
    assert_eq!((again.customers_done, again.invoices_created), (0, 0));
}
