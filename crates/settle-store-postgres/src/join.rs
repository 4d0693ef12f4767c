//! Joins a flight's consecutive writes into one statement,
//! `with w1 as (<write> returning 1), w2 as (<write> returning 1) select (select count(*) from
//! w1), (select count(*) from w2)`, so that the server parses, binds, starts an executor and
//! answers once for all of them.
//!
//! What it saves is mostly not the server's executor but the answers: `tokio-postgres` ends
//! each statement with a Sync, after which PostgreSQL sends what it has, so a post's dozen
//! writes cost the server a dozen `send` calls and wake the waiting thread a dozen times. A
//! profile of a one-client run put a fifth of the backend's time in those sends.
//!
//! The writes of one statement all see the snapshot it started with, not each other's rows,
//! and run in an order PostgreSQL chooses. So a write joins only where neither can change
//! what it does:
//! - it is an insert or an update whose table Settle reads from its text (see `merge.rs`),
//!   reading no other table (no `select`) and answering nothing (no `returning`);
//! - no other write of the statement touches its table, unless both are plain inserts (which
//!   read nothing, and whose unique keys are checked against every row inserted before them,
//!   in this statement too): an update would not find a row another member inserts, an
//!   upsert would not meet it and insert a second;
//! - its table has no trigger for its event (a trigger may read any table);
//! - foreign keys are checked when the whole statement ends, after every member's rows exist,
//!   so a child row may come in a member before its parent's; check constraints are per row.
//!
//! The statement answers each member's row count, which the flight checks as it checked each
//! write's own (`tx/sending.rs`). When two members would fail, the error reported may be
//! either's, as when `merge.rs` reorders inserts.

use std::ops::Range;

use crate::merge::{Links, MAX_PARAMS, ON_INSERT, ON_UPDATE, Target, renumber, target};

/// What a write that may be joined writes: its table, whether it is a plain insert, and its
/// parameters' count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Joinable<'a> {
    pub(crate) table: &'a str,
    pub(crate) insert: bool,
    pub(crate) params: usize,
}

impl Joinable<'_> {
    /// Whether one statement may run both writes (see the module's rules).
    fn may_join(&self, other: &Joinable<'_>) -> bool {
        self.table != other.table || (self.insert && other.insert)
    }
}

/// The table of the write `sql`, if it may be joined with others (see the module's rules
/// that concern one write).
pub(crate) fn joinable<'a>(sql: &'a str, params: usize, links: &Links) -> Option<Joinable<'a>> {
    if sql.contains("select") || sql.contains("returning") {
        return None;
    }
    let (table, event, insert) = match target(sql) {
        Target::Insert(table) if sql.contains(" on conflict ") => {
            (table, ON_INSERT | ON_UPDATE, false)
        }
        Target::Insert(table) => (table, ON_INSERT, true),
        Target::Update(table, _) => (table, ON_UPDATE, false),
        Target::Other => return None,
    };
    (!links.fires(table, event)).then_some(Joinable { table, insert, params })
}

/// The runs of `writes` (in flight order; `None` for a statement that may not be joined) to
/// send as one statement each: consecutive joinable writes, each on a table no other of its
/// run writes (but plain inserts, see [`Joinable::may_join`]), with at most [`MAX_PARAMS`]
/// parameters in all. Runs of one write are left out: those go as they are.
pub(crate) fn runs(writes: &[Option<Joinable<'_>>]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut params = 0;
    for (at, write) in writes.iter().enumerate() {
        let fits = write.is_some_and(|write| {
            start < at
                && params + write.params <= MAX_PARAMS
                && writes[start..at].iter().flatten().all(|w| w.may_join(&write))
        });
        if !fits {
            if at - start > 1 {
                runs.push(start..at);
            }
            start = at;
            params = 0;
            if write.is_none() {
                start = at + 1;
            }
        }
        params += write.map_or(0, |write| write.params);
    }
    if writes.len().saturating_sub(start) > 1 {
        runs.push(start..writes.len());
    }
    runs
}

/// The text of one statement running `members` (each a write's text and its parameters'
/// count), each member's placeholders after the previous member's; it answers one row of
/// each member's row count, in order.
pub(crate) fn joined_sql(members: &[(&str, usize)]) -> String {
    let mut sql = String::from("with ");
    let mut offset = 0;
    for (n, (member, params)) in members.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("w{n} as ("));
        renumber(&mut sql, member, offset);
        sql.push_str(" returning 1)");
        offset += params;
    }
    sql.push_str(" select ");
    let counts: Vec<String> =
        (0..members.len()).map(|n| format!("(select count(*) from w{n})")).collect();
    sql.push_str(&counts.join(", "));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(table: &str, params: usize) -> Option<Joinable<'_>> {
        Some(Joinable { table, insert: false, params })
    }

    fn insert(table: &str, params: usize) -> Option<Joinable<'_>> {
        Some(Joinable { table, insert: true, params })
    }

    #[test]
    fn consecutive_writes_on_different_tables_join_and_a_table_met_again_starts_a_run() {
        let writes = [
            write("document", 10),
            write("document_item", 12),
            write("posting", 30),
            write("document", 4),
            write("customer", 6),
        ];
        assert_eq!(runs(&writes), vec![0..3, 3..5]);
    }

    #[test]
    fn plain_inserts_into_one_table_join_and_an_update_or_upsert_of_it_does_not() {
        let writes = [
            insert("posting", 32),
            insert("document_item", 12),
            insert("posting", 8),
            write("posting", 9),
            insert("customer", 8),
            insert("posting", 8),
        ];
        assert_eq!(runs(&writes), vec![0..3, 3..5]);
    }

    #[test]
    fn a_statement_that_may_not_join_splits_the_runs_and_lone_writes_go_as_they_are() {
        let writes = [write("a", 1), None, write("b", 1), write("c", 1), None, write("d", 1)];
        assert_eq!(runs(&writes), vec![2..4]);
    }

    #[test]
    fn a_run_holds_at_most_the_parameters_of_one_statement() {
        let writes = [write("a", 40_000), write("b", 25_000), write("c", 1_000), write("d", 1)];
        assert_eq!(runs(&writes), vec![0..2, 2..4]);
    }

    #[test]
    fn the_joined_text_numbers_each_members_placeholders_after_the_last_and_counts_rows() {
        let sql = joined_sql(&[
            ("insert into a (x, y) values ($1, $2)", 2),
            ("update b set z = $1 where k = $2", 2),
        ]);
        assert_eq!(
            sql,
            "with w0 as (insert into a (x, y) values ($1, $2) returning 1), \
             w1 as (update b set z = $3 where k = $4 returning 1) \
             select (select count(*) from w0), (select count(*) from w1)"
        );
    }

    #[test]
    fn only_plain_writes_on_tables_without_triggers_may_join() {
        let links = Links::default();
        let insert = "insert into a (x) values ($1)";
        let plain = Joinable { table: "a", insert: true, params: 1 };
        assert_eq!(joinable(insert, 1, &links), Some(plain));
        let upsert = "insert into a (x) values ($1) on conflict (x) do update set y = a.y + 1";
        let upserted = Joinable { table: "a", insert: false, params: 1 };
        assert_eq!(joinable(upsert, 1, &links), Some(upserted));
        assert_eq!(joinable("insert into a (x) select $1", 1, &links), None);
        assert_eq!(joinable("insert into a (x) values ($1) returning x", 1, &links), None);
        assert_eq!(joinable("delete from a where x = $1", 1, &links), None);
        assert_eq!(joinable("savepoint unit", 0, &links), None);
        let triggered = Links::with_trigger("a", ON_UPDATE);
        assert!(joinable(insert, 1, &triggered).is_some());
        assert_eq!(joinable("update a set y = $1 where x = $2", 2, &triggered), None);
        assert_eq!(joinable(upsert, 1, &triggered), None);
    }
}
