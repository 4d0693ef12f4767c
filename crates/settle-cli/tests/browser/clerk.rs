//! What a billing clerk does again and again, as seed 002 walks it: sign in, make a customer,
//! Add Entry.

use crate::Stage;
use crate::browser::Browser;

pub(crate) const CLERK_EMAIL: &str = "clerk@browser-tests.example";
pub(crate) const CLERK_PASSWORD: &str = "ledger-clerk-password-42";

/// Makes a clerk with `settle user create` and signs in as that clerk in a new session.
pub(crate) async fn clerk(stage: &mut Stage) -> Browser {
    stage.settle.create_user(CLERK_EMAIL, "clerk", CLERK_PASSWORD);
    let mut browser = stage.browser().await;
    sign_in(&mut browser, CLERK_EMAIL, CLERK_PASSWORD).await;
    browser
}

/// Signs in through `/login` and lands on the customer list.
pub(crate) async fn sign_in(browser: &mut Browser, email: &str, password: &str) {
    browser.visit("/login", "login").await;
    browser.fill("email", email).await;
    browser.fill("password", password).await;
    browser.submit("[name=password]", "customers-after-sign-in").await;
    assert_eq!(browser.path().await, "/customers", "{email} did not land on the customer list");
}

/// Creates a customer through `/customers/new`; returns its id (from the page it lands on).
pub(crate) async fn new_customer(browser: &mut Browser, name: &str, email: &str) -> String {
    browser.visit("/customers/new", &format!("new-customer-{}", slug(name))).await;
    browser.fill("name", name).await;
    browser.fill("email", email).await;
    browser.submit("[name=name]", &format!("customer-{}", slug(name))).await;
    let path = browser.path().await;
    let id = path
        .strip_prefix("/customers/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .unwrap_or_else(|| panic!("creating {name} led to {path}, not to the customer's page"));
    assert!(browser.text().await.contains(name), "the new customer's page does not name {name}");
    id.to_owned()
}

/// One Add Entry, as in seed 002.
pub(crate) struct Entry<'a> {
    pub(crate) kind: &'a str,
    pub(crate) amount: &'a str,
    pub(crate) description: &'a str,
    /// Empty for a charge, and for a credit memo.
    pub(crate) payment_method: &'a str,
    pub(crate) notes: &'a str,
}

/// From the customer's page: Add Entry, fill it in, Save; back on the customer's page.
pub(crate) async fn add_entry(browser: &mut Browser, customer_id: &str, entry: &Entry<'_>) {
    open_entry_form(browser, customer_id).await;
    fill_entry(browser, entry).await;
    let page = format!("customer-after-{}-{}", entry.kind, entry.amount.replace('.', "_"));
    browser.submit("[name=amount]", &page).await;
    assert_eq!(
        browser.path().await,
        format!("/customers/{customer_id}"),
        "saving the {} of {} did not lead back to the customer's page",
        entry.kind,
        entry.amount
    );
}

/// Opens the customer's page and clicks Add Entry.
pub(crate) async fn open_entry_form(browser: &mut Browser, customer_id: &str) {
    browser.visit(&format!("/customers/{customer_id}"), "customer").await;
    // "Click Add Entry in the Billing section."
    let link = format!("#billing a[href$='/customers/{customer_id}/entries/new']");
    browser.click(&link, "add-entry").await;
    assert_eq!(browser.path().await, format!("/customers/{customer_id}/entries/new"));
}

/// Fills the Add Entry form.
pub(crate) async fn fill_entry(browser: &Browser, entry: &Entry<'_>) {
    browser.choose("kind", entry.kind).await;
    browser.fill("amount", entry.amount).await;
    browser.fill("description", entry.description).await;
    if !entry.payment_method.is_empty() {
        browser.fill("payment_method", entry.payment_method).await;
    }
    if !entry.notes.is_empty() {
        browser.fill("notes", entry.notes).await;
    }
}

/// A file-name-friendly form of `name`.
pub(crate) fn slug(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}
