//! `settle bench bill-run` on a few subscriptions: it checks its own run (every invoice, the
//! total to the cent) and prints its figures; on PostgreSQL it also prints what the server wrote
//! to its write-ahead log per invoice, the figure that compares runs on a machine whose speed
//! swings.

use super::settle;

/// Runs `settle bench bill-run` with `extra`; asserts success and answers stdout.
fn bench_bill_run(extra: &[&str]) -> String {
    let out = settle()
        .args(["bench", "bill-run", "--subscriptions", "30", "--batch", "10"])
        .args(extra)
        .output()
        .expect("run settle bench bill-run");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The number just before `unit` in `line` ("… 9013 bytes per invoice" → 9013.0).
fn figure_before(line: &str, unit: &str) -> f64 {
    let head = line.split_once(unit).expect(unit).0;
    head.rsplit(' ').next().expect("a figure").parse().expect("a number")
}

#[test]
fn the_bill_run_bench_on_sqlite_bills_every_subscription_and_prints_no_server_log() {
    let out = bench_bill_run(&[]);
    assert!(out.contains("bill run: 30 invoices in "), "{out}");
    assert!(out.contains("ratio invoices/s : raw rows/s"), "{out}");
    assert!(!out.contains("write-ahead log"), "{out}");
}

#[test]
fn the_bill_run_bench_on_postgresql_prints_the_write_ahead_log_per_invoice() {
    let Ok(admin) = std::env::var("SETTLE_TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").is_err(), "CI runs this test: set SETTLE_TEST_POSTGRES_URL");
        println!("not run: SETTLE_TEST_POSTGRES_URL is not set");
        return;
    };
    let out = bench_bill_run(&["--postgres", &admin]);
    assert!(out.contains("on PostgreSQL"), "{out}");
    assert!(out.contains("bill run: 30 invoices in "), "{out}");
    let line = out.lines().find(|l| l.contains("write-ahead log")).expect(&out);
    // Each invoice writes at least its rows (document, item, journal transaction, two
    // postings, history, period, line), each over 40 bytes, and an index entry or more for
    // each; the server's other work only adds to the count.
    let bytes = figure_before(line, " bytes per invoice");
    assert!(bytes >= 8.0 * 40.0, "{line}");
}
