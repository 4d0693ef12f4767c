//! Idempotency keys through the engine: whichever way the command goes the second time (a
//! customer's unit, a write outside any unit, a failure before any write, nothing written),
//! a replay answers the saved response and changes nothing.

use std::sync::Arc;

use settle_core::adjustment::Adjustment;
use settle_core::application::Application;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::Document;
use settle_core::error::Rejection;
use settle_core::ids::TenantId;
use settle_core::payment::Payment;
use settle_core::refund::Refund;
use settle_engine::{
    BillingResult, CreatedKey, CreatedPaymentLink, Engine, EngineError, EntryOutcome, Idempotency,
    IdempotencyKey, NewCustomer, Outcome, SaveFailed, SaveResponse, SavedResponse,
};
use settle_store::{CustomerQuery, PageRequest, Store};

/// Saves a document's or a customer's response as its id (status 201), and refuses to save
/// anything else: what the idempotency tests post.
pub struct SavedIds;

impl SaveResponse for SavedIds {
    fn document(&self, document: &Document) -> Result<SavedResponse, SaveFailed> {
        Ok(SavedResponse { status: 201, body: document.id.to_string() })
    }
    fn customer(&self, customer: &Customer) -> Result<SavedResponse, SaveFailed> {
        Ok(SavedResponse { status: 201, body: customer.id.to_string() })
    }
    fn payment(&self, _: &Payment) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn application(&self, _: &Application) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn refund(&self, _: &Refund) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn adjustment(&self, _: &Adjustment) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn entry(&self, _: &HistoryLine, _: &EntryOutcome) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn api_key(&self, _: &CreatedKey) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn payment_link(&self, _: &CreatedPaymentLink) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn transfer(&self, _: &Document, _: &Customer) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
    fn billing(&self, _: BillingResult<'_>) -> Result<SavedResponse, SaveFailed> {
        Err(SaveFailed)
    }
}

fn keyed(tenant: &TenantId, key: &str, request: &str) -> Idempotency {
    Idempotency {
        tenant_id: tenant.clone(),
        key: IdempotencyKey::parse(key).expect("key"),
        request_hash: request.to_owned(),
        save: Arc::new(SavedIds),
    }
}

fn replayed<T: std::fmt::Debug>(outcome: Result<Outcome<T>, EngineError>) -> SavedResponse {
    match outcome {
        Ok(Outcome::Replayed(saved)) => saved,
        other => panic!("a replay, not {other:?}"),
    }
}

/// A keyed post replays its saved response, and so does the same key and request whose command
/// now fails before writing or writes nothing; another request under the key is refused. A
/// keyed customer, made outside any unit, replays without a second customer.
pub fn a_replay_answers_the_saved_response_whichever_way_the_command_goes(store: Arc<dyn Store>) {
    let engine: Engine = crate::engine(store, 1);
    let tenant = engine.create_tenant("Replays").expect("tenant").tenant_id;
    let customer = engine
        .create_customer(&tenant, NewCustomer { name: "Replayed".into(), ..NewCustomer::default() })
        .expect("customer")
        .id;
    let post = |e: &Engine| e.create_document(&tenant, crate::one_line_invoice(&customer, "25.00"));
    let Ok(Outcome::Done(posted)) = engine.idempotent(keyed(&tenant, "post", "the post"), post)
    else {
        panic!("a new key runs the command");
    };
    let saved = SavedResponse { status: 201, body: posted.id.to_string() };
    assert_eq!(replayed(engine.idempotent(keyed(&tenant, "post", "the post"), post)), saved);
    let fails = |_: &Engine| -> Result<(), EngineError> {
        Err(Rejection::NotFound { what: "document", id: "inv_gone".into() }.into())
    };
    assert_eq!(replayed(engine.idempotent(keyed(&tenant, "post", "the post"), fails)), saved);
    let nothing = |_: &Engine| -> Result<(), EngineError> { Ok(()) };
    assert_eq!(replayed(engine.idempotent(keyed(&tenant, "post", "the post"), nothing)), saved);
    assert!(matches!(
        engine.idempotent(keyed(&tenant, "post", "another request"), fails),
        Err(EngineError::IdempotencyKeyReused)
    ));
    let owed = engine.customer(&tenant, &customer).expect("customer").balances.receivable;
    assert_eq!(owed, 2_500, "one invoice of 25.00");

    let make = |e: &Engine| {
        e.create_customer(&tenant, NewCustomer { name: "Once".into(), ..NewCustomer::default() })
    };
    let Ok(Outcome::Done(made)) = engine.idempotent(keyed(&tenant, "make", "the customer"), make)
    else {
        panic!("a new key runs the command");
    };
    let saved = replayed(engine.idempotent(keyed(&tenant, "make", "the customer"), make));
    assert_eq!(saved.body, made.id.to_string());
    let all = engine
        .customers(&tenant, &CustomerQuery::default(), &PageRequest::default())
        .expect("customers");
    assert_eq!(all.rows.iter().filter(|c| c.name == "Once").count(), 1);
}
