//! Keyset paging: one row more than the page tells whether another follows, and each list's
//! cursor is the sort key of the last row read (opaque to clients).

use settle_core::customer::Customer;
use settle_store::{BalanceFilter, CustomerSort, Page, PageRequest, StoreError, StoreResult};

/// Rows asked of the database for a page: one more than the limit tells whether more follow.
pub fn fetch_limit(page: &PageRequest) -> i64 {
    i64::from(page.limit.clamp(1, 500)) + 1
}

/// Cuts the extra row off and makes the cursor of the next page from the last row kept.
pub fn paginate<T>(mut rows: Vec<(T, String)>, page: &PageRequest) -> Page<T> {
    let limit = usize::try_from(page.limit.clamp(1, 500)).unwrap_or(500);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(|(_, c)| c.clone()) } else { None };
    Page { rows: rows.into_iter().map(|(r, _)| r).collect(), next_cursor }
}

/// The `seq` a list ordered by `seq` resumes after, if the page has a cursor.
pub fn seq_cursor(page: &PageRequest) -> StoreResult<Option<i64>> {
    page.cursor.as_deref().map(|c| c.parse::<i64>().map_err(|_| StoreError::BadCursor)).transpose()
}

/// Which way a list ordered by `seq` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqOrder {
    /// Highest `seq` first.
    NewestFirst,
    /// Lowest `seq` first.
    OldestFirst,
}

impl SeqOrder {
    /// The comparison that keeps rows after the cursor's, and the `order by` direction.
    pub fn after_and_direction(self) -> (&'static str, &'static str) {
        match self {
            SeqOrder::NewestFirst => ("<", "desc"),
            SeqOrder::OldestFirst => (">", "asc"),
        }
    }
}

/// A LIKE pattern matching `search` anywhere in a lower-cased column (with `escape '\'`);
/// `\`, `%` and `_` in the search match themselves.
pub fn like_pattern(search: &str) -> String {
    let escaped =
        search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// How a customer list is ordered: the sort column, `asc`/`desc`, and the comparison that
/// keeps rows after the cursor's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomerOrder {
    /// `name`, `balance_minor` or `seq`.
    pub key: &'static str,
    /// `asc` or `desc`.
    pub direction: &'static str,
    /// `>` or `<`.
    pub after: &'static str,
}

/// The order of a customer sort.
pub fn customer_order(sort: CustomerSort) -> CustomerOrder {
    let (key, direction, after) = match sort {
        CustomerSort::Name => ("name", "asc", ">"),
        CustomerSort::NameDesc => ("name", "desc", "<"),
        CustomerSort::Balance => ("balance_minor", "asc", ">"),
        CustomerSort::BalanceDesc => ("balance_minor", "desc", "<"),
        CustomerSort::Created => ("seq", "asc", ">"),
        CustomerSort::CreatedDesc => ("seq", "desc", "<"),
    };
    CustomerOrder { key, direction, after }
}

/// The cursor after `customer` (read with its `seq`) in a list ordered by `order`: the sort
/// value, a newline, the id.
pub fn customer_cursor(order: CustomerOrder, customer: &Customer, seq: i64) -> String {
    let value = match order.key {
        "name" => customer.name.clone(),
        "balance_minor" => customer.balances.balance().to_string(),
        _ => seq.to_string(),
    };
    format!("{value}\n{}", customer.id)
}

/// The sort value a customer cursor holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    /// A name.
    Text(String),
    /// A balance or a `seq`.
    Int(i64),
}

/// A customer cursor's sort value and id; a name is text, a balance or `seq` an integer.
pub fn split_customer_cursor(
    order: CustomerOrder,
    cursor: &str,
) -> StoreResult<(SortValue, String)> {
    let (value, id) = cursor.rsplit_once('\n').ok_or(StoreError::BadCursor)?;
    let value = match order.key {
        "name" => SortValue::Text(value.to_owned()),
        _ => SortValue::Int(value.parse::<i64>().map_err(|_| StoreError::BadCursor)?),
    };
    Ok((value, id.to_owned()))
}

/// The condition a document list's balance filter adds.
pub fn balance_filter_sql(filter: Option<BalanceFilter>) -> &'static str {
    match filter {
        None => "",
        Some(BalanceFilter::Negative) => " and balance_minor < 0",
        Some(BalanceFilter::Positive) => " and balance_minor > 0",
        Some(BalanceFilter::Open) => " and open_item_count > 0",
    }
}
