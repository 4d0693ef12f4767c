//! The customer search on SQLite's own paths: a text the trigram index finds in few rows
//! starts from those rows, one it finds in many reads the name index in order, and a short
//! text is decided from the name index without reading the rows that do not match.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use settle_core::customer::{Balances, Customer};
use settle_core::ids::{CustomerId, TenantId};
use settle_core::money::Currency;
use settle_store::{CustomerQuery, CustomerSort, PageRequest, Store};
use settle_store_sqlite::{Durability, SqliteStore};

/// More customers share the searched words than the index hands over (2,000).
const SHARED: usize = 2_050;

fn customer(i: usize) -> Customer {
    Customer {
        id: CustomerId::parse(&format!("cus_{i:05}")).expect("an id"),
        // Every name holds "harbour", in the reverse of the id's order.
        name: format!("Harbour {:05}", SHARED - i),
        email: Some(format!("ap{i:05}@harbour.test")),
        currency: Currency::USD,
        payment_terms_days: 30,
        metadata: "{}".to_owned(),
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("a time"),
        balances: Balances::default(),
    }
}

fn first_page(store: &dyn Store, tenant: &TenantId, search: &str, limit: u32) -> Vec<String> {
    let query = CustomerQuery { search: Some(search.to_owned()), sort: CustomerSort::Name };
    let page = PageRequest { limit, cursor: None };
    let mut tx = store.begin_read().expect("read");
    let rows = tx.customers(tenant, &query, &page).expect("search").rows;
    rows.iter().map(|c| c.id.to_string()).collect()
}

/// A fresh store (in `dir`) with a tenant holding `customers`, written in one transaction.
fn store_with(dir: &tempfile::TempDir, customers: &[Customer]) -> (Arc<dyn Store>, TenantId) {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("s.db"), Durability::Full).expect("open"));
    let engine = settle_conformance::engine(Arc::clone(&store), 1);
    let tenant = engine.create_tenant("Search").expect("tenant").tenant_id;
    let mut tx = store.begin_write().expect("write");
    for c in customers {
        tx.insert_customer(&tenant, c).expect("insert");
    }
    tx.commit().expect("commit");
    (store, tenant)
}

#[test]
fn a_search_finds_the_same_customers_from_few_index_rows_or_from_many() {
    let dir = tempfile::tempdir().expect("dir");
    let customers: Vec<Customer> = (0..SHARED).map(customer).collect();
    let (store, tenant) = store_with(&dir, &customers);

    // All 2,050 match: more than the index hands over, so the name index is read in order.
    let by_name: Vec<String> = (0..3).map(|k| format!("cus_{:05}", SHARED - 1 - k)).collect();
    assert_eq!(first_page(store.as_ref(), &tenant, "HARBOUR", 3), by_name);
    assert_eq!(first_page(store.as_ref(), &tenant, "harbour.test", 3), by_name);
    // Names 01000–01999 (not one email): 1,000 customers, few enough to start from the index.
    // The first page of 500 runs from name 01000 to 01499.
    let few = first_page(store.as_ref(), &tenant, "r 01", 500);
    assert_eq!(few.len(), 500);
    assert_eq!(few.first().map(String::as_str), Some("cus_01050"));
    assert_eq!(few.last().map(String::as_str), Some("cus_00551"));
    // One customer, by the number in its email.
    assert_eq!(first_page(store.as_ref(), &tenant, "AP01234@", 5), ["cus_01234"]);
    // Two characters have no trigram: the name index decides them.
    assert_eq!(first_page(store.as_ref(), &tenant, "p0", 2), ["cus_02049", "cus_02048"]);
}

#[test]
fn a_number_too_many_customers_hold_falls_back_to_the_trigram_index_then_to_the_list() {
    let dir = tempfile::tempdir().expect("dir");
    // Every name holds the number 2026: more customers than the number index hands over.
    let piers: Vec<Customer> = (0..SHARED)
        .map(|i| Customer { name: format!("Pier 2026 {i:05}"), email: None, ..customer(i) })
        .collect();
    let (store, tenant) = store_with(&dir, &piers);

    // Neither index hands over 2,050 customers: the name index is read in order.
    let first: Vec<String> = (0..3).map(|i| format!("cus_{i:05}")).collect();
    assert_eq!(first_page(store.as_ref(), &tenant, "2026", 3), first);
    // The number finds too many, the trigram index ten: the page starts from those ten.
    let tens: Vec<String> = (2_040..2_050).map(|i| format!("cus_{i:05}")).collect();
    assert_eq!(first_page(store.as_ref(), &tenant, "2026 0204", 50), tens);
}

/// The steps of SQLite's plan for `sql` (after `explain query plan`) on a fresh store's schema.
fn plan_of(sql: &str, params: impl rusqlite::Params) -> Vec<String> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.db");
    drop(SqliteStore::open(&path, Durability::Full).expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.prepare(&format!("explain query plan {sql}"))
        .expect("prepare")
        .query_map(params, |row| row.get::<_, String>(3))
        .expect("plan")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn a_short_search_is_decided_from_the_name_index() {
    // The list query's shape for a search no trigram serves (tx.rs, `customers`).
    let plan = plan_of(
        "select currency from customer where tenant_id = ?1 \
         and (name_lower like ?2 escape '\\' or email_lower like ?2 escape '\\') \
         order by name asc, customer_id asc limit ?3",
        rusqlite::params!["ten", "%zz%", 51],
    );
    assert_eq!(plan, ["SEARCH customer USING INDEX customer_by_name_with_search (tenant_id=?)"]);
}

#[test]
fn a_number_search_reads_its_range_of_keys_and_the_unindexed_key_alone() {
    // The number index's query (tx.rs, `few_search_matches`).
    let plan = plan_of(
        "select distinct seq from customer_number \
         where digits >= ?1 and digits < ?2 or digits = ?3 limit ?4",
        rusqlite::params!["0012345", "0012345:", "-", 2001],
    );
    let searches: Vec<&String> = plan.iter().filter(|step| step.starts_with("SEARCH")).collect();
    assert_eq!(
        searches,
        [
            "SEARCH customer_number USING PRIMARY KEY (digits>? AND digits<?)",
            "SEARCH customer_number USING PRIMARY KEY (digits=?)"
        ],
        "{plan:?}"
    );
}

/// Migration 0017's backfill gives the customers stored before it the keys Settle writes for
/// a new customer: dropped and migrated again, the number index holds the same rows.
#[test]
fn the_number_index_migration_gives_stored_customers_the_keys_settle_writes() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path, Durability::Full).expect("open"));
    let engine = settle_conformance::engine(Arc::clone(&store), 1);
    let tenant = engine.create_tenant("Numbers").expect("tenant").tenant_id;
    let mut tx = store.begin_write().expect("write");
    for (i, (name, email)) in settle_conformance::NUMBERED.iter().enumerate() {
        let mut c = customer(i);
        c.name = (*name).to_owned();
        c.email = email.map(str::to_owned);
        tx.insert_customer(&tenant, &c).expect("insert");
    }
    // A rename replaces the customer's keys: the old number's must go.
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).single().expect("a time");
    let (lock, mut renamed) =
        tx.lock_customer(&tenant, &customer(0).id, now).expect("lock").expect("a customer");
    renamed.name = "Harbour 4321".to_owned();
    renamed.email = None;
    tx.update_customer(&lock, &renamed).expect("rename");
    tx.commit().expect("commit");
    drop(engine);
    drop(store);

    let conn = rusqlite::Connection::open(&path).expect("open");
    let keys = |conn: &rusqlite::Connection| -> Vec<(String, i64)> {
        conn.prepare("select digits, seq from customer_number order by digits, seq")
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("keys")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let written = keys(&conn);
    assert_eq!(written.len(), 1 + 17 + 3 + 2 + 1, "{written:?}");
    conn.execute_batch("drop table customer_number").expect("drop");
    conn.execute_batch(include_str!("../../migrations/0017_customer_number.sql")).expect("migrate");
    assert_eq!(keys(&conn), written);
}
