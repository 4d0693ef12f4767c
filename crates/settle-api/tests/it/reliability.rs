//! The concurrency promises of RELIABILITY.md through HTTP: the race test (exactly as many
//! successes as the source covers) and the bank test (concurrent clients, exact balances,
//! nothing lost, debits = credits, a share of operations rightly refused), and the feed test
//! (a reader following the tenant's journal while customers commit sees each transaction once).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::harness::{TestApi, id};

/// A tiny deterministic generator; the seed is printed on failure.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn cents(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100)
}

fn minor(text: &str) -> i64 {
    let negative = text.starts_with('-');
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let value: i64 = digits.parse().expect("amount");
    if negative { -value } else { value }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refunds_against_a_payment_covering_ten_succeed_exactly_ten_times() {
    let api = Arc::new(TestApi::new());
    for trial in 0..100 {
        let customer = api.customer(&format!("Race {trial}")).await;
        let payment = api.payment(&customer, "10.00").await;
        let path = format!("/v1/payments/{}/refunds", id(&payment));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (api, path) = (Arc::clone(&api), path.clone());
            tasks.push(tokio::spawn(async move {
                api.post(&path, json!({"amount": "1.00", "method": "check"})).await
            }));
        }
        let mut ok = 0;
        for task in tasks {
            let reply = task.await.expect("join");
            match reply.status.as_u16() {
                201 => ok += 1,
                _ => {
                    reply.expect_problem(422, "insufficient_unapplied");
                }
            }
        }
        assert_eq!(ok, 10, "trial {trial}: exactly what the payment covers");
        let after = api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200);
        assert_eq!(after["unapplied"], "0.00", "trial {trial}");
        assert_eq!(api.balances(&customer).await["balance"], "0.00", "trial {trial}");
    }
    api.assert_verified().await;
}

/// What one client saw acknowledged, per customer.
#[derive(Default)]
struct Acknowledged {
    /// Signed balance change per customer, in minor units.
    balance: BTreeMap<String, i64>,
    /// Every id a 2xx answer named.
    ids: Vec<String>,
    done: usize,
    refused: usize,
}

async fn client(
    api: Arc<TestApi>,
    customers: Arc<Vec<String>>,
    seed: u64,
    steps: usize,
) -> Acknowledged {
    let mut rng = Lcg(seed);
    let mut seen = Acknowledged::default();
    let mut invoices: Vec<(String, String)> = Vec::new();
    let mut payments: Vec<(String, String)> = Vec::new();
    for _ in 0..steps {
        let customer =
            customers[usize::try_from(rng.below(customers.len() as u64)).unwrap_or(0)].clone();
        let reply = match rng.below(5) {
            0 => {
                let amount = 100 + i64::try_from(rng.below(20_000)).unwrap_or(0);
                let reply = api.invoice_reply(&customer, &cents(amount)).await;
                if reply.status.is_success() {
                    *seen.balance.entry(customer.clone()).or_default() -=
                        minor(reply.body["total"].as_str().unwrap_or("0"));
                    invoices.push((customer.clone(), id(&reply.body)));
                }
                reply
            }
            1 => {
                let amount = 100 + i64::try_from(rng.below(15_000)).unwrap_or(0);
                let reply = api
                    .post(
                        "/v1/payments",
                        json!({"customer_id": customer, "amount": cents(amount), "method": "ach"}),
                    )
                    .await;
                if reply.status.is_success() {
                    *seen.balance.entry(customer.clone()).or_default() += amount;
                    payments.push((customer.clone(), id(&reply.body)));
                }
                reply
            }
            2 if !payments.is_empty() && !invoices.is_empty() => {
                let (owner, payment) = payments
                    [usize::try_from(rng.below(payments.len() as u64)).unwrap_or(0)]
                .clone();
                let mine: Vec<&(String, String)> =
                    invoices.iter().filter(|(c, _)| *c == owner).collect();
                let target = match mine.first() {
                    Some((_, invoice)) => invoice.clone(),
                    None => invoices[0].1.clone(),
                };
                let amount = 100 + i64::try_from(rng.below(20_000)).unwrap_or(0);
                api.post(
                    "/v1/applications",
                    json!({"source": {"type": "payment", "id": payment}, "target_id": target, "amount": cents(amount)}),
                )
                .await
            }
            3 if !payments.is_empty() => {
                let (owner, payment) = payments
                    [usize::try_from(rng.below(payments.len() as u64)).unwrap_or(0)]
                .clone();
                let amount = 100 + i64::try_from(rng.below(10_000)).unwrap_or(0);
                let reply = api
                    .post(
                        &format!("/v1/payments/{payment}/refunds"),
                        json!({"amount": cents(amount)}),
                    )
                    .await;
                if reply.status.is_success() {
                    *seen.balance.entry(owner).or_default() -= amount;
                }
                reply
            }
            _ => {
                let reply = api.get(&format!("/v1/customers/{customer}")).await;
                seen.done += 1;
                assert_eq!(reply.status.as_u16(), 200, "reads never fail");
                continue;
            }
        };
        seen.done += 1;
        if reply.status.is_success() {
            seen.ids.push(id(&reply.body));
        } else {
            assert!(reply.status.is_client_error(), "seed {seed}: {} {}", reply.status, reply.body);
            seen.refused += 1;
        }
    }
    seen
}

impl TestApi {
    async fn invoice_reply(&self, customer: &str, amount: &str) -> crate::harness::Reply {
        self.post(
            "/v1/invoices",
            json!({"customer_id": customer, "post": true, "items": [
                {"description": "Service", "amount": amount, "taxes": [{"name": "Tax", "rate": "7.5"}]}]}),
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_times_250_operations_keep_every_balance_exact() {
    let api = Arc::new(TestApi::new());
    let mut customers = Vec::new();
    for n in 0..8 {
        customers.push(api.customer(&format!("Bank {n}")).await);
    }
    let customers = Arc::new(customers);
    let seed = 0xb4_4e;
    let mut tasks = Vec::new();
    for client_idx in 0..16 {
        tasks.push(tokio::spawn(client(
            Arc::clone(&api),
            Arc::clone(&customers),
            seed + client_idx,
            250,
        )));
    }
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    let (mut done, mut refused, mut ids) = (0, 0, Vec::new());
    for task in tasks {
        let seen = task.await.expect("join");
        for (customer, delta) in seen.balance {
            *expected.entry(customer).or_default() += delta;
        }
        done += seen.done;
        refused += seen.refused;
        ids.extend(seen.ids);
    }
    assert_eq!(done, 16 * 250);
    assert!(
        refused * 10 >= done,
        "at least 10% rightly refused: {refused} of {done} (seed {seed})"
    );
    for customer in customers.iter() {
        let got = api.balances(customer).await;
        let want = expected.get(customer).copied().unwrap_or_default();
        assert_eq!(
            minor(got["balance"].as_str().expect("balance")),
            want,
            "customer {customer} (seed {seed})"
        );
    }
    // Nothing acknowledged is lost.
    for id in &ids {
        let path = match id.split('_').next() {
            Some("inv") => format!("/v1/invoices/{id}"),
            Some("pay") => format!("/v1/payments/{id}"),
            Some("app") => format!("/v1/applications/{id}"),
            Some("ref") => continue,
            _ => panic!("unexpected id {id}"),
        };
        let reply: Value = api.get(&path).await.expect(200);
        assert_eq!(reply["id"], id.as_str());
    }
    api.assert_verified().await;
}

/// Follows the tenant's feed from `cursor` until the writers are done and a page read after
/// that has nothing more; returns the transaction ids read, in order, and where it stopped.
async fn follow_feed(
    api: Arc<TestApi>,
    writers_done: Arc<AtomicBool>,
    mut cursor: String,
) -> (Vec<String>, String) {
    let mut seen = Vec::new();
    loop {
        let finished = writers_done.load(Ordering::SeqCst);
        let page = api.get(&format!("/v1/journal?limit=7&cursor={cursor}")).await.expect(200);
        for txn in page["data"].as_array().expect("data") {
            seen.push(txn["id"].as_str().expect("id").to_owned());
        }
        cursor = page["next_cursor"].as_str().expect("the feed's cursor is never null").to_owned();
        let has_more = page["has_more"].as_bool().expect("the feed answers has_more");
        if finished && !has_more {
            return (seen, cursor);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_following_the_feed_sees_every_transaction_once_while_sixteen_customers_commit() {
    let api = Arc::new(TestApi::new());
    let empty = api.get("/v1/journal").await.expect(200);
    assert_eq!(empty["data"], json!([]));
    assert_eq!(empty["has_more"], false);
    let mut cursor = empty["next_cursor"].as_str().expect("a cursor on an empty feed").to_owned();
    let (mut seen, mut written) = (Vec::new(), BTreeSet::new());
    for run in 0..20 {
        let mut customers = Vec::new();
        for n in 0..16 {
            customers.push(api.customer(&format!("Feed {run}-{n}")).await);
        }
        let writers_done = Arc::new(AtomicBool::new(false));
        let reader =
            tokio::spawn(follow_feed(Arc::clone(&api), Arc::clone(&writers_done), cursor.clone()));
        let mut writers = Vec::new();
        for customer in &customers {
            // Payments: no document number, so nothing but the feed orders their commits.
            let (api, customer) = (Arc::clone(&api), customer.clone());
            writers.push(tokio::spawn(async move {
                for k in 1..=8 {
                    let body = json!({"customer_id": customer, "amount": format!("{k}.00"), "method": "check"});
                    api.post("/v1/payments", body).await.expect(201);
                }
            }));
        }
        for writer in writers {
            writer.await.expect("writer");
        }
        writers_done.store(true, Ordering::SeqCst);
        let (read, last) = reader.await.expect("reader");
        seen.extend(read);
        cursor = last;
        for customer in &customers {
            let journal =
                api.get(&format!("/v1/journal?customer_id={customer}&limit=500")).await.expect(200);
            for txn in journal["data"].as_array().expect("data") {
                written.insert(txn["id"].as_str().expect("id").to_owned());
            }
        }
        let distinct: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(distinct.len(), seen.len(), "run {run}: a transaction was read twice");
        assert_eq!(written.len(), (run + 1) * 16 * 8, "run {run}");
        let missed: Vec<&String> = written.difference(&distinct).collect();
        assert!(missed.is_empty(), "run {run}: the feed skipped {missed:?}");
        assert_eq!(distinct, written, "run {run}");
    }
    // Polling from the last cursor finds nothing new, and says so.
    let idle = api.get(&format!("/v1/journal?cursor={cursor}")).await.expect(200);
    assert_eq!(idle["data"], json!([]));
    assert_eq!(idle["has_more"], false);
    assert_eq!(idle["next_cursor"], cursor.as_str());
    api.assert_verified().await;
}
