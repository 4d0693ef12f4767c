//! Subscriptions end to end over HTTP: the catalog, a subscription billed by bill runs exactly
//! once, amendments with hand-computed proration, their preview, seed 001's negative invoice
//! made by a cancellation and resolved by the tenant's policy, and refusals with field paths.

use serde_json::{Value, json};

use crate::harness::{TestApi, id};

async fn price(api: &TestApi, name: &str, amount: &str, extra: Value) -> String {
    let product = api.post("/v1/products", json!({"name": name})).await.expect(201);
    assert!(id(&product).starts_with("prod_"));
    let mut body = json!({"product_id": id(&product), "currency": "USD", "unit_amount": amount,
                          "recurring": {"interval": "month"}});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let price = api.post("/v1/prices", body).await.expect(201);
    assert!(id(&price).starts_with("price_"));
    id(&price)
}

async fn subscribe(api: &TestApi, customer: &str, start: &str, items: Value) -> Value {
    api.post(
        "/v1/subscriptions",
        json!({"customer_id": customer, "start_date": start, "items": items}),
    )
    .await
    .expect(201)
}

fn amounts(invoice: &Value) -> Vec<&str> {
    invoice["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["amount"].as_str().expect("amount"))
        .collect()
}

#[tokio::test]
async fn a_subscription_is_billed_once_per_period_and_a_downgrade_prorates_by_day() {
    let api = TestApi::new();
    let customer = api.customer("Acme Streaming").await;
    let pro = price(&api, "Pro", "30.00", json!({})).await;
    let basic = price(&api, "Basic", "10.00", json!({})).await;
    let sub = subscribe(&api, &customer, "2026-01-01", json!([{"price_id": pro}])).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["items"][0]["quantity"], "1");
    let sub_id = id(&sub);
    let item = sub["items"][0]["id"].as_str().expect("an item id").to_owned();

    let run = api.post("/v1/bill-runs", json!({"as_of": "2026-01-01"})).await.expect(201);
    assert_eq!(
        (run["invoices_created"].clone(), run["total"].clone()),
        (json!(1), json!({"USD": "30.00"}))
    );
    let again = api.post("/v1/bill-runs", json!({"as_of": "2026-01-01"})).await.expect(201);
    assert_eq!((again["invoices_created"].clone(), again["total"].clone()), (json!(0), json!({})));
    let shown = api.get(&format!("/v1/bill-runs/{}", id(&run))).await.expect(200);
    assert_eq!(
        (shown["status"].clone(), shown["customers_done"].clone()),
        (json!("done"), json!(1))
    );

    let changes = json!([{"type": "change_price", "item_id": item, "price_id": basic}]);
    let query = format!(
        "/v1/subscriptions/{sub_id}/preview?effective_date=2026-01-16&changes={}",
        urlencode(&changes.to_string())
    );
    let preview = api.get(&query).await.expect(200);
    assert_eq!(amounts(&preview["invoice"]), ["-15.48", "5.16"]);
    assert_eq!(preview["preview"]["customer"]["after"], "-19.68");
    let body = json!({"effective_date": "2026-01-16", "timing": "immediate", "changes": changes});
    let dry = api
        .post(&format!("/v1/subscriptions/{sub_id}/amendments?dry_run=true"), body.clone())
        .await
        .expect(200);
    assert_eq!(dry["object"], "preview");
    assert_eq!(api.balances(&customer).await["receivable"], "30.00", "previews write nothing");

    let done = api.post(&format!("/v1/subscriptions/{sub_id}/amendments"), body).await.expect(201);
    let invoice = &done["invoice"];
    assert_eq!(amounts(invoice), ["-15.48", "5.16"]);
    assert_eq!(invoice["total"], "-10.32");
    assert_eq!(done["amendment"]["changes"], json!(["change_price"]));
    assert_eq!(done["subscription"]["items"][0]["price_id"], basic.as_str());
    let first = api.get(&format!("/v1/invoices?customer_id={customer}")).await.expect(200);
    let original = first["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|d| d["total"] == "30.00")
        .expect("Jan");
    assert_eq!(invoice["items"][0]["invoice_item_id"], original["items"][0]["id"]);

    let feb = api.post("/v1/bill-runs", json!({"as_of": "2026-02-01"})).await.expect(201);
    assert_eq!(feb["total"], json!({"USD": "10.00"}));
    assert_eq!(api.balances(&customer).await["receivable"], "29.68");
    api.assert_verified().await;
}

#[tokio::test]
async fn a_cancellation_makes_seed_001s_negative_invoice_and_the_policy_moves_it_to_credit() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"negative_invoice_policy": "transfer_to_credit"}))
        .await
        .expect(200);
    let customer = api.customer("Acme Streaming").await;
    let pro = price(&api, "Pro", "30.00", json!({"tax_rate": "8.25"})).await;
    let sub =
        subscribe(&api, &customer, "2026-01-01", json!([{"price_id": pro, "quantity": "2"}])).await;
    api.post("/v1/bill-runs", json!({"as_of": "2026-01-01", "customer_ids": [customer]}))
        .await
        .expect(201);
    let cancel = api
        .post(
            &format!("/v1/subscriptions/{}/cancel", id(&sub)),
            json!({"effective_date": "2026-01-16"}),
        )
        .await
        .expect(201);
    // 60.00 × 16/31 = 30.967… → −30.97; tax 4.95 × 16/31 = 2.554… → −2.55.
    assert_eq!(amounts(&cancel["invoice"]), ["-30.97", "-2.55"]);
    assert_eq!(cancel["invoice"]["balance"], "0.00");
    assert_eq!(cancel["subscription"]["status"], "canceled");
    let balances = api.balances(&customer).await;
    assert_eq!(
        (balances["credit_balance"].clone(), balances["receivable"].clone()),
        (json!("33.52"), json!("64.95"))
    );
    let later = api.post("/v1/bill-runs", json!({"as_of": "2026-06-01"})).await.expect(201);
    assert_eq!(later["invoices_created"], 0);
    let listed = api
        .get(&format!("/v1/subscriptions?customer_id={customer}&status=canceled"))
        .await
        .expect(200);
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));
    api.assert_verified().await;
}

#[tokio::test]
async fn refusals_name_their_field_and_write_nothing() {
    let api = TestApi::new();
    let customer = api.customer("Acme Streaming").await;
    let pro = price(&api, "Pro", "30.00", json!({})).await;
    let before = api.snapshot().await;
    let bad = api
        .post(
            "/v1/prices",
            json!({"product_id": "prod_nope", "currency": "USD", "unit_amount": "1.005"}),
        )
        .await;
    assert_eq!(bad.expect_problem(422, "validation_error")["errors"][0]["field"], "unit_amount");
    let bad = api
        .post(
            "/v1/subscriptions",
            json!({"customer_id": customer, "items": [{"price_id": pro, "quantity": "0"}]}),
        )
        .await;
    assert_eq!(
        bad.expect_problem(422, "validation_error")["errors"][0]["field"],
        "items[0].quantity"
    );
    api.post(&format!("/v1/prices/{pro}/archive"), json!({})).await.expect(200);
    let bad = api
        .post("/v1/subscriptions", json!({"customer_id": customer, "items": [{"price_id": pro}]}))
        .await;
    assert_eq!(
        bad.expect_problem(422, "validation_error")["errors"][0]["field"],
        "items[0].price_id"
    );
    let missing = api
        .post("/v1/subscriptions/sub_nope/amendments", json!({"changes": [{"type": "cancel"}]}))
        .await;
    missing.expect_problem(404, "not_found");
    api.post("/v1/bill-runs", json!({"as_of": "Jan 1"}))
        .await
        .expect_problem(422, "validation_error");
    let after = api.snapshot().await;
    assert_eq!(after, before);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
