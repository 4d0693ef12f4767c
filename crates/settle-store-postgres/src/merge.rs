//! Plans how a flight's held writes go out: single-row inserts of one shape become multi-row
//! `insert … values (…), (…)` statements, so the server parses, binds and starts its executor
//! once per chunk of rows instead of once per row.
//!
//! A held insert joins the group of the first earlier insert with the same text (same table,
//! same columns, same casts) while the group is open, which moves the insert before the
//! statements held between the two. A group closes, and the next such insert starts a new one
//! at the end, when a statement arrives that an insert of the group must not pass:
//! - a savepoint command (the caller splits the flight at each one), or a statement whose
//!   table Settle cannot read from its text (deletes, anything but `insert`/`update`);
//! - a statement on the group's own table (an update of a row inserted earlier, an upsert
//!   whose conflict target might be a row of the group, another insert's unique key);
//! - an insert into a table the group's table references by foreign key (the group's rows
//!   would be checked before their parent rows exist); an insert into a table that references
//!   the group's table may be passed, as then parents are inserted before their children;
//! - an update that sets a column of a foreign key between the two tables, or that reads
//!   another table (`select` in its text);
//! - a statement on a table with a trigger for its event, or a group whose table has an insert
//!   trigger (a trigger may read any table).
//!
//! Everything else touches other tables, through columns no foreign key between the two
//! tables uses, so moving an insert before it changes neither statement's rows, row counts nor
//! checks; unique and check constraints are per table and per row. Rows of one group keep
//! their order. A transaction whose statements all succeed therefore writes the same rows in
//! either order; one that fails still fails (a unique violation between rows of one table
//! fails whichever row comes second), though when two of its statements fail, the one
//! reported may be the other.

use std::collections::HashMap;
use std::fmt::Write as _;

/// PostgreSQL's limit of bind parameters per statement.
const MAX_PARAMS: usize = 65_535;

/// Rows per merged statement: a group is cut greedily into these sizes, so a connection
/// prepares at most six statements per insert shape, whatever the group's length, and a group
/// of 2,000 rows takes ten.
const CHUNK_ROWS: [usize; 7] = [512, 128, 32, 8, 4, 2, 1];

/// What the database's catalog says about how tables depend on each other.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// Foreign keys: (referencing table, its columns, referenced table, its columns).
    keys: Vec<(String, Vec<String>, String, Vec<String>)>,
    /// Tables with triggers of their own, and the events (`pg_trigger.tgtype` bits) they fire on.
    triggers: HashMap<String, i16>,
}

/// `pg_trigger.tgtype` bits of the events.
const ON_INSERT: i16 = 1 << 2;
const ON_UPDATE: i16 = 1 << 4;

impl Links {
    /// Reads the foreign keys and user triggers of the database (by table name: a name found in
    /// two schemas counts as one table, which only ever closes more groups).
    pub(crate) fn load(client: &mut postgres::Client) -> Result<Links, postgres::Error> {
        let rows = client.query(
            "select c.relname::text, \
             array(select attname::text from pg_attribute a \
                   where a.attrelid = k.conrelid and a.attnum = any(k.conkey)), \
             p.relname::text, \
             array(select attname::text from pg_attribute a \
                   where a.attrelid = k.confrelid and a.attnum = any(k.confkey)) \
             from pg_constraint k join pg_class c on c.oid = k.conrelid \
             join pg_class p on p.oid = k.confrelid where k.contype = 'f'",
            &[],
        )?;
        let keys = rows
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?)))
            .collect::<Result<_, postgres::Error>>()?;
        let rows = client.query(
            "select c.relname::text, t.tgtype from pg_trigger t \
             join pg_class c on c.oid = t.tgrelid where not t.tgisinternal",
            &[],
        )?;
        let mut triggers = HashMap::new();
        for row in rows {
            let (table, events): (String, i16) = (row.try_get(0)?, row.try_get(1)?);
            *triggers.entry(table).or_insert(0) |= events;
        }
        Ok(Links { keys, triggers })
    }

    fn fires(&self, table: &str, event: i16) -> bool {
        self.triggers.get(table).is_some_and(|events| events & event != 0)
    }

    /// Whether an insert into `group` may move before `passed`.
    fn may_pass(&self, passed: &Target<'_>, group: &str) -> bool {
        let (table, set) = match passed {
            Target::Insert(table) => (*table, None),
            Target::Update(table, set) => (*table, Some(set)),
            Target::Other => return false,
        };
        let event = if set.is_some() { ON_UPDATE } else { ON_INSERT };
        if table == group || self.fires(table, event) || self.fires(group, ON_INSERT) {
            return false;
        }
        self.keys.iter().all(|(child, child_columns, parent, parent_columns)| match set {
            // Parents may come before their children, never children before their parents.
            None => !(child == group && parent == table),
            Some(set) => {
                let touches =
                    |columns: &[String]| set.iter().any(|s| columns.iter().any(|c| c == s));
                let keyed_parent = child == group && parent == table && touches(parent_columns);
                let keyed_child = child == table && parent == group && touches(child_columns);
                !keyed_parent && !keyed_child
            }
        })
    }
}

/// What a held statement writes, read from its text.
enum Target<'a> {
    Insert(&'a str),
    /// The table and the columns it sets.
    Update(&'a str, Vec<&'a str>),
    Other,
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn target(sql: &str) -> Target<'_> {
    if let Some(rest) = sql.strip_prefix("insert into ")
        && let Some((table, _)) = rest.split_once(' ')
        && is_name(table)
    {
        return Target::Insert(table);
    }
    let Some(rest) = sql.strip_prefix("update ") else { return Target::Other };
    let Some((table, rest)) = rest.split_once(" set ") else { return Target::Other };
    let Some((set, _)) = rest.split_once(" where ") else { return Target::Other };
    if !is_name(table) || sql.contains("select") || set.contains('(') {
        return Target::Other;
    }
    let columns: Option<Vec<&str>> = set
        .split(", ")
        .map(|pair| pair.split_once(" = ").map(|(c, _)| c).filter(|c| is_name(c)))
        .collect();
    columns.map_or(Target::Other, |columns| Target::Update(table, columns))
}

/// A plain single-row insert, `insert into <table> (<columns>) values (<row>)`, whose row holds
/// nothing but placeholders (`$N`, perhaps cast): no upsert, no `returning`, no expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape<'a> {
    table: &'a str,
    /// Everything up to and including `values `.
    head: &'a str,
    /// `(…)`, the row.
    row: &'a str,
    /// Placeholders `$1` to `$params`.
    params: usize,
}

impl Shape<'_> {
    pub(crate) fn parse(sql: &str) -> Option<Shape<'_>> {
        let rest = sql.strip_prefix("insert into ")?;
        let (table, rest) = rest.split_once(" (")?;
        let (columns, _) = rest.split_once(") values (")?;
        if !is_name(table) || !columns.split(", ").all(is_name) {
            return None;
        }
        let at = sql.find(") values (")? + ") values ".len();
        let (head, row) = sql.split_at(at);
        let inner = row.strip_prefix('(')?.strip_suffix(')')?;
        let plain = |b: u8| b.is_ascii_alphanumeric() || b"$:_, ".contains(&b);
        if !inner.bytes().all(plain) {
            return None;
        }
        let params = placeholders(inner).max()?;
        Some(Shape { table, head, row, params })
    }

    /// The most rows one statement of this shape may carry.
    fn max_rows(&self) -> usize {
        (MAX_PARAMS / self.params.max(1)).max(1)
    }

    /// The text inserting `rows` rows, each row's placeholders after the previous row's.
    pub(crate) fn rows_sql(&self, rows: usize) -> String {
        let mut sql = String::with_capacity(self.head.len() + rows * (self.row.len() + 8));
        sql.push_str(self.head);
        for n in 0..rows {
            if n > 0 {
                sql.push_str(", ");
            }
            let mut rest = self.row;
            while let Some(at) = rest.find('$') {
                sql.push_str(&rest[..=at]);
                rest = &rest[at + 1..];
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let number: usize = rest[..digits].parse().unwrap_or(0);
                // Writing to a String cannot fail.
                let _ = write!(sql, "{}", number + n * self.params);
                rest = &rest[digits..];
            }
            sql.push_str(rest);
        }
        sql
    }
}

/// The numbers of the `$N` placeholders in `text`.
fn placeholders(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.split('$').skip(1).filter_map(|after| {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        after[..digits].parse().ok()
    })
}

/// One statement of a planned flight.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Planned {
    /// A held statement as it was held (its index).
    One(usize),
    /// Held inserts of one shape (their indexes, in order) as one statement of that many rows.
    Rows(Vec<usize>),
}

/// Plans a flight of held writes given by their text (`None` for a savepoint command) and
/// whether each may be merged (writes whose row count is checked may not).
pub(crate) fn plan(held: &[(Option<&str>, bool)], links: &Links) -> Vec<Planned> {
    // Each open group: its shape's text, its table and where its rows are collected.
    let mut open: Vec<(&str, &str, usize)> = Vec::new();
    let mut groups: Vec<(Option<Shape<'_>>, Vec<usize>)> = Vec::new();
    for (at, (sql, mergeable)) in held.iter().enumerate() {
        let shape = sql.filter(|_| *mergeable).and_then(Shape::parse);
        if let (Some(sql), Some(_)) = (sql, &shape)
            && let Some((_, _, group)) = open.iter().find(|(text, _, _)| text == sql)
        {
            groups[*group].1.push(at);
            continue;
        }
        let passed = sql.map_or(Target::Other, target);
        open.retain(|(_, table, _)| links.may_pass(&passed, table));
        if let (Some(sql), Some(shape)) = (sql, &shape) {
            open.push((sql, shape.table, groups.len()));
        }
        groups.push((shape, vec![at]));
    }
    let mut planned = Vec::with_capacity(groups.len());
    for (shape, rows) in groups {
        match shape {
            Some(shape) if rows.len() > 1 => chunk(&shape, rows, &mut planned),
            _ => planned.extend(rows.into_iter().map(Planned::One)),
        }
    }
    planned
}

/// Cuts a group's rows into statements of [`CHUNK_ROWS`] rows, largest first.
fn chunk(shape: &Shape<'_>, rows: Vec<usize>, planned: &mut Vec<Planned>) {
    let mut rest = &rows[..];
    while !rest.is_empty() {
        let size = CHUNK_ROWS
            .into_iter()
            .find(|size| *size <= rest.len() && *size <= shape.max_rows())
            .unwrap_or(1);
        let (taken, left) = rest.split_at(size);
        planned.push(if size == 1 {
            Planned::One(taken[0])
        } else {
            Planned::Rows(taken.to_vec())
        });
        rest = left;
    }
}

#[cfg(test)]
mod tests;
