//! Checkpoints beside the writer, not inside its commits.
//!
//! In WAL mode a commit appends pages to the `-wal` file, and a checkpoint copies them into the
//! database file. SQLite's default runs that checkpoint inside the commit that takes the WAL
//! past 1,000 pages: that commit (and, with group commit, every member waiting for it) waits
//! for the copy and its fsync, and a bill run's batch pays for it on the one thread doing the
//! work. Here the writer connection checkpoints itself only as a backstop, past
//! [`BACKSTOP_PAGES`]; after each commit it wakes a thread with a connection of its own,
//! which runs a passive checkpoint (one that never waits for, nor blocks, readers or the
//! writer). While writers queue for the writer it rests between two checkpoints [`PACE`] or
//! twice as long as the last one took ([`REST_PER_WORK`]), so each checkpoint copies only a few
//! milliseconds of commits and its fsync holds the commits' fsyncs back briefly; while each
//! commit is alone, it checkpoints at most once per [`ALONE_PACE`].
//!
//! A checkpoint changes nothing a reader sees and nothing a crash can lose: the committed
//! pages are already durable in the WAL, and SQLite redoes an interrupted checkpoint.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// WAL pages past which the writer checkpoints itself, should the checkpointer fall behind
/// (about 40 MB with SQLite's 4 KiB pages).
pub(crate) const BACKSTOP_PAGES: u32 = 10_000;

/// Least time between the end of one checkpoint and the start of the next while writers queue
/// for the writer (a commit held more than one member). Each checkpoint ends with an fsync of
/// the database file, which the commits' fsyncs of the WAL wait behind: the more pages it
/// copies, the longer the commits wait. At most once per 100 ms, a 16-client run's write p99
/// was 18–20 ms; with this pause, 9–10 ms (docs/BENCHMARKS.md, "Smaller checkpoints").
const PACE: Duration = Duration::from_millis(5);

/// Least time between the starts of two checkpoints while every commit holds one member (one
/// client, or a batch): no commit waits behind another then, and checkpointing every few
/// milliseconds would cost a lone client 7% of its rate and triple its read p99 for nothing.
const ALONE_PACE: Duration = Duration::from_millis(100);

/// The pause after a checkpoint lasts at least this many times as long as the checkpoint did,
/// so the checkpointer keeps the disk busy at most a third of the time however slow its
/// fsyncs are, and leaves the rest to the commits.
const REST_PER_WORK: u32 = 2;

/// What the writer tells the checkpointer.
#[derive(Default)]
struct Signal {
    /// Commits have landed since the last checkpoint began.
    pending: bool,
    /// One of them held more than one member: writers were queueing for the writer.
    crowded: bool,
    /// The store is closing.
    stop: bool,
}

/// The checkpointer thread; dropping it stops the thread and waits for it.
pub(crate) struct Checkpointer {
    signal: Arc<(Mutex<Signal>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, which checkpoints through `conn` (a connection of its own to the
    /// store's file).
    pub(crate) fn start(conn: Connection) -> std::io::Result<Checkpointer> {
        let signal: Arc<(Mutex<Signal>, Condvar)> = Arc::default();
        let theirs = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&conn, &theirs))?;
        Ok(Checkpointer { signal, thread: Some(thread) })
    }

    /// Tells the checkpointer that a commit of `members` members landed.
    pub(crate) fn committed(&self, members: usize) {
        let (lock, wake) = &*self.signal;
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        state.pending = true;
        state.crowded |= members > 1;
        wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.signal;
        lock.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: waits for a commit, then checkpoints, no sooner than it is [`Due`] (commits
/// landing meanwhile share the next one).
fn run(conn: &Connection, signal: &(Mutex<Signal>, Condvar)) {
    let (lock, wake) = signal;
    let mut due: Option<Due> = None;
    loop {
        {
            let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if state.stop {
                    return;
                }
                if !state.pending {
                    state = wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                    continue;
                }
                // A crowded commit landing while this waits makes the next checkpoint due
                // sooner; closing the store cuts the wait short.
                let at = due.map(|due| if state.crowded { due.crowded } else { due.alone });
                let Some(left) = at.and_then(|at| at.checked_duration_since(Instant::now())) else {
                    break;
                };
                state = wake.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
            }
            state.pending = false;
            state.crowded = false;
        }
        let started = Instant::now();
        checkpoint(conn);
        due = Due::after(started, Instant::now());
    }
}

/// When the next checkpoint may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Due {
    /// After a commit that held several members.
    crowded: Instant,
    /// After commits of one member each.
    alone: Instant,
}

impl Due {
    /// After a checkpoint that ran from `started` to `ended`: [`PACE`] after its end, or
    /// [`REST_PER_WORK`] times its length; [`ALONE_PACE`] after its start, and never sooner
    /// than the first.
    fn after(started: Instant, ended: Instant) -> Option<Due> {
        let crowded = ended.checked_add(pause_after(ended.saturating_duration_since(started)))?;
        let alone = started.checked_add(ALONE_PACE)?.max(crowded);
        Some(Due { crowded, alone })
    }
}

/// How long the checkpointer rests, while commits queue, after a checkpoint that took `took`.
fn pause_after(took: Duration) -> Duration {
    PACE.max(took.saturating_mul(REST_PER_WORK))
}

/// One passive checkpoint. A failure (the disk full, say) leaves the pages in the WAL, where
/// the next checkpoint, or the writer's backstop, copies them.
fn checkpoint(conn: &Connection) {
    let done = conn.query_row("pragma wal_checkpoint(passive)", [], |row| row.get::<_, i64>(0));
    let outcome = match done {
        Ok(0) => "done",
        Ok(_) => "busy",
        Err(_) => "failed",
    };
    metrics::counter!("settle_sqlite_checkpoints_total", "outcome" => outcome).increment(1);
}

#[cfg(test)]
mod tests;
