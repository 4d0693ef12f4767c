//! The real clock and id generator: the one place that reads the system clock and randomness.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distributions::Alphanumeric;
use settle_core::ids::IdGen;
use settle_engine::Clock;

/// The system clock.
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods, reason = "the composition root owns the real clock")]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl SystemClock {
    /// Today's date in UTC.
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        self.now().date_naive()
    }
}

/// Ids that sort by creation time: 24 alphanumeric characters, the first 8 the milliseconds
/// since 1970 in base 62 (digits, then upper case, then lower case, so they sort as text until
/// the year 8900), the other 16 (over 95 bits) from the OS-seeded thread RNG.
///
/// Time first keeps each new row of an id index (documents, items, journal transactions,
/// postings) at the index's right edge: a bill run writing a million invoices touches a few
/// pages of each index per batch instead of a random page per row, which halves what each
/// commit writes. The random part keeps ids unguessable and unique across processes.
pub(crate) struct RandomIds;

/// The base-62 digits in the order their characters sort.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `millis` as 8 base-62 digits, most significant first.
fn time_prefix(millis: i64) -> String {
    let mut left = u64::try_from(millis).unwrap_or(0);
    let mut digits = [b'0'; 8];
    for digit in digits.iter_mut().rev() {
        *digit = DIGITS[usize::try_from(left % 62).unwrap_or(0)];
        left /= 62;
    }
    digits.iter().map(|&d| char::from(d)).collect()
}

impl IdGen for RandomIds {
    #[allow(clippy::disallowed_methods, reason = "the composition root owns randomness")]
    fn suffix(&self) -> String {
        let mut id = time_prefix(SystemClock.now().timestamp_millis());
        id.extend(rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_prefix_sorts_as_the_time_does_and_ids_stay_24_alphanumerics() {
        assert_eq!(time_prefix(0), "00000000");
        assert_eq!(time_prefix(61), "0000000z");
        assert_eq!(time_prefix(62), "00000010");
        // 2026-11-28 and one millisecond later, then a year later.
        let times = [1_795_000_000_000_i64, 1_795_000_000_001, 1_826_536_000_000];
        let prefixes: Vec<String> = times.iter().map(|&t| time_prefix(t)).collect();
        let mut sorted = prefixes.clone();
        sorted.sort();
        assert_eq!(prefixes, sorted);
        assert!(prefixes.windows(2).all(|w| w[0] != w[1]));
        let id = RandomIds.suffix();
        assert_eq!(id.len(), 24);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
