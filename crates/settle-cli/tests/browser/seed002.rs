//! Seed 002 ("Understanding balances") end to end as a clerk: customers, Add Entry charges and
//! credits, the list's balances, sorting and search, the customer's page and its billing
//! history, and a history line's document.

use fantoccini::Locator;

use crate::browser::{Browser, data_value};
use crate::clerk::{CLERK_PASSWORD, Entry, add_entry, clerk, new_customer};
use crate::processes::ADMIN_EMAIL;

/// The three customers of this walk; their emails share a domain to search by.
const HARBOR: &str = "Harbor Lights Cafe";
const IVY: &str = "Ivy Lane Books";
const JUNIPER: &str = "Juniper Yoga Studio";

#[test]
fn a_clerk_walks_seed_002_from_new_customers_to_their_documents() {
    crate::run("seed_002_balances", |mut stage| async move {
        let printed = stage.settle.printed();
        assert!(printed.contains(ADMIN_EMAIL), "serve did not print the sign-in: {printed}");
        assert!(!printed.contains(CLERK_PASSWORD));
        let mut browser = clerk(&mut stage).await;
        let ids = make_customers(&mut browser).await;
        check_list(&mut browser, &ids).await;
        check_sorting_and_search(&mut browser, &ids).await;
        check_customer_page(&mut browser, &ids[0]).await;
        check_history_links(&mut browser, &ids[0]).await;
        browser.close().await;
    });
}

/// Harbor: a charge of 150.00 and a 50.00 check (a payment); Ivy: charges of 400.00 and 25.50;
/// Juniper: a charge of 80.00 and a credit memo of 100.00. Returns [harbor, ivy, juniper].
async fn make_customers(browser: &mut Browser) -> [String; 3] {
    let harbor = new_customer(browser, HARBOR, "harbor@seed002.example").await;
    let ivy = new_customer(browser, IVY, "books@ivylane-seed002.example").await;
    let juniper = new_customer(browser, JUNIPER, "studio@juniper-seed002.example").await;
    let charge = |amount, description| Entry {
        kind: "charge",
        amount,
        description,
        payment_method: "",
        notes: "",
    };
    add_entry(browser, &harbor, &charge("150.00", "Catering for the March event")).await;
    let check = Entry {
        kind: "credit",
        amount: "50.00",
        description: "Payment, thank you",
        payment_method: "check",
        notes: "Check 1042",
    };
    add_entry(browser, &harbor, &check).await;
    add_entry(browser, &ivy, &charge("400.00", "Shelving installation")).await;
    add_entry(browser, &ivy, &charge("25.50", "Delivery fee")).await;
    add_entry(browser, &juniper, &charge("80.00", "Mat cleaning")).await;
    let memo = Entry {
        kind: "credit",
        amount: "100.00",
        description: "Goodwill discount",
        payment_method: "",
        notes: "Class cancelled by us",
    };
    add_entry(browser, &juniper, &memo).await;
    [harbor, ivy, juniper]
}

/// The rows of the customer list shown now: (customer id, balance's `data-value`).
async fn rows(browser: &Browser) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for row in browser.find_all("tr[data-customer-id]").await {
        let id = row.attr("data-customer-id").await.expect("attribute").expect("an id");
        let balance = row
            .find(Locator::Css("[data-field=balance]"))
            .await
            .unwrap_or_else(|err| panic!("customer row {id} has no balance: {err}"));
        rows.push((id, data_value(&balance).await));
    }
    rows
}

/// The list, searched by the emails' shared part: exactly the three, with seed 002's signs.
async fn check_list(browser: &mut Browser, [harbor, ivy, juniper]: &[String; 3]) {
    browser.visit("/customers?search=seed002&sort=name", "customers-seed002-by-name").await;
    let expected = vec![
        (harbor.clone(), "-100.00".to_owned()),
        (ivy.clone(), "-425.50".to_owned()),
        (juniper.clone(), "20.00".to_owned()),
    ];
    assert_eq!(rows(browser).await, expected);
}

/// Sorting by balance puts who owes most first (most negative); by name, A to Z; search
/// through the list's own search field finds by name and by email.
async fn check_sorting_and_search(browser: &mut Browser, [harbor, ivy, juniper]: &[String; 3]) {
    let order = async |browser: &mut Browser, sort: &str| -> Vec<String> {
        let path = format!("/customers?search=seed002&sort={sort}");
        browser.visit(&path, &format!("customers-sort-{}", sort.replace('-', "desc-"))).await;
        rows(browser).await.into_iter().map(|(id, _)| id).collect()
    };
    assert_eq!(order(browser, "balance").await, [ivy.as_str(), harbor, juniper]);
    assert_eq!(order(browser, "-balance").await, [juniper.as_str(), harbor, ivy]);
    assert_eq!(order(browser, "name").await, [harbor.as_str(), ivy, juniper]);
    assert_eq!(order(browser, "-name").await, [juniper.as_str(), ivy, harbor]);

    browser.visit("/customers", "customers-all").await;
    let all = rows(browser).await;
    assert!(all.len() >= 3, "the list shows {} customers", all.len());
    // The same through the list's own form: search and sort, as a clerk picks them.
    browser.fill("search", "seed002").await;
    browser.fill("sort", "balance").await;
    browser.submit("[name=search]", "customers-searched-sorted-by-balance").await;
    let ids: Vec<String> = rows(browser).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [ivy.as_str(), harbor, juniper]);

    browser.visit("/customers", "customers-all-before-search").await;
    browser.fill("search", "ivy lane").await;
    browser.submit("[name=search]", "customers-search-by-name").await;
    assert!(browser.query().await.contains("search=ivy"), "{}", browser.query().await);
    assert_eq!(rows(browser).await, vec![(ivy.clone(), "-425.50".to_owned())]);

    browser.visit("/customers", "customers-all-again").await;
    browser.fill("search", "STUDIO@JUNIPER").await;
    browser.submit("[name=search]", "customers-search-by-email").await;
    assert_eq!(rows(browser).await, vec![(juniper.clone(), "20.00".to_owned())]);

    // "Click on a customer's name to see their full billing history and current balance."
    let link = format!("tr[data-customer-id='{juniper}'] a");
    browser.click(&link, "customer-from-list").await;
    assert_eq!(browser.path().await, format!("/customers/{juniper}"));
    assert_eq!(browser.value("[data-field=balance]").await, "20.00");
}

/// Harbor's page: balance and its parts, and the Billing history newest first.
async fn check_customer_page(browser: &mut Browser, harbor: &str) {
    browser.visit(&format!("/customers/{harbor}"), "customer-harbor").await;
    assert!(browser.text().await.contains(HARBOR));
    assert_eq!(browser.value("[data-field=balance]").await, "-100.00");
    assert_eq!(browser.value("[data-field=receivable]").await, "150.00");
    assert_eq!(browser.value("[data-field=available_credit]").await, "50.00");
    let mut history = Vec::new();
    for row in browser.find_all("#billing tr[data-history-id]").await {
        let mut values = Vec::new();
        for field in ["amount", "balance_after"] {
            let css = format!("[data-field={field}]");
            let cell = row.find(Locator::Css(&css)).await.expect("a history cell");
            values.push(data_value(&cell).await);
        }
        history.push(values);
    }
    assert_eq!(history, [["50.00", "-100.00"], ["-150.00", "-150.00"]]);
    let text = browser.find("#billing").await.text().await.expect("billing text");
    for words in ["Payment, thank you", "Catering for the March event"] {
        assert!(text.contains(words), "the Billing section does not show {words:?}: {text}");
    }
}

/// Each history line opens its document: the charge its invoice, the check its payment.
async fn check_history_links(browser: &mut Browser, harbor: &str) {
    open_history_line(browser, 1, "invoice-from-history").await;
    let path = browser.path().await;
    assert!(path.starts_with("/invoices/"), "the charge's line led to {path}");
    assert!(browser.text().await.contains("Catering for the March event"));
    assert_eq!(browser.value("[data-field=balance]").await, "150.00");
    let items = browser.find_all("tr[data-item-id]").await;
    assert_eq!(items.len(), 1, "a charge is an invoice of one item");
    for (field, expected) in [("amount", "150.00"), ("balance", "150.00")] {
        let cell = items[0].find(Locator::Css(&format!("[data-field={field}]"))).await;
        assert_eq!(data_value(&cell.expect("item cell")).await, expected, "item {field}");
    }

    browser.visit(&format!("/customers/{harbor}"), "customer-harbor-again").await;
    open_history_line(browser, 0, "payment-from-history").await;
    let path = browser.path().await;
    assert!(path.starts_with("/payments/"), "the check's line led to {path}");
    assert_eq!(browser.value("[data-field=unapplied]").await, "50.00");
}

/// Clicks the link of the `index`th line (0 = newest) of the Billing history.
async fn open_history_line(browser: &mut Browser, index: usize, page: &str) {
    let rows = browser.find_all("#billing tr[data-history-id]").await;
    let row = rows.get(index).unwrap_or_else(|| panic!("no history line {index}"));
    let link = row.find(Locator::Css("a")).await.expect("a history line links to its document");
    browser.press(link, page).await;
}
