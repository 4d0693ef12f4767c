//! Online backups (`settle backup`): a consistent copy of a live store while `settle serve`
//! keeps writing, made with SQLite's online backup API.
//!
//! The copy is the database as of one read snapshot, taken when the backup starts: every
//! transaction committed before it is in the copy, none committed after it is. The snapshot is
//! one read transaction held on the source for the whole backup, so a commit by the server
//! between two steps neither restarts the backup (SQLite restarts it when the source changes
//! under a backup that holds no snapshot, which under steady writes can mean never finishing)
//! nor shows up half way. In WAL mode, which Settle always uses, a reader never blocks a writer:
//! the server keeps committing while the pages are copied, step by step, and the steps only
//! let the caller report progress. The WAL grows meanwhile, since no checkpoint can pass the
//! snapshot, and is checkpointed as usual once the backup ends.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use settle_store::{StoreError, StoreResult};

use crate::{BUSY_TIMEOUT, unavailable};

/// Pages copied per step (1 MiB at SQLite's default 4 KiB page): small enough for a progress
/// bar that moves, large enough that the steps cost nothing.
const PAGES_PER_STEP: i32 = 256;

/// The pause before a step that found a lock taken is tried again.
const BUSY_PAUSE: Duration = Duration::from_millis(10);

/// How far a backup has got, in database pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupProgress {
    /// Pages copied so far.
    pub pages_done: u64,
    /// Pages in the snapshot being copied.
    pub pages_total: u64,
}

/// Copies the Settle database at `from` to a new file at `to`, as of one snapshot, calling
/// `progress` after each step.
///
/// The pages go to `TO.partial` first, which is renamed to `to` only once complete and on
/// disk, so `to` is never a half-written database. An existing `to` is replaced, with its
/// `-wal` and `-shm` files: the caller decides whether that is wanted. Refuses a `from` that is
/// not a Settle database ([`StoreError::Missing`]) and never creates it.
pub fn backup(from: &Path, to: &Path, progress: &mut dyn FnMut(BackupProgress)) -> StoreResult<()> {
    backup_in_steps(from, to, PAGES_PER_STEP, progress)
}

pub(crate) fn backup_in_steps(
    from: &Path,
    to: &Path,
    pages_per_step: i32,
    progress: &mut dyn FnMut(BackupProgress),
) -> StoreResult<()> {
    let source = open_source(from)?;
    let partial = sidecar(to, ".partial");
    remove_if_present(&partial)?;
    {
        let mut copy = Connection::open(&partial).map_err(unavailable)?;
        copy_snapshot(&source, &mut copy, pages_per_step, progress)?;
        // Closing the copy's connection ends its last write before the file is renamed.
        copy.close().map_err(|(_, err)| unavailable(err))?;
    }
    drop(source);
    for stale in [sidecar(to, "-wal"), sidecar(to, "-shm")] {
        remove_if_present(&stale)?;
    }
    fs::rename(&partial, to).map_err(io_failure)?;
    sync_parent(to)
}

/// Opens the source read-write (a WAL reader needs the `-shm` file) but never creates it, and
/// checks that it holds Settle's schema.
fn open_source(from: &Path) -> StoreResult<Connection> {
    if !from.is_file() {
        return Err(StoreError::Missing(format!("{} does not exist", from.display())));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let source = Connection::open_with_flags(from, flags).map_err(unavailable)?;
    source.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    let version: i64 =
        source.query_row("pragma user_version", [], |row| row.get(0)).map_err(unavailable)?;
    if version == 0 {
        return Err(StoreError::Missing(format!("{} holds no Settle database", from.display())));
    }
    Ok(source)
}

/// Copies the source as of one read transaction, held from the first page to the last.
fn copy_snapshot(
    source: &Connection,
    copy: &mut Connection,
    pages_per_step: i32,
    progress: &mut dyn FnMut(BackupProgress),
) -> StoreResult<()> {
    // `begin` is deferred: the first read takes the snapshot.
    source.execute_batch("begin").map_err(unavailable)?;
    let _: i64 = source
        .query_row("select count(*) from sqlite_schema", [], |row| row.get(0))
        .map_err(unavailable)?;
    {
        let steps = Backup::new(source, copy).map_err(unavailable)?;
        loop {
            match steps.step(pages_per_step).map_err(unavailable)? {
                StepResult::Done => break,
                StepResult::More => {}
                _ => std::thread::sleep(BUSY_PAUSE),
            }
            let done = steps.progress();
            progress(BackupProgress {
                pages_done: u64::try_from(done.pagecount - done.remaining).unwrap_or(0),
                pages_total: u64::try_from(done.pagecount).unwrap_or(0),
            });
        }
        let done = steps.progress();
        let pages_total = u64::try_from(done.pagecount).unwrap_or(0);
        progress(BackupProgress { pages_done: pages_total, pages_total });
    }
    source.execute_batch("commit").map_err(unavailable)
}

/// `to` with `suffix` appended to its file name (`settle.db-wal`).
fn sidecar(to: &Path, suffix: &str) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> StoreResult<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(io_failure(err)),
        _ => Ok(()),
    }
}

/// Makes the rename itself durable: the directory entry is flushed too.
#[cfg(unix)]
fn sync_parent(to: &Path) -> StoreResult<()> {
    let parent = match to.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::File::open(parent).and_then(|dir| dir.sync_all()).map_err(io_failure)
}

/// Elsewhere a directory cannot be opened to flush it; the rename is as durable as the system
/// makes it.
#[cfg(not(unix))]
fn sync_parent(_to: &Path) -> StoreResult<()> {
    Ok(())
}

fn io_failure(err: std::io::Error) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

#[cfg(test)]
mod tests;
