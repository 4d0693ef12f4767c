//! What the engine answers for a write is what a read afterwards finds, whichever reads the
//! store saved it (a posted document is answered without reading it back when nothing after
//! its posting touched it).

use std::sync::Arc;

use rust_decimal::Decimal;
use settle_core::document::{Document, DocumentKind};
use settle_core::ids::{DocumentId, TenantId};
use settle_core::payment::PaymentMethod;
use settle_engine::SettingsPatch;
use settle_engine::{Amount, Engine, NewCustomer, NewDocument, NewItem, NewPayment, NewTax};
use settle_store::Store;

fn amount(text: &str) -> Amount {
    Amount::parse(text).expect("amount")
}

fn decimal(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

fn line(text: &str) -> NewItem {
    NewItem {
        description: format!("Line of {text}"),
        amount: Some(amount(text)),
        ..NewItem::default()
    }
}

/// Posts a document and checks that what `create_document` answered is what a read finds.
fn post_and_read(engine: &Engine, tenant: &TenantId, new: NewDocument) -> Document {
    let answered = engine.create_document(tenant, new).expect("post");
    let read = engine.document(tenant, &answered.id).expect("read");
    assert_eq!(answered, read, "the answer to posting {} is what a read finds", answered.id);
    answered
}

/// A posted document is answered as a read finds it, in every shape: amounts; quantities
/// times prices with a tax by rate and one by amount; a debit memo; an adjustment invoice,
/// whose group and group balance are its original's; an invoice that auto-apply pays at once
/// from an unapplied payment; and a draft.
pub fn a_posted_document_is_answered_as_a_read_finds_it(store: Arc<dyn Store>) {
    let engine = crate::engine(store, 1);
    let tenant = engine.create_tenant("Answers").expect("tenant").tenant_id;
    let customer = engine
        .create_customer(&tenant, NewCustomer { name: "Answered".into(), ..NewCustomer::default() })
        .expect("customer");
    let document = |kind, items, adjusts: Option<&DocumentId>, post| NewDocument {
        kind,
        customer_id: customer.id.clone(),
        items,
        invoice_date: None,
        due_date: None,
        adjusts_invoice_id: adjusts.cloned(),
        reason: None,
        post,
    };
    let plain = post_and_read(
        &engine,
        &tenant,
        document(DocumentKind::Invoice, vec![line("10.00"), line("20.01")], None, true),
    );
    assert_eq!(plain.group, vec![plain.id.clone()]);
    let priced = NewItem {
        description: "Hours".into(),
        quantity: Some(decimal("2.50")),
        unit_price: Some(decimal("19.99")),
        taxes: vec![
            NewTax { name: "VAT".into(), rate: Some(decimal("8.25")), amount: None },
            NewTax { name: "Fee".into(), rate: None, amount: Some(amount("1.05")) },
        ],
        ..NewItem::default()
    };
    let taxed =
        post_and_read(&engine, &tenant, document(DocumentKind::Invoice, vec![priced], None, true));
    assert_eq!(taxed.items.len(), 3, "a charge and its two taxes");
    post_and_read(
        &engine,
        &tenant,
        document(DocumentKind::DebitMemo, vec![line("7.00")], None, true),
    );
    let adjustment = post_and_read(
        &engine,
        &tenant,
        document(DocumentKind::Invoice, vec![line("-5.00")], Some(&plain.id), true),
    );
    assert_eq!(adjustment.group, vec![plain.id.clone(), adjustment.id.clone()]);
    assert_eq!(adjustment.group_balance.minor(), 2_501);
    post_and_read(
        &engine,
        &tenant,
        document(DocumentKind::Invoice, vec![line("3.00")], None, false),
    );

    // A customer with 15.00 paid and unapplied; once auto-apply is on, posting an invoice of
    // 40.00 applies the payment to it in the same unit, so the answer is read back.
    let payer = engine
        .create_customer(&tenant, NewCustomer { name: "Payer".into(), ..NewCustomer::default() })
        .expect("customer");
    engine
        .record_payment(
            &tenant,
            NewPayment {
                customer_id: payer.id.clone(),
                amount: amount("15.00"),
                method: PaymentMethod::Ach,
                reference: None,
                effective_date: None,
                applications: Vec::new(),
                description: None,
            },
        )
        .expect("unapplied payment");
    let patch = SettingsPatch { auto_apply_credit: Some(true), ..SettingsPatch::default() };
    engine.update_settings(&tenant, patch).expect("auto-apply on");
    let paid = post_and_read(
        &engine,
        &tenant,
        NewDocument {
            customer_id: payer.id.clone(),
            ..document(DocumentKind::Invoice, vec![line("40.00")], None, true)
        },
    );
    assert_eq!(paid.balance().minor(), 2_500);
}

/// A read of one flight ([`Store::begin_read_flight`]) finds what a read transaction finds: a
/// customer after each write (a post, a payment applied to it), a document with its items
/// and group, and nothing for an unknown id. A transaction begun after it reads and writes
/// as usual on the same store: the one flight left nothing open.
pub fn a_read_of_one_flight_finds_what_a_read_transaction_finds(store: Arc<dyn Store>) {
    let engine = crate::engine(Arc::clone(&store), 1);
    let tenant = engine.create_tenant("One flight").expect("tenant").tenant_id;
    let customer = engine
        .create_customer(&tenant, NewCustomer { name: "Flown".into(), ..NewCustomer::default() })
        .expect("customer")
        .id;
    let both = |what: &str| {
        let mut flight = store.begin_read_flight().expect("one flight");
        let once = flight.customer(&tenant, &customer).expect("read").expect("the customer");
        drop(flight);
        let mut tx = store.begin_read().expect("read");
        let read = tx.customer(&tenant, &customer).expect("read").expect("the customer");
        assert_eq!(once, read, "{what}: the customer read in one flight");
        once
    };
    let invoice = engine
        .create_document(&tenant, crate::one_line_invoice(&customer, "120.00"))
        .expect("invoice");
    assert_eq!(both("after the post").balances.receivable, 12_000);
    let payment = crate::applied_payment(&customer, "50.00", &[(&invoice.id, "50.00")]);
    engine.record_payment(&tenant, payment).expect("payment");
    assert_eq!(both("after the payment").balances.receivable, 7_000);

    let mut flight = store.begin_read_flight().expect("one flight");
    let once = flight.document(&tenant, &invoice.id).expect("read").expect("the invoice");
    drop(flight);
    let read = store.begin_read().expect("read").document(&tenant, &invoice.id).expect("read");
    assert_eq!(Some(once.clone()), read, "the invoice read in one flight");
    assert_eq!((once.balance().minor(), once.group.clone()), (7_000, vec![invoice.id.clone()]));
    let unknown = DocumentId::parse("inv_unknown").expect("id");
    let mut flight = store.begin_read_flight().expect("one flight");
    assert_eq!(flight.document(&tenant, &unknown).expect("read"), None);
    drop(flight);

    let mut tx = store.begin_write().expect("write");
    assert!(tx.customer(&tenant, &customer).expect("read").is_some());
    tx.commit().expect("nothing left open");
    assert_eq!(engine.customer(&tenant, &customer).expect("read").balances.receivable, 7_000);
}
