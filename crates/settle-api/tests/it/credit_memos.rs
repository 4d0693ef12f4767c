//! Credit memos through HTTP: seed 003 fixed with a zero-total credit memo applied item by item
//! (and in one call with net-items), memos from an invoice, the `over_credit` cap shared with
//! credit adjustments, cancel, refunds, and the history lines they make.

use serde_json::{Value, json};

use crate::harness::{TestApi, history, id, item, line};

/// Seed 003's invoice: a 100.00 charge and a −50.00 credit, each with 6.26% tax.
fn seed_items() -> Value {
    json!([
        {"description": "Subscription", "amount": "100.00", "taxes": [{"name": "Sales tax", "rate": "6.26"}]},
        {"description": "Downgrade credit", "amount": "-50.00", "taxes": [{"name": "Sales tax", "rate": "6.26"}]},
    ])
}

/// Seed 003's situation: the invoice paid under the proration rule, balance 0.00 with items
/// at +50.00, +3.13, −50.00, −3.13. Returns the invoice and the payment.
async fn seed_003(api: &TestApi, customer: &str) -> (Value, Value) {
    let invoice = api.invoice(customer, seed_items()).await;
    let payment = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "53.13", "method": "ach",
                   "applications": [{"target_id": id(&invoice), "amount": "53.13", "rule": "proration"}]}),
        )
        .await
        .expect(201);
    let path = format!("/v1/invoices/{}", id(&invoice));
    assert_eq!(api.get(&path).await.expect(200)["balance"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["50.00", "3.13", "-50.00", "-3.13"]);
    (invoice, payment)
}

/// The journal, customers, documents, payments, applications and credit memos.
async fn everything(api: &TestApi) -> Value {
    let memos = api.get("/v1/credit-memos?limit=500").await.expect(200);
    json!([api.snapshot().await, memos])
}

#[tokio::test]
async fn a_zero_total_credit_memo_applied_item_by_item_zeroes_seed_003s_items() {
    let api = TestApi::new();
    let customer = api.customer("Zed Corp").await;
    let (invoice, payment) = seed_003(&api, &customer).await;
    let invoice_id = id(&invoice);
    let path = format!("/v1/invoices/{invoice_id}");

    // The memo of the seed: +50.00, −50.00, +3.13, −3.13, each naming its invoice item.
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true, "items": [
                {"amount": "50.00", "invoice_item_id": item(&invoice, 0)},
                {"amount": "-50.00", "invoice_item_id": item(&invoice, 2)},
                {"amount": "3.13", "invoice_item_id": item(&invoice, 1)},
                {"amount": "-3.13", "invoice_item_id": item(&invoice, 3)},
            ]}),
        )
        .await
        .expect(201);
    assert_eq!(memo["object"], "credit_memo");
    assert!(memo["id"].as_str().expect("id").starts_with("cm_"), "{memo:#}");
    assert_eq!(memo["number"], "CM-000001");
    assert_eq!(memo["status"], "posted");
    assert_eq!(memo["reason"], "credit");
    assert_eq!(memo["total"], "0.00");
    assert_eq!(memo["balance"], "0.00");
    let memo_items = memo["items"].as_array().expect("items");
    let amounts: Vec<_> = memo_items.iter().map(|i| i["amount"].clone()).collect();
    assert_eq!(amounts, [json!("50.00"), json!("-50.00"), json!("3.13"), json!("-3.13")]);
    assert_eq!(memo_items[0]["invoice_item_id"], item(&invoice, 0));
    assert_eq!(memo_items[3]["invoice_item_id"], item(&invoice, 3));
    // Without a description the memo item takes the invoice item's.
    assert_eq!(memo_items[0]["description"], "Subscription");
    assert_eq!(memo_items[1]["description"], "Downgrade credit");
    // A zero-total memo changes no balance.
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );

    // Taking +50.00 out of the memo's −50.00 item is refused, and nothing is written.
    let before = everything(&api).await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&memo)}, "target_id": invoice_id, "items": [
            {"item_id": item(&invoice, 0), "amount": "50.00", "credit_memo_item_id": memo_items[1]["id"]},
            {"item_id": item(&invoice, 2), "amount": "-50.00", "credit_memo_item_id": memo_items[0]["id"]},
        ]}),
    )
    .await
    .expect_problem(422, "insufficient_unapplied");
    assert_eq!(everything(&api).await, before);

    let application = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "credit_memo", "id": id(&memo)}, "target_id": invoice_id, "items": [
                {"item_id": item(&invoice, 0), "amount": "50.00", "credit_memo_item_id": memo_items[0]["id"]},
                {"item_id": item(&invoice, 2), "amount": "-50.00", "credit_memo_item_id": memo_items[1]["id"]},
                {"item_id": item(&invoice, 1), "amount": "3.13", "credit_memo_item_id": memo_items[2]["id"]},
                {"item_id": item(&invoice, 3), "amount": "-3.13", "credit_memo_item_id": memo_items[3]["id"]},
            ]}),
        )
        .await
        .expect(201);
    assert_eq!(application["source"], json!({"type": "credit_memo", "id": id(&memo)}));
    assert_eq!(application["amount"], "0.00");
    assert_eq!(application["items"][0]["credit_memo_item_id"], memo_items[0]["id"]);
    assert_eq!(application["items"][3]["credit_memo_item_id"], memo_items[3]["id"]);

    assert_eq!(api.get(&path).await.expect(200)["balance"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00", "0.00", "0.00"]);
    let memo_path = format!("/v1/credit-memos/{}", id(&memo));
    assert_eq!(api.get(&memo_path).await.expect(200)["balance"], "0.00");
    assert_eq!(api.item_balances(&memo_path).await, ["0.00", "0.00", "0.00", "0.00"]);
    let open =
        api.get(&format!("/v1/invoices?customer_id={customer}&balance=open")).await.expect(200);
    assert_eq!(open["data"].as_array().expect("data").len(), 0);
    assert_eq!(
        api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200)["unapplied"],
        "0.00"
    );
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    // Neither the zero memo nor its application is a history line.
    assert_eq!(
        history(&api, &customer).await,
        [line("payment", "53.13"), line("invoice", "-53.13")]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn net_items_zeroes_seed_003s_items_in_one_call_and_refuses_a_second_time() {
    let api = TestApi::new();
    let customer = api.customer("Zed Corp").await;
    let (invoice, _) = seed_003(&api, &customer).await;
    let path = format!("/v1/invoices/{}", id(&invoice));

    let netted = api.post(&format!("{path}/net-items"), json!({})).await.expect(200);
    assert_eq!(netted["balance"], "0.00");
    let balances: Vec<_> =
        netted["items"].as_array().expect("items").iter().map(|i| i["balance"].clone()).collect();
    assert_eq!(balances, [json!("0.00"), json!("0.00"), json!("0.00"), json!("0.00")]);
    assert_eq!(api.balances(&customer).await["balance"], "0.00");
    let journal = api.get(&format!("/v1/journal?customer_id={customer}")).await.expect(200);
    assert!(
        journal["data"].as_array().expect("data").iter().any(|t| t["kind"] == "items_netted"),
        "{journal:#}"
    );
    assert_eq!(
        history(&api, &customer).await,
        [line("payment", "53.13"), line("invoice", "-53.13")]
    );

    let before = everything(&api).await;
    api.post(&format!("{path}/net-items"), json!({})).await.expect_problem(422, "validation_error");
    assert_eq!(everything(&api).await, before);
    api.assert_verified().await;
}

#[tokio::test]
async fn net_items_keeps_the_invoice_balance_when_only_part_can_be_offset() {
    let api = TestApi::new();
    let customer = api.customer("Part Net").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "A", "amount": "30.00"}, {"description": "B", "amount": "45.00"},
                   {"description": "Credit", "amount": "-50.00"}]),
        )
        .await;
    let path = format!("/v1/invoices/{}", id(&invoice));
    let netted = api.post(&format!("{path}/net-items"), json!({})).await.expect(200);
    assert_eq!(netted["balance"], "25.00");
    // Positive items are lowered in order: 30.00 then 20.00 of 45.00.
    assert_eq!(api.item_balances(&path).await, ["0.00", "25.00", "0.00"]);
    assert_eq!(api.balances(&customer).await["balance"], "-25.00");

    let draft = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [{"description": "A", "amount": "5.00"},
                                                       {"description": "B", "amount": "-5.00"}]}),
        )
        .await
        .expect(201);
    api.post(&format!("/v1/invoices/{}/net-items", id(&draft)), json!({}))
        .await
        .expect_problem(422, "document_not_posted");
    api.assert_verified().await;
}

#[tokio::test]
async fn a_credit_memo_from_an_invoice_credits_everything_still_creditable_on_it() {
    let api = TestApi::new();
    let customer = api.customer("From Inv").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Consulting", "amount": "200.00", "taxes": [{"name": "VAT", "rate": "10"}]},
                   {"description": "Loyalty discount", "amount": "-50.00"}]),
        )
        .await;
    assert_eq!(invoice["total"], "170.00");

    // A draft first: it reserves nothing and changes no balance.
    let draft = api
        .post("/v1/credit-memos", json!({"customer_id": customer, "from_invoice_id": id(&invoice)}))
        .await
        .expect(201);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["total"], "170.00");
    let items = draft["items"].as_array().expect("items");
    let amounts: Vec<_> = items.iter().map(|i| i["amount"].clone()).collect();
    assert_eq!(amounts, [json!("200.00"), json!("20.00"), json!("-50.00")]);
    let named: Vec<_> = items.iter().map(|i| i["invoice_item_id"].clone()).collect();
    assert_eq!(
        named,
        [json!(item(&invoice, 0)), json!(item(&invoice, 1)), json!(item(&invoice, 2))]
    );
    assert_eq!(api.balances(&customer).await["credit_memo_balance"], "0.00");

    let posted =
        api.post(&format!("/v1/credit-memos/{}/post", id(&draft)), json!({})).await.expect(200);
    assert_eq!(posted["status"], "posted");
    assert_eq!(posted["balance"], "170.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "170.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "170.00", "credit_balance": "0.00", "available_credit": "170.00"})
    );

    // Nothing is creditable any more.
    let before = everything(&api).await;
    api.post(
        "/v1/credit-memos",
        json!({"customer_id": customer, "from_invoice_id": id(&invoice), "post": true}),
    )
    .await
    .expect_problem(422, "over_credit");
    api.post(
        "/v1/credit-memos",
        json!({"customer_id": customer, "post": true,
               "items": [{"amount": "0.01", "invoice_item_id": item(&invoice, 1)}]}),
    )
    .await
    .expect_problem(422, "over_credit");
    assert_eq!(everything(&api).await, before);

    // Applied to the invoice, it settles it item by item.
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&draft)}, "target_id": id(&invoice), "amount": "170.00"}),
    )
    .await
    .expect(201);
    let path = format!("/v1/invoices/{}", id(&invoice));
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00", "0.00"]);
    assert_eq!(
        api.get(&format!("/v1/credit-memos/{}", id(&draft))).await.expect(200)["balance"],
        "0.00"
    );
    let listed = api.get(&format!("/v1/credit-memos?customer_id={customer}")).await.expect(200);
    assert_eq!(listed["data"].as_array().expect("data").len(), 1);
    assert_eq!(listed["data"][0]["id"], id(&draft));
    assert_eq!(
        history(&api, &customer).await,
        [line("credit_memo", "170.00"), line("invoice", "-170.00")]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn over_credit_counts_earlier_credit_memos_and_credit_adjustments_on_the_item() {
    let api = TestApi::new();
    let customer = api.customer("Cap Co").await;
    let invoice = api
        .invoice(
            &customer,
            json!([{"description": "Annual license", "amount": "100.00"},
                   {"description": "Setup", "amount": "40.00"}]),
        )
        .await;
    let invoice_id = id(&invoice);
    let license = item(&invoice, 0);
    let memo = |amount: &str| {
        json!({"customer_id": customer, "post": true,
               "items": [{"description": "License credit", "amount": amount, "invoice_item_id": license}]})
    };

    let first = api.post("/v1/credit-memos", memo("60.00")).await.expect(201);
    let adjustment = api
        .post(
            &format!("/v1/invoices/{invoice_id}/adjustments"),
            json!({"item_id": license, "type": "credit", "amount": "30.00", "reason": "Late delivery"}),
        )
        .await
        .expect(201);
    assert_eq!(adjustment["type"], "credit");
    // The memo does not touch the item's balance; the adjustment does.
    let path = format!("/v1/invoices/{invoice_id}");
    assert_eq!(api.item_balances(&path).await, ["70.00", "40.00"]);

    // 60.00 + 30.00 of 100.00 is credited: 10.00 is left.
    let before = everything(&api).await;
    let problem =
        api.post("/v1/credit-memos", memo("10.01")).await.expect_problem(422, "over_credit");
    assert!(problem["detail"].as_str().expect("detail").contains("10.00"), "{problem:#}");
    api.post(
        &format!("/v1/invoices/{invoice_id}/adjustments"),
        json!({"item_id": license, "type": "credit", "amount": "10.01", "reason": "More"}),
    )
    .await
    .expect_problem(422, "over_credit");
    // The sign of the invoice item is required.
    api.post("/v1/credit-memos", memo("-5.00")).await.expect_problem(422, "validation_error");
    assert_eq!(everything(&api).await, before);

    api.post("/v1/credit-memos", memo("10.00")).await.expect(201);
    let before = everything(&api).await;
    api.post(
        &format!("/v1/invoices/{invoice_id}/adjustments"),
        json!({"item_id": license, "type": "credit", "amount": "0.01", "reason": "Last cent"}),
    )
    .await
    .expect_problem(422, "over_credit");
    assert_eq!(everything(&api).await, before);

    // Canceling the first memo gives its 60.00 back to the item.
    let canceled =
        api.post(&format!("/v1/credit-memos/{}/cancel", id(&first)), json!({})).await.expect(200);
    assert_eq!(canceled["status"], "canceled");
    api.post("/v1/credit-memos", memo("60.00")).await.expect(201);

    // Drafts reserve nothing: the cap is checked when a draft is posted.
    let setup = item(&invoice, 1);
    let draft = |amount: &str| json!({"customer_id": customer, "items": [{"amount": amount, "invoice_item_id": setup}]});
    let one = api.post("/v1/credit-memos", draft("40.00")).await.expect(201);
    let two = api.post("/v1/credit-memos", draft("40.00")).await.expect(201);
    api.post(&format!("/v1/credit-memos/{}/post", id(&one)), json!({})).await.expect(200);
    let before = everything(&api).await;
    api.post(&format!("/v1/credit-memos/{}/post", id(&two)), json!({}))
        .await
        .expect_problem(422, "over_credit");
    assert_eq!(everything(&api).await, before);
    assert_eq!(
        api.get(&format!("/v1/credit-memos/{}", id(&two))).await.expect(200)["status"],
        "draft"
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn a_credit_memo_is_canceled_as_a_draft_or_untouched_but_not_once_applied() {
    let api = TestApi::new();
    let customer = api.customer("Cancel Co").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Service", "amount": "90.00"}])).await;
    let memo = |post: bool| {
        json!({"customer_id": customer, "post": post, "reason": "goodwill",
               "items": [{"description": "Goodwill", "amount": "25.00"}]})
    };

    // A draft: canceled, nothing in the journal.
    let draft = api.post("/v1/credit-memos", memo(false)).await.expect(201);
    let before = api.journal().await;
    let canceled =
        api.post(&format!("/v1/credit-memos/{}/cancel", id(&draft)), json!({})).await.expect(200);
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(api.journal().await, before);
    api.post(&format!("/v1/credit-memos/{}/cancel", id(&draft)), json!({}))
        .await
        .expect_problem(422, "document_voided");

    // Posted and untouched: canceled, its value reversed.
    let posted = api.post("/v1/credit-memos", memo(true)).await.expect(201);
    assert_eq!(posted["reason"], "goodwill");
    assert_eq!(api.balances(&customer).await["credit_memo_balance"], "25.00");
    assert_eq!(api.balances(&customer).await["balance"], "-65.00");
    let canceled =
        api.post(&format!("/v1/credit-memos/{}/cancel", id(&posted)), json!({})).await.expect(200);
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(api.balances(&customer).await["credit_memo_balance"], "0.00");
    assert_eq!(api.balances(&customer).await["balance"], "-90.00");
    // A canceled memo can neither be applied nor refunded.
    let before = everything(&api).await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&posted)}, "target_id": id(&invoice), "amount": "1.00"}),
    )
    .await
    .expect_problem(422, "document_voided");
    api.post(&format!("/v1/credit-memos/{}/refunds", id(&posted)), json!({"amount": "1.00"}))
        .await
        .expect_problem(422, "document_voided");
    assert_eq!(everything(&api).await, before);

    // Applied (even in part): refused, nothing written.
    let applied = api.post("/v1/credit-memos", memo(true)).await.expect(201);
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&applied)}, "target_id": id(&invoice), "amount": "10.00"}),
    )
    .await
    .expect(201);
    let before = everything(&api).await;
    api.post(&format!("/v1/credit-memos/{}/cancel", id(&applied)), json!({}))
        .await
        .expect_problem(422, "has_applications");
    assert_eq!(everything(&api).await, before);

    assert_eq!(
        history(&api, &customer).await,
        [
            line("credit_memo", "25.00"),
            line("credit_memo_canceled", "-25.00"),
            line("credit_memo", "25.00"),
            line("invoice", "-90.00"),
        ]
    );
    assert_eq!(api.balances(&customer).await["balance"], "-65.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn a_credit_memo_balance_is_refunded_and_never_more_than_it_holds() {
    let api = TestApi::new();
    let customer = api.customer("Refund Memo").await;
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true,
                   "items": [{"description": "Returned goods", "amount": "30.00"},
                             {"description": "Shipping back", "amount": "10.00"}]}),
        )
        .await
        .expect(201);
    let memo_path = format!("/v1/credit-memos/{}", id(&memo));
    let refund = api
        .post(
            &format!("{memo_path}/refunds"),
            json!({"amount": "35.00", "method": "check", "reference": "CHK-1001"}),
        )
        .await
        .expect(201);
    assert_eq!(refund["object"], "refund");
    assert_eq!(refund["source"], json!({"type": "credit_memo", "id": id(&memo)}));
    assert_eq!(refund["amount"], "35.00");
    assert_eq!(refund["method"], "check");
    // Drawn item by item in order.
    assert_eq!(api.item_balances(&memo_path).await, ["0.00", "5.00"]);
    assert_eq!(api.get(&memo_path).await.expect(200)["balance"], "5.00");
    assert_eq!(api.balances(&customer).await["credit_memo_balance"], "5.00");

    let before = everything(&api).await;
    api.post(&format!("{memo_path}/refunds"), json!({"amount": "5.01"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    api.post(&format!("{memo_path}/refunds"), json!({"amount": "0"}))
        .await
        .expect_problem(422, "validation_error");
    api.post(&format!("{memo_path}/refunds"), json!({"amount": "1.00", "method": "bitcoin"}))
        .await
        .expect_problem(422, "validation_error");
    // Refunded in part, it is no longer untouched.
    api.post(&format!("{memo_path}/cancel"), json!({}))
        .await
        .expect_problem(422, "has_applications");
    assert_eq!(everything(&api).await, before);

    let draft = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "items": [{"description": "Later", "amount": "5.00"}]}),
        )
        .await
        .expect(201);
    let before = everything(&api).await;
    api.post(&format!("/v1/credit-memos/{}/refunds", id(&draft)), json!({"amount": "1.00"}))
        .await
        .expect_problem(422, "document_not_posted");
    assert_eq!(everything(&api).await, before);

    assert_eq!(
        history(&api, &customer).await,
        [line("refund", "-35.00"), line("credit_memo", "40.00")]
    );
    assert_eq!(api.balances(&customer).await["balance"], "5.00");
    api.assert_verified().await;
}

/// A posted memo of +30.00 and −10.00: balance 20.00.
async fn memo_with_a_negative_item(api: &TestApi, customer: &str) -> Value {
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true,
                   "items": [{"description": "Returned unit", "amount": "30.00"},
                             {"description": "Restocking fee", "amount": "-10.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(memo["total"], "20.00");
    assert_eq!(memo["balance"], "20.00");
    memo
}

#[tokio::test]
async fn a_memo_with_a_negative_item_refunds_no_more_than_its_balance() {
    let api = TestApi::new();
    let customer = api.customer("Restock Co").await;
    let memo = memo_with_a_negative_item(&api, &customer).await;
    let path = format!("/v1/credit-memos/{}", id(&memo));

    let before = everything(&api).await;
    let problem = api
        .post(&format!("{path}/refunds"), json!({"amount": "20.01"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    assert!(problem["detail"].as_str().expect("detail").contains("20.00"), "{problem:#}");
    api.post(&format!("{path}/refunds"), json!({"amount": "30.00"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    assert_eq!(everything(&api).await, before);

    api.post(&format!("{path}/refunds"), json!({"amount": "20.00"})).await.expect(201);
    assert_eq!(api.get(&path).await.expect(200)["balance"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["10.00", "-10.00"]);
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    api.post(&format!("{path}/refunds"), json!({"amount": "0.01"}))
        .await
        .expect_problem(422, "insufficient_unapplied");
    api.assert_verified().await;
}

#[tokio::test]
async fn a_memo_with_a_negative_item_applies_no_more_than_its_balance() {
    let api = TestApi::new();
    let customer = api.customer("Restock Co").await;
    let invoice = api.invoice(&customer, json!([{"description": "Unit", "amount": "50.00"}])).await;
    let memo = memo_with_a_negative_item(&api, &customer).await;
    let before = everything(&api).await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&memo)}, "target_id": id(&invoice), "amount": "30.00"}),
    )
    .await
    .expect_problem(422, "insufficient_unapplied");
    assert_eq!(everything(&api).await, before);
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_memo", "id": id(&memo)}, "target_id": id(&invoice), "amount": "20.00"}),
    )
    .await
    .expect(201);
    assert_eq!(api.balances(&customer).await["credit_memo_balance"], "0.00");
    api.assert_verified().await;
}
