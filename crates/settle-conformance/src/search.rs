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
    for search in searches {
        for sort in [CustomerSort::Name, CustomerSort::BalanceDesc] {
            let want = model(&people, search, sort);
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

/// Searches with a run of four digits or more, which the number index answers, find exactly
/// the customers whose lower-cased name or email holds the text: every such substring of every
/// customer's name and email, in the list's order and across pages, in one tenant while
/// another holds the same numbers. A renamed customer is found by its new number only, one
/// updated with its name unchanged is still found, and a new one is found at once.
pub fn a_search_by_number_finds_exactly_the_customers_that_hold_it(store: &dyn Store) {
    let mut people = vec![
        customer("cus_n1", "Harbour 0012345", 300),
        customer("cus_n2", "Harbour 0012346", 100),
        customer("cus_n3", "Card 12345678901234", 0),
        customer("cus_n4", "Acme 2026-11 Ltd", 50),
        customer("cus_n5", "Store 9123459", 0),
        customer("cus_n6", "Kiosk", 0),
        customer("cus_n7", "Phone 555 0100", 20),
    ];
    people[0].email = Some("AP0012345@harbour.test".to_owned());
    people[5].email = Some("orders20261129@kiosk.test".to_owned());
    people[6].email = None;
    let mut serial = customer("cus_n9", SERIAL, 0);
    serial.email = None;
    let tenant = seed(store, "ten_numbers", &people);
    // Another tenant with the same numbers, which no search of the first may find.
    let mut twins = people.clone();
    for (i, twin) in twins.iter_mut().enumerate() {
        twin.id = crate::fixture::id(settle_core::ids::CustomerId::parse, &format!("cus_t{i}"));
    }
    seed(store, "ten_twins", &twins);

    let sorted = |search: &str, sort: CustomerSort, limit: u32| -> Vec<String> {
        let query = CustomerQuery { search: Some(search.to_owned()), sort };
        let rows = read_all(store, limit, &|tx, page| tx.customers(&tenant, &query, page));
        rows.iter().map(|c| c.id.to_string()).collect()
    };
    let found = |search: &str, limit: u32| sorted(search, CustomerSort::Name, limit);
    let mut searched = 0;
    for c in &people {
        for text in [Some(c.name.as_str()), c.email.as_deref()].into_iter().flatten() {
            let chars: Vec<char> = text.chars().collect();
            for start in 0..chars.len() {
                for end in start + 4..=chars.len().min(start + 16) {
                    let search: String = chars.get(start..end).unwrap_or(&[]).iter().collect();
                    if has_digit_run(&search) {
                        let want = model(&people, &search, CustomerSort::Name);
                        assert_eq!(found(&search, 50), want, "{search:?}");
                        assert_eq!(found(&search, 1), want, "{search:?}, a page of 1");
                        let by_balance = sorted(&search, CustomerSort::BalanceDesc, 2);
                        let want = model(&people, &search, CustomerSort::BalanceDesc);
                        assert_eq!(by_balance, want, "{search:?} by -balance");
                        searched += 1;
                    }
                }
            }
        }
    }
    assert!(searched > 200, "{searched} searches with a run of digits");
    // A customer with too many keys for the index is found by every number it holds, and
    // only by those.
    seed_more(store, &tenant, serial);
    assert_eq!(found("150151152153154", 5), ["cus_n9"]);
    assert_eq!(found("SERIAL 1001011", 5), ["cus_n9"]);
    assert_eq!(found("1991", 5), Vec::<String>::new());
    // Spot checks, so the model above cannot drift from the rule unnoticed.
    assert_eq!(found("0012345", 5), ["cus_n1"]);
    assert_eq!(found("1234", 5), ["cus_n3", "cus_n1", "cus_n2", "cus_n5"]);
    let by_balance = sorted("1234", CustomerSort::BalanceDesc, 5);
    // Owing most is the lowest balance: last by `-balance`.
    assert_eq!(by_balance, ["cus_n5", "cus_n3", "cus_n2", "cus_n1"]);
    assert_eq!(found("2345", 5), ["cus_n3", "cus_n1", "cus_n5"]);
    assert_eq!(found("ap0012345@", 5), ["cus_n1"]);
    assert_eq!(found("123456789012345", 5), Vec::<String>::new());
    assert_eq!(found("2026", 5), ["cus_n4", "cus_n6"]);
    assert_eq!(found("555 0100", 5), ["cus_n7"]);
    assert_eq!(found("0909", 5), Vec::<String>::new());

    // A new number replaces the old; an update that keeps the name keeps the number; a new
    // customer is found at once.
    let mut tx = store.begin_write().expect("begin");
    let (lock, mut renamed) =
        tx.lock_customer(&tenant, &people[0].id, t0()).expect("lock").expect("customer");
    renamed.name = "Harbour 0077777".to_owned();
    renamed.email = None;
    tx.update_customer(&lock, &renamed).expect("rename");
    let (lock, kept) =
        tx.lock_customer(&tenant, &people[1].id, t0()).expect("lock").expect("customer");
    tx.update_customer(&lock, &kept).expect("an update that keeps the name");
    tx.insert_customer(&tenant, &customer("cus_n8", "Newcomer 0012345", 0)).expect("insert");
    tx.commit().expect("commit");
    assert_eq!(found("0012345", 5), ["cus_n8"]);
    assert_eq!(found("0077777", 5), ["cus_n1"]);
    assert_eq!(found("0012346", 5), ["cus_n2"]);
    assert_eq!(found("001234", 5), ["cus_n2", "cus_n8"]);
}

/// The rule: the ids of the customers of `people` whose lower-cased name or email holds the
/// lower-cased `search`, in the order of `sort` (by name or by balance, highest first, each
/// then by id).
fn model(people: &[Customer], search: &str, sort: CustomerSort) -> Vec<String> {
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
        _ => unreachable!("the tests sort by name and by balance"),
    }
    hits.iter().map(|c| c.id.to_string()).collect()
}

/// A name with a run of 300 digits that repeats no twelve of them (100, 101, ..., 199 written
/// out): more keys than the number index keeps for one customer.
pub(crate) const SERIAL: &str = "Serial 100101102103104105106107108109110111112113114115116117118119120121122123124125126127128129130131132133134135136137138139140141142143144145146147148149150151152153154155156157158159160161162163164165166167168169170171172173174175176177178179180181182183184185186187188189190191192193194195196197198199";

/// Names and emails with runs of digits of every kind, for the stores' tests of the number
/// index's keys: a number in both, a long run, digits of another script, runs too short to
/// index, digits alone, and too many keys for one customer.
pub const NUMBERED: [(&str, Option<&str>); 6] = [
    ("Harbour 0012345", Some("AP0012345@harbour.test")),
    ("Card 12345678901234567890", None),
    ("Ærø 12٣4567 Straße 2026", Some("ÅSGÅRD9999@fisk.test")),
    ("Acme 123 Ltd", Some("a1@b22.c333")),
    ("1234", Some("5678")),
    (SERIAL, None),
];

/// Whether `search` holds a run of at least four ASCII digits, which the number index serves.
fn has_digit_run(search: &str) -> bool {
    search.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() >= 4)
}
