//! Seed 002 "Share balance with customer": Generate Link on the customer's page, the link
//! opened in a browser without any session (also at a phone's width), Revoke, and then 404.

use crate::browser::Browser;
use crate::clerk::{Entry, add_entry, clerk, new_customer};

const KESTREL: &str = "Kestrel Bike Repair";

#[test]
fn a_payment_link_shows_one_customer_without_sign_in_until_it_is_revoked() {
    crate::run("seed_002_payment_link", |mut stage| async move {
        let mut staff = clerk(&mut stage).await;
        let kestrel = new_customer(&mut staff, KESTREL, "shop@kestrel-seed002.example").await;
        let charge = Entry {
            kind: "charge",
            amount: "240.00",
            description: "Spring tune-ups",
            payment_method: "",
            notes: "",
        };
        add_entry(&mut staff, &kestrel, &charge).await;
        let card = Entry {
            kind: "credit",
            amount: "40.00",
            description: "Deposit",
            payment_method: "card",
            notes: "",
        };
        add_entry(&mut staff, &kestrel, &card).await;
        let url = generate_link(&mut staff, &kestrel).await;

        let mut customer = stage.browser().await;
        customer.visit("/customers", "no-session-customers").await;
        assert_eq!(customer.path().await, "/login", "a browser without a session saw /customers");
        assert!(!customer.text().await.contains(KESTREL));
        check_pay_page(&mut customer, &url).await;

        revoke_link(&mut staff, &kestrel).await;
        customer.reload("pay-revoked").await;
        assert_eq!(customer.status().await, 404, "a revoked link still answers");
        assert!(!customer.text().await.contains(KESTREL), "a revoked link shows the customer");
        let path = url.strip_prefix(&stage.settle.url).expect("the link is on this server");
        assert_eq!(stage.settle.status_of(path), 404);
        customer.close().await;
        staff.close().await;
    });
}

/// Generate Link on the customer's page; returns the URL shown once in `#payment-link-url`.
async fn generate_link(staff: &mut Browser, customer_id: &str) -> String {
    staff.visit(&format!("/customers/{customer_id}"), "customer-before-link").await;
    let form = format!("form[action$='/customers/{customer_id}/payment-links']");
    staff.submit(&form, "payment-link-generated").await;
    let shown = staff.find("#payment-link-url").await;
    let url = match shown.prop("value").await.expect("value property") {
        Some(value) if !value.is_empty() => value,
        _ => shown.text().await.expect("link text"),
    };
    let url = url.trim().to_owned();
    assert!(url.contains("/pay/"), "the shown link is not a /pay/ URL: {url:?}");
    url
}

/// The link in a fresh session: the customer, their balance (-200.00: 240.00 charged, 40.00
/// paid) and nothing of any other customer; also screenshotted at a phone's width.
async fn check_pay_page(customer: &mut Browser, url: &str) {
    customer.visit(url, "pay").await;
    assert_eq!(customer.status().await, 200);
    let text = customer.text().await;
    assert!(text.contains(KESTREL), "the payment page does not name the customer: {text}");
    assert!(text.contains("Spring tune-ups"), "the payment page does not show the charge");
    assert_eq!(customer.value("[data-value='-200.00']").await, "-200.00");
    for other in ["Ann Smith Landscaping", "Bob Jones Plumbing", "Zed Analytics"] {
        assert!(!text.contains(other), "the payment page shows another customer, {other}");
    }
    let forms = customer.find_all("form").await;
    assert!(forms.is_empty(), "the payment page is read-only but has {} forms", forms.len());
    customer.phone_shot("pay-phone").await;
}

/// Revoke on the customer's page (the link's revoke form), then the link is no longer live.
async fn revoke_link(staff: &mut Browser, customer_id: &str) {
    staff.visit(&format!("/customers/{customer_id}"), "customer-with-link").await;
    staff.phone_shot("customer-phone").await;
    let form = "form[action*='/payment-links/'][action$='/revoke']";
    staff.submit(form, "payment-link-revoked").await;
    assert_eq!(staff.path().await, format!("/customers/{customer_id}"));
    assert!(staff.find_all(form).await.is_empty(), "the revoked link is still offered");
}
