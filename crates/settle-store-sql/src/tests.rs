//! Paging and patterns, which both stores rely on, and the inserts of rows under a parent, to
//! which an adapter may add columns.

use chrono::{NaiveDate, TimeZone, Utc};
use settle_core::ids::{
    AmendmentId, CustomerId, PriceId, SubscriptionId, SubscriptionItemId, TenantId,
};
use settle_core::subscription::{Segment, Timing};
use settle_store::{AmendmentRecord, CustomerLock, CustomerSort, PageRequest, StoreError};

use crate::billing::{insert_amendment, insert_segment};
use crate::{
    SortValue, Value, customer_order, like_pattern, paginate, seq_cursor, split_customer_cursor,
};

#[test]
fn a_page_keeps_its_limit_and_the_cursor_of_its_last_row_only_when_more_follow() {
    let page = PageRequest { limit: 2, cursor: None };
    let rows = |n: usize| (0..n).map(|i| (i, format!("c{i}"))).collect::<Vec<_>>();
    let full = paginate(rows(3), &page);
    assert_eq!((full.rows, full.next_cursor), (vec![0, 1], Some("c1".to_owned())));
    let last = paginate(rows(2), &page);
    assert_eq!((last.rows, last.next_cursor), (vec![0, 1], None));
}

#[test]
fn like_patterns_match_wildcards_only_as_themselves() {
    assert_eq!(like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
}

#[test]
fn cursors_that_the_store_did_not_write_are_refused() {
    let junk = PageRequest { limit: 1, cursor: Some("x".into()) };
    assert!(matches!(seq_cursor(&junk), Err(StoreError::BadCursor)));
    let by_balance = customer_order(CustomerSort::Balance);
    assert!(matches!(split_customer_cursor(by_balance, "x"), Err(StoreError::BadCursor)));
    assert!(matches!(split_customer_cursor(by_balance, "x\ncus_1"), Err(StoreError::BadCursor)));
    let by_name = customer_order(CustomerSort::Name);
    let (value, id) = split_customer_cursor(by_name, "a\nb\ncus_1").expect("a cursor");
    assert_eq!((value, id.as_str()), (SortValue::Text("a\nb".into()), "cus_1"));
}

fn lock() -> CustomerLock {
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("an instant");
    settle_store::adapter::customer_lock(
        TenantId::parse("ten_a").expect("tenant"),
        CustomerId::parse("cus_b").expect("customer"),
        now,
    )
}

#[test]
fn a_row_under_a_parent_is_inserted_with_its_own_columns_and_any_an_adapter_adds() {
    let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a day");
    let segment = Segment {
        item_id: SubscriptionItemId::parse("si_1").expect("item"),
        price_id: PriceId::parse("price_1").expect("price"),
        quantity: "2.50".parse().expect("a quantity"),
        starts_on: day,
        ends_on: None,
    };
    let subscription = SubscriptionId::parse("sub_1").expect("subscription");
    let insert = insert_segment(&subscription, 0, &segment);
    assert!(!insert.names("tenant_id"));
    let own = insert.clone().statement();
    assert_eq!(
        own.sql,
        "insert into subscription_segment (subscription_id, idx, item_id, price_id, quantity, \
         starts_on, ends_on) values (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    );
    assert_eq!(own.args[6], Value::OptDate(None));
    let keyed = insert
        .with("tenant_id", Value::Text("ten_a".into()))
        .with("customer_id", Value::Text("cus_b".into()))
        .statement();
    assert_eq!(
        keyed.sql,
        "insert into subscription_segment (subscription_id, idx, item_id, price_id, quantity, \
         starts_on, ends_on, tenant_id, customer_id) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    assert_eq!(
        keyed.args[6..],
        [Value::OptDate(None), Value::Text("ten_a".into()), Value::Text("cus_b".into())]
    );
}

#[test]
fn an_amendment_names_its_tenant_from_the_lock() {
    let day = NaiveDate::from_ymd_opt(2026, 3, 10).expect("a day");
    let amendment = AmendmentRecord {
        id: AmendmentId::parse("amd_1").expect("amendment"),
        subscription_id: SubscriptionId::parse("sub_1").expect("subscription"),
        effective_date: day,
        timing: Timing::Immediate,
        takes_effect_on: day,
        changes: "change_quantity".to_owned(),
        document_id: None,
        created_at: lock().now(),
    };
    let insert = insert_amendment(&lock(), &amendment);
    assert!(insert.names("tenant_id") && !insert.names("customer_id"));
    let statement = insert.statement();
    assert_eq!(
        statement.sql,
        "insert into amendment (amendment_id, tenant_id, subscription_id, effective_date, \
         timing, takes_effect_on, changes, document_id, created_at) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    assert_eq!(statement.args[1], Value::Text("ten_a".into()));
}
