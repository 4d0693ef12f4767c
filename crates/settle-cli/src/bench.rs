//! `settle bench`: operations per second of a realistic mix on SQLite, next to the raw limit of
//! the same store on the same machine (the same rows written in the same transactions, with no
//! Settle logic), and the ratio between them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use settle_core::document::DocumentKind;
use settle_core::payment::PaymentMethod;
use settle_engine::{
    ApplicationTarget, Engine, NewApplication, NewCustomer, NewDocument, NewItem, NewPayment,
    NewTax, SourceInput,
};
use settle_store_sqlite::{Durability, SqliteStore, raw_write_pattern};

use crate::system::{RandomIds, SystemClock};

/// Operations in one round of the mix: post an invoice, record a payment, apply it, read.
const OPS_PER_ROUND: u64 = 4;

/// Results of one run.
pub(crate) struct BenchReport {
    pub(crate) rounds: u64,
    pub(crate) settle: Duration,
    pub(crate) raw: Duration,
    pub(crate) rows_per_txn: Vec<u64>,
}

impl BenchReport {
    fn ops_per_second(&self, elapsed: Duration) -> f64 {
        // Floats only for the printed rate; no amount is involved.
        #[allow(clippy::float_arithmetic, clippy::cast_precision_loss, reason = "a printed rate")]
        let rate = (self.rounds * OPS_PER_ROUND) as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
        rate
    }

    /// The lines `settle bench` prints.
    pub(crate) fn lines(&self) -> Vec<String> {
        let settle = self.ops_per_second(self.settle);
        let raw = self.ops_per_second(self.raw);
        #[allow(clippy::float_arithmetic, reason = "a printed ratio")]
        let ratio = settle / raw;
        vec![
            format!(
                "mix: post a 3-item invoice with tax, record a payment, apply it, read the customer ({} rounds, {} ops)",
                self.rounds,
                self.rounds * OPS_PER_ROUND
            ),
            format!("rows written per transaction by Settle: {:?}", self.rows_per_txn),
            format!("settle  sqlite: {settle:>10.0} ops/s ({:.3} s)", self.settle.as_secs_f64()),
            format!(
                "raw     sqlite: {raw:>10.0} ops/s ({:.3} s, same rows, same transactions)",
                self.raw.as_secs_f64()
            ),
            format!("ratio settle/raw: {ratio:.2}"),
        ]
    }
}

/// One round of the mix; `after_write` runs after each of its three write transactions.
fn round(
    engine: &Engine,
    tenant: &settle_core::ids::TenantId,
    customer: &settle_core::ids::CustomerId,
    mut after_write: impl FnMut(),
) -> anyhow::Result<()> {
    let items = ["Plan", "Seats", "Support"]
        .iter()
        .map(|description| NewItem {
            description: (*description).into(),
            amount: Some("33.33".into()),
            taxes: vec![NewTax {
                name: "Sales tax".into(),
                rate: Some(rust_decimal::Decimal::new(825, 2)),
                amount: None,
            }],
            ..NewItem::default()
        })
        .collect();
    let new_invoice = NewDocument {
        kind: DocumentKind::Invoice,
        customer_id: customer.clone(),
        items,
        invoice_date: None,
        due_date: None,
        adjusts_invoice_id: None,
        reason: None,
        post: true,
    };
    let invoice = engine.create_document(tenant, new_invoice)?;
    after_write();
    let total = invoice.total().to_string();
    let new_payment = NewPayment {
        customer_id: customer.clone(),
        amount: total.clone(),
        method: PaymentMethod::Card,
        reference: None,
        effective_date: None,
        applications: Vec::new(),
        description: None,
    };
    let payment = engine.record_payment(tenant, new_payment)?;
    after_write();
    let target =
        ApplicationTarget { target_id: invoice.id, amount: Some(total), items: None, rule: None };
    let source = SourceInput::Payment(payment.id);
    engine.apply(tenant, NewApplication { source, target, effective_date: None })?;
    after_write();
    engine.customer(tenant, customer)?;
    Ok(())
}

/// Runs `rounds` of the mix on a fresh database in `dir`, then the raw pattern on another.
pub(crate) fn run(dir: &Path, rounds: u64, durability: Durability) -> anyhow::Result<BenchReport> {
    let store = Arc::new(
        SqliteStore::open(&dir.join("bench.db"), durability).context("opening the bench store")?,
    );
    let engine = Engine::new(store.clone(), Arc::new(SystemClock), Arc::new(RandomIds));
    let tenant = engine.create_tenant("Bench")?.tenant_id;
    let customers: Vec<_> = (0..16)
        .map(|i| {
            engine.create_customer(
                &tenant,
                NewCustomer { name: format!("Customer {i}"), ..NewCustomer::default() },
            )
        })
        .collect::<Result<_, _>>()?;
    // One round alone first, to learn how many rows each write transaction changes.
    let mut rows_per_txn = Vec::new();
    let mut last = store.total_changes();
    round(&engine, &tenant, &customers[0].id, || {
        let now = store.total_changes();
        rows_per_txn.push(now - last);
        last = now;
    })?;

    let started = Instant::now();
    for i in 0..rounds {
        let customer = &customers[usize::try_from(i).unwrap_or(0) % customers.len()].id;
        round(&engine, &tenant, customer, || {})?;
    }
    let settle = started.elapsed();

    let started = Instant::now();
    raw_write_pattern(&dir.join("raw.db"), durability, &rows_per_txn, 1, rounds)?;
    let raw = started.elapsed();
    Ok(BenchReport { rounds, settle, raw, rows_per_txn })
}
