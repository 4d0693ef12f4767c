//! The customer search's number index, shared by both stores: the keys a customer's name and
//! email give it, and the range of keys a search looks up.
//!
//! A trigram index narrows a search by letters well (17,576 trigrams of the 26 letters), but
//! digits have only 1,000 trigrams, so every one is shared by a fixed share of the customers
//! and a search for a number reads more rows the more customers there are. The number index
//! stores, for every run of at least [`NUMBER_KEY_MIN`] ASCII digits in the name or the email,
//! each of the run's suffixes at least that long, cut to [`NUMBER_KEY_MAX`] digits. A search
//! whose text holds such a run finds every customer that can match among the keys that start
//! with it (the run lies inside a run of the customer's, so one of that run's suffixes starts
//! with it): a B-tree range whose length is the number of those customers, whatever the total.
//! That is SQLite's index ([`number_keys`]); PostgreSQL keeps every substring of those lengths
//! in a GIN index, which finds the run cut to twelve digits as a whole element
//! ([`number_substrings`]). The `LIKE` on the name and email still decides which of them match.
//!
//! A customer whose numbers would take more than [`NUMBER_KEYS_MOST`] keys (only long runs of
//! digits do: a name of 1,024 digits would take thousands) keeps the one key [`UNINDEXED`]
//! instead, and every search by a number reads it as a candidate, so that no name can make a
//! write cost thousands of index entries and no match is missed.

use std::collections::BTreeSet;

use settle_core::customer::Customer;

/// Fewest digits a run needs to be indexed, and a search's run to be looked up by them: runs of
/// three or fewer have no more values than trigrams have, and the trigram index serves them.
pub const NUMBER_KEY_MIN: usize = 4;

/// Most digits of a suffix the index keeps: a longer run of the search is looked up by its
/// first this many digits, which pick out one customer in 10¹² of them.
pub const NUMBER_KEY_MAX: usize = 12;

/// Most keys one customer keeps; past it, [`UNINDEXED`] alone.
pub const NUMBER_KEYS_MOST: usize = 256;

/// The key of a customer whose numbers are not indexed, one by one, a candidate for every
/// search by a number. `-` sorts before every digit, so no range of digits holds it.
pub const UNINDEXED: &str = "-";

/// Whether a customer's search entry is its first or replaces one: a replaced entry's old
/// number keys go first in SQLite, since a new name or email may no longer hold them
/// (PostgreSQL's upsert replaces them with the row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchEntry {
    /// A new customer's.
    New,
    /// An existing customer's, whose name or email may have changed.
    Replaced,
}

/// The runs of ASCII digits of `text` at least [`NUMBER_KEY_MIN`] long. ASCII digits are one
/// byte each, so byte offsets inside a run are character offsets too.
fn digit_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|run| run.len() >= NUMBER_KEY_MIN)
}

/// The number index's keys for `customer`, sorted and without repeats: each suffix of each
/// indexed run of its name and email, cut to [`NUMBER_KEY_MAX`] digits. Lower-casing leaves
/// digits as they are, so the keys of the lower-cased columns the search reads are the same.
pub fn number_keys(customer: &Customer) -> Vec<String> {
    let texts = [Some(customer.name.as_str()), customer.email.as_deref()];
    let mut keys = BTreeSet::new();
    for run in texts.into_iter().flatten().flat_map(digit_runs) {
        for start in 0..=run.len() - NUMBER_KEY_MIN {
            let end = (start + NUMBER_KEY_MAX).min(run.len());
            keys.insert(run.get(start..end).unwrap_or_default().to_owned());
        }
    }
    at_most(keys)
}

/// `keys` in order, or [`UNINDEXED`] alone when there are more than [`NUMBER_KEYS_MOST`].
fn at_most(keys: BTreeSet<String>) -> Vec<String> {
    if keys.len() > NUMBER_KEYS_MOST {
        return vec![UNINDEXED.to_owned()];
    }
    keys.into_iter().collect()
}

/// PostgreSQL's number keys for `customer`, sorted and without repeats: every substring of
/// [`NUMBER_KEY_MIN`] to [`NUMBER_KEY_MAX`] digits of each indexed run. PostgreSQL keeps them
/// as an array in a GIN index, which finds exact elements only, so the key a search looks up
/// ([`number_key`]) must be one of them whole, where a B-tree range finds it as the start of a
/// suffix ([`number_keys`], SQLite's). A seven-digit run gives ten (four suffixes in SQLite).
pub fn number_substrings(customer: &Customer) -> Vec<String> {
    let texts = [Some(customer.name.as_str()), customer.email.as_deref()];
    let mut keys = BTreeSet::new();
    for run in texts.into_iter().flatten().flat_map(digit_runs) {
        for len in NUMBER_KEY_MIN..=run.len().min(NUMBER_KEY_MAX) {
            for start in 0..=run.len() - len {
                keys.insert(run.get(start..start + len).unwrap_or_default().to_owned());
            }
        }
    }
    at_most(keys)
}

/// The keys as a JSON array of strings, the form SQLite's insert statement takes them in
/// (digits and [`UNINDEXED`] need no escaping).
pub fn number_keys_json(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|key| format!("\"{key}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// The key a search for `search` looks up when its text holds a run of at least
/// [`NUMBER_KEY_MIN`] digits: its longest run (the first of equal ones), cut to
/// [`NUMBER_KEY_MAX`] digits. Every customer the search matches holds the run inside a run of
/// its own, so the key is one of its [`number_substrings`] and starts one of its
/// [`number_keys`].
pub fn number_key(search: &str) -> Option<String> {
    let mut longest: Option<&str> = None;
    for run in digit_runs(search) {
        if longest.is_none_or(|best| run.len() > best.len()) {
            longest = Some(run);
        }
    }
    let run = longest?;
    Some(run.get(..run.len().min(NUMBER_KEY_MAX)).unwrap_or(run).to_owned())
}

/// The range of SQLite's [`number_keys`] a search for `search` reads, `from <= key < to`: the
/// keys that start with its [`number_key`] (`:` follows `9` in every collation that compares
/// bytes, as SQLite's does).
pub fn number_key_range(search: &str) -> Option<(String, String)> {
    let from = number_key(search)?;
    let to = format!("{from}:");
    Some((from, to))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use settle_core::customer::{Balances, Customer};
    use settle_core::ids::CustomerId;
    use settle_core::money::Currency;

    use super::{
        UNINDEXED, number_key, number_key_range, number_keys, number_keys_json, number_substrings,
    };

    fn named(name: &str, email: Option<&str>) -> Customer {
        Customer {
            id: CustomerId::parse("cus_1").expect("an id"),
            name: name.to_owned(),
            email: email.map(str::to_owned),
            currency: Currency::USD,
            payment_terms_days: 30,
            metadata: "{}".to_owned(),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("a time"),
            balances: Balances::default(),
        }
    }

    #[test]
    fn a_customer_is_indexed_by_the_suffixes_of_its_runs_of_four_digits_or_more() {
        let c = named("Store 0012345 (unit 12)", Some("AP0012345@shop99.test"));
        assert_eq!(number_keys(&c), ["0012345", "012345", "12345", "2345"]);
        assert_eq!(number_keys_json(&number_keys(&c)), r#"["0012345","012345","12345","2345"]"#);
        assert!(number_keys(&named("Acme 123 Ltd", Some("a1@b22.c333"))).is_empty());
        // Digits of other scripts are not ASCII digits: they part the runs.
        assert_eq!(number_keys(&named("12٣4567", None)), ["4567"]);
    }

    #[test]
    fn postgresql_keeps_every_substring_of_four_to_twelve_digits() {
        let c = named("Store 0012345", Some("ap0012345@shop.test"));
        let keys = number_substrings(&c);
        assert_eq!(keys.len(), 4 + 3 + 2 + 1);
        assert_eq!(keys.first().map(String::as_str), Some("0012"));
        assert!(keys.contains(&"1234".to_owned()) && keys.contains(&"0012345".to_owned()));
        let long = number_substrings(&named("Card 12345678901234", None));
        // 63 substrings of four to twelve of its 14 digits, "1234" among them twice.
        assert_eq!(long.len(), (4..=12).map(|len| 14 - len + 1).sum::<usize>() - 1);
        assert!(long.iter().all(|k| (4..=12).contains(&k.len())));
        assert!(number_substrings(&named("Acme 123", None)).is_empty());
    }

    #[test]
    fn a_long_run_is_kept_to_twelve_digits_a_suffix() {
        let keys = number_keys(&named("Card 12345678901234", None));
        assert_eq!(keys.len(), 11);
        assert_eq!(keys.first().map(String::as_str), Some("01234"));
        assert!(keys.contains(&"123456789012".to_owned()));
        assert!(keys.contains(&"345678901234".to_owned()));
        assert!(keys.iter().all(|k| (4..=12).contains(&k.len())));
    }

    /// A run of 300 digits that repeats no twelve of them: 100, 101, ..., 199 written out.
    fn long_run() -> String {
        (100..200).map(|n: u32| n.to_string()).collect()
    }

    #[test]
    fn a_customer_with_too_many_keys_keeps_the_one_that_every_number_search_reads() {
        let c = named(&format!("Serial {}", long_run()), None);
        assert_eq!(number_keys(&c), [UNINDEXED]);
        assert_eq!(number_substrings(&c), [UNINDEXED]);
        // 59 digits: 56 suffixes, but 9 × 51 substrings, too many for PostgreSQL's array.
        let shorter = named(&long_run()[..59], None);
        assert_eq!(number_keys(&shorter).len(), 56);
        assert_eq!(number_substrings(&shorter), [UNINDEXED]);
        assert!(UNINDEXED < "0000");
    }

    #[test]
    fn a_search_looks_up_its_longest_run_cut_to_twelve_digits() {
        let range = |s: &str| number_key_range(s).map(|(from, to)| format!("{from}..{to}"));
        assert_eq!(range("billing0012345@").as_deref(), Some("0012345..0012345:"));
        assert_eq!(range("2026 invoice 104512").as_deref(), Some("104512..104512:"));
        assert_eq!(range("1234 5678").as_deref(), Some("1234..1234:"));
        assert_eq!(range("12345678901234567").as_deref(), Some("123456789012..123456789012:"));
        assert_eq!(range("acme 123"), None);
        assert_eq!(range(""), None);
    }

    /// What the index promises: every customer whose name or email holds a search's text has
    /// a key in the search's range (SQLite) and the search's key (PostgreSQL), or is read by
    /// every search by a number.
    #[test]
    fn every_customer_a_search_matches_has_a_key_in_its_range() {
        let people = [
            named("Harbour 0012345", Some("x1234567890123456789@y.test")),
            named("Acme 2026-11 20261129", None),
            named("99999999", Some("a99999999b")),
            named(&long_run()[..59], Some("x1234@y.test")),
        ];
        for c in &people {
            let (keys, substrings) = (number_keys(c), number_substrings(c));
            let texts = [Some(c.name.as_str()), c.email.as_deref()];
            for text in texts.into_iter().flatten() {
                let chars: Vec<char> = text.chars().collect();
                for start in 0..chars.len() {
                    for end in start + 1..=chars.len() {
                        let search: String = chars.get(start..end).unwrap_or(&[]).iter().collect();
                        let Some((from, to)) = number_key_range(&search) else { continue };
                        assert!(
                            keys.iter().any(|k| *k >= from && *k < to || k == UNINDEXED),
                            "{search:?} in {text:?} has no key in {from}..{to}"
                        );
                        let key = number_key(&search).unwrap_or_default();
                        assert!(
                            substrings.iter().any(|k| *k == key || k == UNINDEXED),
                            "{search:?} in {text:?}: {key}"
                        );
                    }
                }
            }
        }
    }
}
