//! Tenant settings and the policies they switch on: defaults, changes and refusals; the
//! application rule and time zone they set; auto-apply of available credit (oldest due date
//! first, then number); and what happens to a negative invoice when it is posted.

use serde_json::{Value, json};

use crate::harness::{TestApi, id};

/// Posts an invoice of one line with the given dates.
async fn dated_invoice(
    api: &TestApi,
    customer: &str,
    amount: &str,
    invoice_date: &str,
    due_date: &str,
) -> Value {
    api.post(
        "/v1/invoices",
        json!({"customer_id": customer, "post": true, "invoice_date": invoice_date, "due_date": due_date,
               "items": [{"description": format!("Services of {invoice_date}"), "amount": amount}]}),
    )
    .await
    .expect(201)
}

async fn balance_of(api: &TestApi, invoice: &Value) -> String {
    let body = api.get(&format!("/v1/invoices/{}", id(invoice))).await.expect(200);
    body["balance"].as_str().expect("balance").to_owned()
}

#[tokio::test]
async fn settings_default_to_usd_utc_net_first_keep_and_no_auto_apply() {
    let api = TestApi::new();
    assert_eq!(
        api.get("/v1/settings").await.expect(200),
        json!({"object": "settings", "default_currency": "USD", "time_zone": "UTC",
               "application_rule": "net_first", "negative_invoice_policy": "keep",
               "auto_apply_credit": false, "business_name": ""})
    );
}

#[tokio::test]
async fn a_settings_patch_changes_only_the_fields_it_names() {
    let api = TestApi::new();
    let changed = api
        .patch("/v1/settings", json!({"negative_invoice_policy": "transfer_and_apply"}))
        .await
        .expect(200);
    assert_eq!(
        changed,
        json!({"object": "settings", "default_currency": "USD", "time_zone": "UTC",
               "application_rule": "net_first", "negative_invoice_policy": "transfer_and_apply",
               "auto_apply_credit": false, "business_name": ""})
    );
    let changed = api
        .patch(
            "/v1/settings",
            json!({"default_currency": "EUR", "time_zone": "Europe/Paris",
                   "application_rule": "proration", "auto_apply_credit": true}),
        )
        .await
        .expect(200);
    let expected = json!({"object": "settings", "default_currency": "EUR", "time_zone": "Europe/Paris",
                          "application_rule": "proration", "negative_invoice_policy": "transfer_and_apply",
                          "auto_apply_credit": true, "business_name": ""});
    assert_eq!(changed, expected);
    assert_eq!(api.get("/v1/settings").await.expect(200), expected);
    // An empty patch changes nothing.
    assert_eq!(api.patch("/v1/settings", json!({})).await.expect(200), expected);

    // The business name is trimmed; empty again means the tenant's name; too long is refused.
    let named = api
        .patch("/v1/settings", json!({"business_name": "  Acme Plumbing Co  "}))
        .await
        .expect(200);
    assert_eq!(named["business_name"], "Acme Plumbing Co");
    let long = "x".repeat(201);
    api.patch("/v1/settings", json!({"business_name": long})).await.expect(422);
    assert_eq!(api.get("/v1/settings").await.expect(200)["business_name"], "Acme Plumbing Co");
    let cleared = api.patch("/v1/settings", json!({"business_name": ""})).await.expect(200);
    assert_eq!(cleared, expected);

    // The default currency is what a new customer gets.
    let customer = api.post("/v1/customers", json!({"name": "Société Anonyme"})).await.expect(201);
    assert_eq!(customer["currency"], "EUR");
    let explicit = api
        .post("/v1/customers", json!({"name": "Dollar Inc", "currency": "USD"}))
        .await
        .expect(201);
    assert_eq!(explicit["currency"], "USD");
}

#[tokio::test]
async fn a_bad_setting_is_a_validation_error_and_changes_nothing() {
    let api = TestApi::new();
    let before = api.get("/v1/settings").await.expect(200);
    let cases = [
        (json!({"default_currency": "XYZ"}), Some("default_currency")),
        (json!({"time_zone": "Mars/Olympus"}), Some("time_zone")),
        (json!({"application_rule": "fifo"}), Some("application_rule")),
        (json!({"negative_invoice_policy": "delete"}), Some("negative_invoice_policy")),
        (json!({"negative_invoice_policy": "Keep"}), Some("negative_invoice_policy")),
        (json!({"auto_apply_credit": "yes"}), None),
        (json!({"auto_apply_credit": null, "negative_invoice_policy": 3}), None),
        (json!({"refund_policy": "always"}), None),
        // A valid field next to a bad one is not applied either.
        (
            json!({"negative_invoice_policy": "transfer_to_credit", "auto_apply_credit": true,
                   "time_zone": "Nowhere/Atlantis"}),
            Some("time_zone"),
        ),
        (json!({"auto_apply_credit": true, "default_currency": "US"}), Some("default_currency")),
    ];
    for (body, field) in cases {
        let problem =
            api.patch("/v1/settings", body.clone()).await.expect_problem(422, "validation_error");
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem:#}");
        }
        assert_eq!(api.get("/v1/settings").await.expect(200), before, "after {body}");
    }
}

#[tokio::test]
async fn the_application_rule_setting_spreads_document_level_amounts() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"application_rule": "proration"})).await.expect(200);
    let customer = api.customer("Rule Co").await;
    let invoice = api
        .invoice(
            &customer,
            json!([
                {"description": "Subscription", "amount": "100.00", "taxes": [{"name": "Sales tax", "rate": "6.26"}]},
                {"description": "Downgrade credit", "amount": "-50.00", "taxes": [{"name": "Sales tax", "rate": "6.26"}]},
            ]),
        )
        .await;
    let payment = api.payment(&customer, "53.13").await;
    let application = api
        .post(
            "/v1/applications",
            json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "53.13"}),
        )
        .await
        .expect(201);
    assert_eq!(application["rule"], "proration");
    assert_eq!(
        api.item_balances(&format!("/v1/invoices/{}", id(&invoice))).await,
        ["50.00", "3.13", "-50.00", "-3.13"]
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn the_time_zone_setting_decides_which_day_today_is() {
    // The pinned clock reads 2026-03-01 12:00 UTC: already 2026-03-02 at UTC+14.
    let api = TestApi::new();
    let customer = api.customer("Line Islands").await;
    let before = api.payment(&customer, "1.00").await;
    assert_eq!(before["effective_date"], "2026-03-01");
    api.patch("/v1/settings", json!({"time_zone": "Pacific/Kiritimati"})).await.expect(200);
    let after = api.payment(&customer, "1.00").await;
    assert_eq!(after["effective_date"], "2026-03-02");
    let invoice = api.invoice(&customer, json!([{"description": "Dive", "amount": "2.00"}])).await;
    assert_eq!(invoice["invoice_date"], "2026-03-02");
    api.assert_verified().await;
}

#[tokio::test]
async fn auto_apply_pays_the_oldest_due_date_first_then_the_lowest_number() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"auto_apply_credit": true})).await.expect(200);
    let customer = api.customer("Oldest First").await;
    // INV-000001 is issued last-but-one yet due last; INV-000002 and INV-000003 share a due date.
    let late = dated_invoice(&api, &customer, "100.00", "2026-02-01", "2026-03-31").await;
    let early = dated_invoice(&api, &customer, "80.00", "2026-01-15", "2026-02-14").await;
    let tie = dated_invoice(&api, &customer, "30.00", "2026-01-20", "2026-02-14").await;
    assert_eq!(late["number"], "INV-000001");
    assert_eq!(early["number"], "INV-000002");
    assert_eq!(tie["number"], "INV-000003");

    let payment = api.payment(&customer, "100.00").await;
    assert_eq!(payment["applied"], "100.00");
    assert_eq!(payment["unapplied"], "0.00");
    assert_eq!(balance_of(&api, &early).await, "0.00");
    assert_eq!(balance_of(&api, &tie).await, "10.00");
    assert_eq!(balance_of(&api, &late).await, "100.00");
    let applications =
        api.get(&format!("/v1/applications?source_id={}", id(&payment))).await.expect(200);
    let mut applied: Vec<(String, String)> = applications["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| {
            (
                a["target_id"].as_str().expect("target").to_owned(),
                a["amount"].as_str().expect("amount").to_owned(),
            )
        })
        .collect();
    applied.sort();
    let mut expected = vec![(id(&early), "80.00".to_owned()), (id(&tie), "20.00".to_owned())];
    expected.sort();
    assert_eq!(applied, expected);

    // More than is owed: everything is paid and the rest stays unapplied.
    let big = api.payment(&customer, "150.00").await;
    assert_eq!(big["applied"], "110.00");
    assert_eq!(big["unapplied"], "40.00");
    assert_eq!(balance_of(&api, &tie).await, "0.00");
    assert_eq!(balance_of(&api, &late).await, "0.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "40.00", "receivable": "0.00", "unapplied_payments": "40.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "40.00"})
    );

    // A payment that names its applications is applied only as it says.
    let next = dated_invoice(&api, &customer, "70.00", "2026-02-25", "2026-03-27").await;
    // Posting the invoice took the 40.00 left on the last payment.
    assert_eq!(balance_of(&api, &next).await, "30.00");
    let other = dated_invoice(&api, &customer, "10.00", "2026-01-01", "2026-01-31").await;
    assert_eq!(balance_of(&api, &other).await, "10.00");
    let named = api
        .post(
            "/v1/payments",
            json!({"customer_id": customer, "amount": "30.00", "method": "ach",
                   "applications": [{"target_id": id(&next), "amount": "30.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(named["unapplied"], "0.00");
    assert_eq!(balance_of(&api, &next).await, "0.00");
    assert_eq!(balance_of(&api, &other).await, "10.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn without_auto_apply_credit_waits_and_with_it_posting_takes_every_source_in_order() {
    let api = TestApi::new();
    let customer = api.customer("Sources Co").await;
    let payment = api.payment(&customer, "50.00").await;
    assert_eq!(payment["unapplied"], "50.00");
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true, "items": [{"description": "Goodwill", "amount": "15.00"}]}),
        )
        .await
        .expect(201);
    let negative =
        api.invoice(&customer, json!([{"description": "Overcharge", "amount": "-10.00"}])).await;
    api.post(&format!("/v1/invoices/{}/transfer-to-credit", id(&negative)), json!({}))
        .await
        .expect(200);
    // Off (the default): an invoice posted now takes nothing.
    let waiting = dated_invoice(&api, &customer, "20.00", "2026-02-01", "2026-02-28").await;
    assert_eq!(balance_of(&api, &waiting).await, "20.00");

    // Switching it on applies nothing by itself.
    api.patch("/v1/settings", json!({"auto_apply_credit": true})).await.expect(200);
    assert_eq!(balance_of(&api, &waiting).await, "20.00");

    // The next posting does: payments first, then credit memos, then the credit balance, to
    // the oldest due date first.
    let later = dated_invoice(&api, &customer, "50.00", "2026-03-01", "2026-03-31").await;
    assert_eq!(balance_of(&api, &waiting).await, "0.00");
    assert_eq!(balance_of(&api, &later).await, "0.00");
    let paid = api.get(&format!("/v1/payments/{}", id(&payment))).await.expect(200);
    assert_eq!(paid["unapplied"], "0.00");
    // 70.00 owed: 50.00 from the payment, 15.00 from the memo, 5.00 of the credit balance.
    assert_eq!(
        api.get(&format!("/v1/credit-memos/{}", id(&memo))).await.expect(200)["balance"],
        "0.00"
    );
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "5.00", "receivable": "0.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "5.00", "available_credit": "5.00"})
    );
    let applications =
        api.get(&format!("/v1/applications?customer_id={customer}")).await.expect(200);
    let mut seen: Vec<(String, String, String)> = applications["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|a| {
            (
                a["target_id"].as_str().expect("target").to_owned(),
                a["source"]["type"].as_str().expect("type").to_owned(),
                a["amount"].as_str().expect("amount").to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (id(&waiting), "payment".to_owned(), "20.00".to_owned()),
        (id(&later), "payment".to_owned(), "30.00".to_owned()),
        (id(&later), "credit_memo".to_owned(), "15.00".to_owned()),
        (id(&later), "credit_balance".to_owned(), "5.00".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    api.assert_verified().await;
}

#[tokio::test]
async fn with_auto_apply_a_posted_credit_memo_pays_the_open_invoice() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"auto_apply_credit": true})).await.expect(200);
    let customer = api.customer("Memo Auto").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Service", "amount": "100.00"}])).await;
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true, "items": [{"description": "Goodwill", "amount": "25.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(balance_of(&api, &invoice).await, "75.00");
    assert_eq!(
        api.get(&format!("/v1/credit-memos/{}", id(&memo))).await.expect(200)["balance"],
        "0.00"
    );
    // A draft posted later, likewise.
    let draft = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "items": [{"description": "More goodwill", "amount": "5.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(balance_of(&api, &invoice).await, "75.00");
    api.post(&format!("/v1/credit-memos/{}/post", id(&draft)), json!({})).await.expect(200);
    assert_eq!(balance_of(&api, &invoice).await, "70.00");
    assert_eq!(api.balances(&customer).await["balance"], "-70.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn transfer_and_apply_keeps_the_credit_when_nothing_is_open_and_nets_mixed_items() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"negative_invoice_policy": "transfer_and_apply"}))
        .await
        .expect(200);
    let customer = api.customer("Nothing Open").await;
    let negative = api
        .invoice(
            &customer,
            json!([{"description": "Plan", "amount": "100.00"},
                   {"description": "Removal credit", "amount": "-150.00"}]),
        )
        .await;
    assert_eq!(negative["balance"], "0.00");
    assert_eq!(
        api.item_balances(&format!("/v1/invoices/{}", id(&negative))).await,
        ["0.00", "0.00"]
    );
    assert_eq!(api.balances(&customer).await["credit_balance"], "50.00");

    // Auto-apply is off: the credit waits for a later invoice.
    let later = api.invoice(&customer, json!([{"description": "Plan", "amount": "80.00"}])).await;
    assert_eq!(later["balance"], "80.00");
    assert_eq!(api.balances(&customer).await["credit_balance"], "50.00");
    // A positive invoice is not touched by the negative-invoice policy.
    assert_eq!(api.balances(&customer).await["balance"], "-30.00");

    // The next negative invoice is transferred and the whole credit balance, the 50.00
    // waiting included, is applied at once.
    let second =
        api.invoice(&customer, json!([{"description": "Refund", "amount": "-20.00"}])).await;
    assert_eq!(second["balance"], "0.00");
    assert_eq!(balance_of(&api, &later).await, "10.00");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-10.00", "receivable": "10.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn transfer_to_credit_with_auto_apply_applies_the_credit_like_transfer_and_apply() {
    let api = TestApi::new();
    api.patch(
        "/v1/settings",
        json!({"negative_invoice_policy": "transfer_to_credit", "auto_apply_credit": true}),
    )
    .await
    .expect(200);
    let customer = api.customer("Both On").await;
    let open = api.invoice(&customer, json!([{"description": "Plan", "amount": "40.00"}])).await;
    let negative =
        api.invoice(&customer, json!([{"description": "Downgrade", "amount": "-15.50"}])).await;
    assert_eq!(negative["balance"], "0.00");
    assert_eq!(balance_of(&api, &open).await, "24.50");
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-24.50", "receivable": "24.50", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    api.assert_verified().await;
}

#[tokio::test]
async fn auto_apply_takes_no_more_from_a_credit_memo_than_its_balance() {
    let api = TestApi::new();
    api.patch("/v1/settings", json!({"auto_apply_credit": true})).await.expect(200);
    let customer = api.customer("Restock Co").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Units", "amount": "100.00"}])).await;
    // +30.00 and −10.00: the memo holds 20.00, not 30.00.
    let memo = api
        .post(
            "/v1/credit-memos",
            json!({"customer_id": customer, "post": true,
                   "items": [{"description": "Returned unit", "amount": "30.00"},
                             {"description": "Restocking fee", "amount": "-10.00"}]}),
        )
        .await
        .expect(201);
    assert_eq!(balance_of(&api, &invoice).await, "80.00");
    assert_eq!(
        api.get(&format!("/v1/credit-memos/{}", id(&memo))).await.expect(200)["balance"],
        "0.00"
    );
    assert_eq!(
        api.balances(&customer).await,
        json!({"balance": "-80.00", "receivable": "80.00", "unapplied_payments": "0.00",
               "credit_memo_balance": "0.00", "credit_balance": "0.00", "available_credit": "0.00"})
    );
    api.assert_verified().await;
}
