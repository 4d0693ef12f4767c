//! The catalog, subscriptions, amendments with their proration preview, and bill runs in the
//! back office: pages with exact amounts, refusals beside their field with nothing written,
//! viewers and CSRF.

use axum::http::StatusCode;
use settle_core::ids::{PriceId, SubscriptionId};
use settle_engine::Role;
use settle_store::PageRequest;

use crate::collect::on;
use crate::harness::{Session, TestWeb, assert_amounts_have_values, field_value};

/// Makes a product through the catalog form and a monthly price for each of `amounts`; the
/// prices' ids in that order.
async fn catalog(web: &TestWeb, clerk: &Session, amounts: &[&str]) -> Vec<String> {
    let made = web.post_as(clerk, "/products", &[("name", "Pro plan"), ("description", "")]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert_eq!(made.location(), Some("/products?done=product"));
    let product = on(web, |e, t| {
        let all = PageRequest { limit: 10, cursor: None };
        e.products(t, &all).expect("products").rows[0].id.to_string()
    })
    .await;
    let mut prices = Vec::new();
    for amount in amounts {
        let form = [
            ("product_id", product.as_str()),
            ("unit_amount", amount),
            ("currency", "usd"),
            ("interval", "month"),
            ("interval_count", ""),
            ("tax_rate", ""),
        ];
        let made = web.post_as(clerk, "/prices", &form).await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
        assert_eq!(made.location(), Some("/products?done=price"));
        let amount = amount.to_string();
        let id = on(web, move |e, t| {
            let all = PageRequest { limit: 10, cursor: None };
            let prices = e.prices(t, None, &all).expect("prices").rows;
            prices
                .iter()
                .find(|p| p.unit_amount.to_string() == amount)
                .expect("price")
                .id
                .to_string()
        })
        .await;
        prices.push(id);
    }
    prices
}

/// Subscribes a new customer to `price` from `start` through the form; (customer, subscription).
async fn subscribe(web: &TestWeb, clerk: &Session, price: &str, start: &str) -> (String, String) {
    let customer = web.new_customer(clerk, "Ann Smith").await;
    let path = format!("/customers/{customer}/subscriptions/new");
    let form = web.get_as(clerk, &path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(&format!(r#"<option value="{price}""#)), "{}", form.body);
    let made = web
        .post_as(
            clerk,
            &path,
            &[("start_date", start), ("items[0].price_id", price), ("items[0].quantity", "1")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let location = made.location().expect("location");
    let sub = location
        .strip_prefix("/subscriptions/")
        .and_then(|rest| rest.strip_suffix("?done=created"))
        .expect("subscription page")
        .to_owned();
    (customer, sub)
}

/// Starts a bill run through the form and reads its page until it is done.
async fn bill_run(web: &TestWeb, clerk: &Session, as_of: &str) -> String {
    let started = web.post_as(clerk, "/bill-runs", &[("as_of", as_of), ("customer_ids", "")]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let path = started.location().expect("location").to_owned();
    assert!(path.starts_with("/bill-runs/br_"), "{path}");
    // The run goes on its own thread; wait for it (a bounded number of reads, no timing).
    for _ in 0..500 {
        let page = web.get_as(clerk, &path).await;
        assert_eq!(page.status, StatusCode::OK);
        if page.body.contains(r#"data-field="status">done<"#) {
            assert!(!page.body.contains("http-equiv=\"refresh\""), "a done run reloads");
            return page.body;
        }
        assert!(page.body.contains("http-equiv=\"refresh\""), "a running run does not reload");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the bill run did not finish");
}

/// The one item of the subscription.
async fn item_of(web: &TestWeb, sub: &str) -> String {
    let id = SubscriptionId::parse(sub).expect("id");
    on(web, move |e, t| e.subscription(t, &id).expect("subscription").items[0].item_id.to_string())
        .await
}

async fn amendments(web: &TestWeb, sub: &str) -> usize {
    let id = SubscriptionId::parse(sub).expect("id");
    on(web, move |e, t| e.subscription_history(t, &id).expect("history").1.len()).await
}

#[tokio::test]
async fn a_downgrade_on_jan_16_previews_minus_15_48_and_5_16_and_saves_only_on_confirm() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let prices = catalog(&web, &clerk, &["30.00", "10.00"]).await;
    let page = web.get_as(&clerk, "/products").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        field_value(&page.body, &format!(r#"data-price-id="{}""#, prices[0]), "unit_amount"),
        Some("30.00")
    );
    assert_eq!(
        field_value(&page.body, &format!(r#"data-price-id="{}""#, prices[1]), "unit_amount"),
        Some("10.00")
    );
    assert_amounts_have_values(&page.body);

    let (customer, sub) = subscribe(&web, &clerk, &prices[0], "2026-01-01").await;
    let page = web.get_as(&clerk, &format!("/customers/{customer}")).await;
    assert!(page.body.contains(&format!(r#"<tr data-subscription-id="{sub}">"#)), "{}", page.body);
    assert!(page.body.contains(&format!(r#"href="/customers/{customer}/subscriptions/new""#)));

    let list = web.get_as(&clerk, "/bill-runs").await;
    assert!(list.body.contains("No bill run yet."), "{}", list.body);
    let run = bill_run(&web, &clerk, "2026-01-01").await;
    assert!(run.contains(r#"data-field="invoices_created">1<"#), "{run}");
    assert!(run.contains(r#"data-field="customers_done">1<"#), "{run}");
    assert_eq!(field_value(&run, "Invoiced", "total"), Some("30.00"));
    // The list shows the run, linked, with what it made.
    let list = web.get_as(&clerk, "/bill-runs").await;
    let run_id =
        list.body.split(r#"<tr data-bill-run-id=""#).nth(1).and_then(|r| r.split('"').next());
    let run_id = run_id.unwrap_or_else(|| panic!("no bill run listed: {}", list.body));
    let row = format!(r#"data-bill-run-id="{run_id}""#);
    assert!(list.body.contains(&format!(r#"<a href="/bill-runs/{run_id}">2026-01-01</a>"#)));
    let listed = &list.body[list.body.find(&row).expect("the row")..];
    let listed = &listed[..listed.find("</tr>").expect("the row's end")];
    for cell in [
        r#"data-field="status">done<"#,
        r#"data-field="customers">1 of 1<"#,
        r#"data-field="invoices_created">1<"#,
        r#"data-field="failures">0<"#,
    ] {
        assert!(listed.contains(cell), "{cell} not in {listed}");
    }
    assert_eq!(field_value(listed, "data-bill-run-id", "total"), Some("30.00"));

    let path = format!("/subscriptions/{sub}");
    let page = web.get_as(&clerk, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        field_value(&page.body, r#"data-period-start="2026-01-01""#, "total"),
        Some("30.00")
    );
    assert!(page.body.contains("2026-01-01 – 2026-01-31"), "{}", page.body);
    assert_amounts_have_values(&page.body);

    let item = item_of(&web, &sub).await;
    let form = [
        ("type", "change_price"),
        ("item_id", item.as_str()),
        ("price_id", prices[1].as_str()),
        ("quantity", ""),
        ("effective_date", "2026-01-16"),
        ("timing", "immediate"),
    ];
    let preview = web.post_as(&clerk, &format!("{path}/amendments"), &form).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let amounts: Vec<&str> = preview
        .body
        .match_indices("<tr data-line=")
        .filter_map(|(at, _)| field_value(&preview.body[at..], "", "amount"))
        .collect();
    assert_eq!(amounts, ["-15.48", "5.16"]);
    assert_eq!(field_value(&preview.body, "<tfoot>", "total"), Some("-10.32"));
    assert_eq!(field_value(&preview.body, r#"data-preview="customer""#, "before"), Some("-30.00"));
    assert_eq!(field_value(&preview.body, r#"data-preview="customer""#, "after"), Some("-19.68"));
    assert!(preview.body.contains(r#"button type="submit" name="confirm""#));
    assert_eq!(amendments(&web, &sub).await, 0, "a preview wrote an amendment");

    let mut confirm = form.to_vec();
    confirm.push(("confirm", "yes"));
    let done = web.post_as(&clerk, &format!("{path}/amendments"), &confirm).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some(format!("{path}?done=amended").as_str()));
    assert_eq!(amendments(&web, &sub).await, 1);
    let page = web.get_as(&clerk, &format!("{path}?done=amended")).await;
    assert!(page.body.contains("Amendment saved."));
    assert_eq!(field_value(&page.body, "data-amendment-id", "total"), Some("-10.32"));
    let page = web.get_as(&clerk, &format!("/customers/{customer}")).await;
    assert_eq!(field_value(&page.body, "", "balance"), Some("-19.68"));
}

#[tokio::test]
async fn cancel_now_previews_the_credit_of_the_unused_days() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let prices = catalog(&web, &clerk, &["30.00"]).await;
    let (_, sub) = subscribe(&web, &clerk, &prices[0], "2026-01-01").await;
    bill_run(&web, &clerk, "2026-01-01").await;
    let path = format!("/subscriptions/{sub}/amendments");
    let form = [("type", "cancel"), ("effective_date", "2026-01-16"), ("timing", "immediate")];
    let preview = web.post_as(&clerk, &path, &form).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains(r#"data-action="cancel""#));
    assert_eq!(field_value(&preview.body, "<tfoot>", "total"), Some("-15.48"));
    let mut confirm = form.to_vec();
    confirm.push(("confirm", "yes"));
    let done = web.post_as(&clerk, &path, &confirm).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some(format!("/subscriptions/{sub}?done=canceled").as_str()));
    let page = web.get_as(&clerk, done.location().expect("location")).await;
    assert!(
        page.body.contains(r#"data-field="ends_on">service ends before 2026-01-16<"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"data-action="amend""#));
}

#[tokio::test]
async fn refused_forms_come_back_with_the_message_beside_the_field_and_nothing_written() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let sent = web.post_as(&clerk, "/products", &[("name", " ")]).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", sent.body);
    assert!(sent.body.contains(r#"data-error-for="name""#), "{}", sent.body);
    let prices = catalog(&web, &clerk, &["30.00"]).await;
    let product = on(&web, |e, t| {
        e.products(t, &PageRequest { limit: 10, cursor: None }).expect("products").rows[0]
            .id
            .to_string()
    })
    .await;
    for (field, value) in [("unit_amount", "1.234"), ("unit_amount", "abc"), ("tax_rate", "lots")] {
        let mut form =
            vec![("product_id", product.as_str()), ("currency", "USD"), ("interval", "month")];
        form.push(("unit_amount", if field == "unit_amount" { value } else { "5.00" }));
        if field == "tax_rate" {
            form.push(("tax_rate", value));
        }
        let sent = web.post_as(&clerk, "/prices", &form).await;
        assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}: {}", sent.body);
        assert!(
            sent.body.contains(&format!(r#"data-error-for="{field}""#)),
            "{field}: {}",
            sent.body
        );
    }
    let count = on(&web, |e, t| {
        e.prices(t, None, &PageRequest { limit: 10, cursor: None }).expect("prices").rows.len()
    })
    .await;
    assert_eq!(count, 1, "a refused price was written");

    let (customer, sub) = subscribe(&web, &clerk, &prices[0], "2026-01-01").await;
    let path = format!("/customers/{customer}/subscriptions/new");
    let sent = web
        .post_as(&clerk, &path, &[("start_date", "someday"), ("items[0].price_id", &prices[0])])
        .await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sent.body.contains(r#"data-error-for="start_date""#), "{}", sent.body);
    let sent = web.post_as(&clerk, &path, &[("items[0].price_id", "price_nope")]).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sent.body.contains(r#"data-error-for="items[0].price_id""#), "{}", sent.body);

    let item = item_of(&web, &sub).await;
    let amend = format!("/subscriptions/{sub}/amendments");
    let cases = [
        (
            "quantity",
            [
                ("type", "change_quantity"),
                ("item_id", item.as_str()),
                ("quantity", "many"),
                ("effective_date", ""),
                ("timing", "immediate"),
            ],
        ),
        (
            "effective_date",
            [
                ("type", "change_quantity"),
                ("item_id", item.as_str()),
                ("quantity", "2"),
                ("effective_date", "2025-12-01"),
                ("timing", "immediate"),
            ],
        ),
        (
            "timing",
            [
                ("type", "change_quantity"),
                ("item_id", item.as_str()),
                ("quantity", "2"),
                ("effective_date", ""),
                ("timing", "tomorrow"),
            ],
        ),
    ];
    for (field, form) in cases {
        let sent = web.post_as(&clerk, &amend, &form).await;
        assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", sent.body);
        assert!(
            sent.body.contains(&format!(r#"data-error-for="{field}""#)),
            "{field}: {}",
            sent.body
        );
        assert!(
            sent.body.contains(r#"data-action="amend""#),
            "{field}: the form is not shown again"
        );
    }
    assert_eq!(amendments(&web, &sub).await, 0);

    let sent = web.post_as(&clerk, "/bill-runs", &[("as_of", "2026-13-01")]).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sent.body.contains(r#"data-error-for="as_of""#), "{}", sent.body);
    let sent = web
        .post_as(&clerk, "/bill-runs", &[("as_of", "2026-01-01"), ("customer_ids", "bob")])
        .await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sent.body.contains(r#"data-error-for="customer_ids""#), "{}", sent.body);
    let id = SubscriptionId::parse(&sub).expect("id");
    let billed =
        on(&web, move |e, t| e.subscription_history(t, &id).expect("history").0.len()).await;
    assert_eq!(billed, 0, "a refused bill run invoiced");
}

#[tokio::test]
async fn archiving_a_price_keeps_it_listed_and_off_the_new_subscription_form() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let prices = catalog(&web, &clerk, &["30.00", "10.00"]).await;
    let done = web.post_as(&clerk, &format!("/prices/{}/archive", prices[1]), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("/products?done=archived"));
    let page = web.get_as(&clerk, "/products?done=archived").await;
    let row =
        &page.body[page.body.find(&format!(r#"data-price-id="{}""#, prices[1])).expect("row")..];
    assert!(row[..row.find("</tr>").expect("end")].contains(">archived<"));
    let price = PriceId::parse(&prices[1]).expect("id");
    assert!(on(&web, move |e, t| e.price(t, &price).expect("price").archived).await);
    let customer = web.new_customer(&clerk, "Bo").await;
    let form = web.get_as(&clerk, &format!("/customers/{customer}/subscriptions/new")).await;
    assert!(form.body.contains(&prices[0]) && !form.body.contains(&prices[1]), "{}", form.body);
    let missing = web.post_as(&clerk, "/prices/price_nope/archive", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn viewers_read_and_change_nothing_and_every_post_needs_the_csrf_token() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let prices = catalog(&web, &clerk, &["30.00"]).await;
    let (customer, sub) = subscribe(&web, &clerk, &prices[0], "2026-01-01").await;
    let run = bill_run(&web, &clerk, "2026-01-01").await;
    let run_id =
        run[run.find("<code>br_").expect("id") + 6..].split('<').next().expect("id").to_owned();
    let tenant = web.tenant_id.clone();
    let viewer = web.sign_in_to(&tenant, "viewer@example.com", Role::Viewer).await;
    for path in [
        "/products".to_owned(),
        format!("/subscriptions/{sub}"),
        "/bill-runs".to_owned(),
        format!("/bill-runs/{run_id}"),
        format!("/customers/{customer}"),
    ] {
        let page = web.get_as(&viewer, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.contains(r#"method="post" action="/p"#),
            "{path}: a viewer sees a catalog form"
        );
        assert!(!page.body.contains("data-action="), "{path}: a viewer sees an amendment form");
        assert!(
            !page.body.contains(r#"action="/bill-runs""#),
            "{path}: a viewer sees the bill-run form"
        );
        assert!(
            !page.body.contains("subscriptions/new"),
            "{path}: a viewer is offered New subscription"
        );
    }
    let form = web.get_as(&viewer, &format!("/customers/{customer}/subscriptions/new")).await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    let item = item_of(&web, &sub).await;
    let posts: [(String, Vec<(&str, &str)>); 5] = [
        ("/products".to_owned(), vec![("name", "Free")]),
        ("/prices".to_owned(), vec![("product_id", "prod_x"), ("unit_amount", "1.00")]),
        (format!("/prices/{}/archive", prices[0]), vec![]),
        (
            format!("/subscriptions/{sub}/amendments"),
            vec![
                ("type", "remove_item"),
                ("item_id", &item),
                ("timing", "immediate"),
                ("confirm", "yes"),
            ],
        ),
        ("/bill-runs".to_owned(), vec![("as_of", "2026-02-01")]),
    ];
    for (path, form) in &posts {
        let sent = web.post_as(&viewer, path, form).await;
        assert_eq!(sent.status, StatusCode::FORBIDDEN, "viewer {path}");
        let sent = web.post(path, Some(&clerk.token), form).await;
        assert_eq!(sent.status, StatusCode::FORBIDDEN, "no csrf {path}");
    }
    let products = on(&web, |e, t| {
        e.products(t, &PageRequest { limit: 10, cursor: None }).expect("products").rows.len()
    })
    .await;
    assert_eq!(products, 1);
    assert_eq!(amendments(&web, &sub).await, 0);
    let id = SubscriptionId::parse(&sub).expect("id");
    let billed =
        on(&web, move |e, t| e.subscription_history(t, &id).expect("history").0.len()).await;
    assert_eq!(billed, 1, "a forbidden bill run invoiced");
}

#[tokio::test]
async fn a_run_stopped_by_a_shutdown_says_so_and_how_to_bill_the_rest() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let prices = catalog(&web, &clerk, &["30.00"]).await;
    subscribe(&web, &clerk, &prices[0], "2026-01-01").await;
    // A shutdown comes as the run starts: it stops before its first batch.
    let stop = settle_engine::StopSignal::default();
    let engine = web.engine.clone().with_stop(stop.clone());
    let tenant = web.tenant_id.clone();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    let run = tokio::task::spawn_blocking(move || {
        engine.run_bill_run(&tenant, as_of, None, &mut |_| stop.raise()).expect("stopped")
    })
    .await
    .expect("joined");

    let page = web.get_as(&clerk, &format!("/bill-runs/{}", run.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"data-field="status">stopped<"#), "{}", page.body);
    assert!(page.body.contains(r#"data-field="customers_done">0<"#), "{}", page.body);
    assert!(page.body.contains(r#"data-field="ended-early""#), "{}", page.body);
    assert!(!page.body.contains("http-equiv=\"refresh\""), "a stopped run does not reload");
    let list = web.get_as(&clerk, "/bill-runs").await;
    assert!(list.body.contains(">stopped<"), "{}", list.body);

    let rest = bill_run(&web, &clerk, "2026-01-01").await;
    assert!(rest.contains(r#"data-field="invoices_created">1<"#), "{rest}");
}
