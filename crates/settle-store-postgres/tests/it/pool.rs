//! The pool hands out a connection the server answered moments ago without testing it, and
//! tests one that was idle, so a connection the server dropped is replaced, not used.

use std::thread::sleep;

use postgres::NoTls;
use settle_store::Store;
use settle_store_postgres::{PostgresStore, TESTED_AFTER_IDLE};

use super::TestDb;

/// Round trips one read costs on `store`: the checkout, `begin` with the read, the rollback.
fn round_trips_of_a_read(store: &PostgresStore) -> u64 {
    let before = store.round_trips();
    store.begin_read().expect("read").tenants().expect("tenants");
    store.round_trips() - before
}

#[test]
fn a_connection_that_just_answered_is_handed_out_untested() {
    let Some(db) = TestDb::new("a_connection_that_just_answered_is_handed_out") else {
        return;
    };
    let store = db.open_one_connection();
    round_trips_of_a_read(&store);
    sleep(TESTED_AFTER_IDLE + TESTED_AFTER_IDLE / 5);
    // Idle past the window: tested first (one round trip more), then the read and rollback.
    assert_eq!(round_trips_of_a_read(&store), 3);
    // Answered moments ago: the read and rollback only. A slow machine may take longer than
    // the window between two reads, so one of a few tries must show it.
    let untested = (0..5).map(|_| round_trips_of_a_read(&store)).min();
    assert_eq!(untested, Some(2));
}

#[test]
fn a_connection_the_server_dropped_is_replaced_before_use() {
    let Some(db) = TestDb::new("a_connection_the_server_dropped_is_replaced") else {
        return;
    };
    let store = db.open_one_connection();
    round_trips_of_a_read(&store);
    let mut admin = postgres::Client::connect(&db.url, NoTls).expect("connect");
    let ended = admin
        .query(
            "select pg_terminate_backend(pid) from pg_stat_activity \
             where datname = current_database() and pid <> pg_backend_pid()",
            &[],
        )
        .expect("terminate");
    assert_eq!(ended.len(), 1, "the pool's one connection");
    sleep(TESTED_AFTER_IDLE + TESTED_AFTER_IDLE / 5);
    // The pool's test finds the connection closed and opens another: the read succeeds.
    assert_eq!(store.begin_read().expect("read").tenants().expect("tenants"), vec![]);
}
