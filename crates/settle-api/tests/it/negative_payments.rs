//! A negative payment exists to clear a negative balance (seed 000, option 3): it is applied in
//! full in the request that records it, its unapplied amount is never negative, and undoing it
//! reverses its applications and voids it in one step.

use serde_json::{Value, json};

use crate::harness::{TestApi, id};

/// A customer with a posted invoice of 200.00 and an adjustment invoice of −40.00.
async fn negative_invoice(api: &TestApi) -> (String, Value, Value) {
    let customer = api.customer("Negative Payer").await;
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
    (customer, original, adjustment)
}

/// A payment of −40.00 applied in full to the −40.00 adjustment invoice.
async fn pay_in_full(api: &TestApi, customer: &str, adjustment: &Value) -> Value {
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "-40.00", "method": "other",
               "applications": [{"target_id": id(adjustment), "amount": "-40.00"}]}),
    )
    .await
    .expect(201)
}

#[tokio::test]
async fn a_negative_payment_without_applications_is_refused_and_nothing_is_written() {
    let api = TestApi::new();
    let (customer, _, _) = negative_invoice(&api).await;
    let before = api.snapshot().await;
    let problem = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "-25.00", "method": "cash"}),
        )
        .await
        .expect_problem(422, "negative_payment_unapplied");
    assert_eq!(
        problem["detail"],
        "pay_00000010 is a negative payment and would keep -25.00 unapplied; apply all of it in \
         the same request, to documents with negative balances"
    );
    assert_eq!(api.snapshot().await, before);
    api.assert_verified().await;
}

#[tokio::test]
async fn a_negative_payment_applied_only_in_part_is_refused_and_nothing_is_written() {
    let api = TestApi::new();
    let (customer, _, adjustment) = negative_invoice(&api).await;
    let before = api.snapshot().await;
    let problem = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "-40.00", "method": "other",
                   "applications": [{"target_id": id(&adjustment), "amount": "-30.00"}]}),
        )
        .await
        .expect_problem(422, "negative_payment_unapplied");
    assert!(problem["detail"].as_str().expect("detail").contains("keep -10.00 unapplied"));
    assert_eq!(api.snapshot().await, before);
    let balances = api.balances(&customer).await;
    assert_eq!(balances["unapplied_payments"], "0.00");
    assert_eq!(balances["balance"], "-160.00");
}

#[tokio::test]
async fn a_negative_payment_applied_in_full_leaves_nothing_unapplied() {
    let api = TestApi::new();
    let (customer, _, adjustment) = negative_invoice(&api).await;
    let paid = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "-40.00", "method": "other",
                   "applications": [{"target_id": id(&adjustment)}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        (&paid["amount"], &paid["applied"], &paid["unapplied"]),
        (&json!("-40.00"), &json!("-40.00"), &json!("0.00"))
    );
    let listed = api.get(&format!("/v1/payments?customer_id={customer}")).await.expect(200);
    assert_eq!(listed["data"][0]["unapplied"], "0.00");
    let balances = api.balances(&customer).await;
    assert_eq!(
        (&balances["available_credit"], &balances["balance"]),
        (&json!("0.00"), &json!("-200.00"))
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn reversing_a_negative_payments_application_is_refused_and_voiding_it_reverses_all() {
    let api = TestApi::new();
    let (customer, _, adjustment) = negative_invoice(&api).await;
    let paid = pay_in_full(&api, &customer, &adjustment).await;
    let applications =
        api.get(&format!("/v1/applications?source_id={}", id(&paid))).await.expect(200);
    let application = id(&applications["data"][0]);
    let before = api.snapshot().await;
    api.post(&format!("/v1/applications/{application}/reverse"), json!({}))
        .await
        .expect_problem(422, "negative_payment_unapplied");
    api.post(&format!("/v1/applications/{application}/reverse"), json!({"amount": "-10.00"}))
        .await
        .expect_problem(422, "negative_payment_unapplied");
    assert_eq!(api.snapshot().await, before);

    let voided = api.post(&format!("/v1/payments/{}/void", id(&paid)), json!({})).await.expect(200);
    assert_eq!((&voided["status"], &voided["unapplied"]), (&json!("voided"), &json!("0.00")));
    let adjustment_now = api.get(&format!("/v1/invoices/{}", id(&adjustment))).await.expect(200);
    assert_eq!(adjustment_now["balance"], "-40.00");
    let reversed = api.get(&format!("/v1/applications/{application}")).await.expect(200);
    assert_eq!(reversed["status"], "reversed");
    assert_eq!(api.balances(&customer).await["balance"], "-160.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn voiding_the_negative_invoice_with_reverse_applications_voids_its_negative_payment() {
    let api = TestApi::new();
    let (customer, _, adjustment) = negative_invoice(&api).await;
    let paid = pay_in_full(&api, &customer, &adjustment).await;
    api.post(
        &format!("/v1/invoices/{}/void", id(&adjustment)),
        json!({"reverse_applications": true}),
    )
    .await
    .expect(200);
    let payment = api.get(&format!("/v1/payments/{}", id(&paid))).await.expect(200);
    assert_eq!((&payment["status"], &payment["unapplied"]), (&json!("voided"), &json!("0.00")));
    // What is left: the original 200.00, owed.
    assert_eq!(api.balances(&customer).await["balance"], "-200.00");
    api.assert_verified().await;
}
