//! `settle bench bill-run`: how fast a bill run invoices N monthly subscriptions (one per
//! customer), beside the raw bulk-insert rate of the same store measured in the same run.
//!
//! The customers and subscriptions are loaded through the store in large transactions (the
//! set-up is not what is measured); the bill run is the real one, `Engine::run_bill_run`, with
//! its batched commits. Afterwards every invoice is counted and the run's total checked to the
//! cent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use settle_core::ids::{PriceId, SubscriptionId, SubscriptionItemId, TenantId};
use settle_core::money::{Currency, Money};
use settle_core::subscription::{Interval, Recurring, Segment, Subscription, SubscriptionStatus};
use settle_engine::{Amount, Engine, NewPrice, NewProduct};
use settle_store::Store;
use settle_store_sqlite::{Durability, SqliteStore};

use crate::bench::reads::{customer, percentiles};
use crate::system::{RandomIds, SystemClock};

/// The options of `settle bench bill-run`.
#[derive(clap::Args)]
pub(crate) struct BillRunArgs {
    /// Monthly subscriptions to invoice, one per customer.
    #[arg(long, default_value_t = 100_000)]
    subscriptions: u64,
    /// Measure on a fresh PostgreSQL database made next to this URL's (dropped afterwards)
    /// instead of a fresh SQLite file (synchronous=FULL, Settle's default).
    #[arg(long)]
    postgres: Option<String>,
    /// Also replay the whole journal afterwards (`settle verify`) and report what it found.
    #[arg(long)]
    verify: bool,
    /// Customers billed per database transaction, as `settle bill-run --batch`.
    #[arg(long, value_name = "CUSTOMERS", default_value_t = settle_engine::BILL_RUN_BATCH,
          value_parser = crate::batch_size)]
    batch: usize,
    /// Batches in flight at once, as `settle bill-run --workers` (default: the store's).
    #[arg(long, value_name = "BATCHES", value_parser = crate::workers)]
    workers: Option<usize>,
}

/// Customers (with their subscription) inserted per store transaction while loading.
const LOAD_BATCH: u64 = 10_000;

/// The monthly price every subscription holds: 29.99, so the run's total is exact to check.
const PRICE_MINOR: i64 = 2_999;

/// The day every subscription starts and the bill run's date: one period due for each.
fn anchor() -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 1, 1).context("a date")
}

/// A fresh store for one benchmark: a SQLite file in `dir`, or a PostgreSQL database made
/// next to `postgres`'s (its admin URL and name returned so it can be dropped), and the raw
/// bulk-insert rate of that same store.
pub(crate) struct Fresh {
    pub(crate) store: Arc<dyn Store>,
    dropped: Option<(String, String)>,
    raw: RawTarget,
}

enum RawTarget {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Fresh {
    pub(crate) fn open(
        postgres: Option<&str>,
        dir: &std::path::Path,
        name: &str,
    ) -> anyhow::Result<Fresh> {
        match postgres {
            Some(admin) => {
                let db = format!("settle_bench_{name}_{}", std::process::id());
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{db}"),
                    None => anyhow::bail!("the PostgreSQL URL names no database"),
                };
                settle_store_postgres::create_database(admin, &db)?;
                let store = Arc::new(settle_store_postgres::PostgresStore::open(&url)?);
                Ok(Fresh {
                    store,
                    dropped: Some((admin.to_owned(), db)),
                    raw: RawTarget::Postgres(url),
                })
            }
            None => {
                let path = dir.join(format!("{name}.db"));
                let store = Arc::new(SqliteStore::open(&path, Durability::Full)?);
                Ok(Fresh { store, dropped: None, raw: RawTarget::Sqlite(dir.join("raw.db")) })
            }
        }
    }

    /// After a bulk load, what a store in use would have: PostgreSQL's planner statistics
    /// (autovacuum analyzes a table within about a minute of such a load). SQLite keeps none.
    pub(crate) fn settle_statistics(&self) -> anyhow::Result<()> {
        if let RawTarget::Postgres(url) = &self.raw {
            settle_store_postgres::analyze(url)?;
        }
        Ok(())
    }

    /// The URL of the PostgreSQL database measured on; `None` on SQLite.
    fn postgres_url(&self) -> Option<&str> {
        match &self.raw {
            RawTarget::Postgres(url) => Some(url),
            RawTarget::Sqlite(_) => None,
        }
    }

    /// Rows per second of a bulk insert of `rows` rows in one transaction into a bare table.
    #[allow(clippy::float_arithmetic, reason = "a printed rate")]
    pub(crate) fn raw_bulk_rate(&self, rows: u64) -> anyhow::Result<f64> {
        let started = Instant::now();
        match &self.raw {
            RawTarget::Sqlite(path) => {
                settle_store_sqlite::raw_bulk_insert(path, Durability::Full, rows)?;
            }
            RawTarget::Postgres(url) => {
                settle_store_postgres::raw_prepare(url)?;
                settle_store_postgres::raw_bulk_insert(url, rows)?;
            }
        }
        Ok(rows as f64 / started.elapsed().as_secs_f64())
    }

    /// The lines a benchmark of `n` invoices at `rate` invoices/s ends with: the raw bulk-insert
    /// rate of this store and the ratio to it, then, with `verify`, the journal replayed clean.
    #[allow(clippy::float_arithmetic, reason = "a printed ratio")]
    pub(crate) fn closing_lines(
        &self,
        engine: &Engine,
        n: u64,
        rate: f64,
        verify: bool,
    ) -> anyhow::Result<Vec<String>> {
        let raw = self.raw_bulk_rate(n.max(100_000))?;
        let mut lines = vec![format!(
            "  raw bulk insert, same store: {raw:.0} rows/s; ratio invoices/s : raw rows/s = {:.3}",
            rate / raw
        )];
        if verify {
            let started = Instant::now();
            let report = engine.verify()?;
            anyhow::ensure!(report.is_clean(), "verify found differences: {report:?}");
            lines.push(format!("  verify: clean, in {:.1} s", started.elapsed().as_secs_f64()));
        }
        Ok(lines)
    }

    pub(crate) fn close(self) -> anyhow::Result<()> {
        drop(self.store);
        if let Some((admin, name)) = self.dropped {
            settle_store_postgres::drop_database(&admin, &name)?;
        }
        Ok(())
    }
}

/// The peak resident memory of this process so far (Linux's `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Loads `n` customers, each with one monthly subscription of `price`, in transactions of
/// [`LOAD_BATCH`].
fn load(store: &dyn Store, tenant: &TenantId, price: &PriceId, n: u64) -> anyhow::Result<()> {
    let now = settle_engine::Clock::now(&SystemClock);
    let start = anchor()?;
    let mut next = 0;
    while next < n {
        let end = (next + LOAD_BATCH).min(n);
        let mut tx = store.begin_write()?;
        for i in next..end {
            let customer = customer(i, now)?;
            tx.insert_customer(tenant, &customer)?;
            let (lock, _) =
                tx.lock_customer(tenant, &customer.id, now)?.context("a customer just stored")?;
            let subscription = Subscription {
                id: SubscriptionId::parse(&format!("sub_bench{i:010}")).context("an id")?,
                customer_id: customer.id,
                currency: Currency::USD,
                status: SubscriptionStatus::Active,
                start_date: start,
                recurring: Recurring::new(Interval::Month, 1)?,
                ends_on: None,
                billed_periods: 0,
                segments: vec![Segment {
                    item_id: SubscriptionItemId::parse(&format!("si_bench{i:010}"))
                        .context("an id")?,
                    price_id: price.clone(),
                    quantity: rust_decimal::Decimal::ONE,
                    starts_on: start,
                    ends_on: None,
                }],
                created_at: now,
            };
            tx.insert_subscription(&lock, &subscription)?;
        }
        tx.commit()?;
        next = end;
    }
    Ok(())
}

/// `settle bench bill-run`.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
pub(crate) fn run(args: &BillRunArgs) -> anyhow::Result<std::process::ExitCode> {
    let dir = tempfile::tempdir().context("making a temporary folder")?;
    let fresh = Fresh::open(args.postgres.as_deref(), dir.path(), "bill_run")?;
    let outcome = run_on(args, &fresh);
    fresh.close()?;
    for line in outcome? {
        println!("{line}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

// tidy: long-function: the benchmark's one story, set-up, run, checks and the printed lines
#[allow(clippy::float_arithmetic, reason = "printed rates")]
fn run_on(args: &BillRunArgs, fresh: &Fresh) -> anyhow::Result<Vec<String>> {
    let n = args.subscriptions;
    let store = Arc::clone(&fresh.store);
    let engine = Engine::new(Arc::clone(&store), Arc::new(SystemClock), Arc::new(RandomIds))
        .with_bill_run_batch(args.batch);
    let engine = match args.workers {
        Some(batches) => engine.with_bill_run_workers(batches),
        None => engine,
    };
    let workers = engine.bill_run_workers();
    let tenant = engine.create_tenant("Bill run")?.tenant_id;
    let product = engine
        .create_product(&tenant, NewProduct { name: "Monthly plan".into(), description: None })?;
    let price = engine.create_price(
        &tenant,
        NewPrice {
            product_id: product.id,
            currency: "USD".into(),
            unit_amount: Amount::from(Money::new(PRICE_MINOR, Currency::USD)),
            recurring: Some(("month".into(), Some(1))),
            tax_rate: None,
        },
    )?;
    let mut lines = vec![format!(
        "settle bench bill-run: {} subscriptions of 29.99 a month, one per customer, on {}; \
         {} customers per transaction, {workers} in flight at once",
        n,
        if args.postgres.is_some() { "PostgreSQL" } else { "SQLite (synchronous=FULL)" },
        args.batch,
    )];
    let started = Instant::now();
    load(store.as_ref(), &tenant, &price.id, n)?;
    lines.push(format!(
        "  loaded {n} customers and subscriptions in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    let mut batches: Vec<Duration> = Vec::new();
    let wal_from = fresh.postgres_url().map(settle_store_postgres::wal_position).transpose()?;
    let mut last = Instant::now();
    let started = Instant::now();
    let run = engine.run_bill_run(&tenant, anchor()?, None, &mut |_| {
        batches.push(last.elapsed());
        last = Instant::now();
    })?;
    let elapsed = started.elapsed();
    let rss = peak_rss_mib();
    let wal_bytes = match (fresh.postgres_url(), &wal_from) {
        (Some(url), Some(from)) => Some(settle_store_postgres::wal_bytes_since(url, from)?),
        _ => None,
    };
    anyhow::ensure!(
        u64::from(run.invoices_created) == n && run.failures.is_empty(),
        "the bill run made {} invoices with {} failures, not {n}",
        run.invoices_created,
        run.failures.len()
    );
    let expected = i64::try_from(n)?.checked_mul(PRICE_MINOR).context("the expected total")?;
    anyhow::ensure!(
        run.totals == [Money::new(expected, Currency::USD)],
        "the bill run's total is {:?}, not {expected} cents",
        run.totals
    );
    let rate = n as f64 / elapsed.as_secs_f64();
    // The first and last reports are the run's start and end, not batches. With one batch in
    // flight the time between two commits is a batch's; with more, batches overlap.
    let mut per_batch: Vec<Duration> =
        batches.get(1..batches.len().saturating_sub(1)).unwrap_or_default().to_vec();
    let (p50, p99) = percentiles(&mut per_batch);
    let timed = if workers == 1 { "per batch" } else { "between commits of batches" };
    lines.push(format!(
        "  bill run: {n} invoices in {:.1} s = {rate:.0} invoices/s; {timed} of {} \
         customers p50 {p50:.1} ms, p99 {p99:.1} ms; peak RSS {} MiB",
        elapsed.as_secs_f64(),
        args.batch,
        rss.map_or_else(|| "?".to_owned(), |m| m.to_string()),
    ));
    if let Some(bytes) = wal_bytes {
        // Per invoice, so runs on a machine whose speed swings can still be compared.
        lines.push(format!(
            "  server write-ahead log during the run (the whole server's): {:.0} bytes per invoice",
            bytes as f64 / n.max(1) as f64,
        ));
    }
    lines.extend(fresh.closing_lines(&engine, n, rate, args.verify)?);
    Ok(lines)
}
