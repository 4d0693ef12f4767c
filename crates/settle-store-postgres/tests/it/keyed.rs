//! A keyed post looks its key up inside its own transaction, in the flight that begins it
//! and locks the customer, not in a read transaction of its own before it; a replay still
//! answers the saved response, takes no number and changes nothing.

use std::sync::Arc;

use settle_conformance as conformance;
use settle_core::document::{Document, DocumentKind};
use settle_core::ids::{CustomerId, TenantId};
use settle_engine::{Engine, Idempotency, IdempotencyKey, Outcome};
use settle_store::Store;

use super::TestDb;

/// Posts a 3-line invoice of 60.00 under `key`.
fn post_keyed(
    engine: &Engine,
    tenant: &TenantId,
    customer: &CustomerId,
    key: &str,
) -> Outcome<Document> {
    let idempotency = Idempotency {
        tenant_id: tenant.clone(),
        key: IdempotencyKey::parse(key).expect("key"),
        request_hash: "the same request".into(),
        save: Arc::new(conformance::SavedIds),
    };
    let new = super::three_line_invoice(customer);
    engine.idempotent(idempotency, |e| e.create_document(tenant, new)).expect("post")
}

#[test]
fn a_keyed_post_looks_its_key_up_in_its_own_first_flight_and_replays() {
    let Some(db) = TestDb::new("a_keyed_post_looks_its_key_up_in_its_own_first_flight") else {
        return;
    };
    let store = Arc::new(db.open_one_connection());
    let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
    let made = engine.create_tenant("Keyed").expect("tenant");
    let tenant = made.tenant_id;
    engine.authenticate(&made.key).expect("warm-up").expect("the key");
    let before = store.round_trips();
    let caller = engine.authenticate(&made.key).expect("authenticate").expect("the key");
    // One statement outside any transaction: no BEGIN before it, no ROLLBACK after it.
    assert_eq!(store.round_trips() - before, 1, "checking an API key");
    assert_eq!(caller.tenant_id, tenant);
    let customer = engine
        .create_customer(
            &tenant,
            settle_engine::NewCustomer { name: "Keyed".into(), ..Default::default() },
        )
        .expect("customer")
        .id;
    post_keyed(&engine, &tenant, &customer, "warm-up");

    let before = store.round_trips();
    let Outcome::Done(posted) = post_keyed(&engine, &tenant, &customer, "the-key") else {
        panic!("a new key runs the command");
    };
    let trips = store.round_trips() - before;
    // BEGIN with the key's look-up, the customer's lock, the settings and the number; then
    // the writes and the saved response with COMMIT. The look-up in a read transaction of
    // its own before the command took two more (its read and its rollback), the lock and the
    // number one each after the look-up, and the saved response sent on its own one more.
    assert_eq!(trips, 2, "a keyed post of a 3-line invoice");

    let Outcome::Replayed(saved) = post_keyed(&engine, &tenant, &customer, "the-key") else {
        panic!("the same key and request replay");
    };
    assert_eq!((saved.status, saved.body), (201, posted.id.to_string()));
    let mut tx = store.begin_write().expect("begin");
    let next = tx.peek_number(&tenant, DocumentKind::Invoice).expect("peek");
    assert_eq!(next, 3, "the warm-up took 1, the keyed post 2, the replay none");
    drop(tx);
    let owed = engine.customer(&tenant, &customer).expect("customer").balances.receivable;
    assert_eq!(owed, 12_000, "two invoices of 60.00: the warm-up and the keyed one, not three");
}
