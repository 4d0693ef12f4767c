//! A bill run killed half way (kill -9) and started again, with several batches in flight at
//! once, finishes the rest and invoices no period twice, on the store `SETTLE_TEST_STORE`
//! names.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::{Value, json};

use super::{KEY, Server, TestStore, field, send, settle};

/// More customers than two of the bill run's batches (`--batch 500`), so a kill lands between
/// commits.
const CUSTOMERS: usize = 1_200;

fn post(server: &Server, path: &str, body: &Value) -> String {
    let (status, text) = server.request("POST", path, KEY, &body.to_string());
    assert_eq!(status, 201, "{path}: {text}");
    field(&text, "id")
}

/// Every invoice of the tenant, by paging the list to its end.
fn invoices(server: &Server) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/invoices?limit=500&cursor={c}"),
            None => "/v1/invoices?limit=500".to_owned(),
        };
        let (status, _, body) = send(&server.addr, "GET", &path, KEY, None, "").expect("list");
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).expect("json");
        all.extend(page["data"].as_array().expect("data").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// `(customers done, invoices committed)` from a progress line of `settle bill-run`.
fn progress(line: &str) -> Option<(usize, usize, usize)> {
    let rest = line.split_once(": ")?.1;
    let (done, rest) = rest.split_once('/')?;
    let (total, rest) = rest.split_once(" customers, ")?;
    let invoices = rest.split_whitespace().next()?;
    Some((done.parse().ok()?, total.parse().ok()?, invoices.parse().ok()?))
}

#[test]
fn kill_nine_during_a_bill_run_then_a_rerun_invoices_every_period_exactly_once() {
    let dir = tempfile::tempdir().expect("dir");
    let store = TestStore::new(&dir);
    let server = Server::start_url(&store.url, Some(KEY));
    let product = post(&server, "/v1/products", &json!({"name": "Plan"}));
    let price = post(
        &server,
        "/v1/prices",
        &json!({"product_id": product, "currency": "USD", "unit_amount": "12.34",
                "recurring": {"interval": "month"}}),
    );
    for i in 0..CUSTOMERS {
        let customer = post(&server, "/v1/customers", &json!({"name": format!("Customer {i}")}));
        post(
            &server,
            "/v1/subscriptions",
            &json!({"customer_id": customer, "start_date": "2026-01-01",
                    "items": [{"price_id": price}]}),
        );
    }
    drop(server);

    // The first run is killed right after its first batch is reported committed.
    let mut child = settle()
        .args(["bill-run", "--as-of", "2026-01-01", "--batch", "500", "--database", &store.url])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn settle bill-run");
    let stderr = child.stderr.take().expect("stderr");
    let mut committed = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("a line");
        if let Some((done, total, invoices)) = progress(&line)
            && done > 0
        {
            assert!(done < total, "the run finished before it could be killed: {line}");
            committed = Some(invoices);
            break;
        }
    }
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    let committed = committed.expect("a progress line before the kill");
    assert!(committed > 0 && committed < CUSTOMERS, "{committed} invoices committed");

    // Started again, it finishes the rest, three batches of 100 in flight at once.
    let rerun = settle()
        .args(["bill-run", "--as-of", "2026-01-01", "--batch", "100", "--workers", "3"])
        .args(["--database", &store.url])
        .output()
        .expect("rerun");
    let out = String::from_utf8_lossy(&rerun.stdout);
    assert!(rerun.status.success(), "{out}{}", String::from_utf8_lossy(&rerun.stderr));
    let made: usize = out
        .split(" invoices")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no invoice count in {out:?}"));
    assert!(made >= CUSTOMERS - committed, "the rerun made {made}, {committed} were committed");

    // Exactly one invoice per subscription, each of the price, and the ledger replays clean.
    let server = Server::start_url(&store.url, Some(KEY));
    let invoices = invoices(&server);
    assert_eq!(invoices.len(), CUSTOMERS);
    let mut customers: Vec<&str> =
        invoices.iter().map(|i| i["customer_id"].as_str().expect("customer_id")).collect();
    customers.sort_unstable();
    customers.dedup();
    assert_eq!(customers.len(), CUSTOMERS, "a customer was invoiced twice");
    assert!(invoices.iter().all(|i| i["total"] == "12.34"));
    drop(server);
    let verify = settle().args(["verify", "--database", &store.url]).output().expect("verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}
