//! Collect and Apply Payments (seed 000 option 1): prefill oldest due first, one save of a new
//! payment and existing credits over several documents, and every refusal beside its row with
//! nothing written. Save shows the preview first and only `confirm` writes; a page drawn before
//! a change is the 409 stale page.

use axum::http::StatusCode;
use chrono::NaiveDate;
use settle_core::document::DocumentKind;
use settle_core::ids::{CustomerId, DocumentId, PaymentId};
use settle_core::payment::PaymentMethod;
use settle_engine::{Amount, Engine, NewCustomer, NewDocument, NewItem, NewPayment, Role};

use crate::harness::{Session, TestWeb, field_value};

fn amount(text: &str) -> Amount {
    Amount::parse(text).expect("amount")
}

/// Runs engine calls off the test's runtime thread.
pub(crate) async fn on<T: Send + 'static>(
    web: &TestWeb,
    call: impl FnOnce(&Engine, &settle_core::ids::TenantId) -> T + Send + 'static,
) -> T {
    let (engine, tenant) = (web.engine.clone(), web.tenant_id.clone());
    tokio::task::spawn_blocking(move || call(&engine, &tenant)).await.expect("join")
}

/// A posted invoice of one line dated `date`.
pub(crate) async fn invoice(web: &TestWeb, customer: &str, total: &str, date: &str) -> DocumentId {
    let (customer, total) = (CustomerId::parse(customer).expect("id"), amount(total));
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
    on(web, move |e, t| {
        let items = vec![NewItem {
            description: "Service".into(),
            amount: Some(total),
            ..NewItem::default()
        }];
        e.create_document(
            t,
            NewDocument {
                kind: DocumentKind::Invoice,
                customer_id: customer,
                items,
                invoice_date: Some(date),
                due_date: None,
                adjusts_invoice_id: None,
                reason: None,
                post: true,
            },
        )
        .expect("invoice")
        .id
    })
    .await
}

/// An unapplied check payment.
pub(crate) async fn payment(web: &TestWeb, customer: &str, total: &str) -> PaymentId {
    let (customer, total) = (CustomerId::parse(customer).expect("id"), amount(total));
    on(web, move |e, t| {
        e.record_payment(
            t,
            NewPayment {
                customer_id: customer,
                amount: total,
                method: PaymentMethod::Check,
                reference: Some("1001".into()),
                effective_date: None,
                applications: Vec::new(),
                description: None,
            },
        )
        .expect("payment")
        .id
    })
    .await
}

pub(crate) async fn balance(web: &TestWeb, id: &DocumentId) -> String {
    let id = id.clone();
    on(web, move |e, t| e.document(t, &id).expect("document").balance().to_string()).await
}

pub(crate) async fn unapplied(web: &TestWeb, id: &PaymentId) -> String {
    let id = id.clone();
    on(web, move |e, t| e.payment(t, &id).expect("payment").unapplied.to_string()).await
}

/// The `value` of the input `name`.
fn input_value<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let at = html.find(&format!(r#"name="{name}""#))?;
    let rest = &html[at..];
    let rest = &rest[rest.find("value=\"")? + "value=\"".len()..];
    Some(&rest[..rest.find('"')?])
}

/// The message shown beside `field`.
fn error_for<'a>(html: &'a str, field: &str) -> Option<&'a str> {
    let at = html.find(&format!(r#"data-error-for="{field}">"#))?;
    let rest = &html[at..];
    let rest = &rest[rest.find('>')? + 1..];
    Some(&rest[..rest.find('<')?])
}

/// The version fields of the form as drawn now: the customer's and each document row's.
async fn versions(s: &Setup) -> Vec<(String, String)> {
    let page = s.web.get_as(&s.clerk, &format!("/customers/{}/collect", s.customer)).await;
    let mut versions = Vec::new();
    for name in
        ["version".to_owned(), format!("version[{}]", s.older), format!("version[{}]", s.newer)]
    {
        let value = input_value(&page.body, &name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(value.len(), 16, "{name}: {value}");
        versions.push((name, value.to_owned()));
    }
    versions
}

/// `form` with the versions of the page as drawn now.
fn with<'a>(
    form: &[(&'a str, &'a str)],
    versions: &'a [(String, String)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = form.to_vec();
    form.extend(versions.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    form
}

struct Setup {
    web: TestWeb,
    clerk: Session,
    customer: String,
    older: DocumentId,
    newer: DocumentId,
    credit: PaymentId,
}

/// Two invoices, 100.00 due first and 50.00 due later, and a check of 80.00 not applied.
async fn setup() -> Setup {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let newer = invoice(&web, &customer, "50.00", "2026-02-10").await;
    let older = invoice(&web, &customer, "100.00", "2026-01-10").await;
    let credit = payment(&web, &customer, "80.00").await;
    Setup { web, clerk, customer, older, newer, credit }
}

#[tokio::test]
async fn the_form_lists_open_documents_oldest_due_first_prefilled_from_the_picked_credit() {
    let s = setup().await;
    let path = format!("/customers/{}/collect?source={}", s.customer, s.credit);
    let page = s.web.get_as(&s.clerk, &path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let older_row = page.body.find(&format!(r#"data-document-id="{}""#, s.older)).expect("row");
    let newer_row = page.body.find(&format!(r#"data-document-id="{}""#, s.newer)).expect("row");
    assert!(older_row < newer_row, "oldest due first");
    assert_eq!(input_value(&page.body, &format!("apply[{}]", s.older)), Some("80.00"));
    assert_eq!(input_value(&page.body, &format!("apply[{}]", s.newer)), Some(""));
    assert!(page.body.contains(&format!(r#"value="{}" checked"#, s.credit)));
    let customer = s.web.get_as(&s.clerk, &format!("/customers/{}", s.customer)).await;
    assert!(customer.body.contains(&format!(r#"href="/customers/{}/collect""#, s.customer)));

    // Fill again with a new payment of 60.00 as well: 140.00 over 100.00 then 50.00.
    let credit = s.credit.to_string();
    let fill = [("amount", "60.00"), ("method", "card"), ("source", &credit), ("step", "fill")];
    let page = s.web.post_as(&s.clerk, &format!("/customers/{}/collect", s.customer), &fill).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(input_value(&page.body, &format!("apply[{}]", s.older)), Some("100.00"));
    assert_eq!(input_value(&page.body, &format!("apply[{}]", s.newer)), Some("40.00"));
    assert_eq!(balance(&s.web, &s.older).await, "100.00", "filling writes nothing");
}

#[tokio::test]
async fn one_save_applies_a_new_payment_and_a_credit_and_leaves_the_rest_as_credit() {
    let s = setup().await;
    let (credit, older, newer) =
        (s.credit.to_string(), format!("apply[{}]", s.older), format!("apply[{}]", s.newer));
    let form = [
        ("amount", "60.00"),
        ("method", "card"),
        ("reference", "Saved without charging"),
        ("effective_date", "2026-03-01"),
        ("source", credit.as_str()),
        (older.as_str(), "100.00"),
        (newer.as_str(), "30.00"),
        ("step", "save"),
    ];
    let versions = versions(&s).await;
    let form = with(&form, &versions);
    let path = format!("/customers/{}/collect", s.customer);
    // Save shows the preview of the very same request and writes nothing.
    let preview = s.web.post_as(&s.clerk, &path, &form).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains(r#"<form method="post" action="/customers/"#));
    assert!(preview.body.contains(r#"data-action="apply""#));
    assert!(preview.body.contains(r#"name="confirm""#));
    let row = |id: &str| format!(r#"data-preview="{id}""#);
    for (id, before, after) in [
        (s.older.to_string(), "100.00", "0.00"),
        (s.newer.to_string(), "50.00", "20.00"),
        (s.credit.to_string(), "80.00", "0.00"),
        ("customer".to_owned(), "-70.00", "-10.00"),
    ] {
        let at = preview.body.find(&row(&id)).unwrap_or_else(|| panic!("{id}: {}", preview.body));
        let rest = &preview.body[at..];
        assert_eq!(field_value(rest, "", "before"), Some(before), "{id}");
        assert_eq!(field_value(rest, "", "after"), Some(after), "{id}");
    }
    assert_eq!(balance(&s.web, &s.older).await, "100.00", "a preview writes nothing");
    assert_eq!(unapplied(&s.web, &s.credit).await, "80.00");
    // The preview's form sends every field again, hidden, with confirm.
    assert!(preview.body.contains(&format!(r#"type="hidden" name="{older}" value="100.00""#)));
    let mut confirmed = form.clone();
    confirmed.retain(|(n, _)| *n != "step");
    confirmed.push(("confirm", "yes"));
    let saved = s.web.post_as(&s.clerk, &path, &confirmed).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let location = saved.location().expect("location").to_owned();
    assert_eq!(location, format!("/customers/{}?done=collected#billing", s.customer));
    assert_eq!(balance(&s.web, &s.older).await, "0.00");
    assert_eq!(balance(&s.web, &s.newer).await, "20.00");
    assert_eq!(unapplied(&s.web, &s.credit).await, "0.00");
    let page = s.web.get_as(&s.clerk, &location).await;
    assert!(page.body.contains("Payment saved and applied."));
    // 150.00 owed, 140.00 paid: 20.00 open and the new payment's 10.00 left as credit.
    assert_eq!(field_value(&page.body, "", "balance"), Some("-10.00"));
    assert_eq!(field_value(&page.body, "", "receivable"), Some("20.00"));
    assert_eq!(field_value(&page.body, "", "available_credit"), Some("10.00"));
    let report = on(&s.web, |e, _| e.verify().expect("verify")).await;
    assert!(report.is_clean());
}

/// Posts `form` and checks that it came back 422 with `message` beside `field` and that
/// nothing moved.
async fn refused(s: &Setup, form: &[(&str, &str)], field: &str, message: &str) {
    let versions = versions(s).await;
    let form = with(form, &versions);
    let mut confirmed = form.clone();
    confirmed.push(("confirm", "yes"));
    for form in [form, confirmed] {
        let path = format!("/customers/{}/collect", s.customer);
        let page = s.web.post_as(&s.clerk, &path, &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
        let shown =
            error_for(&page.body, field).unwrap_or_else(|| panic!("no error: {}", page.body));
        assert!(shown.contains(message), "beside {field}: {shown}");
    }
    assert_eq!(balance(&s.web, &s.older).await, "100.00");
    assert_eq!(balance(&s.web, &s.newer).await, "50.00");
    assert_eq!(unapplied(&s.web, &s.credit).await, "80.00");
    let customer = CustomerId::parse(&s.customer).expect("id");
    let payments = on(&s.web, move |e, t| {
        let all = settle_store::PageRequest { limit: 10, cursor: None };
        let query =
            settle_store::PaymentQuery { customer_id: Some(customer), unapplied_only: false };
        e.payments(t, &query, &all).expect("payments").rows.len()
    })
    .await;
    assert_eq!(payments, 1, "no new payment was recorded");
}

#[tokio::test]
async fn an_amount_past_zero_is_refused_beside_its_row_and_nothing_is_written() {
    let s = setup().await;
    let (credit, older, newer) =
        (s.credit.to_string(), format!("apply[{}]", s.older), format!("apply[{}]", s.newer));
    let form = [
        ("amount", "100.00"),
        ("method", "cash"),
        ("source", credit.as_str()),
        (older.as_str(), "100.00"),
        (newer.as_str(), "50.01"),
    ];
    refused(&s, &form, &newer, "50.00").await;
}

#[tokio::test]
async fn more_than_the_credits_hold_is_refused_beside_its_row_and_nothing_is_written() {
    let s = setup().await;
    let (credit, older) = (s.credit.to_string(), format!("apply[{}]", s.older));
    let form = [("source", credit.as_str()), (older.as_str(), "80.01")];
    refused(&s, &form, &older, "80.00").await;
    // With a new payment too, still all or nothing: the payment is not recorded either.
    let form = [("amount", "5.00"), ("method", "cash"), ("source", &credit), (&older, "85.01")];
    refused(&s, &form, &older, "80.00").await;
}

#[tokio::test]
async fn amounts_not_of_the_customers_currency_are_refused_beside_their_field() {
    let s = setup().await;
    let older = format!("apply[{}]", s.older);
    refused(&s, &[("amount", "10.005"), ("method", "cash")], "amount", "USD").await;
    let credit = s.credit.to_string();
    refused(&s, &[("source", credit.as_str()), (older.as_str(), "1.001")], &older, "USD").await;
    refused(&s, &[("amount", "ten"), ("method", "cash")], "amount", "").await;
    // A yen customer's documents take no cents.
    let yen = on(&s.web, |e, t| {
        let new = NewCustomer {
            name: "Yuki".into(),
            currency: Some("JPY".parse().expect("currency")),
            ..NewCustomer::default()
        };
        e.create_customer(t, new).expect("customer").id.to_string()
    })
    .await;
    let page = s
        .web
        .post_as(
            &s.clerk,
            &format!("/customers/{yen}/collect"),
            &[("amount", "1.50"), ("method", "cash")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(error_for(&page.body, "amount").is_some_and(|m| m.contains("JPY")), "{}", page.body);
}

#[tokio::test]
async fn a_credit_of_another_customer_or_nothing_at_all_is_refused() {
    let s = setup().await;
    let bob = s.web.new_customer(&s.clerk, "Bob Jones").await;
    let theirs = payment(&s.web, &bob, "20.00").await.to_string();
    let older = format!("apply[{}]", s.older);
    refused(
        &s,
        &[("source", theirs.as_str()), (older.as_str(), "20.00")],
        "source",
        "not an available",
    )
    .await;
    let page = s.web.post_as(&s.clerk, &format!("/customers/{}/collect", s.customer), &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Enter a payment amount or pick a credit"));
}

#[tokio::test]
async fn a_page_drawn_before_a_change_is_stale_and_writes_nothing() {
    let s = setup().await;
    let versions = versions(&s).await;
    let (credit, older) = (s.credit.to_string(), format!("apply[{}]", s.older));
    // Meanwhile another clerk records a payment of 30.00 on the older invoice.
    let (customer, target) = (CustomerId::parse(&s.customer).expect("id"), s.older.clone());
    on(&s.web, move |e, t| {
        let new = NewPayment {
            customer_id: customer,
            amount: amount("30.00"),
            method: PaymentMethod::Cash,
            reference: None,
            effective_date: None,
            applications: vec![settle_engine::ApplicationTarget {
                target_id: target,
                amount: Some(amount("30.00")),
                items: None,
                rule: None,
            }],
            description: None,
        };
        e.record_payment(t, new).expect("payment")
    })
    .await;
    let path = format!("/customers/{}/collect", s.customer);
    let form = [("source", credit.as_str()), (older.as_str(), "70.00")];
    for confirm in [false, true] {
        let mut sent = with(&form, &versions);
        if confirm {
            sent.push(("confirm", "yes"));
        }
        let page = s.web.post_as(&s.clerk, &path, &sent).await;
        assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
        assert!(page.body.contains("reload"), "{}", page.body);
        assert_eq!(balance(&s.web, &s.older).await, "70.00");
        assert_eq!(unapplied(&s.web, &s.credit).await, "80.00", "nothing written");
    }
    // Without any version the page is stale too.
    let mut sent = form.to_vec();
    sent.push(("confirm", "yes"));
    assert_eq!(s.web.post_as(&s.clerk, &path, &sent).await.status, StatusCode::CONFLICT);
    // Drawn again, the same save goes through.
    let fresh = self::versions(&s).await;
    let mut sent = with(&form, &fresh);
    sent.push(("confirm", "yes"));
    assert_eq!(s.web.post_as(&s.clerk, &path, &sent).await.status, StatusCode::SEE_OTHER);
    assert_eq!(balance(&s.web, &s.older).await, "0.00");
}

#[tokio::test]
async fn a_viewer_may_not_open_or_send_the_form() {
    let s = setup().await;
    let tenant = s.web.tenant_id.clone();
    let viewer = s.web.sign_in_to(&tenant, "viewer@example.com", Role::Viewer).await;
    let path = format!("/customers/{}/collect", s.customer);
    assert_eq!(s.web.get_as(&viewer, &path).await.status, StatusCode::FORBIDDEN);
    let older = format!("apply[{}]", s.older);
    let credit = s.credit.to_string();
    let page = s.web.post_as(&viewer, &path, &[("source", &credit), (&older, "10.00")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(balance(&s.web, &s.older).await, "100.00");
}
