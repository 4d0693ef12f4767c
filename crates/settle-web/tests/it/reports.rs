//! Reports in the back office: aging and the trial balance per currency, as of a date.

use axum::http::StatusCode;

use crate::harness::{TestWeb, assert_amounts_have_values, field_value};

#[tokio::test]
async fn aging_and_the_trial_balance_show_the_ledger_as_of_a_date() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    for form in [
        [
            ("kind", "charge"),
            ("amount", "150.00"),
            ("description", "Work"),
            ("effective_date", "2026-01-10"),
        ],
        [
            ("kind", "credit"),
            ("amount", "40.00"),
            ("description", "Discount"),
            ("effective_date", "2026-02-20"),
        ],
    ] {
        let page = web.post_as(&clerk, &format!("/customers/{ann}/entries/new"), &form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let aging = web.get_as(&clerk, "/reports/aging?as_of=2026-03-01").await;
    assert_eq!(aging.status, StatusCode::OK);
    assert_amounts_have_values(&aging.body);
    let row =
        &aging.body[aging.body.find(&format!(r#"<tr data-customer-id="{ann}">"#)).expect("row")..];
    assert_eq!(field_value(row, "", "net"), Some("110.00"));
    assert!(row.contains(r#"data-value="150.00""#) && row.contains(r#"data-value="40.00""#));
    let before = web.get_as(&clerk, "/reports/aging?as_of=2026-01-31").await;
    let row = &before.body
        [before.body.find(&format!(r#"<tr data-customer-id="{ann}">"#)).expect("row")..];
    assert_eq!(field_value(row, "", "net"), Some("150.00"));
    let bad = web.get_as(&clerk, "/reports/aging?as_of=soon").await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains(r#"data-error-for="as_of">"#));

    let trial = web.get_as(&clerk, "/reports/trial-balance").await;
    assert_amounts_have_values(&trial.body);
    let receivable =
        &trial.body[trial.body.find(r#"<tr data-account="receivable">"#).expect("row")..];
    assert_eq!(field_value(receivable, "", "debit"), Some("150.00"));
    let memos = &trial.body[trial.body.find(r#"<tr data-account="credit_memos">"#).expect("row")..];
    assert_eq!(field_value(memos, "", "credit"), Some("40.00"));
    let january = web.get_as(&clerk, "/reports/trial-balance?as_of=2026-01-31").await;
    assert!(!january.body.contains(r#"<tr data-account="credit_memos">"#), "{}", january.body);
    let settings = web.get_as(&clerk, "/settings").await;
    assert_eq!(settings.status, StatusCode::FORBIDDEN);
}
