//! Model tests of the engine: random command sequences against a real SQLite store, with the
//! ledger's invariants checked after every step and a replay of the journal at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use settle_core::application::{Rule, SourceRef};
use settle_core::document::{DocumentKind, DocumentStatus};
use settle_core::ids::{ApplicationId, CustomerId, DocumentId, IdGen, PaymentId, TenantId};
use settle_core::payment::{PaymentMethod, PaymentStatus};
use settle_store::{DocumentQuery, PageRequest, PaymentQuery};
use settle_store_sqlite::{Durability, SqliteStore};

use settle_core::adjustment::AdjustmentType;
use settle_store::ApplicationQuery;

use crate::{
    ApplicationTarget, Clock, Engine, EngineError, EntryKind, ItemAmountInput, NewAdjustment,
    NewApplication, NewCreditItem, NewCreditMemo, NewCustomer, NewDocument, NewEntry, NewItem,
    NewPayment, NewRefund, NewTax, RefundFrom, SourceInput,
};

struct PinnedClock(DateTime<Utc>);

impl Clock for PinnedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock the test moves by hand.
struct HandClock(std::sync::Mutex<DateTime<Utc>>);

impl Clock for HandClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

#[derive(Default)]
struct CountingIds(AtomicU64);

impl IdGen for CountingIds {
    fn suffix(&self) -> String {
        format!("{:08}", self.0.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// One random command, with indexes into what exists so far.
#[derive(Debug, Clone)]
enum Op {
    Invoice { items: Vec<(i64, Option<u8>)>, post: bool },
    Post { invoice: usize },
    Pay { cents: i64, apply_to: Option<usize> },
    Apply { payment: usize, invoice: usize, cents: i64, rule: u8 },
    ApplyItems { payment: usize, invoice: usize, fractions: Vec<i64> },
    Reverse { application: usize, cents: Option<i64> },
    Entry { charge: bool, cents: i64, method: bool },
    Refund { payment: usize, cents: i64 },
    Net { invoice: usize },
    Transfer { invoice: usize },
    Adjust { invoice: usize, item: usize, cents: i64 },
    WriteOff { invoice: usize },
    Void { invoice: usize, reverse: bool },
    VoidPayment { payment: usize },
    Memo { invoice: usize, item: usize, cents: i64, post: bool },
    CancelMemo { memo: usize },
    RefundBalance { cents: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            prop::collection::vec((-5_000_i64..20_000, prop::option::of(0_u8..25)), 1..5),
            prop::bool::weighted(0.8)
        )
            .prop_map(|(items, post)| Op::Invoice { items, post }),
        (0_usize..8).prop_map(|invoice| Op::Post { invoice }),
        (-3_000_i64..30_000, prop::option::of(0_usize..8))
            .prop_map(|(cents, apply_to)| Op::Pay { cents, apply_to }),
        (0_usize..8, 0_usize..8, -5_000_i64..20_000, 0_u8..3).prop_map(
            |(payment, invoice, cents, rule)| Op::Apply { payment, invoice, cents, rule }
        ),
        (0_usize..8, 0_usize..8, prop::collection::vec(-100_i64..=100, 1..6)).prop_map(
            |(payment, invoice, fractions)| Op::ApplyItems { payment, invoice, fractions }
        ),
        (0_usize..8, prop::option::of(1_i64..10_000))
            .prop_map(|(application, cents)| Op::Reverse { application, cents }),
        (any::<bool>(), 1_i64..10_000, any::<bool>())
            .prop_map(|(charge, cents, method)| Op::Entry { charge, cents, method }),
        (0_usize..8, 1_i64..10_000).prop_map(|(payment, cents)| Op::Refund { payment, cents }),
        (0_usize..8).prop_map(|invoice| Op::Net { invoice }),
        (0_usize..8).prop_map(|invoice| Op::Transfer { invoice }),
        (0_usize..8, 0_usize..6, 1_i64..10_000).prop_map(|(invoice, item, cents)| Op::Adjust {
            invoice,
            item,
            cents
        }),
        (0_usize..8).prop_map(|invoice| Op::WriteOff { invoice }),
        (0_usize..8, any::<bool>()).prop_map(|(invoice, reverse)| Op::Void { invoice, reverse }),
        (0_usize..8).prop_map(|payment| Op::VoidPayment { payment }),
        (0_usize..8, 0_usize..6, 1_i64..10_000, any::<bool>())
            .prop_map(|(invoice, item, cents, post)| Op::Memo { invoice, item, cents, post }),
        (0_usize..8).prop_map(|memo| Op::CancelMemo { memo }),
        (1_i64..5_000).prop_map(|cents| Op::RefundBalance { cents }),
    ]
}

fn refund_of(cents: i64) -> NewRefund {
    NewRefund { amount: text(cents), method: None, reference: None, effective_date: None }
}

fn text(cents: i64) -> crate::Amount {
    crate::Amount::from(settle_core::money::Money::new(cents, settle_core::money::Currency::USD))
}

struct World {
    engine: Engine,
    tenant: TenantId,
    customer: CustomerId,
    invoices: Vec<DocumentId>,
    payments: Vec<PaymentId>,
    applications: Vec<ApplicationId>,
    memos: Vec<DocumentId>,
    write_offs: Vec<DocumentId>,
    /// The model's prediction of the customer's balance, in cents.
    balance: i64,
    _dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            SqliteStore::open(&dir.path().join("model.db"), Durability::Normal).expect("open");
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("time");
        let engine = Engine::new(
            Arc::new(store),
            Arc::new(PinnedClock(at)),
            Arc::new(CountingIds::default()),
        );
        let tenant = engine.create_tenant("Model").expect("tenant").tenant_id;
        let customer = engine
            .create_customer(
                &tenant,
                NewCustomer { name: "Model Customer".into(), ..NewCustomer::default() },
            )
            .expect("customer")
            .id;
        World {
            engine,
            tenant,
            customer,
            invoices: Vec::new(),
            payments: Vec::new(),
            applications: Vec::new(),
            memos: Vec::new(),
            write_offs: Vec::new(),
            balance: 0,
            _dir: dir,
        }
    }

    fn pick<T: Clone>(list: &[T], idx: usize) -> Option<T> {
        (!list.is_empty()).then(|| list[idx % list.len()].clone())
    }

    /// Runs one op; a rejection is fine (the model predicts no change), a store error is not.
    fn run(&mut self, op: &Op) {
        let outcome: Result<(), EngineError> = match op.clone() {
            Op::Invoice { items, post } => {
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, (cents, rate))| NewItem {
                        description: format!("item {i}"),
                        amount: Some(text(*cents)),
                        taxes: rate
                            .map(|r| {
                                vec![NewTax {
                                    name: "tax".into(),
                                    rate: Some(r.into()),
                                    amount: None,
                                }]
                            })
                            .unwrap_or_default(),
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
                            post,
                        },
                    )
                    .map(|d| {
                        if post {
                            self.balance -= d.total().minor();
                        }
                        self.invoices.push(d.id);
                    })
            }
            Op::Post { invoice } => match Self::pick(&self.invoices, invoice) {
                Some(id) => self
                    .engine
                    .post_document(&self.tenant, &id)
                    .map(|d| self.balance -= d.total().minor()),
                None => Ok(()),
            },
            Op::Pay { cents, apply_to } => {
                let applications = apply_to
                    .and_then(|i| Self::pick(&self.invoices, i))
                    .map(|target_id| {
                        vec![ApplicationTarget {
                            target_id,
                            amount: Some(text(cents)),
                            items: None,
                            rule: None,
                        }]
                    })
                    .unwrap_or_default();
                self.engine
                    .record_payment(
                        &self.tenant,
                        NewPayment {
                            customer_id: self.customer.clone(),
                            amount: text(cents),
                            method: PaymentMethod::Check,
                            reference: None,
                            effective_date: None,
                            applications,
                            description: None,
                        },
                    )
                    .map(|p| {
                        self.balance += cents;
                        self.payments.push(p.id);
                    })
            }
            Op::Apply { payment, invoice, cents, rule } => {
                match (Self::pick(&self.payments, payment), Self::pick(&self.invoices, invoice)) {
                    (Some(payment), Some(target_id)) => {
                        let rule =
                            [Rule::Proration, Rule::Sequential, Rule::NetFirst][usize::from(rule)];
                        self.apply(
                            SourceInput::Payment(payment),
                            ApplicationTarget {
                                target_id,
                                amount: Some(text(cents)),
                                items: None,
                                rule: Some(rule),
                            },
                        )
                    }
                    _ => Ok(()),
                }
            }
            Op::ApplyItems { payment, invoice, fractions } => {
                match (Self::pick(&self.payments, payment), Self::pick(&self.invoices, invoice)) {
                    (Some(payment), Some(target_id)) => {
                        let document =
                            self.engine.document(&self.tenant, &target_id).expect("document");
                        // Amounts are fractions (in percent) of each item's balance, so most
                        // stay within it and some pass zero or take the wrong sign.
                        let items = document
                            .items
                            .iter()
                            .zip(fractions.iter().cycle())
                            .map(|(item, pct)| ItemAmountInput {
                                item_id: item.id.clone(),
                                amount: text(item.balance.minor() * pct / 100),
                                credit_memo_item_id: None,
                            })
                            .collect();
                        self.apply(
                            SourceInput::Payment(payment),
                            ApplicationTarget {
                                target_id,
                                amount: None,
                                items: Some(items),
                                rule: None,
                            },
                        )
                    }
                    _ => Ok(()),
                }
            }
            Op::Reverse { application, cents } => match Self::pick(&self.applications, application)
            {
                Some(id) => {
                    self.engine.reverse_application(&self.tenant, &id, cents.map(text)).map(|_| ())
                }
                None => Ok(()),
            },
            Op::Entry { charge, cents, method } => self
                .engine
                .add_entry(
                    &self.tenant,
                    &self.customer,
                    NewEntry {
                        kind: if charge { EntryKind::Charge } else { EntryKind::Credit },
                        amount: text(cents),
                        description: "entry".into(),
                        payment_method: method.then_some(PaymentMethod::Cash),
                        notes: None,
                        effective_date: None,
                    },
                )
                .map(|(line, _)| {
                    assert_eq!(line.amount.minor(), if charge { -cents } else { cents });
                    self.balance += line.amount.minor();
                }),
            Op::Refund { payment, cents } => match Self::pick(&self.payments, payment) {
                Some(id) => self
                    .engine
                    .refund(&self.tenant, RefundFrom::Payment(id), refund_of(cents))
                    .map(|r| self.balance -= r.amount.minor()),
                None => Ok(()),
            },
            Op::RefundBalance { cents } => self
                .engine
                .refund(
                    &self.tenant,
                    RefundFrom::CreditBalance(self.customer.clone()),
                    refund_of(cents),
                )
                .map(|r| self.balance -= r.amount.minor()),
            Op::Net { invoice } => match Self::pick(&self.invoices, invoice) {
                Some(id) => self.engine.net_items(&self.tenant, &id).map(|_| ()),
                None => Ok(()),
            },
            Op::Transfer { invoice } => match Self::pick(&self.invoices, invoice) {
                Some(id) => self.engine.transfer_to_credit(&self.tenant, &id, None).map(|_| ()),
                None => Ok(()),
            },
            Op::Adjust { invoice, item, cents } => match Self::pick(&self.invoices, invoice) {
                Some(id) => {
                    let document = self.engine.document(&self.tenant, &id).expect("document");
                    let item = &document.items[item % document.items.len()];
                    let kind = if item.balance.is_negative() {
                        AdjustmentType::Charge
                    } else {
                        AdjustmentType::Credit
                    };
                    let new = NewAdjustment {
                        item_id: item.id.clone(),
                        kind,
                        amount: text(cents),
                        reason: "model".into(),
                    };
                    self.engine.adjust_item(&self.tenant, &id, new).map(|a| match a.kind {
                        AdjustmentType::Credit => self.balance += a.amount.minor(),
                        AdjustmentType::Charge => self.balance -= a.amount.minor(),
                    })
                }
                None => Ok(()),
            },
            Op::WriteOff { invoice } => match Self::pick(&self.invoices, invoice) {
                Some(id) => self.engine.write_off(&self.tenant, &id, None, None).map(|memo| {
                    self.balance += memo.total().minor();
                    self.write_offs.push(memo.id.clone());
                    self.memos.push(memo.id);
                }),
                None => Ok(()),
            },
            Op::Void { invoice, reverse } => match Self::pick(&self.invoices, invoice) {
                Some(id) => {
                    let before = self.engine.document(&self.tenant, &id).expect("document");
                    let query = ApplicationQuery {
                        target_id: Some(id.clone()),
                        ..ApplicationQuery::default()
                    };
                    let all = PageRequest { limit: 500, cursor: None };
                    let live: i64 = self
                        .engine
                        .applications(&self.tenant, &query, &all)
                        .expect("applications")
                        .rows
                        .iter()
                        // A write-off's value goes back to bad debt, not to the customer.
                        .filter(|a| !matches!(&a.source, SourceRef::CreditMemo(m) if self.write_offs.contains(m)))
                        .map(|a| a.net().minor())
                        .sum();
                    let negative_posted = self.negative_posted_payments();
                    self.engine.void_document(&self.tenant, &id, reverse).map(|_| {
                        self.balance += before.balance().minor() + live;
                        // A negative payment whose every application was reversed is voided
                        // with the document: it existed only to clear those balances.
                        for (payment, amount) in negative_posted {
                            let now = self.engine.payment(&self.tenant, &payment).expect("payment");
                            if now.status == PaymentStatus::Voided {
                                self.balance -= amount;
                            }
                        }
                    })
                }
                None => Ok(()),
            },
            Op::VoidPayment { payment } => match Self::pick(&self.payments, payment) {
                Some(id) => self
                    .engine
                    .void_payment(&self.tenant, &id)
                    .map(|p| self.balance -= p.amount.minor()),
                None => Ok(()),
            },
            Op::Memo { invoice, item, cents, post } => {
                let named = Self::pick(&self.invoices, invoice).map(|id| {
                    let document = self.engine.document(&self.tenant, &id).expect("document");
                    let item = &document.items[item % document.items.len()];
                    (item.id.clone(), item.amount.minor().signum())
                });
                let (invoice_item_id, sign) = match named {
                    Some((id, sign)) if sign != 0 => (Some(id), sign),
                    _ => (None, 1),
                };
                let new = NewCreditMemo {
                    customer_id: self.customer.clone(),
                    items: vec![NewCreditItem {
                        description: Some("memo".into()),
                        amount: text(cents * sign),
                        invoice_item_id,
                    }],
                    reason: None,
                    from_invoice_id: None,
                    post,
                    invoice_date: None,
                };
                self.engine.create_credit_memo(&self.tenant, new).map(|memo| {
                    if post {
                        self.balance += memo.total().minor();
                    }
                    self.memos.push(memo.id);
                })
            }
            Op::CancelMemo { memo } => match Self::pick(&self.memos, memo) {
                Some(id) => {
                    let before = self.engine.document(&self.tenant, &id).expect("memo");
                    self.engine.cancel_credit_memo(&self.tenant, &id).map(|_| {
                        if before.status == DocumentStatus::Posted {
                            self.balance -= before.total().minor();
                        }
                    })
                }
                None => Ok(()),
            },
        };
        match outcome {
            Ok(()) | Err(EngineError::Rejected(_)) => {}
            Err(err) => panic!("unexpected failure on {op:?}: {err:?}"),
        }
    }

    /// The posted negative payments, with their amounts in cents.
    fn negative_posted_payments(&self) -> Vec<(PaymentId, i64)> {
        self.payments
            .iter()
            .map(|id| self.engine.payment(&self.tenant, id).expect("payment"))
            .filter(|p| p.amount.is_negative() && p.status == PaymentStatus::Posted)
            .map(|p| (p.id, p.amount.minor()))
            .collect()
    }

    fn apply(&mut self, source: SourceInput, target: ApplicationTarget) -> Result<(), EngineError> {
        self.engine
            .apply(&self.tenant, NewApplication { source, target, effective_date: None })
            .map(|a| self.applications.push(a.id))
    }

    /// The ledger's invariants, read back through the engine.
    fn check(&self, step: usize, op: &Op) {
        let customer = self.engine.customer(&self.tenant, &self.customer).expect("customer");
        let b = customer.balances;
        assert_eq!(b.balance(), self.balance, "step {step} {op:?}: balance differs from the model");
        let all = PageRequest { limit: 500, cursor: None };
        let documents = self
            .engine
            .documents(&self.tenant, &DocumentQuery::default(), &all)
            .expect("documents");
        let mut receivable = 0;
        let mut credit_memos = 0;
        for document in &documents.rows {
            for item in &document.items {
                let (amount, balance) = (item.amount.minor(), item.balance.minor());
                if document.status == DocumentStatus::Draft {
                    assert_eq!(balance, 0, "step {step}: a draft owes nothing");
                }
                assert!(
                    (amount >= 0 && (0..=amount).contains(&balance))
                        || (amount < 0 && (amount..=0).contains(&balance)),
                    "step {step} {op:?}: item {} balance {balance} passed zero (amount {amount})",
                    item.id
                );
            }
            match document.kind {
                DocumentKind::CreditMemo => credit_memos += document.balance().minor(),
                _ => receivable += document.balance().minor(),
            }
        }
        assert_eq!(b.receivable, receivable, "step {step}: receivable = sum of document balances");
        assert_eq!(b.credit_memo_balance, credit_memos, "step {step}: credit memo balance");
        let payments =
            self.engine.payments(&self.tenant, &PaymentQuery::default(), &all).expect("payments");
        let unapplied: i64 = payments.rows.iter().map(|p| p.unapplied.minor()).sum();
        assert_eq!(b.unapplied_payments, unapplied, "step {step}: unapplied = sum of payments");
        for payment in &payments.rows {
            let (amount, left) = (payment.amount.minor(), payment.unapplied.minor());
            assert!(
                (amount > 0 && (0..=amount).contains(&left))
                    || (amount < 0 && (amount..=0).contains(&left)),
                "step {step}: payment {} unapplied {left} outside its amount {amount}",
                payment.id
            );
        }
        for document in &documents.rows {
            for item in &document.items {
                assert!(
                    item.credited.minor() <= item.amount.minor().abs(),
                    "step {step} {op:?}: item {} credited {} beyond its amount {}",
                    item.id,
                    item.credited,
                    item.amount
                );
            }
        }
        assert!(b.credit_balance >= 0, "step {step}: the credit balance is never negative");
        for balance in self.engine.trial_balance(&self.tenant, None, None).expect("trial balance") {
            assert_eq!(
                balance.total_debit, balance.total_credit,
                "step {step}: trial balance is even in {}",
                balance.currency
            );
        }
    }
}

fn cases() -> u32 {
    std::env::var("SETTLE_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_command_sequences_keep_every_invariant_and_replay_exactly(ops in prop::collection::vec(op(), 64)) {
        let mut world = World::new();
        for (step, op) in ops.iter().enumerate() {
            world.run(op);
            world.check(step, op);
        }
        let report = world.engine.verify().expect("verify");
        prop_assert!(report.is_clean(), "verify: {:#?}", report.differences);
    }
}

#[test]
fn today_follows_the_tenant_time_zone() {
    let late = Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).single().expect("time");
    let today = |zone: &str| crate::TimeZone::parse(zone).expect("zone").today(late).to_string();
    assert_eq!(today("UTC"), "2026-03-01");
    assert_eq!(today("Europe/Paris"), "2026-03-02");
    assert_eq!(today("America/Los_Angeles"), "2026-03-01");
    assert_eq!(crate::TimeZone::parse("Not/AZone"), None);
}

#[test]
fn a_stored_time_zone_that_does_not_parse_is_corrupt_data_not_utc() {
    let late = Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).single().expect("time");
    let settings = settle_core::settings::Settings {
        time_zone: "Not/AZone".to_owned(),
        ..settle_core::settings::Settings::default()
    };
    let err = crate::unit::today_in(&settings, late).expect_err("an unknown zone is refused");
    assert!(
        matches!(err, crate::EngineError::Store(settle_store::StoreError::Corrupt(_))),
        "{err:?}"
    );
}

mod collect;
mod export;
mod imports;
mod numbers;
mod preview;
mod preview_model;
mod staff;
mod stop;
mod subscriptions;
mod transfer_apply;
mod workers;
mod write_off;
