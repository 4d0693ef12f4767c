//! The SQLite adapter of Settle's storage port: one database file in WAL mode, one writer
//! connection whose write transactions are grouped (writers that queue for it at the same time
//! share one transaction and one fsync, each in its own savepoint) and a small pool of reader
//! connections that see consistent snapshots while the writer works.

mod backup;
mod checkpoint;
mod group;
mod raw;
mod rows;
mod tx;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use settle_store::{Store, StoreError, StoreResult, StoreTx};

pub use crate::backup::{BackupProgress, backup};
use crate::checkpoint::{BACKSTOP_PAGES, Checkpointer};
pub use crate::group::CommitGroups;
use crate::group::Writers;
pub use crate::raw::{raw_bulk_insert, raw_one_row_transactions};
use crate::tx::SqliteTx;

/// The migrations, in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_credits.sql"),
    include_str!("../migrations/0003_idempotency.sql"),
    include_str!("../migrations/0004_aging.sql"),
    include_str!("../migrations/0005_bounds.sql"),
    include_str!("../migrations/0006_idempotency_expiry.sql"),
    include_str!("../migrations/0007_staff.sql"),
    include_str!("../migrations/0008_business_name.sql"),
    include_str!("../migrations/0009_subscriptions.sql"),
    include_str!("../migrations/0010_customer_search.sql"),
    include_str!("../migrations/0011_subscription_by_customer_due.sql"),
    include_str!("../migrations/0012_external_ref.sql"),
    include_str!("../migrations/0013_bill_run_progress.sql"),
    include_str!("../migrations/0014_bounds_as_checks.sql"),
    include_str!("../migrations/0015_name_index_covers_search.sql"),
    include_str!("../migrations/0016_fewer_index_writes.sql"),
    include_str!("../migrations/0017_customer_number.sql"),
];

/// The segments of the customer search index: FTS5 keeps a row in `customer_search_idx` for
/// every segment (and more for a large one), so this counts its distinct `segid`s, one index
/// seek each.
const SEARCH_INDEX_SEGMENTS: &str = "with recursive segment (id) as ( \
        select min(segid) from customer_search_idx \
        union all \
        select (select min(segid) from customer_search_idx where segid > segment.id) \
        from segment where segment.id is not null) \
    select count(id) from segment";

/// How long a connection waits for the database lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection (more than Settle's distinct statements).
const STATEMENT_CACHE: usize = 256;

/// Most idle reader connections kept open.
const MAX_IDLE_READERS: usize = 8;

/// How hard SQLite works to keep a commit through power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a commit survives power loss. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: faster, and the last commits may be lost on power loss (never on
    /// a process crash). Only by explicit choice.
    Normal,
}

/// A Settle store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    durability: Durability,
    writers: Writers,
    readers: Mutex<Vec<Connection>>,
    /// Reader connections taken and not yet given back or discarded.
    readers_out: AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and runs pending migrations.
    pub fn open(path: &Path, durability: Durability) -> StoreResult<SqliteStore> {
        let mut writer = connect(path, durability)?;
        migrate(&mut writer)?;
        // The writer's commits leave checkpoints to the checkpointer (see `checkpoint`).
        writer
            .execute_batch(&format!(
                "pragma wal_autocheckpoint = {BACKSTOP_PAGES}; pragma cache_size = -{}",
                group::WRITER_CACHE_KIB
            ))
            .map_err(unavailable)?;
        let checkpointer = Checkpointer::start(connect(path, durability)?).map_err(|err| {
            StoreError::Unavailable(format!("starting the checkpointer: {err}").into())
        })?;
        Ok(SqliteStore {
            path: path.to_owned(),
            durability,
            writers: Writers::new(writer).with_checkpointer(checkpointer),
            readers: Mutex::new(Vec::new()),
            readers_out: AtomicU64::new(0),
        })
    }

    /// Opens the Settle database at `path` that must already exist, and runs pending
    /// migrations. Never creates a file: a missing file, or one without Settle's schema (an
    /// empty file, another application's database), is [`StoreError::Missing`].
    pub fn open_existing(path: &Path, durability: Durability) -> StoreResult<SqliteStore> {
        if !path.is_file() {
            return Err(StoreError::Missing(format!("{} does not exist", path.display())));
        }
        // Read-only and without the create flag, so looking changes nothing.
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(unavailable)?;
        let version: i64 =
            conn.query_row("pragma user_version", [], |row| row.get(0)).map_err(unavailable)?;
        drop(conn);
        if version == 0 {
            return Err(StoreError::Missing(format!(
                "{} holds no Settle database",
                path.display()
            )));
        }
        SqliteStore::open(path, durability)
    }

    /// Runs `PRAGMA integrity_check`; `Ok` when SQLite answers `ok`.
    pub fn integrity_check(&self) -> StoreResult<()> {
        let writer = self.writers.lock();
        let answer: String = writer
            .conn
            .query_row("pragma integrity_check", [], |row| row.get(0))
            .map_err(unavailable)?;
        if answer == "ok" { Ok(()) } else { Err(StoreError::Corrupt(answer)) }
    }

    /// This store with at most `limit` write transactions in one group commit (at least 1;
    /// 1 commits each on its own).
    pub fn with_group_limit(mut self, limit: usize) -> SqliteStore {
        self.writers.set_limit(limit);
        self
    }

    /// The group commits so far: how many, and how many write transactions they held.
    pub fn commit_groups(&self) -> CommitGroups {
        self.writers.commit_groups()
    }

    /// Write transactions waiting for the writer connection right now.
    pub fn writers_waiting(&self) -> usize {
        self.writers.waiting()
    }

    /// A reader connection, counted out until [`SqliteStore::return_reader`] or
    /// [`SqliteStore::discard_reader`] takes it back.
    fn take_reader(&self) -> StoreResult<Connection> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path, self.durability)?,
        };
        self.readers_out.fetch_add(1, Ordering::Relaxed);
        Ok(conn)
    }

    fn return_reader(&self, conn: Connection) {
        self.readers_out.fetch_sub(1, Ordering::Relaxed);
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
    }

    /// Closes a reader connection that failed instead of giving it back.
    fn discard_reader(&self, conn: Connection) {
        self.readers_out.fetch_sub(1, Ordering::Relaxed);
        drop(conn);
    }
}

impl Store for SqliteStore {
    fn search_index_segments(&self) -> StoreResult<u64> {
        let conn = self.take_reader()?;
        let counted = conn.query_row(SEARCH_INDEX_SEGMENTS, [], |row| row.get::<_, i64>(0));
        match counted {
            Ok(segments) => {
                self.return_reader(conn);
                Ok(u64::try_from(segments).unwrap_or(0))
            }
            Err(err) => {
                self.discard_reader(conn);
                Err(unavailable(err))
            }
        }
    }

    fn merge_search_index(&self, pages: u32) -> StoreResult<bool> {
        // A write like any other, so it takes its turn among a group's members.
        let writer = self.writers.begin()?;
        let mut tx = SqliteTx::writer(writer, &self.writers);
        let merged = tx.merge_search_index(pages)?;
        Box::new(tx).commit()?;
        Ok(merged)
    }

    fn begin_write(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let writer = self.writers.begin()?;
        Ok(Box::new(SqliteTx::writer(writer, &self.writers)))
    }

    fn begin_batch_write(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let writer = self.writers.begin_first()?;
        Ok(Box::new(SqliteTx::writer(writer, &self.writers)))
    }

    fn begin_read(&self) -> StoreResult<Box<dyn StoreTx + '_>> {
        let conn = self.take_reader()?;
        if let Err(err) = conn.execute_batch("begin") {
            self.discard_reader(conn);
            return Err(unavailable(err));
        }
        Ok(Box::new(SqliteTx::reader(conn, self)))
    }

    fn connections_in_use(&self) -> Vec<(&'static str, u64)> {
        let writers = u64::try_from(self.writers.waiting()).unwrap_or(u64::MAX);
        vec![
            ("sqlite_readers", self.readers_out.load(Ordering::Relaxed)),
            ("sqlite_writers_waiting", writers),
        ]
    }

    fn check_ready(&self) -> StoreResult<()> {
        let conn = self.take_reader()?;
        let version = conn.query_row("pragma user_version", [], |row| row.get::<_, i64>(0));
        let version = match version {
            Ok(version) => {
                self.return_reader(conn);
                version
            }
            Err(err) => {
                self.discard_reader(conn);
                return Err(unavailable(err));
            }
        };
        let expected = MIGRATIONS.len();
        if usize::try_from(version).ok() != Some(expected) {
            return Err(StoreError::Unavailable(
                format!("the schema is at migration {version}; this Settle runs {expected}").into(),
            ));
        }
        Ok(())
    }
}

/// Each connection's page cache, in KiB, but the writer's between batches
/// ([`group::WRITER_CACHE_KIB`]).
pub(crate) const CACHE_KIB: u32 = 64 * 1024;

fn connect(path: &Path, durability: Durability) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(unavailable)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    // Every statement Settle runs stays prepared; the default of 16 would re-parse on each use.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let synchronous = match durability {
        Durability::Full => "full",
        Durability::Normal => "normal",
    };
    conn.execute_batch(&format!(
        "pragma journal_mode = wal; pragma synchronous = {synchronous}; pragma foreign_keys = on; \
         pragma cache_size = -{CACHE_KIB}; pragma temp_store = memory;"
    ))
    .map_err(unavailable)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let version: i64 =
        conn.query_row("pragma user_version", [], |row| row.get(0)).map_err(unavailable)?;
    let done = usize::try_from(version).unwrap_or(0);
    for (idx, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction().map_err(unavailable)?;
        tx.execute_batch(sql).map_err(unavailable)?;
        tx.execute_batch(&format!("pragma user_version = {}", idx + 1)).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
    }
    Ok(())
}

/// What each amount bound of the schema guards (migration `bounds_as_checks`), by its
/// constraint's name.
const AMOUNT_BOUNDS: [(&str, &str); 3] = [
    ("amount_bound_customer", "a customer balance"),
    ("amount_bound_document", "a document total or balance"),
    ("amount_bound_customer_account", "a customer account total"),
];

/// Maps a SQLite error: a broken amount bound is out of range, other constraint violations
/// are conflicts, the rest unavailability.
pub(crate) fn unavailable(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(code, Some(message))
            if code.code == rusqlite::ErrorCode::ConstraintViolation
                && message.starts_with("CHECK constraint failed: amount_bound_") =>
        {
            let name = message.trim_start_matches("CHECK constraint failed: ");
            let total = AMOUNT_BOUNDS
                .iter()
                .find(|(constraint, _)| *constraint == name)
                .map_or_else(|| name.to_owned(), |(_, total)| (*total).to_owned());
            StoreError::OutOfRange { total }
        }
        rusqlite::Error::SqliteFailure(code, message)
            if code.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict { constraint: message.clone().unwrap_or_default() }
        }
        _ => StoreError::Unavailable(Box::new(err)),
    }
}

impl SqliteStore {
    /// Rows inserted, updated or deleted through the writer connection since it opened (for
    /// benchmarks that replay the same write pattern on a bare table).
    pub fn total_changes(&self) -> u64 {
        self.writers.lock().conn.total_changes()
    }
}

/// The raw limit of this store on this machine: the same transaction pattern as a workload,
/// written to a bare table with no Settle logic. `rows_per_txn` lists, per transaction, how
/// many rows to write; `reads` point reads follow each round. Returns the rounds run.
pub fn raw_write_pattern(
    path: &Path,
    durability: Durability,
    rows_per_txn: &[u64],
    reads: u64,
    rounds: u64,
) -> StoreResult<u64> {
    let conn = connect(path, durability)?;
    conn.execute_batch(
        "create table if not exists raw_row (id integer primary key, k text not null, v integer not null, \
         payload text not null)",
    )
    .map_err(unavailable)?;
    let payload = "x".repeat(96);
    let mut next: i64 = 0;
    for _ in 0..rounds {
        for rows in rows_per_txn {
            conn.execute_batch("begin immediate").map_err(unavailable)?;
            {
                let mut insert = conn
                    .prepare_cached("insert into raw_row (k, v, payload) values (?1, ?2, ?3)")
                    .map_err(unavailable)?;
                for _ in 0..*rows {
                    next += 1;
                    insert
                        .execute(rusqlite::params![format!("k{next}"), next, payload])
                        .map_err(unavailable)?;
                }
            }
            conn.execute_batch("commit").map_err(unavailable)?;
        }
        for _ in 0..reads {
            let _: i64 = conn
                .prepare_cached("select v from raw_row where id = ?1")
                .map_err(unavailable)?
                .query_row([next.max(1)], |row| row.get(0))
                .map_err(unavailable)?;
        }
    }
    Ok(rounds)
}
