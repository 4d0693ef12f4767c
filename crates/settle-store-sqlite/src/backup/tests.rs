//! The online backup against a database written to while it is copied.

use std::path::Path;

use rusqlite::Connection;
use settle_store::StoreError;

use super::{BackupProgress, backup, backup_in_steps};

/// Rows in the source: enough pages for many steps of 8 pages.
const ROWS: i64 = 2_000;

/// A WAL database with Settle's `user_version` mark and `ROWS` rows of about 200 bytes.
fn source(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open");
    conn.execute_batch(
        "pragma journal_mode = wal; pragma user_version = 1; \
         create table line (id integer primary key, text text not null);",
    )
    .expect("schema");
    let tx = conn.unchecked_transaction().expect("begin");
    for id in 1..=ROWS {
        tx.execute("insert into line (id, text) values (?1, ?2)", (id, "x".repeat(200)))
            .expect("insert");
    }
    tx.commit().expect("commit");
    conn
}

fn rows(path: &Path) -> i64 {
    let conn = Connection::open(path).expect("open");
    conn.query_row("select count(*) from line", [], |row| row.get(0)).expect("count")
}

#[test]
fn a_commit_during_the_backup_is_not_in_the_copy_and_does_not_restart_it() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (dir.path().join("live.db"), dir.path().join("copy.db"));
    let writer = source(&from);
    let mut reports: Vec<BackupProgress> = Vec::new();
    backup_in_steps(&from, &to, 8, &mut |progress| {
        if reports.is_empty() {
            writer
                .execute("insert into line (id, text) values (?1, 'after')", [ROWS + 1])
                .expect("a commit while the backup runs");
        }
        reports.push(progress);
    })
    .expect("backup");
    assert_eq!((rows(&from), rows(&to)), (ROWS + 1, ROWS));
    let last = *reports.last().expect("progress");
    assert_eq!(last.pages_done, last.pages_total);
    assert!(reports.len() > 10, "{} steps", reports.len());
    // Never restarted: the pages copied only grow.
    assert!(reports.windows(2).all(|w| w[0].pages_done <= w[1].pages_done), "{reports:?}");
    let copy = Connection::open(&to).expect("open copy");
    let check: String =
        copy.query_row("pragma integrity_check", [], |row| row.get(0)).expect("check");
    assert_eq!(check, "ok");
    assert!(!dir.path().join("copy.db.partial").exists());
}

#[test]
fn a_backup_replaces_an_existing_file_and_its_wal() {
    let dir = tempfile::tempdir().expect("dir");
    let (from, to) = (dir.path().join("live.db"), dir.path().join("copy.db"));
    drop(source(&from));
    std::fs::write(&to, "not a database").expect("write");
    std::fs::write(dir.path().join("copy.db-wal"), "a stale log").expect("write");
    backup(&from, &to, &mut |_| {}).expect("backup");
    assert_eq!(rows(&to), ROWS);
}

#[test]
fn a_missing_file_or_one_without_settles_schema_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("dir");
    let (missing, to) = (dir.path().join("missing.db"), dir.path().join("copy.db"));
    let err = backup(&missing, &to, &mut |_| {}).expect_err("missing");
    assert!(matches!(err, StoreError::Missing(_)), "{err:?}");
    assert!(!missing.exists());
    let other = dir.path().join("other.db");
    Connection::open(&other).expect("open").execute_batch("create table t (x)").expect("table");
    let err = backup(&other, &to, &mut |_| {}).expect_err("no schema");
    assert!(
        matches!(err, StoreError::Missing(ref why) if why.ends_with("holds no Settle database"))
    );
    assert!(!to.exists());
}
