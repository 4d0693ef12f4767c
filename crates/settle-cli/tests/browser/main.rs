//! Real-browser tests of the back office and the customer's payment page (UI.md): headless
//! Chromium over WebDriver against the real `settle serve --demo`, walking seed 002 as a clerk.
//!
//! Each test starts its own server (on a temporary SQLite file) and its own chromedriver, and
//! saves a full-page screenshot of every page it reaches under
//! `target/screenshots/<test>/<NN>-<page>.png`. The tests take turns (one Chromium at a time):
//! the machines they run on have two cores.
//!
//! Without chromedriver and Chromium they print how to install them and pass; with `CI=true`
//! a missing browser fails them.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

mod admin;
mod browser;
mod clerk;
mod invoices;
mod payment_links;
mod processes;
mod resolving;
mod seed000;
mod seed002;
mod subscriptions;

use browser::{Browser, Shots};
use processes::{Chromedriver, Settle};

/// One browser test at a time.
static TURN: Mutex<()> = Mutex::new(());

/// What one test runs against: the server, chromedriver and the test's screenshot folder.
pub(crate) struct Stage {
    pub(crate) settle: Settle,
    driver: Chromedriver,
    shots: Shots,
}

impl Stage {
    /// A new browser session (its own profile: no cookies from any other session).
    pub(crate) async fn browser(&self) -> Browser {
        Browser::open(&self.driver, &self.settle.url, self.shots.clone()).await
    }
}

/// Runs `body` against a fresh server and chromedriver, or skips when there is no browser.
pub(crate) fn run<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Stage) -> Fut,
    Fut: Future<Output = ()>,
{
    if !processes::browser_available() {
        return;
    }
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let stage =
        Stage { settle: Settle::start(), driver: Chromedriver::start(), shots: Shots::new(test) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("an async runtime");
    runtime.block_on(body(stage));
}
