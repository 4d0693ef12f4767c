//! The checkpointer copies commits into the database file; the store's writer does not.

use rusqlite::{Connection, OpenFlags};

use crate::checkpoint::{BACKSTOP_PAGES, Checkpointer};
use crate::group::Writers;
use crate::{Durability, SqliteStore};

/// What the database file alone holds, without its WAL: only checkpointed pages.
fn rows_in_the_file(path: &std::path::Path) -> i64 {
    let uri = format!("file:{}?immutable=1", path.display());
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(uri, flags).expect("open the file alone");
    conn.query_row("select count(*) from t", [], |r| r.get(0)).unwrap_or(-1)
}

/// Waits (at most 5 s) until the database file alone holds `rows` rows of `t`.
fn wait_for_rows_in_the_file(path: &std::path::Path, rows: i64) -> i64 {
    let mut seen = rows_in_the_file(path);
    for _ in 0..500 {
        if seen == rows {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        seen = rows_in_the_file(path);
    }
    seen
}

/// A writer connection that never checkpoints by itself, over a file whose table `t` is
/// already in the database file.
fn writer_without_checkpoints(path: &std::path::Path) -> Connection {
    let writer = crate::connect(path, Durability::Full).expect("connect");
    writer.execute_batch("pragma wal_autocheckpoint = 0; create table t (x)").expect("schema");
    writer.execute_batch("pragma wal_checkpoint(truncate)").expect("the table in the file");
    writer
}

fn checkpointer(path: &std::path::Path) -> Checkpointer {
    Checkpointer::start(crate::connect(path, Durability::Full).expect("connect")).expect("start")
}

#[test]
fn a_commit_reaches_the_database_file_through_the_checkpointer() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("checkpoint.db");
    let writer = writer_without_checkpoints(&path);
    let checkpointer = checkpointer(&path);

    writer.execute_batch("insert into t (x) values (1), (2)").expect("insert");
    assert_eq!(rows_in_the_file(&path), 0, "the rows are only in the WAL until a checkpoint");
    checkpointer.committed(1);
    assert_eq!(wait_for_rows_in_the_file(&path, 2), 2, "the checkpointer copied the commit");
    drop(checkpointer);
}

#[test]
fn a_group_commit_wakes_the_checkpointer() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("group.db");
    let writers =
        Writers::new(writer_without_checkpoints(&path)).with_checkpointer(checkpointer(&path));

    let member = writers.begin().expect("begin");
    member.conn.execute_batch("insert into t (x) values (1)").expect("insert");
    writers.commit(member).expect("commit");
    assert_eq!(wait_for_rows_in_the_file(&path, 1), 1, "the commit was checkpointed");
}

#[test]
fn the_stores_writer_checkpoints_only_past_the_backstop() {
    let dir = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&dir.path().join("store.db"), Durability::Full).expect("open");
    let pages: u32 = store
        .writers
        .lock()
        .conn
        .query_row("pragma wal_autocheckpoint", [], |r| r.get(0))
        .expect("read the pragma");
    assert_eq!(pages, BACKSTOP_PAGES);
}

#[test]
fn the_checkpointer_rests_five_ms_or_twice_its_last_checkpoint() {
    use std::time::Duration;
    let ms = Duration::from_millis;
    assert_eq!(crate::checkpoint::pause_after(ms(0)), ms(5));
    assert_eq!(crate::checkpoint::pause_after(ms(2)), ms(5));
    assert_eq!(crate::checkpoint::pause_after(ms(3)), ms(6));
    assert_eq!(crate::checkpoint::pause_after(ms(30)), ms(60));
    assert_eq!(crate::checkpoint::pause_after(Duration::MAX), Duration::MAX);
}

#[test]
fn a_checkpoint_is_due_soon_after_a_crowded_commit_and_late_after_lone_ones() {
    use std::time::{Duration, Instant};
    let ms = Duration::from_millis;
    let started = Instant::now();
    let quick = crate::checkpoint::Due::after(started, started + ms(1)).expect("due");
    assert_eq!(quick.crowded, started + ms(6));
    assert_eq!(quick.alone, started + ms(100));
    let slow = crate::checkpoint::Due::after(started, started + ms(60)).expect("due");
    assert_eq!(slow.crowded, started + ms(180));
    assert_eq!(slow.alone, started + ms(180));
}
