//! `settle bench http`: Settle measured as an outside client sees it. It starts `settle serve`
//! on a fresh store (or takes `--url`), drives the workload over HTTP with `--clients` clients
//! (per customer: create it, post a 3-line invoice, record a payment applied to it in the same
//! call, read the customer; then for `--seconds`: post a 1-line invoice, pay-and-apply, read,
//! over the client's own customers), checks every balance, runs `verify`, and prints ops/s and
//! p50/p99 per operation beside the raw limits of the same store measured in the same run.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use settle_store_sqlite::Durability;

/// The options of `settle bench http`.
#[derive(clap::Args)]
pub(crate) struct HttpArgs {
    /// Concurrent clients, each with its own customers.
    #[arg(long, default_value_t = 1)]
    clients: u64,
    /// How long the timed loop runs, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Customers per client.
    #[arg(long, default_value_t = 10)]
    customers: u64,
    /// Run `settle serve` on a fresh PostgreSQL database made next to this URL's (dropped
    /// afterwards) instead of a fresh SQLite file.
    #[arg(long, conflicts_with = "url")]
    postgres: Option<String>,
    /// Drive a server that is already running at this base URL (`http://host:port`) instead;
    /// its admin or clerk key comes from `--api-key`. Raw limits are then measured on a SQLite
    /// file in a temporary folder, or on `--raw-postgres`.
    #[arg(long)]
    url: Option<String>,
    /// The API key for `--url`.
    #[arg(long, env = "SETTLE_BENCH_API_KEY", hide_env_values = true, requires = "url")]
    api_key: Option<String>,
    /// With `--url`: measure the raw limits on a fresh database next to this PostgreSQL URL's.
    #[arg(long, requires = "url")]
    raw_postgres: Option<String>,
    /// Durable transactions per raw one-row and single-row-update measurement.
    #[arg(long, default_value_t = 2_000)]
    raw_transactions: u64,
}

/// What the bench's clients do, one kind per line of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    CreateCustomer,
    PostInvoice3,
    PostInvoice1,
    PayAndApply,
    ReadCustomer,
}

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::CreateCustomer => "create customer",
            Op::PostInvoice3 => "post 3-line invoice",
            Op::PostInvoice1 => "post 1-line invoice",
            Op::PayAndApply => "pay and apply",
            Op::ReadCustomer => "read customer",
        }
    }
}

/// Latencies of one client, by operation; `timed` only those of the timed loop.
#[derive(Default)]
struct Samples {
    setup: BTreeMap<Op, Vec<Duration>>,
    timed: BTreeMap<Op, Vec<Duration>>,
}

/// One client's connection to the server.
#[derive(Clone)]
struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    base: Arc<str>,
    key: Arc<str>,
    requests: Arc<AtomicU64>,
}

impl Api {
    /// Sends a request and returns the JSON answer, or an error naming the status and body.
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key));
        let payload = match body {
            Some(body) => {
                request = request
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("bench-{}-{n}", std::process::id()));
                Bytes::from(serde_json::to_vec(body)?)
            }
            None => Bytes::new(),
        };
        let response = self.client.request(request.body(Full::new(payload))?).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            anyhow::bail!("{method} {path}: {status}: {}", String::from_utf8_lossy(&bytes));
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// `call`, timed into `samples`.
    async fn timed(
        &self,
        samples: &mut BTreeMap<Op, Vec<Duration>>,
        op: Op,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let started = Instant::now();
        let answer = self.call(method, path, body).await?;
        samples.entry(op).or_default().push(started.elapsed());
        Ok(answer)
    }
}

/// A text field of an answer.
fn text<'a>(value: &'a Value, field: &str) -> anyhow::Result<&'a str> {
    value[field].as_str().with_context(|| format!("no {field} in {value}"))
}

/// Minor units as the API writes USD amounts.
fn usd(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// One customer of a client: its id and what it owes, as this client counts it.
struct Owed {
    id: String,
    receivable: u64,
}

/// Posts an invoice of `lines` lines of `line` minor units each for `owed`, pays all of it but
/// 1.00 applied to it in the same call, and reads the customer back, checking what it owes.
async fn post_pay_read(
    api: &Api,
    samples: &mut BTreeMap<Op, Vec<Duration>>,
    owed: &mut Owed,
    amounts: &[u64],
) -> anyhow::Result<()> {
    let items: Vec<Value> = amounts
        .iter()
        .enumerate()
        .map(|(i, a)| json!({"description": format!("Line {}", i + 1), "amount": usd(*a)}))
        .collect();
    let op = if amounts.len() == 1 { Op::PostInvoice1 } else { Op::PostInvoice3 };
    let body = json!({"customer_id": owed.id, "items": items, "post": true});
    let invoice = api.timed(samples, op, "POST", "/v1/invoices", Some(&body)).await?;
    let total: u64 = amounts.iter().sum();
    anyhow::ensure!(text(&invoice, "total")? == usd(total), "invoice total: {invoice}");
    let paid = total - 100;
    let body = json!({
        "customer_id": owed.id, "amount": usd(paid), "method": "card",
        "applications": [{"target_id": text(&invoice, "id")?, "amount": usd(paid)}],
    });
    let payment = api.timed(samples, Op::PayAndApply, "POST", "/v1/payments", Some(&body)).await?;
    anyhow::ensure!(text(&payment, "unapplied")? == "0.00", "payment not applied: {payment}");
    owed.receivable += 100;
    let path = format!("/v1/customers/{}", owed.id);
    let customer = api.timed(samples, Op::ReadCustomer, "GET", &path, None).await?;
    anyhow::ensure!(
        text(&customer, "receivable")? == usd(owed.receivable),
        "customer {} owes {}, expected {}",
        owed.id,
        text(&customer, "receivable")?,
        usd(owed.receivable)
    );
    Ok(())
}

/// One client: makes its customers, then loops until `deadline`. Returns its samples and its
/// customers with what each owes.
async fn client(
    api: Api,
    index: u64,
    customers: u64,
    seconds: u64,
    start: Arc<tokio::sync::Barrier>,
) -> anyhow::Result<(Samples, Vec<Owed>, Duration)> {
    let mut samples = Samples::default();
    let mut owed = Vec::new();
    for i in 0..customers {
        let body = json!({"name": format!("Bench client {index} customer {i}")});
        let customer = api
            .timed(&mut samples.setup, Op::CreateCustomer, "POST", "/v1/customers", Some(&body))
            .await?;
        let mut one = Owed { id: text(&customer, "id")?.to_owned(), receivable: 0 };
        post_pay_read(&api, &mut samples.setup, &mut one, &[3_333, 2_500, 1_250]).await?;
        owed.push(one);
    }
    start.wait().await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut next = 0;
    let count = owed.len();
    while Instant::now() < deadline {
        let one = &mut owed[next % count];
        post_pay_read(&api, &mut samples.timed, one, &[4_200]).await?;
        next += 1;
    }
    Ok((samples, owed, started.elapsed()))
}

/// `settle serve` on a fresh store, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this binary's `serve` on `database` at a free port with the admin key `key`, and
/// waits for the line that says where it listens.
fn start_server(database: &str, key: &str) -> anyhow::Result<Server> {
    let exe = std::env::current_exe().context("finding the settle binary")?;
    let mut child = Command::new(exe)
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .env("SETTLE_API_KEY", key)
        .env_remove("SETTLE_ADMIN_EMAIL")
        .env_remove("SETTLE_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting settle serve")?;
    let stdout = child.stdout.take().context("settle serve's output")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base = loop {
        let Some(line) = lines.next() else {
            let _ = child.kill();
            anyhow::bail!("settle serve ended before it listened");
        };
        let line = line?;
        if let Some(rest) = line.strip_prefix("Settle is listening on ") {
            break rest.split('/').take(3).collect::<Vec<_>>().join("/");
        }
    };
    // Keeps reading what the server prints, so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Server { child, base })
}

/// Where the run's store is: a temporary SQLite file or a fresh PostgreSQL database.
enum Target {
    Sqlite { dir: tempfile::TempDir },
    Postgres { admin_url: String, name: String, url: String },
    Remote { dir: tempfile::TempDir, raw_postgres: Option<(String, String, String)> },
}

impl Target {
    fn sqlite_path(dir: &Path) -> PathBuf {
        dir.join("bench.db")
    }
}

/// A fresh database named for this process next to `admin_url`'s: (admin url, name, url).
fn fresh_postgres(admin_url: &str, what: &str) -> anyhow::Result<(String, String, String)> {
    let name = format!("settle_bench_{what}_{}", std::process::id());
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => anyhow::bail!(
            "the PostgreSQL URL names no database: {}",
            crate::config::without_password(admin_url)
        ),
    };
    settle_store_postgres::create_database(admin_url, &name)
        .with_context(|| format!("connecting to {}", crate::config::without_password(admin_url)))?;
    Ok((admin_url.to_owned(), name, url))
}

/// The rates of the raw limits, as printed lines and the ratio's denominator.
struct RawLimits {
    lines: Vec<String>,
    /// The rate Settle's mixed ops/s is compared with, and its name.
    reference: (f64, &'static str),
}

/// A rate of `count` things in `elapsed`.
#[allow(clippy::float_arithmetic, clippy::cast_precision_loss, reason = "a printed rate")]
fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}

/// Runs `each(share)` on `threads` threads splitting `total`, and the rate of the whole.
fn timed_threads(
    threads: u64,
    total: u64,
    each: impl Fn(u64, u64) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<f64> {
    let share = (total / threads.max(1)).max(1);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let each = &each;
        let workers: Vec<_> = (0..threads).map(|t| scope.spawn(move || each(t, share))).collect();
        for worker in workers {
            worker.join().map_err(|_| anyhow::anyhow!("a raw client panicked"))??;
        }
        Ok(())
    })?;
    Ok(rate(share * threads, started.elapsed()))
}

/// Rows of the bulk insert.
const BULK_ROWS: u64 = 100_000;

/// SQLite's raw limits. The one-row transactions run on one connection whatever the number of
/// clients: SQLite has one writer, and more connections would only add busy-wait sleeps to the
/// measurement, which would flatter the ratio.
fn raw_sqlite(dir: &Path, transactions: u64) -> anyhow::Result<RawLimits> {
    let path = dir.join("raw.db");
    let clients = 1;
    settle_store_sqlite::raw_one_row_transactions(&path, Durability::Full, 0)?;
    let one_row = timed_threads(clients, transactions, |_, share| {
        Ok(settle_store_sqlite::raw_one_row_transactions(&path, Durability::Full, share)?)
    })?;
    let started = Instant::now();
    settle_store_sqlite::raw_bulk_insert(&path, Durability::Full, BULK_ROWS)?;
    let bulk = rate(BULK_ROWS, started.elapsed());
    Ok(RawLimits {
        lines: vec![
            format!(
                "  raw one-row durable transaction ({clients} connection(s)): {one_row:>9.0} txn/s"
            ),
            format!("  raw bulk insert ({BULK_ROWS} rows, one transaction): {bulk:>9.0} rows/s"),
        ],
        reference: (one_row, "one-row durable transaction"),
    })
}

fn raw_postgres(url: &str, clients: u64, transactions: u64) -> anyhow::Result<RawLimits> {
    settle_store_postgres::raw_prepare(url)?;
    let one_row = timed_threads(clients, transactions, |_, share| {
        Ok(settle_store_postgres::raw_one_row_transactions(url, share)?)
    })?;
    let update = timed_threads(clients, transactions, |t, share| {
        Ok(settle_store_postgres::raw_single_row_updates(url, share, t)?)
    })?;
    let started = Instant::now();
    settle_store_postgres::raw_bulk_insert(url, BULK_ROWS)?;
    let bulk = rate(BULK_ROWS, started.elapsed());
    Ok(RawLimits {
        lines: vec![
            format!(
                "  raw one-row durable transaction ({clients} connection(s)): {one_row:>9.0} txn/s"
            ),
            format!(
                "  raw single-row update, pgbench-like ({clients} connections, {} accounts): {update:>9.0} txn/s",
                settle_store_postgres::RAW_ACCOUNTS
            ),
            format!("  raw bulk insert ({BULK_ROWS} rows, one statement): {bulk:>9.0} rows/s"),
        ],
        reference: (update, "single-row update"),
    })
}

/// p50 and p99 of `samples` in milliseconds.
#[allow(clippy::float_arithmetic, reason = "printed milliseconds")]
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |p: usize| {
        let i = (samples.len() * p / 100).min(samples.len().saturating_sub(1));
        samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
    };
    (at(50), at(99))
}

/// Drives the clients against `base` with `key`; returns the printed lines and the mixed rate.
fn drive(args: &HttpArgs, base: &str, key: &str) -> anyhow::Result<(Vec<String>, f64, Vec<Owed>)> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let api = Api {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: base.into(),
            key: key.into(),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let start = Arc::new(tokio::sync::Barrier::new(usize::try_from(args.clients)?));
        let tasks: Vec<_> = (0..args.clients)
            .map(|i| {
                let (api, start) = (api.clone(), Arc::clone(&start));
                tokio::spawn(client(api, i, args.customers.max(1), args.seconds, start))
            })
            .collect();
        let mut setup: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
        let mut timed: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
        let mut customers = Vec::new();
        let mut elapsed = Duration::ZERO;
        for task in tasks {
            let (samples, owed, took) = task.await??;
            for (op, mut v) in samples.setup {
                setup.entry(op).or_default().append(&mut v);
            }
            for (op, mut v) in samples.timed {
                timed.entry(op).or_default().append(&mut v);
            }
            customers.extend(owed);
            elapsed = elapsed.max(took);
        }
        let ops: u64 = timed.values().map(|v| v.len() as u64).sum();
        let mixed = rate(ops, elapsed);
        let mut lines = vec![format!(
            "  settle over HTTP: {mixed:>9.0} ops/s mixed ({ops} ops in {:.1} s)",
            elapsed.as_secs_f64()
        )];
        for (phase, samples) in [("setup", &mut setup), ("timed", &mut timed)] {
            for (op, v) in samples.iter_mut() {
                let (p50, p99) = percentiles(v);
                lines.push(format!(
                    "    {phase} {:<20} n={:<7} p50 {p50:>7.2} ms  p99 {p99:>7.2} ms",
                    op.label(),
                    v.len()
                ));
            }
        }
        // Every balance, read once more after all clients stopped.
        for owed in &customers {
            let customer = api.call("GET", &format!("/v1/customers/{}", owed.id), None).await?;
            anyhow::ensure!(
                text(&customer, "receivable")? == usd(owed.receivable)
                    && text(&customer, "balance")? == format!("-{}", usd(owed.receivable)),
                "customer {} does not owe what its client counted: {customer}",
                owed.id
            );
        }
        lines.push(format!("  every balance checked: {} customers", customers.len()));
        Ok((lines, mixed, customers))
    })
}

/// A random admin key for the fresh server (24 letters and digits).
fn fresh_key() -> String {
    use settle_core::ids::IdGen as _;
    crate::system::RandomIds.suffix()
}

/// `settle bench http`.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
pub(crate) fn run(args: &HttpArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::ensure!(
        args.clients >= 1 && args.seconds >= 1,
        "--clients and --seconds must be at least 1"
    );
    let target = match (&args.url, &args.postgres) {
        (Some(_), _) => Target::Remote {
            dir: tempfile::tempdir()?,
            raw_postgres: args
                .raw_postgres
                .as_deref()
                .map(|u| fresh_postgres(u, "raw"))
                .transpose()?,
        },
        (None, Some(admin)) => {
            let (admin_url, name, url) = fresh_postgres(admin, "http")?;
            Target::Postgres { admin_url, name, url }
        }
        (None, None) => Target::Sqlite { dir: tempfile::tempdir()? },
    };
    let outcome = run_on(args, &target);
    match &target {
        Target::Postgres { admin_url, name, .. }
        | Target::Remote { raw_postgres: Some((admin_url, name, _)), .. } => {
            settle_store_postgres::drop_database(admin_url, name)?;
        }
        _ => {}
    }
    let lines = outcome?;
    for line in lines {
        println!("{line}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn run_on(args: &HttpArgs, target: &Target) -> anyhow::Result<Vec<String>> {
    let (store, database) = match target {
        Target::Sqlite { dir } => (
            "SQLite synchronous=FULL",
            Some(format!("sqlite:{}", Target::sqlite_path(dir.path()).display())),
        ),
        Target::Postgres { url, .. } => ("PostgreSQL", Some(url.clone())),
        Target::Remote { .. } => ("the server at --url", None),
    };
    let mut lines = vec![format!(
        "settle bench http: {store}, {} clients x {} customers, {} s timed; {} cores",
        args.clients,
        args.customers,
        args.seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    )];
    let (drove, mixed) = match (&database, &args.url) {
        (Some(database), _) => {
            let key = fresh_key();
            let server = start_server(database, &key)?;
            let (drove, mixed, _) = drive(args, &server.base, &key)?;
            drop(server);
            let report = crate::engine(database, false)?.verify().context("verify")?;
            anyhow::ensure!(
                report.is_clean(),
                "verify found differences: {:#?}",
                report.differences
            );
            lines.push(format!("  verify: {report}"));
            (drove, mixed)
        }
        (None, Some(url)) => {
            let key = args.api_key.as_deref().context("--url needs --api-key")?;
            let (drove, mixed, _) = drive(args, url.trim_end_matches('/'), key)?;
            lines.push("  verify: run `settle verify` on the server's store".to_owned());
            (drove, mixed)
        }
        (None, None) => anyhow::bail!("no store and no --url"),
    };
    lines.extend(drove);
    let raw = match target {
        Target::Sqlite { dir } | Target::Remote { dir, raw_postgres: None } => {
            raw_sqlite(dir.path(), args.raw_transactions)?
        }
        Target::Postgres { url, .. } | Target::Remote { raw_postgres: Some((_, _, url)), .. } => {
            raw_postgres(url, args.clients, args.raw_transactions)?
        }
    };
    lines.extend(raw.lines);
    let (reference, name) = raw.reference;
    #[allow(clippy::float_arithmetic, reason = "a printed ratio")]
    let ratio = mixed / reference.max(f64::EPSILON);
    lines.push(format!("  ratio settle mixed ops/s / raw {name}: {ratio:.2}"));
    Ok(lines)
}
