//! Rows that belong to a parent row (a document's items, an application's items, a
//! subscription's segments, invoiced periods, lines and amendments) are stored with the
//! tenant and customer of the lock they were written under: the inserts name them, as a
//! database sharded by customer needs (docs/SCALING.md), and nothing fills them in afterwards.

use chrono::{DateTime, NaiveDate, Utc};
use settle_conformance::PinnedClock;
use settle_core::application::{Application, ApplicationItem, SourceRef};
use settle_core::document::{Document, DocumentKind, DocumentStatus, Item, ItemKind};
use settle_core::ids::{
    AmendmentId, ApplicationId, CustomerId, DocumentId, ItemId, PriceId, ProductId, SubscriptionId,
    SubscriptionItemId, TenantId,
};
use settle_core::money::{Currency, Money};
use settle_core::subscription::{
    Interval, Price, Product, Recurring, Segment, Subscription, SubscriptionStatus, Timing,
};
use settle_engine::Clock;
use settle_store::{AmendmentRecord, BilledLine, Store};

use super::{TestDb, customer, seed};

fn now() -> DateTime<Utc> {
    PinnedClock.now()
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, n).expect("a day of March")
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn charge(item_id: &str, minor: i64) -> Item {
    Item {
        id: ItemId::parse(item_id).expect("item id"),
        kind: ItemKind::Charge,
        parent_item_id: None,
        description: format!("{item_id} work"),
        quantity: None,
        unit_price: None,
        tax_rate: None,
        invoice_item_id: None,
        amount: usd(minor),
        balance: usd(minor),
        credited: usd(0),
    }
}

/// A posted invoice `inv_<c>` of customer `cus_<c>` with items `item_<c>1` and `item_<c>2`.
fn invoice(c: &str) -> Document {
    let id = DocumentId::parse(&format!("inv_{c}")).expect("document id");
    Document {
        number: format!("INV-{c}"),
        group: vec![id.clone()],
        id,
        kind: DocumentKind::Invoice,
        customer_id: CustomerId::parse(&format!("cus_{c}")).expect("customer id"),
        status: DocumentStatus::Posted,
        currency: Currency::USD,
        invoice_date: day(1),
        due_date: day(31),
        adjusts_invoice_id: None,
        reason: None,
        items: vec![charge(&format!("item_{c}1"), 7500), charge(&format!("item_{c}2"), 2500)],
        group_balance: usd(10_000),
    }
}

/// `app_<c>`: the customer's credit balance applied to the invoice's first item.
fn application(c: &str, invoice: &Document) -> Application {
    Application {
        id: ApplicationId::parse(&format!("app_{c}")).expect("application id"),
        customer_id: invoice.customer_id.clone(),
        source: SourceRef::CreditBalance,
        target_id: invoice.id.clone(),
        rule: None,
        currency: Currency::USD,
        effective_date: day(3),
        items: vec![ApplicationItem {
            item_id: invoice.items[0].id.clone(),
            credit_memo_item_id: None,
            amount: usd(1000),
            net: usd(1000),
        }],
    }
}

/// `sub_<c>`: one monthly segment `si_<c>` of `price`.
fn subscription(c: &str, customer_id: &CustomerId, price: &Price) -> Subscription {
    let recurring = Recurring { interval: Interval::Month, interval_count: 1 };
    Subscription {
        id: SubscriptionId::parse(&format!("sub_{c}")).expect("subscription id"),
        customer_id: customer_id.clone(),
        currency: Currency::USD,
        status: SubscriptionStatus::Active,
        start_date: day(1),
        recurring,
        ends_on: None,
        billed_periods: 1,
        segments: vec![Segment {
            item_id: SubscriptionItemId::parse(&format!("si_{c}")).expect("item id"),
            price_id: price.id.clone(),
            quantity: "2.50".parse().expect("a quantity"),
            starts_on: day(1),
            ends_on: None,
        }],
        created_at: now(),
    }
}

/// The tenant's one monthly price.
fn catalog(store: &dyn Store, tenant: &TenantId) -> Price {
    let product = Product {
        id: ProductId::parse("prod_pro").expect("product id"),
        name: "Pro".to_owned(),
        description: None,
        created_at: now(),
    };
    let price = Price {
        id: PriceId::parse("price_pro").expect("price id"),
        product_id: product.id.clone(),
        product_name: product.name.clone(),
        unit_amount: usd(3000),
        recurring: Some(Recurring { interval: Interval::Month, interval_count: 1 }),
        tax_rate: None,
        archived: false,
        created_at: now(),
    };
    let mut tx = store.begin_write().expect("begin");
    tx.insert_product(tenant, &product).expect("product");
    tx.insert_price(tenant, &price).expect("price");
    tx.commit().expect("commit");
    price
}

/// Writes, under customer `cus_<c>`'s lock, one row of each kind that belongs to a parent.
fn write_child_rows(store: &dyn Store, tenant: &TenantId, c: &str, price: &Price) {
    let invoice = invoice(c);
    let subscription = subscription(c, &invoice.customer_id, price);
    let mut tx = store.begin_write().expect("begin");
    let (lock, _) =
        tx.lock_customer(tenant, &invoice.customer_id, now()).expect("lock").expect("a customer");
    tx.insert_document(&lock, &invoice).expect("invoice and items");
    tx.insert_application(&lock, &application(c, &invoice)).expect("application and item");
    tx.insert_subscription(&lock, &subscription).expect("subscription and segment");
    tx.insert_billed_period(&lock, &subscription.id, day(1), Some(&invoice.id)).expect("period");
    let line = BilledLine {
        subscription_id: subscription.id.clone(),
        period_start: day(1),
        item_id: subscription.segments[0].item_id.clone(),
        segment_start: day(1),
        invoice_item_id: invoice.items[1].id.clone(),
    };
    tx.insert_billed_line(&lock, &line).expect("line");
    let amendment = AmendmentRecord {
        id: AmendmentId::parse(&format!("amd_{c}")).expect("amendment id"),
        subscription_id: subscription.id.clone(),
        effective_date: day(10),
        timing: Timing::Immediate,
        takes_effect_on: day(10),
        changes: "change_quantity".to_owned(),
        document_id: Some(invoice.id.clone()),
        created_at: now(),
    };
    tx.insert_amendment(&lock, &amendment).expect("amendment");
    tx.commit().expect("commit");
}

#[test]
fn every_row_under_a_parent_is_stored_with_the_customer_it_was_written_for() {
    let Some(db) = TestDb::new("every_row_under_a_parent_is_stored_with_") else {
        return;
    };
    let store = db.open();
    let tenant = seed(&store, &[customer("cus_a", "Ann", 0), customer("cus_b", "Ben", 0)]);
    let price = catalog(&store, &tenant);
    write_child_rows(&store, &tenant, "a", &price);
    write_child_rows(&store, &tenant, "b", &price);

    let rows: Vec<String> = db
        .client()
        .query(
            "select 'document_item', item_id, tenant_id, customer_id from document_item \
             union all select 'application_item', application_id || '/' || idx, tenant_id, \
                 customer_id from application_item \
             union all select 'subscription_segment', subscription_id || '/' || idx, tenant_id, \
                 customer_id from subscription_segment \
             union all select 'subscription_period', subscription_id || '/' || period_start, \
                 tenant_id, customer_id from subscription_period \
             union all select 'subscription_line', invoice_item_id, tenant_id, customer_id \
                 from subscription_line \
             union all select 'amendment', amendment_id, tenant_id, customer_id from amendment \
             order by 4, 1, 2",
            &[],
        )
        .expect("the rows")
        .iter()
        .map(|row| {
            let columns: [String; 4] = [row.get(0), row.get(1), row.get(2), row.get(3)];
            columns.join(" ")
        })
        .collect();
    assert_eq!(
        rows,
        [
            "amendment amd_a ten_seeded cus_a",
            "application_item app_a/0 ten_seeded cus_a",
            "document_item item_a1 ten_seeded cus_a",
            "document_item item_a2 ten_seeded cus_a",
            "subscription_line item_a2 ten_seeded cus_a",
            "subscription_period sub_a/2026-03-01 ten_seeded cus_a",
            "subscription_segment sub_a/0 ten_seeded cus_a",
            "amendment amd_b ten_seeded cus_b",
            "application_item app_b/0 ten_seeded cus_b",
            "document_item item_b1 ten_seeded cus_b",
            "document_item item_b2 ten_seeded cus_b",
            "subscription_line item_b2 ten_seeded cus_b",
            "subscription_period sub_b/2026-03-01 ten_seeded cus_b",
            "subscription_segment sub_b/0 ten_seeded cus_b",
        ]
    );
}
