//! `settle bench import`: how fast `settle import invoices` writes N open invoices, beside the
//! raw bulk-insert rate of the same store measured in the same run.
//!
//! It writes a customers file (one customer per 10 invoices) and an invoices file (one line
//! each, 8.25% tax, every fourth one partly paid) as `settle import` reads them, imports both
//! through `Engine::import` on a fresh store, checks the counts and what the customers owe to
//! the cent, and times the invoices file from reading it to its last commit.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use settle_engine::{Engine, ImportKind, ImportOptions};
use settle_store::{CustomerQuery, PageRequest};

use crate::bench::bill_run::Fresh;
use crate::system::{RandomIds, SystemClock};

/// The options of `settle bench import`.
#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    /// Open invoices to import.
    #[arg(long, default_value_t = 100_000)]
    invoices: u64,
    /// Measure on a fresh PostgreSQL database made next to this URL's (dropped afterwards)
    /// instead of a fresh SQLite file (synchronous=FULL, Settle's default).
    #[arg(long)]
    postgres: Option<String>,
    /// Also replay the whole journal afterwards (`settle verify`) and report what it found.
    #[arg(long)]
    verify: bool,
}

/// Invoices per customer in the generated files.
const INVOICES_PER_CUSTOMER: u64 = 10;

/// Each invoice's one line: 100.00, taxed 8.25% (8.25), so 108.25 in all.
const TOTAL_MINOR: i64 = 10_825;

/// What every fourth invoice had paid on it.
const PAID_MINOR: i64 = 5_000;

/// The generated files: customers, and invoices for them.
fn files(n: u64) -> anyhow::Result<(String, String)> {
    let customers_n = n.div_ceil(INVOICES_PER_CUSTOMER).max(1);
    let mut customers = String::from("external_id,name,email,currency,payment_terms_days\n");
    for c in 0..customers_n {
        writeln!(customers, "C{c},Customer {c},c{c}@example.com,USD,30")?;
    }
    let mut invoices = String::from(
        "external_id,customer_external_id,number,invoice_date,description,amount,tax_name,\
         tax_rate,amount_paid,paid_on\n",
    );
    for i in 0..n {
        let paid = if i % 4 == 0 { "50.00,2026-01-20" } else { "," };
        writeln!(
            invoices,
            "I{i},C{},OLD-{i},2026-01-{:02},Services,100.00,Sales tax,8.25,{paid}",
            i % customers_n,
            1 + i % 15
        )?;
    }
    Ok((customers, invoices))
}

/// `settle bench import`.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
pub(crate) fn run(args: &ImportArgs) -> anyhow::Result<std::process::ExitCode> {
    let dir = tempfile::tempdir().context("making a temporary folder")?;
    let fresh = Fresh::open(args.postgres.as_deref(), dir.path(), "import")?;
    let outcome = run_on(args, &fresh);
    fresh.close()?;
    for line in outcome? {
        println!("{line}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[allow(clippy::float_arithmetic, clippy::cast_precision_loss, reason = "printed rates")]
fn run_on(args: &ImportArgs, fresh: &Fresh) -> anyhow::Result<Vec<String>> {
    let n = args.invoices;
    let engine = Engine::new(Arc::clone(&fresh.store), Arc::new(SystemClock), Arc::new(RandomIds));
    let tenant = engine.create_tenant("Import")?.tenant_id;
    let (customers, invoices) = files(n)?;
    let mut lines = vec![format!(
        "settle bench import: {n} invoices ({} lines, {} bytes) for {} customers on {}; {} per \
         transaction",
        n,
        invoices.len(),
        n.div_ceil(INVOICES_PER_CUSTOMER).max(1),
        if args.postgres.is_some() { "PostgreSQL" } else { "SQLite (synchronous=FULL)" },
        settle_engine::IMPORT_BATCH,
    )];
    let import = |kind, file: &str, dry_run| {
        let started = Instant::now();
        let options = ImportOptions { dry_run, ..ImportOptions::default() };
        let report = engine.import(&tenant, kind, file.as_bytes(), options, &mut |_| {})?;
        anyhow::ensure!(report.errors.is_empty(), "the file was refused: {:?}", report.errors);
        Ok((report, started.elapsed()))
    };
    let (report, took) = import(ImportKind::Customers, &customers, false)?;
    lines.push(format!("  customers: {} in {:.1} s", report.customers_created, took.as_secs_f64()));
    let (checked, took) = import(ImportKind::Invoices, &invoices, true)?;
    anyhow::ensure!(
        checked.invoices_created == n,
        "the dry run would make {}",
        checked.invoices_created
    );
    lines.push(format!(
        "  dry run of the invoices file (reading and checking it, no writes): {:.1} s",
        took.as_secs_f64()
    ));
    let (report, elapsed) = import(ImportKind::Invoices, &invoices, false)?;
    let paid = n.div_ceil(4);
    anyhow::ensure!(
        report.invoices_created == n && report.payments_created == paid,
        "made {} invoices and {} payments, not {n} and {paid}",
        report.invoices_created,
        report.payments_created
    );
    check_owed(&engine, &tenant, n, paid)?;
    let rate = n as f64 / elapsed.as_secs_f64();
    lines.push(format!(
        "  invoices: {n} invoices and {paid} payments in {:.1} s = {rate:.0} invoices/s",
        elapsed.as_secs_f64()
    ));
    lines.extend(fresh.closing_lines(&engine, n, rate, args.verify)?);
    Ok(lines)
}

/// What all customers owe together is every invoice's total less what was paid, to the cent.
fn check_owed(
    engine: &Engine,
    tenant: &settle_core::ids::TenantId,
    n: u64,
    paid: u64,
) -> anyhow::Result<()> {
    let expected = i64::try_from(n)? * TOTAL_MINOR - i64::try_from(paid)? * PAID_MINOR;
    let mut owed = 0_i64;
    let mut page = PageRequest { limit: 500, cursor: None };
    loop {
        let customers = engine.customers(tenant, &CustomerQuery::default(), &page)?;
        owed += customers.rows.iter().map(|c| c.balances.receivable).sum::<i64>();
        match customers.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    anyhow::ensure!(owed == expected, "customers owe {owed} cents, not {expected}");
    Ok(())
}
