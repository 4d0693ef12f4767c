//! Reports through HTTP: the aging report at two dates and in every currency, customer balances
//! before and after a payment's effective date, the trial balance per currency, with figures
//! computed by hand; and aging reconciled to every customer's balance on every day of a
//! generated 90-day history.
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

/// A bucket line: current, 1–30, 31–60, 61–90, over 90, total, available credit, net.
fn buckets(b: [&str; 8]) -> Value {
    json!({"current": b[0], "days_1_30": b[1], "days_31_60": b[2], "days_61_90": b[3],
           "days_over_90": b[4], "total": b[5], "available_credit": b[6], "net": b[7]})
}

/// A customer line of the report.
fn customer_line(customer_id: &str, name: &str, b: [&str; 8]) -> Value {
    let mut line = buckets(b);
    line["customer_id"] = json!(customer_id);
    line["name"] = json!(name);
    line
}

/// The receivable account's debit minus credit in the trial balance, as minor units.
async fn receivable_minor(api: &TestApi, currency: &str) -> i64 {
    let tb = api.get(&format!("/v1/reports/trial-balance?currency={currency}")).await.expect(200);
    let row = tb["currencies"][0]["accounts"]
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
    // Euro GmbH's only invoice is dated 2026-02-01: EUR is there, with nothing open.
    let zero = ["0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"];
    assert_eq!(
        report,
        json!({
            "as_of": "2026-01-31",
            "currencies": [
                {"currency": "EUR", "customers": [], "totals": buckets(zero)},
                {
                    "currency": "USD",
                    "customers": [
                        customer_line(&l.acme, "Acme", ["500.00", "0.00", "120.00", "0.00",
                            "1000.00", "1620.00", "0.00", "1620.00"]),
                        customer_line(&l.bolt, "Bolt", ["-50.00", "0.00", "80.00", "0.00",
                            "0.00", "30.00", "0.00", "30.00"]),
                    ],
                    "totals": buckets(["450.00", "0.00", "200.00", "0.00", "1000.00",
                        "1650.00", "0.00", "1650.00"]),
                },
            ],
        })
    );
}

#[tokio::test]
async fn aging_today_ages_balances_after_every_payment_and_matches_the_receivable() {
    let api = TestApi::new();
    let l = ledger(&api).await;
    let report = api.get("/v1/reports/aging?as_of=2026-03-01&currency=USD").await.expect(200);
    // A1: 121 days past due, 700.00 left; A4: 76 days; A2: 29 days, 400.00 left; A3: due in
    // 2 days; B1: 60 days, 40.00 left; B2: 10 days, -50.00.
    assert_eq!(
        report,
        json!({
            "as_of": "2026-03-01",
            "currencies": [{
                "currency": "USD",
                "customers": [
                    customer_line(&l.acme, "Acme", ["250.00", "400.00", "0.00", "120.00",
                        "700.00", "1470.00", "0.00", "1470.00"]),
                    customer_line(&l.bolt, "Bolt", ["0.00", "-50.00", "40.00", "0.00", "0.00",
                        "-10.00", "0.00", "-10.00"]),
                ],
                "totals": buckets(["250.00", "350.00", "40.00", "120.00", "700.00", "1460.00",
                    "0.00", "1460.00"]),
            }],
        })
    );
    assert_eq!(receivable_minor(&api, "USD").await, 146_000);
    let acme = api.get(&format!("/v1/customers/{}", l.acme)).await.expect(200);
    assert_eq!(acme["receivable"], "1470.00");
    let bolt = api.get(&format!("/v1/customers/{}", l.bolt)).await.expect(200);
    assert_eq!(bolt["receivable"], "-10.00");
    // Without `as_of` the report is today's.
    assert_eq!(api.get("/v1/reports/aging?currency=USD").await.expect(200), report);
    api.assert_verified().await;
}

#[tokio::test]
async fn aging_in_another_currency_shows_only_that_currencys_documents() {
    let api = TestApi::new();
    let l = ledger(&api).await;
    let report = api.get("/v1/reports/aging?as_of=2026-03-01&currency=EUR").await.expect(200);
    // E1: 18 days past due.
    let line = ["0.00", "99.99", "0.00", "0.00", "0.00", "99.99", "0.00", "99.99"];
    assert_eq!(
        report,
        json!({
            "as_of": "2026-03-01",
            "currencies": [{
                "currency": "EUR",
                "customers": [customer_line(&l.euro, "Euro GmbH", line)],
                "totals": buckets(line),
            }],
        })
    );
    assert_eq!(receivable_minor(&api, "EUR").await, 9_999);
    // Before anything was posted the report of each currency is empty.
    let empty = api.get("/v1/reports/aging?as_of=2025-09-30").await.expect(200);
    let zero = ["0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"];
    assert_eq!(
        empty["currencies"],
        json!([
            {"currency": "EUR", "customers": [], "totals": buckets(zero)},
            {"currency": "USD", "customers": [], "totals": buckets(zero)},
        ])
    );
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
    api.get("/v1/reports/trial-balance?currency=usd").await.expect_problem(422, "validation_error");
    api.get("/v1/reports/trial-balance?as_of=2026-02-30")
        .await
        .expect_problem(422, "validation_error");
    api.get("/v1/customers/cus_nobody?as_of=2026-01-01").await.expect_problem(404, "not_found");
}

/// Acme (USD) owes 100.00; Euro GmbH (EUR) owes 99.99; Nippon (JPY) owes 12345 and has paid
/// 5000 that is not applied yet. Everything is dated today, 2026-03-01.
async fn three_currencies(api: &TestApi) -> (String, String, String) {
    let acme = api.customer("Acme").await;
    let euro = id(&api
        .post("/v1/customers", json!({"name": "Euro GmbH", "currency": "EUR"}))
        .await
        .expect(201));
    let nippon = id(&api
        .post("/v1/customers", json!({"name": "Nippon KK", "currency": "JPY"}))
        .await
        .expect(201));
    for (customer, amount) in [(&acme, "100.00"), (&euro, "99.99"), (&nippon, "12345")] {
        api.post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": amounts(&[amount]), "post": true}),
        )
        .await
        .expect(201);
    }
    api.post("/v1/payments", json!({"customer_id": nippon, "amount": "5000", "method": "ach"}))
        .await
        .expect(201);
    (acme, euro, nippon)
}

fn account(name: &str, debit: &str, credit: &str) -> Value {
    json!({"account": name, "debit": debit, "credit": credit})
}

#[tokio::test]
async fn the_trial_balance_shows_every_currency_the_tenant_uses_each_even() {
    let api = TestApi::new();
    three_currencies(&api).await;
    let eur = json!({
        "currency": "EUR",
        "accounts": [account("receivable", "99.99", "0.00"), account("revenue", "0.00", "99.99")],
        "total_debit": "99.99", "total_credit": "99.99",
    });
    let jpy = json!({
        "currency": "JPY",
        "accounts": [
            account("cash", "5000", "0"),
            account("receivable", "12345", "0"),
            account("revenue", "0", "12345"),
            account("unapplied_payments", "0", "5000"),
        ],
        "total_debit": "17345", "total_credit": "17345",
    });
    let usd = json!({
        "currency": "USD",
        "accounts": [
            account("receivable", "100.00", "0.00"),
            account("revenue", "0.00", "100.00"),
        ],
        "total_debit": "100.00", "total_credit": "100.00",
    });
    let all = api.get("/v1/reports/trial-balance").await.expect(200);
    assert_eq!(all, json!({"currencies": [eur, jpy, usd]}));
    assert_eq!(api.get("/v1/reports/trial-balance?as_of=2026-03-01").await.expect(200), all);
    assert_eq!(
        api.get("/v1/reports/trial-balance?currency=JPY").await.expect(200),
        json!({"currencies": [jpy]})
    );
    // The day before, nothing was effective yet: every currency is there, with no accounts.
    let empty = |code: &str, zero: &str| json!({"currency": code, "accounts": [], "total_debit": zero, "total_credit": zero});
    assert_eq!(
        api.get("/v1/reports/trial-balance?as_of=2026-02-28").await.expect(200),
        json!({"currencies": [empty("EUR", "0.00"), empty("JPY", "0"), empty("USD", "0.00")]})
    );
    // A currency nobody uses is answered empty when asked for.
    assert_eq!(
        api.get("/v1/reports/trial-balance?currency=GBP").await.expect(200),
        json!({"currencies": [empty("GBP", "0.00")]})
    );
}

#[tokio::test]
async fn aging_shows_every_currency_the_tenant_uses_or_the_one_asked_for() {
    let api = TestApi::new();
    let (acme, euro, nippon) = three_currencies(&api).await;
    let eur = ["99.99", "0.00", "0.00", "0.00", "0.00", "99.99", "0.00", "99.99"];
    let jpy = ["12345", "0", "0", "0", "0", "12345", "5000", "7345"];
    let usd = ["100.00", "0.00", "0.00", "0.00", "0.00", "100.00", "0.00", "100.00"];
    let jpy_report = json!({
        "currency": "JPY",
        "customers": [customer_line(&nippon, "Nippon KK", jpy)],
        "totals": buckets(jpy),
    });
    assert_eq!(
        api.get("/v1/reports/aging").await.expect(200),
        json!({
            "as_of": "2026-03-01",
            "currencies": [
                {"currency": "EUR", "customers": [customer_line(&euro, "Euro GmbH", eur)],
                 "totals": buckets(eur)},
                jpy_report,
                {"currency": "USD", "customers": [customer_line(&acme, "Acme", usd)],
                 "totals": buckets(usd)},
            ],
        })
    );
    assert_eq!(
        api.get("/v1/reports/aging?currency=JPY").await.expect(200),
        json!({"as_of": "2026-03-01", "currencies": [jpy_report]})
    );
    let nippon_now = api.get(&format!("/v1/customers/{nippon}")).await.expect(200);
    assert_eq!(nippon_now["balance"], "-7345");
}

#[tokio::test]
async fn aging_nets_open_documents_against_credit_and_lists_customers_with_only_credit() {
    let api = TestApi::new();
    // Owes 300.00 and holds 365.00 of credit: 200.00 unapplied, a 150.00 credit memo and
    // 15.00 moved to the credit balance from a negative invoice.
    let owes = api.customer("Carla").await;
    for amount in ["100.00", "200.00"] {
        api.post(
            "/v1/invoices",
            json!({"customer_id": owes, "items": amounts(&[amount]), "post": true,
                   "invoice_date": "2026-01-10", "due_date": "2026-02-09"}),
        )
        .await
        .expect(201);
    }
    api.post(
        "/v1/payments",
        json!({"customer_id": owes, "amount": "200.00", "method": "ach",
               "effective_date": "2026-02-01"}),
    )
    .await
    .expect(201);
    api.post(
        "/v1/credit-memos",
        json!({"customer_id": owes, "items": amounts(&["150.00"]), "post": true,
               "invoice_date": "2026-02-10"}),
    )
    .await
    .expect(201);
    let negative = api
        .post(
            "/v1/invoices",
            json!({"customer_id": owes, "items": amounts(&["10.00", "-25.00"]), "post": true,
                   "invoice_date": "2026-02-20"}),
        )
        .await
        .expect(201);
    api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&negative)), json!({}))
        .await
        .expect(200);
    // Only credit: a payment nothing is applied to.
    let credit_only = api.customer("Dana").await;
    api.post(
        "/v1/payments",
        json!({"customer_id": credit_only, "amount": "40.00", "method": "check",
               "effective_date": "2026-02-15"}),
    )
    .await
    .expect(201);

    let report = api.get("/v1/reports/aging?as_of=2026-03-01").await.expect(200);
    assert_eq!(
        report["currencies"],
        json!([{
            "currency": "USD",
            "customers": [
                customer_line(&owes, "Carla", ["0.00", "300.00", "0.00", "0.00", "0.00",
                    "300.00", "365.00", "-65.00"]),
                customer_line(&credit_only, "Dana", ["0.00", "0.00", "0.00", "0.00", "0.00",
                    "0.00", "40.00", "-40.00"]),
            ],
            "totals": buckets(["0.00", "300.00", "0.00", "0.00", "0.00", "300.00", "405.00",
                "-105.00"]),
        }])
    );
    assert_eq!(api.balances(&owes).await["balance"], "65.00");
    assert_eq!(api.balances(&credit_only).await["balance"], "40.00");
    // Before the transfer (effective today) and the credit memo: 200.00 of credit only.
    let earlier = api.get("/v1/reports/aging?as_of=2026-02-05").await.expect(200);
    assert_eq!(
        earlier["currencies"][0]["customers"],
        json!([customer_line(
            &owes,
            "Carla",
            ["300.00", "0.00", "0.00", "0.00", "0.00", "300.00", "200.00", "100.00"]
        )])
    );
    api.assert_verified().await;
}

/// A small deterministic generator, so the history is the same on every run and store.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }

    /// A day of the 90-day window 2025-12-02 ..= 2026-03-01.
    fn day(&mut self) -> chrono::NaiveDate {
        first_day() + chrono::Days::new(self.next(90))
    }

    /// An amount from 1.00 to 500.00.
    fn amount(&mut self) -> i64 {
        i64::try_from(self.next(50_000)).expect("small") + 100
    }
}

fn first_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 12, 2).expect("a date")
}

fn text(minor: i64) -> String {
    format!("{}{}.{:02}", if minor < 0 { "-" } else { "" }, minor.abs() / 100, minor.abs() % 100)
}

/// A balance such as `"-12.34"` as minor units.
fn minor_of(amount: &Value) -> i64 {
    let text = amount.as_str().expect("an amount");
    let (whole, cents) = text.split_once('.').expect("two decimals");
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let whole: i64 = whole.trim_start_matches('-').parse().expect("digits");
    sign * (whole * 100 + cents.parse::<i64>().expect("digits"))
}

#[tokio::test]
async fn aging_net_equals_minus_each_customers_balance_on_every_day_of_a_90_day_history() {
    let api = TestApi::new();
    let mut rng = Lcg(8);
    let customers = [
        api.customer("Avery").await,
        api.customer("Blake").await,
        api.customer("Casey").await,
        api.customer("Drew").await,
    ];
    let quiet = api.customer("Quinn").await;
    let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    // Invoices in the order they are created, with dates drawn from the whole window, so many
    // are back-dated before entries recorded earlier.
    let mut invoices: Vec<(String, String)> = Vec::new();
    for _ in 0..120 {
        let customer = customers[usize::try_from(rng.next(4)).expect("small")].clone();
        let day = rng.day();
        match rng.next(8) {
            0..=2 => {
                let invoice = api
                    .post(
                        "/v1/invoices",
                        json!({"customer_id": customer, "post": true,
                               "items": amounts(&[&text(rng.amount())]),
                               "invoice_date": date(day)}),
                    )
                    .await
                    .expect(201);
                invoices.push((customer, id(&invoice)));
            }
            3 | 4 => {
                // A payment, applied to one of the customer's open invoices when it has one.
                let amount = rng.amount();
                let mut body = json!({"customer_id": customer, "amount": text(amount),
                                      "method": "ach", "effective_date": date(day)});
                let mine: Vec<&String> =
                    invoices.iter().filter(|(c, _)| *c == customer).map(|(_, i)| i).collect();
                if !mine.is_empty() && rng.next(2) == 0 {
                    let target = mine[usize::try_from(rng.next(mine.len() as u64)).expect("small")];
                    let open = api.get(&format!("/v1/invoices/{target}")).await.expect(200);
                    let balance = minor_of(&open["balance"]);
                    if balance > 0 {
                        body["applications"] = json!([{"target_id": target,
                            "amount": text(balance.min(amount))}]);
                    }
                }
                api.post("/v1/payments", body).await.expect(201);
            }
            5 => {
                api.post(
                    "/v1/credit-memos",
                    json!({"customer_id": customer, "post": true,
                           "items": amounts(&[&text(rng.amount())]), "invoice_date": date(day)}),
                )
                .await
                .expect(201);
            }
            6 => {
                // A negative invoice whose credit goes to the credit balance (effective today).
                let charge = rng.amount();
                let negative = api
                    .post(
                        "/v1/invoices",
                        json!({"customer_id": customer, "post": true, "invoice_date": date(day),
                               "items": amounts(&[&text(charge), &text(-charge - 500)])}),
                    )
                    .await
                    .expect(201);
                api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&negative)), json!({}))
                    .await
                    .expect(200);
            }
            _ => {
                // A credit memo applied to an open invoice on a day of its own.
                let mine: Vec<&String> =
                    invoices.iter().filter(|(c, _)| *c == customer).map(|(_, i)| i).collect();
                let Some(target) = mine.first() else { continue };
                let open = api.get(&format!("/v1/invoices/{target}")).await.expect(200);
                let balance = minor_of(&open["balance"]);
                let memo = api
                    .post(
                        "/v1/credit-memos",
                        json!({"customer_id": customer, "post": true,
                               "items": amounts(&["25.00"]), "invoice_date": date(day)}),
                    )
                    .await
                    .expect(201);
                if balance >= 2_500 {
                    api.post(
                        "/v1/applications",
                        json!({"source": {"type": "credit_memo", "id": id(&memo)},
                               "target_id": target, "amount": "25.00",
                               "effective_date": date(rng.day())}),
                    )
                    .await
                    .expect(201);
                }
            }
        }
    }
    // Lines seen with credit beside open documents, and with credit alone.
    let (mut credit_and_open, mut credit_only) = (0, 0);
    for offset in 0..90 {
        let day = date(first_day() + chrono::Days::new(offset));
        let report = api.get(&format!("/v1/reports/aging?as_of={day}")).await.expect(200);
        assert_eq!(report["currencies"].as_array().expect("currencies").len(), 1, "{day}");
        let usd = &report["currencies"][0];
        let lines = usd["customers"].as_array().expect("customers");
        let mut net_sum = 0;
        for customer in customers.iter().chain([&quiet]) {
            let balance = api
                .get(&format!("/v1/customers/{customer}?as_of={day}"))
                .await
                .expect(200)["balance"]
                .clone();
            let net = lines
                .iter()
                .find(|l| l["customer_id"] == json!(customer))
                .map_or(0, |l| minor_of(&l["net"]));
            assert_eq!(net, -minor_of(&balance), "customer {customer} on {day}: {report:#}");
            net_sum += net;
            if let Some(line) = lines.iter().find(|l| l["customer_id"] == json!(customer)) {
                let (total, credit) =
                    (minor_of(&line["total"]), minor_of(&line["available_credit"]));
                assert_eq!(total - credit, net, "{day}");
                match (total, credit) {
                    (0, 0) => {}
                    (0, _) => credit_only += 1,
                    (_, 0) => {}
                    _ => credit_and_open += 1,
                }
            }
        }
        assert_eq!(minor_of(&usd["totals"]["net"]), net_sum, "{day}");
    }
    assert!(credit_and_open > 20 && credit_only > 0, "{credit_and_open} {credit_only}");
    api.assert_verified().await;
}
