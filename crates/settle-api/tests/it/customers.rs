//! Customers through HTTP: create, patch, get, validation.

use serde_json::json;

use crate::harness::TestApi;

#[tokio::test]
async fn customers_are_created_changed_and_read_with_every_balance_field() {
    let api = TestApi::new();
    let created = api
        .post(
            "/v1/customers",
            json!({"name": "Yen KK", "email": "ap@yen.jp", "currency": "JPY", "payment_terms_days": 14,
                   "metadata": {"region": "apac"}}),
        )
        .await
        .expect(201);
    assert_eq!(created["currency"], "JPY");
    assert_eq!(created["balance"], "0");
    assert_eq!(created["payment_terms_days"], 14);
    assert_eq!(created["metadata"], json!({"region": "apac"}));
    let id = created["id"].as_str().expect("id");
    assert!(id.starts_with("cus_"));

    let patched = api
        .patch(
            &format!("/v1/customers/{id}"),
            json!({"name": "Yen Kabushiki", "email": null, "payment_terms_days": 0}),
        )
        .await
        .expect(200);
    assert_eq!(patched["name"], "Yen Kabushiki");
    assert!(patched["email"].is_null());
    assert_eq!(patched["payment_terms_days"], 0);

    api.post(
        &format!("/v1/customers/{id}/entries"),
        json!({"kind": "charge", "amount": "1500", "description": "Setup"}),
    )
    .await
    .expect(201);
    api.post(
        &format!("/v1/customers/{id}/entries"),
        json!({"kind": "charge", "amount": "1.5", "description": "Bad"}),
    )
    .await
    .expect_problem(422, "validation_error");
    let got = api.get(&format!("/v1/customers/{id}")).await.expect(200);
    assert_eq!(got["balance"], "-1500");
    assert_eq!(got["receivable"], "1500");
    api.assert_verified().await;
}

#[tokio::test]
async fn bad_customers_and_entries_are_refused() {
    let api = TestApi::new();
    api.post("/v1/customers", json!({"name": ""})).await.expect_problem(422, "validation_error");
    api.post("/v1/customers", json!({"name": "A", "currency": "XXX"}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/customers", json!({"name": "A", "email": "nope"}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/customers", json!({"name": "A", "balance": "100.00"}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/customers", json!({"name": "A", "id": "cus_mine"}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/customers", json!({"name": "x".repeat(1025)}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/customers", json!({"name": "A", "metadata": [1]}))
        .await
        .expect_problem(422, "validation_error");
    api.get("/v1/customers?sort=owed").await.expect_problem(422, "validation_error");
    api.get("/v1/customers?limit=0").await.expect_problem(422, "validation_error");
    api.get("/v1/customers?limit=501").await.expect_problem(422, "validation_error");
    api.get("/v1/customers?cursor=!!!").await.expect_problem(422, "validation_error");
    api.get("/v1/customers?sort=balance&cursor=bm90LWEtY3Vyc29y")
        .await
        .expect_problem(422, "validation_error");
    api.get("/v1/customers/cus_missing").await.expect_problem(404, "not_found");
    api.get("/v1/customers/not-an-id").await.expect_problem(404, "not_found");
    let customer = api.customer("Entry Rules").await;
    let entry = |body: serde_json::Value| {
        let api = &api;
        let path = format!("/v1/customers/{customer}/entries");
        async move { api.post(&path, body).await }
    };
    entry(json!({"kind": "gift", "amount": "1", "description": "x"}))
        .await
        .expect_problem(422, "validation_error");
    entry(json!({"kind": "charge", "amount": "-1", "description": "x"}))
        .await
        .expect_problem(422, "validation_error");
    entry(json!({"kind": "charge", "amount": "1", "description": ""}))
        .await
        .expect_problem(422, "validation_error");
    entry(
        json!({"kind": "credit", "amount": "1", "description": "x", "payment_method": "bitcoin"}),
    )
    .await
    .expect_problem(422, "validation_error");
    entry(json!({"kind": "charge", "amount": "1", "description": "x", "payment_method": "cash"}))
        .await
        .expect_problem(422, "validation_error");
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    assert_eq!(
        api.get("/v1/customers").await.expect(200)["data"].as_array().expect("data").len(),
        1
    );
    api.assert_verified().await;
}
