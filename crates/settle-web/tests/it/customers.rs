//! Seed 002 through the back office: customers, Add Entry (charge and credit), balances and
//! history with their hooks, the list's sort, search and paging, and refused forms.

use axum::http::StatusCode;

use crate::harness::{Session, TestWeb, assert_amounts_have_values, field_value};

async fn add_entry(web: &TestWeb, clerk: &Session, customer: &str, form: &[(&str, &str)]) {
    let page = web.post_as(clerk, &format!("/customers/{customer}/entries/new"), form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// The `data-value`s of `field` in each `tr[data-history-id]`, top to bottom.
fn history(html: &str, field: &str) -> Vec<String> {
    html.split("<tr data-history-id=")
        .skip(1)
        .filter_map(|row| field_value(row, "", field).map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn charges_and_credits_move_the_balance_exactly_as_seed_002_says() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let page = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("0.00"));

    add_entry(
        &web,
        &clerk,
        &ann,
        &[("kind", "charge"), ("amount", "150.00"), ("description", "Website maintenance")],
    )
    .await;
    let page = web.get_as(&clerk, &format!("/customers/{ann}?done=charge")).await;
    assert!(page.body.contains("Charge added."));
    assert_eq!(field_value(&page.body, "", "balance"), Some("-150.00"));
    assert!(
        page.body.contains(
            r#"class="amount big owed" data-field="balance" data-value="-150.00">-$150.00<"#
        ),
        "{}",
        page.body
    );
    assert_eq!(field_value(&page.body, "", "receivable"), Some("150.00"));
    assert_eq!(field_value(&page.body, "", "available_credit"), Some("0.00"));

    add_entry(
        &web,
        &clerk,
        &ann,
        &[
            ("kind", "credit"),
            ("amount", "100.00"),
            ("description", "Payment received"),
            ("payment_method", "card"),
            ("notes", "visa ending 4242"),
        ],
    )
    .await;
    add_entry(
        &web,
        &clerk,
        &ann,
        &[
            ("kind", "credit"),
            ("amount", "25"),
            ("description", "Goodwill discount"),
            ("payment_method", ""),
        ],
    )
    .await;

    let page = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("-25.00"));
    assert_eq!(field_value(&page.body, "", "receivable"), Some("150.00"));
    assert_eq!(field_value(&page.body, "", "available_credit"), Some("125.00"));
    assert_amounts_have_values(&page.body);
    let billing = &page.body[page.body.find(r#"id="billing""#).expect("#billing")..];
    assert_eq!(history(billing, "amount"), ["25.00", "100.00", "-150.00"]);
    assert_eq!(history(billing, "balance_after"), ["-25.00", "-50.00", "-150.00"]);
    assert!(billing.contains("Add Entry"));
    // Each line opens its document: a credit memo, a payment, an invoice.
    for href in ["/credit-memos/cm_", "/payments/pay_", "/invoices/inv_"] {
        assert!(billing.contains(&format!(r#"<a href="{href}"#)), "no link to {href}");
    }
    let invoice = billing.split(r#"<a href="/invoices/"#).nth(1).expect("invoice link");
    let invoice_id = &invoice[..invoice.find('"').expect("quote")];
    let doc = web.get_as(&clerk, &format!("/invoices/{invoice_id}")).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(field_value(&doc.body, "", "balance"), Some("150.00"));
    let payment = billing.split(r#"<a href="/payments/"#).nth(1).expect("payment link");
    let payment_id = &payment[..payment.find('"').expect("quote")];
    let pay = web.get_as(&clerk, &format!("/payments/{payment_id}")).await;
    assert_eq!(field_value(&pay.body, "", "unapplied"), Some("100.00"));
    assert!(pay.body.contains("visa ending 4242"));
    assert_amounts_have_values(&pay.body);
    assert_amounts_have_values(&doc.body);

    // The list shows the same balance.
    let list = web.get_as(&clerk, "/customers").await;
    assert!(list.body.contains(&format!(r#"<tr data-customer-id="{ann}">"#)));
    assert_eq!(field_value(&list.body, &ann, "balance"), Some("-25.00"));
}

#[tokio::test]
async fn a_refused_entry_comes_back_with_status_422_and_the_message_beside_its_field() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let path = format!("/customers/{ann}/entries/new");
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("kind", "charge"), ("amount", "1.005"), ("description", "Fee")],
            "amount",
            "at most 2 decimal places",
        ),
        (
            &[("kind", "charge"), ("amount", "-5"), ("description", "Fee")],
            "amount",
            "must be above zero",
        ),
        (
            &[("kind", "charge"), ("amount", "5"), ("description", " ")],
            "description",
            "must not be empty",
        ),
        (
            &[
                ("kind", "charge"),
                ("amount", "5"),
                ("description", "Fee"),
                ("payment_method", "card"),
            ],
            "payment_method",
            "only a credit takes a payment method",
        ),
        (
            &[
                ("kind", "credit"),
                ("amount", "5"),
                ("description", "Fee"),
                ("payment_method", "bitcoin"),
            ],
            "payment_method",
            "one of cash",
        ),
        (
            &[("kind", "refund"), ("amount", "5"), ("description", "Fee")],
            "kind",
            "choose Charge or Credit",
        ),
        (
            &[
                ("kind", "charge"),
                ("amount", "5"),
                ("description", "Fee"),
                ("effective_date", "yesterday"),
            ],
            "effective_date",
            "YYYY-MM-DD",
        ),
    ];
    for (form, field, message) in cases {
        let page = web.post_as(&clerk, &path, form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        let marker = format!(r#"data-error-for="{field}">"#);
        let at = page
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("{form:?}: no error for {field}: {}", page.body));
        assert!(
            page.body[at..].split('<').next().expect("text").contains(message),
            "{form:?}: {}",
            &page.body[at..at + 200]
        );
        assert!(page.body.contains(r#"aria-invalid="true""#) || *field == "kind");
    }
    let amount = web
        .post_as(
            &clerk,
            &path,
            &[("kind", "charge"), ("amount", "12.5x"), ("description", "Kept text")],
        )
        .await;
    assert!(
        amount.body.contains(r#"value="12.5x""#) && amount.body.contains(r#"value="Kept text""#)
    );
    let page = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("0.00"));
    assert!(page.body.contains("No billing entries yet."));
    let bad =
        web.post_as(&clerk, "/customers/new", &[("name", "Bob"), ("email", "not an email")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(r#"data-error-for="email">not an email address<"#), "{}", bad.body);
    let bad = web.post_as(&clerk, "/customers/new", &[("name", "Bob"), ("currency", "XYZ")]).await;
    assert!(bad.body.contains(r#"data-error-for="currency">"#), "{}", bad.body);
    let bad = web
        .post_as(&clerk, "/customers/new", &[("name", "Bob"), ("payment_terms_days", "ninety")])
        .await;
    assert!(bad.body.contains(r#"data-error-for="payment_terms_days">a whole number of days<"#));
    let missing = web.get_as(&clerk, "/customers/cus_nothere").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Not found"));
}

#[tokio::test]
async fn the_list_sorts_by_balance_and_name_searches_and_pages() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let mut ids = Vec::new();
    for (name, charge) in [("Cara", "30.00"), ("Abe", "10.00"), ("Bea", "20.00")] {
        let id = web.new_customer(&clerk, name).await;
        add_entry(
            &web,
            &clerk,
            &id,
            &[("kind", "charge"), ("amount", charge), ("description", "Work")],
        )
        .await;
        ids.push(id);
    }
    let names = |html: &str| -> Vec<String> {
        html.split("<tr data-customer-id=")
            .skip(1)
            .map(|row| {
                let link = row.find("<a href=").expect("link");
                let at = link + row[link..].find('>').expect(">") + 1;
                let end = at + row[at..].find('<').expect("end");
                row[at..end].to_owned()
            })
            .collect()
    };
    let balances = |html: &str| -> Vec<String> {
        html.split("<tr data-customer-id=")
            .skip(1)
            .filter_map(|r| field_value(r, "", "balance").map(str::to_owned))
            .collect()
    };
    let page = web.get_as(&clerk, "/customers?sort=balance").await;
    assert_eq!(names(&page.body), ["Cara", "Bea", "Abe"]);
    assert_eq!(balances(&page.body), ["-30.00", "-20.00", "-10.00"]);
    let page = web.get_as(&clerk, "/customers?sort=-balance").await;
    assert_eq!(names(&page.body), ["Abe", "Bea", "Cara"]);
    let page = web.get_as(&clerk, "/customers?sort=name").await;
    assert_eq!(names(&page.body), ["Abe", "Bea", "Cara"]);
    let page = web.get_as(&clerk, "/customers?sort=-name").await;
    assert_eq!(names(&page.body), ["Cara", "Bea", "Abe"]);
    let page = web.get_as(&clerk, "/customers?search=be").await;
    assert_eq!(names(&page.body), ["Abe", "Bea"]);
    let page = web.get_as(&clerk, "/customers?search=nobody").await;
    assert!(page.body.contains("No customer matches"));

    // Paging: 30 more customers make two pages of 25 by name, and Previous goes back.
    for n in 0..30 {
        web.new_customer(&clerk, &format!("Zed {n:02}")).await;
    }
    let first = web.get_as(&clerk, "/customers?sort=name").await;
    assert_eq!(names(&first.body).len(), 25);
    assert!(!first.body.contains("rel=\"prev\""));
    let next = first.body.split("href=\"").find(|h| h.contains("rel=\"next\"")).expect("next link");
    let next = next[..next.find('"').expect("end")].replace("&#38;", "&");
    let second = web.get_as(&clerk, &next).await;
    let second_names = names(&second.body);
    assert_eq!(second_names.len(), 8);
    assert_eq!(second_names.last().map(String::as_str), Some("Zed 29"));
    let prev =
        second.body.split("href=\"").find(|h| h.contains("rel=\"prev\"")).expect("prev link");
    let prev = prev[..prev.find('"').expect("end")].replace("&#38;", "&");
    let back = web.get_as(&clerk, &prev).await;
    assert_eq!(names(&back.body), names(&first.body));
}
