//! A batch draws its invoices' numbers ahead and gives back what it did not use: on SQLite the
//! numbers stay gapless and in the order the invoices were made.

use chrono::NaiveDate;
use settle_core::document::DocumentKind;

use settle_store::{CustomerQuery, DocumentQuery, PageRequest};

use super::World;
use super::stop::{jan_1, three_subscribers};
use crate::{NewCustomer, NewDocument, NewItem, NewSubscription, NewSubscriptionItem};

#[test]
fn a_bill_run_batch_numbers_its_invoices_without_a_gap_and_gives_back_what_it_drew_ahead() {
    let world = World::new();
    let engine = world.engine.clone().with_bill_run_batch(10);
    let tenant = &world.tenant;
    three_subscribers(&engine, tenant);
    // Three periods due (Nov, Dec, Jan): the batch draws again while billing this customer.
    let price = engine.prices(tenant, None, &page()).expect("prices").rows[0].id.clone();
    let late = engine
        .create_customer(tenant, NewCustomer { name: "Late".into(), ..NewCustomer::default() })
        .expect("customer");
    let items = vec![NewSubscriptionItem { price_id: price, quantity: None }];
    let nov_1 = NaiveDate::from_ymd_opt(2025, 11, 1).expect("a date");
    let new = NewSubscription { customer_id: late.id, start_date: Some(nov_1), items };
    engine.create_subscription(tenant, new).expect("subscription");
    // Listed last and billed nothing: the number drawn for it is given back.
    let last = engine
        .create_customer(tenant, NewCustomer { name: "None".into(), ..NewCustomer::default() })
        .expect("customer");
    let listed = engine.customers(tenant, &CustomerQuery::default(), &page()).expect("customers");
    let mut listed: Vec<_> = listed.rows.into_iter().map(|c| c.id).collect();
    listed.sort();
    assert_eq!((listed.len(), listed.last()), (6, Some(&last.id)));

    let run = engine.bill_run(tenant, jan_1(), Some(listed)).expect("bill run");
    assert_eq!((run.customers_done, run.invoices_created), (6, 6));
    let mut numbers: Vec<String> = engine
        .documents(tenant, &DocumentQuery::default(), &page())
        .expect("documents")
        .rows
        .into_iter()
        .map(|d| d.number)
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=6).map(|n| DocumentKind::Invoice.number(n)).collect();
    assert_eq!(numbers, expected);

    let next = NewDocument {
        kind: DocumentKind::Invoice,
        customer_id: last.id,
        items: vec![NewItem {
            description: "Work".into(),
            amount: Some(crate::Amount::parse("1.00").expect("an amount")),
            ..NewItem::default()
        }],
        invoice_date: None,
        due_date: None,
        adjusts_invoice_id: None,
        reason: None,
        post: true,
    };
    let document = engine.create_document(tenant, next).expect("an invoice");
    assert_eq!(document.number, DocumentKind::Invoice.number(7));
}

fn page() -> PageRequest {
    PageRequest { limit: 50, cursor: None }
}
