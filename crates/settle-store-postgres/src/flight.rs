//! A flight built from a plan: each held write, or each merged group of held writes with its
//! rows' parameters one after another, and the statements the connection should prepare.
//!
//! A [`Flight`] names the held statements it sends by their place in the held list rather
//! than borrowing them, so a flight sent ahead can own both (`tx.rs`, "Sending ahead").

use postgres::types::Type;
use tokio_postgres::Statement;

use crate::merge::{Planned, Shape};
use crate::tx::{Held, HeldWrite};
use crate::{Param, PgConn, Sent};

/// One statement of a flight.
enum Item {
    /// One held statement as it was held (its index).
    One(usize),
    /// Held inserts merged into one statement the connection has prepared.
    Rows(Statement, Vec<usize>),
    /// Held inserts merged into a statement the connection has not prepared yet: sent with
    /// its parameters' types in one message (parsed, bound and run), so preparing it costs no
    /// round trip of its own.
    Typed(String, Vec<usize>),
}

/// One item ready to send: its statement and parameters, borrowed from the flight and the
/// held statements.
pub(crate) enum Ready<'a> {
    Prepared(&'a Statement, Vec<Param<'a>>),
    Typed(&'a str, Vec<(Param<'a>, Type)>),
    Simple(&'static str),
}

/// The statements of one flight, before the caller's last one.
pub(crate) struct Flight {
    /// Merged inserts to prepare in the same flight, for the next flights to reuse.
    prepares: Vec<String>,
    items: Vec<Item>,
    /// Per item whose row count is checked, what it writes and how many rows it must change.
    checks: Vec<Option<(&'static str, u64)>>,
}

impl Flight {
    pub(crate) fn new(conn: &PgConn, held: &[Held], planned: &[Planned]) -> Flight {
        let mut flight = Flight {
            prepares: Vec::new(),
            items: Vec::with_capacity(planned.len()),
            checks: Vec::with_capacity(planned.len()),
        };
        for step in planned {
            match step {
                Planned::One(at) => {
                    flight.items.push(Item::One(*at));
                    flight.checks.push(match &held[*at] {
                        Held::Write(write) => write.check.map(|what| (what, 1)),
                        Held::Simple(_) => None,
                    });
                }
                Planned::Rows(rows) => flight.push_rows(conn, held, rows),
            }
        }
        flight
    }

    /// Adds one multi-row write of the held writes at `rows`, which share one text.
    fn push_rows(&mut self, conn: &PgConn, held: &[Held], rows: &[usize]) {
        let first = match rows.first().map(|at| &held[*at]) {
            Some(Held::Write(first)) => Some(first),
            _ => None,
        };
        let merged = first.and_then(|first| {
            let shape = Shape::parse(&first.sql, &conn.links)?;
            Some((shape.rows_sql(rows.len(), first.statement.params())?, first.check))
        });
        let Some((sql, check)) = merged else {
            // Only parsed shapes are planned as rows; sent one by one, they are still right.
            for at in rows {
                self.items.push(Item::One(*at));
                self.checks.push(match &held[*at] {
                    Held::Write(write) => write.check.map(|what| (what, 1)),
                    Held::Simple(_) => None,
                });
            }
            return;
        };
        match conn.cached(&sql) {
            Some(statement) => self.items.push(Item::Rows(statement, rows.to_vec())),
            None => {
                if !self.prepares.contains(&sql) {
                    self.prepares.push(sql.clone());
                }
                self.items.push(Item::Typed(sql, rows.to_vec()));
            }
        }
        let count = u64::try_from(rows.len()).unwrap_or(u64::MAX);
        self.checks.push(check.map(|what| (what, count)));
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
                Item::Rows(statement, at) => {
                    Ready::Prepared(statement, rows(at).flat_map(refs).collect())
                }
                Item::Typed(sql, at) => Ready::Typed(
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

    /// Per item, in order, what it writes and how many rows it must change, when checked.
    pub(crate) fn checks(&self) -> &[Option<(&'static str, u64)>] {
        &self.checks
    }
}
