//! The property of previews: on random data, for every previewable command, a preview writes
//! nothing and its numbers are exactly what the committed command then shows; a preview refused
//! is a command refused, with the same code.

use proptest::prelude::*;
use settle_core::adjustment::AdjustmentType;
use settle_core::application::Rule;
use settle_core::document::{Document, DocumentStatus};
use settle_core::ids::DocumentId;

use super::preview::Snapshot;
use super::{Op, World, op, text};
use crate::{
    ApplicationTarget, Engine, EngineError, EngineResult, ItemAmountInput, NewAdjustment,
    NewApplication, Preview, SourceInput,
};

/// One previewable command, with indexes into what exists.
#[derive(Debug, Clone)]
enum Previewable {
    Net { invoice: usize },
    Transfer { invoice: usize, percent: Option<i64> },
    Adjust { invoice: usize, item: usize, percent: i64, charge: bool },
    WriteOff { invoice: usize, percent: Option<i64> },
    Void { invoice: usize, reverse: bool },
    Apply { source: usize, invoice: usize, percent: Option<i64>, rule: u8 },
    ApplyItems { source: usize, invoice: usize, percents: Vec<i64> },
}

fn previewable() -> impl Strategy<Value = Previewable> {
    // Amounts are percents of what the command could move, so most are accepted and some are
    // too much.
    let cents = || prop::option::of(1_i64..=110);
    prop_oneof![
        (0_usize..8).prop_map(|invoice| Previewable::Net { invoice }),
        (0_usize..8, cents())
            .prop_map(|(invoice, percent)| Previewable::Transfer { invoice, percent }),
        (0_usize..8, 0_usize..6, 1_i64..=110, any::<bool>()).prop_map(
            |(invoice, item, percent, charge)| Previewable::Adjust {
                invoice,
                item,
                percent,
                charge
            }
        ),
        (0_usize..8, cents())
            .prop_map(|(invoice, percent)| Previewable::WriteOff { invoice, percent }),
        (0_usize..8, any::<bool>())
            .prop_map(|(invoice, reverse)| Previewable::Void { invoice, reverse }),
        (0_usize..12, 0_usize..8, cents(), 0_u8..3).prop_map(|(source, invoice, percent, rule)| {
            Previewable::Apply { source, invoice, percent, rule }
        }),
        (0_usize..12, 0_usize..8, prop::collection::vec(-100_i64..=100, 1..6)).prop_map(
            |(source, invoice, percents)| Previewable::ApplyItems { source, invoice, percents }
        ),
    ]
}

type Command = Box<dyn Fn(&Engine) -> EngineResult<()>>;

impl World {
    /// A source by index: payments, then credit memos, then the credit balance.
    fn source(&self, idx: usize) -> SourceInput {
        let (payments, memos) = (self.payments.len(), self.memos.len());
        let idx = idx % (payments + memos + 1);
        if idx < payments {
            SourceInput::Payment(self.payments[idx].clone())
        } else if idx < payments + memos {
            SourceInput::CreditMemo(self.memos[idx - payments].clone())
        } else {
            SourceInput::CreditBalance
        }
    }

    /// An invoice by index, among those `fits` (the command could act on) when there are any,
    /// so that most commands are accepted and refusals are still tried.
    fn document_at(&self, idx: usize, fits: impl Fn(&Document) -> bool) -> Option<Document> {
        let all: Vec<Document> = self
            .invoices
            .iter()
            .map(|id| self.engine.document(&self.tenant, id).expect("document"))
            .collect();
        let fitting: Vec<Document> = all.iter().filter(|d| fits(d)).cloned().collect();
        Self::pick(if fitting.is_empty() { &all } else { &fitting }, idx)
    }

    /// The command `op` names, to run once as a preview and once for real.
    fn command(&self, op: &Previewable) -> Option<Command> {
        let open = |d: &Document| {
            d.status == DocumentStatus::Posted && d.items.iter().any(|i| !i.balance.is_zero())
        };
        let tenant = self.tenant.clone();
        let apply = move |source: SourceInput, target: ApplicationTarget| -> Command {
            let new = NewApplication { source, target, effective_date: None };
            Box::new(move |e: &Engine| e.apply(&tenant, new.clone()).map(drop))
        };
        let tenant = self.tenant.clone();
        Some(match op.clone() {
            Previewable::Net { invoice } => {
                let mixed = |d: &Document| {
                    d.items.iter().any(|i| i.balance.is_negative())
                        && d.items.iter().any(|i| i.balance.is_positive())
                };
                let id = self.document_at(invoice, mixed)?.id;
                Box::new(move |e: &Engine| e.net_items(&tenant, &id).map(drop))
            }
            Previewable::Transfer { invoice, percent } => {
                let negative = |d: &Document| d.balance().is_negative();
                let document = self.document_at(invoice, negative)?;
                let amount = percent.map(|p| text(share(-document.balance().minor(), p)));
                Box::new(move |e: &Engine| {
                    e.transfer_to_credit(&tenant, &document.id, amount.clone()).map(drop)
                })
            }
            Previewable::Adjust { invoice, item, percent, charge } => {
                let document = self.document_at(invoice, open)?;
                let item = &document.items[item % document.items.len()];
                let new = NewAdjustment {
                    item_id: item.id.clone(),
                    kind: if charge { AdjustmentType::Charge } else { AdjustmentType::Credit },
                    amount: text(share(item.balance.minor().abs(), percent)),
                    reason: "property".into(),
                };
                Box::new(move |e: &Engine| {
                    e.adjust_item(&tenant, &document.id, new.clone()).map(drop)
                })
            }
            Previewable::WriteOff { invoice, percent } => {
                let document = self.document_at(invoice, open)?;
                let amount = percent.map(|p| text(share(document.balance().minor(), p)));
                Box::new(move |e: &Engine| {
                    e.write_off(&tenant, &document.id, amount.clone(), None).map(drop)
                })
            }
            Previewable::Void { invoice, reverse } => {
                let id = self.document_at(invoice, open)?.id;
                Box::new(move |e: &Engine| e.void_document(&tenant, &id, reverse).map(drop))
            }
            Previewable::Apply { source, invoice, percent, rule } => {
                let document = self.document_at(invoice, open)?;
                let rule = [Rule::Proration, Rule::Sequential, Rule::NetFirst][usize::from(rule)];
                let target = ApplicationTarget {
                    target_id: document.id.clone(),
                    amount: percent.map(|p| text(share(document.balance().minor(), p))),
                    items: None,
                    rule: Some(rule),
                };
                apply(self.source(source), target)
            }
            Previewable::ApplyItems { source, invoice, percents } => {
                let document = self.document_at(invoice, open)?;
                let items = document
                    .items
                    .iter()
                    .zip(percents.iter().cycle())
                    .map(|(item, pct)| ItemAmountInput {
                        item_id: item.id.clone(),
                        amount: text(item.balance.minor() * pct / 100),
                        credit_memo_item_id: None,
                    })
                    .collect();
                let target = ApplicationTarget {
                    target_id: document.id,
                    amount: None,
                    items: Some(items),
                    rule: None,
                };
                apply(self.source(source), target)
            }
        })
    }

    /// Previews `op`, checks nothing was written, commits it, and checks the preview against
    /// what the engine then shows.
    fn preview_and_commit(&mut self, op: &Previewable) {
        let Some(command) = self.command(op) else { return };
        let before = self.snapshot();
        let previewed = self.engine.preview(|e| command(e));
        assert_eq!(self.snapshot(), before, "{op:?}: a preview writes nothing");
        let committed = command(&self.engine);
        match (previewed, committed) {
            (Ok(preview), Ok(())) => check(op, &preview, &before, &self.snapshot()),
            (Err(EngineError::Rejected(p)), Err(EngineError::Rejected(c))) => {
                // The same refusal; its text may name an object the command made (a write-off's
                // credit memo), whose id is drawn afresh each time.
                assert_eq!(p.code(), c.code(), "{op:?}: refused alike: {p} / {c}");
                assert_eq!(self.snapshot(), before, "{op:?}: a refusal writes nothing");
            }
            (previewed, committed) => {
                panic!("{op:?}: preview {previewed:?} but command {committed:?}")
            }
        }
        // Later commands may use what this one made.
        for document in self.snapshot().documents {
            let known = self.invoices.contains(&document.id) || self.memos.contains(&document.id);
            if !known && document.kind == settle_core::document::DocumentKind::CreditMemo {
                self.memos.push(document.id);
            }
        }
    }
}

/// `percent` % of `minor`, at least one minor unit.
fn share(minor: i64, percent: i64) -> i64 {
    (minor * percent / 100).max(1)
}

/// Every number of `preview` against the state before and after the committed command; every
/// document, item and payment it does not list is unchanged.
fn check(op: &Previewable, preview: &Preview, before: &Snapshot, after: &Snapshot) {
    let old = |id: &DocumentId| before.documents.iter().find(|d| d.id == *id);
    for document in &after.documents {
        let listed = match old(&document.id) {
            Some(_) => preview.documents.iter().find(|c| c.document_id == document.id),
            None => preview.documents.iter().find(|c| c.created && c.number == document.number),
        };
        let Some(change) = listed else {
            assert_eq!(Some(document), old(&document.id), "{op:?}: an unlisted document changed");
            continue;
        };
        assert_eq!(change.after, document.balance(), "{op:?}: {} after", document.number);
        assert_eq!(change.status_after, document.status, "{op:?}: {} status", document.number);
        assert_eq!(change.kind, document.kind);
        let was = old(&document.id);
        assert_eq!(change.created, was.is_none(), "{op:?}: {} created", document.number);
        if let Some(was) = was {
            assert_eq!(change.before, was.balance(), "{op:?}: {} before", document.number);
            assert_eq!(change.status_before, was.status);
            for item in &document.items {
                let item_before = was.item(&item.id).expect("items stay").balance;
                match preview.items.iter().find(|i| i.item_id == item.id) {
                    Some(i) => {
                        assert_eq!((i.before, i.after), (item_before, item.balance), "{op:?}");
                        assert_eq!(i.document_id, document.id);
                    }
                    None => assert_eq!(item_before, item.balance, "{op:?}: unlisted item moved"),
                }
            }
        }
    }
    let listed = preview.documents.iter().filter(|c| !c.created);
    assert!(listed.clone().all(|c| old(&c.document_id).is_some()), "{op:?}: listed ids exist");
    for payment in &after.payments {
        let was = before.payments.iter().find(|p| p.id == payment.id).expect("no new payment");
        match preview.payments.iter().find(|p| p.payment_id == payment.id) {
            Some(change) => {
                assert_eq!((change.before, change.after), (was.unapplied, payment.unapplied));
                assert_eq!(
                    (change.status_before, change.status_after),
                    (was.status, payment.status)
                );
            }
            None => assert_eq!(was, payment, "{op:?}: an unlisted payment changed"),
        }
    }
    assert_eq!(preview.customer.before, before.customer.balance(), "{op:?}: customer before");
    assert_eq!(preview.customer.after, after.customer.balance(), "{op:?}: customer after");
    let credit = |s: &Snapshot| s.customer.balances.credit_balance;
    assert_eq!(preview.credit_balance.before.minor(), credit(before), "{op:?}");
    assert_eq!(preview.credit_balance.after.minor(), credit(after), "{op:?}");
}

fn cases() -> u32 {
    std::env::var("SETTLE_PREVIEW_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn a_preview_equals_what_the_committed_command_then_shows(
        invoices in prop::collection::vec(prop::collection::vec(-15_000_i64..20_000, 1..4), 3..6),
        payments in prop::collection::vec(1_i64..30_000, 1..4),
        setup in prop::collection::vec(op(), 8),
        steps in prop::collection::vec((previewable(), prop::collection::vec(op(), 0..3)), 12),
    ) {
        let mut world = World::new();
        for items in &invoices {
            let id = world.invoice(items).id;
            world.invoices.push(id);
        }
        for cents in &payments {
            world.run(&Op::Pay { cents: *cents, apply_to: None });
        }
        for op in &setup {
            world.run(op);
        }
        for (previewable, between) in &steps {
            world.preview_and_commit(previewable);
            for op in between {
                world.run(op);
            }
        }
        let report = world.engine.verify().expect("verify");
        prop_assert!(report.is_clean(), "verify: {:#?}", report.differences);
    }
}
