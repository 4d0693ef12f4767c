//! Plans how a flight's held writes go out: single-row inserts of one shape become multi-row
//! `insert … values (…), (…)` statements, upserts multi-row upserts, and single-row updates by
//! a unique key one `update … from (values (…), (…))`, so the server parses, binds, starts its
//! executor and answers once per chunk of rows instead of once per row.
//!
//! A held write joins the group of the first earlier write with the same text (same table,
//! same columns, same casts) while the group is open, which moves the write before the
//! statements held between the two. Rows of an upsert or an update group must name different
//! keys (the conflict target; the unique key the update's `where` names), so that each row of
//! the merged statement meets its own table row, as it did alone: a write naming a key the
//! group has is a statement on the group's table, below. A group closes, and the next such
//! write starts a new one at the end, when a statement arrives that a write of the group must
//! not pass:
//! - a savepoint command (the caller splits the flight at each one), or a statement whose
//!   table Settle cannot read from its text (deletes, anything but `insert`/`update`);
//! - a statement on the group's own table (an update of a row inserted earlier, an upsert
//!   whose conflict target might be a row of the group, another insert's unique key);
//! - an insert into a table the group's table references by foreign key (the group's rows
//!   would be checked before their parent rows exist); an insert into a table that references
//!   the group's table may be passed, as then parents are inserted before their children;
//! - an update that sets a column of a foreign key between the two tables, or that reads
//!   another table (`select` in its text); for an update or upsert group, any statement when
//!   the group sets a column of a foreign key between the two tables;
//! - a statement on a table with a trigger for its event, or a group whose table has a trigger
//!   for the group's events (a trigger may read any table).
//!
//! Everything else touches other tables, through columns no foreign key between the two
//! tables uses, so moving an insert before it changes neither statement's rows, row counts nor
//! checks; unique and check constraints are per table and per row. Rows of one group keep
//! their order. A transaction whose statements all succeed therefore writes the same rows in
//! either order; one that fails still fails (a unique violation between rows of one table
//! fails whichever row comes second), though when two of its statements fail, the one
//! reported may be the other. A merged write whose row count is checked must change as many
//! rows as it carries, which with different keys means one each.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use postgres::types::Type;

/// PostgreSQL's limit of bind parameters per statement.
pub(crate) const MAX_PARAMS: usize = 65_535;

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
    /// Each table's unique keys (unique indexes on plain columns, with no predicate).
    unique: HashMap<String, Vec<Vec<String>>>,
}

/// `pg_trigger.tgtype` bits of the events.
pub(crate) const ON_INSERT: i16 = 1 << 2;
pub(crate) const ON_UPDATE: i16 = 1 << 4;

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
        let rows = client.query(
            "select c.relname::text, array(select attname::text from pg_attribute a \
                   where a.attrelid = i.indrelid and a.attnum = any(i.indkey)) \
             from pg_index i join pg_class c on c.oid = i.indrelid \
             where i.indisunique and i.indexprs is null and i.indpred is null",
            &[],
        )?;
        let mut unique: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for row in rows {
            let (table, columns): (String, Vec<String>) = (row.try_get(0)?, row.try_get(1)?);
            unique.entry(table).or_default().push(columns);
        }
        Ok(Links { keys, triggers, unique })
    }

    /// Whether `table` has a trigger of its own for any of the `event` bits.
    pub(crate) fn fires(&self, table: &str, event: i16) -> bool {
        self.triggers.get(table).is_some_and(|events| events & event != 0)
    }

    /// Whether a write of `group` may move before `passed`.
    fn may_pass(&self, passed: &Target<'_>, group: &Shape<'_>) -> bool {
        let (table, set) = match passed {
            Target::Insert(table) => (*table, None),
            Target::Update(table, set) => (*table, Some(set.as_slice())),
            Target::Other => return false,
        };
        let event = if set.is_some() { ON_UPDATE } else { ON_INSERT };
        if table == group.table
            || self.fires(table, event)
            || self.fires(group.table, group.events())
        {
            return false;
        }
        let touches = |set: Option<&[&str]>, columns: &[String]| {
            set.is_some_and(|set| set.iter().any(|s| columns.iter().any(|c| c == s)))
        };
        let inserts = matches!(group.kind, Kind::Insert { .. });
        let sets = group.sets();
        self.keys.iter().all(|(child, child_columns, parent, parent_columns)| {
            // Parents may come before their children, never children before their parents.
            if inserts && set.is_none() && child == group.table && parent == table {
                return false;
            }
            let (group_columns, passed_columns) = if child == group.table && parent == table {
                (child_columns, parent_columns)
            } else if child == table && parent == group.table {
                (parent_columns, child_columns)
            } else {
                return true;
            };
            !touches(Some(&sets), group_columns) && !touches(set, passed_columns)
        })
    }

    /// Links with no keys and one trigger, on `table` for `events`.
    #[cfg(test)]
    pub(crate) fn with_trigger(table: &str, events: i16) -> Links {
        Links { triggers: HashMap::from([(table.to_owned(), events)]), ..Links::default() }
    }

    /// The unique key of `table` whose every column `columns` names, if any.
    fn unique_key<'c>(&self, table: &str, columns: &[&'c str]) -> Option<Vec<&'c str>> {
        let keys = self.unique.get(table)?;
        let key = keys.iter().find(|key| key.iter().all(|k| columns.contains(&k.as_str())))?;
        Some(columns.iter().copied().filter(|c| key.iter().any(|k| k == c)).collect())
    }
}

/// What a held statement writes, read from its text.
pub(crate) enum Target<'a> {
    Insert(&'a str),
    /// The table and the columns it sets.
    Update(&'a str, Vec<&'a str>),
    Other,
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub(crate) fn target(sql: &str) -> Target<'_> {
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

/// A single-row write that merges with others of its text: a plain insert, whose row holds
/// nothing but placeholders (`$N`, perhaps cast), an upsert of such a row whose update reads
/// only the row and the table, or an update setting columns to placeholders where columns
/// equal placeholders, a unique key among them and none of the columns it sets. No
/// `returning`, no other expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape<'a> {
    table: &'a str,
    kind: Kind<'a>,
    /// Placeholders `$1` to `$params`.
    params: usize,
    /// The placeholders whose values must differ between the rows of one statement: an
    /// upsert's conflict target, an update's unique key; none for a plain insert.
    pub(crate) key: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind<'a> {
    /// `<head>(<row>)<tail>`: the head up to and including `values `, and the tail empty or an
    /// upsert's `on conflict (…) do update set …`, which sets the columns `set`.
    Insert { head: &'a str, row: &'a str, tail: &'a str, set: Vec<&'a str> },
    /// `update <table> set <column> = $N, … where <column> = $N and …`.
    Update { set: Vec<(&'a str, usize)>, keys: Vec<(&'a str, usize)> },
}

impl<'a> Shape<'a> {
    pub(crate) fn parse(sql: &'a str, links: &Links) -> Option<Shape<'a>> {
        if sql.starts_with("insert into ") { Shape::insert(sql) } else { Shape::update(sql, links) }
    }

    fn insert(sql: &'a str) -> Option<Shape<'a>> {
        let rest = sql.strip_prefix("insert into ")?;
        let (table, rest) = rest.split_once(" (")?;
        let (columns, _) = rest.split_once(") values (")?;
        let columns: Vec<&str> = columns.split(", ").collect();
        if !is_name(table) || !columns.iter().all(|c| is_name(c)) {
            return None;
        }
        let at = sql.find(") values (")? + ") values ".len();
        let (head, rest) = sql.split_at(at);
        let (row, tail) = rest.split_at(rest.find(')')? + 1);
        let inner = row.strip_prefix('(')?.strip_suffix(')')?;
        let plain = |b: u8| b.is_ascii_alphanumeric() || b"$:_, ".contains(&b);
        if !inner.bytes().all(plain) {
            return None;
        }
        let params = placeholders(inner).max()?;
        let (key, set) =
            if tail.is_empty() { (Vec::new(), Vec::new()) } else { upsert(tail, &columns, inner)? };
        Some(Shape { table, kind: Kind::Insert { head, row, tail, set }, params, key })
    }

    fn update(sql: &'a str, links: &Links) -> Option<Shape<'a>> {
        let rest = sql.strip_prefix("update ")?;
        let (table, rest) = rest.split_once(" set ")?;
        let (set, condition) = rest.split_once(" where ")?;
        let pair = |text: &'a str| -> Option<(&'a str, usize)> {
            let (column, value) = text.split_once(" = ")?;
            let number = value.strip_prefix('$')?.parse().ok()?;
            is_name(column).then_some((column, number))
        };
        let set: Vec<_> = set.split(", ").map(pair).collect::<Option<_>>()?;
        let keys: Vec<_> = condition.split(" and ").map(pair).collect::<Option<_>>()?;
        // A row whose `where` reads a column the statement sets could meet a row an earlier
        // row of the group changed: one statement would not do what they did one by one.
        if !is_name(table) || set.iter().any(|(column, _)| keys.iter().any(|(k, _)| k == column)) {
            return None;
        }
        let params = set.iter().chain(&keys).map(|(_, n)| *n).max()?;
        let named: Vec<&str> = keys.iter().map(|(column, _)| *column).collect();
        let unique = links.unique_key(table, &named)?;
        let key = keys.iter().filter(|(c, _)| unique.contains(c)).map(|(_, n)| *n).collect();
        Some(Shape { table, kind: Kind::Update { set, keys }, params, key })
    }

    /// The events of the shape's table its write fires.
    fn events(&self) -> i16 {
        match &self.kind {
            Kind::Insert { tail: "", .. } => ON_INSERT,
            Kind::Insert { .. } => ON_INSERT | ON_UPDATE,
            Kind::Update { .. } => ON_UPDATE,
        }
    }

    /// The columns the shape's write may change in a row that exists.
    fn sets(&self) -> Vec<&'a str> {
        match &self.kind {
            Kind::Insert { set, .. } => set.clone(),
            Kind::Update { set, .. } => set.iter().map(|(column, _)| *column).collect(),
        }
    }

    /// The most rows one statement of this shape may carry.
    fn max_rows(&self) -> usize {
        (MAX_PARAMS / self.params.max(1)).max(1)
    }

    /// The text writing `rows` rows, each row's placeholders after the previous row's; `types`
    /// are the single-row statement's parameter types, which an update casts its values to.
    /// `None` when a type is not one of PostgreSQL's own.
    pub(crate) fn rows_sql(&self, rows: usize, types: &[Type]) -> Option<String> {
        match &self.kind {
            Kind::Insert { head, row, tail, .. } => {
                let mut sql = String::with_capacity(head.len() + rows * (row.len() + 8));
                sql.push_str(head);
                for n in 0..rows {
                    if n > 0 {
                        sql.push_str(", ");
                    }
                    renumber(&mut sql, row, n * self.params);
                }
                sql.push_str(tail);
                Some(sql)
            }
            Kind::Update { set, keys } => self.update_sql(rows, types, set, keys),
        }
    }

    /// `update <table> as t set <column> = v.pN, … from (values ($1::<type>, …), …) as v (p1,
    /// …) where t.<column> = v.pN and …`.
    fn update_sql(
        &self,
        rows: usize,
        types: &[Type],
        set: &[(&str, usize)],
        keys: &[(&str, usize)],
    ) -> Option<String> {
        let types = types.get(..self.params)?;
        if types.iter().any(|ty| ty.schema() != "pg_catalog") {
            return None;
        }
        let mut sql = format!("update {} as t set ", self.table);
        let pairs = |pairs: &[(&str, usize)], prefix: &str, separator: &str| {
            let pairs = pairs.iter().map(|(column, n)| format!("{prefix}{column} = v.p{n}"));
            pairs.collect::<Vec<_>>().join(separator)
        };
        sql.push_str(&pairs(set, "", ", "));
        sql.push_str(" from (values ");
        for n in 0..rows {
            sql.push_str(if n > 0 { ", (" } else { "(" });
            for (at, ty) in types.iter().enumerate() {
                let separator = if at > 0 { ", " } else { "" };
                // Writing to a String cannot fail.
                let _ = write!(sql, "{separator}${}::{}", n * self.params + at + 1, ty.name());
            }
            sql.push(')');
        }
        let names: Vec<String> = (1..=self.params).map(|n| format!("p{n}")).collect();
        let _ = write!(sql, ") as v ({}) where {}", names.join(", "), pairs(keys, "t.", " and "));
        Some(sql)
    }
}

/// The key and the set columns of an upsert's `tail` (`on conflict (<columns>) do update set
/// <column> = <expression>, …`) of a row of `columns` holding `values`: `None` unless each
/// conflict column holds a placeholder and the update names no placeholder and reads nothing.
fn upsert<'a>(tail: &'a str, columns: &[&str], values: &str) -> Option<(Vec<usize>, Vec<&'a str>)> {
    let rest = tail.strip_prefix(" on conflict (")?;
    let (target, rest) = rest.split_once(") do update set ")?;
    if rest.contains(['$', '(']) || rest.contains("select") || rest.contains(" where ") {
        return None;
    }
    let set = rest
        .split(", ")
        .map(|pair| pair.split_once(" = ").map(|(c, _)| c).filter(|c| is_name(c)))
        .collect::<Option<Vec<_>>>()?;
    let values: Vec<&str> = values.split(", ").collect();
    if values.len() != columns.len() {
        return None;
    }
    let key = target
        .split(", ")
        .map(|column| {
            let at = columns.iter().position(|c| *c == column)?;
            placeholders(values[at]).next()
        })
        .collect::<Option<Vec<_>>>()?;
    Some((key, set))
}

/// Appends `row` with each placeholder's number raised by `by`.
pub(crate) fn renumber(sql: &mut String, row: &str, by: usize) {
    let mut rest = row;
    while let Some(at) = rest.find('$') {
        sql.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: usize = rest[..digits].parse().unwrap_or(0);
        // Writing to a String cannot fail.
        let _ = write!(sql, "{}", number + by);
        rest = &rest[digits..];
    }
    sql.push_str(rest);
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
    /// Held writes of one shape (their indexes, in order) as one statement of that many rows.
    Rows(Vec<usize>),
}

/// Plans a flight of held writes given by their text (`None` for a savepoint command) and
/// whether each one's row count is checked (only writes alike in this merge). `key` gives the
/// values a held write binds to some of its placeholders, as text that is equal when the
/// values are.
pub(crate) fn plan(
    held: &[(Option<&str>, bool)],
    links: &Links,
    key: impl Fn(usize, &[usize]) -> String,
) -> Vec<Planned> {
    // Each open group: its text, whether it is checked and where its rows are collected.
    let mut open: Vec<(&str, bool, usize)> = Vec::new();
    // Each group: its shape, its rows and the keys they name.
    let mut groups: Vec<(Option<Shape<'_>>, Vec<usize>, HashSet<String>)> = Vec::new();
    for (at, (sql, checked)) in held.iter().enumerate() {
        let shape = sql.and_then(|sql| Shape::parse(sql, links));
        let named = shape.as_ref().filter(|s| !s.key.is_empty()).map(|s| key(at, &s.key));
        if let (Some(sql), Some(_)) = (sql, &shape)
            && let Some((_, _, group)) = open.iter().find(|(t, c, _)| t == sql && c == checked)
            && named.as_ref().is_none_or(|named| !groups[*group].2.contains(named))
        {
            groups[*group].1.push(at);
            groups[*group].2.extend(named);
            continue;
        }
        let passed = sql.map_or(Target::Other, target);
        open.retain(|(_, _, group)| {
            groups[*group].0.as_ref().is_some_and(|shape| links.may_pass(&passed, shape))
        });
        if let (Some(sql), Some(_)) = (sql, &shape) {
            open.push((sql, *checked, groups.len()));
        }
        groups.push((shape, vec![at], named.into_iter().collect()));
    }
    let mut planned = Vec::with_capacity(groups.len());
    for (shape, rows, _) in groups {
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
