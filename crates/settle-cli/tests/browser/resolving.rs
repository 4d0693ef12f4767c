//! Seeds 001 and 003 resolved in the browser the one-click way, each step through its preview:
//! a negative invoice by credit balance (transfer and apply to another invoice, then refund
//! the rest), the same by a charge adjustment, and a document at zero with items not at zero
//! by net items from Attention. After each walk every balance the pages show is checked
//! against the API and `settle verify` must be clean.

use serde_json::Value;

use crate::Stage;
use crate::browser::Browser;
use crate::clerk::{clerk, new_customer};
use crate::invoices::{LineAmount, fill_line, post_invoice};

/// Creates and posts an invoice of `lines` for `customer`; returns its id.
async fn invoice(browser: &mut Browser, customer: &str, lines: &[(&str, &str)]) -> String {
    browser.visit(&format!("/invoices/new?customer_id={customer}"), "new-invoice").await;
    for (index, (description, amount)) in lines.iter().enumerate() {
        fill_line(browser, index, description, LineAmount::Amount(amount)).await;
    }
    post_invoice(browser).await;
    let path = browser.path().await;
    path.strip_prefix("/invoices/").expect("the invoice page").to_owned()
}

/// Opens every folded action on the page, as a clerk clicks its name.
async fn unfold(browser: &Browser) {
    browser.script("document.querySelectorAll('details').forEach(d => d.open = true);").await;
}

/// The preview shown now: each row's hook, before and after.
async fn preview(browser: &Browser) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    for row in browser.find_all("tr[data-preview]").await {
        let what = row.attr("data-preview").await.expect("attr").expect("data-preview");
        let mut values = Vec::new();
        for field in ["before", "after"] {
            let cell = row.find(fantoccini::Locator::Css(&format!("[data-field={field}]"))).await;
            values.push(crate::browser::data_value(&cell.expect("a preview cell")).await);
        }
        rows.push((what, values[0].clone(), values[1].clone()));
    }
    rows
}

/// The preview's (before, after) of `what`.
fn change(rows: &[(String, String, String)], what: &str) -> (String, String) {
    let row = rows.iter().find(|r| r.0 == what).unwrap_or_else(|| panic!("no {what} in {rows:?}"));
    (row.1.clone(), row.2.clone())
}

fn pair(before: &str, after: &str) -> (String, String) {
    (before.to_owned(), after.to_owned())
}

/// Checks the invoice page shown now against `GET /v1/invoices/{id}`: balance and every item.
async fn check_invoice(stage: &Stage, browser: &mut Browser, id: &str) {
    browser.visit(&format!("/invoices/{id}"), "invoice-checked").await;
    let api = stage.settle.api(&format!("/v1/invoices/{id}"));
    assert_eq!(
        browser.value("[data-field=balance]").await,
        api["balance"].as_str().expect("balance")
    );
    let items = api["items"].as_array().expect("items");
    let rows = browser.find_all("tr[data-item-id]").await;
    assert_eq!(rows.len(), items.len());
    for item in items {
        let item_id = item["id"].as_str().expect("id");
        let css = format!("tr[data-item-id='{item_id}'] [data-field=balance]");
        assert_eq!(browser.value(&css).await, item["balance"].as_str().expect("item balance"));
    }
}

/// Checks the customer page against `GET /v1/customers/{id}`; returns the API's customer.
async fn check_customer(stage: &Stage, browser: &mut Browser, id: &str) -> Value {
    browser.visit(&format!("/customers/{id}"), "customer-checked").await;
    let api = stage.settle.api(&format!("/v1/customers/{id}"));
    for field in ["balance", "receivable", "available_credit", "credit_balance"] {
        let shown = browser.value(&format!("[data-field={field}]")).await;
        assert_eq!(shown, api[field].as_str().expect(field), "{field}");
    }
    api
}

#[test]
fn seed_001_by_credit_balance_transfer_apply_and_refund() {
    crate::run("seed_001_credit_balance", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let customer =
            new_customer(&mut browser, "Quill Stationers", "quill@seed001.example").await;
        let open = invoice(&mut browser, &customer, &[("Paper stock", "30.00")]).await;
        let negative = invoice(
            &mut browser,
            &customer,
            &[("Annual plan", "100.00"), ("Downgrade credit", "-150.00")],
        )
        .await;
        assert_eq!(browser.value("[data-field=balance]").await, "-50.00");

        browser.visit("/attention", "attention").await;
        let row = format!("tr[data-document-id='{negative}']");
        let forms = browser.find_all(&format!("{row} form[data-action=transfer-to-credit]")).await;
        assert_eq!(forms.len(), 2, "transfer, and transfer and apply");
        browser
            .submit(
                &format!("{row} form[data-action=transfer-to-credit] [name=apply]"),
                "transfer-apply-preview",
            )
            .await;
        let rows = preview(&browser).await;
        assert_eq!(change(&rows, &negative), pair("-50.00", "0.00"));
        assert_eq!(change(&rows, &open), pair("30.00", "0.00"));
        assert_eq!(change(&rows, "credit_balance"), pair("0.00", "20.00"));
        assert_eq!(change(&rows, "customer"), pair("20.00", "20.00"));
        browser.click("button[name=confirm]", "transfer-apply-done").await;
        check_invoice(&stage, &mut browser, &negative).await;
        check_invoice(&stage, &mut browser, &open).await;
        let api = check_customer(&stage, &mut browser, &customer).await;
        assert_eq!(api["credit_balance"], "20.00");

        unfold(&browser).await;
        browser.fill("amount", "20.00").await;
        browser.submit("form[data-action=refunds] [name=amount]", "credit-balance-refunded").await;
        let api = check_customer(&stage, &mut browser, &customer).await;
        assert_eq!(
            (api["balance"].as_str(), api["credit_balance"].as_str()),
            (Some("0.00"), Some("0.00"))
        );
        stage.settle.verify();
        browser.close().await;
    });
}

#[test]
fn seed_001_by_charge_adjustment() {
    crate::run("seed_001_charge_adjustment", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let customer = new_customer(&mut browser, "Rowan Bakery", "rowan@seed001.example").await;
        let negative = invoice(
            &mut browser,
            &customer,
            &[("Monthly plan", "100.00"), ("Cancellation credit", "-150.00")],
        )
        .await;
        let item = browser.find("tr[data-item-id]:nth-child(2)").await;
        let item = item.attr("data-item-id").await.expect("attr").expect("item id");
        unfold(&browser).await;
        let form = "form[data-action=adjustments]";
        browser
            .find(&format!("{form} select[name=item_id]"))
            .await
            .select_by_value(&item)
            .await
            .expect("item");
        browser
            .find(&format!("{form} input[name=type][value=charge]"))
            .await
            .click()
            .await
            .expect("charge");
        let amount = browser.find(&format!("{form} [name=amount]")).await;
        amount.send_keys("50.00").await.expect("amount");
        let reason = browser.find(&format!("{form} [name=reason]")).await;
        reason.send_keys("Negative invoice charged to zero").await.expect("reason");
        browser.submit(&format!("{form} [name=reason]"), "adjustment-preview").await;
        let rows = preview(&browser).await;
        assert_eq!(change(&rows, &item), pair("-150.00", "-100.00"));
        assert_eq!(change(&rows, &negative), pair("-50.00", "0.00"));
        assert_eq!(change(&rows, "customer"), pair("50.00", "0.00"));
        browser.click("button[name=confirm]", "adjustment-done").await;
        check_invoice(&stage, &mut browser, &negative).await;
        let api = check_customer(&stage, &mut browser, &customer).await;
        assert_eq!(api["balance"], "0.00");
        stage.settle.verify();
        browser.close().await;
    });
}

#[test]
fn seed_003_by_net_items_from_attention() {
    crate::run("seed_003_net_items", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let customer = new_customer(&mut browser, "Sorrel Studio", "sorrel@seed003.example").await;
        let stuck = invoice(
            &mut browser,
            &customer,
            &[("Studio rent", "50.00"), ("Rent credit", "-50.00")],
        )
        .await;
        assert_eq!(browser.value("[data-field=balance]").await, "0.00");
        browser.visit("/attention", "attention").await;
        let row = format!("tr[data-document-id='{stuck}']");
        browser
            .click(&format!("{row} form[data-action=net-items] button"), "net-items-preview")
            .await;
        let rows = preview(&browser).await;
        assert_eq!(change(&rows, &stuck), pair("0.00", "0.00"));
        let items: Vec<_> = rows
            .iter()
            .filter(|r| r.0.starts_with("item_"))
            .map(|r| (r.1.as_str(), r.2.as_str()))
            .collect();
        assert_eq!(items, [("50.00", "0.00"), ("-50.00", "0.00")]);
        browser.click("button[name=confirm]", "net-items-done").await;
        check_invoice(&stage, &mut browser, &stuck).await;
        check_customer(&stage, &mut browser, &customer).await;
        browser.visit("/attention", "attention-after").await;
        assert!(browser.find_all(&row).await.is_empty(), "the invoice still needs attention");
        stage.settle.verify();
        browser.close().await;
    });
}
