//! Seed 000 ("How to resolve negative balances") options 1, 2 and 3, and seed 003 by a zero-total
//! credit memo applied per item, clicked through as written; after each walk every balance the
//! pages show is checked against `GET /v1/...` and `settle verify` must be clean.

use serde_json::Value;

use crate::browser::Browser;
use crate::clerk::{Entry, add_entry, clerk, new_customer};
use crate::processes::Settle;

/// The `n`th invoice of `customer` as the API lists it (newest first).
fn invoices(settle: &Settle, customer: &str) -> Vec<Value> {
    let list = settle.api_get(&format!("/v1/invoices?customer_id={customer}"));
    list["data"].as_array().expect("a list").clone()
}

/// The customer page's balance and parts equal the API's.
async fn check_customer(browser: &mut Browser, settle: &Settle, customer: &str, balance: &str) {
    browser.visit(&format!("/customers/{customer}"), "customer-after-walk").await;
    let api = settle.api_get(&format!("/v1/customers/{customer}"));
    assert_eq!(api["balance"], balance, "{api}");
    for field in ["balance", "receivable", "available_credit"] {
        let shown = browser.value(&format!("[data-field={field}]")).await;
        assert_eq!(Value::String(shown), api[field], "customer {field}");
    }
}

/// A document page's balance and item balances equal the API's.
async fn check_document(browser: &mut Browser, settle: &Settle, path: &str, balance: &str) {
    browser.visit(path, "document-after-walk").await;
    let api = settle.api_get(&format!("/v1{path}"));
    assert_eq!(api["balance"], balance, "{api}");
    assert_eq!(Value::String(browser.value("[data-field=balance]").await), api["balance"]);
    let mut shown = Vec::new();
    for row in browser.find_all("tr[data-item-id]").await {
        let cell = row.find(fantoccini::Locator::Css("[data-field=balance]")).await.expect("cell");
        shown.push(Value::String(crate::browser::data_value(&cell).await));
    }
    let api_items: Vec<Value> =
        api["items"].as_array().expect("items").iter().map(|i| i["balance"].clone()).collect();
    assert_eq!(shown, api_items, "{path} item balances");
}

fn verify_clean(settle: &Settle) {
    let (clean, printed) = settle.verify_report();
    assert!(clean, "settle verify: {printed}");
}

/// Ticks the checkbox `name` = `value`.
async fn tick(browser: &Browser, name: &str, value: &str) {
    let css = format!("input[name='{name}'][value='{value}']");
    browser.find(&css).await.click().await.unwrap_or_else(|e| panic!("ticking {css}: {e}"));
}

/// The `value` of the input `name`.
async fn input(browser: &Browser, name: &str) -> String {
    let field = browser.find(&format!("[name='{name}']")).await;
    field.prop("value").await.expect("value").unwrap_or_default()
}

#[test]
fn seed_000_option_1_unapply_the_payment_then_apply_it_again_from_the_customer() {
    crate::run("seed_000_option_1", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let settle = &stage.settle;
        let id = new_customer(&mut browser, "Oakridge Fencing", "office@oakridge.example").await;
        let charge = Entry {
            kind: "charge",
            amount: "400.00",
            description: "Fence repair",
            payment_method: "",
            notes: "",
        };
        add_entry(&mut browser, &id, &charge).await;
        let invoice = invoices(settle, &id)[0]["id"].as_str().expect("id").to_owned();
        // A check of 500.00 collected against the 400.00 invoice.
        browser.visit(&format!("/customers/{id}/collect"), "collect").await;
        browser.fill("amount", "500.00").await;
        browser.fill("method", "check").await;
        browser.fill("reference", "Check 2001").await;
        browser.click("button[name=step][value=fill]", "collect-filled").await;
        assert_eq!(input(&browser, &format!("apply[{invoice}]")).await, "400.00");
        save_collect(&mut browser, "collected", "100.00").await;
        assert_eq!(browser.path().await, format!("/customers/{id}"));

        // 1. Unapply the payment from the invoice.
        browser.visit(&format!("/invoices/{invoice}"), "invoice-paid").await;
        browser.click("tr[data-application-id] form.unapply button", "invoice-unapplied").await;
        assert_eq!(browser.value("[data-field=balance]").await, "400.00");
        // 2. From the customer profile, Collect Payment, Credits, the payment, the invoice, Save.
        browser.visit(&format!("/customers/{id}"), "customer-with-credit").await;
        browser.click(&format!("a[href='/customers/{id}/collect']"), "collect-again").await;
        let payment = settle.api_get(&format!("/v1/payments?customer_id={id}"))["data"][0]["id"]
            .as_str()
            .expect("payment id")
            .to_owned();
        tick(&browser, "source", &payment).await;
        browser.click("button[name=step][value=fill]", "collect-credit-filled").await;
        assert_eq!(input(&browser, &format!("apply[{invoice}]")).await, "400.00");
        save_collect(&mut browser, "credit-applied", "100.00").await;
        // 3. The invoice is paid; the rest of the payment stays as credit.
        check_customer(&mut browser, settle, &id, "100.00").await;
        check_document(&mut browser, settle, &format!("/invoices/{invoice}"), "0.00").await;
        browser.visit(&format!("/payments/{payment}"), "payment-after").await;
        assert_eq!(browser.value("[data-field=unapplied]").await, "100.00");
        verify_clean(settle);
        browser.close().await;
    });
}

/// Saves the Collect form: the preview first, checked to show the customer's balance before
/// and after, then the confirm.
async fn save_collect(browser: &mut Browser, shot: &str, customer_after: &str) {
    browser.click("button[name=step][value=save]", &format!("{shot}-preview")).await;
    let after = browser.value("tr[data-preview=customer] [data-field=after]").await;
    assert_eq!(after, customer_after, "the preview shows the customer's balance after the save");
    browser.click("form[data-action=apply] button[name=confirm]", shot).await;
}

/// Fills line `line` of the new invoice form.
async fn line(browser: &Browser, line: usize, description: &str, amount: &str) {
    browser.fill(&format!("items[{line}].description"), description).await;
    browser.fill(&format!("items[{line}].amount"), amount).await;
}

#[test]
fn seed_000_option_2_an_adjustment_invoice_then_a_payment_kept_as_credit() {
    crate::run("seed_000_option_2", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let settle = &stage.settle;
        let id = new_customer(&mut browser, "Birchwood Dental", "desk@birchwood.example").await;
        browser.visit(&format!("/invoices/new?customer_id={id}"), "new-invoice").await;
        line(&browser, 0, "Cleaning", "100.00").await;
        line(&browser, 1, "Returned deposit", "-150.00").await;
        browser.click("button[name=post][value=true]", "negative-invoice").await;
        let invoice = browser.path().await.trim_start_matches("/invoices/").to_owned();
        assert_eq!(browser.value("[data-field=balance]").await, "-50.00");
        // 1. An adjustment invoice with a positive task brings the group to 0.
        browser.click("a[href*='adjusts_invoice_id']", "adjustment-form").await;
        assert_eq!(input(&browser, "adjusts_invoice_id").await, invoice);
        line(&browser, 0, "Balance correction", "50.00").await;
        browser.click("button[name=post][value=true]", "adjustment-invoice").await;
        assert_eq!(browser.value("[data-field=group_balance]").await, "0.00");
        // 2.–4. A payment through the customer profile, saved without charging, kept as credit.
        browser.visit(&format!("/customers/{id}"), "customer").await;
        browser.click(&format!("a[href='/customers/{id}/collect']"), "collect").await;
        browser.fill("amount", "50.00").await;
        browser.fill("method", "card").await;
        for row in invoices(settle, &id) {
            browser.fill(&format!("apply[{}]", row["id"].as_str().expect("id")), "").await;
        }
        save_collect(&mut browser, "payment-saved", "50.00").await;
        check_customer(&mut browser, settle, &id, "50.00").await;
        let api = settle.api_get(&format!("/v1/customers/{id}"));
        assert_eq!(api["available_credit"], "50.00");
        check_document(&mut browser, settle, &format!("/invoices/{invoice}"), "-50.00").await;
        verify_clean(settle);
        browser.close().await;
    });
}

#[test]
fn seed_000_option_3_a_negative_payment_on_the_adjustment_invoice_then_collect() {
    crate::run("seed_000_option_3", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let settle = &stage.settle;
        let id = new_customer(&mut browser, "Cedar Plumbing", "billing@cedar.example").await;
        browser.visit(&format!("/invoices/new?customer_id={id}"), "new-invoice").await;
        line(&browser, 0, "Water heater", "200.00").await;
        browser.click("button[name=post][value=true]", "original-invoice").await;
        let original = browser.path().await.trim_start_matches("/invoices/").to_owned();
        browser.click("a[href*='adjusts_invoice_id']", "adjustment-form").await;
        line(&browser, 0, "Unused part returned", "-40.00").await;
        browser.click("button[name=post][value=true]", "adjustment-invoice").await;
        let adjustment = browser.path().await.trim_start_matches("/invoices/").to_owned();
        assert_eq!(browser.value("[data-field=balance]").await, "-40.00");
        // 1.–2. On the adjustment invoice, a negative payment applied to it.
        browser.click("a[href*='amount=-40.00']", "negative-payment").await;
        assert_eq!(input(&browser, "amount").await, "-40.00");
        assert_eq!(input(&browser, &format!("apply[{adjustment}]")).await, "-40.00");
        save_collect(&mut browser, "negative-payment-saved", "-200.00").await;
        check_document(&mut browser, settle, &format!("/invoices/{adjustment}"), "0.00").await;
        // 3.–5. The invoice with an open balance: Collect and apply payment, a positive payment.
        browser.visit(&format!("/invoices/{original}"), "original").await;
        browser.click("a[href*='collect?document_id']", "collect-for-invoice").await;
        browser.fill("amount", "200.00").await;
        browser.click("button[name=step][value=fill]", "collect-filled").await;
        assert_eq!(input(&browser, &format!("apply[{original}]")).await, "200.00");
        save_collect(&mut browser, "collected", "0.00").await;
        check_document(&mut browser, settle, &format!("/invoices/{original}"), "0.00").await;
        // The negative payment took 40.00 back out; the positive one paid 200.00.
        check_customer(&mut browser, settle, &id, "0.00").await;
        verify_clean(settle);
        browser.close().await;
    });
}

#[test]
fn seed_003_a_zero_total_credit_memo_applied_per_item() {
    crate::run("seed_003_credit_memo", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let settle = &stage.settle;
        let (status, body) = settle.api_request(
            "PATCH",
            "/v1/settings",
            Some(r#"{"application_rule":"proration"}"#),
        );
        assert_eq!(status, 200, "{body}");
        let id = new_customer(&mut browser, "Maple Telecom", "ap@maple.example").await;
        browser.visit(&format!("/invoices/new?customer_id={id}"), "new-invoice").await;
        line(&browser, 0, "Plan", "100.00").await;
        line(&browser, 1, "Discount", "-50.00").await;
        browser.click("button[name=post][value=true]", "invoice").await;
        let invoice = browser.path().await.trim_start_matches("/invoices/").to_owned();
        // Paid in full by proration: the invoice is at 0 while its items are at +50 and -50.
        browser.click("a[href*='collect?document_id']", "collect").await;
        browser.fill("amount", "50.00").await;
        browser.click("button[name=step][value=fill]", "collect-filled").await;
        save_collect(&mut browser, "paid", "0.00").await;
        check_document(&mut browser, settle, &format!("/invoices/{invoice}"), "0.00").await;
        let api = settle.api_get(&format!("/v1/invoices/{invoice}"));
        let items: Vec<Value> = api["items"].as_array().expect("items").clone();
        assert_eq!(items[0]["balance"], "50.00");
        assert_eq!(items[1]["balance"], "-50.00");
        let (plus, minus) =
            (items[0]["id"].as_str().expect("id"), items[1]["id"].as_str().expect("id"));
        // A credit memo of 0 with +50 and -50 on the two items...
        browser.click("a[href$='/credit-memos/new']", "credit-memo-form").await;
        browser.fill(&format!("credit[{plus}]"), "50.00").await;
        browser.fill(&format!("credit[{minus}]"), "-50.00").await;
        browser.submit(&format!("[name='credit[{plus}]']"), "credit-memo").await;
        let memo = browser.path().await.trim_start_matches("/credit-memos/").to_owned();
        assert_eq!(browser.value("[data-field=total]").await, "0.00");
        // ... applied per item.
        browser.click("a[href$='/apply']", "apply-per-item").await;
        browser
            .submit("form[data-action=apply] input[type=hidden][name=target_id]", "apply-preview")
            .await;
        assert_eq!(
            browser.value(&format!("tr[data-preview='{plus}'] [data-field=after]")).await,
            "0.00"
        );
        assert_eq!(
            browser.value(&format!("tr[data-preview='{minus}'] [data-field=after]")).await,
            "0.00"
        );
        browser.click("form[data-action=apply] button[name=confirm]", "applied").await;
        check_document(&mut browser, settle, &format!("/invoices/{invoice}"), "0.00").await;
        let api = settle.api_get(&format!("/v1/invoices/{invoice}"));
        for item in api["items"].as_array().expect("items") {
            assert_eq!(item["balance"], "0.00", "{api}");
        }
        check_document(&mut browser, settle, &format!("/credit-memos/{memo}"), "0.00").await;
        check_customer(&mut browser, settle, &id, "0.00").await;
        verify_clean(settle);
        browser.close().await;
    });
}
