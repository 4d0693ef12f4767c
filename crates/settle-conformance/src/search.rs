//! The customer search: a case-insensitive substring of the name or the email, the same rows
//! whether the store answers it from an index (three characters or more) or not.

use settle_core::customer::Customer;
use settle_store::{CustomerQuery, CustomerSort, Store};

use crate::fixture::{customer, read_all, seed, t0};

/// Searches of every length (one and two characters, which no trigram index serves, and
/// longer), with wildcards, quotes, spaces and non-ASCII letters, find exactly the customers
/// whose lower-cased name or email holds the lower-cased text, in the list's order and across
/// pages; a renamed customer is found by its new name only, and a new one at once.
pub fn customer_search_finds_substrings_of_name_or_email_at_every_length(store: &dyn Store) {
    let mut people = vec![
        customer("cus_01", "Acme Corporation", 0),
        customer("cus_02", "ACME Labs", 100),
        customer("cus_03", "Globex \"West\"", 200),
        customer("cus_04", "Initech 100% Ltd", 300),
        customer("cus_05", "Umbrella_Corp", 0),
        customer("cus_06", "Ærø Fisk Åsgård", 50),
        customer("cus_07", "Straße Bau", 0),
        customer("cus_08", "Ab", 0),
        customer("cus_09", "back\\slash co", 0),
    ];
    people[1].email = Some("billing@acme-labs.test".to_owned());
    people[3].email = None;
    let tenant = seed(store, "ten_search", &people);
    let searches = [
        "a",
        "A",
        "ab",
        "AB",
        "acm",
        "ACME",
        "me c",
        "corp",
        "%",
        "100%",
        "_",
        "a_c",
        "\"",
        "\"west\"",
        "ærø",
        "ÅSGÅRD",
        "straße",
        "e b",
        "\\",
        "k\\s",
        "@acme",
        "labs.test",
        "zzz",
        "acme labs x",
        "example.com",
        "o",
    ];
    let found = |search: &str, sort: CustomerSort, limit: u32| -> Vec<String> {
        let query = CustomerQuery { search: Some(search.to_owned()), sort };
        let rows = read_all(store, limit, &|tx, page| tx.customers(&tenant, &query, page));
        rows.iter().map(|c| c.id.to_string()).collect()
    };
    let expected = |people: &[Customer], search: &str, sort: CustomerSort| -> Vec<String> {
        let needle = search.to_lowercase();
        let mut hits: Vec<&Customer> = people
            .iter()
            .filter(|c| {
                c.name.to_lowercase().contains(&needle)
                    || c.email.as_deref().is_some_and(|e| e.to_lowercase().contains(&needle))
            })
            .collect();
        match sort {
            CustomerSort::Name => {
                hits.sort_by(|a, b| (&a.name, a.id.as_str()).cmp(&(&b.name, b.id.as_str())));
            }
            CustomerSort::BalanceDesc => hits.sort_by(|a, b| {
                (b.balances.balance(), b.id.as_str()).cmp(&(a.balances.balance(), a.id.as_str()))
            }),
            _ => unreachable!("the test sorts by name and by balance"),
        }
        hits.iter().map(|c| c.id.to_string()).collect()
    };
    for search in searches {
        for sort in [CustomerSort::Name, CustomerSort::BalanceDesc] {
            let want = expected(&people, search, sort);
            for limit in [1, 2, 50] {
                assert_eq!(found(search, sort, limit), want, "{search:?} {sort:?} limit {limit}");
            }
        }
    }
    // Spot checks, so the model above cannot drift from the rule unnoticed.
    assert_eq!(found("ACME", CustomerSort::Name, 5), ["cus_02", "cus_01"]);
    assert_eq!(found("100%", CustomerSort::Name, 5), ["cus_04"]);
    assert_eq!(found("åsgård", CustomerSort::Name, 5), ["cus_06"]);
    assert_eq!(found("zzz", CustomerSort::Name, 5), Vec::<String>::new());

    // A rename moves the customer in the index; a new customer is found at once.
    let mut tx = store.begin_write().expect("begin");
    let (lock, mut renamed) =
        tx.lock_customer(&tenant, &people[0].id, t0()).expect("lock").expect("customer");
    renamed.name = "Zenith Holdings".to_owned();
    renamed.email = Some("ap@zenith.test".to_owned());
    tx.update_customer(&lock, &renamed).expect("rename");
    let newcomer = customer("cus_10", "Acme Newcomer", 0);
    tx.insert_customer(&tenant, &newcomer).expect("new customer");
    tx.commit().expect("commit");
    assert_eq!(found("acme corp", CustomerSort::Name, 5), Vec::<String>::new());
    assert_eq!(found("acme", CustomerSort::Name, 5), ["cus_02", "cus_10"]);
    assert_eq!(found("zenith", CustomerSort::Name, 5), ["cus_01"]);
    assert_eq!(found("Ze", CustomerSort::Name, 5), ["cus_01"]);
}

/// Merging the search index, step by step, leaves it in one segment and the searches finding
/// what they found. `segmented`: whether the store keeps an index in segments for Settle to
/// merge (SQLite's FTS5 index: one more for each write transaction that adds customers) or
/// none (PostgreSQL's GIN indexes, kept by autovacuum: 0 segments, nothing to merge). Expects
/// a store holding no other customers.
pub fn the_search_index_merges_into_one_segment_and_finds_the_same(
    store: &dyn Store,
    segmented: bool,
) {
    let tenant = seed(store, "ten_merge", &[customer("cus_m0", "Quillon Works", 0)]);
    for n in 1..6 {
        let mut tx = store.begin_write().expect("begin");
        let name = format!("Quillon Works {n}");
        tx.insert_customer(&tenant, &customer(&format!("cus_m{n}"), &name, 0)).expect("insert");
        tx.commit().expect("commit");
    }
    let found = |search: &str| -> Vec<String> {
        let query = CustomerQuery { search: Some(search.to_owned()), sort: CustomerSort::Name };
        let rows = read_all(store, 50, &|tx, page| tx.customers(&tenant, &query, page));
        rows.iter().map(|c| c.id.to_string()).collect()
    };
    let everyone = ["cus_m0", "cus_m1", "cus_m2", "cus_m3", "cus_m4", "cus_m5"];
    assert_eq!(found("quillon"), everyone);
    let segments = store.search_index_segments().expect("segments");
    assert_eq!(segments, if segmented { 6 } else { 0 }, "one segment per transaction");

    let mut steps = 0;
    while store.merge_search_index(1).expect("a merge step") {
        steps += 1;
        assert!(steps < 1_000, "merging never ends");
    }
    assert_eq!(steps > 0, segmented, "{steps} merge steps");
    assert_eq!(store.search_index_segments().expect("segments"), u64::from(segmented));
    assert!(!store.merge_search_index(1).expect("a merge step"), "nothing left to merge");
    assert_eq!(found("quillon"), everyone);
    assert_eq!(found("works 4"), ["cus_m4"]);

    // A customer added after the merge is found at once, in a segment of its own.
    seed_more(store, &tenant, customer("cus_m6", "Quillon Annex", 0));
    assert_eq!(found("annex"), ["cus_m6"]);
    assert_eq!(store.search_index_segments().expect("segments"), if segmented { 2 } else { 0 });
}

fn seed_more(store: &dyn Store, tenant: &settle_core::ids::TenantId, newcomer: Customer) {
    let mut tx = store.begin_write().expect("begin");
    tx.insert_customer(tenant, &newcomer).expect("insert");
    tx.commit().expect("commit");
}
