//! `settle bench`: operations per second of a realistic mix on SQLite, next to the raw limit of
//! the same store on the same machine (the same rows written in the same transactions, with no
//! Settle logic), and the ratio between them.

pub(crate) mod bill_run;
pub(crate) mod http;
pub(crate) mod import;
pub(crate) mod reads;

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
    pub(crate) store: &'static str,
    pub(crate) clients: u64,
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
        let store = self.store;
        vec![
            format!(
                "{store}: {} clients, {} rounds of the mix ({} ops); rows per write transaction {:?}",
                self.clients,
                self.rounds,
                self.rounds * OPS_PER_ROUND,
                self.rows_per_txn
            ),
            format!("  settle {store}: {settle:>10.0} ops/s ({:.3} s)", self.settle.as_secs_f64()),
            format!(
                "  raw    {store}: {raw:>10.0} ops/s ({:.3} s, same rows, same transactions)",
                self.raw.as_secs_f64()
            ),
            format!("  ratio settle/raw: {ratio:.2}"),
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
            amount: Some(settle_engine::Amount::from(settle_core::money::Money::new(
                3333,
                settle_core::money::Currency::USD,
            ))),
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
    let total = settle_engine::Amount::from(invoice.total());
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

/// The customers a bench run works on, and the engine over its store.
fn prepare(
    engine: &Engine,
) -> anyhow::Result<(settle_core::ids::TenantId, Vec<settle_core::ids::CustomerId>)> {
    let tenant = engine.create_tenant("Bench")?.tenant_id;
    let customers = (0..16)
        .map(|i| {
            engine
                .create_customer(
                    &tenant,
                    NewCustomer { name: format!("Customer {i}"), ..NewCustomer::default() },
                )
                .map(|c| c.id)
        })
        .collect::<Result<_, _>>()?;
    Ok((tenant, customers))
}

/// Runs `rounds` rounds of the mix split over `clients` threads, each on its own customers.
fn timed_mix(
    engine: &Engine,
    tenant: &settle_core::ids::TenantId,
    customers: &[settle_core::ids::CustomerId],
    rounds: u64,
    clients: u64,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || -> anyhow::Result<()> {
                    for i in (client..rounds).step_by(usize::try_from(clients).unwrap_or(1)) {
                        let customer =
                            &customers[usize::try_from(i).unwrap_or(0) % customers.len()];
                        round(engine, tenant, customer, || {})?;
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().map_err(|_| anyhow::anyhow!("a bench client panicked"))??;
        }
        Ok(())
    })?;
    Ok(started.elapsed())
}

/// Runs `raw` on `clients` threads, `rounds` rounds split between them.
fn timed_raw(
    rounds: u64,
    clients: u64,
    raw: impl Fn(u64) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let share = rounds / clients.max(1);
        let raw = &raw;
        let workers: Vec<_> = (0..clients).map(|_| scope.spawn(move || raw(share))).collect();
        for worker in workers {
            worker.join().map_err(|_| anyhow::anyhow!("a raw client panicked"))??;
        }
        Ok(())
    })?;
    Ok(started.elapsed())
}

/// Runs `rounds` of the mix on a fresh SQLite database in `dir`, then the raw pattern on
/// another file. Also returns the rows each write transaction changes, for other stores.
pub(crate) fn run_sqlite(
    dir: &Path,
    rounds: u64,
    clients: u64,
    durability: Durability,
) -> anyhow::Result<BenchReport> {
    let store = Arc::new(
        SqliteStore::open(&dir.join("bench.db"), durability).context("opening the bench store")?,
    );
    let engine = Engine::new(store.clone(), Arc::new(SystemClock), Arc::new(RandomIds));
    let (tenant, customers) = prepare(&engine)?;
    // One round alone first, to learn how many rows each write transaction changes.
    let mut rows_per_txn = Vec::new();
    let mut last = store.total_changes();
    round(&engine, &tenant, &customers[0], || {
        let now = store.total_changes();
        rows_per_txn.push(now - last);
        last = now;
    })?;
    let settle = timed_mix(&engine, &tenant, &customers, rounds, clients)?;
    let raw_path = dir.join("raw.db");
    raw_write_pattern(&raw_path, durability, &rows_per_txn, 0, 0)?;
    let raw = timed_raw(rounds, clients, |share| {
        raw_write_pattern(&raw_path, durability, &rows_per_txn, 1, share)?;
        Ok(())
    })?;
    Ok(BenchReport { store: "sqlite", rounds, clients, settle, raw, rows_per_txn })
}

/// Runs the mix and the raw pattern on a fresh PostgreSQL database made next to `admin_url`'s
/// (and dropped afterwards).
pub(crate) fn run_postgres(
    admin_url: &str,
    rounds: u64,
    clients: u64,
    rows_per_txn: &[u64],
) -> anyhow::Result<BenchReport> {
    let name = format!("settle_bench_{}", std::process::id());
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => anyhow::bail!(
            "the PostgreSQL URL names no database: {}",
            crate::config::without_password(admin_url)
        ),
    };
    settle_store_postgres::create_database(admin_url, &name)
        .with_context(|| format!("connecting to {}", crate::config::without_password(admin_url)))?;
    let outcome = (|| -> anyhow::Result<BenchReport> {
        let store = Arc::new(settle_store_postgres::PostgresStore::open(&url)?);
        let engine = Engine::new(store, Arc::new(SystemClock), Arc::new(RandomIds));
        let (tenant, customers) = prepare(&engine)?;
        round(&engine, &tenant, &customers[0], || {})?;
        let settle = timed_mix(&engine, &tenant, &customers, rounds, clients)?;
        drop(engine);
        // Zero rounds: makes the raw table once, before the clients race to.
        settle_store_postgres::raw_write_pattern(&url, rows_per_txn, 0, 0)?;
        let raw = timed_raw(rounds, clients, |share| {
            settle_store_postgres::raw_write_pattern(&url, rows_per_txn, 1, share)?;
            Ok(())
        })?;
        Ok(BenchReport {
            store: "postgres",
            rounds,
            clients,
            settle,
            raw,
            rows_per_txn: rows_per_txn.to_vec(),
        })
    })();
    settle_store_postgres::drop_database(admin_url, &name)?;
    outcome
}
