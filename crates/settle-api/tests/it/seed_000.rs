//! Seed 000, ServiceTitan's three ways out of a negative invoice balance, each done step by step
//! as the article writes it and then with the one call Settle offers instead.

use serde_json::{Value, json};

use crate::harness::{TestApi, history, id};

/// The invoice `id`.
async fn document(api: &TestApi, id: &str) -> Value {
    api.get(&format!("/v1/invoices/{id}")).await.expect(200)
}

#[tokio::test]
async fn option_1_a_payment_larger_than_the_invoice_is_refused_so_no_negative_balance_arises() {
    let api = TestApi::new();
    let customer = api.customer("Harper Plumbing").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Water heater install", "amount": "200.00"},
                   {"description": "Permit", "amount": "50.00"}]),
        )
        .await;
    let before = api.snapshot().await;

    // ServiceTitan lets a 300.00 payment sit on a 250.00 invoice; Settle refuses it whole,
    // collect-and-apply included, and writes nothing: not even the payment.
    let problem = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "300.00", "method": "card",
                   "applications": [{"target_id": id(&invoice), "amount": "300.00"}]}),
        )
        .await
        .expect_problem(422, "over_application");
    assert!(problem["detail"].as_str().expect("detail").contains("250.00"), "{problem:#}");
    assert_eq!(api.snapshot().await, before);

    let payment = api.payment(&customer, "300.00").await;
    let before = api.snapshot().await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "300.00"}),
    )
    .await
    .expect_problem(422, "over_application");
    // Item by item, the same: 200.00 + 50.00 is what can be paid, and 60.00 on the permit is not.
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "items": [
            {"item_id": invoice["items"][0]["id"], "amount": "200.00"},
            {"item_id": invoice["items"][1]["id"], "amount": "60.00"}]}),
    )
    .await
    .expect_problem(422, "over_application");
    assert_eq!(api.snapshot().await, before);
    assert_eq!(document(&api, &id(&invoice)).await["balance"], "250.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn option_1_step_by_step_unapply_the_payment_then_reapply_it_and_the_rest_stays_as_credit() {
    let api = TestApi::new();
    let customer = api.customer("Harper Plumbing").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Water heater install", "amount": "200.00"},
                   {"description": "Permit", "amount": "50.00"}]),
        )
        .await;
    let invoice_id = id(&invoice);
    // The payment as it was first put on the invoice (as much of it as the invoice takes).
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "300.00", "method": "card",
                   "applications": [{"target_id": invoice_id, "amount": "250.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(payment["applied"], "250.00");
    assert_eq!(payment["unapplied"], "50.00");
    let applications =
        api.get(&format!("/v1/applications?source_id={}", id(&payment))).await.expect(200);
    let application = id(&applications["data"][0]);

    // Step 1: unapply the payment from the invoice; it becomes available credit.
    let reversal =
        api.post(&format!("/v1/applications/{application}/reverse"), json!({})).await.expect(200);
    assert_eq!(reversal["status"], "reversed");
    assert_eq!(reversal["net_amount"], "0.00");
    assert_eq!(document(&api, &invoice_id).await["balance"], "250.00");
    let paid = api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200);
    assert_eq!(paid["applied"], "0.00");
    assert_eq!(paid["unapplied"], "300.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "50.00", "receivable": "250.00", "unapplied_payments": "300.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "300.00"})
    );

    // Step 2: re-apply the payment from the customer's credit to the invoice.
    let reapplied = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": invoice_id, "amount": "250.00"}),
        )
        .await
        .expect(201);
    assert_eq!(reapplied["amount"], "250.00");
    assert_eq!(reapplied["status"], "applied");

    // Step 3: the payment fills the balance and the rest stays on the customer as credit.
    let after = document(&api, &invoice_id).await;
    assert_eq!(after["balance"], "0.00");
    assert_eq!(api.item_balances(&format!("/v1/invoices/{invoice_id}")).await, ["0.00", "0.00"]);
    let paid = api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200);
    assert_eq!(paid["applied"], "250.00");
    assert_eq!(paid["unapplied"], "50.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "50.00", "receivable": "0.00", "unapplied_payments": "50.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "50.00"})
    );
    // Applications and their reversal move no balance: history is the invoice and the payment.
    assert_eq!(
        history(&api, &customer).await,
        [("payment".to_owned(), "300.00".to_owned()), ("invoice".to_owned(), "-250.00".to_owned())]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn option_1_in_one_call_collect_and_apply_what_is_owed_and_keep_the_rest_as_credit() {
    let api = TestApi::new();
    let customer = api.customer("Harper Plumbing").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Water heater install", "amount": "200.00"},
                   {"description": "Permit", "amount": "50.00"}]),
        )
        .await;
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "300.00", "method": "card",
                   "applications": [{"target_id": id(&invoice), "amount": "250.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(payment["applied"], "250.00");
    assert_eq!(payment["unapplied"], "50.00");
    assert_eq!(document(&api, &id(&invoice)).await["balance"], "0.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "50.00", "receivable": "0.00", "unapplied_payments": "50.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "50.00"})
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn option_1_with_auto_apply_a_payment_recorded_alone_pays_the_invoice_and_keeps_the_rest() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"auto_apply_credit": true})).await.expect(200);
    let customer = api.customer("Harper Plumbing").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Water heater install", "amount": "200.00"},
                   {"description": "Permit", "amount": "50.00"}]),
        )
        .await;
    let payment = api.payment(&customer, "300.00").await;
    assert_eq!(payment["applied"], "250.00");
    assert_eq!(payment["unapplied"], "50.00");
    assert_eq!(document(&api, &id(&invoice)).await["balance"], "0.00");
    assert_eq!(api.balances(&customer).await["unapplied_payments"], "50.00");
    assert_eq!(api.balances(&customer).await["balance"], "50.00");
    api.assert_verified().await;
}

/// An invoice whose negative tasks outweigh its positive one: balance −100.00.
async fn negative_task_invoice(api: &TestApi, customer: &str) -> Value {
    let invoice = api
        .invoice(
            customer,
            json!([{"description": "Tankless water heater", "amount": "1200.00"},
                   {"description": "Trade-in credit", "amount": "-400.00"},
                   {"description": "Manufacturer rebate", "amount": "-900.00"}]),
        )
        .await;
    assert_eq!(invoice["total"], "-100.00");
    assert_eq!(invoice["balance"], "-100.00");
    invoice
}

#[tokio::test]
async fn option_2_step_by_step_an_adjustment_invoice_zeroes_the_group_and_a_saved_payment_is_the_credit()
 {
    let api = TestApi::new();
    let customer = api.customer("Lopez Residence").await;
    let invoice = negative_task_invoice(&api, &customer).await;
    let invoice_id = id(&invoice);
    // The negative invoice is what the customer is owed.
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "100.00", "receivable": "-100.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );

    // Step 1: an adjustment invoice with a positive task brings the invoice's group to 0.
    let adjustment = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "adjusts_invoice_id": invoice_id, "post": true,
                   "items": [{"description": "Balance correction", "amount": "100.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(adjustment["adjusts_invoice_id"], invoice_id);
    assert_eq!(adjustment["balance"], "100.00");
    let original = document(&api, &invoice_id).await;
    assert_eq!(original["balance"], "-100.00");
    assert_eq!(original["group_balance"], "0.00");
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    assert_eq!(api.balances(&customer).await["receivable"], "0.00");

    // Steps 2–4: a card payment "saved without charging" for the amount wanted as credit.
    let saved = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "100.00", "method": "card",
                   "reference": "saved without charging"}),
        )
        .await
        .expect(201);
    assert_eq!(saved["unapplied"], "100.00");
    assert_eq!(saved["applied"], "0.00");
    assert_eq!(saved["reference"], "saved without charging");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "100.00", "receivable": "0.00", "unapplied_payments": "100.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "100.00"})
    );
    assert_eq!(
        history(&api, &customer).await,
        [
            ("payment".to_owned(), "100.00".to_owned()),
            ("invoice".to_owned(), "-100.00".to_owned()),
            ("invoice".to_owned(), "100.00".to_owned()),
        ]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn option_2_in_one_call_transfer_to_credit_zeroes_every_item_and_keeps_the_balance() {
    let api = TestApi::new();
    let customer = api.customer("Lopez Residence").await;
    let invoice = negative_task_invoice(&api, &customer).await;
    let invoice_id = id(&invoice);

    let moved = api
        .post(&format!("/v1/invoices/{invoice_id}/transfer-to-credit"), json!({}))
        .await
        .expect(200);
    assert_eq!(moved["invoice"]["id"], invoice_id);
    assert_eq!(moved["invoice"]["balance"], "0.00");
    assert_eq!(moved["invoice"]["total"], "-100.00");
    // Items are netted first: 1200.00 absorbs −400.00 and −800.00 of −900.00; the last
    // −100.00 is what moves.
    let items: Vec<_> = moved["invoice"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["balance"].clone())
        .collect();
    assert_eq!(items, [json!("0.00"), json!("0.00"), json!("0.00")]);
    assert_eq!(moved["customer"]["credit_balance"], "100.00");
    assert_eq!(moved["customer"]["balance"], "100.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "100.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "100.00", "available_credit": "100.00"})
    );
    assert_eq!(
        api.get(&format!("/v1/customers/{customer}/credit-balance")).await.expect(200)["amount"],
        "100.00"
    );
    // No adjustment invoice, no made-up payment, and the transfer is not a history line.
    assert_eq!(history(&api, &customer).await, [("invoice".to_owned(), "100.00".to_owned())]);
    let journal = api.get(&format!("/v1/journal?customer_id={customer}")).await.expect(200);
    assert!(
        journal["data"].as_array().expect("data").iter().any(|t| t["kind"] == "transfer_to_credit"),
        "{journal:#}"
    );
    api.assert_verified().await;
}

/// An invoice of 500.00 and an adjustment invoice of it with a negative task of −75.00.
async fn invoice_and_negative_adjustment(api: &TestApi, customer: &str) -> (Value, Value) {
    let original = api
        .invoice(customer, json!([{"description": "Furnace replacement", "amount": "500.00"}]))
        .await;
    let adjustment = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "adjusts_invoice_id": id(&original), "post": true,
                   "items": [{"description": "Warranty discount", "amount": "-75.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(adjustment["balance"], "-75.00");
    assert_eq!(document(api, &id(&original)).await["group_balance"], "425.00");
    (original, adjustment)
}

#[tokio::test]
async fn option_3_step_by_step_a_negative_payment_clears_the_adjustment_and_a_positive_one_the_invoice()
 {
    let api = TestApi::new();
    let customer = api.customer("Nguyen HVAC").await;
    let (original, adjustment) = invoice_and_negative_adjustment(&api, &customer).await;

    // Steps 1–2: a negative payment applied to the adjustment invoice clears it.
    let negative = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "-75.00", "method": "other",
                   "applications": [{"target_id": id(&adjustment), "amount": "-75.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(negative["amount"], "-75.00");
    assert_eq!(negative["applied"], "-75.00");
    assert_eq!(negative["unapplied"], "0.00");
    assert_eq!(document(&api, &id(&adjustment)).await["balance"], "0.00");
    assert_eq!(document(&api, &id(&original)).await["group_balance"], "500.00");

    // Steps 3–5: a positive payment for the open balance of the invoice.
    let positive = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "500.00", "method": "card",
                   "applications": [{"target_id": id(&original), "amount": "500.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(positive["unapplied"], "0.00");
    let after = document(&api, &id(&original)).await;
    assert_eq!(after["balance"], "0.00");
    assert_eq!(after["group_balance"], "0.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn option_3_in_settle_the_adjustment_credit_moves_onto_the_invoice_and_one_payment_settles_it()
 {
    let api = TestApi::new();
    let customer = api.customer("Nguyen HVAC").await;
    let (original, adjustment) = invoice_and_negative_adjustment(&api, &customer).await;

    // The adjustment's −75.00 becomes credit, and the credit pays part of the invoice.
    api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&adjustment)), json!({}))
        .await
        .expect(200);
    let applied = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "credit_balance"}, "target_id": id(&original), "amount": "75.00"}),
        )
        .await
        .expect(201);
    assert_eq!(applied["source"], json!({"type": "credit_balance", "id": null}));
    assert_eq!(document(&api, &id(&original)).await["balance"], "425.00");
    assert_eq!(document(&api, &id(&adjustment)).await["balance"], "0.00");
    assert_eq!(api.balances(&customer).await["credit_balance"], "0.00");

    // One real payment, for what is really owed; no negative payment.
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "425.00", "method": "card",
               "applications": [{"target_id": id(&original), "amount": "425.00"}]}),
    )
    .await
    .expect(201);
    let after = document(&api, &id(&original)).await;
    assert_eq!(after["balance"], "0.00");
    assert_eq!(after["group_balance"], "0.00");
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn option_3_under_transfer_and_apply_posting_the_adjustment_invoice_pays_the_original_at_once()
 {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"negative_invoice_policy": "transfer_and_apply"}))
        .await
        .expect(200);
    let customer = api.customer("Nguyen HVAC").await;
    let original = api
        .invoice(&customer, json!([{"description": "Furnace replacement", "amount": "500.00"}]))
        .await;
    let adjustment = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "adjusts_invoice_id": id(&original), "post": true,
                   "items": [{"description": "Warranty discount", "amount": "-75.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(adjustment["balance"], "0.00");
    let after = document(&api, &id(&original)).await;
    assert_eq!(after["balance"], "425.00");
    assert_eq!(after["group_balance"], "425.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-425.00", "receivable": "425.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    api.assert_verified().await;
}
