//! Conversions between PostgreSQL values and domain values.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use postgres::Row;
use postgres::types::FromSql;
use rust_decimal::Decimal;
use settle_core::money::{Currency, Money};
use settle_store::{StoreError, StoreResult};

/// The error for column `idx` holding `what` that does not read back as its domain type.
pub(crate) fn bad(idx: usize, what: &str) -> StoreError {
    StoreError::Corrupt(format!("unreadable stored value in column {idx}: {what}"))
}

/// Reads a column as its SQL type.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> StoreResult<T> {
    row.try_get(idx).map_err(|e| bad(idx, &e.to_string()))
}

/// Reads a text column with a domain parser.
pub(crate) fn parsed<T>(
    row: &Row,
    idx: usize,
    parse: impl FnOnce(&str) -> Option<T>,
) -> StoreResult<T> {
    let text: &str = get(row, idx)?;
    parse(text).ok_or_else(|| bad(idx, text))
}

/// Reads an optional text column with a domain parser.
pub(crate) fn parsed_opt<T>(
    row: &Row,
    idx: usize,
    parse: impl FnOnce(&str) -> Option<T>,
) -> StoreResult<Option<T>> {
    let text: Option<&str> = get(row, idx)?;
    match text {
        None => Ok(None),
        Some(text) => parse(text).map(Some).ok_or_else(|| bad(idx, text)),
    }
}

pub(crate) fn currency(row: &Row, idx: usize) -> StoreResult<Currency> {
    parsed(row, idx, |s| Currency::parse(s).ok())
}

pub(crate) fn money(row: &Row, idx: usize, currency: Currency) -> StoreResult<Money> {
    Ok(Money::new(get(row, idx)?, currency))
}

pub(crate) fn date(row: &Row, idx: usize) -> StoreResult<NaiveDate> {
    get(row, idx)
}

pub(crate) fn timestamp(row: &Row, idx: usize) -> StoreResult<DateTime<Utc>> {
    get(row, idx)
}

/// Reads a `numeric` column selected as `::text`, which keeps its scale (`1.50` stays `1.50`).
pub(crate) fn decimal_opt(row: &Row, idx: usize) -> StoreResult<Option<Decimal>> {
    parsed_opt(row, idx, |s| Decimal::from_str(s).ok())
}

/// A decimal as written: its text, cast to `numeric` by the statement.
pub(crate) fn decimal_text(value: Option<Decimal>) -> Option<String> {
    value.map(|d| d.to_string())
}

/// An index or count as an `integer`.
pub(crate) fn int(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Timestamps as stored: cut to whole microseconds, as PostgreSQL keeps them and as the SQLite
/// adapter writes them (it cuts rather than rounds).
pub(crate) fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}
