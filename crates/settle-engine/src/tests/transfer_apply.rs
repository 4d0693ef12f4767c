//! Transfer and apply on demand: a negative invoice's balance goes to the credit balance and on
//! to the oldest open documents in one unit of work, and its preview is what it then does.

use settle_core::money::{Currency, Money};

use super::World;

#[test]
fn a_negative_invoice_pays_the_oldest_open_invoice_and_the_rest_stays_as_credit() {
    let world = World::new();
    let open = world.invoice(&[10_000]);
    let negative = world.invoice(&[5_000, -20_000]);
    let engine = &world.engine;
    let preview = engine
        .preview(|e| e.transfer_and_apply(&world.tenant, &negative.id, None))
        .expect("preview");
    let (document, customer) =
        engine.transfer_and_apply(&world.tenant, &negative.id, None).expect("transfer and apply");
    assert_eq!(document.balance(), Money::new(0, Currency::USD));
    let open = engine.document(&world.tenant, &open.id).expect("open");
    assert_eq!(open.balance(), Money::new(0, Currency::USD));
    assert_eq!(customer.balances.credit_balance, 5_000);
    assert_eq!(customer.balance().minor(), 5_000);
    assert_eq!(preview.credit_balance.after, Money::new(5_000, Currency::USD));
    assert_eq!(preview.customer.after, customer.balance());
    let changed: Vec<_> =
        preview.documents.iter().map(|d| (d.document_id.clone(), d.after.minor())).collect();
    assert_eq!(changed, [(negative.id.clone(), 0), (open.id.clone(), 0)]);
    assert!(engine.verify().expect("verify").is_clean());
}

#[test]
fn transfer_and_apply_refuses_a_document_that_is_not_negative() {
    let world = World::new();
    let invoice = world.invoice(&[10_000]);
    let err = world.engine.transfer_and_apply(&world.tenant, &invoice.id, None).unwrap_err();
    assert!(format!("{err:?}").contains("NotNegative"), "{err:?}");
    assert_eq!(
        world.engine.customer(&world.tenant, &world.customer).expect("c").balances.credit_balance,
        0
    );
}
