//! Seed 002, "Understanding balances": charges and credits move a customer's balance (negative
//! means the customer owes), history is newest first, and the customer list sorts by balance
//! and searches.

use serde_json::json;

use crate::harness::{TestApi, id};

#[tokio::test]
async fn charges_and_credits_move_the_balance_and_show_in_history_newest_first() {
    let api = TestApi::new();
    let ann = api.customer("Ann Smith").await;

    // Add Entry → Charge: the balance becomes more negative by the charge.
    let charge = api
        .post(
            &format!("/v1/customers/{ann}/entries"),
            json!({"kind": "charge", "amount": "150.00", "description": "Website maintenance"}),
        )
        .await
        .expect(201);
    assert_eq!(charge["entry"]["amount"], "-150.00");
    assert_eq!(charge["entry"]["balance_after"], "-150.00");
    assert_eq!(charge["document"]["object"], "invoice");
    assert_eq!(charge["document"]["status"], "posted");
    assert_eq!(charge["document"]["number"], "INV-000001");
    assert_eq!(api.balances(&ann).await["balance"], "-150.00");

    // Add Entry → Credit with a payment method: a payment.
    let paid = api
        .post(
            &format!("/v1/customers/{ann}/entries"),
            json!({"kind": "credit", "amount": "100.00", "description": "Payment received",
                   "payment_method": "card", "notes": "visa ending 4242"}),
        )
        .await
        .expect(201);
    assert_eq!(paid["entry"]["amount"], "100.00");
    assert_eq!(paid["entry"]["balance_after"], "-50.00");
    assert_eq!(paid["document"]["object"], "payment");
    assert_eq!(paid["document"]["reference"], "visa ending 4242");

    // Add Entry → Credit without a payment method: a posted credit memo.
    let discount = api
        .post(
            &format!("/v1/customers/{ann}/entries"),
            json!({"kind": "credit", "amount": 25, "description": "Goodwill discount"}),
        )
        .await
        .expect(201);
    assert_eq!(discount["entry"]["amount"], "25.00");
    assert_eq!(discount["entry"]["balance_after"], "-25.00");
    assert_eq!(discount["document"]["object"], "credit_memo");
    assert_eq!(discount["document"]["number"], "CM-000001");
    assert_eq!(discount["document"]["balance"], "25.00");

    assert_eq!(
        api.balances(&ann).await,
        json!({"balance": "-25.00", "receivable": "150.00", "unapplied_payments": "100.00",
               "credit_memo_balance": "25.00", "credit_balance": "0.00", "available_credit": "125.00"})
    );

    let history = api.get(&format!("/v1/customers/{ann}/history")).await.expect(200);
    let lines: Vec<_> = history["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|l| {
            (
                l["kind"].clone(),
                l["description"].clone(),
                l["amount"].clone(),
                l["balance_after"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (json!("credit_memo"), json!("Goodwill discount"), json!("25.00"), json!("-25.00")),
            (json!("payment"), json!("Payment received"), json!("100.00"), json!("-50.00")),
            (json!("invoice"), json!("Website maintenance"), json!("-150.00"), json!("-150.00")),
        ]
    );
    assert_eq!(history["data"][0]["document_id"], discount["document"]["id"]);
    assert_eq!(history["data"][1]["document_id"], paid["document"]["id"]);

    // Applying the payment moves no balance and adds no history line.
    let invoice_id = charge["document"]["id"].as_str().expect("id");
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&paid["document"])}, "target_id": invoice_id, "amount": "100.00"}),
    )
    .await
    .expect(201);
    assert_eq!(api.balances(&ann).await["balance"], "-25.00");
    assert_eq!(api.balances(&ann).await["receivable"], "50.00");
    let history = api.get(&format!("/v1/customers/{ann}/history")).await.expect(200);
    assert_eq!(history["data"].as_array().expect("data").len(), 3);

    api.assert_verified().await;
}

#[tokio::test]
async fn the_customer_list_sorts_by_balance_searches_and_pages() {
    let api = TestApi::new();
    let ann = api.customer("Ann Smith").await;
    let bob = api.customer("Bob Jones").await;
    let carol = api.customer("Carol White").await;
    let entry = |customer: &str, kind: &str, amount: &str| {
        let path = format!("/v1/customers/{customer}/entries");
        let body = json!({"kind": kind, "amount": amount, "description": "entry"});
        let api = &api;
        async move { api.post(&path, body).await.expect(201) }
    };
    entry(&ann, "charge", "25.00").await;
    entry(&bob, "charge", "300.00").await;
    entry(&carol, "credit", "40.00").await;

    let names = |body: serde_json::Value| -> Vec<String> {
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|c| c["name"].as_str().expect("name").to_owned())
            .collect()
    };
    // Who owes the most comes first.
    let by_balance = api.get("/v1/customers?sort=balance").await.expect(200);
    assert_eq!(names(by_balance), ["Bob Jones", "Ann Smith", "Carol White"]);
    let by_balance_desc = api.get("/v1/customers?sort=-balance").await.expect(200);
    assert_eq!(names(by_balance_desc), ["Carol White", "Ann Smith", "Bob Jones"]);
    assert_eq!(
        names(api.get("/v1/customers?sort=name").await.expect(200)),
        ["Ann Smith", "Bob Jones", "Carol White"]
    );
    assert_eq!(
        names(api.get("/v1/customers?sort=-name").await.expect(200)),
        ["Carol White", "Bob Jones", "Ann Smith"]
    );
    assert_eq!(
        names(api.get("/v1/customers?sort=created").await.expect(200)),
        ["Ann Smith", "Bob Jones", "Carol White"]
    );
    assert_eq!(
        names(api.get("/v1/customers").await.expect(200)),
        ["Carol White", "Bob Jones", "Ann Smith"]
    );

    // Search matches name or email, case-insensitively.
    assert_eq!(names(api.get("/v1/customers?search=ANN").await.expect(200)), ["Ann Smith"]);
    assert_eq!(
        names(api.get("/v1/customers?search=jones%40example").await.expect(200)),
        ["Bob Jones"]
    );
    assert_eq!(names(api.get("/v1/customers?search=%25").await.expect(200)), Vec::<String>::new());

    // Cursor pagination walks the sorted list one by one.
    let mut seen = Vec::new();
    let mut path = "/v1/customers?sort=balance&limit=1".to_owned();
    loop {
        let page = api.get(&path).await.expect(200);
        seen.extend(names(page.clone()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/customers?sort=balance&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["Bob Jones", "Ann Smith", "Carol White"]);

    let bob_page = api.get(&format!("/v1/customers/{bob}")).await.expect(200);
    assert_eq!(bob_page["balance"], "-300.00");
    assert_eq!(api.get(&format!("/v1/customers/{carol}")).await.expect(200)["balance"], "40.00");

    // A number finds its customers from the number index; the same LIKE decides.
    api.customer("Delta Freight 0042117").await;
    api.customer("Delta Freight 0042118").await;
    let search = |text: &str| format!("/v1/customers?search={text}");
    let found = names(api.get(&search("0042117")).await.expect(200));
    assert_eq!(found, ["Delta Freight 0042117"]);
    let found = names(api.get(&search("freight%20004211&sort=name")).await.expect(200));
    assert_eq!(found, ["Delta Freight 0042117", "Delta Freight 0042118"]);
    assert_eq!(names(api.get(&search("00421170")).await.expect(200)), Vec::<String>::new());
    api.assert_verified().await;
}
