//! `settle bench reads`: how long reading a customer, a page of the customer list (by balance
//! and by name) and a search take as a tenant's customers grow. The customers are loaded
//! through the store in large transactions (not one request each); a thousand of them get a
//! posted invoice through the engine, so balances differ and the journal stays true.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use settle_core::customer::{Balances, Customer};
use settle_core::document::DocumentKind;
use settle_core::ids::{CustomerId, TenantId};
use settle_core::money::Currency;
use settle_engine::{Amount, Engine, NewDocument, NewItem};
use settle_store::{CustomerQuery, CustomerSort, PageRequest, Store};

use crate::bench::bill_run::Fresh;
use crate::system::{RandomIds, SystemClock};

/// The options of `settle bench reads`.
#[derive(clap::Args)]
pub(crate) struct ReadsArgs {
    /// Customer counts to measure at, ascending (each run loads up to the next count).
    #[arg(long, value_delimiter = ',', default_values_t = [10_000_u64, 1_000_000])]
    customers: Vec<u64>,
    /// Times each read is repeated at each count.
    #[arg(long, default_value_t = 300)]
    repeat: u64,
    /// Measure on a fresh PostgreSQL database made next to this URL's (dropped afterwards)
    /// instead of a fresh SQLite file.
    #[arg(long)]
    postgres: Option<String>,
}

/// Customers inserted per store transaction while loading.
const LOAD_BATCH: u64 = 10_000;

/// Customers that get a posted invoice, so the balance sort has balances to order.
const WITH_INVOICES: u64 = 1_000;

/// Words for customer names and email domains.
const WORDS: [&str; 16] = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "wonka",
    "tyrell",
    "cyberdyne",
    "soylent",
    "massive",
    "oscorp",
    "aperture",
    "monarch",
];

pub(crate) fn customer_id(i: u64) -> anyhow::Result<CustomerId> {
    CustomerId::parse(&format!("cus_bench{i:010}")).context("a customer id")
}

/// A six-letter name of its own for customer `i` (a multiplication by a number prime to 26,
/// modulo 26^6, so no two customers below 26^6 share one), like the made-up word of a company
/// name: what people search for.
fn code(i: u64) -> String {
    let mut x = i.wrapping_mul(7_919_007) % 308_915_776;
    let mut letters = [b'a'; 6];
    for letter in letters.iter_mut().rev() {
        *letter = b'a' + u8::try_from(x % 26).unwrap_or(0);
        x /= 26;
    }
    String::from_utf8_lossy(&letters).into_owned()
}

/// Customer `i`: a made-up word ([`code`]) and a seven-digit number in its name, the number in
/// its email.
pub(crate) fn customer(i: u64, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Customer> {
    let word = WORDS[usize::try_from(i % 16)?];
    let prefix = if i.is_multiple_of(2) { "Northwind" } else { "Contoso" };
    Ok(Customer {
        id: customer_id(i)?,
        name: format!("{prefix} {word} {} {i:07}", code(i)),
        email: Some(format!("billing{i:07}@{word}{}.example", i % 1_000)),
        currency: Currency::USD,
        payment_terms_days: 30,
        metadata: "{}".to_owned(),
        created_at: now,
        balances: Balances::default(),
    })
}

/// Loads customers `from..to` in transactions of [`LOAD_BATCH`].
fn load(store: &dyn Store, tenant: &TenantId, from: u64, to: u64) -> anyhow::Result<()> {
    let now = settle_engine::Clock::now(&SystemClock);
    let mut next = from;
    while next < to {
        let end = (next + LOAD_BATCH).min(to);
        let mut tx = store.begin_write()?;
        for i in next..end {
            tx.insert_customer(tenant, &customer(i, now)?)?;
        }
        tx.commit()?;
        next = end;
    }
    Ok(())
}

/// p50 and p99 of `samples`, in milliseconds.
#[allow(clippy::float_arithmetic, reason = "printed milliseconds")]
pub(crate) fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |p: usize| {
        let i = (samples.len() * p / 100).min(samples.len().saturating_sub(1));
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
    };
    (at(50), at(99))
}

/// Runs `read(k)` `repeat` times after a few untimed ones; its p50 and p99.
fn time(
    repeat: u64,
    mut read: impl FnMut(u64) -> anyhow::Result<()>,
) -> anyhow::Result<(f64, f64)> {
    for k in 0..10 {
        read(k)?;
    }
    let mut samples = Vec::new();
    for k in 0..repeat {
        let started = Instant::now();
        read(k)?;
        samples.push(started.elapsed());
    }
    Ok(percentiles(&mut samples))
}

/// A spread of customer numbers below `n`, different for each `k`.
fn pick(k: u64, n: u64) -> u64 {
    k.wrapping_mul(2_654_435_761).wrapping_add(12_345) % n
}

/// The reads at `n` customers, as printed lines.
fn measure(engine: &Engine, tenant: &TenantId, n: u64, repeat: u64) -> anyhow::Result<Vec<String>> {
    let page = PageRequest { limit: 50, cursor: None };
    let list = |sort: CustomerSort, search: Option<String>| -> anyhow::Result<usize> {
        let query = CustomerQuery { search, sort };
        Ok(engine.customers(tenant, &query, &page)?.rows.len())
    };
    let mut lines = Vec::new();
    let mut line = |what: &str, (p50, p99): (f64, f64)| {
        lines.push(format!("  {n:>9} customers  {what:<38} p50 {p50:>8.3} ms  p99 {p99:>8.3} ms"));
    };
    line(
        "read customer",
        time(repeat, |k| {
            engine.customer(tenant, &customer_id(pick(k, n))?)?;
            Ok(())
        })?,
    );
    line(
        "list page by balance (50)",
        time(repeat, |_| list(CustomerSort::Balance, None).map(drop))?,
    );
    line(
        "list page by -balance (50)",
        time(repeat, |_| list(CustomerSort::BalanceDesc, None).map(drop))?,
    );
    line("list page by name (50)", time(repeat, |_| list(CustomerSort::Name, None).map(drop))?);
    line(
        "search by made-up word of name (1 hit)",
        time(repeat, |k| {
            let hits = list(CustomerSort::Name, Some(code(pick(k, n)).to_uppercase()))?;
            anyhow::ensure!(hits == 1, "a search by word found {hits} customers");
            Ok(())
        })?,
    );
    line(
        "search by number in name (1 hit)",
        time(repeat, |k| {
            let hits = list(CustomerSort::Name, Some(format!("{:07}", pick(k, n))))?;
            anyhow::ensure!(hits == 1, "a search by number found {hits} customers");
            Ok(())
        })?,
    );
    line(
        "search by email fragment (1 hit)",
        time(repeat, |k| {
            let i = pick(k, n);
            let hits = list(CustomerSort::Name, Some(format!("BILLING{i:07}@")))?;
            anyhow::ensure!(hits == 1, "a search by email found {hits} customers");
            Ok(())
        })?,
    );
    line(
        "search, 2 characters (no trigram)",
        time(repeat.min(20), |_| list(CustomerSort::Name, Some("zz".to_owned())).map(drop))?,
    );
    Ok(lines)
}

/// `settle bench reads`.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
pub(crate) fn run(args: &ReadsArgs) -> anyhow::Result<std::process::ExitCode> {
    let dir = tempfile::tempdir().context("making a temporary folder")?;
    let fresh = Fresh::open(args.postgres.as_deref(), dir.path(), "reads")?;
    let outcome = run_on(args, &fresh);
    fresh.close()?;
    for line in outcome? {
        println!("{line}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn run_on(args: &ReadsArgs, fresh: &Fresh) -> anyhow::Result<Vec<String>> {
    let store = Arc::clone(&fresh.store);
    let engine = Engine::new(Arc::clone(&store), Arc::new(SystemClock), Arc::new(RandomIds));
    let tenant = engine.create_tenant("Reads")?.tenant_id;
    let mut lines = vec![format!(
        "settle bench reads: {}, {} repeats; customers loaded {LOAD_BATCH} per transaction",
        if args.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        args.repeat
    )];
    let mut loaded = 0;
    for &n in &args.customers {
        anyhow::ensure!(n > loaded, "--customers must ascend");
        let started = Instant::now();
        load(store.as_ref(), &tenant, loaded, n)?;
        if loaded == 0 {
            for i in 0..WITH_INVOICES.min(n) {
                invoice(&engine, &tenant, i)?;
            }
        }
        lines.push(format!(
            "  loaded {} customers in {:.1} s",
            n - loaded,
            started.elapsed().as_secs_f64()
        ));
        loaded = n;
        fresh.settle_statistics()?;
        lines.push(merge_search_index(&engine)?);
        lines.extend(measure(&engine, &tenant, n, args.repeat)?);
    }
    Ok(lines)
}

/// What `settle serve` does to the customer search index soon after a load: merge it into one
/// segment when the load left it in many. Reported as a line.
fn merge_search_index(engine: &Engine) -> anyhow::Result<String> {
    let segments = engine.search_index_segments()?;
    let started = Instant::now();
    let steps = crate::upkeep::merge_search_index(engine, Duration::ZERO)?;
    Ok(if steps == 0 {
        format!("  search index in {segments} segments: left as it is, as settle serve would")
    } else {
        format!(
            "  search index merged from {segments} segments into {} in {steps} steps, {:.1} s, \
             as settle serve does",
            engine.search_index_segments()?,
            started.elapsed().as_secs_f64()
        )
    })
}

/// Posts an invoice of a few dollars to customer `i`.
fn invoice(engine: &Engine, tenant: &TenantId, i: u64) -> anyhow::Result<()> {
    let cents = i64::try_from(100 + (i * 7_919) % 100_000)?;
    let new = NewDocument {
        kind: DocumentKind::Invoice,
        customer_id: customer_id(i)?,
        items: vec![NewItem {
            description: "Service".into(),
            amount: Some(Amount::from(settle_core::money::Money::new(cents, Currency::USD))),
            ..NewItem::default()
        }],
        invoice_date: None,
        due_date: None,
        adjusts_invoice_id: None,
        reason: None,
        post: true,
    };
    engine.create_document(tenant, new)?;
    Ok(())
}
