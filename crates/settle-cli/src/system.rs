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

/// Random ids: 24 alphanumeric characters (over 140 bits) from the OS-seeded thread RNG.
pub(crate) struct RandomIds;

impl IdGen for RandomIds {
    #[allow(clippy::disallowed_methods, reason = "the composition root owns randomness")]
    fn suffix(&self) -> String {
        rand::thread_rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect()
    }
}
