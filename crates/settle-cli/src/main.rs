//! The `settle` binary: the composition root. It reads configuration, opens the store, builds
//! the real clock and id generator, and runs a command.

mod backup;
mod bench;
mod billing;
mod config;
mod demo;
mod imports;
mod logs;
mod metrics_server;
mod shutdown;
mod system;
mod upkeep;
mod users;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{CommandFactory as _, Parser, Subcommand};
use settle_core::ids::IdGen as _;
use settle_engine::{Engine, ExportFormat};

use settle_store_sqlite::Durability;

use crate::config::{DatabaseArg, StoreUrl};

/// What `settle --version` prints after the name: the version and the git commit it was built
/// from ("unknown" when built outside a git checkout).
const VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SETTLE_GIT_COMMIT"), ")");

#[derive(Parser)]
#[command(
    name = "settle",
    version = VERSION,
    about = "Settle: an accounts-receivable ledger you can explain line by line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        #[command(flatten)]
        store: DatabaseArg,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, env = "SETTLE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Admin API key to create on an empty store (at least 16 characters).
        #[arg(long, env = "SETTLE_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Load the sample data first when the store has no customers.
        #[arg(long)]
        demo: bool,
        /// How long idempotency keys are kept: hours or days, as `48h` or `3d`; at least 24h.
        #[arg(
            long,
            env = "SETTLE_IDEMPOTENCY_RETENTION",
            default_value = "48h",
            value_name = "DURATION"
        )]
        idempotency_retention: String,
        /// Where people and customers reach this server; payment link URLs start with it.
        /// Default: http:// and the address it listens on.
        #[arg(long, env = "SETTLE_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        /// How long a back-office session lasts without a request: minutes, hours or days, as
        /// `30m`, `8h` or `1d`.
        #[arg(long, env = "SETTLE_SESSION_IDLE", default_value = "8h", value_name = "DURATION")]
        session_idle: String,
        /// Run a bill run for each tenant every day once the tenant's local time reaches
        /// HH:MM (24-hour), as of the tenant's date. Default: off.
        #[arg(long, env = "SETTLE_BILL_DAILY_AT", value_name = "HH:MM")]
        bill_daily_at: Option<String>,
        /// On SIGTERM or SIGINT, how long requests in flight (and a bill run's batch) get to
        /// finish before the process exits anyway: seconds or minutes, as `30s` or `2m`.
        #[arg(
            long,
            env = "SETTLE_SHUTDOWN_TIMEOUT",
            default_value = "30s",
            value_name = "DURATION"
        )]
        shutdown_timeout: String,
        /// Serve `GET /metrics` (Prometheus text format) on this address. Default: off.
        #[arg(long, env = "SETTLE_METRICS_LISTEN", value_name = "ADDR")]
        metrics_listen: Option<String>,
        /// How log lines are written on stderr. Default: text on a terminal, JSON otherwise.
        #[arg(long, env = "SETTLE_LOG_FORMAT", value_enum)]
        log_format: Option<logs::LogFormat>,
    },
    /// Invoice every subscription period that started on or before a date and is not yet
    /// invoiced, with a progress bar; running it again for the same date creates nothing.
    BillRun {
        /// The date (YYYY-MM-DD): periods that started on or before it are invoiced.
        #[arg(long, value_name = "DATE")]
        as_of: chrono::NaiveDate,
        #[command(flatten)]
        store: DatabaseArg,
        /// The tenant (default: the first one created).
        #[arg(long)]
        tenant: Option<String>,
        /// Customers billed per database transaction: larger batches bill faster, and a
        /// concurrent write waits for at most one batch.
        #[arg(long, value_name = "CUSTOMERS", default_value_t = settle_engine::BILL_RUN_BATCH,
              value_parser = batch_size)]
        batch: usize,
        /// Batches in flight at once, each on a connection of its own (default: 2 on
        /// PostgreSQL, where a second batch uses the server time the first leaves idle; 1 on
        /// SQLite, which commits one writer at a time).
        #[arg(long, value_name = "BATCHES", value_parser = workers)]
        workers: Option<usize>,
    },
    /// Load sample customers, invoices, payments and credits (each seed's situation) into an
    /// empty store.
    Demo {
        #[command(flatten)]
        store: DatabaseArg,
    },
    /// Rebuild every projection from the journal and compare.
    Verify {
        #[command(flatten)]
        store: DatabaseArg,
    },
    /// Write a tenant's journal to stdout as a Beancount ledger or as CSV (one row per posting).
    Export {
        /// `beancount` or `csv`.
        #[arg(long, value_enum)]
        format: ExportFormatArg,
        #[command(flatten)]
        store: DatabaseArg,
        /// The tenant (default: the first one created).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Measure operations per second of a realistic mix against the raw store.
    #[command(args_conflicts_with_subcommands = true)]
    Bench {
        /// `http`: the workload over HTTP; `reads`: reads at 10,000 and 1,000,000 customers;
        /// `bill-run`: a bill run over N subscriptions; `import`: importing N open invoices.
        #[command(subcommand)]
        kind: Option<BenchKind>,
        /// Rounds of the mix (each is four operations).
        #[arg(long, default_value_t = 500)]
        rounds: u64,
        /// Use SQLite synchronous=NORMAL (can lose the last commits on power loss).
        #[arg(long)]
        normal_sync: bool,
        /// Concurrent clients, each on its own customers.
        #[arg(long, default_value_t = 1)]
        clients: u64,
        /// Also run on PostgreSQL, in a fresh database made next to this URL's.
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Import customers or open invoices from a CSV file (docs/IMPORT.md); rows imported
    /// before are skipped, so running the same file again creates nothing.
    Import(imports::ImportArgs),
    /// Copy a live SQLite store to a new file while `serve` keeps writing, then verify the copy.
    Backup(backup::BackupArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or PowerShell.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage the back office's staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum BenchKind {
    /// Settle as a client sees it: `settle serve` on a fresh store driven over HTTP, beside the
    /// raw limits of the same store.
    Http(bench::http::HttpArgs),
    /// Reading a customer, a page of the customer list and a search as the customers grow.
    Reads(bench::reads::ReadsArgs),
    /// A bill run over N monthly subscriptions (invoices per second, peak memory) beside the
    /// raw bulk-insert rate of the same store.
    BillRun(bench::bill_run::BillRunArgs),
    /// `settle import invoices` of N generated open invoices (invoices per second) beside
    /// the raw bulk-insert rate of the same store.
    Import(bench::import::ImportArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff user and print it, with a generated password unless one is read from
    /// stdin.
    Create {
        /// The user's email, used to sign in.
        email: String,
        /// What the user may do: the same powers as an API key of the role.
        #[arg(long, value_enum)]
        role: users::RoleArg,
        /// The tenant (default: the first one created).
        #[arg(long)]
        tenant: Option<String>,
        /// Read the password (at least 12 characters) from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        store: DatabaseArg,
    },
}

/// The formats of `settle export`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormatArg {
    /// A Beancount ledger (`bean-check` accepts it).
    Beancount,
    /// RFC 4180 CSV, one row per posting.
    Csv,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and print its id and a new admin key.
    Create {
        /// The tenant's name.
        name: String,
        #[command(flatten)]
        store: DatabaseArg,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logs::init(match &cli.command {
        Command::Serve { log_format, .. } => log_format.unwrap_or_else(logs::LogFormat::for_stderr),
        _ => logs::LogFormat::Text,
    });
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// An engine over the store at `database`; only `serve` passes `create`, every other command
/// refuses a store that does not exist yet.
fn engine(database: &str, create: bool) -> anyhow::Result<Engine> {
    let store = StoreUrl::parse(database)?.open(create)?;
    Ok(Engine::new(store, Arc::new(system::SystemClock), Arc::new(system::RandomIds)))
}

#[allow(clippy::print_stdout, reason = "the command line prints its results")]
/// `--batch`: 1 to 100,000 customers per transaction.
pub(crate) fn batch_size(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err("a number of customers from 1 to 100000".to_owned()),
    }
}

/// `--workers`: 1 to 16 batches in flight.
pub(crate) fn workers(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=16).contains(&n) => Ok(n),
        _ => Err("a number of batches from 1 to 16".to_owned()),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        serve @ Command::Serve { .. } => run_serve(&ServeArgs::of(serve)),
        Command::BillRun { as_of, store, tenant, batch, workers } => {
            let engine = engine(&store.database, false)?.with_bill_run_batch(batch);
            let engine = match workers {
                Some(batches) => engine.with_bill_run_workers(batches),
                None => engine,
            };
            let tenant_id = users::tenant_or_first(&engine, tenant.as_deref())?;
            let run = billing::bill_run(&engine, &tenant_id, as_of)?;
            Ok(if run.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Demo { store } => {
            let engine = engine(&store.database, false)?;
            load_demo(&engine, false)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { store } => verify(&store.database),
        Command::Export { format, store, tenant } => {
            let format = match format {
                ExportFormatArg::Beancount => ExportFormat::Beancount,
                ExportFormatArg::Csv => ExportFormat::Csv,
            };
            export(&engine(&store.database, false)?, format, tenant.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { kind: Some(BenchKind::Http(args)), .. } => bench::http::run(&args),
        Command::Bench { kind: Some(BenchKind::Reads(args)), .. } => bench::reads::run(&args),
        Command::Bench { kind: Some(BenchKind::BillRun(args)), .. } => bench::bill_run::run(&args),
        Command::Bench { kind: Some(BenchKind::Import(args)), .. } => bench::import::run(&args),
        Command::Bench { kind: None, rounds, normal_sync, clients, postgres } => {
            run_bench(rounds, normal_sync, clients, postgres)
        }
        Command::Backup(args) => backup::run(&args),
        Command::Import(args) => imports::run(&args),
        Command::Completions { shell } => completions(shell),
        Command::Tenant { command: TenantCommand::Create { name, store } } => {
            let new = engine(&store.database, false)?.create_tenant(&name)?;
            println!("tenant: {}", new.tenant_id);
            println!("admin key (shown only once): {}", new.key);
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::Create { email, role, tenant, password_stdin, store },
        } => {
            let engine = engine(&store.database, false)?;
            users::create(&engine, &email, role, tenant.as_deref(), password_stdin)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `settle verify`: replays the journal and prints every difference and the summary; exit 0
/// only when clean.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
fn verify(database: &str) -> anyhow::Result<ExitCode> {
    let report = engine(database, false)?.verify().context("replaying the journal")?;
    for difference in &report.differences {
        println!("{difference}");
    }
    println!("{report}");
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `settle completions SHELL`: the completion script of this very command line, on stdout.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    clap_complete::generate(shell, &mut Cli::command(), "settle", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// The options of `settle serve`.
struct ServeArgs {
    database: String,
    listen: String,
    api_key: Option<String>,
    demo: bool,
    idempotency_retention: String,
    public_url: Option<String>,
    session_idle: String,
    bill_daily_at: Option<String>,
    shutdown_timeout: String,
    metrics_listen: Option<String>,
}

impl ServeArgs {
    /// The options of a `Command::Serve` (the log format is read before, in `main`).
    fn of(command: Command) -> ServeArgs {
        let Command::Serve {
            store: DatabaseArg { database },
            listen,
            api_key,
            demo,
            idempotency_retention,
            public_url,
            session_idle,
            bill_daily_at,
            shutdown_timeout,
            metrics_listen,
            log_format: _,
        } = command
        else {
            unreachable!("ServeArgs::of is called on `serve` only")
        };
        ServeArgs {
            database,
            listen,
            api_key,
            demo,
            idempotency_retention,
            public_url,
            session_idle,
            bill_daily_at,
            shutdown_timeout,
            metrics_listen,
        }
    }
}

/// `settle serve`: checks its options and the store, makes the first tenant, API key and
/// admin if there are none, and serves.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
fn run_serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(key) = &args.api_key
        && key.chars().count() < 16
    {
        anyhow::bail!("SETTLE_API_KEY must be at least 16 characters");
    }
    let retention = config::parse_retention(&args.idempotency_retention).map_err(|why| {
        anyhow::anyhow!("--idempotency-retention {:?}: {why}", args.idempotency_retention)
    })?;
    let idle = config::parse_session_idle(&args.session_idle)
        .map_err(|why| anyhow::anyhow!("--session-idle {:?}: {why}", args.session_idle))?;
    let public_url = args
        .public_url
        .as_deref()
        .map(config::parse_public_url)
        .transpose()
        .map_err(|why| anyhow::anyhow!("--public-url: {why}"))?;
    let bill_daily_at = args.bill_daily_at.as_deref().map(billing::parse_time).transpose()?;
    let shutdown_timeout = shutdown::parse_timeout(&args.shutdown_timeout)
        .map_err(|why| anyhow::anyhow!("--shutdown-timeout {:?}: {why}", args.shutdown_timeout))?;
    let admin_env = users::admin_from_env()?;
    let stop = settle_engine::StopSignal::default();
    let engine = engine(&args.database, true)?
        .with_idempotency_retention(retention)
        .with_session_idle(idle)
        .with_stop(stop.clone());
    let uneven = engine.audit_trial_balances().context("auditing the journal")?;
    if !uneven.is_empty() {
        anyhow::bail!("the journal does not balance, run `settle verify`: {}", uneven.join("; "));
    }
    let api_key = args.api_key.as_deref();
    if let Some(new) = engine.bootstrap(api_key).context("creating the first tenant")? {
        println!("Created tenant {} with admin API key (shown only once):", new.tenant_id);
        println!("  {}", new.key);
    }
    let admin = users::bootstrap_admin(&engine, &admin_env)?;
    if args.demo {
        load_demo(&engine, true)?;
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let metrics_listen = args.metrics_listen.clone();
    let options =
        ServeOptions { public_url, admin, bill_daily_at, stop, shutdown_timeout, metrics_listen };
    runtime.block_on(serve(engine, &args.listen, options))?;
    // Engine calls still on the blocking pool (a back-office bill run's batch) get the rest of
    // a moment; then the last engine clones, and so the stores, are dropped and closed.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    tracing::info!("Settle stopped");
    Ok(ExitCode::SUCCESS)
}

/// `settle bench`: the mix and the raw pattern on SQLite, then on PostgreSQL if asked.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
fn run_bench(
    rounds: u64,
    normal_sync: bool,
    clients: u64,
    postgres: Option<String>,
) -> anyhow::Result<ExitCode> {
    if clients == 0 || rounds < clients {
        anyhow::bail!("--clients must be at least 1 and at most --rounds");
    }
    let dir = tempfile::tempdir().context("making a temporary folder")?;
    let durability = if normal_sync { Durability::Normal } else { Durability::Full };
    println!(
        "settle bench: {} cores; mix = post a 3-item invoice with tax, record a payment, apply it, read the customer; SQLite synchronous={}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if normal_sync { "NORMAL" } else { "FULL" }
    );
    let sqlite = bench::run_sqlite(dir.path(), rounds, clients, durability)?;
    for line in sqlite.lines() {
        println!("{line}");
    }
    if let Some(url) = postgres {
        for line in bench::run_postgres(&url, rounds, clients, &sqlite.rows_per_txn)?.lines() {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the journal of `tenant` (default: the first tenant) to stdout.
fn export(engine: &Engine, format: ExportFormat, tenant: Option<&str>) -> anyhow::Result<()> {
    let tenant_id = users::tenant_or_first(engine, tenant)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    engine.export_journal(&tenant_id, format, &mut out).context("exporting the journal")?;
    out.flush().context("writing the export")?;
    Ok(())
}

/// Loads the demo; with `only_if_empty`, a store that has customers is left alone quietly.
#[allow(clippy::print_stdout, reason = "the command line prints what it loaded")]
fn load_demo(engine: &Engine, only_if_empty: bool) -> anyhow::Result<()> {
    let today = system::SystemClock.today();
    match demo::load(engine, today)? {
        Some(report) => {
            println!("Loaded the demo data:");
            for line in report.lines {
                println!("  - {line}");
            }
            Ok(())
        }
        None if only_if_empty => {
            println!("The store already has customers; the demo data was not loaded again.");
            Ok(())
        }
        None => anyhow::bail!(
            "the store already has customers; the demo loads into a store without any"
        ),
    }
}

/// The addresses `settle serve` listens on.
struct Listen<'a> {
    /// The API and the back office.
    app: &'a str,
    /// `GET /metrics`, when asked for.
    metrics: Option<&'a str>,
}

/// How long the runtime waits for blocking engine calls once the server has stopped.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(5);

/// What `serve` needs besides the engine and the address.
struct ServeOptions {
    public_url: Option<String>,
    admin: Option<users::FirstAdmin>,
    bill_daily_at: Option<chrono::NaiveTime>,
    /// The engine's stop signal, raised on SIGTERM or SIGINT.
    stop: settle_engine::StopSignal,
    shutdown_timeout: std::time::Duration,
    /// Where `GET /metrics` is served, when asked for.
    metrics_listen: Option<String>,
}

async fn serve(engine: Engine, listen: &str, options: ServeOptions) -> anyhow::Result<()> {
    let ServeOptions { public_url, admin, bill_daily_at, stop, shutdown_timeout, metrics_listen } =
        options;
    let shutdown = shutdown::Shutdown::on_signals(stop)?;
    let listen = Listen { app: listen, metrics: metrics_listen.as_deref() };
    let listener = tokio::net::TcpListener::bind(listen.app)
        .await
        .with_context(|| format!("listening on {}", listen.app))?;
    let addr = listener.local_addr()?;
    let metrics = match listen.metrics {
        Some(at) => Some(metrics_server::MetricsServer::bind(at).await?),
        None => None,
    };
    let public_url = public_url.unwrap_or_else(|| format!("http://{addr}"));
    {
        // Written at once, and a stdout nobody reads any more (a supervisor that kept only the
        // first lines) must not stop the server, so write errors are ignored.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Settle is listening on http://{addr}/ (API under http://{addr}/v1)");
        if let Some(metrics) = &metrics {
            let _ = writeln!(out, "Metrics: http://{}/metrics", metrics.local_addr()?);
        }
        let _ = writeln!(out, "{}", users::back_office_line(&public_url, admin.as_ref()));
        let _ = out.flush();
    }
    if let Some(metrics) = metrics {
        tokio::spawn(metrics.run(engine.clone()));
    }
    tokio::spawn(upkeep::prune_idempotency_keys(engine.clone()));
    tokio::spawn(upkeep::keep_search_index_merged(engine.clone()));
    let daily =
        bill_daily_at.map(|at| tokio::spawn(billing::daily(engine.clone(), at, shutdown.clone())));
    // The back office answers its own routes; everything else is the API's.
    let web = settle_web::WebConfig { public_url: Some(public_url.clone()) };
    let app = settle_api::mark_routes(settle_web::router(engine.clone(), web))
        .fallback_service(settle_api::router(engine, &public_url));
    let app = settle_api::observed(app, Arc::new(|| system::RandomIds.suffix()));
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().requested());
    let server = async { server.await.context("serving HTTP") };
    shutdown::serve_until_done(server, daily, shutdown, shutdown_timeout).await
}
