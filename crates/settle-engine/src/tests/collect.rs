//! Collect and Apply Payments: a new payment and existing credits applied to several documents
//! in one save, all or nothing.

use settle_core::document::DocumentKind;
use settle_core::error::Rejection;
use settle_core::ids::DocumentId;
use settle_core::payment::PaymentMethod;
use settle_store::{ApplicationQuery, PageRequest};

use super::World;
use crate::{
    Amount, ApplicationTarget, Collect, CollectApplication, EngineError, NewDocument, NewItem,
    NewPayment, SourceInput,
};

fn amount(text: &str) -> Amount {
    Amount::parse(text).expect("amount")
}

fn invoice(world: &World, total: &str) -> DocumentId {
    world
        .engine
        .create_document(
            &world.tenant,
            NewDocument {
                kind: DocumentKind::Invoice,
                customer_id: world.customer.clone(),
                items: vec![NewItem {
                    description: "Service".into(),
                    amount: Some(amount(total)),
                    ..NewItem::default()
                }],
                invoice_date: None,
                due_date: None,
                adjusts_invoice_id: None,
                reason: None,
                post: true,
            },
        )
        .expect("invoice")
        .id
}

fn to(target: &DocumentId, cents: &str) -> ApplicationTarget {
    ApplicationTarget {
        target_id: target.clone(),
        amount: Some(amount(cents)),
        items: None,
        rule: None,
    }
}

fn new_payment(total: &str, applications: Vec<ApplicationTarget>) -> NewPayment {
    NewPayment {
        customer_id: super::CustomerId::parse("cus_ignored").expect("id"),
        amount: amount(total),
        method: PaymentMethod::Card,
        reference: Some("Saved without charging".into()),
        effective_date: None,
        applications,
        description: None,
    }
}

/// An existing payment of 80.00 with nothing applied.
fn credit(world: &World) -> settle_core::ids::PaymentId {
    world
        .engine
        .record_payment(&world.tenant, {
            let mut p = new_payment("80.00", Vec::new());
            p.customer_id = world.customer.clone();
            p
        })
        .expect("payment")
        .id
}

fn balance(world: &World, id: &DocumentId) -> String {
    world.engine.document(&world.tenant, id).expect("document").balance().to_string()
}

fn application_count(world: &World) -> usize {
    let query = ApplicationQuery {
        customer_id: Some(world.customer.clone()),
        ..ApplicationQuery::default()
    };
    let page = PageRequest { limit: 100, cursor: None };
    world.engine.applications(&world.tenant, &query, &page).expect("list").rows.len()
}

#[test]
fn one_save_applies_a_new_payment_and_an_existing_credit_to_several_documents() {
    let world = World::new();
    let (first, second) = (invoice(&world, "100.00"), invoice(&world, "50.00"));
    let old = credit(&world);
    let customer = world
        .engine
        .collect(
            &world.tenant,
            Collect {
                customer_id: world.customer.clone(),
                payment: Some(new_payment(
                    "60.00",
                    vec![to(&first, "20.00"), to(&second, "30.00")],
                )),
                applications: vec![CollectApplication {
                    source: SourceInput::Payment(old.clone()),
                    target: to(&first, "80.00"),
                }],
                effective_date: None,
            },
        )
        .expect("collect");
    assert_eq!(balance(&world, &first), "0.00");
    assert_eq!(balance(&world, &second), "20.00");
    assert_eq!(customer.balances.receivable, 2000);
    assert_eq!(customer.balances.unapplied_payments, 1000);
    assert_eq!(
        world.engine.payment(&world.tenant, &old).expect("old").unapplied.to_string(),
        "0.00"
    );
    assert_eq!(application_count(&world), 3);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn a_refused_application_writes_nothing_of_the_save_and_names_its_row() {
    let world = World::new();
    let (first, second) = (invoice(&world, "100.00"), invoice(&world, "50.00"));
    let old = credit(&world);
    let before = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    let err = world
        .engine
        .collect(
            &world.tenant,
            Collect {
                customer_id: world.customer.clone(),
                payment: Some(new_payment("60.00", vec![to(&first, "60.00")])),
                applications: vec![
                    CollectApplication {
                        source: SourceInput::Payment(old.clone()),
                        target: to(&first, "40.00"),
                    },
                    // Past zero: the second invoice owes 50.00.
                    CollectApplication {
                        source: SourceInput::Payment(old.clone()),
                        target: to(&second, "50.01"),
                    },
                ],
                effective_date: None,
            },
        )
        .expect_err("the second application passes zero");
    // Counted after the payment's one application.
    match err {
        EngineError::Rejected(Rejection::InApplication { index: 2, rejection }) => {
            assert_eq!(rejection.code(), "over_application");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(balance(&world, &first), "100.00");
    assert_eq!(balance(&world, &second), "50.00");
    assert_eq!(
        world.engine.payment(&world.tenant, &old).expect("old").unapplied.to_string(),
        "80.00"
    );
    assert_eq!(application_count(&world), 0);
    let after = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    assert_eq!(after.balances, before.balances);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn more_than_a_credit_holds_is_refused_as_insufficient_unapplied() {
    let world = World::new();
    let (first, second) = (invoice(&world, "100.00"), invoice(&world, "50.00"));
    let old = credit(&world);
    let err = world
        .engine
        .collect(
            &world.tenant,
            Collect {
                customer_id: world.customer.clone(),
                payment: None,
                applications: vec![
                    CollectApplication {
                        source: SourceInput::Payment(old.clone()),
                        target: to(&first, "50.00"),
                    },
                    CollectApplication {
                        source: SourceInput::Payment(old.clone()),
                        target: to(&second, "30.01"),
                    },
                ],
                effective_date: None,
            },
        )
        .expect_err("80.01 from a payment of 80.00");
    match err {
        EngineError::Rejected(Rejection::InApplication { index: 1, rejection }) => {
            assert_eq!(rejection.code(), "insufficient_unapplied");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(balance(&world, &first), "100.00");
    assert_eq!(application_count(&world), 0);
}
