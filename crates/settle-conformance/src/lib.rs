//! The store conformance suite: each function is one test of the storage port's promises, and
//! every adapter's integration tests call each of them with a store of its own kind, so SQLite
//! and PostgreSQL are held to one definition (arrow-rs object_store's `integration.rs` idea).
//! Every method of the `Store` and `StoreTx` traits is exercised here (a test of this crate
//! fails otherwise), most of them directly on records built by hand (`fixture.rs`), so the
//! contract is the port's and not the engine's. Checks that need the adapter's own SQL
//! (triggers, migrations, crash recovery) stay in the adapters' test files.

#![warn(missing_docs)]
#![allow(clippy::unwrap_used, reason = "a test suite: a failed step is a failed test")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use settle_core::document::DocumentKind;
use settle_core::ids::{CustomerId, DocumentId, IdGen, TenantId};
use settle_core::ledger::Account;
use settle_core::money::Currency;
use settle_core::payment::PaymentMethod;
use settle_engine::{
    Amount, ApplicationTarget, Clock, Engine, NewCustomer, NewDocument, NewItem, NewPayment,
};
use settle_store::{DocumentQuery, IdempotencyRecord, PageRequest, Store};

mod answers;
mod billing;
mod fixture;
mod keys;
mod ledger;
mod lists;
mod locks;
mod numbers;
mod records;
mod search;
mod staff;
#[cfg(test)]
mod tests;
mod writes;

pub use answers::{
    a_posted_document_is_answered_as_a_read_finds_it,
    a_read_of_one_flight_finds_what_a_read_transaction_finds,
};
pub use billing::{
    a_batch_locks_its_customers_and_reads_their_subscriptions_together,
    a_period_is_invoiced_once_and_lines_and_amendments_read_back,
    bill_runs_read_back_as_last_written, products_and_prices_read_back_list_by_id_and_archive_once,
    subscriptions_read_back_list_and_are_found_when_due,
};
pub use keys::{SavedIds, a_replay_answers_the_saved_response_whichever_way_the_command_goes};
pub use ledger::{
    the_feed_holds_every_commit_after_await_feed, the_journal_is_append_only_and_sums_by_date,
};
pub use lists::{
    application_lists_filter_by_customer_source_and_target, attention_reads_what_needs_a_person,
    customer_lists_sort_by_bytes_and_cursors_round_trip,
    document_lists_filter_by_kind_customer_status_and_balance,
    history_lists_newest_first_per_customer, payment_lists_filter_by_customer_and_unapplied,
};
pub use locks::a_second_writer_on_a_customer_waits_until_the_first_commits;
pub use numbers::{
    a_unit_opens_with_its_lock_settings_number_and_saved_response,
    document_numbers_stay_unique_and_increasing_across_customers,
    numbers_drawn_ahead_increase_and_what_is_given_back_is_never_used_twice,
    peeking_at_the_next_number_takes_nothing,
};
pub use records::{
    api_keys_are_confirmed_in_a_transaction, api_keys_are_found_by_hash_and_revoked_once,
    api_keys_are_listed_per_tenant_oldest_first, external_ids_are_unique_per_tenant_and_kind,
    settings_read_after_a_customer_lock_are_the_tenants_as_they_stand,
    tenants_keep_their_settings_in_creation_order,
};
pub use search::{
    NUMBERED, a_search_by_number_finds_exactly_the_customers_that_hold_it,
    customer_search_finds_substrings_of_name_or_email_at_every_length,
    the_search_index_merges_into_one_segment_and_finds_the_same,
};
pub use staff::{
    payment_links_are_found_by_hash_listed_newest_first_and_revoked_once,
    sign_in_failures_are_listed_per_email_cleared_and_pruned,
    staff_sessions_are_found_by_hash_touched_and_ended_once,
    staff_user_roles_change_for_live_users_of_the_tenant,
    staff_users_are_found_by_live_email_and_removed_once,
};
pub use writes::{
    records_read_back_as_written_and_updated, the_database_refuses_what_breaks_the_ledger,
};

/// A clock pinned at 2026-03-01 09:00 UTC.
pub struct PinnedClock;

impl Clock for PinnedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("a valid time")
    }
}

/// Ids from a counter, so runs are repeatable.
pub struct CountingIds(pub AtomicU64);

impl IdGen for CountingIds {
    fn suffix(&self) -> String {
        format!("{:08}", self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// An engine over `store` whose ids start at `first_id`.
pub fn engine(store: Arc<dyn Store>, first_id: u64) -> Engine {
    Engine::new(store, Arc::new(PinnedClock), Arc::new(CountingIds(AtomicU64::new(first_id))))
}

/// A customer owing 120.00 against a 100.00 payment applied in full: balance −20.00, three
/// journal transactions.
pub fn workload(engine: &Engine) -> (TenantId, CustomerId) {
    let tenant = engine.create_tenant("Store test").expect("tenant").tenant_id;
    let customer = engine
        .create_customer(&tenant, NewCustomer { name: "Durable".into(), ..NewCustomer::default() })
        .expect("customer");
    let invoice =
        engine.create_document(&tenant, one_line_invoice(&customer.id, "120.00")).expect("invoice");
    engine
        .record_payment(
            &tenant,
            NewPayment {
                customer_id: customer.id.clone(),
                amount: amount("100.00"),
                method: PaymentMethod::Ach,
                reference: Some("wire 7".into()),
                effective_date: None,
                applications: vec![ApplicationTarget {
                    target_id: invoice.id,
                    amount: Some(amount("100.00")),
                    items: None,
                    rule: None,
                }],
                description: None,
            },
        )
        .expect("payment");
    (tenant, customer.id)
}

/// Committed writes are there when the store is opened again (a new process), and every
/// projection equals the replay of the journal. `open` opens the same database each call.
pub fn committed_writes_survive_a_reopen_and_replay_exactly(open: &dyn Fn() -> Arc<dyn Store>) {
    let (tenant, customer) = workload(&engine(open(), 1));
    let reopened = engine(open(), 1_000);
    let got = reopened.customer(&tenant, &customer).expect("customer");
    assert_eq!(got.balances.receivable, 2_000);
    assert_eq!(got.balances.unapplied_payments, 0);
    assert_eq!(got.balances.balance(), -2_000);
    let report = reopened.verify().expect("verify");
    assert!(report.is_clean(), "{:#?}", report.differences);
    assert_eq!(report.transactions, 3);
}

/// The connections in use, over every pool, count a transaction's connection while it is open
/// and not after it ends.
pub fn connections_in_use_are_counted_until_their_transaction_ends(store: &dyn Store) {
    let total = || store.connections_in_use().iter().map(|(_, n)| n).sum::<u64>();
    assert!(!store.connections_in_use().is_empty(), "a store names its pools");
    let before = total();
    let read = store.begin_read().expect("read");
    assert_eq!(total(), before + 1);
    let other = store.begin_read().expect("read");
    assert_eq!(total(), before + 2);
    drop(read);
    drop(other);
    assert_eq!(total(), before);
}

/// As many batch write transactions as the store runs side by side
/// (`Store::concurrent_batches`, at least one) can be open at once, each writing, and all commit;
/// answers how many that is.
pub fn concurrent_batches_can_be_open_at_once_and_all_commit(store: &dyn Store) -> usize {
    let batches = store.concurrent_batches();
    assert!(batches >= 1, "at least one batch");
    let now = PinnedClock.now();
    let ids: Vec<TenantId> =
        (0..batches).map(|n| TenantId::parse(&format!("ten_batch{n}")).expect("id")).collect();
    let mut open = Vec::new();
    for id in &ids {
        let mut tx = store.begin_batch_write().expect("begin");
        tx.insert_tenant(id, "Batch", now).expect("insert");
        open.push(tx);
    }
    for tx in open {
        tx.commit().expect("commit");
    }
    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.tenants().expect("tenants"), ids);
    batches
}

/// A store just opened (migrated by this build) is ready to serve.
pub fn a_fresh_store_is_ready(store: &dyn Store) {
    store.check_ready().expect("a fresh store is ready");
}

/// A write transaction dropped without commit leaves nothing behind.
pub fn a_transaction_dropped_without_commit_leaves_nothing(store: &dyn Store) {
    {
        let mut tx = store.begin_write().expect("begin");
        let tenant = TenantId::parse("ten_dropped").expect("id");
        tx.insert_tenant(&tenant, "Dropped", PinnedClock.now()).expect("insert");
    }
    let mut tx = store.begin_read().expect("read");
    assert!(tx.tenants().expect("tenants").is_empty());
}

/// Several units share one (batch) transaction through savepoints: rolling back to one undoes
/// only what came after it (also after a statement failed), releasing one keeps it, and the
/// commit keeps exactly the released units; a batch dropped uncommitted keeps nothing.
pub fn a_savepoint_undoes_one_unit_and_keeps_the_rest(store: &dyn Store) {
    let id = |name: &str| TenantId::parse(name).expect("id");
    let now = PinnedClock.now();
    let mut tx = store.begin_batch_write().expect("begin");
    tx.insert_tenant(&id("ten_spfirst"), "First", now).expect("first");
    tx.savepoint().expect("savepoint");
    tx.insert_tenant(&id("ten_sprefused"), "Refused", now).expect("refused");
    tx.rollback_to_savepoint().expect("rollback to savepoint");
    tx.savepoint().expect("savepoint");
    let duplicate = tx.insert_tenant(&id("ten_spfirst"), "Again", now);
    assert!(duplicate.is_err(), "a second tenant with the same id is refused");
    tx.rollback_to_savepoint().expect("rollback after a failed statement");
    tx.savepoint().expect("savepoint");
    tx.insert_tenant(&id("ten_spkept"), "Kept", now).expect("kept");
    tx.release_savepoint().expect("release");
    tx.commit().expect("commit");
    // A batch write dropped without its commit keeps nothing.
    let mut tx = store.begin_batch_write().expect("begin");
    tx.insert_tenant(&id("ten_spdropped"), "Dropped", now).expect("dropped");
    drop(tx);
    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.tenants().expect("tenants"), vec![id("ten_spfirst"), id("ten_spkept")]);
}

/// Document numbers stay unique and gapless when many writers take them at once.
pub fn document_numbers_are_unique_under_concurrency(store: Arc<dyn Store>) {
    let tenant = TenantId::parse("ten_numbers").expect("id");
    {
        let mut tx = store.begin_write().expect("begin");
        tx.insert_tenant(&tenant, "Numbers", PinnedClock.now()).expect("tenant");
        tx.commit().expect("commit");
    }
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (store, tenant) = (Arc::clone(&store), tenant.clone());
            std::thread::spawn(move || {
                (0..25)
                    .map(|_| {
                        let mut tx = store.begin_write().expect("begin");
                        let n = tx
                            .next_number(&tenant, DocumentKind::Invoice, PinnedClock.now())
                            .expect("number");
                        tx.commit().expect("commit");
                        n
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let numbers: BTreeSet<u64> =
        workers.into_iter().flat_map(|w| w.join().expect("worker")).collect();
    assert_eq!(numbers, (1..=100).collect::<BTreeSet<u64>>());
}

/// The saved response of an idempotency key is found again, and a second record for the same
/// key is refused by the store itself.
pub fn an_idempotency_key_is_saved_once(store: &dyn Store) {
    let tenant = TenantId::parse("ten_keys").expect("id");
    let record = settle_store::IdempotencyRecord {
        tenant_id: tenant.clone(),
        key: "k-1".to_owned(),
        request_hash: "abc".to_owned(),
        status: 201,
        body: "{\"id\":\"cus_1\"}".to_owned(),
        created_at: PinnedClock.now(),
    };
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&tenant, "Keys", PinnedClock.now()).expect("tenant");
    tx.insert_idempotency(&record).expect("save");
    tx.commit().expect("commit");
    let tx = store.begin_write().expect("begin");
    assert!(matches!(
        or_at_commit(tx, |tx| tx.insert_idempotency(&record)),
        Err(settle_store::StoreError::Conflict { .. })
    ));
    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.idempotency(&tenant, "k-1").expect("read"), Some(record));
    assert_eq!(tx.idempotency(&tenant, "k-2").expect("read"), None);
}

/// A saved response made at `created_at`.
fn saved(tenant: &TenantId, key: &str, created_at: DateTime<Utc>) -> IdempotencyRecord {
    IdempotencyRecord {
        tenant_id: tenant.clone(),
        key: key.to_owned(),
        request_hash: format!("hash of {key}"),
        status: 201,
        body: format!("{{\"key\":\"{key}\"}}"),
        created_at,
    }
}

/// Pruning deletes only records saved at or before the instant it is given, oldest first and
/// at most a batch at a time, across tenants; one expired record can be removed by its key.
pub fn expired_idempotency_keys_are_pruned_in_batches_and_removed_by_key(store: &dyn Store) {
    let (first, second) =
        (TenantId::parse("ten_prune1").expect("id"), TenantId::parse("ten_prune2").expect("id"));
    let t0 = PinnedClock.now();
    let minutes = chrono::TimeDelta::minutes;
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&first, "Prune one", t0).expect("tenant");
    tx.insert_tenant(&second, "Prune two", t0).expect("tenant");
    for n in 0..7 {
        let tenant = if n % 2 == 0 { &first } else { &second };
        tx.insert_idempotency(&saved(tenant, &format!("old-{n}"), t0 + minutes(n))).expect("save");
    }
    for n in 0..3 {
        tx.insert_idempotency(&saved(&first, &format!("new-{n}"), t0 + minutes(60 + n)))
            .expect("save");
    }
    tx.commit().expect("commit");

    let expired_at = t0 + minutes(6);
    let mut pruned = Vec::new();
    loop {
        let mut tx = store.begin_write().expect("begin");
        let n = tx.prune_idempotency(expired_at, 3).expect("prune");
        tx.commit().expect("commit");
        pruned.push(n);
        if n < 3 {
            break;
        }
    }
    assert_eq!(pruned, vec![3, 3, 1]);
    let mut tx = store.begin_read().expect("read");
    for n in 0..7 {
        let tenant = if n % 2 == 0 { &first } else { &second };
        assert_eq!(tx.idempotency(tenant, &format!("old-{n}")).expect("read"), None, "old-{n}");
    }
    for n in 0..3 {
        let key = format!("new-{n}");
        let expected = saved(&first, &key, t0 + minutes(60 + n));
        assert_eq!(tx.idempotency(&first, &key).expect("read"), Some(expected));
    }
    drop(tx);

    // By key: only when saved at or before the instant, and then it can be saved again.
    let mut tx = store.begin_write().expect("begin");
    assert!(!tx.remove_expired_idempotency(&first, "new-0", t0 + minutes(59)).expect("remove"));
    assert!(!tx.remove_expired_idempotency(&second, "new-0", t0 + minutes(60)).expect("remove"));
    assert!(tx.remove_expired_idempotency(&first, "new-0", t0 + minutes(60)).expect("remove"));
    let renewed = saved(&first, "new-0", t0 + minutes(120));
    tx.insert_idempotency(&renewed).expect("saved again");
    tx.commit().expect("commit");
    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.idempotency(&first, "new-0").expect("read"), Some(renewed));
    assert!(tx.idempotency(&first, "new-1").expect("read").is_some());
}

/// The tenant's feed: a cursor on every page (on an empty feed too), `has_more` while more can
/// be read, the journal's transactions in order, and polling from the last cursor finds what
/// committed since.
pub fn the_journal_feed_pages_with_a_cursor_that_is_never_null(store: Arc<dyn Store>) {
    let engine = engine(store, 1);
    let empty_tenant = engine.create_tenant("Empty").expect("tenant").tenant_id;
    let page = |cursor: Option<&str>| PageRequest { limit: 2, cursor: cursor.map(str::to_owned) };
    // On PostgreSQL a committed transaction is held back while one that began before it (in
    // any database of the server) is still running; `has_more` says it is there.
    let full_page = |tenant: &TenantId, cursor: Option<&str>| {
        for _ in 0..6_000 {
            let got = engine.journal_feed(tenant, &page(cursor)).expect("feed");
            if got.rows.len() == 2 || !got.has_more {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the feed held committed transactions back for a minute");
    };
    let empty = engine.journal_feed(&empty_tenant, &page(None)).expect("feed");
    assert!(empty.rows.is_empty());
    assert!(!empty.has_more);
    let again = engine.journal_feed(&empty_tenant, &page(Some(&empty.next_cursor))).expect("feed");
    assert!(again.rows.is_empty());
    assert_eq!(again.next_cursor, empty.next_cursor);

    let (tenant, customer) = workload(&engine);
    let journal = engine
        .journal(&tenant, None, &PageRequest { limit: 500, cursor: None })
        .expect("journal")
        .rows;
    let ids = |rows: &[settle_store::StoredTxn]| -> Vec<String> {
        rows.iter().map(|r| r.txn.id().to_string()).collect()
    };
    assert_eq!(journal.len(), 3);
    let first = full_page(&tenant, None);
    assert_eq!(ids(&first.rows), ids(&journal[..2]));
    assert!(first.has_more);
    let second = full_page(&tenant, Some(&first.next_cursor));
    assert_eq!(ids(&second.rows), ids(&journal[2..]));
    assert!(!second.has_more);
    let idle = full_page(&tenant, Some(&second.next_cursor));
    assert!(idle.rows.is_empty());
    assert!(!idle.has_more);
    assert_eq!(idle.next_cursor, second.next_cursor);

    engine
        .record_payment(
            &tenant,
            NewPayment {
                customer_id: customer,
                amount: amount("5.00"),
                method: PaymentMethod::Check,
                reference: None,
                effective_date: None,
                applications: Vec::new(),
                description: None,
            },
        )
        .expect("payment");
    let polled = full_page(&tenant, Some(&idle.next_cursor));
    assert_eq!(polled.rows.len(), 1);
    assert_eq!(polled.rows[0].txn.kind().name(), "payment");
    let bad = engine.journal_feed(&tenant, &page(Some("not a cursor")));
    assert!(
        matches!(bad, Err(settle_engine::EngineError::Store(settle_store::StoreError::BadCursor))),
        "{bad:?}"
    );
}

/// The largest amount a client may send, in minor units (999,999,999,999.99 in USD).
pub const MAX_AMOUNT_MINOR: i64 = settle_core::money::MAX_MINOR;

/// How many maximal amounts the many-rows test writes: enough that their sum passes `i64::MAX`.
pub const MANY_ROWS: u32 = 100_000;

/// Rows an adapter writes with its own SQL for
/// [`sums_over_many_maximal_amounts_are_exact`], far faster than as many commands.
pub struct ManyRows<'a> {
    /// Appends `count` journal transactions of `customer`, effective 2026-03-01, each of two
    /// receivable postings of [`MAX_AMOUNT_MINOR`] USD on `document`, a debit and a credit.
    pub postings: &'a dyn Fn(&TenantId, &CustomerId, &DocumentId, u32),
    /// Inserts `count` USD customers of `tenant`, each with per-customer account totals of
    /// [`MAX_AMOUNT_MINOR`] debited to receivable and credited to revenue.
    pub account_totals: &'a dyn Fn(&TenantId, u32),
}

/// Sums over many rows (trial balance, as-of balances, aging, verify's replay, the startup
/// audit) pass what an `i64` holds and are still answered exactly, never as an error.
pub fn sums_over_many_maximal_amounts_are_exact(store: Arc<dyn Store>, rows: &ManyRows<'_>) {
    let engine = engine(Arc::clone(&store), 1);
    let (tenant, customer) = workload(&engine);
    let as_of = PinnedClock.now().date_naive();
    let invoice = {
        let mut tx = store.begin_read().expect("read");
        let page = PageRequest { limit: 10, cursor: None };
        let documents = tx.documents(&tenant, &DocumentQuery::default(), &page).expect("documents");
        documents.rows[0].id.clone()
    };
    (rows.postings)(&tenant, &customer, &invoice, MANY_ROWS);
    let many = i128::from(MAX_AMOUNT_MINOR) * i128::from(MANY_ROWS);
    assert!(many > i128::from(i64::MAX));

    // The customer's receivable: 120.00 invoiced and 100.00 paid, plus the many pairs.
    let mut tx = store.begin_read().expect("read");
    let totals = tx.customer_account_totals_until(&tenant, &customer, as_of).expect("as of");
    let receivable = totals.iter().find(|t| t.account == Account::Receivable).expect("receivable");
    assert_eq!((receivable.debit, receivable.credit), (many + 12_000, many + 10_000));
    let tenant_totals = tx.account_totals_until(&tenant, as_of).expect("trial balance as of");
    let receivable =
        tenant_totals.iter().find(|t| t.account == Account::Receivable).expect("receivable");
    assert_eq!((receivable.debit, receivable.credit), (many + 12_000, many + 10_000));
    let open = tx.open_documents_until(&tenant, Currency::USD, as_of).expect("open documents");
    assert_eq!(open.iter().map(|d| d.balance).collect::<Vec<_>>(), [2_000]);
    drop(tx);

    let balanced = engine.customer_as_of(&tenant, &customer, as_of).expect("customer as of");
    assert_eq!(balanced.balances.balance(), -2_000);
    let aging = engine.aging_report(&tenant, Some(as_of), None).expect("aging");
    assert_eq!(aging.currencies.len(), 1);
    assert_eq!(aging.currencies[0].totals.total(), 2_000);
    for balance in engine.trial_balance(&tenant, Some(as_of), None).expect("trial balance") {
        assert_eq!(balance.total_debit, balance.total_credit);
    }
    // The pairs were written without their per-customer totals, which verify reports (and
    // only that); it answers rather than failing on the sums.
    let report = engine.verify().expect("verify answers");
    assert_eq!(report.transactions, 3 + usize::try_from(MANY_ROWS).expect("fits"));
    assert!(
        report.differences.iter().all(|d| d.contains("account receivable")),
        "{:#?}",
        report.differences
    );

    // Another tenant with many customers, each at the maximum: the trial balance sums them.
    let crowded = engine.create_tenant("Crowded").expect("tenant").tenant_id;
    (rows.account_totals)(&crowded, MANY_ROWS);
    let balances = engine.trial_balance(&crowded, None, None).expect("trial balance");
    assert_eq!(balances.len(), 1);
    let usd = &balances[0];
    assert_eq!(usd.currency, Currency::USD);
    assert_eq!((usd.total_debit, usd.total_credit), (many, many));
    let by_account: Vec<(Account, i128, i128)> =
        usd.accounts.iter().map(|t| (t.account, t.debit, t.credit)).collect();
    assert_eq!(by_account, [(Account::Receivable, many, 0), (Account::Revenue, 0, many)]);
    assert_eq!(engine.audit_trial_balances().expect("startup audit"), Vec::<String>::new());
}

/// Runs `write` in `tx` and commits, answering the first error: a store may hold a write back
/// and send it with its next read or its commit (PostgreSQL's pipelines them), so a write the
/// database refuses is reported by the call itself or by the commit after it, and then nothing
/// of the transaction is kept.
pub(crate) fn or_at_commit(
    mut tx: Box<dyn settle_store::StoreTx + '_>,
    write: impl FnOnce(&mut dyn settle_store::StoreTx) -> settle_store::StoreResult<()>,
) -> settle_store::StoreResult<()> {
    write(tx.as_mut())?;
    tx.commit()
}

/// A posted invoice for `customer_id` of one line, "Work", of `text` dollars.
pub(crate) fn one_line_invoice(customer_id: &CustomerId, text: &str) -> NewDocument {
    NewDocument {
        kind: DocumentKind::Invoice,
        customer_id: customer_id.clone(),
        items: vec![NewItem {
            description: "Work".into(),
            amount: Some(amount(text)),
            ..NewItem::default()
        }],
        invoice_date: None,
        due_date: None,
        adjusts_invoice_id: None,
        reason: None,
        post: true,
    }
}

/// An ACH payment of `total` (decimal text) from `customer_id`, applied to each of `targets`
/// in turn, each by its own amount.
pub fn applied_payment(
    customer_id: &CustomerId,
    total: &str,
    targets: &[(&DocumentId, &str)],
) -> NewPayment {
    NewPayment {
        customer_id: customer_id.clone(),
        amount: amount(total),
        method: PaymentMethod::Ach,
        reference: None,
        effective_date: None,
        applications: targets
            .iter()
            .map(|(target, applied)| ApplicationTarget {
                target_id: (*target).clone(),
                amount: Some(amount(applied)),
                items: None,
                rule: None,
            })
            .collect(),
        description: None,
    }
}

/// An amount written as decimal text.
fn amount(text: &str) -> Amount {
    Amount::parse(text).expect("a decimal amount")
}
