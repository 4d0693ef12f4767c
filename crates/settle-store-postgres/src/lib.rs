//! The PostgreSQL adapter of Settle's storage port: a pool of connections, each write
//! transaction at READ COMMITTED with a row lock per customer (`SELECT ... FOR UPDATE`), so
//! commands for different customers run in parallel, and read transactions at REPEATABLE READ
//! so each sees one snapshot.

mod raw;
mod rows;
mod tls;
mod tx;

use std::collections::HashMap;
use std::time::Duration;

use postgres::{Client, Statement};
use settle_core::ids::TenantId;
use settle_store::{Store, StoreError, StoreResult, StoreTx};

pub use crate::raw::{
    RAW_ACCOUNTS, raw_bulk_insert, raw_one_row_transactions, raw_prepare, raw_single_row_updates,
};
use crate::tls::Target;
use crate::tx::PgTx;

/// The migrations, in order, with the version each records in `schema_migration`.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_aging.sql")),
    (3, include_str!("../migrations/0003_bounds.sql")),
    (4, include_str!("../migrations/0004_feed_and_expiry.sql")),
    (5, include_str!("../migrations/0005_staff.sql")),
    (6, include_str!("../migrations/0006_business_name.sql")),
    (7, include_str!("../migrations/0007_subscriptions.sql")),
    (8, include_str!("../migrations/0008_document_number_sequences.sql")),
    (9, include_str!("../migrations/0009_customer_search.sql")),
    (10, include_str!("../migrations/0010_subscription_by_customer_due.sql")),
    (11, include_str!("../migrations/0011_external_ref.sql")),
    (12, include_str!("../migrations/0012_bill_run_progress.sql")),
    (13, include_str!("../migrations/0013_shard_by_customer.sql")),
];

/// The advisory lock key that serializes migrations between processes starting at once.
const MIGRATION_LOCK: i64 = 0x5e77_1e00_0001;

/// Most connections the pool opens.
const POOL_SIZE: u32 = 16;

/// Connections the pool keeps open while idle.
const MIN_IDLE: u32 = 1;

/// How long a caller waits for a free connection before the store reports itself unavailable.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`Store::check_ready`] waits for a connection: a readiness probe answers quickly.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Prepared statements kept per connection (more than Settle's distinct statements); past it the
/// cache starts over.
const STATEMENT_CACHE: usize = 256;

/// How often, and how long between, [`Store::await_feed`] looks whether the feed has caught up
/// (about two seconds in all; Settle's write transactions last milliseconds).
const FEED_WAIT_POLLS: u32 = 1_000;
const FEED_WAIT_STEP: Duration = Duration::from_millis(2);

/// A Settle store in a PostgreSQL database.
///
/// The client is synchronous: open and use the store off any async runtime's threads (the
/// API runs engine calls on Tokio's blocking pool). Dropping it is safe anywhere.
pub struct PostgresStore {
    /// Always `Some` until the store is dropped.
    pool: Option<r2d2::Pool<Manager>>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, with libpq's
    /// `sslmode` and `sslrootcert` for TLS: see `tls.rs`), runs pending migrations and opens
    /// the connection pool. It blocks, so it must not be called on an async runtime's thread.
    pub fn open(url: &str) -> StoreResult<PostgresStore> {
        PostgresStore::open_with(url, true)
    }

    /// Like [`PostgresStore::open`], for a database that must already hold a Settle store: one
    /// without Settle's schema (a new, empty database) is [`StoreError::Missing`] and is left
    /// as it was.
    pub fn open_existing(url: &str) -> StoreResult<PostgresStore> {
        PostgresStore::open_with(url, false)
    }

    fn open_with(url: &str, create: bool) -> StoreResult<PostgresStore> {
        let target = Target::parse(url)?;
        let mut client = target.connect().map_err(unavailable)?;
        if !create {
            let row = client
                .query_one("select to_regclass('schema_migration') is not null", &[])
                .map_err(unavailable)?;
            let has_schema: bool = row.try_get(0).map_err(unavailable)?;
            if !has_schema {
                return Err(StoreError::Missing("the database has no Settle schema".to_owned()));
            }
        }
        migrate(&mut client)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(MIN_IDLE))
            .connection_timeout(CONNECTION_TIMEOUT)
            .build(Manager { target })
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        Ok(PostgresStore { pool: Some(pool) })
    }

    fn connection(&self) -> StoreResult<r2d2::PooledConnection<Manager>> {
        let pool =
            self.pool.as_ref().ok_or_else(|| StoreError::Unavailable("store closed".into()))?;
        pool.get().map_err(|e| StoreError::Unavailable(Box::new(e)))
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Each connection owns a small Tokio runtime, and dropping a runtime inside an async
        // context panics (as when `settle serve` ends and drops the engine in its runtime); so
        // the pool is closed on a plain thread of its own.
        if let Some(pool) = self.pool.take() {
            let closing = std::thread::Builder::new()
                .name("settle-pg-close".to_owned())
                .spawn(move || drop(pool));
            if let Ok(closing) = closing {
                // A panic while closing connections leaves nothing to clean up.
                let _ = closing.join();
            }
        }
    }
}

impl Store for PostgresStore {
    fn begin_write(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let mut conn = self.connection()?;
        conn.client.batch_execute("begin isolation level read committed").map_err(unavailable)?;
        Ok(Box::new(PgTx::new(conn)))
    }

    fn begin_read(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let mut conn = self.connection()?;
        conn.client
            .batch_execute("begin isolation level repeatable read read only")
            .map_err(unavailable)?;
        Ok(Box::new(PgTx::new(conn)))
    }

    /// The feed shows a transaction once every transaction with a lower id has ended (any
    /// in the cluster: PostgreSQL's snapshot does not say which tenant an open one writes to).
    /// This waits until that holds for the newest transaction of the tenant visible now.
    fn await_feed(&self, tenant_id: &TenantId) -> StoreResult<()> {
        let mut conn = self.connection()?;
        // Outside a transaction block every statement takes a new snapshot.
        let newest = conn
            .statement("select max(xid)::text from journal_txn where tenant_id = $1")
            .and_then(|s| conn.client.query_one(&s, &[&tenant_id.as_str()]))
            .and_then(|row| row.try_get::<_, Option<String>>(0))
            .map_err(unavailable)?;
        let Some(newest) = newest else { return Ok(()) };
        let caught_up = conn
            .statement("select pg_snapshot_xmin(pg_current_snapshot()) > $1::text::xid8")
            .map_err(unavailable)?;
        for _ in 0..FEED_WAIT_POLLS {
            let row = conn.client.query_one(&caught_up, &[&newest]).map_err(unavailable)?;
            if row.try_get::<_, bool>(0).map_err(unavailable)? {
                return Ok(());
            }
            std::thread::sleep(FEED_WAIT_STEP);
        }
        Ok(())
    }

    fn connections_in_use(&self) -> Vec<(&'static str, u64)> {
        let Some(pool) = &self.pool else { return Vec::new() };
        let state = pool.state();
        vec![("postgres", u64::from(state.connections.saturating_sub(state.idle_connections)))]
    }

    fn check_ready(&self) -> StoreResult<()> {
        let pool =
            self.pool.as_ref().ok_or_else(|| StoreError::Unavailable("store closed".into()))?;
        let mut conn =
            pool.get_timeout(READY_TIMEOUT).map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        let version: i32 = conn
            .client
            .query_one("select coalesce(max(version), 0) from schema_migration", &[])
            .and_then(|row| row.try_get(0))
            .map_err(unavailable)?;
        let expected = MIGRATIONS.last().map_or(0, |(version, _)| *version);
        if version != expected {
            return Err(StoreError::Unavailable(
                format!("the schema is at migration {version}; this Settle runs {expected}").into(),
            ));
        }
        Ok(())
    }
}

/// One pooled connection with the statements it has prepared.
pub(crate) struct PgConn {
    pub(crate) client: Client,
    statements: HashMap<String, Statement>,
    /// Set when the connection may still hold an open transaction; the pool then closes it.
    pub(crate) broken: bool,
}

impl PgConn {
    /// The prepared statement for `sql`, preparing it on first use.
    pub(crate) fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Opens and checks the pool's connections.
pub(crate) struct Manager {
    target: Target,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        let client = self.target.connect()?;
        Ok(PgConn { client, statements: HashMap::new(), broken: false })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// Runs pending migrations in one transaction that holds the migration advisory lock, so two
/// processes starting at once take turns and the second finds nothing left to do.
fn migrate(client: &mut Client) -> StoreResult<()> {
    let mut tx = client.transaction().map_err(unavailable)?;
    tx.execute("select pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(unavailable)?;
    // Keeps "relation already exists, skipping" notices out of the log on every start.
    tx.batch_execute("set local client_min_messages = warning").map_err(unavailable)?;
    tx.batch_execute(
        "create table if not exists schema_migration (\
             version integer primary key, \
             applied_at timestamptz not null default now())",
    )
    .map_err(unavailable)?;
    let done: Vec<i32> = tx
        .query("select version from schema_migration", &[])
        .map_err(unavailable)?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(unavailable)?;
    for (version, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        tx.batch_execute(sql).map_err(unavailable)?;
        tx.execute("insert into schema_migration (version) values ($1)", &[version])
            .map_err(unavailable)?;
    }
    tx.commit().map_err(unavailable)
}

/// Maps a PostgreSQL error: integrity violations (SQLSTATE class 23), serialization failures
/// and deadlocks become conflicts; everything else, connection failures included, is
/// unavailability.
pub(crate) fn unavailable(err: postgres::Error) -> StoreError {
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        if let Some(bound) = db.constraint().and_then(|c| c.strip_prefix("amount_bound_")) {
            return StoreError::OutOfRange {
                total: format!("a {} total", bound.replace('_', " ")),
            };
        }
        if code.starts_with("23") {
            let constraint = db.constraint().unwrap_or_else(|| db.message());
            return StoreError::Conflict { constraint: constraint.to_owned() };
        }
        if code == "40001" || code == "40P01" {
            return StoreError::Conflict { constraint: format!("{code}: {}", db.message()) };
        }
    }
    StoreError::Unavailable(Box::new(err))
}

/// Makes a fresh, empty database `name` on the server of `admin_url` (dropping one of that name
/// first), for a run that drops it again with [`drop_database`]: `settle bench` measures on one.
/// `name` is a plain identifier: ASCII lowercase letters, digits and `_`.
pub fn create_database(admin_url: &str, name: &str) -> StoreResult<()> {
    let mut admin = admin_client(admin_url, name)?;
    admin.batch_execute(&format!("drop database if exists {name}")).map_err(unavailable)?;
    admin.batch_execute(&format!("create database {name}")).map_err(unavailable)
}

/// Drops the database `name` made by [`create_database`], closing its connections.
pub fn drop_database(admin_url: &str, name: &str) -> StoreResult<()> {
    let mut admin = admin_client(admin_url, name)?;
    admin
        .batch_execute(&format!("drop database if exists {name} with (force)"))
        .map_err(unavailable)
}

/// A connection to `admin_url` for creating or dropping the database `name`, refused unless
/// `name` is a plain identifier (it is written into the statement, which takes no parameter).
fn admin_client(admin_url: &str, name: &str) -> StoreResult<Client> {
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if name.is_empty() || !name.chars().all(plain) {
        return Err(StoreError::Unavailable(format!("not a plain database name: {name:?}").into()));
    }
    Target::parse(admin_url)?.connect().map_err(unavailable)
}

/// The raw limit of this store on this machine: the same transaction pattern as a workload,
/// written to a bare table with no Settle logic (see the SQLite adapter's function of the same
/// name). Creates the table `raw_row` in the database at `url` if missing. Returns the rounds run.
pub fn raw_write_pattern(
    url: &str,
    rows_per_txn: &[u64],
    reads: u64,
    rounds: u64,
) -> StoreResult<u64> {
    let mut client = Target::parse(url)?.connect().map_err(unavailable)?;
    client
        .batch_execute(
            "create table if not exists raw_row (id bigint generated always as identity primary key, \
             k text not null, v bigint not null, payload text not null)",
        )
        .map_err(unavailable)?;
    let insert = client
        .prepare("insert into raw_row (k, v, payload) values ($1, $2, $3) returning id")
        .map_err(unavailable)?;
    let select = client.prepare("select v from raw_row where id = $1").map_err(unavailable)?;
    let payload = "x".repeat(96);
    let mut next: i64 = 0;
    let mut last_id: i64 = 1;
    for _ in 0..rounds {
        for rows in rows_per_txn {
            let mut tx = client.transaction().map_err(unavailable)?;
            for _ in 0..*rows {
                next += 1;
                let row = tx
                    .query_one(&insert, &[&format!("k{next}"), &next, &payload])
                    .map_err(unavailable)?;
                last_id = row.get(0);
            }
            tx.commit().map_err(unavailable)?;
        }
        for _ in 0..reads {
            client.query_opt(&select, &[&last_id]).map_err(unavailable)?;
        }
    }
    Ok(rounds)
}
