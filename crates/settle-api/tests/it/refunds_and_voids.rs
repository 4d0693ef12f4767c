//! Money out and undoing: refunds from a payment, a credit memo and the credit balance; voids
//! of payments, invoices and debit memos (with and without reversing applications);
//! write-offs against bad debt; and every refusal, each leaving nothing written.

use serde_json::{Value, json};

use crate::harness::{TestApi, history, id, item, line};

/// The journal, customers, documents, payments, applications, credit and debit memos.
async fn everything(api: &TestApi) -> Value {
    let memos = api.get("/v1/credit-memos?limit=500").await.expect(200);
    let debit_memos = api.get("/v1/debit-memos?limit=500").await.expect(200);
    json!([api.snapshot().await, memos, debit_memos])
}

#[tokio::test]
async fn a_payment_refund_pays_back_unapplied_money_and_the_payment_shows_it() {
    let api = TestApi::new();
    let customer = api.customer("Refund Pay").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Repair", "amount": "60.00"}])).await;
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "100.00", "method": "card",
                   "applications": [{"target_id": id(&invoice), "amount": "60.00"}]}),
        )
        .await
        .expect(201);
    let path = format!("/v1/payments/{}", id(&payment));

    let refund = api
        .post(
            &format!("{path}/refunds"),
            json!({"amount": "30.00", "method": "card", "reference": "RF-0001"}),
        )
        .await
        .expect(201);
    assert_eq!(refund["object"], "refund");
    assert!(refund["id"].as_str().expect("id").starts_with("ref_"), "{refund:#}");
    assert_eq!(refund["source"], json!({"type": "payment", "id": id(&payment)}));
    assert_eq!(refund["amount"], "30.00");
    assert_eq!(refund["method"], "card");
    assert_eq!(refund["reference"], "RF-0001");
    assert_eq!(refund["effective_date"], "2026-03-01");

    let shown = api.get(&path).await.expect(200);
    assert_eq!(shown["amount"], "100.00");
    assert_eq!(shown["unapplied"], "10.00");
    // applied = amount − unapplied − refunded.
    assert_eq!(shown["applied"], "60.00");
    assert_eq!(shown["status"], "posted");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "10.00", "receivable": "0.00", "unapplied_payments": "10.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "10.00"})
    );

    let before = everything(&api).await;
    api.post(&format!("{path}/refunds"), json!({"amount": "10.01"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    api.post(&format!("{path}/refunds"), json!({"amount": "-1.00"}))
        .await
        .expect_problem(422, "validation_error");
    api.post(&format!("{path}/refunds"), json!({"amount": "1.005"}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/payments/pay_missing/refunds", json!({"amount": "1.00"}))
        .await
        .expect_problem(404, "not_found");
    // Applied and refunded, the payment cannot be voided.
    api.post(&format!("{path}/void"), json!({})).await.expect_problem(422, "has_applications");
    assert_eq!(everything(&api).await, before);

    api.post(&format!("{path}/refunds"), json!({"amount": "10.00"})).await.expect(201);
    let shown = api.get(&path).await.expect(200);
    assert_eq!(shown["unapplied"], "0.00");
    assert_eq!(shown["applied"], "60.00");
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    assert_eq!(
        history(&api, &customer).await,
        [
            line("refund", "-10.00"),
            line("refund", "-30.00"),
            line("payment", "100.00"),
            line("invoice", "-60.00"),
        ]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn a_payment_with_nothing_applied_is_voided_once_and_is_then_dead() {
    let api = TestApi::new();
    let customer = api.customer("Void Pay").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Repair", "amount": "60.00"}])).await;
    let payment = api.payment(&customer, "50.00").await;
    let path = format!("/v1/payments/{}", id(&payment));
    assert_eq!(api.balances(&customer).await["balance"], "-10.00");

    let voided = api.post(&format!("{path}/void"), json!({})).await.expect(200);
    assert_eq!(voided["status"], "voided");
    assert_eq!(voided["amount"], "50.00");
    assert_eq!(voided["unapplied"], "0.00");
    assert_eq!(api.get(&path).await.expect(200)["status"], "voided");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-60.00", "receivable": "60.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );

    let before = everything(&api).await;
    api.post(&format!("{path}/void"), json!({})).await.expect_problem(422, "document_voided");
    api.post(&format!("{path}/refunds"), json!({"amount": "1.00"}))
        .await
        .expect_problem(422, "document_voided");
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "1.00"}),
    )
    .await
    .expect_problem(422, "document_voided");
    assert_eq!(everything(&api).await, before);

    // A payment with any application live cannot be voided.
    let applied = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "20.00", "method": "cash",
                   "applications": [{"target_id": id(&invoice), "amount": "5.00"}]}),
        )
        .await
        .expect(201);
    let before = everything(&api).await;
    api.post(&format!("/v1/payments/{}/void", id(&applied)), json!({}))
        .await
        .expect_problem(422, "has_applications");
    assert_eq!(everything(&api).await, before);
    assert_eq!(
        history(&api, &customer).await,
        [
            line("payment", "20.00"),
            line("payment_void", "-50.00"),
            line("payment", "50.00"),
            line("invoice", "-60.00"),
        ]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn a_credit_balance_refund_pays_back_transferred_credit() {
    let api = TestApi::new();
    let customer = api.customer("Refund Credit").await;
    let invoice = api
        .invoice(&customer, json!([{"description": "Overbilled hours", "amount": "-80.00"}]))
        .await;
    let before = everything(&api).await;
    // Nothing in the credit balance yet.
    api.post(
        &format!("/v1/customers/{customer}/credit-balance/refunds"),
        json!({"amount": "1.00"}),
    )
    .await
    .expect_problem(422, "insufficient_unapplied");
    assert_eq!(everything(&api).await, before);

    api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&invoice)), json!({}))
        .await
        .expect(200);
    let refund = api
        .post(
            &format!("/v1/customers/{customer}/credit-balance/refunds"),
            json!({"amount": "80.00", "method": "check", "reference": "CHK-88"}),
        )
        .await
        .expect(201);
    assert_eq!(refund["source"], json!({"type": "credit_balance", "id": null}));
    assert_eq!(refund["amount"], "80.00");
    assert_eq!(
        api.get(&format!("/v1/customers/{customer}/credit-balance")).await.expect(200)["amount"],
        "0.00"
    );
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    let journal = api.get(&format!("/v1/journal?customer_id={customer}")).await.expect(200);
    let refund_txn = journal["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|t| t["kind"] == "refund")
        .expect("a refund transaction");
    let postings: Vec<_> = refund_txn["postings"]
        .as_array()
        .expect("postings")
        .iter()
        .map(|p| (p["account"].clone(), p["side"].clone(), p["amount"].clone()))
        .collect();
    assert_eq!(
        postings,
        [
            (json!("credit_balance"), json!("debit"), json!("80.00")),
            (json!("cash"), json!("credit"), json!("80.00")),
        ]
    );
    api.get("/v1/customers/cus_missing/credit-balance").await.expect_problem(404, "not_found");
    api.assert_verified().await;
}

#[tokio::test]
async fn an_invoice_is_voided_whole_and_its_balance_leaves_the_customer() {
    let api = TestApi::new();
    let customer = api.customer("Void Inv").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Service", "amount": "80.00", "taxes": [{"name": "VAT", "rate": "10"}]}]),
        )
        .await;
    let path = format!("/v1/invoices/{}", id(&invoice));
    let voided = api.post(&format!("{path}/void"), json!({})).await.expect(200);
    assert_eq!(voided["status"], "voided");
    assert_eq!(voided["total"], "88.00");
    assert_eq!(voided["balance"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00"]);
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    assert_eq!(api.balances(&customer).await["receivable"], "0.00");
    // Voids of invoices are positive history lines.
    assert_eq!(history(&api, &customer).await, [line("void", "88.00"), line("invoice", "-88.00")]);

    let before = everything(&api).await;
    api.post(&format!("{path}/void"), json!({})).await.expect_problem(422, "document_voided");
    let payment = api.payment(&customer, "10.00").await;
    let before_payment = everything(&api).await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "10.00"}),
    )
    .await
    .expect_problem(422, "document_voided");
    assert_eq!(everything(&api).await, before_payment);
    assert_ne!(before, before_payment);

    let draft = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [{"description": "Draft", "amount": "5.00"}]}),
        )
        .await
        .expect(201);
    let before = everything(&api).await;
    api.post(&format!("/v1/invoices/{}/void", id(&draft)), json!({}))
        .await
        .expect_problem(422, "document_not_posted");
    api.post("/v1/invoices/inv_missing/void", json!({})).await.expect_problem(404, "not_found");
    api.post(&format!("{path}/void"), json!({"reverse_applications": "yes"}))
        .await
        .expect_problem(422, "validation_error");
    assert_eq!(everything(&api).await, before);
    api.assert_verified().await;
}

#[tokio::test]
async fn voiding_an_invoice_with_applications_needs_reverse_applications_and_returns_every_source()
{
    let api = TestApi::new();
    let customer = api.customer("Void Applied").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Install", "amount": "150.00"}, {"description": "Parts", "amount": "50.00"}]),
        )
        .await;
    let invoice_id = id(&invoice);
    // Three sources on it: a payment, a credit memo and the credit balance.
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "120.00", "method": "check",
                   "applications": [{"target_id": invoice_id, "amount": "100.00"}]}),
        )
        .await
        .expect(201);
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true,
                   "items": [{"description": "Goodwill", "amount": "30.00"}]}),
        )
        .await
        .expect(201);
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&memo)}, "target_id": invoice_id, "amount": "30.00"}),
    )
    .await
    .expect(201);
    let negative = api
        .invoice(&customer, json!([{"description": "Refund of deposit", "amount": "-25.00"}]))
        .await;
    api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&negative)), json!({}))
        .await
        .expect(200);
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_balance"}, "target_id": invoice_id, "amount": "20.00"}),
    )
    .await
    .expect(201);
    let path = format!("/v1/invoices/{invoice_id}");
    assert_eq!(api.get(&path).await.expect(200)["balance"], "50.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-25.00", "receivable": "50.00", "unapplied_payments": "20.00",
               "credit_memo_balance": "0.00", "credit_balance": "5.00", "available_credit": "25.00"})
    );

    let before = everything(&api).await;
    let problem =
        api.post(&format!("{path}/void"), json!({})).await.expect_problem(422, "has_applications");
    assert!(problem["detail"].as_str().expect("detail").contains(&invoice_id), "{problem:#}");
    api.post(&format!("{path}/void"), json!({"reverse_applications": false}))
        .await
        .expect_problem(422, "has_applications");
    assert_eq!(everything(&api).await, before);

    let voided =
        api.post(&format!("{path}/void"), json!({"reverse_applications": true})).await.expect(200);
    assert_eq!(voided["status"], "voided");
    assert_eq!(voided["balance"], "0.00");
    // Each value went back to its source.
    let paid = api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200);
    assert_eq!(paid["unapplied"], "120.00");
    assert_eq!(paid["applied"], "0.00");
    assert_eq!(
        api.get(&format!("/v1/credit-memos/{}", id(&memo))).await.expect(200)["balance"],
        "30.00"
    );
    assert_eq!(
        api.get(&format!("/v1/customers/{customer}/credit-balance")).await.expect(200)["amount"],
        "25.00"
    );
    let applications =
        api.get(&format!("/v1/applications?target_id={invoice_id}")).await.expect(200);
    let statuses: Vec<_> = applications["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| (a["status"].clone(), a["net_amount"].clone()))
        .collect();
    assert_eq!(statuses.len(), 3);
    assert!(statuses.iter().all(|(s, n)| s == "reversed" && n == "0.00"), "{statuses:?}");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "175.00", "receivable": "0.00", "unapplied_payments": "120.00",
               "credit_memo_balance": "30.00", "credit_balance": "25.00", "available_credit": "175.00"})
    );
    // The void line is the whole invoice: 200.00 back.
    assert_eq!(history(&api, &customer).await[0], line("void", "200.00"));
    api.assert_verified().await;
}

#[tokio::test]
async fn a_debit_memo_is_voided_like_an_invoice() {
    let api = TestApi::new();
    let customer = api.customer("Debit Co").await;
    let memo = api
        .post(
            "/v1/debit-memos",
            json!({"customer_id": customer, "post": true,
                   "items": [{"description": "Returned check fee", "amount": "35.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(memo["object"], "debit_memo");
    assert!(memo["id"].as_str().expect("id").starts_with("dm_"), "{memo:#}");
    assert_eq!(memo["number"], "DM-000001");
    assert_eq!(api.balances(&customer).await["balance"], "-35.00");
    let path = format!("/v1/debit-memos/{}", id(&memo));

    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "35.00", "method": "cash",
                   "applications": [{"target_id": id(&memo), "amount": "35.00"}]}),
        )
        .await
        .expect(201);
    let before = everything(&api).await;
    api.post(&format!("{path}/void"), json!({})).await.expect_problem(422, "has_applications");
    // A debit memo id is not an invoice.
    api.post(&format!("/v1/invoices/{}/void", id(&memo)), json!({}))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(everything(&api).await, before);

    let voided =
        api.post(&format!("{path}/void"), json!({"reverse_applications": true})).await.expect(200);
    assert_eq!(voided["status"], "voided");
    assert_eq!(voided["balance"], "0.00");
    assert_eq!(
        api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200)["unapplied"],
        "35.00"
    );
    assert_eq!(api.balances(&customer).await["balance"], "35.00");

    let before = everything(&api).await;
    api.post(&format!("{path}/void"), json!({})).await.expect_problem(422, "document_voided");
    assert_eq!(everything(&api).await, before);

    let draft = api
        .post(
            "/v1/debit-memos",
            json!({"customer_id": customer, "items": [{"description": "Fee", "amount": "5.00"}]}),
        )
        .await
        .expect(201);
    let before = everything(&api).await;
    api.post(&format!("/v1/debit-memos/{}/void", id(&draft)), json!({}))
        .await
        .expect_problem(422, "document_not_posted");
    assert_eq!(everything(&api).await, before);
    assert_eq!(
        history(&api, &customer).await,
        [line("void", "35.00"), line("payment", "35.00"), line("debit_memo", "-35.00")]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn a_write_off_is_an_applied_credit_memo_posted_against_bad_debt() {
    let api = TestApi::new();
    let customer = api.customer("Gone Bust").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Consulting", "amount": "100.00"}, {"description": "Travel", "amount": "20.00"}]),
        )
        .await;
    let invoice_id = id(&invoice);
    let path = format!("/v1/invoices/{invoice_id}");
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "20.00", "method": "cash",
               "applications": [{"target_id": invoice_id, "amount": "20.00"}]}),
    )
    .await
    .expect(201);

    let part = api
        .post(&format!("{path}/write-off"), json!({"amount": "60.00", "reason": "Chapter 11"}))
        .await
        .expect(201);
    assert_eq!(part["object"], "credit_memo");
    assert!(part["id"].as_str().expect("id").starts_with("cm_"), "{part:#}");
    assert_eq!(part["number"], "CM-000001");
    assert_eq!(part["reason"], "write_off");
    assert_eq!(part["status"], "posted");
    assert_eq!(part["total"], "60.00");
    assert_eq!(part["balance"], "0.00");
    assert_eq!(api.get(&path).await.expect(200)["balance"], "40.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-40.00", "receivable": "40.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );

    let before = everything(&api).await;
    api.post(&format!("{path}/write-off"), json!({"amount": "40.01"}))
        .await
        .expect_problem(422, "over_application");
    api.post(&format!("{path}/write-off"), json!({"amount": "0"}))
        .await
        .expect_problem(422, "over_application");
    assert_eq!(everything(&api).await, before);

    // The rest, with no amount.
    let rest = api.post(&format!("{path}/write-off"), json!({})).await.expect(201);
    assert_eq!(rest["total"], "40.00");
    assert_eq!(rest["balance"], "0.00");
    assert_eq!(api.get(&path).await.expect(200)["balance"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00"]);
    assert_eq!(api.balances(&customer).await["balance"], "0.00");

    let before = everything(&api).await;
    api.post(&format!("{path}/write-off"), json!({})).await.expect_problem(422, "over_application");
    assert_eq!(everything(&api).await, before);

    // Both write-offs are posted against bad debt.
    let journal = api.get(&format!("/v1/journal?customer_id={customer}")).await.expect(200);
    let write_offs: Vec<&Value> = journal["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|t| t["kind"] == "write_off")
        .collect();
    assert_eq!(write_offs.len(), 2, "{journal:#}");
    let mut bad_debt: Vec<String> = write_offs
        .iter()
        .flat_map(|t| t["postings"].as_array().expect("postings").iter())
        .filter(|p| p["account"] == "bad_debt")
        .map(|p| {
            assert_eq!(p["side"], "debit", "{p:#}");
            p["amount"].as_str().expect("amount").to_owned()
        })
        .collect();
    bad_debt.sort();
    assert_eq!(bad_debt, ["40.00", "60.00"]);
    let tb = api.get("/v1/reports/trial-balance?currency=USD").await.expect(200);
    let row = tb["currencies"][0]["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account"] == "bad_debt")
        .expect("bad_debt row");
    assert_eq!(row["debit"], "100.00");
    // Write-offs are positive history lines; their applications are not lines.
    assert_eq!(
        history(&api, &customer).await,
        [
            line("write_off", "40.00"),
            line("write_off", "60.00"),
            line("payment", "20.00"),
            line("invoice", "-120.00"),
        ]
    );

    // A draft cannot be written off.
    let draft = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [{"description": "Draft", "amount": "5.00"}]}),
        )
        .await
        .expect(201);
    let before = everything(&api).await;
    api.post(&format!("/v1/invoices/{}/write-off", id(&draft)), json!({}))
        .await
        .expect_problem(422, "document_not_posted");
    assert_eq!(everything(&api).await, before);
    api.assert_verified().await;
}

#[tokio::test]
async fn every_refusal_of_the_toolkit_has_its_code_and_writes_nothing() {
    let api = TestApi::new();
    let customer = api.customer("Refusals Inc").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Work", "amount": "100.00"}, {"description": "Credit", "amount": "-20.00"}]),
        )
        .await;
    let invoice_id = id(&invoice);
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "50.00", "method": "check",
                   "applications": [{"target_id": invoice_id, "amount": "30.00"}]}),
        )
        .await
        .expect(201);
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true,
                   "items": [{"amount": "10.00", "invoice_item_id": item(&invoice, 0)}]}),
        )
        .await
        .expect(201);
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&memo)}, "target_id": invoice_id, "amount": "5.00"}),
    )
    .await
    .expect(201);
    let voided = api.invoice(&customer, json!([{"description": "Oops", "amount": "9.00"}])).await;
    api.post(&format!("/v1/invoices/{}/void", id(&voided)), json!({})).await.expect(200);
    let draft = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [{"description": "Later", "amount": "-5.00"}]}),
        )
        .await
        .expect(201);
    let other = api.customer("Someone Else").await;
    let foreign = api.invoice(&other, json!([{"description": "Theirs", "amount": "10.00"}])).await;

    let before = everything(&api).await;
    let inv = format!("/v1/invoices/{invoice_id}");
    // has_applications
    api.post(&format!("{inv}/void"), json!({})).await.expect_problem(422, "has_applications");
    api.post(&format!("/v1/payments/{}/void", id(&payment)), json!({}))
        .await
        .expect_problem(422, "has_applications");
    api.post(&format!("/v1/credit-memos/{}/cancel", id(&memo)), json!({}))
        .await
        .expect_problem(422, "has_applications");
    // not_negative
    api.post(&format!("{inv}/transfer-to-credit"), json!({}))
        .await
        .expect_problem(422, "not_negative");
    // over_credit: 10.00 of the 100.00 item is credited by the memo.
    api.post(
        "/v1/credit-memos",
        json!({"customer_id": customer, "items": [{"amount": "90.01", "invoice_item_id": item(&invoice, 0)}]}),
    )
    .await
    .expect_problem(422, "over_credit");
    api.post(
        &format!("{inv}/adjustments"),
        json!({"item_id": item(&invoice, 1), "type": "charge", "amount": "20.01", "reason": "x"}),
    )
    .await
    .expect_problem(422, "over_application");
    // document_voided
    api.post(&format!("/v1/invoices/{}/void", id(&voided)), json!({}))
        .await
        .expect_problem(422, "document_voided");
    api.post(&format!("/v1/invoices/{}/write-off", id(&voided)), json!({}))
        .await
        .expect_problem(422, "document_voided");
    api.post(
        &format!("/v1/invoices/{}/adjustments", id(&voided)),
        json!({"item_id": item(&voided, 0), "type": "credit", "amount": "1.00", "reason": "x"}),
    )
    .await
    .expect_problem(422, "document_voided");
    // document_not_posted
    api.post(&format!("/v1/invoices/{}/void", id(&draft)), json!({}))
        .await
        .expect_problem(422, "document_not_posted");
    api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&draft)), json!({}))
        .await
        .expect_problem(422, "document_not_posted");
    api.post(
        &format!("/v1/invoices/{}/adjustments", id(&draft)),
        json!({"item_id": item(&draft, 0), "type": "charge", "amount": "1.00", "reason": "x"}),
    )
    .await
    .expect_problem(422, "document_not_posted");
    // insufficient_unapplied: 20.00 is left on the payment, 5.00 on the memo.
    api.post(&format!("/v1/payments/{}/refunds", id(&payment)), json!({"amount": "20.01"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    api.post(&format!("/v1/credit-memos/{}/refunds", id(&memo)), json!({"amount": "5.01"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    // over_application: net_first offset −20.00 against the 100.00 item, then 30.00 paid and
    // 5.00 credited left 45.00 on it; nothing may pass zero.
    assert_eq!(api.item_balances(&inv).await, ["45.00", "0.00"]);
    api.post(
        &format!("{inv}/adjustments"),
        json!({"item_id": item(&invoice, 0), "type": "credit", "amount": "45.01", "reason": "x"}),
    )
    .await
    .expect_problem(422, "over_application");
    api.post(
        &format!("{inv}/adjustments"),
        json!({"item_id": item(&invoice, 0), "type": "charge", "amount": "1.00", "reason": "x"}),
    )
    .await
    .expect_problem(422, "over_application");
    api.post(&format!("{inv}/write-off"), json!({"amount": "45.01"}))
        .await
        .expect_problem(422, "over_application");
    // validation_error
    api.post(
        &format!("{inv}/adjustments"),
        json!({"item_id": item(&invoice, 0), "type": "discount", "amount": "1.00", "reason": "x"}),
    )
    .await
    .expect_problem(422, "validation_error");
    api.post(
        &format!("{inv}/adjustments"),
        json!({"item_id": item(&invoice, 0), "type": "credit", "amount": "1.00", "reason": ""}),
    )
    .await
    .expect_problem(422, "validation_error");
    api.post(
        &format!("{inv}/adjustments"),
        json!({"item_id": item(&foreign, 0), "type": "credit", "amount": "1.00", "reason": "x"}),
    )
    .await
    .expect_problem(422, "validation_error");
    api.post(&format!("{inv}/net-items"), json!({})).await.expect_problem(422, "validation_error");
    // Another customer's invoice item cannot be credited from this customer's memo.
    api.post(
        "/v1/credit-memos",
        json!({"customer_id": customer, "post": true,
               "items": [{"amount": "1.00", "invoice_item_id": item(&foreign, 0)}]}),
    )
    .await
    .expect_problem(422, "customer_mismatch");
    assert_eq!(everything(&api).await, before);
    api.assert_verified().await;
}

#[tokio::test]
async fn voiding_a_written_off_invoice_returns_the_write_off_to_bad_debt_not_to_the_customer() {
    let api = TestApi::new();
    let customer = api.customer("Wrong Bill").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Consulting", "amount": "100.00"}])).await;
    let path = format!("/v1/invoices/{}", id(&invoice));
    api.post(
        &format!("{path}/adjustments"),
        json!({"item_id": item(&invoice, 0), "type": "credit", "amount": "10.00", "reason": "Late"}),
    )
    .await
    .expect(201);
    let write_off =
        api.post(&format!("{path}/write-off"), json!({"amount": "30.00"})).await.expect(201);
    assert_eq!(api.balances(&customer).await["balance"], "-60.00");

    // The invoice was wrong from the start: void it, reversing the write-off's application.
    let voided =
        api.post(&format!("{path}/void"), json!({"reverse_applications": true})).await.expect(200);
    assert_eq!(voided["status"], "voided");
    // The write-off memo is canceled: the customer gets no spendable credit out of bad debt.
    let memo = api.get(&format!("/v1/credit-memos/{}", id(&write_off))).await.expect(200);
    assert_eq!(memo["status"], "canceled");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    let tb = api.get("/v1/reports/trial-balance?currency=USD").await.expect(200);
    let bad_debt = tb["currencies"][0]["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["account"] == "bad_debt")
        .expect("bad_debt row");
    assert_eq!(bad_debt["debit"], bad_debt["credit"], "{tb:#}");
    assert_eq!(
        history(&api, &customer).await,
        [
            line("void", "90.00"),
            line("credit_memo_canceled", "-30.00"),
            line("write_off", "30.00"),
            line("adjustment", "10.00"),
            line("invoice", "-100.00"),
        ]
    );
    api.assert_verified().await;
}
