//! Conversions between PostgreSQL values and domain values.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use postgres::types::FromSql;
use rust_decimal::Decimal;
use settle_store::StoreResult;
use settle_store_sql::{Row, bad};

/// A PostgreSQL row as the shared mapping reads it: dates and instants are SQL types.
pub(crate) struct PgRow<'a>(pub(crate) &'a postgres::Row);

impl<'a> PgRow<'a> {
    /// A column as any type the driver reads.
    pub(crate) fn get<T: FromSql<'a>>(&self, idx: usize) -> StoreResult<T> {
        self.0.try_get(idx).map_err(|e| bad(idx, &e.to_string()))
    }
}

impl Row for PgRow<'_> {
    fn text(&self, idx: usize) -> StoreResult<String> {
        self.get(idx)
    }

    fn text_opt(&self, idx: usize) -> StoreResult<Option<String>> {
        self.get(idx)
    }

    fn int(&self, idx: usize) -> StoreResult<i64> {
        // `bigint` columns hold amounts and sequences; `int` ones, terms and positions.
        match self.0.try_get::<_, i64>(idx) {
            Ok(value) => Ok(value),
            Err(_) => self.get::<i32>(idx).map(i64::from),
        }
    }

    fn date(&self, idx: usize) -> StoreResult<NaiveDate> {
        self.get(idx)
    }

    fn timestamp_opt(&self, idx: usize) -> StoreResult<Option<DateTime<Utc>>> {
        self.get(idx)
    }
}

pub(crate) fn decimal_text(value: Option<Decimal>) -> Option<String> {
    value.map(|d| d.to_string())
}

/// An instant cut to the microseconds PostgreSQL keeps, so it reads back equal.
pub(crate) fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}
