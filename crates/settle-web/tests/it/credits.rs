//! Credit memos from an invoice and applied per item (seed 003), the adjustment invoice of an
//! invoice (seed 000 option 2) and a negative payment applied to it (seed 000 option 3).

use axum::http::StatusCode;
use settle_core::application::Rule;
use settle_core::document::{Document, DocumentKind};
use settle_core::ids::{CustomerId, DocumentId};
use settle_core::payment::PaymentMethod;
use settle_engine::{Amount, ApplicationTarget, NewDocument, NewItem, NewPayment};

use crate::collect::{balance, on};
use crate::harness::{Session, TestWeb};

fn amount(text: &str) -> Amount {
    Amount::parse(text).expect("amount")
}

async fn document(web: &TestWeb, id: &DocumentId) -> Document {
    let id = id.clone();
    on(web, move |e, t| e.document(t, &id).expect("document")).await
}

/// Seed 003: an invoice of +100.00 and -50.00 paid 50.00 by proration, so it is at 0.00 while
/// its items are at +50.00 and -50.00.
async fn stuck_invoice(web: &TestWeb, customer: &str) -> Document {
    let customer = CustomerId::parse(customer).expect("id");
    let id = on(web, move |e, t| {
        let line = |d: &str, a: &str| NewItem {
            description: d.into(),
            amount: Some(amount(a)),
            ..NewItem::default()
        };
        let new = NewDocument {
            kind: DocumentKind::Invoice,
            customer_id: customer.clone(),
            items: vec![line("Plan", "100.00"), line("Discount", "-50.00")],
            invoice_date: None,
            due_date: None,
            adjusts_invoice_id: None,
            reason: None,
            post: true,
        };
        let invoice = e.create_document(t, new).expect("invoice");
        let target = ApplicationTarget {
            target_id: invoice.id.clone(),
            amount: Some(amount("50.00")),
            items: None,
            rule: Some(Rule::Proration),
        };
        let pay = NewPayment {
            customer_id: customer,
            amount: amount("50.00"),
            method: PaymentMethod::Check,
            reference: None,
            effective_date: None,
            applications: vec![target],
            description: None,
        };
        e.record_payment(t, pay).expect("payment");
        invoice.id
    })
    .await;
    document(web, &id).await
}

fn balances(document: &Document) -> Vec<String> {
    document.items.iter().map(|i| i.balance.to_string()).collect()
}

async fn zero_total_memo(web: &TestWeb, clerk: &Session, invoice: &Document) -> DocumentId {
    let (plus, minus) = (&invoice.items[0].id, &invoice.items[1].id);
    let form = web.get_as(clerk, &format!("/invoices/{}/credit-memos/new", invoice.id)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains(&format!(
            r#"name="credit[{plus}]" inputmode="decimal" aria-label="Plan" value="100.00""#
        )),
        "{}",
        form.body
    );
    let (p, m) = (format!("credit[{plus}]"), format!("credit[{minus}]"));
    let done = web
        .post_as(
            clerk,
            &format!("/invoices/{}/credit-memos/new", invoice.id),
            &[(&p, "50.00"), (&m, "-50.00"), ("reason", "credit")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done.location().expect("location");
    let id =
        location.strip_prefix("/credit-memos/").and_then(|r| r.split('?').next()).expect("memo");
    DocumentId::parse(id).expect("memo id")
}

#[tokio::test]
async fn a_zero_total_credit_memo_applied_per_item_clears_stuck_items() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let invoice = stuck_invoice(&web, &customer).await;
    assert_eq!(balances(&invoice), ["50.00", "-50.00"]);
    let memo_id = zero_total_memo(&web, &clerk, &invoice).await;
    let memo = document(&web, &memo_id).await;
    assert_eq!(memo.total().to_string(), "0.00");
    assert_eq!(balances(&memo), ["50.00", "-50.00"]);

    let path = format!("/credit-memos/{memo_id}/apply");
    let form = web.get_as(&clerk, &path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let (a, b) = (format!("apply[{}]", memo.items[0].id), format!("apply[{}]", memo.items[1].id));
    assert!(
        form.body.contains(&format!(
            r#"name="{a}" inputmode="decimal" aria-label="Plan" value="50.00""#
        )),
        "{}",
        form.body
    );
    assert!(form.body.contains(r#"value="-50.00""#));
    let target = invoice.id.to_string();
    let done =
        web.post_as(&clerk, &path, &[("target_id", &target), (&a, "50.00"), (&b, "-50.00")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some(format!("/credit-memos/{memo_id}?done=applied").as_str()));
    assert_eq!(balances(&document(&web, &invoice.id).await), ["0.00", "0.00"]);
    assert_eq!(balances(&document(&web, &memo_id).await), ["0.00", "0.00"]);
    let report = on(&web, |e, _| e.verify().expect("verify")).await;
    assert!(report.is_clean());
}

#[tokio::test]
async fn per_item_amounts_past_zero_or_past_the_memo_item_are_refused_with_nothing_written() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let invoice = stuck_invoice(&web, &customer).await;
    let memo_id = zero_total_memo(&web, &clerk, &invoice).await;
    let memo = document(&web, &memo_id).await;
    let path = format!("/credit-memos/{memo_id}/apply");
    let (a, b) = (format!("apply[{}]", memo.items[0].id), format!("apply[{}]", memo.items[1].id));
    let target = invoice.id.to_string();
    for form in [
        vec![("target_id", target.as_str()), (a.as_str(), "50.01"), (b.as_str(), "-50.00")],
        vec![("target_id", target.as_str()), (a.as_str(), "50.00"), (b.as_str(), "50.00")],
        vec![("target_id", target.as_str()), (a.as_str(), "0.001")],
        vec![("target_id", "inv_nothere"), (a.as_str(), "1.00")],
    ] {
        let page = web.post_as(&clerk, &path, &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}: {}", page.body);
        assert!(
            page.body.contains("field-error") || page.body.contains(r#"class="error""#),
            "{}",
            page.body
        );
        assert_eq!(balances(&document(&web, &invoice.id).await), ["50.00", "-50.00"]);
        assert_eq!(balances(&document(&web, &memo_id).await), ["50.00", "-50.00"]);
    }
}

#[tokio::test]
async fn a_credit_memo_past_what_is_creditable_is_refused_beside_its_item() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let invoice = stuck_invoice(&web, &customer).await;
    let plus = format!("credit[{}]", invoice.items[0].id);
    let path = format!("/invoices/{}/credit-memos/new", invoice.id);
    for (value, words) in [("100.01", "100.00"), ("1.001", "USD"), ("lots", "")] {
        let page = web.post_as(&clerk, &path, &[(&plus, value)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{value}: {}", page.body);
        let at = page
            .body
            .find(&format!(r#"data-error-for="{plus}">"#))
            .unwrap_or_else(|| panic!("{value}: {}", page.body));
        let shown = &page.body[at..at + page.body[at..].find("</p>").expect("end")];
        assert!(shown.contains(words), "{value}: {shown}");
    }
    let memos = on(&web, |e, t| {
        let q = settle_store::DocumentQuery {
            kinds: vec![DocumentKind::CreditMemo],
            ..Default::default()
        };
        e.documents(t, &q, &settle_store::PageRequest { limit: 10, cursor: None })
            .expect("list")
            .rows
            .len()
    })
    .await;
    assert_eq!(memos, 0);
}

#[tokio::test]
async fn an_adjustment_invoice_and_a_negative_payment_applied_to_it_from_its_page() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let original = crate::collect::invoice(&web, &customer, "100.00", "2026-02-01").await;
    // Option 2: the invoice page links to a new invoice prefilled to adjust it.
    let page = web.get_as(&clerk, &format!("/invoices/{original}")).await;
    let link = format!("/invoices/new?customer_id={customer}&amp;adjusts_invoice_id={original}");
    assert!(page.body.contains(&link), "{}", page.body);
    let form = web.get_as(&clerk, &link.replace("&amp;", "&")).await;
    assert!(form.body.contains(&format!(r#"value="{original}""#)), "{}", form.body);
    let adjusts = original.to_string();
    let created = web
        .post_as(
            &clerk,
            &format!("/invoices/new?customer_id={customer}"),
            &[
                ("items[0].description", "Return"),
                ("items[0].amount", "-25.00"),
                ("adjusts_invoice_id", &adjusts),
                ("post", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let adjustment = created
        .location()
        .expect("location")
        .trim_start_matches("/invoices/")
        .split('?')
        .next()
        .expect("id")
        .to_owned();
    let adjustment_id = DocumentId::parse(&adjustment).expect("id");
    assert_eq!(balance(&web, &adjustment_id).await, "-25.00");

    // Option 3: from the adjustment invoice, a negative payment applied to it.
    let page = web.get_as(&clerk, &format!("/invoices/{adjustment}")).await;
    let link = format!("/customers/{customer}/collect?document_id={adjustment}&amp;amount=-25.00");
    assert!(page.body.contains(&link), "{}", page.body);
    let form = web.get_as(&clerk, &link.replace("&amp;", "&")).await;
    let field = format!("apply[{adjustment}]");
    assert!(
        form.body.contains(&format!(
            r#"name="{field}" aria-label="Apply to INV-000002" inputmode="decimal" value="-25.00""#
        )),
        "{}",
        form.body
    );
    let other = format!("apply[{original}]");
    let saved = web
        .post_as(
            &clerk,
            &format!("/customers/{customer}/collect"),
            &[
                ("amount", "-25.00"),
                ("method", "other"),
                ("document_id", &adjustment),
                (&field, "-25.00"),
                (&other, ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(balance(&web, &adjustment_id).await, "0.00");
    assert_eq!(balance(&web, &original).await, "100.00");
    // A negative payment left unapplied is refused, and nothing is written.
    let page = web
        .post_as(
            &clerk,
            &format!("/customers/{customer}/collect"),
            &[("amount", "-5.00"), ("method", "other")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains(r#"data-error-for="amount""#), "{}", page.body);
    let report = on(&web, |e, _| e.verify().expect("verify")).await;
    assert!(report.is_clean());
}
