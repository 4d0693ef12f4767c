//! The SQLite store against a real file: the conformance suite every store runs, plus what only
//! SQLite's own SQL can show (immutability triggers, CHECKs, migrations, a bad file).

mod group_commit;
mod search;

use std::path::Path;
use std::sync::Arc;

use settle_conformance as conformance;
use settle_core::ids::{CustomerId, DocumentId, TenantId};
use settle_engine::Engine;
use settle_store::{Store, StoreError};
use settle_store_sqlite::{Durability, SqliteStore};

fn engine(path: &Path, first_id: u64) -> Engine {
    let store = SqliteStore::open(path, Durability::Full).expect("open");
    store.integrity_check().expect("integrity");
    conformance::engine(Arc::new(store), first_id)
}

fn workload(engine: &Engine) {
    conformance::workload(engine);
}

#[test]
fn committed_writes_survive_a_restart_and_replay_exactly() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    conformance::committed_writes_survive_a_reopen_and_replay_exactly(&|| {
        Arc::new(SqliteStore::open(&path, Durability::Full).expect("open")) as Arc<dyn Store>
    });
}

#[test]
fn the_database_refuses_to_change_or_delete_journal_rows() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    workload(&engine(&path, 1));
    let conn = rusqlite::Connection::open(&path).expect("open");
    for sql in [
        "update posting set amount_minor = amount_minor + 1",
        "delete from posting",
        "update journal_txn set description = 'edited'",
        "delete from journal_txn",
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("journal rows are immutable"), "{sql}: {err}");
    }
    let postings: i64 =
        conn.query_row("select count(*) from posting", [], |r| r.get(0)).expect("count");
    assert_eq!(postings, 6);
}

#[test]
fn a_store_is_ready_only_while_its_schema_is_at_this_builds_migrations() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    let store = SqliteStore::open(&path, Durability::Full).expect("open");
    conformance::a_fresh_store_is_ready(&store);
    let conn = rusqlite::Connection::open(&path).expect("open");
    let current: i64 = conn.query_row("pragma user_version", [], |r| r.get(0)).expect("version");
    // A newer Settle migrated the file under this one: this build cannot vouch for it.
    conn.execute_batch(&format!("pragma user_version = {}", current + 1)).expect("set");
    let Err(StoreError::Unavailable(why)) = store.check_ready() else {
        panic!("a schema past this build's migrations is not ready");
    };
    assert_eq!(
        why.to_string(),
        format!("the schema is at migration {}; this Settle runs {current}", current + 1)
    );
    conn.execute_batch(&format!("pragma user_version = {current}")).expect("set back");
    store.check_ready().expect("ready again");
}

#[test]
fn a_transaction_dropped_without_commit_leaves_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::a_transaction_dropped_without_commit_leaves_nothing(&store);
}

#[test]
fn a_savepoint_undoes_one_unit_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::a_savepoint_undoes_one_unit_and_keeps_the_rest(&store);
}

#[test]
fn a_posted_document_is_answered_as_a_read_finds_it() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::a_posted_document_is_answered_as_a_read_finds_it(Arc::new(store));
}

#[test]
fn a_read_of_one_flight_finds_what_a_read_transaction_finds() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::a_read_of_one_flight_finds_what_a_read_transaction_finds(Arc::new(store));
}

#[test]
fn settings_read_after_a_customer_lock_are_the_tenants_as_they_stand() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::settings_read_after_a_customer_lock_are_the_tenants_as_they_stand(&store);
}

#[test]
fn a_replay_answers_the_saved_response_whichever_way_the_command_goes() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::a_replay_answers_the_saved_response_whichever_way_the_command_goes(Arc::new(
        store,
    ));
}

#[test]
fn document_numbers_are_unique_under_concurrency() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::document_numbers_are_unique_under_concurrency(Arc::new(store));
}

#[test]
fn an_idempotency_key_is_saved_once() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::an_idempotency_key_is_saved_once(&store);
}

#[test]
fn expired_idempotency_keys_are_pruned_in_batches_and_removed_by_key() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::expired_idempotency_keys_are_pruned_in_batches_and_removed_by_key(&store);
}

#[test]
fn the_journal_feed_pages_with_a_cursor_that_is_never_null() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open");
    conformance::the_journal_feed_pages_with_a_cursor_that_is_never_null(Arc::new(store));
}

#[test]
fn the_database_refuses_an_item_balance_past_zero() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    workload(&engine(&path, 1));
    let conn = rusqlite::Connection::open(&path).expect("open");
    let err = conn
        .execute("update document_item set balance_minor = -1 where amount_minor > 0", [])
        .expect_err("check constraint");
    assert!(err.to_string().contains("CHECK"), "{err}");
}

#[test]
fn opening_twice_runs_migrations_once_and_a_bad_file_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    drop(SqliteStore::open(&path, Durability::Full).expect("first"));
    drop(SqliteStore::open(&path, Durability::Normal).expect("second"));
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database, just text that is long enough").expect("write");
    assert!(matches!(SqliteStore::open(&junk, Durability::Full), Err(StoreError::Unavailable(_))));
}

#[test]
fn sums_over_many_maximal_amounts_are_exact() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settle.db");
    let store = SqliteStore::open(&path, Durability::Full).expect("open");
    let conn = || rusqlite::Connection::open(&path).expect("open");
    let now = "2026-03-01T09:00:00.000000Z";
    let postings = |tenant: &TenantId, customer: &CustomerId, document: &DocumentId, count: u32| {
        let mut conn = conn();
        let tx = conn.transaction().expect("begin");
        tx.execute(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1) \
             insert into journal_txn (txn_id, tenant_id, customer_id, kind, effective_date, \
             description, subject_id, created_at) \
             select printf('txn_many%07d', i), ?2, ?3, 'items_netted', '2026-03-01', 'Many', \
             null, ?4 from n",
            rusqlite::params![count, tenant.as_str(), customer.as_str(), now],
        )
        .expect("transactions");
        tx.execute(
            "insert into posting (txn_id, idx, tenant_id, customer_id, account, side, \
             amount_minor, currency, document_id, item_id, payment_id, application_id, \
             created_at) \
             select j.txn_id, s.idx, j.tenant_id, j.customer_id, 'receivable', s.side, ?1, 'USD', \
             ?2, null, null, null, j.created_at \
             from journal_txn j, (select 0 as idx, 'debit' as side union all \
             select 1, 'credit') s where j.txn_id like 'txn_many%'",
            rusqlite::params![conformance::MAX_AMOUNT_MINOR, document.as_str()],
        )
        .expect("postings");
        tx.commit().expect("commit");
    };
    let account_totals = |tenant: &TenantId, count: u32| {
        let mut conn = conn();
        let tx = conn.transaction().expect("begin");
        tx.execute(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1) \
             insert into customer (customer_id, tenant_id, name, name_lower, email, \
             email_lower, currency, payment_terms_days, metadata, receivable_minor, \
             unapplied_payments_minor, credit_memo_balance_minor, credit_balance_minor, \
             balance_minor, created_at) \
             select printf('cus_many%07d', i), ?2, 'Many', 'many', null, null, 'USD', 30, '{}', \
             0, 0, 0, 0, 0, ?3 from n",
            rusqlite::params![count, tenant.as_str(), now],
        )
        .expect("customers");
        tx.execute(
            "insert into customer_account (tenant_id, customer_id, account, currency, \
             debit_minor, credit_minor, created_at) \
             select c.tenant_id, c.customer_id, s.account, 'USD', s.debit * ?1, s.credit * ?1, ?3 \
             from customer c, (select 'receivable' as account, 1 as debit, 0 as credit \
             union all select 'revenue', 0, 1) s where c.tenant_id = ?2",
            rusqlite::params![conformance::MAX_AMOUNT_MINOR, tenant.as_str(), now],
        )
        .expect("account totals");
        tx.commit().expect("commit");
    };
    conformance::sums_over_many_maximal_amounts_are_exact(
        Arc::new(store),
        &conformance::ManyRows { postings: &postings, account_totals: &account_totals },
    );
}

/// A fresh store in `dir`.
fn fresh(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("settle.db"), Durability::Full).expect("open")
}

#[test]
fn tenants_keep_their_settings_in_creation_order() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::tenants_keep_their_settings_in_creation_order(&fresh(&dir));
}

#[test]
fn api_keys_are_found_by_hash_and_revoked_once() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::api_keys_are_found_by_hash_and_revoked_once(&fresh(&dir));
}

#[test]
fn external_ids_are_unique_per_tenant_and_kind() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::external_ids_are_unique_per_tenant_and_kind(&fresh(&dir));
}

#[test]
fn customer_lists_sort_by_bytes_and_cursors_round_trip() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::customer_lists_sort_by_bytes_and_cursors_round_trip(&fresh(&dir));
}

#[test]
fn attention_reads_what_needs_a_person() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::attention_reads_what_needs_a_person(&fresh(&dir));
}

#[test]
fn document_lists_filter_by_kind_customer_status_and_balance() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::document_lists_filter_by_kind_customer_status_and_balance(&fresh(&dir));
}

#[test]
fn payment_lists_filter_by_customer_and_unapplied() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::payment_lists_filter_by_customer_and_unapplied(&fresh(&dir));
}

#[test]
fn application_lists_filter_by_customer_source_and_target() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::application_lists_filter_by_customer_source_and_target(&fresh(&dir));
}

#[test]
fn history_lists_newest_first_per_customer() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::history_lists_newest_first_per_customer(&fresh(&dir));
}

#[test]
fn records_read_back_as_written_and_updated() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::records_read_back_as_written_and_updated(&fresh(&dir));
}

#[test]
fn the_database_refuses_what_breaks_the_ledger() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::the_database_refuses_what_breaks_the_ledger(&fresh(&dir));
}

#[test]
fn the_journal_is_append_only_and_sums_by_date() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::the_journal_is_append_only_and_sums_by_date(&fresh(&dir));
}

#[test]
fn the_feed_holds_every_commit_after_await_feed() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::the_feed_holds_every_commit_after_await_feed(&fresh(&dir));
}

#[test]
fn a_second_writer_on_a_customer_waits_until_the_first_commits() {
    let dir = tempfile::tempdir().expect("dir");
    // Writers queue on the one writer connection, which shows no waiting session to look for:
    // the first writer gives the second a moment in which it must not get the lock.
    let a_moment = || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        true
    };
    conformance::a_second_writer_on_a_customer_waits_until_the_first_commits(
        &fresh(&dir),
        &a_moment,
    );
}

#[test]
fn staff_users_are_found_by_live_email_and_removed_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::staff_users_are_found_by_live_email_and_removed_once(&fresh(&dir));
}

#[test]
fn staff_sessions_are_found_by_hash_touched_and_ended_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::staff_sessions_are_found_by_hash_touched_and_ended_once(&fresh(&dir));
}

#[test]
fn sign_in_failures_are_listed_per_email_cleared_and_pruned() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::sign_in_failures_are_listed_per_email_cleared_and_pruned(&fresh(&dir));
}

#[test]
fn payment_links_are_found_by_hash_listed_newest_first_and_revoked_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::payment_links_are_found_by_hash_listed_newest_first_and_revoked_once(&fresh(&dir));
}

#[test]
fn api_keys_are_listed_per_tenant_oldest_first() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::api_keys_are_listed_per_tenant_oldest_first(&fresh(&dir));
}

#[test]
fn staff_user_roles_change_for_live_users_of_the_tenant() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::staff_user_roles_change_for_live_users_of_the_tenant(&fresh(&dir));
}

#[test]
fn products_and_prices_read_back_list_by_id_and_archive_once() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::products_and_prices_read_back_list_by_id_and_archive_once(&fresh(&dir));
}

#[test]
fn subscriptions_read_back_list_and_are_found_when_due() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::subscriptions_read_back_list_and_are_found_when_due(&fresh(&dir));
}

#[test]
fn a_batch_locks_its_customers_and_reads_their_subscriptions_together() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::a_batch_locks_its_customers_and_reads_their_subscriptions_together(&fresh(&dir));
}

#[test]
fn a_period_is_invoiced_once_and_lines_and_amendments_read_back() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::a_period_is_invoiced_once_and_lines_and_amendments_read_back(&fresh(&dir));
}

#[test]
fn bill_runs_read_back_as_last_written() {
    let dir = tempfile::tempdir().expect("dir");
    conformance::bill_runs_read_back_as_last_written(&fresh(&dir));
}

#[test]
fn document_numbers_stay_unique_and_increasing_across_customers() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::document_numbers_stay_unique_and_increasing_across_customers(Arc::new(fresh(
        &dir,
    )));
}

#[test]
fn customer_search_finds_substrings_of_name_or_email_at_every_length() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::customer_search_finds_substrings_of_name_or_email_at_every_length(&fresh(&dir));
}

#[test]
fn a_search_by_number_finds_exactly_the_customers_that_hold_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::a_search_by_number_finds_exactly_the_customers_that_hold_it(&fresh(&dir));
}

#[test]
fn the_search_index_merges_into_one_segment() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::the_search_index_merges_into_one_segment_and_finds_the_same(&fresh(&dir), true);
}

#[test]
fn peeking_at_the_next_number_takes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::peeking_at_the_next_number_takes_nothing(&fresh(&dir));
}

#[test]
fn a_unit_opens_with_its_lock_settings_number_and_saved_response() {
    let dir = tempfile::tempdir().expect("temp dir");
    conformance::a_unit_opens_with_its_lock_settings_number_and_saved_response(&fresh(&dir));
}

#[test]
fn numbers_drawn_ahead_and_not_used_are_taken_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = fresh(&dir);
    // The counter is part of the transaction: no gap, even before the first number.
    assert_eq!(
        conformance::numbers_drawn_ahead_increase_and_what_is_given_back_is_never_used_twice(
            &store
        ),
        (7, 1)
    );
}

#[test]
fn concurrent_batches_can_be_open_at_once_and_all_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = fresh(&dir);
    // One writer commits at a time: a second batch would only wait for the first.
    assert_eq!(conformance::concurrent_batches_can_be_open_at_once_and_all_commit(&store), 1);
}

#[test]
fn connections_in_use_are_counted_until_their_transaction_ends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = fresh(&dir);
    conformance::connections_in_use_are_counted_until_their_transaction_ends(&store);
    assert_eq!(store.connections_in_use(), [("sqlite_readers", 0), ("sqlite_writers_waiting", 0)]);
}

#[test]
fn api_keys_are_confirmed_in_a_transaction() {
    let dir = tempfile::tempdir().expect("tempdir");
    conformance::api_keys_are_confirmed_in_a_transaction(&fresh(&dir));
}
