//! Unapply from the invoice, payment and credit memo pages: whole or partial, the value back
//! with its source, and refusals beside the amount with nothing written.

use axum::http::StatusCode;
use settle_core::ids::{DocumentId, PaymentId};
use settle_engine::{Amount, ApplicationTarget, NewApplication, SourceInput};

use crate::collect::{balance, invoice, on, payment, unapplied};
use crate::harness::{TestWeb, field_value};

/// Applies `amount` of `payment` to `invoice`; the application's id.
async fn apply(web: &TestWeb, payment: &PaymentId, invoice: &DocumentId, amount: &str) -> String {
    let (payment, invoice) = (payment.clone(), invoice.clone());
    let amount = Amount::parse(amount).expect("amount");
    on(web, move |e, t| {
        let target =
            ApplicationTarget { target_id: invoice, amount: Some(amount), items: None, rule: None };
        let new =
            NewApplication { source: SourceInput::Payment(payment), target, effective_date: None };
        e.apply(t, new).expect("apply").id.to_string()
    })
    .await
}

#[tokio::test]
async fn unapply_in_part_from_the_invoice_and_the_rest_from_the_payment_page() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let inv = invoice(&web, &customer, "100.00", "2026-02-01").await;
    let pay = payment(&web, &customer, "150.00").await;
    let app = apply(&web, &pay, &inv, "100.00").await;

    let page = web.get_as(&clerk, &format!("/invoices/{inv}")).await;
    assert!(
        page.body.contains(&format!(r#"action="/applications/{app}/reverse""#)),
        "{}",
        page.body
    );
    let back = format!("/invoices/{inv}");
    let done = web
        .post_as(
            &clerk,
            &format!("/applications/{app}/reverse"),
            &[("amount", "40.00"), ("back", &back)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some(format!("/invoices/{inv}?done=unapplied").as_str()));
    assert_eq!(balance(&web, &inv).await, "40.00");
    assert_eq!(unapplied(&web, &pay).await, "90.00");
    let page = web.get_as(&clerk, done.location().expect("location")).await;
    assert!(page.body.contains("Unapplied"));
    assert_eq!(field_value(&page.body, "data-application-id", "net"), Some("60.00"));

    let back = format!("/payments/{pay}");
    let done = web
        .post_as(
            &clerk,
            &format!("/applications/{app}/reverse"),
            &[("amount", ""), ("back", &back)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some(format!("/payments/{pay}?done=unapplied").as_str()));
    assert_eq!(balance(&web, &inv).await, "100.00");
    assert_eq!(unapplied(&web, &pay).await, "150.00");
    let page = web.get_as(&clerk, &back).await;
    assert_eq!(field_value(&page.body, "", "unapplied"), Some("150.00"));
    assert!(!page.body.contains("/reverse\""), "a reversed application offers Unapply");
    let report = on(&web, |e, _| e.verify().expect("verify")).await;
    assert!(report.is_clean());
}

#[tokio::test]
async fn unapplying_more_than_is_applied_or_a_bad_amount_is_refused_beside_the_amount() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let inv = invoice(&web, &customer, "100.00", "2026-02-01").await;
    let pay = payment(&web, &customer, "100.00").await;
    let app = apply(&web, &pay, &inv, "30.00").await;
    let path = format!("/applications/{app}/reverse");
    for (amount, words) in [("30.01", "30.00"), ("-1.00", ""), ("1.001", "USD"), ("x", "")] {
        let page = web.post_as(&clerk, &path, &[("amount", amount)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}: {}", page.body);
        let at = page.body.find(r#"data-error-for="amount">"#).expect("an error beside amount");
        let shown =
            &page.body[at..page.body[at..].find("</p>").map_or(page.body.len(), |e| at + e)];
        assert!(shown.contains(words), "{amount}: {shown}");
        assert_eq!(balance(&web, &inv).await, "70.00");
        assert_eq!(unapplied(&web, &pay).await, "70.00");
    }
}
