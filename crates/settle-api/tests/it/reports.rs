//! Reports as of a date through HTTP: the aging report at two dates and customer balances
//! before and after a payment's effective date, with figures computed by hand.
//!
//! The clock is pinned at 2026-03-01. The ledger of every test here:
//!
//! | document | customer | invoice date | due date   | amount  | paid (effective)            |
//! |----------|----------|--------------|------------|---------|-----------------------------|
//! | A1       | Acme     | 2025-10-01   | 2025-10-31 | 1000.00 | 300.00 on 2026-02-15        |
//! | A4       | Acme     | 2025-11-15   | 2025-12-15 |  120.00 |                             |
//! | A2       | Acme     | 2026-01-01   | 2026-01-31 |  500.00 | 100.00 on 2026-02-25        |
//! | A3       | Acme     | 2026-02-01   | 2026-03-03 |  250.00 |                             |
//! | B1 (DM)  | Bolt     | 2025-12-01   | 2025-12-31 |   80.00 | 40.00 on 2026-02-20         |
//! | B2       | Bolt     | 2026-01-20   | 2026-02-19 |  -50.00 | (200.00 and -250.00 items)  |
//! | E1 (EUR) | Euro     | 2026-02-01   | 2026-02-11 |   99.99 |                             |
//!
//! Acme's payment of 400.00 (2026-02-15) pays 300.00 of A1 at once; the 100.00 left is applied
//! to A2 on 2026-02-25.

use serde_json::{Value, json};

use crate::harness::{TestApi, id};

/// The three customers' ids.
struct Ledger {
    acme: String,
    bolt: String,
    euro: String,
}

async fn document(
    api: &TestApi,
    path: &str,
    customer: &str,
    dates: (&str, &str),
    items: Value,
) -> String {
    let body = json!({
        "customer_id": customer, "items": items, "invoice_date": dates.0, "due_date": dates.1,
        "post": true,
    });
    id(&api.post(path, body).await.expect(201))
}

fn amounts(items: &[&str]) -> Value {
    items.iter().map(|a| json!({"description": format!("Work {a}"), "amount": a})).collect()
}

async fn ledger(api: &TestApi) -> Ledger {
    let acme = api.customer("Acme").await;
    let bolt = api.customer("Bolt").await;
    let euro = id(&api
        .post("/v1/customers", json!({"name": "Euro GmbH", "currency": "EUR"}))
        .await
        .expect(201));
    let inv = "/v1/invoices";
    let a1 = document(api, inv, &acme, ("2025-10-01", "2025-10-31"), amounts(&["1000.00"])).await;
    document(api, inv, &acme, ("2025-11-15", "2025-12-15"), amounts(&["120.00"])).await;
    let a2 = document(api, inv, &acme, ("2026-01-01", "2026-01-31"), amounts(&["500.00"])).await;
    document(api, inv, &acme, ("2026-02-01", "2026-03-03"), amounts(&["250.00"])).await;
    let b1 =
        document(api, "/v1/debit-memos", &bolt, ("2025-12-01", "2025-12-31"), amounts(&["80.00"]))
            .await;
    let b2 =
        document(api, inv, &bolt, ("2026-01-20", "2026-02-19"), amounts(&["200.00", "-250.00"]))
            .await;
    let b2_balance = api.get(&format!("/v1/invoices/{b2}")).await.expect(200)["balance"].clone();
    assert_eq!(b2_balance, "-50.00");
    document(api, inv, &euro, ("2026-02-01", "2026-02-11"), amounts(&["99.99"])).await;

    let paid = api
        .post(
            "/v1/payments",
            json!({"customer_id": acme, "amount": "400.00", "method": "check",
                   "effective_date": "2026-02-15",
                   "applications": [{"target_id": a1, "amount": "300.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(paid["unapplied"], "100.00");
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&paid)}, "target_id": a2,
               "amount": "100.00", "effective_date": "2026-02-25"}),
    )
    .await
    .expect(201);
    api.post(
        "/v1/payments",
        json!({"customer_id": bolt, "amount": "40.00", "method": "ach",
               "effective_date": "2026-02-20",
               "applications": [{"target_id": b1, "amount": "40.00"}]}),
    )
    .await
    .expect(201);
    Ledger { acme, bolt, euro }
}

/// A bucket line: current, 1–30, 31–60, 61–90, over 90, total.
fn buckets(b: [&str; 6]) -> Value {
    json!({"current": b[0], "days_1_30": b[1], "days_31_60": b[2], "days_61_90": b[3],
           "days_over_90": b[4], "total": b[5]})
}

/// A customer line of the report.
fn customer_line(customer_id: &str, name: &str, b: [&str; 6]) -> Value {
    let mut line = buckets(b);
    line["customer_id"] = json!(customer_id);
    line["name"] = json!(name);
    line
}

/// The receivable account's debit minus credit in the trial balance, as minor units.
async fn receivable_minor(api: &TestApi, currency: &str) -> i64 {
    let tb = api.get(&format!("/v1/reports/trial-balance?currency={currency}")).await.expect(200);
    let row = tb["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|r| r["account"] == "receivable")
        .expect("a receivable row")
        .clone();
    minor(&row["debit"]) - minor(&row["credit"])
}

/// `"1234.56"` as `123456`.
fn minor(amount: &Value) -> i64 {
    amount.as_str().expect("an amount").replace('.', "").parse().expect("an amount")
}

#[tokio::test]
async fn aging_at_the_end_of_january_ages_what_was_open_then() {
    let api = TestApi::new();
    let l = ledger(&api).await;
    let report = api.get("/v1/reports/aging?as_of=2026-01-31").await.expect(200);
    // At 2026-01-31 no payment is effective yet and A3 (dated 2026-02-01) is not posted yet.
    // A1: 92 days past due; A4: 47; A2: 0 (due that day); B1: 31; B2: not yet due.
    assert_eq!(
        report,
        json!({
            "as_of": "2026-01-31",
            "currency": "USD",
            "customers": [
                customer_line(&l.acme, "Acme",
                    ["500.00", "0.00", "120.00", "0.00", "1000.00", "1620.00"]),
                customer_line(&l.bolt, "Bolt",
                    ["-50.00", "0.00", "80.00", "0.00", "0.00", "30.00"]),
            ],
            "totals": buckets(["450.00", "0.00", "200.00", "0.00", "1000.00", "1650.00"]),
        })
    );
}

#[tokio::test]
async fn aging_today_ages_balances_after_every_payment_and_matches_the_receivable() {
    let api = TestApi::new();
    let l = ledger(&api).await;
    let report = api.get("/v1/reports/aging?as_of=2026-03-01").await.expect(200);
    // A1: 121 days past due, 700.00 left; A4: 76 days; A2: 29 days, 400.00 left; A3: due in
    // 2 days; B1: 60 days, 40.00 left; B2: 10 days, -50.00.
    assert_eq!(
        report,
        json!({
            "as_of": "2026-03-01",
            "currency": "USD",
            "customers": [
                customer_line(&l.acme, "Acme",
                    ["250.00", "400.00", "0.00", "120.00", "700.00", "1470.00"]),
                customer_line(&l.bolt, "Bolt",
                    ["0.00", "-50.00", "40.00", "0.00", "0.00", "-10.00"]),
            ],
            "totals": buckets(["250.00", "350.00", "40.00", "120.00", "700.00", "1460.00"]),
        })
    );
    assert_eq!(receivable_minor(&api, "USD").await, 146_000);
    let acme = api.get(&format!("/v1/customers/{}", l.acme)).await.expect(200);
    assert_eq!(acme["receivable"], "1470.00");
    let bolt = api.get(&format!("/v1/customers/{}", l.bolt)).await.expect(200);
    assert_eq!(bolt["receivable"], "-10.00");
    // Without `as_of` the report is today's.
    assert_eq!(api.get("/v1/reports/aging").await.expect(200), report);
    api.assert_verified().await;
}

#[tokio::test]
async fn aging_in_another_currency_shows_only_that_currencys_documents() {
    let api = TestApi::new();
    let l = ledger(&api).await;
    let report = api.get("/v1/reports/aging?as_of=2026-03-01&currency=EUR").await.expect(200);
    // E1: 18 days past due.
    assert_eq!(
        report,
        json!({
            "as_of": "2026-03-01",
            "currency": "EUR",
            "customers": [customer_line(&l.euro, "Euro GmbH",
                ["0.00", "99.99", "0.00", "0.00", "0.00", "99.99"])],
            "totals": buckets(["0.00", "99.99", "0.00", "0.00", "0.00", "99.99"]),
        })
    );
    assert_eq!(receivable_minor(&api, "EUR").await, 9_999);
    // Before anything was posted the report is empty.
    let empty = api.get("/v1/reports/aging?as_of=2025-09-30").await.expect(200);
    assert_eq!(empty["customers"], json!([]));
    assert_eq!(empty["totals"], buckets(["0.00", "0.00", "0.00", "0.00", "0.00", "0.00"]));
}

/// The balance fields of a customer as of a date.
async fn balances_on(api: &TestApi, customer: &str, as_of: &str) -> Value {
    let c = api.get(&format!("/v1/customers/{customer}?as_of={as_of}")).await.expect(200);
    json!({
        "balance": c["balance"], "receivable": c["receivable"],
        "unapplied_payments": c["unapplied_payments"],
        "credit_memo_balance": c["credit_memo_balance"], "credit_balance": c["credit_balance"],
        "available_credit": c["available_credit"],
    })
}

fn fields(balance: &str, receivable: &str, unapplied: &str) -> Value {
    json!({
        "balance": balance, "receivable": receivable, "unapplied_payments": unapplied,
        "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": unapplied,
    })
}

#[tokio::test]
async fn customer_balances_as_of_a_date_change_on_the_payments_effective_date() {
    let api = TestApi::new();
    let l = ledger(&api).await;
    // Before anything was posted.
    assert_eq!(balances_on(&api, &l.acme, "2025-09-30").await, fields("0.00", "0.00", "0.00"));
    // The day before the payment: the four invoices, nothing paid.
    assert_eq!(
        balances_on(&api, &l.acme, "2026-02-14").await,
        fields("-1870.00", "1870.00", "0.00")
    );
    // On the payment's effective date: 300.00 applied to A1, 100.00 unapplied.
    assert_eq!(
        balances_on(&api, &l.acme, "2026-02-15").await,
        fields("-1470.00", "1570.00", "100.00")
    );
    assert_eq!(
        balances_on(&api, &l.acme, "2026-02-24").await,
        fields("-1470.00", "1570.00", "100.00")
    );
    // On the application's effective date the rest goes to A2.
    assert_eq!(
        balances_on(&api, &l.acme, "2026-02-25").await,
        fields("-1470.00", "1470.00", "0.00")
    );
    // Today's as-of balances are the customer's balances.
    assert_eq!(balances_on(&api, &l.acme, "2026-03-01").await, api.balances(&l.acme).await);
    // Bolt: 80.00 − 50.00 owed, then 40.00 paid on 2026-02-20.
    assert_eq!(balances_on(&api, &l.bolt, "2026-02-19").await, fields("-30.00", "30.00", "0.00"));
    assert_eq!(balances_on(&api, &l.bolt, "2026-02-20").await, fields("10.00", "-10.00", "0.00"));
    let shown = api.get(&format!("/v1/customers/{}?as_of=2026-02-14", l.acme)).await.expect(200);
    assert_eq!(shown["name"], "Acme");
    assert_eq!(shown["id"], l.acme);
}

#[tokio::test]
async fn bad_dates_and_currencies_of_reports_are_refused() {
    let api = TestApi::new();
    let acme = api.customer("Acme").await;
    for as_of in ["2026-02-30", "yesterday", "", "2026-01-01T00:00:00Z"] {
        api.get(&format!("/v1/customers/{acme}?as_of={as_of}"))
            .await
            .expect_problem(422, "validation_error");
        api.get(&format!("/v1/reports/aging?as_of={as_of}"))
            .await
            .expect_problem(422, "validation_error");
    }
    api.get("/v1/reports/aging?currency=XXX").await.expect_problem(422, "validation_error");
    api.get("/v1/customers/cus_nobody?as_of=2026-01-01").await.expect_problem(404, "not_found");
}
