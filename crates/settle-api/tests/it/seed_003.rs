//! Seed 003, item-level balances: under the proration rule a payment is spread over positive
//! items only, leaving +50.00/−50.00 and +3.13/−3.13 under an invoice whose balance is zero; an
//! item-level application with ± amounts (total zero) zeroes them. `net_first` never leaves
//! them in the first place.

use serde_json::json;

use crate::harness::{TestApi, id, item};

/// Items of the seed: a 100.00 charge and a −50.00 credit, each with 6.26% tax.
fn seed_items() -> serde_json::Value {
    json!([
        {"description": "Subscription", "amount": "100.00", "taxes": [{"name": "Sales tax", "rate": "6.26"}]},
        {"description": "Downgrade credit", "amount": "-50.00", "taxes": [{"name": "Sales tax", "rate": "6.26"}]},
    ])
}

#[tokio::test]
async fn proration_leaves_plus_and_minus_items_under_a_zero_invoice_and_item_amounts_zero_them() {
    let api = TestApi::new();
    let customer = api.customer("Zed Corp").await;
    let invoice = api.invoice(&customer, seed_items()).await;
    let invoice_id = id(&invoice);
    let path = format!("/v1/invoices/{invoice_id}");
    assert_eq!(invoice["total"], "53.13");
    assert_eq!(api.item_balances(&path).await, ["100.00", "6.26", "-50.00", "-3.13"]);
    assert_eq!(invoice["items"][1]["kind"], "tax");
    assert_eq!(invoice["items"][1]["parent_item_id"], invoice["items"][0]["id"]);

    // Collect and apply in one call, under the proration rule.
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "53.13", "method": "ach",
                   "applications": [{"target_id": invoice_id, "amount": "53.13", "rule": "proration"}]}),
        )
        .await
        .expect(201);
    assert_eq!(payment["applied"], "53.13");
    assert_eq!(payment["unapplied"], "0.00");
    let after = api.get(&path).await.expect(200);
    assert_eq!(after["balance"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["50.00", "3.13", "-50.00", "-3.13"]);

    // The invoice is "open" (items not at zero) though neither positive nor negative.
    let open =
        api.get(&format!("/v1/invoices?customer_id={customer}&balance=open")).await.expect(200);
    assert_eq!(open["data"].as_array().expect("data").len(), 1);
    let positive =
        api.get(&format!("/v1/invoices?customer_id={customer}&balance=positive")).await.expect(200);
    assert_eq!(positive["data"].as_array().expect("data").len(), 0);

    // The fix of the seed: an application with per-item amounts +50, +3.13, −50, −3.13 (total 0).
    let fix = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": invoice_id, "items": [
                {"item_id": item(&invoice, 0), "amount": "50.00"},
                {"item_id": item(&invoice, 1), "amount": 3.13},
                {"item_id": item(&invoice, 2), "amount": "-50.00"},
                {"item_id": item(&invoice, 3), "amount": "-3.13"},
            ]}),
        )
        .await
        .expect(201);
    assert_eq!(fix["amount"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00", "0.00", "0.00"]);
    let open =
        api.get(&format!("/v1/invoices?customer_id={customer}&balance=open")).await.expect(200);
    assert_eq!(open["data"].as_array().expect("data").len(), 0);
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    assert_eq!(
        api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200)["unapplied"],
        "0.00"
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn net_first_pays_the_same_invoice_to_zero_on_every_item_in_one_call() {
    let api = TestApi::new();
    let customer = api.customer("Zed Corp").await;
    let invoice = api.invoice(&customer, seed_items()).await;
    let path = format!("/v1/invoices/{}", id(&invoice));
    let payment = api.payment(&customer, "53.13").await;
    let application = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "53.13"}),
        )
        .await
        .expect(201);
    assert_eq!(application["rule"], "net_first");
    let amounts: Vec<_> = application["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["amount"].clone())
        .collect();
    assert_eq!(amounts, [json!("100.00"), json!("6.26"), json!("-50.00"), json!("-3.13")]);
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00", "0.00", "0.00"]);
    api.assert_verified().await;
}

#[tokio::test]
async fn sequential_fills_each_charge_then_its_tax_in_order() {
    let api = TestApi::new();
    let customer = api.customer("Seq Ltd").await;
    let invoice = api
        .invoice(
            &customer,
            json!([
                {"description": "A", "amount": "10.00", "taxes": [{"name": "VAT", "rate": "20"}]},
                {"description": "B", "quantity": "3", "unit_price": "19.999"},
            ]),
        )
        .await;
    let path = format!("/v1/invoices/{}", id(&invoice));
    assert_eq!(api.item_balances(&path).await, ["10.00", "2.00", "60.00"]);
    let payment = api.payment(&customer, "15.00").await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "15.00", "rule": "sequential"}),
    )
    .await
    .expect(201);
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00", "57.00"]);
    api.assert_verified().await;
}
