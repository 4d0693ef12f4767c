//! Write-offs of invoices whose items have mixed signs: the credit memo the write-off makes
//! must carry whatever the spread over items asks of it, whole or partial.

use proptest::prelude::*;
use settle_core::document::Document;
use settle_core::money::{Currency, Money};

use super::World;

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn item_balances(document: &Document) -> Vec<i64> {
    document.items.iter().map(|i| i.balance.minor()).collect()
}

impl World {
    fn balance_now(&self) -> i64 {
        self.engine.customer(&self.tenant, &self.customer).expect("customer").balance().minor()
    }

    fn reread(&self, document: &Document) -> Document {
        self.engine.document(&self.tenant, &document.id).expect("document")
    }
}

#[test]
fn a_mixed_sign_invoice_is_written_off_whole() {
    let world = World::new();
    let invoice = world.invoice(&[20_000, -6_085]);
    assert_eq!(world.balance_now(), -13_915);
    let memo = world.engine.write_off(&world.tenant, &invoice.id, None, None).expect("write-off");
    assert_eq!(memo.balance(), usd(0), "the write-off memo is used up");
    let invoice = world.reread(&invoice);
    assert_eq!(item_balances(&invoice), vec![0, 0]);
    assert_eq!(invoice.balance(), usd(0));
    assert_eq!(world.balance_now(), 0);
    let report = world.engine.verify().expect("verify");
    assert!(report.is_clean(), "{:#?}", report.differences);
}

#[test]
fn a_mixed_sign_invoice_is_written_off_in_part() {
    let world = World::new();
    let invoice = world.invoice(&[20_000, -6_085]);
    let memo = world
        .engine
        .write_off(&world.tenant, &invoice.id, Some(crate::Amount::from(usd(10_000))), None)
        .expect("partial write-off");
    assert_eq!(memo.balance(), usd(0));
    let invoice = world.reread(&invoice);
    // Net first: the negative line is cleared against the positive one, then 100.00 is paid.
    assert_eq!(item_balances(&invoice), vec![3_915, 0]);
    assert_eq!(world.balance_now(), -3_915);
    assert!(world.engine.verify().expect("verify").is_clean());
}

#[test]
fn a_user_credit_memo_of_one_line_applies_net_first_to_a_mixed_invoice() {
    // The same spread from a credit memo a clerk made by hand: one line of 139.15.
    let world = World::new();
    let invoice = world.invoice(&[20_000, -6_085]);
    let memo = world
        .engine
        .create_credit_memo(
            &world.tenant,
            crate::NewCreditMemo {
                customer_id: world.customer.clone(),
                items: vec![crate::NewCreditItem {
                    description: Some("Goodwill".into()),
                    amount: crate::Amount::from(usd(13_915)),
                    invoice_item_id: None,
                }],
                reason: None,
                from_invoice_id: None,
                post: true,
                invoice_date: None,
            },
        )
        .expect("credit memo");
    world
        .engine
        .apply(
            &world.tenant,
            crate::NewApplication {
                source: crate::SourceInput::CreditMemo(memo.id.clone()),
                target: crate::ApplicationTarget {
                    target_id: invoice.id.clone(),
                    amount: None,
                    items: None,
                    rule: Some(settle_core::application::Rule::NetFirst),
                },
                effective_date: None,
            },
        )
        .expect("apply");
    assert_eq!(item_balances(&world.reread(&invoice)), vec![0, 0]);
    assert_eq!(world.reread(&memo).balance(), usd(0));
    assert_eq!(world.balance_now(), 0);
    assert!(world.engine.verify().expect("verify").is_clean());
}

/// Invoices of two to five lines, each between −500.00 and 500.00 and not zero, whose total is
/// positive.
fn mixed_invoice() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(prop_oneof![-50_000i64..=-1, 1i64..=50_000], 2..=5)
        .prop_filter("a positive balance", |lines| lines.iter().sum::<i64>() > 0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_write_off_of_any_open_invoice_succeeds_and_moves_the_balance_exactly(
        lines in mixed_invoice(),
        share in 1u32..=100,
    ) {
        let world = World::new();
        let invoice = world.invoice(&lines);
        let total: i64 = lines.iter().sum();
        // share 100 writes off the whole balance; less, a part of it (at least one cent).
        let amount = (total * i64::from(share) / 100).max(1);
        let before = world.balance_now();
        let given = (share < 100).then(|| crate::Amount::from(usd(amount)));
        let memo = world.engine.write_off(&world.tenant, &invoice.id, given, None);
        let memo = memo.map_err(|e| TestCaseError::fail(format!("{lines:?} {amount}: {e:?}")))?;
        prop_assert_eq!(memo.balance(), usd(0));
        let after = world.reread(&invoice);
        prop_assert_eq!(after.balance().minor(), total - amount);
        if share == 100 {
            prop_assert!(after.items.iter().all(|i| i.balance.is_zero()), "{:?}", item_balances(&after));
        }
        prop_assert_eq!(world.balance_now(), before + amount);
        let report = world.engine.verify().expect("verify");
        prop_assert!(report.is_clean(), "verify: {:#?}", report.differences);
    }
}
