//! Paging and patterns, which both stores rely on.

use settle_store::{CustomerSort, PageRequest, StoreError};

use crate::{SortValue, customer_order, like_pattern, paginate, seq_cursor, split_customer_cursor};

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
