//! Credit memos from an invoice and applied per item (seed 003), the adjustment invoice of an
//! invoice (seed 000 option 2) and a negative payment applied to it (seed 000 option 3).

use axum::http::StatusCode;
use settle_core::application::Rule;
use settle_core::document::{Document, DocumentKind};
use settle_core::ids::{CustomerId, DocumentId};
use settle_core::payment::PaymentMethod;
use settle_engine::{Amount, ApplicationTarget, NewDocument, NewItem, NewPayment};

use crate::collect::{balance, on};
use crate::harness::{Session, TestWeb, field_value, versions_in};

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

/// The `value` of the input `name`.
fn input_value<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let at = html.find(&format!(r#"name="{name}""#))?;
    let rest = &html[at..];
    let rest = &rest[rest.find("value=\"")? + "value=\"".len()..];
    Some(&rest[..rest.find('"')?])
}

/// The per-item apply form's version fields as drawn now (the memo's and the target's).
async fn versions(web: &TestWeb, clerk: &Session, path: &str) -> [(&'static str, String); 2] {
    let page = web.get_as(clerk, path).await;
    let get = |name: &str| input_value(&page.body, name).expect("version").to_owned();
    [("version", get("version")), ("target_version", get("target_version"))]
}

/// `form` with `versions` and, when `confirm`, the preview's confirm.
fn sent<'a>(
    form: &[(&'a str, &'a str)],
    versions: &'a [(&'static str, String)],
    confirm: bool,
) -> Vec<(&'a str, &'a str)> {
    let mut form = form.to_vec();
    form.extend(versions.iter().map(|(n, v)| (*n, v.as_str())));
    if confirm {
        form.push(("confirm", "yes"));
    }
    form
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
    let versions = versions(&web, &clerk, &path).await;
    let form = [("target_id", target.as_str()), (&a, "50.00"), (&b, "-50.00")];
    // Apply shows the preview of the very same application, and writes nothing.
    let preview = web.post_as(&clerk, &path, &sent(&form, &versions, false)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview.body.contains(r#"data-action="apply""#)
            && preview.body.contains(r#"name="confirm""#)
    );
    for (id, before, after) in [
        (invoice.items[0].id.to_string(), "50.00", "0.00"),
        (invoice.items[1].id.to_string(), "-50.00", "0.00"),
        ("customer".to_owned(), "0.00", "0.00"),
    ] {
        let at = preview.body.find(&format!(r#"data-preview="{id}""#)).expect("preview row");
        assert_eq!(field_value(&preview.body[at..], "", "before"), Some(before), "{id}");
        assert_eq!(field_value(&preview.body[at..], "", "after"), Some(after), "{id}");
    }
    assert_eq!(balances(&document(&web, &invoice.id).await), ["50.00", "-50.00"]);
    let done = web.post_as(&clerk, &path, &sent(&form, &versions, true)).await;
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
    let versions = versions(&web, &clerk, &path).await;
    for form in [
        vec![("target_id", target.as_str()), (a.as_str(), "50.01"), (b.as_str(), "-50.00")],
        vec![("target_id", target.as_str()), (a.as_str(), "50.00"), (b.as_str(), "50.00")],
        vec![("target_id", target.as_str()), (a.as_str(), "0.001")],
        vec![("target_id", "inv_nothere"), (a.as_str(), "1.00")],
    ] {
        for confirm in [false, true] {
            let page = web.post_as(&clerk, &path, &sent(&form, &versions, confirm)).await;
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
    // An amount of another currency's precision is refused beside its row, in USD's words.
    let form = [("target_id", target.as_str()), (a.as_str(), "0.001")];
    let page = web.post_as(&clerk, &path, &sent(&form, &versions, false)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let at = page.body.find(&format!(r#"data-error-for="{a}""#)).expect("error beside the row");
    assert!(
        page.body[at..].split("</p>").next().is_some_and(|m| m.contains("USD")),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_per_item_apply_drawn_before_a_change_is_stale_and_writes_nothing() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let invoice = stuck_invoice(&web, &customer).await;
    let memo_id = zero_total_memo(&web, &clerk, &invoice).await;
    let memo = document(&web, &memo_id).await;
    let path = format!("/credit-memos/{memo_id}/apply");
    let versions = versions(&web, &clerk, &path).await;
    let (a, b) = (format!("apply[{}]", memo.items[0].id), format!("apply[{}]", memo.items[1].id));
    // Meanwhile another clerk applies 10.00 and -10.00 of the memo: the invoice stays at 0.00,
    // its items and the memo's move.
    let target = invoice.id.to_string();
    let part = [("target_id", target.as_str()), (&a, "10.00"), (&b, "-10.00")];
    let other = web.post_as(&clerk, &path, &sent(&part, &versions, true)).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
    let form = [("target_id", target.as_str()), (&a, "50.00"), (&b, "-50.00")];
    for confirm in [false, true] {
        let page = web.post_as(&clerk, &path, &sent(&form, &versions, confirm)).await;
        assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
        assert!(page.body.contains("reload"));
        assert_eq!(balances(&document(&web, &invoice.id).await), ["40.00", "-40.00"]);
        assert_eq!(
            balances(&document(&web, &memo_id).await),
            ["40.00", "-40.00"],
            "nothing written"
        );
    }
    let page = web.post_as(&clerk, &path, &form).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "a form without versions is stale");
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
    let drawn = versions_in(&form.body);
    let mut sent = vec![
        ("amount", "-25.00"),
        ("method", "other"),
        ("document_id", &adjustment),
        (&field, "-25.00"),
        (&other, ""),
        ("confirm", "yes"),
    ];
    sent.extend(drawn.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let saved = web.post_as(&clerk, &format!("/customers/{customer}/collect"), &sent).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(balance(&web, &adjustment_id).await, "0.00");
    assert_eq!(balance(&web, &original).await, "100.00");
    // A negative payment left unapplied is refused, and nothing is written.
    let form = web.get_as(&clerk, &format!("/customers/{customer}/collect")).await;
    let drawn = versions_in(&form.body);
    let mut sent = vec![("amount", "-5.00"), ("method", "other")];
    sent.extend(drawn.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let page = web.post_as(&clerk, &format!("/customers/{customer}/collect"), &sent).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains(r#"data-error-for="amount""#), "{}", page.body);
    let report = on(&web, |e, _| e.verify().expect("verify")).await;
    assert!(report.is_clean());
}
