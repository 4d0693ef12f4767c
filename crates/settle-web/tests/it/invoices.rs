//! Invoices through the back office: several lines with taxes, draft then Post, the items'
//! hooks, and refusals that name the form line they came from.

use axum::http::StatusCode;

use crate::harness::{TestWeb, field_value};

/// The `data-value` of `field` in each `tr[data-item-id]`.
fn items(html: &str, field: &str) -> Vec<String> {
    html.split("<tr data-item-id=")
        .skip(1)
        .filter_map(|row| field_value(row, "", field).map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_invoice_of_several_lines_is_saved_as_a_draft_and_posted_from_its_page() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let form = web.get_as(&clerk, &format!("/invoices/new?customer_id={ann}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.body.matches("<fieldset class=\"line\"").count(), 5);
    let path = format!("/invoices/new?customer_id={ann}");
    let draft = web
        .post_as(
            &clerk,
            &path,
            &[
                ("items[0].description", "Consulting"),
                ("items[0].quantity", "3"),
                ("items[0].unit_price", "40.00"),
                ("items[0].tax_name", "VAT"),
                ("items[0].tax_rate", "10"),
                ("items[2].description", "Travel"),
                ("items[2].amount", "15.50"),
                ("items[2].tax_amount", "1.25"),
                ("invoice_date", "2026-02-20"),
                ("post", "false"),
            ],
        )
        .await;
    assert_eq!(draft.status, StatusCode::SEE_OTHER, "{}", draft.body);
    let location = draft.location().expect("location").to_owned();
    let page = web.get_as(&clerk, &location).await;
    assert!(page.body.contains(r#"data-field="status">draft<"#), "{}", page.body);
    assert_eq!(items(&page.body, "amount"), ["120.00", "12.00", "15.50", "1.25"]);
    assert_eq!(field_value(&page.body, "", "total"), Some("148.75"));
    assert_eq!(field_value(&page.body, "", "balance"), Some("0.00"));
    assert!(page.body.contains("3 × 40.00"));
    let customer = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert_eq!(field_value(&customer.body, "", "balance"), Some("0.00"));
    assert!(customer.body.contains(r#"id="drafts""#));

    let id = location.trim_start_matches("/invoices/");
    let posted = web.post_as(&clerk, &format!("/invoices/{id}/post"), &[]).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    let page = web.get_as(&clerk, posted.location().expect("location")).await;
    assert!(page.body.contains("Posted.") && page.body.contains(r#"data-field="status">posted<"#));
    let post_form = format!(r#"action="/invoices/{id}/post""#);
    assert!(!page.body.contains(&post_form), "a posted invoice offers Post");
    assert_eq!(items(&page.body, "balance"), ["120.00", "12.00", "15.50", "1.25"]);
    assert_eq!(field_value(&page.body, "", "balance"), Some("148.75"));
    assert_eq!(field_value(&page.body, "", "group_balance"), Some("148.75"));
    let customer = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert_eq!(field_value(&customer.body, "", "balance"), Some("-148.75"));
    // Posting twice is refused without a 500.
    let again = web.post_as(&clerk, &format!("/invoices/{id}/post"), &[]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("already posted"), "{}", again.body);
    // A debit memo path does not open an invoice.
    assert_eq!(
        web.get_as(&clerk, &format!("/debit-memos/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_refused_invoice_line_shows_the_message_beside_that_line() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let path = format!("/invoices/new?customer_id={ann}");
    let page = web
        .post_as(
            &clerk,
            &path,
            &[
                ("items[0].description", "Fine"),
                ("items[0].amount", "10.00"),
                ("items[3].description", "Broken"),
                ("items[3].amount", "1.001"),
                ("post", "true"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains(
            r#"data-error-for="items[3].amount">USD amounts have at most 2 decimal places<"#
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"value="Broken""#));
    let page = web
        .post_as(
            &clerk,
            &path,
            &[
                ("items[1].description", "Both"),
                ("items[1].amount", "5"),
                ("items[1].quantity", "2"),
            ],
        )
        .await;
    assert!(
        page.body.contains(
            r#"data-error-for="items[1].amount">give either amount, or quantity and unit_price<"#
        ),
        "{}",
        page.body
    );
    let page = web.post_as(&clerk, &path, &[("post", "true")]).await;
    assert!(
        page.body.contains(r#"data-error-for="items[0].description">fill in at least one line<"#)
    );
    let page = web
        .post_as(
            &clerk,
            &path,
            &[
                ("items[0].description", "X"),
                ("items[0].amount", "5"),
                ("adjusts_invoice_id", "inv_nothere"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let customer = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert_eq!(field_value(&customer.body, "", "balance"), Some("0.00"));
    assert!(!customer.body.contains(r#"id="drafts""#));
}

#[tokio::test]
async fn a_negative_invoice_is_listed_on_attention_with_its_customer() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let erin = web.new_customer(&clerk, "Erin Brown Electric").await;
    let empty = web.get_as(&clerk, "/attention").await;
    assert!(empty.body.contains("Nothing needs attention."));
    let created = web
        .post_as(
            &clerk,
            &format!("/invoices/new?customer_id={erin}"),
            &[
                ("items[0].description", "Refund of overcharge"),
                ("items[0].amount", "-50.00"),
                ("post", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = created.location().expect("location").trim_start_matches("/invoices/").to_owned();
    let page = web.get_as(&clerk, "/attention").await;
    assert!(page.body.contains(&format!(r#"<tr data-document-id="{id}">"#)), "{}", page.body);
    assert!(page.body.contains(&format!(r#"<a href="/customers/{erin}">Erin Brown Electric</a>"#)));
    assert!(page.body.contains(r#"data-value="-50.00""#));
    let customer = web.get_as(&clerk, &format!("/customers/{erin}")).await;
    let note = &customer.body[customer.body.find(r#"id="needs-attention""#).expect("note")..];
    assert!(note.contains(&format!(r#"data-document-id="{id}""#)), "{note}");
    let quiet = web.new_customer(&clerk, "Quiet Customer").await;
    let quiet = web.get_as(&clerk, &format!("/customers/{quiet}")).await;
    assert!(!quiet.body.contains("needs-attention"));
}
