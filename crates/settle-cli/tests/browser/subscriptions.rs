//! Issue 12's back office end to end as a clerk: a product and two monthly prices in the
//! catalog, a customer subscribed from January 1, a bill run for that day, a downgrade on
//! January 16 whose preview shows the proration lines −15.48 and +5.16 before it is saved,
//! and every figure checked against the API.

use serde_json::Value;

use crate::browser::{Browser, data_value};
use crate::clerk::{clerk, new_customer};
use crate::processes::Settle;

/// Sets a date input's value (typing into one depends on the browser's locale).
async fn set_date(browser: &Browser, name: &str, date: &str) {
    let script = format!("document.querySelector(\"[name='{name}']\").value = '{date}';");
    browser.script(&script).await;
}

/// The product of this walk (the demo has products of its own).
const PRODUCT: &str = "Orchard retainer";

/// Makes the product and its prices of `amounts` through `/products`; their ids in order.
async fn make_catalog(browser: &mut Browser, amounts: &[&str]) -> Vec<String> {
    browser.visit("/products", "catalog").await;
    browser.fill("name", PRODUCT).await;
    browser.submit("#new-product [name=name]", "catalog-with-product").await;
    assert_eq!(browser.path().await, "/products");
    let mut product = None;
    for section in browser.find_all("section[data-product-id]").await {
        if section.text().await.expect("text").contains(PRODUCT) {
            product = section.attr("data-product-id").await.expect("attribute");
        }
    }
    let product = product.expect("the new product's section");
    for amount in amounts {
        browser.fill("product_id", &product).await;
        browser.fill("unit_amount", amount).await;
        browser.choose("interval", "month").await;
        browser.submit("#new-price [name=unit_amount]", &format!("catalog-price-{amount}")).await;
        assert_eq!(browser.path().await, "/products");
    }
    let mut ids = Vec::new();
    for amount in amounts {
        let mut found = None;
        let rows = format!("section[data-product-id='{product}'] tr[data-price-id]");
        for row in browser.find_all(&rows).await {
            let cell = row.find(fantoccini::Locator::Css("[data-field=unit_amount]")).await;
            if data_value(&cell.expect("a unit amount")).await == *amount {
                found = row.attr("data-price-id").await.expect("attribute");
            }
        }
        ids.push(found.unwrap_or_else(|| panic!("no price of {amount} in the catalog")));
    }
    ids
}

/// From the customer page: New subscription on `price` from `start`; the subscription's id.
async fn subscribe(browser: &mut Browser, customer: &str, price: &str, start: &str) -> String {
    browser.visit(&format!("/customers/{customer}"), "customer-before-subscription").await;
    browser.click("#subscriptions a[href$='/subscriptions/new']", "new-subscription").await;
    set_date(browser, "start_date", start).await;
    browser.fill("items[0].price_id", price).await;
    browser.submit("[name=start_date]", "subscription-created").await;
    let path = browser.path().await;
    path.strip_prefix("/subscriptions/").expect("the subscription's page").to_owned()
}

/// Starts a bill run for `as_of` and follows its page (it reloads itself) until it is done.
async fn run_bills(browser: &mut Browser, settle: &Settle, as_of: &str) {
    browser.visit("/bill-runs", "bill-runs").await;
    set_date(browser, "as_of", as_of).await;
    browser.submit("[name=as_of]", "bill-run-started").await;
    let id = browser.path().await.trim_start_matches("/bill-runs/").to_owned();
    for _ in 0..100 {
        // The badge's text is shown upper-case by the style sheet.
        let status = browser.find("[data-field=status]").await.text().await.expect("status");
        if status.eq_ignore_ascii_case("done") {
            break;
        }
        browser.reload("bill-run-progress").await;
    }
    browser.shot("bill-run-done").await;
    let created = browser.find("[data-field=invoices_created]").await.text().await;
    assert_eq!(created.expect("text"), "1");
    let api = settle.api_get(&format!("/v1/bill-runs/{id}"));
    assert_eq!(api["invoices_created"], 1, "{api}");
    let shown = browser.value("[data-field=total][data-currency=USD]").await;
    assert_eq!(shown, "30.00");
    assert_eq!(api["total"]["USD"], Value::String(shown), "{api}");
}

/// The amendment form: a downgrade to `price` on `date`; checks the preview, then confirms.
async fn downgrade(browser: &mut Browser, sub: &str, price: &str, date: &str) {
    browser.visit(&format!("/subscriptions/{sub}"), "subscription-billed").await;
    assert_eq!(
        browser.value("tr[data-period-start='2026-01-01'] [data-field=total]").await,
        "30.00"
    );
    browser.fill("type", "change_price").await;
    browser.fill("price_id", price).await;
    set_date(browser, "effective_date", date).await;
    browser.submit("form[data-action=amend] [name=quantity]", "amendment-preview").await;
    let mut lines = Vec::new();
    for row in browser.find_all("tr[data-line] [data-field=amount]").await {
        lines.push(data_value(&row).await);
    }
    assert_eq!(lines, ["-15.48", "5.16"], "the proration lines");
    assert_eq!(browser.value("tfoot [data-field=total]").await, "-10.32");
    assert_eq!(browser.value("tr[data-preview=customer] [data-field=before]").await, "-30.00");
    assert_eq!(browser.value("tr[data-preview=customer] [data-field=after]").await, "-19.68");
    browser.click("button[name=confirm]", "subscription-amended").await;
    assert_eq!(browser.path().await, format!("/subscriptions/{sub}"));
    assert!(browser.text().await.contains("Amendment saved."));
}

#[test]
fn a_clerk_subscribes_a_customer_downgrades_with_a_preview_and_runs_a_bill_run() {
    crate::run("subscriptions", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let prices = make_catalog(&mut browser, &["30.00", "10.00"]).await;
        let customer = new_customer(&mut browser, "Orchard Design Co", "ap@orchard.example").await;
        let sub = subscribe(&mut browser, &customer, &prices[0], "2026-01-01").await;
        run_bills(&mut browser, &stage.settle, "2026-01-01").await;
        downgrade(&mut browser, &sub, &prices[1], "2026-01-16").await;

        let invoice = browser
            .find("tr[data-amendment-id] a[data-document-id]")
            .await
            .attr("data-document-id")
            .await
            .expect("attribute")
            .expect("the proration invoice");
        assert_eq!(browser.value("tr[data-amendment-id] [data-field=total]").await, "-10.32");
        let api = stage.settle.api_get(&format!("/v1/invoices/{invoice}"));
        assert_eq!(api["total"], "-10.32", "{api}");
        let api = stage.settle.api_get(&format!("/v1/subscriptions/{sub}"));
        assert_eq!(api["items"][0]["price_id"], Value::String(prices[1].clone()), "{api}");
        browser.visit(&format!("/customers/{customer}"), "customer-after-downgrade").await;
        let api = stage.settle.api_get(&format!("/v1/customers/{customer}"));
        assert_eq!(api["balance"], "-19.68", "{api}");
        assert_eq!(Value::String(browser.value("[data-field=balance]").await), api["balance"]);
        browser.find(&format!("tr[data-subscription-id='{sub}']")).await;
        browser.phone_shot("customer-after-downgrade-phone").await;
        stage.settle.verify();
        browser.close().await;
    });
}
