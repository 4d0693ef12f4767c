//! The PostgreSQL adapter of Settle's storage port: a pool of connections, each write
//! transaction at READ COMMITTED with a row lock per customer (`SELECT ... FOR UPDATE`), so
//! commands for different customers run in parallel, and read transactions at REPEATABLE READ
//! so each sees one snapshot.

mod bind;
mod flight;
mod join;
mod merge;
mod raw;
mod rows;
mod tls;
mod tx;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt as _;
use postgres::Client;
use postgres::types::ToSql;
use settle_core::ids::TenantId;
use settle_store::{ApiKeyRecord, Store, StoreError, StoreResult, StoreTx};
use tokio_postgres::{Row, Statement};

pub use crate::raw::{
    RAW_ACCOUNTS, WalPosition, analyze, raw_bulk_insert, raw_one_row_transactions, raw_prepare,
    raw_single_row_updates, wal_bytes_since, wal_position,
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
    (14, include_str!("../migrations/0014_inserts_name_their_customer.sql")),
    (15, include_str!("../migrations/0015_drop_implied_foreign_keys.sql")),
    (16, include_str!("../migrations/0016_customer_search_table.sql")),
    (17, include_str!("../migrations/0017_fewer_index_writes.sql")),
    (18, include_str!("../migrations/0018_drop_duplicate_subscription_index.sql")),
    (19, include_str!("../migrations/0019_customer_balance_key.sql")),
    (20, include_str!("../migrations/0020_drop_unread_indexes.sql")),
    (21, include_str!("../migrations/0021_posting_keys.sql")),
    (22, include_str!("../migrations/0022_customer_search_numbers.sql")),
];

/// The advisory lock key that serializes migrations between processes starting at once.
const MIGRATION_LOCK: i64 = 0x5e77_1e00_0001;

/// Most connections the pool opens unless the URL says `pool_size=N`.
pub(crate) const POOL_SIZE: u32 = 16;

/// Bill-run batches a run keeps in flight at once ([`Store::concurrent_batches`]).
const CONCURRENT_BATCHES: usize = 2;

/// How a read-only transaction begins: one snapshot for all its statements.
const READ_ONLY: &str = "begin isolation level repeatable read read only";

/// The largest `pool_size` accepted (PostgreSQL's default `max_connections` is 100; a larger
/// pool only helps against a server configured for it).
pub(crate) const MAX_POOL_SIZE: u32 = 1024;

/// Connections the pool keeps open while idle.
const MIN_IDLE: u32 = 1;

/// How long a caller waits for a free connection before the store reports itself unavailable.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A pooled connection that answered within this long is handed out without first being
/// tested with an empty query (one round trip more per checkout, about 0.1 ms on this
/// machine's loopback: docs/BENCHMARKS.md). One idle for longer is tested, so connections left
/// over from a database restart are found and replaced before a request uses them. A server
/// that drops a connection within this window fails the one request that uses it next (a
/// 503 the client retries with its idempotency key); the pool then replaces it.
pub const TESTED_AFTER_IDLE: Duration = Duration::from_millis(500);

/// How long [`Store::check_ready`] waits for a connection: a readiness probe answers quickly.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Prepared statements kept per connection (more than Settle's distinct statements, with up to
/// six multi-row sizes of each insert that is merged); past it the cache starts over.
const STATEMENT_CACHE: usize = 1024;

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
    /// Connections for batches (bill runs, imports), which send their writes ahead: each runs
    /// its socket on a thread of its own (see [`PgConn`]). Always `Some` until dropped.
    batch_pool: Option<r2d2::Pool<Manager>>,
    /// Network round trips of the pool's connections, summed (see [`PostgresStore::round_trips`]).
    round_trips: Arc<AtomicU64>,
    /// Statements the pool's connections have sent in flights (see
    /// [`PostgresStore::statements_sent`]).
    statements: Arc<AtomicU64>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, with libpq's
    /// `sslmode` and `sslrootcert` for TLS: see `tls.rs`, and `pool_size=N`, the most
    /// connections the pool opens, 16 by default), runs pending migrations and opens the
    /// connection pool. It blocks, so it must not be called on an async runtime's thread.
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
        let links = Arc::new(merge::Links::load(&mut client).map_err(unavailable)?);
        drop(client);
        let round_trips = Arc::new(AtomicU64::new(0));
        let statements = Arc::new(AtomicU64::new(0));
        let manager = |threaded| Manager {
            target: target.clone(),
            round_trips: Arc::clone(&round_trips),
            statements_sent: Arc::clone(&statements),
            links: Arc::clone(&links),
            threaded,
        };
        let pool = r2d2::Pool::builder()
            .max_size(target.pool_size)
            .min_idle(Some(MIN_IDLE))
            .connection_timeout(CONNECTION_TIMEOUT)
            .build(manager(false))
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        // Opened when a batch first asks, and closed after ten idle minutes.
        let batch_pool = r2d2::Pool::builder()
            .max_size(target.pool_size)
            .min_idle(Some(0))
            .connection_timeout(CONNECTION_TIMEOUT)
            .build_unchecked(manager(true));
        Ok(PostgresStore {
            pool: Some(pool),
            batch_pool: Some(batch_pool),
            round_trips,
            statements,
        })
    }

    /// The most connections the pool opens (`pool_size=N` in the URL, 16 by default).
    pub fn pool_size(&self) -> u32 {
        self.pool.as_ref().map_or(0, r2d2::Pool::max_size)
    }

    /// Network round trips the store's pooled connections have made since it opened: each
    /// flight of statements sent together and answered, each statement prepared, each health
    /// check. Tests count what a command costs with it.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// Statements the store's pooled connections have sent in transactions since it opened
    /// (a multi-row insert counts once, however many rows it carries). Tests count what a
    /// command costs the server with it.
    pub fn statements_sent(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    fn connection(&self) -> StoreResult<r2d2::PooledConnection<Manager>> {
        pooled(self.pool.as_ref())
    }
}

fn pooled(pool: Option<&r2d2::Pool<Manager>>) -> StoreResult<r2d2::PooledConnection<Manager>> {
    let pool = pool.ok_or_else(|| StoreError::Unavailable("store closed".into()))?;
    pool.get().map_err(|e| StoreError::Unavailable(Box::new(e)))
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Each connection owns a small Tokio runtime, and dropping a runtime inside an async
        // context panics (as when `settle serve` ends and drops the engine in its runtime); so
        // the pools are closed on a plain thread of their own.
        let pools = (self.pool.take(), self.batch_pool.take());
        if pools.0.is_some() || pools.1.is_some() {
            let closing = std::thread::Builder::new()
                .name("settle-pg-close".to_owned())
                .spawn(move || drop(pools));
            if let Ok(closing) = closing {
                // A panic while closing connections leaves nothing to clean up.
                let _ = closing.join();
            }
        }
    }
}

impl Store for PostgresStore {
    /// The trigram GIN indexes have no segments for Settle to merge: autovacuum moves their
    /// pending entries into the index.
    fn search_index_segments(&self) -> StoreResult<u64> {
        Ok(0)
    }

    fn merge_search_index(&self, _pages: u32) -> StoreResult<bool> {
        Ok(false)
    }

    // BEGIN is held back with the transaction's first writes and sent with its first read.
    fn begin_write(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let conn = self.connection()?;
        Ok(Box::new(PgTx::new(conn, "begin isolation level read committed")))
    }

    /// A batch's transaction on a connection of the batch pool, which sends its writes ahead
    /// while the batch goes on (`tx.rs`, "Sending ahead").
    fn begin_batch_write(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let conn = pooled(self.batch_pool.as_ref())?;
        Ok(Box::new(PgTx::new(conn, "begin isolation level read committed")))
    }

    /// Two: a batch keeps one server process busy while the batch's own process builds the
    /// next statements, so on two cores a second batch uses what the first leaves idle
    /// (docs/BENCHMARKS.md, "The million on SQLite in under a minute; two batches at once
    /// on PostgreSQL"). Never more than the pool can hold beside a connection for the run's
    /// reads.
    fn concurrent_batches(&self) -> usize {
        let pool = usize::try_from(self.pool_size()).unwrap_or(usize::MAX);
        CONCURRENT_BATCHES.min(pool.saturating_sub(1)).max(1)
    }

    fn begin_read(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let conn = self.connection()?;
        Ok(Box::new(PgTx::new(conn, READ_ONLY)))
    }

    /// `BEGIN`, the read's statements and `COMMIT` in one flight: one round trip.
    fn begin_read_flight(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let conn = self.connection()?;
        Ok(Box::new(PgTx::one_flight(conn, READ_ONLY)))
    }

    /// One statement outside any transaction: one round trip, where a read-only transaction
    /// takes two (its read with `BEGIN`, then the `ROLLBACK`).
    fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let mut conn = self.connection()?;
        let row = conn.query_opt(tx::API_KEY_BY_HASH, &[&key_hash]).map_err(unavailable)?;
        row.map(|row| settle_store_sql::api_key(&rows::PgRow(&row))).transpose()
    }

    /// The feed shows a transaction once every transaction with a lower id has ended (any
    /// in the cluster: PostgreSQL's snapshot does not say which tenant an open one writes to).
    /// This waits until that holds for the newest transaction of the tenant visible now.
    fn await_feed(&self, tenant_id: &TenantId) -> StoreResult<()> {
        let mut conn = self.connection()?;
        // Outside a transaction block every statement takes a new snapshot.
        let newest = conn
            .query_one(
                "select max(xid)::text from journal_txn where tenant_id = $1",
                &[&tenant_id.as_str()],
            )
            .and_then(|row| row.try_get::<_, Option<String>>(0))
            .map_err(unavailable)?;
        let Some(newest) = newest else { return Ok(()) };
        for _ in 0..FEED_WAIT_POLLS {
            let row = conn
                .query_one(
                    "select pg_snapshot_xmin(pg_current_snapshot()) > $1::text::xid8",
                    &[&newest],
                )
                .map_err(unavailable)?;
            if row.try_get::<_, bool>(0).map_err(unavailable)? {
                return Ok(());
            }
            std::thread::sleep(FEED_WAIT_STEP);
        }
        Ok(())
    }

    fn connections_in_use(&self) -> Vec<(&'static str, u64)> {
        let in_use = |pool: &r2d2::Pool<Manager>| {
            let state = pool.state();
            u64::from(state.connections.saturating_sub(state.idle_connections))
        };
        let pools = [("postgres", &self.pool), ("postgres_batch", &self.batch_pool)];
        pools
            .into_iter()
            .filter_map(|(name, pool)| pool.as_ref().map(|pool| (name, in_use(pool))))
            .collect()
    }

    fn check_ready(&self) -> StoreResult<()> {
        let pool =
            self.pool.as_ref().ok_or_else(|| StoreError::Unavailable("store closed".into()))?;
        let mut conn =
            pool.get_timeout(READY_TIMEOUT).map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        let version: i32 = conn
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

/// A statement parameter.
pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

/// An owned statement parameter.
pub(crate) type Arg = Box<dyn ToSql + Sync>;

/// A statement sent in a flight: a prepared statement with its parameters, or one of the
/// transaction's own commands (`begin`, `commit`, savepoints) as a simple query.
pub(crate) enum Sent<'a> {
    Prepared(&'a Statement, &'a [Param<'a>]),
    /// A statement not prepared, with its parameters' types: parsed and run in one message.
    Typed(&'a str, &'a [(Param<'a>, postgres::types::Type)]),
    /// A statement to prepare and keep, its answer [`Answer::Prepared`] until the flight keeps it.
    Prepare(&'a str),
    Simple(&'a str),
}

/// What a statement of a flight answered.
pub(crate) enum Answer {
    Rows(Vec<Row>),
    Count(u64),
    Done,
    Prepared(Statement),
}

/// One pooled connection with the statements it has prepared.
///
/// The client is `tokio-postgres` on a current-thread runtime of the connection's own (as the
/// synchronous `postgres` crate does inside), because only the asynchronous client pipelines:
/// statements whose futures are polled together go out together and are answered in order,
/// so a flight of many statements costs one network round trip.
///
/// A batch pool's connection (`threaded`) has a runtime with one worker thread instead, which
/// drives the socket whether or not a flight is awaited: a flight it sends ahead goes out
/// while the caller goes on. The handoff between threads costs a single command about 6% of
/// its time, so only batches use it.
pub(crate) struct PgConn {
    client: Arc<tokio_postgres::Client>,
    /// Drives the connection's socket while a flight is awaited, or always when `threaded`.
    runtime: tokio::runtime::Runtime,
    pub(crate) threaded: bool,
    statements: HashMap<String, Statement>,
    round_trips: Arc<AtomicU64>,
    statements_sent: Arc<AtomicU64>,
    /// How the database's tables depend on each other, for merging inserts.
    pub(crate) links: Arc<merge::Links>,
    /// Set when the connection may still hold an open transaction; the pool then closes it.
    pub(crate) broken: bool,
    /// When the server last answered on it (see [`TESTED_AFTER_IDLE`]).
    answered_at: Instant,
}

impl PgConn {
    /// The prepared statement for `sql`, preparing it on first use.
    pub(crate) fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let statement = self.runtime.block_on(self.client.prepare(sql))?;
        self.mark_answered();
        self.keep(sql, statement.clone());
        Ok(statement)
    }

    /// The prepared statement for `sql` if the connection has it.
    pub(crate) fn cached(&self, sql: &str) -> Option<Statement> {
        self.statements.get(sql).cloned()
    }

    fn keep(&mut self, sql: &str, statement: Statement) {
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement);
    }

    /// Sends `sent` in one flight (pipelined, in order) and waits for every answer: the
    /// answers in order, each its statement's result. After a failed statement PostgreSQL
    /// refuses the rest of the transaction's statements, so the first error is the cause.
    /// Statements `sent` asks to prepare are kept (see [`PgConn::keep_prepared`]).
    pub(crate) fn flight(&mut self, sent: &[Sent<'_>]) -> Vec<Result<Answer, postgres::Error>> {
        if sent.is_empty() {
            return Vec::new();
        }
        self.count_flight(sent.iter().filter(|s| !matches!(s, Sent::Prepare(_))).count());
        let mut answers = self.runtime.block_on(join_in_order(requests(&self.client, sent)));
        self.mark_answered();
        let prepares = sent.iter().filter_map(|s| match s {
            Sent::Prepare(sql) => Some(*sql),
            _ => None,
        });
        self.keep_prepared(prepares, &mut answers);
        answers
    }

    /// Counts a flight of `statements` statements (prepares aside) in the store's figures.
    pub(crate) fn count_flight(&self, statements: usize) {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.statements_sent
            .fetch_add(u64::try_from(statements).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Keeps the statements a flight prepared (`prepares`, the texts of its first statements)
    /// for the next flights. One that could not be prepared (say, in an aborted transaction)
    /// is sent typed again next time.
    pub(crate) fn keep_prepared<'s>(
        &mut self,
        prepares: impl Iterator<Item = &'s str>,
        answers: &mut [Result<Answer, postgres::Error>],
    ) {
        for (sql, answer) in prepares.zip(answers.iter_mut()) {
            if let Ok(Answer::Prepared(statement)) = std::mem::replace(answer, Ok(Answer::Done)) {
                self.keep(sql, statement);
            }
        }
    }

    /// The client, for a flight that outlives this borrow (see `tx.rs`, "Sending ahead").
    pub(crate) fn client(&self) -> Arc<tokio_postgres::Client> {
        Arc::clone(&self.client)
    }

    /// Waits for `future` with the connection's runtime driving its socket.
    pub(crate) fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    /// Runs one query on its own (outside a [`PgTx`](crate::tx::PgTx)) and returns its one row.
    fn query_one(&mut self, sql: &str, args: &[Param<'_>]) -> Result<Row, postgres::Error> {
        let statement = self.statement(sql)?;
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let row = self.runtime.block_on(self.client.query_one(&statement, args));
        self.mark_answered();
        row
    }

    /// Runs one query on its own (outside a [`PgTx`](crate::tx::PgTx)) and returns its row,
    /// if it has one.
    fn query_opt(&mut self, sql: &str, args: &[Param<'_>]) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let row = self.runtime.block_on(self.client.query_opt(&statement, args));
        self.mark_answered();
        row
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Notes that the server just answered, unless the connection has closed.
    pub(crate) fn mark_answered(&mut self) {
        if !self.is_closed() {
            self.answered_at = Instant::now();
        }
    }

    /// Whether the pool should test the connection before handing it out: it has not
    /// answered for [`TESTED_AFTER_IDLE`].
    fn needs_test(&self) -> bool {
        self.answered_at.elapsed() >= TESTED_AFTER_IDLE
    }
}

/// A statement's answer on its way.
type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The requests of a flight, one future per statement of `sent`; polled together (see
/// [`join_in_order`]) they go out together, in order.
pub(crate) fn requests<'a>(
    client: &'a tokio_postgres::Client,
    sent: &'a [Sent<'a>],
) -> Vec<Pending<'a, Result<Answer, postgres::Error>>> {
    sent.iter()
        .map(|sent| -> Pending<'a, _> {
            match sent {
                Sent::Prepared(statement, refs) => {
                    let (statement, refs): (&Statement, &[Param<'_>]) = (statement, refs);
                    if statement.columns().is_empty() {
                        Box::pin(
                            async move { client.execute(statement, refs).await.map(Answer::Count) },
                        )
                    } else {
                        Box::pin(
                            async move { client.query(statement, refs).await.map(Answer::Rows) },
                        )
                    }
                }
                Sent::Typed(sql, typed) => {
                    let (sql, typed): (&str, &[(Param<'_>, postgres::types::Type)]) = (sql, typed);
                    Box::pin(async move {
                        let params = typed.iter().map(|(param, ty)| (*param, ty.clone()));
                        let rows = client.query_typed_raw(sql, params).await?;
                        let mut rows = std::pin::pin!(rows);
                        let mut answered = Vec::new();
                        while let Some(row) = rows.try_next().await? {
                            answered.push(row);
                        }
                        // Joined writes answer a row of their counts (see `join.rs`); a merged
                        // write its row count, which a write whose count is checked needs.
                        if answered.is_empty() {
                            Ok(Answer::Count(rows.rows_affected().unwrap_or(0)))
                        } else {
                            Ok(Answer::Rows(answered))
                        }
                    })
                }
                Sent::Prepare(sql) => {
                    let sql: &str = sql;
                    Box::pin(async move { client.prepare(sql).await.map(Answer::Prepared) })
                }
                Sent::Simple(sql) => {
                    let sql: &str = sql;
                    Box::pin(async move { client.batch_execute(sql).await.map(|()| Answer::Done) })
                }
            }
        })
        .collect()
}

/// Polls every future of `futures` until all are done, each first in the order given (so
/// `tokio-postgres` sends their statements in that order, together), and returns their outputs
/// in that order.
pub(crate) async fn join_in_order<T>(mut futures: Vec<Pending<'_, T>>) -> Vec<T> {
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Opens and checks the pool's connections.
pub(crate) struct Manager {
    target: Target,
    round_trips: Arc<AtomicU64>,
    statements_sent: Arc<AtomicU64>,
    links: Arc<merge::Links>,
    /// Whether its connections are batch connections (see [`PgConn`]).
    threaded: bool,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = StoreError;

    fn connect(&self) -> Result<PgConn, StoreError> {
        let mut builder = if self.threaded {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(1).thread_name("settle-pg-batch");
            builder
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        let runtime =
            builder.enable_all().build().map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        let client = self.target.connect_on(&runtime).map_err(unavailable)?;
        Ok(PgConn {
            client: Arc::new(client),
            runtime,
            threaded: self.threaded,
            statements: HashMap::new(),
            round_trips: Arc::clone(&self.round_trips),
            statements_sent: Arc::clone(&self.statements_sent),
            links: Arc::clone(&self.links),
            broken: false,
            answered_at: Instant::now(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), StoreError> {
        if !conn.needs_test() {
            return Ok(());
        }
        conn.round_trips.fetch_add(1, Ordering::Relaxed);
        conn.runtime.block_on(conn.client.simple_query("")).map_err(unavailable)?;
        conn.mark_answered();
        Ok(())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || conn.is_closed()
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
