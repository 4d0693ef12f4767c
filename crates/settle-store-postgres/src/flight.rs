//! A flight built from a plan: each held write, or each merged group of held inserts with its
//! rows' parameters one after another, and the statements the connection should prepare.

use postgres::types::Type;
use tokio_postgres::Statement;

use crate::merge::{Planned, Shape};
use crate::tx::{Held, HeldWrite};
use crate::{Param, PgConn, Sent};

/// One statement of a flight, owning what [`Sent`] borrows.
enum Item<'h> {
    Prepared(Statement, Vec<Param<'h>>),
    /// A merged insert the connection has not prepared yet: sent with its parameters' types in
    /// one message (parsed, bound and run), so preparing it costs no round trip of its own.
    Typed(String, Vec<(Param<'h>, Type)>),
    Simple(&'static str),
}

/// The statements of one flight, before the caller's last one.
pub(crate) struct Flight<'h> {
    /// Merged inserts to prepare in the same flight, for the next flights to reuse.
    prepares: Vec<String>,
    items: Vec<Item<'h>>,
    /// Per item, what a write whose row count is checked writes.
    checks: Vec<Option<&'static str>>,
}

impl<'h> Flight<'h> {
    pub(crate) fn new(conn: &mut PgConn, held: &'h [Held], planned: &[Planned]) -> Flight<'h> {
        let mut flight = Flight {
            prepares: Vec::new(),
            items: Vec::with_capacity(planned.len()),
            checks: Vec::with_capacity(planned.len()),
        };
        for step in planned {
            match step {
                Planned::One(at) => match &held[*at] {
                    Held::Write(write) => {
                        let refs = write.args.iter().map(|a| a.as_ref() as Param<'h>).collect();
                        flight.items.push(Item::Prepared(write.statement.clone(), refs));
                        flight.checks.push(write.check);
                    }
                    Held::Simple(sql) => {
                        flight.items.push(Item::Simple(sql));
                        flight.checks.push(None);
                    }
                },
                Planned::Rows(rows) => {
                    let writes: Vec<&'h HeldWrite> = rows
                        .iter()
                        .filter_map(|at| match &held[*at] {
                            Held::Write(write) => Some(write),
                            Held::Simple(_) => None,
                        })
                        .collect();
                    flight.push_rows(conn, &writes);
                }
            }
        }
        flight
    }

    /// Adds one multi-row insert of `writes`, which share one text.
    fn push_rows(&mut self, conn: &PgConn, writes: &[&'h HeldWrite]) {
        let Some(first) = writes.first() else { return };
        let Some(shape) = Shape::parse(&first.sql) else {
            // Only parsed shapes are planned as rows; sent one by one, they are still right.
            for write in writes {
                let refs = write.args.iter().map(|a| a.as_ref() as Param<'h>).collect();
                self.items.push(Item::Prepared(write.statement.clone(), refs));
                self.checks.push(None);
            }
            return;
        };
        let sql = shape.rows_sql(writes.len());
        let args = writes.iter().flat_map(|w| w.args.iter().map(|a| a.as_ref() as Param<'h>));
        match conn.cached(&sql) {
            Some(statement) => self.items.push(Item::Prepared(statement, args.collect())),
            None => {
                let types = writes.iter().flat_map(|w| w.statement.params().iter().cloned());
                self.items.push(Item::Typed(sql.clone(), args.zip(types).collect()));
                if !self.prepares.contains(&sql) {
                    self.prepares.push(sql);
                }
            }
        }
        self.checks.push(None);
    }

    /// The statements to send: the prepares first, then the items in order.
    pub(crate) fn sent(&self) -> Vec<Sent<'_>> {
        let prepares = self.prepares.iter().map(|sql| Sent::Prepare(sql));
        prepares
            .chain(self.items.iter().map(|item| match item {
                Item::Prepared(statement, refs) => Sent::Prepared(statement, refs),
                Item::Typed(sql, typed) => Sent::Typed(sql, typed),
                Item::Simple(sql) => Sent::Simple(sql),
            }))
            .collect()
    }

    /// How many answers the prepares take before the items' answers.
    pub(crate) fn prepares(&self) -> usize {
        self.prepares.len()
    }

    /// Per item, in order, what it writes when its row count must be one.
    pub(crate) fn checks(&self) -> &[Option<&'static str>] {
        &self.checks
    }
}
