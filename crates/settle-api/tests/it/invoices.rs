//! Invoices through HTTP: drafts and posting, numbering, item pricing and tax, lists.

use serde_json::json;

use crate::harness::{TestApi, id};

#[tokio::test]
async fn a_draft_owes_nothing_until_it_is_posted_and_posts_once() {
    let api = TestApi::new();
    let customer = api.customer("Draft Co").await;
    let draft = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "invoice_date": "2026-02-10",
                   "items": [{"description": "Hours", "quantity": "2.5", "unit_price": "80", "taxes": [{"name": "VAT", "rate": 19}]},
                             {"description": "Fee", "amount": 5, "taxes": [{"name": "Eco", "amount": "0.25"}]}]}),
        )
        .await
        .expect(201);
    assert_eq!(draft["number"], "INV-000001");
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["due_date"], "2026-03-12");
    assert_eq!(draft["total"], "243.25");
    assert_eq!(draft["items"][0]["amount"], "200.00");
    assert_eq!(draft["items"][0]["quantity"], "2.5");
    assert_eq!(draft["items"][1]["amount"], "38.00");
    assert_eq!(draft["items"][3]["amount"], "0.25");
    assert_eq!(api.balances(&customer).await["receivable"], "0.00");

    let posted =
        api.post(&format!("/v1/invoices/{}/post", id(&draft)), json!({})).await.expect(200);
    assert_eq!(posted["status"], "posted");
    assert_eq!(posted["balance"], "243.25");
    assert_eq!(api.balances(&customer).await["balance"], "-243.25");
    api.post(&format!("/v1/invoices/{}/post", id(&draft)), json!({}))
        .await
        .expect_problem(409, "document_not_draft");

    let history = api.get(&format!("/v1/customers/{customer}/history")).await.expect(200);
    assert_eq!(history["data"][0]["effective_date"], "2026-02-10");
    assert_eq!(history["data"][0]["amount"], "-243.25");

    let second = api.invoice(&customer, json!([{"description": "X", "amount": "1.00"}])).await;
    assert_eq!(second["number"], "INV-000002");
    api.assert_verified().await;
}

#[tokio::test]
async fn invoice_lists_filter_by_customer_status_and_balance_and_page() {
    let api = TestApi::new();
    let a = api.customer("List A").await;
    let b = api.customer("List B").await;
    let positive = api.invoice(&a, json!([{"description": "P", "amount": "10.00"}])).await;
    let negative = api.invoice(&a, json!([{"description": "N", "amount": "-10.00"}])).await;
    api.post(
        "/v1/invoices",
        json!({"customer_id": a, "items": [{"description": "D", "amount": "1.00"}]}),
    )
    .await
    .expect(201);
    api.invoice(&b, json!([{"description": "B", "amount": "7.00"}])).await;

    let ids = |body: serde_json::Value| -> Vec<String> {
        body["data"].as_array().expect("data").iter().map(id).collect()
    };
    assert_eq!(ids(api.get(&format!("/v1/invoices?customer_id={a}")).await.expect(200)).len(), 3);
    assert_eq!(
        ids(api.get(&format!("/v1/invoices?customer_id={a}&status=draft")).await.expect(200)).len(),
        1
    );
    assert_eq!(
        ids(api.get(&format!("/v1/invoices?customer_id={a}&balance=negative")).await.expect(200)),
        [id(&negative)]
    );
    assert_eq!(
        ids(api.get(&format!("/v1/invoices?customer_id={a}&balance=positive")).await.expect(200)),
        [id(&positive)]
    );
    assert_eq!(ids(api.get("/v1/invoices?balance=open").await.expect(200)).len(), 3);
    api.get("/v1/invoices?balance=weird").await.expect_problem(422, "validation_error");
    api.get("/v1/invoices?status=paid").await.expect_problem(422, "validation_error");

    let first = api.get("/v1/invoices?limit=2").await.expect(200);
    assert_eq!(first["data"].as_array().expect("data").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let second = api.get(&format!("/v1/invoices?limit=2&cursor={cursor}")).await.expect(200);
    assert_eq!(second["data"].as_array().expect("data").len(), 2);
    assert!(second["next_cursor"].is_null());

    // An invoice id is not a debit memo id, and vice versa.
    api.get(&format!("/v1/debit-memos/{}", id(&positive))).await.expect_problem(404, "not_found");
    let memo = api
        .post("/v1/debit-memos", json!({"customer_id": b, "post": true, "items": [{"description": "Late fee", "amount": "15.00"}]}))
        .await
        .expect(201);
    assert_eq!(memo["number"], "DM-000001");
    assert!(id(&memo).starts_with("dm_"));
    assert_eq!(api.balances(&b).await["receivable"], "22.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn bad_invoices_are_refused_with_the_field_named() {
    let api = TestApi::new();
    let customer = api.customer("Bad Inv").await;
    let post = |items: serde_json::Value| {
        let api = &api;
        let body = json!({"customer_id": customer, "items": items});
        async move { api.post("/v1/invoices", body).await }
    };
    let problem = post(json!([{"description": "x", "amount": "1.005"}]))
        .await
        .expect_problem(422, "validation_error");
    assert_eq!(problem["errors"][0]["field"], "items[0].amount");
    post(json!([])).await.expect_problem(422, "validation_error");
    post(json!([{"description": "x"}])).await.expect_problem(422, "validation_error");
    post(json!([{"description": "x", "amount": "1", "quantity": 1, "unit_price": 1}]))
        .await
        .expect_problem(422, "validation_error");
    post(json!([{"description": "", "amount": "1"}])).await.expect_problem(422, "validation_error");
    post(json!([{"description": "x", "amount": "99999999999999999999"}]))
        .await
        .expect_problem(422, "amount_out_of_range");
    post(json!([{"description": "x", "amount": "92233720368547758.07"}, {"description": "y", "amount": "1"}]))
        .await
        .expect_problem(422, "amount_out_of_range");
    post(json!([{"description": "x", "amount": "1", "taxes": [{"name": "T", "rate": "250"}]}]))
        .await
        .expect_problem(422, "validation_error");
    let many: Vec<_> = (0..1001).map(|_| json!({"description": "x", "amount": "1"})).collect();
    post(json!(many)).await.expect_problem(422, "validation_error");
    api.post(
        "/v1/invoices",
        json!({"customer_id": "cus_unknown", "items": [{"description": "x", "amount": "1"}]}),
    )
    .await
    .expect_problem(404, "not_found");
    api.post(
        "/v1/invoices",
        json!({"customer_id": customer, "due_date": "2026-01-01", "invoice_date": "2026-02-01",
        "items": [{"description": "x", "amount": "1"}]}),
    )
    .await
    .expect_problem(422, "validation_error");
    assert_eq!(
        api.get("/v1/invoices").await.expect(200)["data"].as_array().expect("data").len(),
        0
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn quantities_and_unit_prices_come_back_exactly_as_sent_and_the_amount_is_rounded() {
    let api = TestApi::new();
    let customer = api.customer("Exact Decimals").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Widgets", "quantity": "3", "unit_price": "0.335"},
                   {"description": "Support", "quantity": "1.50", "unit_price": "180.00",
                    "taxes": [{"name": "VAT", "rate": "19.0"}]},
                   {"description": "Numbers", "quantity": 2, "unit_price": 12.5}]),
        )
        .await;
    let items = &invoice["items"];
    // 3 × 0.335 = 1.005, rounded half away from zero to 1.01; the inputs are kept as sent.
    assert_eq!(
        (&items[0]["quantity"], &items[0]["unit_price"], &items[0]["amount"]),
        (&json!("3"), &json!("0.335"), &json!("1.01"))
    );
    assert_eq!(
        (&items[1]["quantity"], &items[1]["unit_price"], &items[1]["amount"]),
        (&json!("1.50"), &json!("180.00"), &json!("270.00"))
    );
    assert_eq!(items[2]["amount"], "51.30");
    assert_eq!((&items[3]["quantity"], &items[3]["unit_price"]), (&json!("2"), &json!("12.5")));
    let read = api.get(&format!("/v1/invoices/{}", id(&invoice))).await.expect(200);
    assert_eq!(read["items"], invoice["items"]);

    // Decimal text is read as strictly as money.
    let before = api.snapshot().await;
    for (item, field) in [
        (json!({"description": "A", "quantity": "1_000", "unit_price": "1"}), "items[0].quantity"),
        (json!({"description": "A", "quantity": "1", "unit_price": "1e3"}), "items[0].unit_price"),
        (json!({"description": "A", "quantity": ".5", "unit_price": "1"}), "items[0].quantity"),
        (
            json!({"description": "A", "amount": "1.00", "taxes": [{"name": "T", "rate": "1_0"}]}),
            "items[0].taxes[0].rate",
        ),
    ] {
        let problem = api
            .post("/v1/invoices", json!({"customer_id": customer, "items": [item]}))
            .await
            .expect_problem(422, "validation_error");
        assert_eq!(problem["errors"][0]["field"], field, "{problem:#}");
    }
    assert_eq!(api.snapshot().await, before);
}

#[tokio::test]
async fn every_member_of_an_invoice_group_shows_the_groups_balance_and_its_members() {
    let api = TestApi::new();
    let customer = api.customer("Group Reader").await;
    let original =
        api.invoice(&customer, json!([{"description": "Install", "amount": "500.00"}])).await;
    let adjust = |items: serde_json::Value| {
        json!({"customer_id": customer, "adjusts_invoice_id": id(&original), "post": true,
               "items": items})
    };
    let discount = api
        .post("/v1/invoices", adjust(json!([{"description": "Discount", "amount": "-75.00"}])))
        .await
        .expect(201);
    let extra = api
        .post("/v1/invoices", adjust(json!([{"description": "Extra", "amount": "20.00"}])))
        .await
        .expect(201);
    let members = json!([id(&original), id(&discount), id(&extra)]);
    for member in [&original, &discount, &extra] {
        let read = api.get(&format!("/v1/invoices/{}", id(member))).await.expect(200);
        assert_eq!(read["group_balance"], "445.00", "{}", id(member));
        assert_eq!(read["group"], members, "{}", id(member));
    }
    let listed = api.get(&format!("/v1/invoices?customer_id={customer}")).await.expect(200);
    for read in listed["data"].as_array().expect("data") {
        assert_eq!((&read["group_balance"], &read["group"]), (&json!("445.00"), &members));
    }
    // Paying the discount's −75.00 with a negative payment moves every member's view alike.
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "-75.00", "method": "other",
               "applications": [{"target_id": id(&discount)}]}),
    )
    .await
    .expect(201);
    for member in [&original, &discount, &extra] {
        let read = api.get(&format!("/v1/invoices/{}", id(member))).await.expect(200);
        assert_eq!(read["group_balance"], "520.00", "{}", id(member));
    }
    // A group is one original and its adjustments: an adjustment is not adjusted again.
    let problem = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "adjusts_invoice_id": id(&discount),
                   "items": [{"description": "Again", "amount": "1.00"}]}),
        )
        .await
        .expect_problem(422, "validation_error");
    assert_eq!(problem["errors"][0]["field"], "adjusts_invoice_id");
    // An invoice outside any group is a group of one.
    let alone = api.invoice(&customer, json!([{"description": "Alone", "amount": "9.00"}])).await;
    assert_eq!((&alone["group_balance"], &alone["group"]), (&json!("9.00"), &json!([id(&alone)])));
    api.assert_verified().await;
}
