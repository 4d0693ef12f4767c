//! A new invoice through `/invoices/new` (two lines, a tax, posted) and its page; and a refused
//! Add Entry whose message stands beside the field, with nothing written.

use fantoccini::Locator;
use serde_json::{Value, json};

use crate::browser::{Browser, data_value};
use crate::clerk::{Entry, add_entry, clerk, fill_entry, new_customer, open_entry_form};

#[test]
fn a_new_invoice_with_two_lines_and_a_tax_is_posted_with_its_item_balances() {
    crate::run("new_invoice", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let larkspur = new_customer(&mut browser, "Larkspur Florist", "larkspur@example.com").await;
        let path = format!("/invoices/new?customer_id={larkspur}");
        browser.visit(&path, "new-invoice").await;
        fill_line(&browser, 0, "Wedding arrangements", LineAmount::Amount("200.00")).await;
        fill_named(&browser, r"tax.*name|name.*tax", 0, "Sales tax").await;
        fill_named(&browser, r"rate", 0, "8.25").await;
        fill_line(&browser, 1, "Delivery runs", LineAmount::Quantity("3", "45.00")).await;
        post_invoice(&mut browser).await;

        let path = browser.path().await;
        assert!(path.starts_with("/invoices/"), "posting led to {path}");
        let text = browser.text().await.to_lowercase();
        assert!(text.contains("posted"), "the invoice page does not say posted: {text}");
        // 200.00, its tax 8.25% = 16.50, then 3 × 45.00 = 135.00.
        assert_eq!(
            items(&browser).await,
            [["200.00", "200.00"], ["16.50", "16.50"], ["135.00", "135.00"]]
        );
        assert_eq!(browser.value("[data-field=balance]").await, "351.50");

        browser.visit(&format!("/customers/{larkspur}"), "customer-with-invoice").await;
        assert_eq!(browser.value("[data-field=balance]").await, "-351.50");
        assert_eq!(browser.value("[data-field=receivable]").await, "351.50");
        browser.close().await;
    });
}

#[test]
fn a_refused_entry_shows_the_message_beside_the_amount_and_writes_nothing() {
    crate::run("refused_entry", |mut stage| async move {
        let mut browser = clerk(&mut stage).await;
        let id = new_customer(&mut browser, "Marigold Tailors", "marigold@example.com").await;
        let fee = Entry {
            kind: "charge",
            amount: "60.00",
            description: "Alterations",
            payment_method: "",
            notes: "",
        };
        add_entry(&mut browser, &id, &fee).await;

        open_entry_form(&mut browser, &id).await;
        let before = field_blocks(&browser, "amount").await;
        let bad = Entry { amount: "abc", description: "Hemming", ..fee };
        fill_entry(&browser, &bad).await;
        browser.submit("[name=amount]", "add-entry-refused").await;
        assert_eq!(browser.status().await, 422, "a refused form answers 422");
        let amount = browser.find("[name=amount]").await;
        assert_eq!(amount.prop("value").await.expect("value").as_deref(), Some("abc"));
        let after = field_blocks(&browser, "amount").await;
        let described = described_by(&browser, "amount").await;
        let beside = before.iter().zip(&after).any(|(was, now)| now.len() > was.len());
        assert!(
            beside || !described.is_empty(),
            "no message beside the amount field: before {before:?}, after {after:?}"
        );

        browser.visit(&format!("/customers/{id}"), "customer-after-refusal").await;
        assert_eq!(browser.value("[data-field=balance]").await, "-60.00");
        assert_eq!(browser.find_all("#billing tr[data-history-id]").await.len(), 1);
        browser.close().await;
    });
}

/// How a line's amount is given: an amount, or a quantity and a unit price.
pub(crate) enum LineAmount<'a> {
    Amount(&'a str),
    Quantity(&'a str, &'a str),
}

/// Fills line `index` of the new-invoice form.
pub(crate) async fn fill_line(
    browser: &Browser,
    index: usize,
    description: &str,
    amount: LineAmount<'_>,
) {
    fill_named(browser, r"description", index, description).await;
    match amount {
        LineAmount::Amount(amount) => fill_named(browser, r"(^|\W)amount\W*$", index, amount).await,
        LineAmount::Quantity(quantity, unit_price) => {
            fill_named(browser, r"quantity", index, quantity).await;
            fill_named(browser, r"unit_price", index, unit_price).await;
        }
    }
}

/// Fills the `nth` field of the form whose name matches `pattern` (a JavaScript regular
/// expression, case-insensitive): the form's line fields are named after the API's
/// (`items[0][description]`, ...), whatever their exact spelling.
async fn fill_named(browser: &Browser, pattern: &str, nth: usize, value: &str) {
    let script = "var re = new RegExp(arguments[0], 'i'); \
         var names = Array.from(document.querySelectorAll('form [name]')).map(e => e.name) \
             .filter(n => n !== 'csrf' && re.test(n)); \
         return Array.from(new Set(names));";
    let names = browser.script_with(script, vec![json!(pattern)]).await;
    let name = names
        .get(nth)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no field {nth} named like /{pattern}/ in {names}"))
        .to_owned();
    browser.fill(&name, value).await;
}

/// Posts the new invoice: its "post now" button, or its `post` box ticked and then Save.
pub(crate) async fn post_invoice(browser: &mut Browser) {
    let buttons = browser.find_all("button[name=post], button[value=post]").await;
    if let Some(button) = buttons.into_iter().next() {
        browser.press(button, "invoice-posted").await;
        return;
    }
    let tick = browser.find("input[name=post]").await;
    if !tick.is_selected().await.expect("checked") {
        tick.click().await.expect("ticking post");
    }
    browser.submit("input[name=post]", "invoice-posted").await;
}

/// Every item row of the document shown now: [amount, balance] `data-value`s.
async fn items(browser: &Browser) -> Vec<[String; 2]> {
    let mut items = Vec::new();
    for row in browser.find_all("tr[data-item-id]").await {
        let mut values = [String::new(), String::new()];
        for (slot, field) in values.iter_mut().zip(["amount", "balance"]) {
            let cell = row.find(Locator::Css(&format!("[data-field={field}]"))).await;
            *slot = data_value(&cell.expect("an item cell")).await;
        }
        items.push(values);
    }
    items
}

/// The texts of the field's own blocks: each ancestor (inside the form) holding no other
/// field, nearest first. A message beside the field makes one of them longer.
async fn field_blocks(browser: &Browser, name: &str) -> Vec<String> {
    let script = "var f = document.querySelector('[name=\"' + arguments[0] + '\"]'); var out = []; \
         for (var e = f.parentElement; e && e.tagName !== 'FORM'; e = e.parentElement) { \
             var others = Array.from(e.querySelectorAll('[name]')) \
                 .filter(o => o.name !== arguments[0]); \
             if (others.length) break; \
             out.push(e.innerText.trim()); } \
         return out;";
    let blocks = browser.script_with(script, vec![json!(name)]).await;
    blocks
        .as_array()
        .map(|all| all.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The text of what the field's `aria-describedby` points at.
async fn described_by(browser: &Browser, name: &str) -> String {
    let script = "var f = document.querySelector('[name=\"' + arguments[0] + '\"]'); \
         return (f.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean) \
             .map(i => (document.getElementById(i) || {}).textContent || '').join(' ').trim();";
    let text = browser.script_with(script, vec![json!(name)]).await;
    text.as_str().unwrap_or_default().to_owned()
}
