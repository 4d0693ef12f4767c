//! Seed 001, Zuora's negative invoice: move its balance to the customer's credit balance and
//! then apply that credit to another invoice or refund it; or zero it with a charge-type invoice
//! item adjustment; or let the tenant's negative-invoice policy do the transfer at posting.

use serde_json::{Value, json};

use crate::harness::{TestApi, history, id, item, line};

/// A posted invoice for a mid-period cancellation: a −64.52 proration credit with 8.25% tax
/// (−5.32), total −69.84.
async fn cancellation_invoice(api: &TestApi, customer: &str) -> Value {
    let invoice = api
        .invoice(
            customer,
            json!([{"description": "Premium plan, unused Mar 11–31 (cancellation)", "amount": "-64.52",
                    "taxes": [{"name": "Sales tax", "rate": "8.25"}]}]),
        )
        .await;
    assert_eq!(invoice["total"], "-69.84");
    assert_eq!(invoice["balance"], "-69.84");
    assert_eq!(invoice["items"][1]["amount"], "-5.32");
    invoice
}

#[tokio::test]
async fn a_negative_invoice_moves_to_the_credit_balance_which_then_pays_another_invoice() {
    let api = TestApi::new();
    let customer = api.customer("Acme Streaming").await;
    let invoice = cancellation_invoice(&api, &customer).await;
    let path = format!("/v1/invoices/{}", id(&invoice));
    assert_eq!(api.balances(&customer).await["balance"], "69.84");

    // A part first: 20.00 of it.
    let part = api
        .post(&format!("{path}/transfer-to-credit"), json!({"amount": "20.00"}))
        .await
        .expect(200);
    assert_eq!(part["invoice"]["balance"], "-49.84");
    assert_eq!(part["customer"]["credit_balance"], "20.00");
    assert_eq!(part["customer"]["balance"], "69.84");
    assert_eq!(api.item_balances(&path).await, ["-44.52", "-5.32"]);

    // More than is left is refused and nothing is written.
    let before = api.snapshot().await;
    api.post(&format!("{path}/transfer-to-credit"), json!({"amount": "49.85"}))
        .await
        .expect_problem(422, "over_application");
    assert_eq!(api.snapshot().await, before);

    // Then the rest: every item ends at zero, the balance never moved.
    let rest = api.post(&format!("{path}/transfer-to-credit"), json!({})).await.expect(200);
    assert_eq!(rest["invoice"]["balance"], "0.00");
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00"]);
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "69.84", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "69.84", "available_credit": "69.84"})
    );
    let credit = api.get(&format!("/v1/customers/{customer}/credit-balance")).await.expect(200);
    assert_eq!(credit["amount"], "69.84");

    // Nothing negative is left to transfer.
    let before = api.snapshot().await;
    api.post(&format!("{path}/transfer-to-credit"), json!({}))
        .await
        .expect_problem(422, "not_negative");
    assert_eq!(api.snapshot().await, before);

    // The next period's invoice, paid from the credit balance.
    let next = api
        .invoice(&customer, json!([{"description": "Basic plan, April", "amount": "100.00"}]))
        .await;
    let before = api.snapshot().await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "credit_balance"}, "target_id": id(&next), "amount": "69.85"}),
    )
    .await
    .expect_problem(422, "insufficient_unapplied");
    assert_eq!(api.snapshot().await, before);
    let application = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "credit_balance"}, "target_id": id(&next), "amount": "69.84"}),
        )
        .await
        .expect(201);
    assert_eq!(application["source"], json!({"type": "credit_balance", "id": null}));
    assert_eq!(application["amount"], "69.84");
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&next))).await.expect(200)["balance"],
        "30.16"
    );
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-30.16", "receivable": "30.16", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    // Transfers and applications are not history lines.
    assert_eq!(
        history(&api, &customer).await,
        [line("invoice", "-100.00"), line("invoice", "69.84")]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn a_credit_balance_from_a_negative_invoice_can_be_refunded() {
    let api = TestApi::new();
    let customer = api.customer("Acme Streaming").await;
    let invoice = cancellation_invoice(&api, &customer).await;
    api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&invoice)), json!({}))
        .await
        .expect(200);

    let refund = api
        .post(
            &format!("/v1/customers/{customer}/credit-balance/refunds"),
            json!({"amount": "50.00", "method": "ach", "reference": "ACH-7731"}),
        )
        .await
        .expect(201);
    assert_eq!(refund["object"], "refund");
    assert!(refund["id"].as_str().expect("id").starts_with("ref_"), "{refund:#}");
    assert_eq!(refund["customer_id"], customer);
    assert_eq!(refund["source"], json!({"type": "credit_balance", "id": null}));
    assert_eq!(refund["amount"], "50.00");
    assert_eq!(refund["method"], "ach");
    assert_eq!(refund["reference"], "ACH-7731");
    assert_eq!(
        api.get(&format!("/v1/customers/{customer}/credit-balance")).await.expect(200)["amount"],
        "19.84"
    );
    assert_eq!(api.balances(&customer).await["balance"], "19.84");

    let before = api.snapshot().await;
    api.post(
        &format!("/v1/customers/{customer}/credit-balance/refunds"),
        json!({"amount": "19.85"}),
    )
    .await
    .expect_problem(422, "insufficient_unapplied");
    assert_eq!(api.snapshot().await, before);

    let last = api
        .post(&format!("/v1/customers/{customer}/credit-balance/refunds"), json!({"amount": 19.84}))
        .await
        .expect(201);
    assert_eq!(last["method"], "other");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    // Refunds are money out: negative history lines.
    assert_eq!(
        history(&api, &customer).await,
        [line("refund", "-19.84"), line("refund", "-50.00"), line("invoice", "69.84")]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn a_charge_type_item_adjustment_zeroes_a_negative_invoice() {
    let api = TestApi::new();
    let customer = api.customer("Acme Streaming").await;
    let invoice = cancellation_invoice(&api, &customer).await;
    let invoice_id = id(&invoice);
    let path = format!("/v1/invoices/{invoice_id}");

    let charge = api
        .post(
            &format!("{path}/adjustments"),
            json!({"item_id": item(&invoice, 0), "type": "charge", "amount": "64.52",
                   "reason": "Cancellation moved to the end of the term"}),
        )
        .await
        .expect(201);
    assert_eq!(charge["object"], "adjustment");
    assert!(charge["id"].as_str().expect("id").starts_with("adj_"), "{charge:#}");
    assert_eq!(charge["invoice_id"], invoice_id);
    assert_eq!(charge["item_id"], item(&invoice, 0));
    assert_eq!(charge["type"], "charge");
    assert_eq!(charge["amount"], "64.52");
    assert_eq!(charge["reason"], "Cancellation moved to the end of the term");
    assert_eq!(api.item_balances(&path).await, ["0.00", "-5.32"]);

    // Past zero is refused, on either item, and nothing is written.
    let before = api.snapshot().await;
    api.post(
        &format!("{path}/adjustments"),
        json!({"item_id": item(&invoice, 1), "type": "charge", "amount": "5.33", "reason": "Tax"}),
    )
    .await
    .expect_problem(422, "over_application");
    api.post(
        &format!("{path}/adjustments"),
        json!({"item_id": item(&invoice, 0), "type": "charge", "amount": "0.01", "reason": "Again"}),
    )
    .await
    .expect_problem(422, "over_application");
    // A credit lowers a positive item; this one is negative.
    api.post(
        &format!("{path}/adjustments"),
        json!({"item_id": item(&invoice, 1), "type": "credit", "amount": "1.00", "reason": "Wrong"}),
    )
    .await
    .expect_problem(422, "over_application");
    assert_eq!(api.snapshot().await, before);

    api.post(
        &format!("{path}/adjustments"),
        json!({"item_id": item(&invoice, 1), "type": "charge", "amount": "5.32", "reason": "Tax on it"}),
    )
    .await
    .expect(201);
    let after = api.get(&path).await.expect(200);
    assert_eq!(after["balance"], "0.00");
    assert_eq!(after["total"], "-69.84");
    assert_eq!(api.item_balances(&path).await, ["0.00", "0.00"]);
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "0.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    // Charge adjustments lower the balance: negative history lines.
    assert_eq!(
        history(&api, &customer).await,
        [line("adjustment", "-5.32"), line("adjustment", "-64.52"), line("invoice", "69.84")]
    );
    // The charge item's adjustment goes against revenue adjustments, the tax item's against
    // tax payable.
    let journal = api.get(&format!("/v1/journal?customer_id={customer}")).await.expect(200);
    let accounts: Vec<Vec<(String, String, String)>> = journal["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|t| t["kind"] == "adjustment")
        .map(|t| {
            t["postings"]
                .as_array()
                .expect("postings")
                .iter()
                .map(|p| {
                    (
                        p["account"].as_str().expect("account").to_owned(),
                        p["side"].as_str().expect("side").to_owned(),
                        p["amount"].as_str().expect("amount").to_owned(),
                    )
                })
                .collect()
        })
        .collect();
    assert_eq!(accounts.len(), 2, "{journal:#}");
    let mut flat: Vec<_> = accounts.into_iter().flatten().collect();
    flat.sort();
    assert_eq!(
        flat,
        [
            ("receivable".to_owned(), "debit".to_owned(), "5.32".to_owned()),
            ("receivable".to_owned(), "debit".to_owned(), "64.52".to_owned()),
            ("revenue_adjustments".to_owned(), "credit".to_owned(), "64.52".to_owned()),
            ("tax_payable".to_owned(), "credit".to_owned(), "5.32".to_owned()),
        ]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn under_transfer_to_credit_a_negative_invoice_goes_to_the_credit_balance_when_posted() {
    let api = TestApi::new();
    let settings = api
        .patch("/v1/settings", json!({"negative_invoice_policy": "transfer_to_credit"}))
        .await
        .expect(200);
    assert_eq!(settings["negative_invoice_policy"], "transfer_to_credit");
    let customer = api.customer("Acme Streaming").await;
    let open = api
        .invoice(&customer, json!([{"description": "Basic plan, March", "amount": "100.00"}]))
        .await;

    let invoice = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "post": true, "items": [
                {"description": "Premium plan, unused Mar 11–31 (cancellation)", "amount": "-64.52",
                 "taxes": [{"name": "Sales tax", "rate": "8.25"}]}]}),
        )
        .await
        .expect(201);
    assert_eq!(invoice["status"], "posted");
    assert_eq!(invoice["total"], "-69.84");
    assert_eq!(invoice["balance"], "0.00");
    assert_eq!(
        api.item_balances(&format!("/v1/invoices/{}", id(&invoice))).await,
        ["0.00", "0.00"]
    );
    // Transferred, not applied: the open invoice still owes all of it.
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&open))).await.expect(200)["balance"],
        "100.00"
    );
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-30.16", "receivable": "100.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "69.84", "available_credit": "69.84"})
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn under_transfer_and_apply_a_negative_invoice_pays_the_oldest_open_invoice_when_posted() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"negative_invoice_policy": "transfer_and_apply"}))
        .await
        .expect(200);
    let customer = api.customer("Acme Streaming").await;
    let newer = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "post": true, "invoice_date": "2026-02-20", "due_date": "2026-03-20",
                   "items": [{"description": "Add-on", "amount": "40.00"}]}),
        )
        .await
        .expect(201);
    let older = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "post": true, "invoice_date": "2026-02-01", "due_date": "2026-03-03",
                   "items": [{"description": "Basic plan, March", "amount": "50.00"}]}),
        )
        .await
        .expect(201);

    // Posted from a draft, the policy runs at /post.
    let draft = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "items": [
                {"description": "Premium plan, unused Mar 11–31 (cancellation)", "amount": "-64.52",
                 "taxes": [{"name": "Sales tax", "rate": "8.25"}]}]}),
        )
        .await
        .expect(201);
    let posted =
        api.post(&format!("/v1/invoices/{}/post", id(&draft)), json!({})).await.expect(200);
    assert_eq!(posted["balance"], "0.00");
    // 69.84: 50.00 to the invoice due first, the other 19.84 to the next.
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&older))).await.expect(200)["balance"],
        "0.00"
    );
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&newer))).await.expect(200)["balance"],
        "20.16"
    );
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-20.16", "receivable": "20.16", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    let applications =
        api.get(&format!("/v1/applications?customer_id={customer}")).await.expect(200);
    let applications = applications["data"].as_array().expect("data");
    assert_eq!(applications.len(), 2);
    assert!(applications.iter().all(|a| a["source"]["type"] == "credit_balance"));
    api.assert_verified().await;
}

#[tokio::test]
async fn under_keep_a_negative_invoice_stays_negative() {
    let api = TestApi::new();
    assert_eq!(api.get("/v1/settings").await.expect(200)["negative_invoice_policy"], "keep");
    let customer = api.customer("Acme Streaming").await;
    let invoice = cancellation_invoice(&api, &customer).await;
    assert_eq!(
        api.get(&format!("/v1/invoices/{}", id(&invoice))).await.expect(200)["balance"],
        "-69.84"
    );
    assert_eq!(api.balances(&customer).await["credit_balance"], "0.00");
    let negative =
        api.get(&format!("/v1/invoices?customer_id={customer}&balance=negative")).await.expect(200);
    assert_eq!(negative["data"].as_array().expect("data").len(), 1);
    api.assert_verified().await;
}
