//! `POST /v1/imports`: the example files of docs/ imported with exact balances, a rerun that
//! creates nothing, a bad file answered 422 with line and column and nothing written,
//! `skip_bad_rows`, `dry_run`, and the body's media type.

use axum::body::Body;
use axum::http::Method;
use serde_json::{Value, json};

use crate::harness::{KEY, TestApi};

const CUSTOMERS: &str = include_str!("../../../../docs/examples/customers.csv");
const INVOICES: &str = include_str!("../../../../docs/examples/invoices.csv");

const BAD: &str = "\
external_id,customer_external_id,invoice_date,description,amount
X-1,CUST-001,2026-01-01,Fine,1.00
X-2,CUST-001,2026-02-30,Broken,1.00
";

/// The customer named `name`, found by the list's search.
async fn customer(api: &TestApi, name: &str) -> Value {
    let page = api.get(&format!("/v1/customers?search={}", name.replace(' ', "%20"))).await;
    let page = page.expect(200);
    let found = page["data"].as_array().expect("data").iter().find(|c| c["name"] == name);
    found.expect("the customer").clone()
}

fn counts(report: &Value) -> Value {
    json!([
        report["customers_created"],
        report["invoices_created"],
        report["payments_created"],
        report["already_imported"],
        report["bad_records"],
        report["written"],
    ])
}

#[tokio::test]
async fn the_example_files_import_with_exact_balances_and_a_rerun_creates_nothing() {
    let api = TestApi::new();
    let dry = api.post_csv("/v1/imports?kind=customers&dry_run=true", CUSTOMERS).await.expect(200);
    assert_eq!(counts(&dry), json!([3, 0, 0, 0, 0, false]));
    let done = api.post_csv("/v1/imports?kind=customers", CUSTOMERS).await.expect(201);
    assert_eq!(counts(&done), json!([3, 0, 0, 0, 0, true]));
    let done = api.post_csv("/v1/imports?kind=invoices", INVOICES).await.expect(201);
    assert_eq!(done["object"], "import");
    assert_eq!(done["rows"], 4);
    assert_eq!(counts(&done), json!([0, 3, 1, 0, 0, true]));

    // 1,200.00 + 99.00 tax + 310.40, less 500.00 paid.
    let acme = customer(&api, "Acme Corporation").await;
    assert_eq!(
        (&acme["receivable"], &acme["unapplied_payments"]),
        (&json!("1109.40"), &json!("0.00"))
    );
    // 99.00 + 19.80 VAT.
    assert_eq!(customer(&api, "Globex Ltd").await["receivable"], "118.80");
    assert_eq!(customer(&api, "Initech, Inc.").await["receivable"], "4250.00");

    let again = api.post_csv("/v1/imports?kind=customers", CUSTOMERS).await.expect(201);
    assert_eq!(counts(&again), json!([0, 0, 0, 3, 0, true]));
    let again = api.post_csv("/v1/imports?kind=invoices", INVOICES).await.expect(201);
    assert_eq!(counts(&again), json!([0, 0, 0, 3, 0, false]));
    assert_eq!(customer(&api, "Acme Corporation").await["receivable"], "1109.40");
    api.assert_verified().await;
}

#[tokio::test]
async fn a_file_with_a_bad_row_is_422_with_its_line_and_column_and_writes_nothing() {
    let api = TestApi::new();
    api.post_csv("/v1/imports?kind=customers", CUSTOMERS).await.expect(201);
    let before = api.snapshot().await;
    let problem =
        api.post_csv("/v1/imports?kind=invoices", BAD).await.expect_problem(422, "bad_rows");
    assert_eq!(
        problem["rows"],
        json!([{"line": 3, "column": "invoice_date", "reason": "a date written YYYY-MM-DD"}])
    );
    let dry = api.post_csv("/v1/imports?kind=invoices&dry_run=true", BAD).await;
    dry.expect_problem(422, "bad_rows");
    assert_eq!(api.snapshot().await, before);

    let skipped =
        api.post_csv("/v1/imports?kind=invoices&skip_bad_rows=true", BAD).await.expect(201);
    assert_eq!(counts(&skipped), json!([0, 1, 0, 0, 1, true]));
    assert_eq!(
        skipped["errors"],
        json!([{"line": 3, "column": "invoice_date", "reason": "a date written YYYY-MM-DD"}])
    );
    assert_eq!(customer(&api, "Acme Corporation").await["receivable"], "1.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn an_import_needs_a_kind_and_a_csv_body() {
    let api = TestApi::new();
    api.post_csv("/v1/imports", CUSTOMERS).await.expect_problem(422, "validation_error");
    api.post_csv("/v1/imports?kind=payments", CUSTOMERS)
        .await
        .expect_problem(422, "validation_error");
    let json = api
        .send_raw(Method::POST, "/v1/imports?kind=customers", Some(KEY), Body::from("{}"), true)
        .await;
    json.expect_problem(415, "unsupported_media_type");
    let nul = api.post_csv("/v1/imports?kind=customers", "external_id,name\nC-1,A\u{0}B\n").await;
    let problem = nul.expect_problem(422, "bad_rows");
    assert_eq!(
        problem["rows"],
        json!([{"line": 2, "column": "name", "reason": "must not contain the NUL character"}])
    );
    let empty = api.post_csv("/v1/imports?kind=customers", "").await;
    let problem = empty.expect_problem(422, "bad_rows");
    assert_eq!(problem["rows"][0]["reason"], "missing column");
}
