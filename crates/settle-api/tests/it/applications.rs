//! Applications through HTTP: every rule and error code, reversal, and seed 000's payment
//! options (unapply to credit and re-apply; a negative payment on a negative adjustment).

use serde_json::json;

use crate::harness::{TestApi, id, item};

#[tokio::test]
async fn an_overpayment_cannot_make_an_invoice_negative_and_nothing_is_written() {
    let api = TestApi::new();
    let customer = api.customer("Over Pay").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Repair", "amount": "80.00"}])).await;
    let payment = api.payment(&customer, "100.00").await;
    let before = api.snapshot().await;
    let problem = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "100.00"}),
        )
        .await
        .expect_problem(422, "over_application");
    assert!(problem["detail"].as_str().expect("detail").contains("80.00"));
    assert_eq!(api.snapshot().await, before);

    // Both an amount and items is ambiguous.
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice),
               "amount": "80.00", "items": [{"item_id": item(&invoice, 0), "amount": "80.00"}]}),
    )
    .await
    .expect_problem(422, "validation_error");
    // Neither applies what is owed, the lesser of the two, and leaves the rest of the payment
    // as customer credit (seed 000).
    let application = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice)}),
        )
        .await
        .expect(201);
    assert_eq!(
        (&application["status"], &application["amount"]),
        (&json!("applied"), &json!("80.00"))
    );
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&invoice))).await.expect(200)["balance"],
        "0.00"
    );
    let customer_now = api.balances(&customer).await;
    assert_eq!(customer_now["unapplied_payments"], "20.00");
    assert_eq!(customer_now["balance"], "20.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn every_application_error_has_its_code_and_writes_nothing() {
    let api = TestApi::new();
    let customer = api.customer("Errors Inc").await;
    let other = api.customer("Other Inc").await;
    let eur = api
        .post("/v1/customers", json!({"name": "Euro GmbH", "currency": "EUR"}))
        .await
        .expect(201);
    let invoice = api.invoice(&customer, json!([{"description": "A", "amount": "50.00"}, {"description": "B", "amount": "-10.00"}])).await;
    let draft = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [{"description": "D", "amount": "5.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["balance"], "0.00");
    let small = api.payment(&customer, "10.00").await;
    let other_payment = api.payment(&other, "10.00").await;
    let eur_invoice = api.invoice(&id(&eur), json!([{"description": "E", "amount": "5.00"}])).await;
    let before = api.snapshot().await;
    let apply = |source: serde_json::Value, target: String, rest: serde_json::Value| {
        let mut body = json!({"source": source, "target_id": target});
        if let (Some(body), Some(rest)) = (body.as_object_mut(), rest.as_object()) {
            body.extend(rest.clone());
        }
        let api = &api;
        async move { api.post("/v1/applications", body).await }
    };
    let pay = json!({"type": "payment", "id": id(&small)});
    apply(pay.clone(), id(&invoice), json!({"amount": "20.00"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    apply(pay.clone(), id(&draft), json!({"amount": "1.00"}))
        .await
        .expect_problem(422, "document_not_posted");
    apply(pay.clone(), id(&eur_invoice), json!({"amount": "1.00"}))
        .await
        .expect_problem(422, "customer_mismatch");
    apply(
        json!({"type": "payment", "id": id(&other_payment)}),
        id(&invoice),
        json!({"amount": "1.00"}),
    )
    .await
    .expect_problem(422, "customer_mismatch");
    apply(
        pay.clone(),
        id(&invoice),
        json!({"items": [{"item_id": item(&invoice, 0), "amount": "-1.00"}]}),
    )
    .await
    .expect_problem(422, "over_application");
    apply(
        pay.clone(),
        id(&invoice),
        json!({"items": [{"item_id": item(&invoice, 1), "amount": "-10.01"}]}),
    )
    .await
    .expect_problem(422, "over_application");
    // Clearing the negative item alone would raise what is owed from 40.00 to 50.00.
    apply(
        pay.clone(),
        id(&invoice),
        json!({"items": [{"item_id": item(&invoice, 1), "amount": "-10.00"}]}),
    )
    .await
    .expect_problem(422, "over_application");
    // Paying the positive item in full would flip the invoice to −10.00.
    apply(
        pay.clone(),
        id(&invoice),
        json!({"items": [{"item_id": item(&invoice, 0), "amount": "50.00"}]}),
    )
    .await
    .expect_problem(422, "over_application");
    apply(pay.clone(), id(&invoice), json!({"amount": "1.001"}))
        .await
        .expect_problem(422, "validation_error");
    apply(pay.clone(), id(&invoice), json!({"amount": "0"}))
        .await
        .expect_problem(422, "validation_error");
    apply(pay.clone(), id(&invoice), json!({"amount": "1.00", "rule": "fifo"}))
        .await
        .expect_problem(422, "validation_error");
    apply(
        pay.clone(),
        id(&invoice),
        json!({"items": [{"item_id": "item_nope", "amount": "1.00"}]}),
    )
    .await
    .expect_problem(422, "validation_error");
    apply(pay.clone(), id(&invoice), json!({"items": [
        {"item_id": item(&invoice, 0), "amount": "1.00"}, {"item_id": item(&invoice, 0), "amount": "1.00"}]}))
        .await
        .expect_problem(422, "validation_error");
    apply(json!({"type": "payment", "id": "pay_missing"}), id(&invoice), json!({"amount": "1.00"}))
        .await
        .expect_problem(404, "not_found");
    apply(pay.clone(), "inv_missing".to_owned(), json!({"amount": "1.00"}))
        .await
        .expect_problem(404, "not_found");
    apply(json!({"type": "gift"}), id(&invoice), json!({"amount": "1.00"}))
        .await
        .expect_problem(422, "validation_error");
    assert_eq!(api.snapshot().await, before);

    // `currency_mismatch` cannot arise here: a customer has one currency, and source and
    // target must share the customer. The core's tests produce it.
    api.assert_verified().await;
}

#[tokio::test]
async fn unapplying_returns_value_to_the_payment_and_it_can_be_reapplied() {
    // Seed 000, option 1: unapply the payment so it becomes customer credit, then re-apply it.
    let api = TestApi::new();
    let customer = api.customer("Unapply Co").await;
    let invoice = api.invoice(&customer, json!([{"description": "Job", "amount": "70.00"}, {"description": "Parts", "amount": "30.00"}])).await;
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "100.00", "method": "cash",
                   "applications": [{"target_id": id(&invoice), "amount": "100.00"}]}),
        )
        .await
        .expect(201);
    let applications =
        api.get(&format!("/v1/applications?source_id={}", id(&payment))).await.expect(200);
    let application = &applications["data"][0];
    let app_id = id(application);

    let partial = api
        .post(&format!("/v1/applications/{app_id}/reverse"), json!({"amount": "25.00"}))
        .await
        .expect(200);
    assert_eq!(partial["status"], "partially_reversed");
    assert_eq!(partial["reversed_amount"], "25.00");
    assert_eq!(partial["net_amount"], "75.00");
    // 25.00 is spread over 70.00 and 30.00 in proportion: 17.50 and 7.50.
    assert_eq!(
        api.item_balances(&format!("/v1/invoices/{}", id(&invoice))).await,
        ["17.50", "7.50"]
    );
    assert_eq!(
        api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200)["unapplied"],
        "25.00"
    );

    api.post(&format!("/v1/applications/{app_id}/reverse"), json!({"amount": "75.01"}))
        .await
        .expect_problem(422, "over_reversal");
    let whole =
        api.post(&format!("/v1/applications/{app_id}/reverse"), json!({})).await.expect(200);
    assert_eq!(whole["status"], "reversed");
    api.post(&format!("/v1/applications/{app_id}/reverse"), json!({}))
        .await
        .expect_problem(422, "over_reversal");
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&invoice))).await.expect(200)["balance"],
        "100.00"
    );
    let credit = api.balances(&customer).await;
    assert_eq!(credit["unapplied_payments"], "100.00");
    assert_eq!(credit["balance"], "0.00");

    // Re-apply from the customer's credit.
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "100.00"}),
    )
    .await
    .expect(201);
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&invoice))).await.expect(200)["balance"],
        "0.00"
    );
    let listed = api.get(&format!("/v1/applications?target_id={}", id(&invoice))).await.expect(200);
    assert_eq!(listed["data"].as_array().expect("data").len(), 2);
    api.assert_verified().await;
}

#[tokio::test]
async fn a_negative_payment_clears_a_negative_invoice_and_a_positive_one_pays_the_other() {
    // Seed 000, option 3.
    let api = TestApi::new();
    let customer = api.customer("Neg Pay").await;
    let original =
        api.invoice(&customer, json!([{"description": "Install", "amount": "200.00"}])).await;
    let adjustment = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "adjusts_invoice_id": id(&original), "post": true,
                   "items": [{"description": "Discount", "amount": "-40.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(adjustment["balance"], "-40.00");
    assert_eq!(adjustment["adjusts_invoice_id"], id(&original));
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&original))).await.expect(200)["group_balance"],
        "160.00"
    );

    let negative = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "-40.00", "method": "other",
                   "applications": [{"target_id": id(&adjustment), "amount": "-40.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(negative["amount"], "-40.00");
    assert_eq!(negative["unapplied"], "0.00");
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&adjustment))).await.expect(200)["balance"],
        "0.00"
    );

    // A negative payment is applied in full in the request that records it: it can neither
    // stand alone as negative credit nor pay a positive invoice, and a refusal writes nothing.
    let before = api.snapshot().await;
    let negative_alone = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "-5.00", "method": "other"}),
        )
        .await
        .expect_problem(422, "negative_payment_unapplied");
    assert!(negative_alone["detail"].as_str().expect("detail").contains("-5.00 unapplied"));
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "-5.00", "method": "other",
               "applications": [{"target_id": id(&original), "amount": "-5.00"}]}),
    )
    .await
    .expect_problem(422, "over_application");
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "-50.00", "method": "other",
               "applications": [{"target_id": id(&adjustment), "amount": "-40.00"}]}),
    )
    .await
    .expect_problem(422, "over_application");
    assert_eq!(api.snapshot().await, before);

    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "200.00", "method": "card",
               "applications": [{"target_id": id(&original), "amount": "200.00"}]}),
    )
    .await
    .expect(201);
    let original_now = api.get(&format!("/v1/invoices/{}", id(&original))).await.expect(200);
    assert_eq!(original_now["balance"], "0.00");
    assert_eq!(original_now["group_balance"], "0.00");
    // The −40.00 paid out and +200.00 received settle the 160.00 the group owed.
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn an_application_without_an_amount_applies_the_lesser_of_what_is_held_and_owed() {
    let api = TestApi::new();
    let customer = api.customer("Largest Amount").await;
    let first =
        api.invoice(&customer, json!([{"description": "A", "amount": "30.00"}, {"description": "B", "amount": "-10.00"}])).await;
    let second = api.invoice(&customer, json!([{"description": "C", "amount": "50.00"}])).await;
    // 45.00 arrives: the first invoice owes 20.00, so 20.00 goes there (netted first), and the
    // 25.00 left goes to the second, which owes more.
    let paid = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "45.00", "method": "card",
                   "applications": [{"target_id": id(&first)}, {"target_id": id(&second)}]}),
        )
        .await
        .expect(201);
    assert_eq!((&paid["applied"], &paid["unapplied"]), (&json!("45.00"), &json!("0.00")));
    assert_eq!(api.item_balances(&format!("/v1/invoices/{}", id(&first))).await, ["0.00", "0.00"]);
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&second))).await.expect(200)["balance"],
        "25.00"
    );

    // Nothing left in the source, or nothing owed: each is refused with its own code, and the
    // error inside `applications[1]` names its full path.
    let empty = api.payment(&customer, "5.00").await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&empty)}, "target_id": id(&first)}),
    )
    .await
    .expect_problem(422, "over_application");
    let before = api.snapshot().await;
    let problem = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "10.00", "method": "card",
                   "applications": [{"target_id": id(&second)},
                                    {"target_id": id(&second), "amount": "1.001"}]}),
        )
        .await
        .expect_problem(422, "validation_error");
    assert_eq!(problem["errors"][0]["field"], "applications[1].amount");
    let problem = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "10.00", "method": "card",
                   "applications": [{"target_id": id(&second), "amount": "999999999999999"}]}),
        )
        .await
        .expect_problem(422, "amount_out_of_range");
    assert_eq!(problem["errors"][0]["field"], "applications[0].amount");
    assert_eq!(api.snapshot().await, before);
    api.assert_verified().await;
}
