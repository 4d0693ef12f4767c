//! The checkpointer copies commits into the database file; the store's writer does not.

use rusqlite::{Connection, OpenFlags};

use crate::checkpoint::{BACKSTOP_PAGES, Checkpointer};
use crate::{Durability, SqliteStore};

/// What the database file alone holds, without its WAL: only checkpointed pages.
fn rows_in_the_file(path: &std::path::Path) -> i64 {
    let uri = format!("file:{}?immutable=1", path.display());
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(uri, flags).expect("open the file alone");
    conn.query_row("select count(*) from t", [], |r| r.get(0)).unwrap_or(-1)
}

#[test]
fn a_commit_reaches_the_database_file_through_the_checkpointer() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("checkpoint.db");
    let writer = crate::connect(&path, Durability::Full).expect("connect");
    writer.execute_batch("pragma wal_autocheckpoint = 0; create table t (x)").expect("schema");
    writer.execute_batch("pragma wal_checkpoint(truncate)").expect("the table in the file");
    let checkpointer =
        Checkpointer::start(crate::connect(&path, Durability::Full).expect("connect"))
            .expect("start");

    writer.execute_batch("insert into t (x) values (1), (2)").expect("insert");
    assert_eq!(rows_in_the_file(&path), 0, "the rows are only in the WAL until a checkpoint");
    checkpointer.committed();
    let mut seen = 0;
    for _ in 0..500 {
        seen = rows_in_the_file(&path);
        if seen == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(seen, 2, "the checkpointer copied the commit into the file");
    drop(checkpointer);
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
