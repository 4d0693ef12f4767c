//! Conversions between SQLite values and domain values.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Row;
use rusqlite::types::Type;
use rust_decimal::Decimal;
use settle_core::money::{Currency, Money};

/// A stored value that does not read back as its domain type.
#[derive(Debug)]
struct Unreadable(String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable stored value: {}", self.0)
    }
}

impl std::error::Error for Unreadable {}

/// The error for column `idx` holding `what` that does not parse.
pub(crate) fn bad(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        idx,
        Type::Text,
        Box::new(Unreadable(what.to_owned())),
    )
}

/// Reads a column with a domain parser.
pub(crate) fn parsed<T>(
    row: &Row<'_>,
    idx: usize,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    parse(&text).ok_or_else(|| bad(idx, &text))
}

/// Reads an optional column with a domain parser.
pub(crate) fn parsed_opt<T>(
    row: &Row<'_>,
    idx: usize,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(idx)?;
    match text {
        None => Ok(None),
        Some(text) => parse(&text).map(Some).ok_or_else(|| bad(idx, &text)),
    }
}

pub(crate) fn currency(row: &Row<'_>, idx: usize) -> rusqlite::Result<Currency> {
    parsed(row, idx, |s| Currency::parse(s).ok())
}

pub(crate) fn money(row: &Row<'_>, idx: usize, currency: Currency) -> rusqlite::Result<Money> {
    Ok(Money::new(row.get(idx)?, currency))
}

pub(crate) fn date(row: &Row<'_>, idx: usize) -> rusqlite::Result<NaiveDate> {
    parsed(row, idx, |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

pub(crate) fn timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    parsed(row, idx, |s| DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)))
}

pub(crate) fn decimal_opt(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Decimal>> {
    parsed_opt(row, idx, |s| Decimal::from_str(s).ok())
}

/// Dates as stored: `YYYY-MM-DD`.
pub(crate) fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Timestamps as stored: RFC 3339 UTC with microseconds, so text order is time order.
pub(crate) fn timestamp_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
