//! Previews and stale-page versions: a preview shows exactly what the command then does and
//! writes nothing; a command given an old version is refused and writes nothing.

use settle_core::document::{Document, DocumentKind, DocumentStatus};
use settle_core::error::Rejection;
use settle_core::money::{Currency, Money};
use settle_core::payment::Payment;
use settle_store::{DocumentQuery, PageRequest, PaymentQuery};

use super::World;
use crate::{
    ApplicationTarget, BalanceChange, Engine, EngineError, NewCustomer, NewDocument, NewItem,
    NewPayment, Preview,
};

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

/// Everything a command could change, read through the engine.
#[derive(Debug, PartialEq)]
pub(super) struct Snapshot {
    pub(super) documents: Vec<Document>,
    pub(super) payments: Vec<Payment>,
    pub(super) customer: settle_core::customer::Customer,
    pub(super) journal: usize,
}

impl World {
    pub(super) fn snapshot(&self) -> Snapshot {
        let all = PageRequest { limit: 500, cursor: None };
        let engine = &self.engine;
        let documents =
            engine.documents(&self.tenant, &DocumentQuery::default(), &all).expect("documents");
        let payments =
            engine.payments(&self.tenant, &PaymentQuery::default(), &all).expect("payments");
        let journal = engine.journal(&self.tenant, None, &all).expect("journal").rows.len();
        Snapshot {
            documents: documents.rows,
            payments: payments.rows,
            customer: engine.customer(&self.tenant, &self.customer).expect("customer"),
            journal,
        }
    }

    /// A posted invoice of `amounts`.
    pub(super) fn invoice(&self, amounts: &[i64]) -> Document {
        let items = amounts
            .iter()
            .enumerate()
            .map(|(i, minor)| NewItem {
                description: format!("line {i}"),
                amount: Some(crate::Amount::from(usd(*minor))),
                ..NewItem::default()
            })
            .collect();
        self.engine
            .create_document(
                &self.tenant,
                NewDocument {
                    kind: DocumentKind::Invoice,
                    customer_id: self.customer.clone(),
                    items,
                    invoice_date: None,
                    due_date: None,
                    adjusts_invoice_id: None,
                    reason: None,
                    post: true,
                },
            )
            .expect("invoice")
    }
}

#[test]
fn net_items_preview_shows_each_item_and_writes_nothing() {
    let world = World::new();
    // Seed 003: a document at zero whose items are not.
    let invoice = world.invoice(&[10_000, -10_000]);
    let before = world.snapshot();
    let preview = world
        .engine
        .preview(|e| e.net_items(&world.tenant, &invoice.id))
        .expect("net items can be previewed");
    assert_eq!(world.snapshot(), before, "a preview writes nothing");
    let items: Vec<(String, i64, i64)> = preview
        .items
        .iter()
        .map(|i| (i.description.clone(), i.before.minor(), i.after.minor()))
        .collect();
    assert_eq!(items, vec![("line 0".into(), 10_000, 0), ("line 1".into(), -10_000, 0)]);
    assert_eq!(preview.documents.len(), 1);
    assert_eq!(preview.documents[0].number, invoice.number);
    assert_eq!((preview.documents[0].before, preview.documents[0].after), (usd(0), usd(0)));
    assert_eq!(preview.customer, BalanceChange { before: usd(0), after: usd(0) });
    assert!(preview.payments.is_empty());

    let netted = world.engine.net_items(&world.tenant, &invoice.id).expect("net items");
    let balances: Vec<i64> = netted.items.iter().map(|i| i.balance.minor()).collect();
    assert_eq!(balances, vec![0, 0]);
}

#[test]
fn a_preview_of_transfer_shows_the_credit_balance_and_customer() {
    let world = World::new();
    let invoice = world.invoice(&[-2_500]);
    let preview = world
        .engine
        .preview(|e| e.transfer_to_credit(&world.tenant, &invoice.id, None))
        .expect("transfer can be previewed");
    assert_eq!(preview.credit_balance, BalanceChange { before: usd(0), after: usd(2_500) });
    assert_eq!(preview.customer, BalanceChange { before: usd(2_500), after: usd(2_500) });
    assert_eq!((preview.documents[0].before, preview.documents[0].after), (usd(-2_500), usd(0)));
    let (_, customer) =
        world.engine.transfer_to_credit(&world.tenant, &invoice.id, None).expect("transfer");
    assert_eq!(customer.balances.credit_balance, 2_500);
}

#[test]
fn a_refused_command_is_refused_the_same_way_in_preview() {
    let world = World::new();
    let invoice = world.invoice(&[1_000]);
    let err = world
        .engine
        .preview(|e| e.transfer_to_credit(&world.tenant, &invoice.id, None))
        .expect_err("a positive invoice is not transferred");
    assert!(matches!(err, EngineError::Rejected(Rejection::NotNegative { .. })), "{err:?}");
}

#[test]
fn only_commands_with_a_unit_of_work_can_be_previewed_and_none_commits() {
    let world = World::new();
    let before = world.snapshot();
    let err = world
        .engine
        .preview(|e| {
            e.create_customer(&world.tenant, NewCustomer { name: "X".into(), ..Default::default() })
        })
        .expect_err("creating a customer is not previewable");
    assert!(matches!(&err, EngineError::Rejected(r) if r.code() == "validation_error"), "{err:?}");
    let all = PageRequest { limit: 500, cursor: None };
    let customers = world
        .engine
        .customers(&world.tenant, &settle_store::CustomerQuery::default(), &all)
        .expect("customers");
    assert_eq!(customers.rows.len(), 1, "nothing was created");
    // Two units in one preview cannot be shown as one before → after.
    let a = world.invoice(&[-100]);
    let b = world.invoice(&[-200]);
    let err = world
        .engine
        .preview(|e| {
            e.transfer_to_credit(&world.tenant, &a.id, None)?;
            e.transfer_to_credit(&world.tenant, &b.id, None)
        })
        .expect_err("two units are refused");
    assert!(matches!(&err, EngineError::Rejected(r) if r.code() == "validation_error"), "{err:?}");
    let now = world.snapshot();
    assert_eq!(now.journal, before.journal + 2, "only the two invoices were written");
}

#[test]
fn apply_preview_shows_the_payment_and_each_item() {
    let world = World::new();
    let invoice = world.invoice(&[6_000, 4_000]);
    let payment = world
        .engine
        .record_payment(
            &world.tenant,
            NewPayment {
                customer_id: world.customer.clone(),
                amount: crate::Amount::from(usd(5_000)),
                method: settle_core::payment::PaymentMethod::Check,
                reference: None,
                effective_date: None,
                applications: Vec::new(),
                description: None,
            },
        )
        .expect("payment");
    let new = crate::NewApplication {
        source: crate::SourceInput::Payment(payment.id.clone()),
        target: ApplicationTarget {
            target_id: invoice.id.clone(),
            amount: Some(crate::Amount::from(usd(5_000))),
            items: None,
            rule: Some(settle_core::application::Rule::Sequential),
        },
        effective_date: None,
    };
    let preview: Preview =
        world.engine.preview(|e| e.apply(&world.tenant, new.clone())).expect("preview");
    let items: Vec<(i64, i64)> =
        preview.items.iter().map(|i| (i.before.minor(), i.after.minor())).collect();
    assert_eq!(items, vec![(6_000, 1_000)], "only the first item moves, oldest first");
    assert_eq!(preview.payments.len(), 1);
    assert_eq!((preview.payments[0].before, preview.payments[0].after), (usd(5_000), usd(0)));
    assert_eq!(preview.customer, BalanceChange { before: usd(-5_000), after: usd(-5_000) });
    world.engine.apply(&world.tenant, new).expect("apply");
    let after = world.engine.document(&world.tenant, &invoice.id).expect("invoice");
    assert_eq!(after.items[0].balance, usd(1_000));
}

#[test]
fn a_stale_version_is_refused_and_nothing_is_written() {
    let world = World::new();
    let invoice = world.invoice(&[-700]);
    let drawn = Engine::document_version(&invoice);
    assert_eq!(drawn.len(), 16);
    // Another clerk charges the item meanwhile: the document changes.
    world
        .engine
        .adjust_item(
            &world.tenant,
            &invoice.id,
            crate::NewAdjustment {
                item_id: invoice.items[0].id.clone(),
                kind: settle_core::adjustment::AdjustmentType::Charge,
                amount: crate::Amount::from(usd(200)),
                reason: "meanwhile".into(),
            },
        )
        .expect("adjust");
    let before = world.snapshot();
    let err = world
        .engine
        .expecting(&invoice.id.to_string(), &drawn)
        .transfer_to_credit(&world.tenant, &invoice.id, None)
        .expect_err("the page is stale");
    assert!(
        matches!(&err, EngineError::Rejected(Rejection::Stale { id }) if *id == invoice.id.to_string()),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{} changed since this page was drawn; reload it", invoice.id)
    );
    assert_eq!(world.snapshot(), before, "nothing was written");
    // A preview is refused the same way.
    let err = world
        .engine
        .expecting(&invoice.id.to_string(), &drawn)
        .preview(|e| e.transfer_to_credit(&world.tenant, &invoice.id, None))
        .expect_err("stale preview");
    assert!(matches!(err, EngineError::Rejected(Rejection::Stale { .. })), "{err:?}");
    // Drawn again, the page is current.
    let current = world.engine.document(&world.tenant, &invoice.id).expect("invoice");
    let version = Engine::document_version(&current);
    assert_ne!(version, drawn);
    let (document, _) = world
        .engine
        .expecting(&invoice.id.to_string(), &version)
        .transfer_to_credit(&world.tenant, &invoice.id, None)
        .expect("current version");
    assert_eq!(document.balance(), usd(0));
    assert_eq!(document.status, DocumentStatus::Posted);
}

#[test]
fn customer_and_payment_versions_follow_their_balances() {
    let world = World::new();
    let customer = world.engine.customer(&world.tenant, &world.customer).expect("customer");
    let drawn = Engine::customer_version(&customer);
    let invoice = world.invoice(&[-300]);
    let err = world
        .engine
        .expecting(&world.customer.to_string(), &drawn)
        .net_items(&world.tenant, &invoice.id)
        .expect_err("the customer's balances changed");
    assert!(matches!(err, EngineError::Rejected(Rejection::Stale { .. })), "{err:?}");
    let err = world
        .engine
        .expecting("not-an-id", "0000000000000000")
        .net_items(&world.tenant, &invoice.id)
        .expect_err("not an id");
    assert!(matches!(&err, EngineError::Rejected(r) if r.code() == "validation_error"), "{err:?}");
}
