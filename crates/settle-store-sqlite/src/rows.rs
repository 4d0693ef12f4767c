//! Conversions between SQLite values and domain values.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
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

/// `2026-11-28`: chrono's `%Y-%m-%d`, written digit by digit. A bill run writes dozens of
/// dates and instants per invoice, and formatting them through `fmt` (a format string, then
/// `{:02}` per field) was a tenth of its instructions.
pub(crate) fn date_text(date: NaiveDate) -> String {
    let mut text = String::with_capacity(DATE_LEN + TIME_LEN);
    push_date(&mut text, date);
    text
}

/// `2026-11-28T09:30:00.123456Z`: chrono's `%Y-%m-%dT%H:%M:%S%.6fZ`, written digit by digit
/// (a leap second is second 60, as chrono writes it).
pub(crate) fn timestamp_text(at: DateTime<Utc>) -> String {
    let mut text = String::with_capacity(DATE_LEN + TIME_LEN);
    push_date(&mut text, at.date_naive());
    let nanos = at.nanosecond();
    let (leap, nanos) =
        if nanos >= 1_000_000_000 { (1, nanos - 1_000_000_000) } else { (0, nanos) };
    text.push('T');
    push_digits(&mut text, at.hour(), 2);
    text.push(':');
    push_digits(&mut text, at.minute(), 2);
    text.push(':');
    push_digits(&mut text, at.second() + leap, 2);
    text.push('.');
    push_digits(&mut text, nanos / 1_000, 6);
    text.push('Z');
    text
}

/// `YYYY-MM-DD`.
const DATE_LEN: usize = 10;
/// `THH:MM:SS.ffffffZ`.
const TIME_LEN: usize = 17;

fn push_date(text: &mut String, date: NaiveDate) {
    match u32::try_from(date.year()) {
        Ok(year) if year <= 9999 => {
            push_digits(text, year, 4);
            text.push('-');
            push_digits(text, date.month(), 2);
            text.push('-');
            push_digits(text, date.day(), 2);
        }
        // chrono writes a sign and more digits out here; keep its text.
        _ => {
            let _ = write!(text, "{}", date.format("%Y-%m-%d"));
        }
    }
}

/// `value`'s last `width` decimal digits, zero-padded (callers pass values that fit).
fn push_digits(text: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place)) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants_are_written_as_chrono_writes_them() {
        let instants = [
            "2026-11-28T09:30:00.123456789Z",
            "2026-01-01T00:00:00Z",
            "1999-12-31T23:59:59.999999Z",
            "0001-02-03T04:05:06.000007Z",
            "9999-12-31T23:59:59.5Z",
        ];
        for text in instants {
            let at = DateTime::parse_from_rfc3339(text).expect("an instant").with_timezone(&Utc);
            assert_eq!(timestamp_text(at), at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            let date = at.date_naive();
            assert_eq!(date_text(date), date.format("%Y-%m-%d").to_string());
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_250_000_000))
            .expect("a leap second")
            .and_utc();
        assert_eq!(timestamp_text(leap), leap.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        let far = NaiveDate::from_ymd_opt(12_000, 1, 1).expect("a date");
        assert_eq!(date_text(far), far.format("%Y-%m-%d").to_string());
    }
}
