//! Group commit: write transactions that queue for the one writer connection at the same time
//! share one SQLite transaction and one fsync.
//!
//! Each write transaction Settle begins is a member of the group transaction open on the writer
//! connection: `begin` opens it (`BEGIN IMMEDIATE`) when none is open, and every member runs
//! inside its own savepoint. A member that commits releases its savepoint; one that is dropped
//! rolls back to it, so a refused command undoes only its own writes. Then the member either
//! hands the connection to the next writer already waiting for it (the group stays open and the
//! member waits for the group's outcome) or, when no writer waits or the group holds its limit
//! of members, commits the group itself and wakes every member with the outcome. So no member
//! returns before the `COMMIT` that makes its writes durable succeeded, and when it failed every
//! member that kept writes gets the error. Nothing waits for company: a lone writer commits at
//! once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;
use settle_store::{StoreError, StoreResult};

use crate::checkpoint::Checkpointer;
use crate::unavailable;

/// Most members one group transaction takes before it commits, waiting writers or not, so a
/// steady queue cannot keep the first member waiting without bound.
pub(crate) const GROUP_LIMIT: usize = 64;

/// The writer's page cache, in KiB, while it commits groups of commands; every other
/// connection, and the writer during a batch, has [`crate::CACHE_KIB`]. At each commit that
/// follows a B-tree page split, SQLite scans the whole hash table of the writer's cache
/// (`pcache1TruncateUnsafe`: the split renumbers pages through the lock-byte page's number, far
/// past the database's end), so the scan grows with the cache and not with the work. With 64
/// MiB it took 5% of a 16-client run's samples, and 16 clients wrote 6–9% more with 8 MiB
/// (docs/BENCHMARKS.md). A batch's transaction gets the larger cache back: an import of 5,000
/// invoices per transaction was 5–16% slower with 8 MiB.
pub(crate) const WRITER_CACHE_KIB: u32 = 8 * 1024;

/// The writer connection and the group transaction open on it, if any.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    group: Option<Group>,
}

/// The group transaction open on the writer connection.
struct Group {
    outcome: Arc<Outcome>,
    /// Members begun in this group, refused ones included.
    members: usize,
    /// Members that released their savepoint: their writes commit with the group.
    kept: usize,
    /// Whether the member holding the connection is the group's first and runs without a
    /// savepoint: rolling it back rolls back the whole group, which holds nothing else yet.
    /// A savepoint makes SQLite copy every page a statement first touches into a statement
    /// journal that each statement's end walks again, so a large member inside one (a bill
    /// run's batch of thousands of customers) slows down with its own size.
    bare: bool,
    /// Opened by a batch, with the writer's cache raised to [`crate::CACHE_KIB`] until it ends.
    batch: bool,
}

/// How a group transaction ended, for the members waiting on it.
#[derive(Default)]
struct Outcome {
    result: Mutex<Option<Result<(), String>>>,
    done: Condvar,
}

impl Outcome {
    fn set(&self, result: Result<(), String>) {
        let mut slot = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(result);
        }
        self.done.notify_all();
    }

    fn wait(&self) -> Result<(), String> {
        let mut slot = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(result) = &*slot {
                return result.clone();
            }
            slot = self.done.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // A group dropped before its outcome was set (a panic while committing it) must not
        // leave its members waiting, and none of them may count its writes as committed.
        self.outcome.set(Err("the group transaction ended without a commit".to_owned()));
    }
}

/// How many group transactions ended and how many members they held, since the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitGroups {
    /// Group transactions ended (committed, or rolled back when no member kept writes).
    pub groups: u64,
    /// Members of those groups, refused ones included.
    pub members: u64,
    /// The most members one group held.
    pub largest: u64,
}

/// The writer connection behind its lock, with what group commit needs around it.
pub(crate) struct Writers {
    writer: Mutex<Writer>,
    /// Writers waiting in [`Writers::begin`] for the connection.
    waiting: AtomicUsize,
    limit: usize,
    groups: AtomicU64,
    members: AtomicU64,
    largest: AtomicU64,
    /// Told after each commit, when the store checkpoints beside the writer.
    checkpointer: Option<Checkpointer>,
}

impl Writers {
    pub(crate) fn new(conn: Connection) -> Writers {
        Writers {
            writer: Mutex::new(Writer { conn, group: None }),
            waiting: AtomicUsize::new(0),
            limit: GROUP_LIMIT,
            groups: AtomicU64::new(0),
            members: AtomicU64::new(0),
            largest: AtomicU64::new(0),
            checkpointer: None,
        }
    }

    /// These writers with `checkpointer` told of every commit.
    pub(crate) fn with_checkpointer(mut self, checkpointer: Checkpointer) -> Writers {
        self.checkpointer = Some(checkpointer);
        self
    }

    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// The connection for work outside any member (an integrity check, a counter). A group
    /// may be open on it: such work must not begin, end or roll back a transaction.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the connection leaves no half-done member behind (its drop
        // rolls back to its savepoint and ends or hands on the group), so a poisoned lock is
        // still usable.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    pub(crate) fn commit_groups(&self) -> CommitGroups {
        CommitGroups {
            groups: self.groups.load(Ordering::SeqCst),
            members: self.members.load(Ordering::SeqCst),
            largest: self.largest.load(Ordering::SeqCst),
        }
    }

    /// Begins a member: takes the writer connection and joins the open group transaction
    /// inside a savepoint of its own, or opens a group and is its first member, bare.
    pub(crate) fn begin(&self) -> StoreResult<MutexGuard<'_, Writer>> {
        self.begin_member(false)
    }

    /// Begins a member that must be its group's first (a large batch): a group handed on to
    /// it is committed first, with its members answered, and a new one opened.
    pub(crate) fn begin_first(&self) -> StoreResult<MutexGuard<'_, Writer>> {
        self.begin_member(true)
    }

    fn begin_member(&self, first: bool) -> StoreResult<MutexGuard<'_, Writer>> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut writer = self.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if writer.group.is_some() && (first || writer.conn.is_autocommit()) {
            // A batch starts its own group; or SQLite rolled the group transaction back by
            // itself (an I/O error, a full disk): its members learn it now, and this one
            // starts afresh.
            let _ = self.close(&mut writer);
        }
        if writer.group.is_none() {
            if first {
                let cache = format!("pragma cache_size = -{}", crate::CACHE_KIB);
                writer.conn.execute_batch(&cache).map_err(unavailable)?;
            }
            writer.conn.execute_batch("begin immediate").map_err(unavailable)?;
            let outcome = Arc::default();
            let group = Group { outcome, members: 1, kept: 0, bare: true, batch: first };
            writer.group = Some(group);
            return Ok(writer);
        }
        if let Some(group) = &mut writer.group {
            group.members += 1;
            group.bare = false;
        }
        if let Err(err) = writer.conn.execute_batch("savepoint member") {
            // The group goes on without this member (or ends, if no one waits).
            let _ = self.finish(writer, false);
            return Err(unavailable(err));
        }
        Ok(writer)
    }

    /// Ends a member that kept its writes: they are durable once this returns `Ok`.
    pub(crate) fn commit(&self, writer: MutexGuard<'_, Writer>) -> StoreResult<()> {
        if writer.group.as_ref().is_some_and(|g| g.bare) {
            return self.finish(writer, true);
        }
        if let Err(err) = writer.conn.execute_batch("release member") {
            let _ = writer.conn.execute_batch("rollback to member; release member");
            let _ = self.finish(writer, false);
            return Err(unavailable(err));
        }
        self.finish(writer, true)
    }

    /// Ends a member without its writes. It still waits for its group, so that what it
    /// answered (a refusal, a replayed response) rests only on committed writes.
    pub(crate) fn roll_back(&self, mut writer: MutexGuard<'_, Writer>) {
        if writer.group.as_ref().is_some_and(|g| g.bare) {
            // The first member is the whole group so far: rolling the group back undoes it.
            let _ = self.close(&mut writer);
            return;
        }
        // Rolling back can only fail when SQLite already rolled the whole group back.
        let _ = writer.conn.execute_batch("rollback to member; release member");
        let _ = self.finish(writer, false);
    }

    /// Hands the group on to a waiting writer and waits for its outcome, or ends it now.
    fn finish(&self, mut writer: MutexGuard<'_, Writer>, kept: bool) -> StoreResult<()> {
        let Some(group) = &mut writer.group else {
            return Err(StoreError::Unavailable("no group transaction is open".into()));
        };
        if kept {
            group.kept += 1;
        }
        group.bare = false;
        if group.members < self.limit && self.waiting() > 0 {
            let outcome = Arc::clone(&group.outcome);
            drop(writer);
            return outcome.wait().map_err(|why| StoreError::Unavailable(why.into()));
        }
        let result = self.close(&mut writer);
        drop(writer);
        result.map_err(|why| StoreError::Unavailable(why.into()))
    }

    /// Ends the open group: commits it when a member kept writes, rolls it back otherwise, and
    /// tells every member how it ended.
    fn close(&self, writer: &mut Writer) -> Result<(), String> {
        let Some(group) = writer.group.take() else { return Ok(()) };
        let conn = &writer.conn;
        let result = if conn.is_autocommit() {
            if group.kept > 0 {
                Err("the group transaction was rolled back by the database".to_owned())
            } else {
                Ok(())
            }
        } else if group.kept == 0 {
            conn.execute_batch("rollback").map_err(|err| err.to_string())
        } else {
            match conn.execute_batch("commit") {
                Ok(()) => {
                    if let Some(checkpointer) = &self.checkpointer {
                        checkpointer.committed(group.members);
                    }
                    Ok(())
                }
                Err(err) => {
                    if !conn.is_autocommit() {
                        let _ = conn.execute_batch("rollback");
                    }
                    Err(format!("commit failed: {err}"))
                }
            }
        };
        // A failed rollback of a group with nothing kept loses nothing; its members are told
        // so only if the connection is left inside a transaction.
        let result = match result {
            Err(_) if group.kept == 0 && conn.is_autocommit() => Ok(()),
            other => other,
        };
        group.outcome.set(result.clone());
        if group.batch {
            // Back to the groups' cache; a failure leaves the larger one, which only costs time.
            let _ = conn.execute_batch(&format!("pragma cache_size = -{WRITER_CACHE_KIB}"));
        }
        let members = u64::try_from(group.members).unwrap_or(u64::MAX);
        self.groups.fetch_add(1, Ordering::SeqCst);
        self.members.fetch_add(members, Ordering::SeqCst);
        self.largest.fetch_max(members, Ordering::SeqCst);
        metrics::histogram!("settle_sqlite_commit_group_members").record(members as f64);
        result
    }
}

#[cfg(test)]
mod tests;
