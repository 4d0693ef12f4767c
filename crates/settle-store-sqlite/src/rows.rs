//! Conversions between SQLite values and domain values.

use chrono::{DateTime, NaiveDate, Utc};
use settle_store::StoreResult;
use settle_store_sql::{Row, bad};

/// A SQLite row as the shared mapping reads it: dates and instants are stored as text.
pub(crate) struct SqlRow<'a, 'b>(pub(crate) &'a rusqlite::Row<'b>);

impl SqlRow<'_, '_> {
    /// A column as any type rusqlite reads.
    pub(crate) fn get<T: rusqlite::types::FromSql>(&self, idx: usize) -> StoreResult<T> {
        self.0.get(idx).map_err(|e| bad(idx, &e.to_string()))
    }
}

impl Row for SqlRow<'_, '_> {
    fn text(&self, idx: usize) -> StoreResult<String> {
        self.get(idx)
    }

    fn text_opt(&self, idx: usize) -> StoreResult<Option<String>> {
        self.get(idx)
    }

    fn int(&self, idx: usize) -> StoreResult<i64> {
        self.get(idx)
    }

    fn date(&self, idx: usize) -> StoreResult<NaiveDate> {
        self.parsed(idx, |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    }

    fn timestamp_opt(&self, idx: usize) -> StoreResult<Option<DateTime<Utc>>> {
        self.parsed_opt(idx, |s| {
            DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
        })
    }
}

pub(crate) fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

pub(crate) fn timestamp_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
