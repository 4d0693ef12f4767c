//! `GET /v1/export/journal`: the journal as Beancount or CSV text, readable by viewers, with the
//! format checked (Beancount when none is given).

use axum::body::Body;
use axum::http::Method;
use serde_json::{Value, json};

use crate::harness::{TestApi, id};

/// A customer with a taxed invoice, a payment applied to it and a credit entry (a credit
/// memo against revenue adjustments).
async fn workload(api: &TestApi) -> String {
    let customer = api.customer("Export Co").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Consulting, \"senior\"", "amount": "200.00",
                    "taxes": [{"name": "VAT", "rate": "10"}]}]),
        )
        .await;
    let invoice = id(&invoice);
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "120.50", "method": "check",
               "applications": [{"target_id": invoice, "amount": "100.00"}]}),
    )
    .await
    .expect(201);
    api.post(
        &format!("/v1/customers/{customer}/entries"),
        json!({"kind": "credit", "amount": "7.25", "description": "Goodwill"}),
    )
    .await
    .expect(201);
    customer
}

/// A GET with `key`, answering the status, the content type and the body as text.
async fn export(api: &TestApi, query: &str, key: &str) -> (u16, Option<String>, String) {
    let reply = api
        .send_raw(
            Method::GET,
            &format!("/v1/export/journal{query}"),
            Some(key),
            Body::empty(),
            false,
        )
        .await;
    let text = match &reply.body {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    (reply.status.as_u16(), reply.content_type, text)
}

#[tokio::test]
async fn beancount_export_has_every_transaction_balanced_with_exact_amounts() {
    let api = TestApi::new();
    let customer = workload(&api).await;
    let (status, content_type, text) = export(&api, "?format=beancount", crate::harness::KEY).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type.as_deref(), Some("text/plain; charset=utf-8"));
    let suffix = customer.strip_prefix("cus_").expect("customer id");
    assert!(text.contains("option \"operating_currency\" \"USD\"\n"), "{text}");
    for account in [
        "Assets:Cash".to_owned(),
        "Income:Revenue".to_owned(),
        "Liabilities:TaxPayable".to_owned(),
        format!("Assets:Receivable:Cus-{suffix}"),
        format!("Liabilities:UnappliedPayments:Cus-{suffix}"),
        format!("Liabilities:CreditMemos:Cus-{suffix}"),
        "Income:RevenueAdjustments".to_owned(),
    ] {
        assert!(text.contains(&format!(" open {account} USD\n")), "{account} not opened: {text}");
    }
    assert!(text.contains(&format!("  Assets:Receivable:Cus-{suffix}  200.00 USD\n")), "{text}");
    assert!(text.contains("  Liabilities:TaxPayable  -20.00 USD\n"), "{text}");
    assert!(text.contains("  Assets:Cash  120.50 USD\n"), "{text}");
    let journal = api.journal().await;
    let txns = journal["data"].as_array().expect("data");
    for txn in txns {
        let txn_id = txn["id"].as_str().expect("txn id");
        assert!(text.contains(&format!("  settle_txn: \"{txn_id}\"\n")), "{txn_id}: {text}");
    }
    assert_eq!(text.matches(" * \"").count(), txns.len());
}

#[tokio::test]
async fn csv_export_has_the_header_and_one_row_per_posting() {
    let api = TestApi::new();
    workload(&api).await;
    let (status, content_type, text) = export(&api, "?format=csv", crate::harness::KEY).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(content_type.as_deref(), Some("text/csv; charset=utf-8"));
    let mut lines = text.split_terminator("\r\n");
    assert_eq!(
        lines.next(),
        Some(
            "txn_id,seq,effective_date,customer_id,kind,description,account,side,amount,\
             currency,document_id,item_id,payment_id,application_id"
        )
    );
    let rows: Vec<&str> = lines.collect();
    let journal = api.journal().await;
    let postings: usize = journal["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["postings"].as_array().expect("postings").len())
        .sum();
    assert_eq!(rows.len(), postings, "{text}");
    assert!(rows.iter().any(|r| r.contains(",cash,debit,120.50,USD,")), "{text}");
    assert!(rows.iter().any(|r| r.contains(",tax_payable,credit,20.00,USD,")), "{text}");
    assert!(rows.iter().any(|r| r.contains(",credit_memos,credit,7.25,USD,")), "{text}");
    // Debits equal credits over the whole export, in minor units.
    let mut net = 0_i64;
    for row in &rows {
        let fields: Vec<&str> = row.rsplitn(11, ',').collect();
        let (amount, side) = (fields[5], fields[6]);
        let minor: i64 = amount.replace('.', "").parse().expect("amount");
        net += if side == "debit" { minor } else { -minor };
    }
    assert_eq!(net, 0, "{text}");
}

#[tokio::test]
async fn a_viewer_may_export_beancount_is_the_default_and_a_bad_format_is_a_validation_error() {
    let api = TestApi::new();
    workload(&api).await;
    let viewer = api.post("/v1/api-keys", json!({"role": "viewer"})).await.expect(201);
    let viewer = viewer["key"].as_str().expect("key").to_owned();
    let (status, _, text) = export(&api, "?format=csv", &viewer).await;
    assert_eq!(status, 200, "{text}");
    for query in ["?format=ledger", "?format=CSV", "?format="] {
        let reply = api
            .send_raw(
                Method::GET,
                &format!("/v1/export/journal{query}"),
                Some(crate::harness::KEY),
                Body::empty(),
                false,
            )
            .await;
        let body = reply.expect_problem(422, "validation_error");
        assert_eq!(body["errors"][0]["field"], "format", "{query}: {body}");
    }
    let (status, content_type, text) = export(&api, "", crate::harness::KEY).await;
    assert_eq!((status, content_type.as_deref()), (200, Some("text/plain; charset=utf-8")));
    assert!(text.starts_with("; Settle journal export: 4 transactions\n"), "the default: {text}");
    let (status, _, _) = export(&api, "?format=csv", "sk_wrong_0000000000").await;
    assert_eq!(status, 401);
}
