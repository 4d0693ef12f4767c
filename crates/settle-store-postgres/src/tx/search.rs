//! The customer search's condition on PostgreSQL: which index finds the customers a search
//! can match, and the `like` on their own columns that decides.

use settle_store_sql::like_pattern;
use settle_store_sql::search::{UNINDEXED, number_key};

use super::mark;
use crate::Arg;

/// The condition (` and ...`) the customer list adds for `search`, its parameters pushed onto
/// `args` after the tenant's (`$1`).
pub(super) fn customer_search_filter(search: &str, args: &mut Vec<Arg>) -> String {
    args.push(Box::new(like_pattern(search)));
    let n = mark(args);
    let matches = format!("(name_lower like {n} escape '\\' or email_lower like {n} escape '\\')");
    if let Some(key) = number_key(search) {
        // A run of digits: the GIN index of `customer_search.numbers` finds the customers
        // that hold it, and those whose numbers are not indexed one by one (migration 0022);
        // their own columns decide. The planner weighs
        // those against the list's order from the column's statistics.
        args.push(Box::new(vec![key]));
        let k = mark(args);
        args.push(Box::new(vec![UNINDEXED.to_owned()]));
        let u = mark(args);
        format!(
            " and customer_id in (select customer_id from customer_search where tenant_id = $1 \
             and (numbers @> {k}::text[] or numbers @> {u}::text[])) and {matches}"
        )
    } else if search.chars().count() >= 3 {
        // The trigram indexes of `customer_search` find the few rows that hold the text
        // (migration 0016).
        format!(
            " and customer_id in (select customer_id from customer_search \
             where tenant_id = $1 and {matches})"
        )
    } else {
        // No trigram: the customer's own columns are matched while the list's order is
        // walked, which stops at a page's worth of the many rows such a text meets.
        format!(" and {matches}")
    }
}
