//! The PostgreSQL store against a real server: durability across a restart, journal
//! immutability enforced by the database, rollback of unfinished transactions, repeatable
//! migrations, list order and cursors, per-customer row locks, and a schema and inserts ready to
//! be sharded by customer.
//!
//! Each test makes its own database on the server named by `SETTLE_TEST_POSTGRES_URL` and drops
//! it at the end; without that variable each test says so and returns.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use postgres::NoTls;
use postgres::error::SqlState;
use settle_conformance as conformance;
use settle_core::customer::{Balances, Customer};
use settle_core::document::DocumentKind;
use settle_core::ids::{CustomerId, DocumentId, TenantId};
use settle_core::money::Currency;
use settle_engine::{Clock, Engine};
use settle_store::{Store, StoreError};
use settle_store_postgres::PostgresStore;

mod child_rows;
mod keyed;
mod merged_inserts;
mod pool;
mod reads;
mod schema;
mod tls;

/// The variable naming the server the tests run against.
const URL_VAR: &str = "SETTLE_TEST_POSTGRES_URL";

/// How long a test waits for something that must happen soon before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A database made for one test and dropped when the test ends, whatever its outcome.
struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    /// A fresh database, or `None` (after saying so) when no server is configured.
    fn new(test: &str) -> Option<TestDb> {
        TestDb::create(test, "")
    }

    /// A fresh database whose default collation orders text as people do (ICU `en-US`), where
    /// the server has ICU; otherwise the server's default.
    fn with_human_collation(test: &str) -> Option<TestDb> {
        if std::env::var(URL_VAR).is_err() {
            // Says the test was not run, once.
            return TestDb::new(test);
        }
        TestDb::create(test, " template template0 locale_provider icu icu_locale 'en-US'")
            .or_else(|| TestDb::create(test, ""))
    }

    fn create(test: &str, options: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(URL_VAR) else {
            println!("{test}: not run against PostgreSQL ({URL_VAR} is not set)");
            return None;
        };
        let name = format!("settle_test_{:016x}", random());
        let mut admin = postgres::Client::connect(&admin_url, NoTls).expect("connect as admin");
        if let Err(err) = admin.batch_execute(&format!("create database {name}{options}")) {
            assert!(!options.is_empty(), "create database {name}: {err}");
            return None;
        }
        let url = with_database(&admin_url, &name);
        Some(TestDb { admin_url, name, url })
    }

    fn open(&self) -> PostgresStore {
        PostgresStore::open(&self.url).expect("open")
    }

    /// The store on a pool of one connection: every transaction meets what the one before
    /// left on it, and round trips are counted on one connection.
    fn open_one_connection(&self) -> PostgresStore {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        PostgresStore::open(&format!("{}{sep}pool_size=1", self.url)).expect("open")
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, NoTls).expect("connect")
    }

    /// The store on one connection ([`TestDb::open_one_connection`]), an engine over it, and a
    /// tenant named `tenant` with one customer named `customer`: where the counting tests start.
    fn counted(&self, tenant: &str, customer: &str) -> Counted {
        let store = Arc::new(self.open_one_connection());
        let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
        let made = engine.create_tenant(tenant).expect("tenant");
        let (tenant, key) = (made.tenant_id, made.key);
        let new = settle_engine::NewCustomer { name: customer.into(), ..Default::default() };
        let customer = engine.create_customer(&tenant, new).expect("customer").id;
        Counted { store, engine, tenant, customer, key }
    }
}

/// What [`TestDb::counted`] makes.
struct Counted {
    store: Arc<PostgresStore>,
    engine: Engine,
    tenant: TenantId,
    customer: CustomerId,
    /// The tenant's admin API key.
    key: String,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, NoTls) {
            // A failed drop leaves a stray database behind; it must not hide the test's result.
            let _ =
                admin.batch_execute(&format!("drop database if exists {} with (force)", self.name));
        }
    }
}

/// A random number from the standard library's per-process random hash keys.
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// `url` with its database replaced by `name` (URL and key=value forms).
fn with_database(url: &str, name: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return format!("{url} dbname={name}");
    };
    let rest_start = scheme_end + 3;
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_end = base[rest_start..].find('/').map_or(base.len(), |i| rest_start + i);
    format!("{}/{name}{query}", &base[..authority_end])
}

fn engine(db: &TestDb, first_id: u64) -> Engine {
    conformance::engine(Arc::new(db.open()), first_id)
}

fn workload(engine: &Engine) {
    conformance::workload(engine);
}

/// A customer with a given id, name and balance (as a receivable), for store-level tests.
fn customer(id: &str, name: &str, owes: i64) -> Customer {
    Customer {
        id: CustomerId::parse(id).expect("customer id"),
        name: name.to_owned(),
        email: None,
        currency: Currency::parse("USD").expect("currency"),
        payment_terms_days: 30,
        metadata: "{}".to_owned(),
        created_at: conformance::PinnedClock.now(),
        balances: Balances { receivable: owes, ..Balances::default() },
    }
}

/// A tenant with `customers`, written directly through the store.
fn seed(store: &PostgresStore, customers: &[Customer]) -> TenantId {
    let tenant = TenantId::parse("ten_seeded").expect("tenant id");
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&tenant, "Seeded", conformance::PinnedClock.now()).expect("tenant");
    for c in customers {
        tx.insert_customer(&tenant, c).expect("customer");
    }
    tx.commit().expect("commit");
    tenant
}

#[test]
fn committed_writes_survive_a_restart_and_replay_exactly() {
    let Some(db) = TestDb::new("committed_writes_survive_a_restart_and_replay_exactly") else {
        return;
    };
    conformance::committed_writes_survive_a_reopen_and_replay_exactly(&|| {
        Arc::new(db.open()) as Arc<dyn Store>
    });
}

#[test]
fn an_idempotency_key_is_saved_once() {
    let Some(db) = TestDb::new("an_idempotency_key_is_saved_once") else {
        return;
    };
    conformance::an_idempotency_key_is_saved_once(&db.open());
}

#[test]
fn expired_idempotency_keys_are_pruned_in_batches_and_removed_by_key() {
    let Some(db) = TestDb::new("expired_idempotency_keys_are_pruned") else {
        return;
    };
    conformance::expired_idempotency_keys_are_pruned_in_batches_and_removed_by_key(&db.open());
}

#[test]
fn the_journal_feed_pages_with_a_cursor_that_is_never_null() {
    let Some(db) = TestDb::new("the_journal_feed_pages") else {
        return;
    };
    conformance::the_journal_feed_pages_with_a_cursor_that_is_never_null(Arc::new(db.open()));
}

#[test]
fn the_database_refuses_to_change_or_delete_journal_rows() {
    let Some(db) = TestDb::new("the_database_refuses_to_change_or_delete_journal_rows") else {
        return;
    };
    workload(&engine(&db, 1));
    let mut conn = db.client();
    for sql in [
        "update posting set amount_minor = amount_minor + 1",
        "delete from posting",
        "truncate posting",
        "update journal_txn set description = 'edited'",
        "delete from journal_txn",
        "truncate journal_txn cascade",
    ] {
        let err = conn.batch_execute(sql).expect_err(sql);
        let db_err = err.as_db_error().expect("a database error");
        assert_eq!(db_err.message(), "journal rows are immutable", "{sql}");
        assert_eq!(db_err.code(), &SqlState::RESTRICT_VIOLATION, "{sql}");
    }
    let postings: i64 = conn.query_one("select count(*) from posting", &[]).expect("count").get(0);
    assert_eq!(postings, 6);
    let txns: i64 = conn.query_one("select count(*) from journal_txn", &[]).expect("count").get(0);
    assert_eq!(txns, 3);
}

#[test]
fn a_savepoint_undoes_one_unit_and_keeps_the_rest() {
    let Some(db) = TestDb::new("a_savepoint_undoes_one_unit_and_keeps_the_rest") else {
        return;
    };
    conformance::a_savepoint_undoes_one_unit_and_keeps_the_rest(&db.open());
}

#[test]
fn a_store_is_ready_only_while_its_schema_is_at_this_builds_migrations() {
    let Some(db) =
        TestDb::new("a_store_is_ready_only_while_its_schema_is_at_this_builds_migrations")
    else {
        return;
    };
    let store = db.open();
    conformance::a_fresh_store_is_ready(&store);
    let mut conn = db.client();
    let current: i32 =
        conn.query_one("select max(version) from schema_migration", &[]).expect("version").get(0);
    // A newer Settle migrated the database under this one: this build cannot vouch for it.
    conn.execute("insert into schema_migration (version) values ($1)", &[&(current + 1)])
        .expect("a newer migration");
    let Err(StoreError::Unavailable(why)) = store.check_ready() else {
        panic!("a schema past this build's migrations is not ready");
    };
    assert_eq!(
        why.to_string(),
        format!("the schema is at migration {}; this Settle runs {current}", current + 1)
    );
    conn.execute("delete from schema_migration where version = $1", &[&(current + 1)])
        .expect("back");
    store.check_ready().expect("ready again");
}

#[test]
fn a_transaction_dropped_without_commit_leaves_nothing() {
    let Some(db) = TestDb::new("a_transaction_dropped_without_commit_leaves_nothing") else {
        return;
    };
    let store = db.open();
    conformance::a_transaction_dropped_without_commit_leaves_nothing(&store);
    // The pooled connection came back clean: nothing is left idle in a transaction, and the
    // next write on it commits on its own.
    let mut conn = db.client();
    let stuck: i64 = conn
        .query_one(
            "select count(*) from pg_stat_activity \
             where datname = current_database() and state like 'idle in transaction%'",
            &[],
        )
        .expect("activity")
        .get(0);
    assert_eq!(stuck, 0);
    let kept = TenantId::parse("ten_kept").expect("id");
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&kept, "Kept", conformance::PinnedClock.now()).expect("insert");
    tx.commit().expect("commit");
    assert_eq!(store.begin_read().expect("read").tenants().expect("tenants"), vec![kept]);
}

#[test]
fn a_failed_statement_makes_commit_fail_rather_than_lose_writes_quietly() {
    let Some(db) =
        TestDb::new("a_failed_statement_makes_commit_fail_rather_than_lose_writes_quietly")
    else {
        return;
    };
    let store = db.open();
    let tenant = TenantId::parse("ten_once").expect("id");
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&tenant, "Once", conformance::PinnedClock.now()).expect("insert");
    let twice = tx.insert_tenant(&tenant, "Twice", conformance::PinnedClock.now());
    assert!(
        matches!(twice, Err(StoreError::Conflict { ref constraint }) if constraint == "tenant_pkey")
    );
    assert!(tx.commit().is_err());
    assert!(store.begin_read().expect("read").tenants().expect("tenants").is_empty());
}

#[test]
fn the_database_refuses_an_item_balance_past_zero() {
    let Some(db) = TestDb::new("the_database_refuses_an_item_balance_past_zero") else {
        return;
    };
    workload(&engine(&db, 1));
    let mut conn = db.client();
    let err = conn
        .batch_execute("update document_item set balance_minor = -1 where amount_minor > 0")
        .expect_err("check constraint");
    let db_err = err.as_db_error().expect("a database error");
    assert_eq!(db_err.code(), &SqlState::CHECK_VIOLATION, "{err}");
    assert_eq!(db_err.constraint(), Some("document_item_check"));
}

#[test]
fn opening_twice_runs_migrations_once_and_a_bad_url_is_refused() {
    let Some(db) = TestDb::new("opening_twice_runs_migrations_once_and_a_bad_url_is_refused")
    else {
        return;
    };
    // Two processes starting at once: the advisory lock makes them take turns.
    std::thread::scope(|s| {
        let first = s.spawn(|| drop(db.open()));
        let second = s.spawn(|| drop(db.open()));
        first.join().expect("first open");
        second.join().expect("second open");
    });
    drop(db.open());
    let mut conn = db.client();
    let versions: Vec<i32> = conn
        .query("select version from schema_migration order by version", &[])
        .expect("versions")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, (1..=22).collect::<Vec<i32>>());
    assert!(matches!(
        PostgresStore::open("postgres://postgres@127.0.0.1:1/nothing_listens_here"),
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        PostgresStore::open("postgres://host:not_a_port/x"),
        Err(StoreError::Unavailable(_))
    ));
}

#[test]
fn the_pool_size_is_read_from_the_url_and_a_bad_one_is_refused() {
    let Some(db) = TestDb::new("the_pool_size_is_read_from_the_url_and_a_bad_one_is_refused")
    else {
        return;
    };
    assert_eq!(db.open().pool_size(), 16);
    let joiner = if db.url.contains('?') { '&' } else { '?' };
    let store = PostgresStore::open(&format!("{}{joiner}pool_size=3", db.url)).expect("three");
    assert_eq!(store.pool_size(), 3);
    // The parameter is Settle's, taken out before the driver reads the URL.
    let held: Vec<_> = (0..3).map(|_| store.begin_read().expect("a connection")).collect();
    assert_eq!(store.connections_in_use(), vec![("postgres", 3), ("postgres_batch", 0)]);
    drop(held);
    for bad in ["0", "x", "2000"] {
        match PostgresStore::open(&format!("{}{joiner}pool_size={bad}", db.url)) {
            Err(StoreError::Unavailable(why)) => assert!(
                why.to_string().starts_with(&format!("pool_size={bad}: give the most")),
                "{bad}: {why}"
            ),
            Err(other) => panic!("{bad}: {other:?}"),
            Ok(_) => panic!("{bad}: opened"),
        }
    }
}

#[test]
fn customer_lists_sort_by_bytes_and_cursors_round_trip() {
    // A database whose default collation is a human one: names must still sort by bytes.
    let Some(db) = TestDb::with_human_collation("customer_lists_sort_by_bytes") else {
        return;
    };
    conformance::customer_lists_sort_by_bytes_and_cursors_round_trip(&db.open());
}

#[test]
fn a_posted_document_is_answered_as_a_read_finds_it() {
    let Some(db) = TestDb::new("a_posted_document_is_answered_as_a_read_finds_it") else {
        return;
    };
    conformance::a_posted_document_is_answered_as_a_read_finds_it(Arc::new(db.open()));
}

#[test]
fn a_read_of_one_flight_finds_what_a_read_transaction_finds() {
    let Some(db) = TestDb::new("a_read_of_one_flight_finds_what_a_read_transaction_finds") else {
        return;
    };
    conformance::a_read_of_one_flight_finds_what_a_read_transaction_finds(Arc::new(db.open()));
}

#[test]
fn settings_read_after_a_customer_lock_are_the_tenants_as_they_stand() {
    let Some(db) = TestDb::new("settings_read_after_a_customer_lock") else {
        return;
    };
    conformance::settings_read_after_a_customer_lock_are_the_tenants_as_they_stand(&db.open());
}

#[test]
fn a_replay_answers_the_saved_response_whichever_way_the_command_goes() {
    let Some(db) = TestDb::new("a_replay_answers_the_saved_response") else {
        return;
    };
    conformance::a_replay_answers_the_saved_response_whichever_way_the_command_goes(Arc::new(
        db.open(),
    ));
}

#[test]
fn document_numbers_are_unique_under_concurrency() {
    let Some(db) = TestDb::new("document_numbers_are_unique_under_concurrency") else {
        return;
    };
    conformance::document_numbers_are_unique_under_concurrency(Arc::new(db.open()));
}

/// Waits until a session of this test's database waits for a lock; false if none does in time.
fn someone_waits_for_a_lock(db: &TestDb) -> bool {
    let mut conn = db.client();
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        let waiting: i64 = conn
            .query_one(
                "select count(*) from pg_stat_activity \
                 where datname = current_database() and wait_event_type = 'Lock'",
                &[],
            )
            .expect("activity")
            .get(0);
        if waiting > 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn customer_locks_do_not_serialize_two_customers() {
    let Some(db) = TestDb::new("customer_locks_serialize_one_customer_and_not_two") else {
        return;
    };
    let store = db.open();
    let tenant = seed(&store, &[customer("cus_one", "One", 0), customer("cus_two", "Two", 0)]);
    let one = CustomerId::parse("cus_one").expect("id");
    let two = CustomerId::parse("cus_two").expect("id");

    // Different customers: the second takes its lock while the first still holds its own (the
    // same customer waits: `a_second_writer_on_a_customer_waits_until_the_first_commits`).
    let events = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        let (store, events, tenant, one, two) = (&store, &events, &tenant, &one, &two);
        let (first_locked, wait_first) = mpsc::channel();
        let (second_locked, wait_second) = mpsc::channel();
        s.spawn(move || {
            let mut tx = store.begin_write().expect("begin");
            tx.lock_customer(tenant, one, conformance::PinnedClock.now())
                .expect("lock")
                .expect("customer");
            events.lock().expect("events").push("first locked");
            first_locked.send(()).expect("signal");
            let proceeded = wait_second.recv_timeout(PATIENCE).is_ok();
            events.lock().expect("events").push("first commits");
            tx.commit().expect("commit");
            assert!(proceeded, "the lock on another customer blocked");
        });
        s.spawn(move || {
            wait_first.recv().expect("first locked");
            let mut tx = store.begin_write().expect("begin");
            tx.lock_customer(tenant, two, conformance::PinnedClock.now())
                .expect("lock")
                .expect("customer");
            events.lock().expect("events").push("second locked");
            second_locked.send(()).expect("signal");
            tx.commit().expect("commit");
        });
    });
    assert_eq!(
        events.into_inner().expect("events"),
        ["first locked", "second locked", "first commits"]
    );
}

/// The customer lock and the next invoice number, as a post takes them.
fn begin_post<'s>(
    store: &'s PostgresStore,
    tenant: &TenantId,
    customer: &CustomerId,
) -> (Box<dyn settle_store::StoreTx + 's>, u64) {
    let now = conformance::PinnedClock.now();
    let mut tx = store.begin_write().expect("begin");
    tx.lock_customer(tenant, customer, now).expect("lock").expect("customer");
    let number = tx.next_number(tenant, DocumentKind::Invoice, now).expect("number");
    (tx, number)
}

#[test]
fn posts_for_two_customers_do_not_wait_for_each_others_number() {
    let Some(db) = TestDb::new("posts_for_two_customers_do_not_wait") else {
        return;
    };
    let store = db.open();
    let tenant = seed(&store, &[customer("cus_one", "One", 0), customer("cus_two", "Two", 0)]);
    let one = CustomerId::parse("cus_one").expect("id");
    let two = CustomerId::parse("cus_two").expect("id");
    // The tenant's first number makes its sequence; that one-time step is not what is tested.
    let (tx, first) = begin_post(&store, &tenant, &one);
    tx.commit().expect("commit");
    assert_eq!(first, 1);

    // An uncommitted post for customer one holds its lock and its number while a post for
    // customer two takes its own number and commits. With a tenant-wide counter row the second
    // would wait for the first's commit; `someone_waits_for_a_lock` would then see it waiting.
    let events = Mutex::new(Vec::new());
    let numbers = std::thread::scope(|s| {
        let (store, events, tenant, one, two) = (&store, &events, &tenant, &one, &two);
        let (first_drew, wait_first) = mpsc::channel();
        let (second_committed, wait_second) = mpsc::channel();
        let held = s.spawn(move || {
            let (tx, number) = begin_post(store, tenant, one);
            events.lock().expect("events").push("one drew");
            first_drew.send(()).expect("signal");
            let proceeded = wait_second.recv_timeout(PATIENCE).is_ok();
            events.lock().expect("events").push("one commits");
            tx.commit().expect("commit");
            assert!(proceeded, "the post for another customer waited for this one");
            number
        });
        let other = s.spawn(move || {
            wait_first.recv().expect("one drew");
            let (tx, number) = begin_post(store, tenant, two);
            tx.commit().expect("commit");
            events.lock().expect("events").push("two committed");
            second_committed.send(()).expect("signal");
            number
        });
        (held.join().expect("one"), other.join().expect("two"))
    });
    assert_eq!(events.into_inner().expect("events"), ["one drew", "two committed", "one commits"]);
    // Numbers are drawn in order, whatever order the transactions commit in.
    assert_eq!(numbers, (2, 3));
}

#[test]
fn a_number_drawn_by_a_rolled_back_post_is_a_gap_never_reused() {
    let Some(db) = TestDb::new("a_rolled_back_number_is_a_gap") else {
        return;
    };
    let store = db.open();
    let tenant = seed(&store, &[customer("cus_one", "One", 0)]);
    let one = CustomerId::parse("cus_one").expect("id");
    let (tx, first) = begin_post(&store, &tenant, &one);
    tx.commit().expect("commit");
    let (tx, dropped) = begin_post(&store, &tenant, &one);
    drop(tx);
    let (tx, next) = begin_post(&store, &tenant, &one);
    tx.commit().expect("commit");
    assert_eq!((first, dropped, next), (1, 2, 3));
    // A rolled-back first draw takes its sequence with it; the next draw makes it again.
    let other = TenantId::parse("ten_other").expect("id");
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&other, "Other", conformance::PinnedClock.now()).expect("tenant");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    let now = conformance::PinnedClock.now();
    assert_eq!(tx.next_number(&other, DocumentKind::CreditMemo, now).expect("number"), 1);
    drop(tx);
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.next_number(&other, DocumentKind::CreditMemo, now).expect("number"), 1);
    tx.commit().expect("commit");
}

#[test]
fn a_second_writer_on_a_customer_waits_until_the_first_commits() {
    let Some(db) = TestDb::new("a_second_writer_waits") else {
        return;
    };
    conformance::a_second_writer_on_a_customer_waits_until_the_first_commits(&db.open(), &|| {
        someone_waits_for_a_lock(&db)
    });
}

#[test]
fn sums_over_many_maximal_amounts_are_exact() {
    let Some(db) = TestDb::new("sums_over_many_maximal_amounts_are_exact") else { return };
    let now = "2026-03-01T09:00:00Z";
    let max = conformance::MAX_AMOUNT_MINOR;
    let postings = |tenant: &TenantId, customer: &CustomerId, document: &DocumentId, count: u32| {
        let mut client = db.client();
        let mut tx = client.transaction().expect("begin");
        tx.execute(
            "insert into journal_txn (txn_id, tenant_id, customer_id, kind, effective_date, \
             description, subject_id, created_at) \
             select 'txn_many' || lpad(i::text, 7, '0'), $2, $3, 'items_netted', \
             date '2026-03-01', 'Many', null, $4::text::timestamptz \
             from generate_series(1, $1::bigint) i",
            &[&i64::from(count), &tenant.as_str(), &customer.as_str(), &now],
        )
        .expect("transactions");
        tx.execute(
            "insert into posting (txn_id, idx, tenant_id, customer_id, account, side, \
             amount_minor, currency, document_id, item_id, payment_id, application_id, \
             created_at) \
             select j.txn_id, s.idx, j.tenant_id, j.customer_id, 'receivable', s.side, $1, 'USD', \
             $2, null, null, null, j.created_at \
             from journal_txn j, (values (0, 'debit'), (1, 'credit')) s (idx, side) \
             where j.txn_id like 'txn_many%'",
            &[&max, &document.as_str()],
        )
        .expect("postings");
        tx.commit().expect("commit");
        // As autovacuum does after a load this size. Planned on the statistics of the near
        // empty tables, the report's join of 200,000 postings to their 100,000 transactions
        // once ran as a nested loop over both for twenty minutes.
        client.batch_execute("analyze journal_txn, posting").expect("analyze");
    };
    let account_totals = |tenant: &TenantId, count: u32| {
        let mut client = db.client();
        let mut tx = client.transaction().expect("begin");
        tx.execute(
            "insert into customer (customer_id, tenant_id, name, name_lower, email, \
             email_lower, currency, payment_terms_days, metadata, receivable_minor, \
             unapplied_payments_minor, credit_memo_balance_minor, credit_balance_minor, \
             balance_minor, created_at) \
             select 'cus_many' || lpad(i::text, 7, '0'), $2, 'Many', 'many', null, null, 'USD', \
             30, '{}', 0, 0, 0, 0, 0, $3::text::timestamptz \
             from generate_series(1, $1::bigint) i",
            &[&i64::from(count), &tenant.as_str(), &now],
        )
        .expect("customers");
        tx.execute(
            "insert into customer_account (tenant_id, customer_id, account, currency, \
             debit_minor, credit_minor, created_at) \
             select c.tenant_id, c.customer_id, s.account, 'USD', s.debit * $1::bigint, \
             s.credit * $1::bigint, \
             $3::text::timestamptz \
             from customer c, (values ('receivable', 1, 0), ('revenue', 0, 1)) \
             s (account, debit, credit) where c.tenant_id = $2",
            &[&max, &tenant.as_str(), &now],
        )
        .expect("account totals");
        tx.commit().expect("commit");
    };
    conformance::sums_over_many_maximal_amounts_are_exact(
        Arc::new(db.open()),
        &conformance::ManyRows { postings: &postings, account_totals: &account_totals },
    );
}

#[test]
fn tenants_keep_their_settings_in_creation_order() {
    let Some(db) = TestDb::new("tenants_keep_their_settings_in_creation_") else {
        return;
    };
    conformance::tenants_keep_their_settings_in_creation_order(&db.open());
}

#[test]
fn api_keys_are_found_by_hash_and_revoked_once() {
    let Some(db) = TestDb::new("api_keys_are_found_by_hash_and_revoked_o") else {
        return;
    };
    conformance::api_keys_are_found_by_hash_and_revoked_once(&db.open());
}

#[test]
fn external_ids_are_unique_per_tenant_and_kind() {
    let Some(db) = TestDb::new("external_ids_are_unique_per_tenant_and_kind") else {
        return;
    };
    conformance::external_ids_are_unique_per_tenant_and_kind(&db.open());
}

#[test]
fn attention_reads_what_needs_a_person() {
    let Some(db) = TestDb::new("attention_reads_what_needs_a_person") else {
        return;
    };
    conformance::attention_reads_what_needs_a_person(&db.open());
}

#[test]
fn document_lists_filter_by_kind_customer_status_and_balance() {
    let Some(db) = TestDb::new("document_lists_filter_by_kind_customer_s") else {
        return;
    };
    conformance::document_lists_filter_by_kind_customer_status_and_balance(&db.open());
}

#[test]
fn payment_lists_filter_by_customer_and_unapplied() {
    let Some(db) = TestDb::new("payment_lists_filter_by_customer_and_una") else {
        return;
    };
    conformance::payment_lists_filter_by_customer_and_unapplied(&db.open());
}

#[test]
fn application_lists_filter_by_customer_source_and_target() {
    let Some(db) = TestDb::new("application_lists_filter_by_customer_sou") else {
        return;
    };
    conformance::application_lists_filter_by_customer_source_and_target(&db.open());
}

#[test]
fn history_lists_newest_first_per_customer() {
    let Some(db) = TestDb::new("history_lists_newest_first_per_customer") else {
        return;
    };
    conformance::history_lists_newest_first_per_customer(&db.open());
}

#[test]
fn records_read_back_as_written_and_updated() {
    let Some(db) = TestDb::new("records_read_back_as_written_and_updated") else {
        return;
    };
    conformance::records_read_back_as_written_and_updated(&db.open());
}

#[test]
fn the_database_refuses_what_breaks_the_ledger() {
    let Some(db) = TestDb::new("the_database_refuses_what_breaks_the_led") else {
        return;
    };
    conformance::the_database_refuses_what_breaks_the_ledger(&db.open());
}

#[test]
fn the_journal_is_append_only_and_sums_by_date() {
    let Some(db) = TestDb::new("the_journal_is_append_only_and_sums_by_d") else {
        return;
    };
    conformance::the_journal_is_append_only_and_sums_by_date(&db.open());
}

#[test]
fn the_feed_holds_every_commit_after_await_feed() {
    let Some(db) = TestDb::new("the_feed_holds_every_commit_after_await_") else {
        return;
    };
    conformance::the_feed_holds_every_commit_after_await_feed(&db.open());
}

#[test]
fn staff_users_are_found_by_live_email_and_removed_once() {
    let Some(db) = TestDb::new("staff_users_are_found_by_live_email_and_") else {
        return;
    };
    conformance::staff_users_are_found_by_live_email_and_removed_once(&db.open());
}

#[test]
fn staff_sessions_are_found_by_hash_touched_and_ended_once() {
    let Some(db) = TestDb::new("staff_sessions_are_found_by_hash_touched") else {
        return;
    };
    conformance::staff_sessions_are_found_by_hash_touched_and_ended_once(&db.open());
}

#[test]
fn sign_in_failures_are_listed_per_email_cleared_and_pruned() {
    let Some(db) = TestDb::new("sign_in_failures_are_listed_per_email_cl") else {
        return;
    };
    conformance::sign_in_failures_are_listed_per_email_cleared_and_pruned(&db.open());
}

#[test]
fn payment_links_are_found_by_hash_listed_newest_first_and_revoked_once() {
    let Some(db) = TestDb::new("payment_links_are_found_by_hash_listed_n") else {
        return;
    };
    conformance::payment_links_are_found_by_hash_listed_newest_first_and_revoked_once(&db.open());
}

#[test]
fn api_keys_are_listed_per_tenant_oldest_first() {
    let Some(db) = TestDb::new("api_keys_are_listed_per_tenant_oldest_fi") else {
        return;
    };
    conformance::api_keys_are_listed_per_tenant_oldest_first(&db.open());
}

#[test]
fn staff_user_roles_change_for_live_users_of_the_tenant() {
    let Some(db) = TestDb::new("staff_user_roles_change_for_live_users_o") else {
        return;
    };
    conformance::staff_user_roles_change_for_live_users_of_the_tenant(&db.open());
}

#[test]
fn products_and_prices_read_back_list_by_id_and_archive_once() {
    let Some(db) = TestDb::new("products_and_prices_read_back_list_by_id") else {
        return;
    };
    conformance::products_and_prices_read_back_list_by_id_and_archive_once(&db.open());
}

#[test]
fn subscriptions_read_back_list_and_are_found_when_due() {
    let Some(db) = TestDb::new("subscriptions_read_back_list_and_are_fou") else {
        return;
    };
    conformance::subscriptions_read_back_list_and_are_found_when_due(&db.open());
}

#[test]
fn a_batch_locks_its_customers_and_reads_their_subscriptions_together() {
    let Some(db) = TestDb::new("a_batch_locks_its_customers_and_reads_th") else {
        return;
    };
    conformance::a_batch_locks_its_customers_and_reads_their_subscriptions_together(&db.open());
}

#[test]
fn a_period_is_invoiced_once_and_lines_and_amendments_read_back() {
    let Some(db) = TestDb::new("a_period_is_invoiced_once_and_lines_and_") else {
        return;
    };
    conformance::a_period_is_invoiced_once_and_lines_and_amendments_read_back(&db.open());
}

#[test]
fn bill_runs_read_back_as_last_written() {
    let Some(db) = TestDb::new("bill_runs_read_back_as_last_written") else {
        return;
    };
    conformance::bill_runs_read_back_as_last_written(&db.open());
}

#[test]
fn document_numbers_stay_unique_and_increasing_across_customers() {
    let Some(db) = TestDb::new("document_numbers_across_customers") else {
        return;
    };
    conformance::document_numbers_stay_unique_and_increasing_across_customers(Arc::new(db.open()));
}

#[test]
fn customer_search_finds_substrings_of_name_or_email_at_every_length() {
    let Some(db) = TestDb::new("customer_search") else {
        return;
    };
    conformance::customer_search_finds_substrings_of_name_or_email_at_every_length(&db.open());
}

#[test]
fn a_search_by_number_finds_exactly_the_customers_that_hold_it() {
    let Some(db) = TestDb::new("search_by_number") else {
        return;
    };
    conformance::a_search_by_number_finds_exactly_the_customers_that_hold_it(&db.open());
}

/// Migration 0022's backfill gives the customers stored before it the keys Settle writes for
/// a new customer: dropped and migrated again, the number index holds the same rows.
#[test]
fn the_number_index_migration_gives_stored_customers_the_keys_settle_writes() {
    let Some(db) = TestDb::new("number_index_migration") else {
        return;
    };
    let store = db.open();
    let customers: Vec<Customer> = settle_conformance::NUMBERED
        .iter()
        .enumerate()
        .map(|(i, (name, email))| Customer {
            email: email.map(str::to_owned),
            ..customer(&format!("cus_{i}"), name, 0)
        })
        .collect();
    let tenant = seed(&store, &customers);
    // A rename replaces the customer's keys: the old number's must go.
    let now = conformance::PinnedClock.now();
    let mut tx = store.begin_write().expect("begin");
    let (lock, mut renamed) =
        tx.lock_customer(&tenant, &customers[0].id, now).expect("lock").expect("a customer");
    renamed.name = "Harbour 4321".to_owned();
    renamed.email = None;
    tx.update_customer(&lock, &renamed).expect("rename");
    tx.commit().expect("commit");
    drop(store);

    let mut client = db.client();
    let keys = |client: &mut postgres::Client| -> Vec<(String, String)> {
        let sql = "select customer_id, unnest(numbers) from customer_search order by 1, 2";
        let rows = client.query(sql, &[]).expect("keys");
        rows.iter().map(|row| (row.get(0), row.get(1))).collect()
    };
    let written = keys(&mut client);
    // The 20-digit run repeats its first ten digits: 89 distinct substrings of its 117.
    assert_eq!(written.len(), 1 + 89 + 3 + 2 + 1, "{written:?}");
    client
        .batch_execute(
            "drop index customer_search_numbers; alter table customer_search drop column numbers",
        )
        .expect("drop");
    client
        .batch_execute(include_str!("../../migrations/0022_customer_search_numbers.sql"))
        .expect("migrate");
    assert_eq!(keys(&mut client), written);
}

#[test]
fn the_search_index_has_no_segments_to_merge() {
    let Some(db) = TestDb::new("search_index_merge") else {
        return;
    };
    conformance::the_search_index_merges_into_one_segment_and_finds_the_same(&db.open(), false);
}

#[test]
fn peeking_at_the_next_number_takes_nothing() {
    let Some(db) = TestDb::new("peeking_at_the_next_number") else {
        return;
    };
    conformance::peeking_at_the_next_number_takes_nothing(&db.open());
}

#[test]
fn a_unit_opens_with_its_lock_settings_number_and_saved_response() {
    let Some(db) = TestDb::new("a_unit_opens_with_its_lock_settings_number") else {
        return;
    };
    conformance::a_unit_opens_with_its_lock_settings_number_and_saved_response(&db.open());
}

#[test]
fn numbers_drawn_ahead_and_not_used_are_gaps() {
    let Some(db) = TestDb::new("numbers_drawn_ahead_and_not_used") else {
        return;
    };
    // A sequence cannot take numbers back (ARCHITECTURE.md, "Document numbers").
    assert_eq!(
        conformance::numbers_drawn_ahead_increase_and_what_is_given_back_is_never_used_twice(
            &db.open()
        ),
        (9, 3)
    );
}

#[test]
fn concurrent_batches_can_be_open_at_once_and_all_commit() {
    let Some(db) = TestDb::new("concurrent_batches") else {
        return;
    };
    // Two with the default pool: a second batch uses the server time the first leaves idle.
    assert_eq!(conformance::concurrent_batches_can_be_open_at_once_and_all_commit(&db.open()), 2);
}

#[test]
fn connections_in_use_are_counted_until_their_transaction_ends() {
    let Some(db) = TestDb::new("connections_in_use_are_counted") else {
        return;
    };
    let store = db.open();
    conformance::connections_in_use_are_counted_until_their_transaction_ends(&store);
    let second = store.begin_write().expect("write");
    assert_eq!(store.connections_in_use(), [("postgres", 1), ("postgres_batch", 0)]);
    // A batch takes a connection of the batch pool (which sends writes ahead).
    let batch = store.begin_batch_write().expect("batch");
    assert_eq!(store.connections_in_use(), [("postgres", 1), ("postgres_batch", 1)]);
    drop((second, batch));
    assert_eq!(store.connections_in_use(), [("postgres", 0), ("postgres_batch", 0)]);
}

/// A posted invoice for `customer_id` of three lines: 10.00, 20.00 and 30.00.
fn three_line_invoice(customer_id: &CustomerId) -> settle_engine::NewDocument {
    let line = |text: &str| settle_engine::NewItem {
        description: "Work".into(),
        amount: Some(settle_engine::Amount::parse(text).expect("amount")),
        ..settle_engine::NewItem::default()
    };
    settle_engine::NewDocument {
        kind: DocumentKind::Invoice,
        customer_id: customer_id.clone(),
        items: vec![line("10.00"), line("20.00"), line("30.00")],
        invoice_date: None,
        due_date: None,
        adjusts_invoice_id: None,
        reason: None,
        post: true,
    }
}

/// Posting a 3-line invoice writes its ~26 rows in two pipelined flights of six statements,
/// not a round trip each: held-back writes go with the next read or with the COMMIT, joined
/// into one statement. Counted once the connection has prepared its statements (the first post
/// of a connection prepares each once).
#[test]
fn posting_a_three_line_invoice_takes_a_few_round_trips_not_one_per_row() {
    let Some(db) = TestDb::new("posting_a_three_line_invoice_takes_a_few_round_trips") else {
        return;
    };
    let Counted { store, engine, tenant, customer, key } = db.counted("Round trips", "Counted");
    let post = || engine.create_document(&tenant, three_line_invoice(&customer)).expect("post");
    post();
    let (trips, sent) = (store.round_trips(), store.statements_sent());
    let invoice = post();
    let (trips, sent) = (store.round_trips() - trips, store.statements_sent() - sent);
    assert_eq!(invoice.items.len(), 3);
    // One statement per round trip took about 24 here. Now BEGIN, the customer's lock, the
    // settings and the number go in one flight, and the writes with the COMMIT in another;
    // the invoice is answered from what was written, not read back.
    assert_eq!(trips, 2, "posting a 3-line invoice");
    // The ten writes (their rows merged per table) go as one statement (`src/join.rs`): four
    // statements open the unit, one writes, one commits. A statement per write made 15.
    assert_eq!(sent, 6, "statements sent for a 3-line invoice");
    // A request's API key, once found live, is confirmed in that first flight: one statement
    // more and no round trip more.
    assert!(engine.authenticate(&key).expect("authenticate").is_some());
    let post = |check: &Arc<_>| {
        let confirming = engine.confirming(Arc::clone(check));
        confirming.create_document(&tenant, three_line_invoice(&customer)).expect("post")
    };
    // Warm-up: the check's statement is prepared on the connection's first use of it.
    post(&engine.recall_key(&key).expect("remembered"));
    let check = engine.recall_key(&key).expect("remembered");
    let (trips, sent) = (store.round_trips(), store.statements_sent());
    post(&check);
    let (trips, sent) = (store.round_trips() - trips, store.statements_sent() - sent);
    assert!(check.is_confirmed());
    assert_eq!((trips, sent), (2, 7), "with the key confirmed");
}

/// A bill run's batch asks the database the same few times whatever its size: its customers'
/// locks, subscriptions and invoice numbers come in one query each, and every invoice's writes
/// are held and sent with them. Two tenants, one of 3 subscribers and one of 9, each billed in
/// one batch, take the same number of round trips.
#[test]
fn a_bill_run_batch_takes_the_same_round_trips_for_3_customers_as_for_9() {
    let Some(db) = TestDb::new("a_bill_run_batch_takes_the_same_round_trips") else {
        return;
    };
    let store = Arc::new(db.open_one_connection());
    let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
    let mut trips = Vec::new();
    for (name, customers) in [("Warm-up", 3), ("Three", 3), ("Nine", 9)] {
        let tenant = subscribers(&engine, name, customers);
        let jan_1 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
        let before = store.round_trips();
        let run = engine.bill_run(&tenant, jan_1, None).expect("bill run");
        trips.push(store.round_trips() - before);
        assert_eq!(run.invoices_created, u32::try_from(customers).expect("few"));
    }
    println!("a bill run of 3 and of 9 customers: {:?} round trips", &trips[1..]);
    assert_eq!(trips[1], trips[2], "round trips grew with the batch: {trips:?}");
}

/// A tenant whose `customers` each have a 30.00 monthly subscription from Jan 1, 2026.
fn subscribers(engine: &Engine, name: &str, customers: usize) -> TenantId {
    let tenant = engine.create_tenant(name).expect("tenant").tenant_id;
    let product = settle_engine::NewProduct { name: "Pro".into(), description: None };
    let product = engine.create_product(&tenant, product).expect("product");
    let price = settle_engine::NewPrice {
        product_id: product.id,
        currency: "USD".into(),
        unit_amount: settle_engine::Amount::parse("30.00").expect("an amount"),
        recurring: Some(("month".into(), None)),
        tax_rate: None,
    };
    let price = engine.create_price(&tenant, price).expect("price");
    for n in 0..customers {
        let new = settle_engine::NewCustomer { name: format!("C{n}"), ..Default::default() };
        let customer = engine.create_customer(&tenant, new).expect("customer");
        let items =
            vec![settle_engine::NewSubscriptionItem { price_id: price.id.clone(), quantity: None }];
        let start_date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1);
        let new = settle_engine::NewSubscription { customer_id: customer.id, start_date, items };
        engine.create_subscription(&tenant, new).expect("subscription");
    }
    tenant
}

#[test]
fn api_keys_are_confirmed_in_a_transaction() {
    let Some(db) = TestDb::new("api_keys_are_confirmed_in_a_transaction") else {
        return;
    };
    conformance::api_keys_are_confirmed_in_a_transaction(&db.open());
}
