//! Group commit on a bare table: a failed `COMMIT` reaches every member that kept writes.

use std::sync::atomic::Ordering;

use crate::Durability;
use crate::group::Writers;

fn writers(dir: &tempfile::TempDir) -> Writers {
    let conn = crate::connect(&dir.path().join("group.db"), Durability::Full).expect("connect");
    // The child's key is checked at commit, so a bad row passes its statement and its release,
    // and fails the group's `COMMIT`.
    conn.execute_batch(
        "create table parent (id integer primary key); \
         create table child (id integer primary key, parent_id integer not null \
         references parent (id) deferrable initially deferred); \
         insert into parent (id) values (1);",
    )
    .expect("schema");
    Writers::new(conn)
}

fn count(writers: &Writers, table: &str) -> i64 {
    let writer = writers.lock();
    writer
        .conn
        .query_row(&format!("select count(*) from {table}"), [], |r| r.get(0))
        .expect("count")
}

#[test]
fn a_failed_group_commit_is_every_members_error_and_keeps_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let writers = writers(&dir);
    let (first, second) = std::thread::scope(|s| {
        let first = writers.begin().expect("begin");
        first.conn.execute_batch("insert into child (id, parent_id) values (1, 1)").expect("good");
        let second = s.spawn(|| {
            let second = writers.begin().expect("begin");
            second
                .conn
                .execute_batch("insert into child (id, parent_id) values (2, 99)")
                .expect("checked only at commit");
            writers.commit(second)
        });
        while writers.waiting() < 1 {
            std::thread::yield_now();
        }
        let first = writers.commit(first);
        (first, second.join().expect("second"))
    });
    assert!(first.is_err(), "the first member was told its writes committed");
    assert!(second.is_err(), "the second member was told its writes committed");
    assert_eq!(count(&writers, "child"), 0);
    assert_eq!(writers.commit_groups().groups, 1);
    assert_eq!(writers.commit_groups().members, 2);
    // The writer is usable again: the next member starts a new group and commits.
    let next = writers.begin().expect("begin");
    next.conn.execute_batch("insert into child (id, parent_id) values (3, 1)").expect("good");
    writers.commit(next).expect("commit");
    assert_eq!(count(&writers, "child"), 1);
    assert_eq!(writers.waiting.load(Ordering::SeqCst), 0);
}

#[test]
fn a_member_rolled_back_keeps_the_rest_of_its_group() {
    let dir = tempfile::tempdir().expect("dir");
    let writers = writers(&dir);
    let (first, third) = std::thread::scope(|s| {
        let first = writers.begin().expect("begin");
        first.conn.execute_batch("insert into child (id, parent_id) values (1, 1)").expect("good");
        let second = s.spawn(|| {
            let second = writers.begin().expect("begin");
            second
                .conn
                .execute_batch("insert into child (id, parent_id) values (2, 1)")
                .expect("good");
            writers.roll_back(second);
        });
        let third = s.spawn(|| {
            let third = writers.begin().expect("begin");
            third
                .conn
                .execute_batch("insert into child (id, parent_id) values (3, 1)")
                .expect("good");
            writers.commit(third)
        });
        while writers.waiting() < 2 {
            std::thread::yield_now();
        }
        let first = writers.commit(first);
        second.join().expect("second");
        (first, third.join().expect("third"))
    });
    first.expect("first committed");
    third.expect("third committed");
    let writer = writers.lock();
    let ids: Vec<i64> = writer
        .conn
        .prepare("select id from child order by id")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(ids, [1, 3]);
    drop(writer);
    assert_eq!(writers.commit_groups(), crate::CommitGroups { groups: 1, members: 3, largest: 3 });
}

/// A batch gets every connection's larger page cache for its transaction, and the writer's
/// own smaller one comes back when the batch ends, committed or rolled back.
#[test]
fn a_batch_raises_the_writers_cache_until_it_ends() {
    let dir = tempfile::tempdir().expect("dir");
    let writers = writers(&dir);
    let cache = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("pragma cache_size", [], |r| r.get(0)).expect("cache size")
    };
    let batch_cache = -i64::from(crate::CACHE_KIB);
    let writer_cache = -i64::from(crate::group::WRITER_CACHE_KIB);
    let batch = writers.begin_first().expect("batch");
    assert_eq!(cache(&batch.conn), batch_cache);
    batch.conn.execute_batch("insert into child (id, parent_id) values (1, 1)").expect("good");
    writers.commit(batch).expect("commit");
    assert_eq!(cache(&writers.lock().conn), writer_cache);
    let member = writers.begin().expect("member");
    assert_eq!(cache(&member.conn), writer_cache);
    writers.commit(member).expect("commit");
    let batch = writers.begin_first().expect("batch");
    assert_eq!(cache(&batch.conn), batch_cache);
    writers.roll_back(batch);
    assert_eq!(cache(&writers.lock().conn), writer_cache);
    assert_eq!(count(&writers, "child"), 1);
}
