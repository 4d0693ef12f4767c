//! A flight's consecutive writes to different tables go as one statement (`src/join.rs`): a
//! post sends its dozen writes as one, with its commit.

use std::sync::Arc;

use settle_conformance as conformance;
use settle_store::Store;

use super::{TestDb, three_line_invoice};

/// Posting an invoice sends, besides its opening flight, one statement for all its writes and
/// the COMMIT.
#[test]
fn a_posts_writes_go_as_one_statement_with_its_commit() {
    let Some(db) = TestDb::new("a_posts_writes_go_as_one_statement") else {
        return;
    };
    let store = Arc::new(db.open_one_connection());
    let engine = conformance::engine(Arc::clone(&store) as Arc<dyn Store>, 1);
    let tenant = engine.create_tenant("Joined").expect("tenant").tenant_id;
    let customer = engine
        .create_customer(
            &tenant,
            settle_engine::NewCustomer { name: "Counted".into(), ..Default::default() },
        )
        .expect("customer");
    let post = || engine.create_document(&tenant, three_line_invoice(&customer.id)).expect("post");
    post();
    let before = store.statements_sent();
    let invoice = post();
    let sent = store.statements_sent() - before;
    assert_eq!(invoice.items.len(), 3);
    // BEGIN, the lock, the settings and the number; then the ten writes (their rows merged
    // per table) as one statement, and the COMMIT. Each write its own statement made 15.
    assert_eq!(sent, 6, "statements sent for a 3-line invoice");
}
