//! The one thing the shared mapping asks of a driver: read a column as a few plain types.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use settle_core::money::{Currency, Money};
use settle_store::{StoreError, StoreResult};

/// The error for a stored value that does not read back.
pub fn bad(idx: usize, what: &str) -> StoreError {
    StoreError::Corrupt(format!("unreadable stored value in column {idx}: {what}"))
}

/// A row of a query result, as the shared mapping reads it. Each adapter implements the
/// required methods for its driver (SQLite keeps dates and instants as text, PostgreSQL as SQL
/// types); the provided ones are the same for both.
pub trait Row {
    /// A non-null text column.
    fn text(&self, idx: usize) -> StoreResult<String>;
    /// A nullable text column.
    fn text_opt(&self, idx: usize) -> StoreResult<Option<String>>;
    /// A non-null integer column (of any integer width).
    fn int(&self, idx: usize) -> StoreResult<i64>;
    /// A non-null date column.
    fn date(&self, idx: usize) -> StoreResult<NaiveDate>;
    /// A nullable instant column.
    fn timestamp_opt(&self, idx: usize) -> StoreResult<Option<DateTime<Utc>>>;

    /// A non-null instant column.
    fn timestamp(&self, idx: usize) -> StoreResult<DateTime<Utc>> {
        self.timestamp_opt(idx)?.ok_or_else(|| bad(idx, "null"))
    }

    /// A text column read by `parse`.
    fn parsed<T>(&self, idx: usize, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
        let text = self.text(idx)?;
        parse(&text).ok_or_else(|| bad(idx, &text))
    }

    /// A nullable text column read by `parse`.
    fn parsed_opt<T>(
        &self,
        idx: usize,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> StoreResult<Option<T>> {
        match self.text_opt(idx)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| bad(idx, &text)),
        }
    }

    /// A currency code.
    fn currency(&self, idx: usize) -> StoreResult<Currency> {
        self.parsed(idx, |s| Currency::parse(s).ok())
    }

    /// An amount in minor units of `currency`.
    fn money(&self, idx: usize, currency: Currency) -> StoreResult<Money> {
        Ok(Money::new(self.int(idx)?, currency))
    }

    /// An exact decimal kept as text (PostgreSQL's queries cast `numeric` to `text`).
    fn decimal_opt(&self, idx: usize) -> StoreResult<Option<Decimal>> {
        self.parsed_opt(idx, |s| Decimal::from_str(s).ok())
    }
}
