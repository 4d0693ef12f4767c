//! How a [`PgTx`] sends what it holds: in one flight with the statement whose answer it
//! needs, or ahead on a batch connection (see [`PgTx`], "Sending ahead").

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use settle_store::{StoreError, StoreResult};

use super::keys::KEY_CHECKED;
use super::{Held, OneFlight, PgTx, SAVEPOINT};
use crate::flight::Flight;
use crate::{Answer, Sent, join_in_order, merge, requests, unavailable};

/// Rows of every held write text at which a batch connection sends its held statements
/// ahead: 32 of a bill run's customers, as each writes one row or more of each text, so each
/// text's rows go as statements of 32 rows (a size of `merge::CHUNK_ROWS`), and the flight
/// ends where the 32nd customer's writes end. Counting held statements instead cut the flight
/// wherever a count fell, inside a customer's writes, at row counts the chunk sizes split into
/// several statements: at 13 statements per customer, about 29 customers' rows of each text
/// went as five statements (8 + 8 + 8 + 4 + 1).
pub(super) const SEND_AHEAD_ROWS: usize = 32;

/// Held statements past which a batch connection sends them ahead whatever their texts.
pub(super) const SEND_AHEAD_AT: usize = 2_048;

/// A flight sent ahead: its answers once they have come, with the flight they answer.
pub(super) type Ahead =
    Pin<Box<dyn Future<Output = (Vec<Result<Answer, postgres::Error>>, Flight)>>>;

impl PgTx {
    /// Sends every held statement and then `last`, in one flight, and answers `last`'s result;
    /// the first statement that failed (held or last) is the error. Held single-row writes go
    /// out merged into multi-row statements (see `merge.rs`). Flights sent ahead are answered
    /// first.
    pub(super) fn send(&mut self, last: Option<Sent<'_>>) -> StoreResult<Answer> {
        let mut answers = self.send_with(last.into_iter().collect())?;
        Ok(answers.pop().unwrap_or(Answer::Done))
    }

    /// Like [`PgTx::send`], with several statements last (reads whose answers are needed
    /// together), answering each of them in order.
    pub(super) fn send_with(&mut self, last: Vec<Sent<'_>>) -> StoreResult<Vec<Answer>> {
        if self.one_flight == OneFlight::Sent {
            self.failed = true;
            return Err(StoreError::Unavailable(
                "a read of one flight asked the database a second time".into(),
            ));
        }
        self.land()?;
        let held = self.take_held();
        let flight = self.plan(&held);
        let ready = flight.ready(&held);
        let mut sent = flight.sent(&ready);
        let wanted = last.len();
        sent.extend(last);
        if sent.is_empty() {
            return Ok(Vec::new());
        }
        let ends = self.one_flight == OneFlight::Unsent;
        if ends {
            sent.push(Sent::Simple("commit"));
            self.one_flight = OneFlight::Sent;
        }
        self.begun = true;
        let mut answers = self.conn.flight(&sent);
        if ends {
            let end = answers.pop();
            if matches!(end, Some(Ok(_))) && answers.iter().all(Result::is_ok) {
                // The COMMIT ended the transaction; when a statement failed, the COMMIT
                // answered as a ROLLBACK would, and the drop's ROLLBACK finds nothing to end.
                self.begun = false;
                self.open = false;
            }
        }
        self.answered(&mut answers, &flight)?;
        let Some(first) = answers.len().checked_sub(wanted) else {
            self.failed = true;
            return Err(StoreError::Unavailable("a statement went unanswered".into()));
        };
        // `answered` found no error among them.
        Ok(answers.split_off(first).into_iter().flatten().collect())
    }

    /// The flight that sends `held`, planned (see `merge.rs`).
    fn plan(&self, held: &[Held]) -> Flight {
        let texts: Vec<(Option<&str>, bool)> = held
            .iter()
            .map(|h| match h {
                Held::Write(write) => (Some(write.sql.as_str()), write.check.is_some()),
                Held::Simple(_) => (None, false),
            })
            .collect();
        // Equal values have equal debug text (strings, numbers and dates here).
        let key = |at: usize, params: &[usize]| match &held[at] {
            Held::Write(write) => {
                let values = params.iter().map(|n| write.args.get(n.wrapping_sub(1)));
                values.map(|value| format!("{value:?}")).collect::<Vec<_>>().join("\u{1f}")
            }
            Held::Simple(_) => String::new(),
        };
        let planned = merge::plan(&texts, &self.conn.links, key);
        Flight::new(&self.conn, held, &planned)
    }

    /// Fails with the first error among a flight's `answers`, or when a write whose row count
    /// is checked changed another number of rows than it must.
    fn answered(
        &mut self,
        answers: &mut Vec<Result<Answer, postgres::Error>>,
        flight: &Flight,
    ) -> StoreResult<()> {
        if let Some(at) = answers.iter().position(Result::is_err) {
            let err = answers.swap_remove(at).err().map(unavailable);
            self.failed = true;
            return Err(err.unwrap_or_else(|| StoreError::Unavailable("no answer".into())));
        }
        let answered = answers.iter().skip(flight.prepare_count());
        for (checks, answer) in flight.checks().iter().zip(answered) {
            // A write answers its row count; joined writes a row of their members' counts.
            let changed: Vec<Option<u64>> = match answer {
                Ok(Answer::Count(changed)) => vec![Some(*changed)],
                Ok(Answer::Rows(rows)) => (0..checks.len())
                    .map(|at| {
                        let count = rows.first()?.try_get::<_, i64>(at).ok()?;
                        u64::try_from(count).ok()
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (at, check) in checks.iter().enumerate() {
                let Some((what, expected)) = *check else { continue };
                let changed = changed.get(at).copied().flatten();
                if what == KEY_CHECKED {
                    self.key_answered(changed == Some(expected))?;
                    continue;
                }
                if changed != Some(expected) {
                    self.failed = true;
                    let changed =
                        changed.map_or_else(|| "no count of".to_owned(), |n| n.to_string());
                    return Err(StoreError::Corrupt(format!(
                        "{what}: {changed} rows changed, not {expected}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Sends the held statements ahead when the transaction is a batch's with enough of them
    /// outside any savepoint (see [`PgTx`], "Sending ahead").
    pub(super) fn maybe_send_ahead(&mut self) -> StoreResult<()> {
        if !self.conn.threaded
            || self.failed
            || (self.fewest_rows() < SEND_AHEAD_ROWS && self.held.len() < SEND_AHEAD_AT)
            || self.held.iter().any(|h| matches!(h, Held::Simple(SAVEPOINT)))
        {
            return Ok(());
        }
        let held = self.take_held();
        let flight = self.plan(&held);
        self.conn.count_flight(flight.statements());
        let client = self.conn.client();
        let mut ahead: Ahead = Box::pin(async move {
            let answers = {
                let ready = flight.ready(&held);
                let sent = flight.sent(&ready);
                join_in_order(requests(&client, &sent)).await
            };
            (answers, flight)
        });
        self.begun = true;
        // The first poll puts every request on the connection's queue, in order; its thread
        // sends them, and keeps their answers until they are collected.
        if let Poll::Ready(answered) = ahead.as_mut().poll(&mut Context::from_waker(Waker::noop()))
        {
            ahead = Box::pin(std::future::ready(answered));
        }
        self.ahead.push_back(ahead);
        while self.ahead.len() > 2 {
            self.land_one()?;
        }
        Ok(())
    }

    /// Counts a held write of the text `sql`, on a batch connection (the only kind that sends
    /// ahead).
    pub(super) fn count_row(&mut self, sql: &str) {
        if !self.conn.threaded {
            return;
        }
        match self.rows_by_text.iter_mut().find(|(text, _)| text == sql) {
            Some((_, rows)) => *rows += 1,
            None => self.rows_by_text.push((sql.to_owned(), 1)),
        }
    }

    /// Takes every held statement, to send or to drop.
    pub(super) fn take_held(&mut self) -> Vec<Held> {
        self.rows_by_text.clear();
        std::mem::take(&mut self.held)
    }

    /// Forgets the held statements from `at` on (a savepoint never sent, and what followed).
    pub(super) fn forget_held_from(&mut self, at: usize) {
        let kept: Vec<Held> = self.take_held().into_iter().take(at).collect();
        for held in &kept {
            if let Held::Write(write) = held {
                self.count_row(&write.sql);
            }
        }
        self.held = kept;
    }

    /// The rows held of the write text held least often.
    fn fewest_rows(&self) -> usize {
        self.rows_by_text.iter().map(|(_, rows)| *rows).min().unwrap_or(0)
    }

    /// Collects the answers of every flight sent ahead, oldest first.
    pub(super) fn land(&mut self) -> StoreResult<()> {
        while !self.ahead.is_empty() {
            self.land_one()?;
        }
        Ok(())
    }

    fn land_one(&mut self) -> StoreResult<()> {
        let Some(ahead) = self.ahead.pop_front() else { return Ok(()) };
        let (mut answers, flight) = self.conn.block_on(ahead);
        self.conn.keep_prepared(flight.prepares(), &mut answers);
        self.answered(&mut answers, &flight)
    }
}
