//! The actions on a document's page: each through its form with the API's field names, the
//! preview step of the ones that move balances (nothing written until `confirm`), refusals
//! beside their field (422), a stale page (409, nothing written) and viewers (403).

use axum::http::StatusCode;
use settle_core::ids::{CustomerId, DocumentId, PaymentId};
use settle_engine::{Amount, NewCreditItem, NewCreditMemo, NewPayment, Role};

use crate::harness::{Session, TestWeb, field_value};

/// The `data-value` of `field` in each `tr[data-item-id]`.
fn items(html: &str, field: &str) -> Vec<String> {
    html.split("<tr data-item-id=")
        .skip(1)
        .filter_map(|row| field_value(row, "", field).map(str::to_owned))
        .collect()
}

/// The `version` the page's action forms carry.
fn version(html: &str) -> String {
    let at = html.find(r#"name="version" value=""#).expect("a version field") + 22;
    html[at..at + html[at..].find('"').expect("end")].to_owned()
}

/// Creates a posted invoice of lines with these amounts; returns its id.
async fn invoice(web: &TestWeb, clerk: &Session, customer: &str, amounts: &[&str]) -> String {
    let mut form: Vec<(String, String)> = vec![("post".into(), "true".into())];
    for (idx, amount) in amounts.iter().enumerate() {
        form.push((format!("items[{idx}].description"), format!("Line {}", idx + 1)));
        form.push((format!("items[{idx}].amount"), (*amount).to_owned()));
    }
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = web.post_as(clerk, &format!("/invoices/new?customer_id={customer}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.location().expect("location").trim_start_matches("/invoices/").to_owned()
}

/// Sends `action`'s form as the page drew it (with its version), plus `fields`.
async fn act(
    web: &TestWeb,
    clerk: &Session,
    path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> crate::harness::Page {
    let page = web.get_as(clerk, path).await;
    assert!(
        page.body.contains(&format!(r#"data-action="{action}""#)),
        "{path} offers no {action} form"
    );
    let version = version(&page.body);
    let mut form = vec![("version", version.as_str())];
    form.extend_from_slice(fields);
    web.post_as(clerk, &format!("{path}/{action}"), &form).await
}

/// Each `tr[data-preview]` as `(what, before, after)`: `what` is the row's hook value (a
/// document or item id, `credit_balance` or `customer`).
fn preview_rows(html: &str) -> Vec<(String, String, String)> {
    html.split("<tr data-preview=\"")
        .skip(1)
        .map(|row| {
            let what = row[..row.find('"').expect("end")].to_owned();
            let before = field_value(row, "", "before").expect("before").to_owned();
            let after = field_value(row, "", "after").expect("after").to_owned();
            (what, before, after)
        })
        .collect()
}

/// The preview rows whose hook starts with `prefix`, as `(before, after)`.
fn changes(rows: &[(String, String, String)], prefix: &str) -> Vec<(String, String)> {
    rows.iter().filter(|r| r.0.starts_with(prefix)).map(|r| (r.1.clone(), r.2.clone())).collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// Previews `action`, checks nothing was written and that the preview's figures are then
/// exactly what the page shows after the confirmed commit, and returns the commit's answer
/// with the preview's rows.
async fn preview_then_confirm(
    web: &TestWeb,
    clerk: &Session,
    path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> (crate::harness::Page, Vec<(String, String, String)>) {
    let before = web.get_as(clerk, path).await.body;
    let preview = act(web, clerk, path, action, fields).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains(r#"name="confirm""#), "{}", preview.body);
    let rows = preview_rows(&preview.body);
    assert!(rows.iter().any(|r| r.0 == "customer"), "{}", preview.body);
    assert!(preview.body.contains(&format!(r#"data-action="{action}""#)));
    let unchanged = web.get_as(clerk, path).await.body;
    assert_eq!(items(&unchanged, "balance"), items(&before, "balance"), "the preview wrote");
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "yes"));
    let done = act(web, clerk, path, action, &confirmed).await;
    let after = web.get_as(clerk, path).await.body;
    let id = path.rsplit('/').next().expect("id");
    for (what, _, to) in &rows {
        if what == id {
            assert_eq!(field_value(&after, "", "balance"), Some(to.as_str()), "{what}");
        } else if what.starts_with("item_") {
            let row = format!(r#"data-item-id="{what}""#);
            assert_eq!(field_value(&after, &row, "balance"), Some(to.as_str()), "{what}");
        }
    }
    (done, rows)
}

fn customer_balances(web: &TestWeb, customer: &str) -> settle_core::customer::Balances {
    let id = CustomerId::parse(customer).expect("id");
    web.engine.customer(&web.tenant_id, &id).expect("customer").balances
}

#[tokio::test]
async fn net_items_is_previewed_then_offsets_the_items_of_a_zero_invoice() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let id = invoice(&web, &clerk, &ann, &["50.00", "-50.00"]).await;
    let path = format!("/invoices/{id}");
    let (done, rows) = preview_then_confirm(&web, &clerk, &path, "net-items", &[]).await;
    assert_eq!(changes(&rows, "item_"), pairs(&[("50.00", "0.00"), ("-50.00", "0.00")]));
    assert_eq!(changes(&rows, "inv_"), pairs(&[("0.00", "0.00")]));
    assert_eq!(changes(&rows, "customer"), pairs(&[("0.00", "0.00")]));
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some(format!("{path}?done=netted").as_str()));
    let page = web.get_as(&clerk, done.location().expect("location")).await;
    assert_eq!(items(&page.body, "balance"), ["0.00", "0.00"]);
    assert_eq!(field_value(&page.body, "", "balance"), Some("0.00"));
    assert!(page.body.contains("Items netted"));
}

#[tokio::test]
async fn a_negative_invoice_moves_to_the_credit_balance_which_is_refunded() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let id = invoice(&web, &clerk, &ann, &["100.00", "-150.00"]).await;
    let path = format!("/invoices/{id}");
    let (done, rows) =
        preview_then_confirm(&web, &clerk, &path, "transfer-to-credit", &[("amount", "30.00")])
            .await;
    assert_eq!(changes(&rows, "inv_"), pairs(&[("-50.00", "-20.00")]));
    assert_eq!(changes(&rows, "credit_balance"), pairs(&[("0.00", "30.00")]));
    assert_eq!(changes(&rows, "customer"), pairs(&[("50.00", "50.00")]));
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = web.get_as(&clerk, &path).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("-20.00"));
    assert_eq!(customer_balances(&web, &ann).credit_balance, 3000);

    let customer = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert!(
        customer.body.contains(&format!(r#"action="/customers/{ann}/credit-balance/refunds""#))
    );
    let refund = web
        .post_as(
            &clerk,
            &format!("/customers/{ann}/credit-balance/refunds"),
            &[("amount", "12.50"), ("method", "check"), ("reference", "CHK-7")],
        )
        .await;
    assert_eq!(refund.status, StatusCode::SEE_OTHER, "{}", refund.body);
    assert_eq!(refund.location(), Some(format!("/customers/{ann}?done=refunded").as_str()));
    assert_eq!(customer_balances(&web, &ann).credit_balance, 1750);

    let too_much = web
        .post_as(
            &clerk,
            &format!("/customers/{ann}/credit-balance/refunds"),
            &[("amount", "17.51")],
        )
        .await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", too_much.body);
    assert!(too_much.body.contains("17.50 unapplied, 17.51 was asked"), "{}", too_much.body);
    assert_eq!(customer_balances(&web, &ann).credit_balance, 1750);
}

#[tokio::test]
async fn a_charge_adjustment_brings_a_negative_invoice_to_zero() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let id = invoice(&web, &clerk, &ann, &["100.00", "-150.00"]).await;
    let path = format!("/invoices/{id}");
    let page = web.get_as(&clerk, &path).await;
    let negative = page.body.split("<tr data-item-id=\"").nth(2).expect("second item");
    let item = negative[..negative.find('"').expect("id end")].to_owned();
    let fields = [
        ("item_id", item.as_str()),
        ("type", "charge"),
        ("amount", "50.00"),
        ("reason", "downgrade credit"),
    ];
    let (done, rows) = preview_then_confirm(&web, &clerk, &path, "adjustments", &fields).await;
    assert_eq!(changes(&rows, "item_"), pairs(&[("-150.00", "-100.00")]));
    assert_eq!(changes(&rows, "inv_"), pairs(&[("-50.00", "0.00")]));
    assert_eq!(changes(&rows, "customer"), pairs(&[("50.00", "0.00")]));
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = web.get_as(&clerk, &path).await;
    assert_eq!(items(&page.body, "balance"), ["100.00", "-100.00"]);
    assert_eq!(field_value(&page.body, "", "balance"), Some("0.00"));
    assert_eq!(customer_balances(&web, &ann).receivable, 0);

    let refused = act(
        &web,
        &clerk,
        &path,
        "adjustments",
        &[
            ("item_id", &item),
            ("type", "charge"),
            ("amount", "100.01"),
            ("reason", "x"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let page = web.get_as(&clerk, &path).await;
    assert_eq!(items(&page.body, "balance"), ["100.00", "-100.00"]);
}

#[tokio::test]
async fn a_write_off_leaves_the_rest_open_and_shows_its_credit_memo() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let id = invoice(&web, &clerk, &ann, &["100.00"]).await;
    let path = format!("/invoices/{id}");
    let fields = [("amount", "40.00"), ("reason", "goodwill")];
    let (done, rows) = preview_then_confirm(&web, &clerk, &path, "write-off", &fields).await;
    assert_eq!(changes(&rows, "inv_"), pairs(&[("100.00", "60.00")]));
    assert_eq!(changes(&rows, "customer"), pairs(&[("-100.00", "-60.00")]));
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = web.get_as(&clerk, &path).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("60.00"));
    assert!(page.body.contains("/credit-memos/cm_"), "the write-off memo is not linked");
    assert_eq!(customer_balances(&web, &ann).receivable, 6000);

    let bad =
        act(&web, &clerk, &path, "write-off", &[("amount", "1.005"), ("confirm", "yes")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains(r#"data-error-for="amount""#), "{}", bad.body);
    let past =
        act(&web, &clerk, &path, "write-off", &[("amount", "60.01"), ("confirm", "yes")]).await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", past.body);
    assert_eq!(customer_balances(&web, &ann).receivable, 6000);
}

#[tokio::test]
async fn void_is_refused_with_applications_unless_they_are_reversed_first() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let id = invoice(&web, &clerk, &ann, &["100.00"]).await;
    let doc = DocumentId::parse(&id).expect("id");
    let payment = web
        .engine
        .record_payment(
            &web.tenant_id,
            NewPayment {
                customer_id: CustomerId::parse(&ann).expect("id"),
                amount: Amount::parse("70.00").expect("amount"),
                method: settle_core::payment::PaymentMethod::Cash,
                reference: None,
                effective_date: None,
                applications: vec![settle_engine::ApplicationTarget {
                    target_id: doc,
                    amount: None,
                    items: None,
                    rule: None,
                }],
                description: None,
            },
        )
        .expect("payment");
    let path = format!("/invoices/{id}");
    let plain = act(&web, &clerk, &path, "void", &[]).await;
    assert_eq!(plain.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", plain.body);
    let page = web.get_as(&clerk, &path).await;
    assert!(page.body.contains(r#"data-field="status">posted<"#));

    let (done, rows) =
        preview_then_confirm(&web, &clerk, &path, "void", &[("reverse_applications", "true")])
            .await;
    assert_eq!(changes(&rows, "inv_"), pairs(&[("30.00", "0.00")]));
    assert_eq!(changes(&rows, "pay_"), pairs(&[("0.00", "70.00")]));
    assert_eq!(changes(&rows, "customer"), pairs(&[("-30.00", "70.00")]));
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = web.get_as(&clerk, &path).await;
    assert!(page.body.contains(r#"data-field="status">voided<"#), "{}", page.body);
    let payment = web.engine.payment(&web.tenant_id, &payment.id).expect("payment");
    assert_eq!(payment.unapplied.minor(), 7000);
    let balances = customer_balances(&web, &ann);
    assert_eq!((balances.receivable, balances.unapplied_payments), (0, 7000));

    let pay_path = format!("/payments/{}", payment.id);
    let page = web.get_as(&clerk, &pay_path).await;
    assert!(page.body.contains(r#"data-action="refunds""#));
    // The refund form is offered once, in the page, not inside the page's <title>.
    assert_eq!(page.body.matches(r#"data-action="refunds""#).count(), 1);
    let title = &page.body[page.body.find("<title>").expect("title") + "<title>".len()..];
    assert!(!title[..title.find("</title>").expect("end")].contains('<'), "{title}");
    let refund = web.post_as(&clerk, &format!("{pay_path}/refunds"), &[("amount", "25.00")]).await;
    assert_eq!(refund.status, StatusCode::SEE_OTHER, "{}", refund.body);
    let page = web.get_as(&clerk, refund.location().expect("location")).await;
    assert_eq!(field_value(&page.body, "", "unapplied"), Some("45.00"));
    assert!(page.body.contains("Refund recorded."));
    let over = web.post_as(&clerk, &format!("{pay_path}/refunds"), &[("amount", "45.01")]).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", over.body);
    let id = PaymentId::parse(payment.id.as_str()).expect("id");
    assert_eq!(web.engine.payment(&web.tenant_id, &id).expect("payment").unapplied.minor(), 4500);
}

#[tokio::test]
async fn a_credit_memo_is_refunded_in_part_and_an_untouched_one_is_canceled() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let memo = |amount: &str| NewCreditMemo {
        customer_id: CustomerId::parse(&ann).expect("id"),
        items: vec![NewCreditItem {
            description: Some("Goodwill".into()),
            amount: Amount::parse(amount).expect("amount"),
            invoice_item_id: None,
        }],
        reason: None,
        from_invoice_id: None,
        post: true,
        invoice_date: None,
    };
    let refunded = web.engine.create_credit_memo(&web.tenant_id, memo("80.00")).expect("memo");
    let path = format!("/credit-memos/{}", refunded.id);
    let page = web
        .post_as(&clerk, &format!("{path}/refunds"), &[("amount", "30.00"), ("method", "ach")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = web.get_as(&clerk, &path).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("50.00"));
    let bad = web
        .post_as(&clerk, &format!("{path}/refunds"), &[("amount", "5"), ("method", "wire")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(r#"data-error-for="method""#), "{}", bad.body);

    let other = web.engine.create_credit_memo(&web.tenant_id, memo("20.00")).expect("memo");
    let other_path = format!("/credit-memos/{}", other.id);
    let done = act(&web, &clerk, &other_path, "cancel", &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = web.get_as(&clerk, done.location().expect("location")).await;
    assert!(page.body.contains("Credit memo canceled."), "{}", page.body);
    assert!(page.body.contains(r#"data-field="status">canceled<"#), "{}", page.body);
    assert_eq!(customer_balances(&web, &ann).credit_memo_balance, 5000);
}

#[tokio::test]
async fn a_form_drawn_before_the_document_changed_is_refused_as_stale_and_writes_nothing() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let id = invoice(&web, &clerk, &ann, &["100.00", "-150.00"]).await;
    let path = format!("/invoices/{id}");
    let old = version(&web.get_as(&clerk, &path).await.body);
    let moved =
        act(&web, &clerk, &path, "transfer-to-credit", &[("amount", "10.00"), ("confirm", "yes")])
            .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    for confirm in ["", "yes"] {
        let stale = web
            .post_as(
                &clerk,
                &format!("{path}/transfer-to-credit"),
                &[("version", old.as_str()), ("amount", "10.00"), ("confirm", confirm)],
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
        assert!(stale.body.contains("reload"), "{}", stale.body);
    }
    let page = web.get_as(&clerk, &path).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("-40.00"));
    assert_eq!(customer_balances(&web, &ann).credit_balance, 1000);
}

#[tokio::test]
async fn a_viewer_is_offered_no_action_and_every_action_post_is_forbidden() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let id = invoice(&web, &clerk, &ann, &["100.00", "-150.00"]).await;
    let tenant = web.tenant_id.clone();
    let viewer = web.sign_in_to(&tenant, "viewer@example.com", Role::Viewer).await;
    let path = format!("/invoices/{id}");
    let page = web.get_as(&viewer, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("data-action="), "a viewer sees action forms");
    let version = version(&web.get_as(&clerk, &path).await.body);
    for action in ["void", "net-items", "transfer-to-credit", "adjustments", "write-off"] {
        let sent = web
            .post_as(
                &viewer,
                &format!("{path}/{action}"),
                &[("version", version.as_str()), ("confirm", "yes")],
            )
            .await;
        assert_eq!(sent.status, StatusCode::FORBIDDEN, "{action}");
    }
    let refund = web
        .post_as(
            &viewer,
            &format!("/customers/{ann}/credit-balance/refunds"),
            &[("amount", "1.00")],
        )
        .await;
    assert_eq!(refund.status, StatusCode::FORBIDDEN);
    assert_eq!(field_value(&web.get_as(&clerk, &path).await.body, "", "balance"), Some("-50.00"));
}
