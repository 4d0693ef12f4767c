//! A flight built from a plan: each held write, or each merged group of held writes with its
//! rows' parameters one after another, and the statements the connection should prepare.
//!
//! A [`Flight`] names the held statements it sends by their place in the held list rather
//! than borrowing them, so a flight sent ahead can own both (`tx.rs`, "Sending ahead").

use std::borrow::Cow;

use postgres::types::Type;
use tokio_postgres::Statement;

use crate::join::{self, Joinable};
use crate::merge::{Planned, Shape};
use crate::tx::{Held, HeldWrite};
use crate::{Param, PgConn, Sent};

/// One statement of a flight.
enum Item {
    /// One held statement as it was held (its index).
    One(usize),
    /// Held writes merged (see `merge.rs`) or joined (see `join.rs`) into one statement, which
    /// binds their parameters in order: the held writes' indexes.
    Text(Text, Vec<usize>),
}

/// The statement of an [`Item::Text`].
enum Text {
    /// One the connection has prepared.
    Prepared(Statement),
    /// One the connection has not prepared yet: sent with its parameters' types in one
    /// message (parsed, bound and run), so preparing it costs no round trip of its own.
    Typed(String),
}

/// One item ready to send: its statement and parameters, borrowed from the flight and the
/// held statements.
pub(crate) enum Ready<'a> {
    Prepared(&'a Statement, Vec<Param<'a>>),
    Typed(&'a str, Vec<(Param<'a>, Type)>),
    Simple(&'static str),
}

/// What a statement of a flight must have changed, when that is checked: what it writes and
/// how many rows.
pub(crate) type Check = Option<(&'static str, u64)>;

/// A planned statement before joining: held as it is, or merged writes with their text.
struct Part<'h> {
    /// Its text: the held statement's own, or the merged writes'.
    sql: Cow<'h, str>,
    /// Whether it is merged writes, sent as a text of their own; otherwise a held statement
    /// sent as it was held (`held` has its one index).
    merged: bool,
    /// The held statements whose parameters it binds, in order.
    held: Vec<usize>,
    check: Check,
    /// Whether it may join others (see `join.rs`), and on which table.
    joinable: Option<Joinable<'h>>,
}

impl<'h> Part<'h> {
    /// The held statement at `at`, sent as it was held.
    fn held(conn: &PgConn, held: &'h [Held], at: usize) -> Part<'h> {
        let (sql, check, joinable) = match &held[at] {
            Held::Write(write) => (
                write.sql.as_str(),
                write.check.map(|what| (what, 1)),
                join::joinable(&write.sql, write.statement.params().len(), &conn.links),
            ),
            Held::Simple(sql) => (*sql, None, None),
        };
        Part { sql: Cow::Borrowed(sql), merged: false, held: vec![at], check, joinable }
    }

    /// The held writes at `rows`, which share one text, merged into one multi-row write; one
    /// by one when the text is not one `merge.rs` reads (only parsed shapes are planned as
    /// rows, and sent one by one they are still right).
    fn merged(conn: &PgConn, held: &'h [Held], rows: &[usize]) -> Vec<Part<'h>> {
        let first = match rows.first().map(|at| &held[*at]) {
            Some(Held::Write(first)) => Some(first),
            _ => None,
        };
        let merged = first.and_then(|first| {
            let shape = Shape::parse(&first.sql, &conn.links)?;
            Some((shape.rows_sql(rows.len(), first.statement.params())?, first))
        });
        let Some((sql, first)) = merged else {
            return rows.iter().map(|at| Part::held(conn, held, *at)).collect();
        };
        let count = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        // The single-row text names the table and events; the merged one adds no `select`.
        let params = first.statement.params().len().saturating_mul(rows.len());
        vec![Part {
            sql: Cow::Owned(sql),
            merged: true,
            held: rows.to_vec(),
            check: first.check.map(|what| (what, count)),
            joinable: join::joinable(&first.sql, params, &conn.links),
        }]
    }
}

/// The statements of one flight, before the caller's last one.
pub(crate) struct Flight {
    /// Merged and joined writes to prepare in the same flight, for the next flights to reuse.
    prepares: Vec<String>,
    items: Vec<Item>,
    /// Per item, what it must have changed: one check for a write, one per member for joined
    /// writes (whose statement answers each member's row count), none for anything else.
    checks: Vec<Vec<Check>>,
}

impl Flight {
    pub(crate) fn new(conn: &PgConn, held: &[Held], planned: &[Planned]) -> Flight {
        let mut flight = Flight {
            prepares: Vec::new(),
            items: Vec::with_capacity(planned.len()),
            checks: Vec::with_capacity(planned.len()),
        };
        let mut parts = Vec::with_capacity(planned.len());
        for step in planned {
            match step {
                Planned::One(at) => parts.push(Part::held(conn, held, *at)),
                Planned::Rows(rows) => parts.extend(Part::merged(conn, held, rows)),
            }
        }
        let writes: Vec<Option<Joinable<'_>>> = parts.iter().map(|part| part.joinable).collect();
        let runs = join::runs(&writes);
        let mut parts = parts.into_iter().enumerate().peekable();
        let mut runs = runs.into_iter().peekable();
        while let Some((at, part)) = parts.next() {
            let Some(run) = runs.next_if(|run| run.start == at) else {
                flight.push(conn, part);
                continue;
            };
            let mut members = vec![part];
            members.extend(parts.by_ref().take(run.len() - 1).map(|(_, part)| part));
            flight.push_joined(conn, members);
        }
        flight
    }

    /// Adds one part as its own statement.
    fn push(&mut self, conn: &PgConn, part: Part<'_>) {
        self.checks.push(vec![part.check]);
        if part.merged {
            self.push_text(conn, part.sql.into_owned(), part.held);
        } else {
            self.items.extend(part.held.first().map(|at| Item::One(*at)));
        }
    }

    /// Adds the parts `members` as one joined statement.
    fn push_joined(&mut self, conn: &PgConn, members: Vec<Part<'_>>) {
        let texts: Vec<(&str, usize)> = members
            .iter()
            .map(|part| (part.sql.as_ref(), part.joinable.map_or(0, |j| j.params)))
            .collect();
        let sql = join::joined_sql(&texts);
        self.checks.push(members.iter().map(|part| part.check).collect());
        let rows = members.into_iter().flat_map(|part| part.held).collect();
        self.push_text(conn, sql, rows);
    }

    /// Adds a statement of the text `sql` binding the parameters of the held writes `rows`.
    fn push_text(&mut self, conn: &PgConn, sql: String, rows: Vec<usize>) {
        match conn.cached(&sql) {
            Some(statement) => self.items.push(Item::Text(Text::Prepared(statement), rows)),
            None => {
                if !self.prepares.contains(&sql) {
                    self.prepares.push(sql.clone());
                }
                self.items.push(Item::Text(Text::Typed(sql), rows));
            }
        }
    }

    /// Each item ready to send, borrowing `held` (the list the flight was planned from).
    pub(crate) fn ready<'a>(&'a self, held: &'a [Held]) -> Vec<Ready<'a>> {
        let refs = |write: &'a HeldWrite| write.args.iter().map(|a| a.as_ref() as Param<'a>);
        let rows = |rows: &'a [usize]| {
            rows.iter().filter_map(move |at| match &held[*at] {
                Held::Write(write) => Some(write),
                Held::Simple(_) => None,
            })
        };
        self.items
            .iter()
            .map(|item| match item {
                Item::One(at) => match &held[*at] {
                    Held::Write(write) => Ready::Prepared(&write.statement, refs(write).collect()),
                    Held::Simple(sql) => Ready::Simple(sql),
                },
                Item::Text(Text::Prepared(statement), at) => {
                    Ready::Prepared(statement, rows(at).flat_map(refs).collect())
                }
                Item::Text(Text::Typed(sql), at) => Ready::Typed(
                    sql,
                    rows(at)
                        .flat_map(|w| refs(w).zip(w.statement.params().iter().cloned()))
                        .collect(),
                ),
            })
            .collect()
    }

    /// The statements to send: the prepares first, then the items in order (`ready`, from
    /// [`Flight::ready`]).
    pub(crate) fn sent<'a>(&'a self, ready: &'a [Ready<'a>]) -> Vec<Sent<'a>> {
        let prepares = self.prepares.iter().map(|sql| Sent::Prepare(sql));
        let items = ready.iter().map(|item| match item {
            Ready::Prepared(statement, refs) => Sent::Prepared(statement, refs),
            Ready::Typed(sql, typed) => Sent::Typed(sql, typed),
            Ready::Simple(sql) => Sent::Simple(sql),
        });
        prepares.chain(items).collect()
    }

    /// The texts of the statements the flight prepares, whose answers come first.
    pub(crate) fn prepares(&self) -> impl Iterator<Item = &str> {
        self.prepares.iter().map(String::as_str)
    }

    /// How many statements the flight sends besides its prepares.
    pub(crate) fn statements(&self) -> usize {
        self.items.len()
    }

    /// How many answers the prepares take before the items' answers.
    pub(crate) fn prepare_count(&self) -> usize {
        self.prepares.len()
    }

    /// Per item, in order, what it must have changed (see [`Flight::checks`]'s field).
    pub(crate) fn checks(&self) -> &[Vec<Check>] {
        &self.checks
    }
}
