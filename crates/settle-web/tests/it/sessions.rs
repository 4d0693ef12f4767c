//! Sessions, CSRF and roles: every POST needs the session's token, viewers change nothing,
//! ten failures lock an email, idle sessions and signed-out ones end, other tenants' ids are
//! not found.

use axum::http::StatusCode;
use chrono::TimeDelta;
use settle_engine::Role;
use settle_store::PageRequest;

use crate::harness::{PASSWORD, TestWeb};

/// Customers of the first tenant, read through the engine.
fn customer_count(web: &TestWeb) -> usize {
    web.engine
        .customers(&web.tenant_id, &Default::default(), &PageRequest { limit: 100, cursor: None })
        .expect("list")
        .rows
        .len()
}

/// Every signed-in POST route with a customer's id filled in, and a form for it.
fn posts(customer: &str) -> Vec<String> {
    settle_web::route_table()
        .into_iter()
        .filter(|(method, path)| *method == "POST" && *path != "/login" && *path != "/logout")
        .map(|(_, path)| {
            path.replace("/customers/{id}", &format!("/customers/{customer}"))
                .replace("{id}", "inv_00000001")
                .replace("/invoices/new", &format!("/invoices/new?customer_id={customer}"))
        })
        .collect()
}

const FORM: &[(&str, &str)] = &[
    ("name", "Mallory"),
    ("kind", "charge"),
    ("amount", "10.00"),
    ("description", "Forged"),
    ("items[0].description", "Forged"),
    ("items[0].amount", "10.00"),
    ("post", "true"),
];

#[tokio::test]
async fn a_post_without_or_with_a_wrong_csrf_token_is_refused_and_writes_nothing() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    for path in posts(&customer) {
        let missing = web.post(&path, Some(&clerk.token), FORM).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN, "{path} without csrf");
        let mut wrong =
            vec![("csrf", "0000000000000000000000000000000000000000000000000000000000000000")];
        wrong.extend_from_slice(FORM);
        let forged = web.post(&path, Some(&clerk.token), &wrong).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path} with a wrong csrf");
        assert!(forged.body.contains("Not allowed"), "{}", forged.body);
    }
    assert_eq!(customer_count(&web), 1);
    let page = web.get_as(&clerk, &format!("/customers/{customer}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No billing entries yet."), "a forged POST wrote an entry");
    // Sign-out needs the token too.
    let out = web.post("/logout", Some(&clerk.token), &[]).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN);
    assert_eq!(web.get_as(&clerk, "/customers").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_viewer_sees_pages_without_action_buttons_and_every_post_is_refused() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let tenant = web.tenant_id.clone();
    let viewer = web.sign_in_to(&tenant, "viewer@example.com", Role::Viewer).await;
    let page = web.get_as(&viewer, &format!("/customers/{customer}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ann Smith"));
    assert!(!page.body.contains("Add Entry") && !page.body.contains("Generate Link"));
    let list = web.get_as(&viewer, "/customers").await;
    assert!(!list.body.contains("New customer"));
    for path in posts(&customer) {
        let refused = web.post_as(&viewer, &path, FORM).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path} as a viewer");
    }
    assert_eq!(customer_count(&web), 1);
    let page = web.get_as(&viewer, &format!("/customers/{customer}")).await;
    assert!(page.body.contains("No billing entries yet."));
    for form in [
        "/customers/new".to_owned(),
        format!("/customers/{customer}/entries/new"),
        format!("/invoices/new?customer_id={customer}"),
    ] {
        assert_eq!(web.get_as(&viewer, &form).await.status, StatusCode::FORBIDDEN, "{form}");
        assert_eq!(web.get_as(&clerk, &form).await.status, StatusCode::OK, "{form}");
    }
    assert_eq!(web.get_as(&viewer, "/settings").await.status, StatusCode::FORBIDDEN);
    assert_eq!(web.get_as(&clerk, "/settings").await.status, StatusCode::FORBIDDEN);
    // A viewer may still sign out.
    let out = web.post_as(&viewer, "/logout", &[]).await;
    assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, Some("/login")));
}

#[tokio::test]
async fn ten_failed_sign_ins_lock_the_email_with_a_clear_message() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    for n in 0..10 {
        let page = web
            .post(
                "/login",
                None,
                &[("email", "clerk@example.com"), ("password", "not the password")],
            )
            .await;
        assert!(page.body.contains("Wrong email or password."), "failure {n}: {}", page.body);
    }
    let locked =
        web.post("/login", None, &[("email", "clerk@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("Too many failed sign-ins for this email"), "{}", locked.body);
    assert!(locked.body.contains("2026-03-01 12:15 UTC"), "{}", locked.body);
    assert!(locked.header("set-cookie").is_none());
    // The session made before the lock still works; after the window the password works again.
    assert_eq!(web.get_as(&clerk, "/customers").await.status, StatusCode::OK);
    web.advance_clock(TimeDelta::minutes(16));
    let again =
        web.post("/login", None, &[("email", "clerk@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_idle_session_ends_and_sign_out_ends_it_at_once() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    web.advance_clock(TimeDelta::hours(7));
    assert_eq!(web.get_as(&clerk, "/customers").await.status, StatusCode::OK);
    // Seen at seven hours, so still live at fourteen; then eight idle hours end it.
    web.advance_clock(TimeDelta::hours(7));
    assert_eq!(web.get_as(&clerk, "/customers").await.status, StatusCode::OK);
    web.advance_clock(TimeDelta::hours(8) + TimeDelta::seconds(1));
    let expired = web.get_as(&clerk, "/customers").await;
    assert_eq!((expired.status, expired.location()), (StatusCode::SEE_OTHER, Some("/login")));

    let tenant = web.tenant_id.clone();
    let other = web.sign_in_to(&tenant, "second@example.com", Role::Clerk).await;
    let out = web.post_as(&other, "/logout", &[]).await;
    assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, Some("/login")));
    let cleared = out.header("set-cookie").expect("cookie cleared");
    assert!(cleared.starts_with("settle_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    let after = web.get_as(&other, "/customers").await;
    assert_eq!(after.location(), Some("/login"));
}

#[tokio::test]
async fn another_tenants_ids_are_not_found() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let customer = web.new_customer(&clerk, "Ann Smith").await;
    let entry = web
        .post_as(
            &clerk,
            &format!("/customers/{customer}/entries/new"),
            &[("kind", "charge"), ("amount", "150.00"), ("description", "Website maintenance")],
        )
        .await;
    assert_eq!(entry.status, StatusCode::SEE_OTHER);
    let engine = web.engine.clone();
    let other_tenant = tokio::task::spawn_blocking(move || {
        engine.create_tenant("Other books").expect("tenant").tenant_id
    })
    .await
    .expect("join");
    let outsider = web.sign_in_to(&other_tenant, "outsider@example.com", Role::Admin).await;
    for path in [
        format!("/customers/{customer}"),
        format!("/customers/{customer}/entries/new"),
        format!("/invoices/new?customer_id={customer}"),
        "/invoices/inv_00000001".to_owned(),
        "/invoices/nonsense".to_owned(),
        "/credit-memos/cm_00000001".to_owned(),
        "/payments/pay_00000001".to_owned(),
    ] {
        let page = web.get_as(&outsider, &path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.body.contains("Ann Smith") && !page.body.contains("Website"), "{path}");
        assert!(page.body.contains("Not found") && page.body.contains("Sign out"), "{path}");
    }
    let charge = web
        .post_as(
            &outsider,
            &format!("/customers/{customer}/entries/new"),
            &[("kind", "charge"), ("amount", "1.00"), ("description", "Forged")],
        )
        .await;
    assert_eq!(charge.status, StatusCode::NOT_FOUND);
    let link = web.post_as(&outsider, &format!("/customers/{customer}/payment-links"), &[]).await;
    assert_eq!(link.status, StatusCode::NOT_FOUND);
    let list = web.get_as(&outsider, "/customers").await;
    assert!(!list.body.contains("Ann Smith"));
    let mine = web.get_as(&clerk, &format!("/customers/{customer}")).await;
    assert_eq!(crate::harness::field_value(&mine.body, "", "balance"), Some("-150.00"));
}

#[tokio::test]
async fn the_cookie_is_secure_behind_an_https_public_url_and_other_sites_cannot_sign_in() {
    let web = TestWeb::with_config(settle_web::WebConfig {
        public_url: Some("https://billing.example.com".to_owned()),
    });
    let engine = web.engine.clone();
    let tenant = web.tenant_id.clone();
    tokio::task::spawn_blocking(move || {
        engine.create_user(&tenant, "clerk@example.com", Role::Clerk, Some(PASSWORD)).expect("user")
    })
    .await
    .expect("join");
    let form = [("email", "clerk@example.com"), ("password", PASSWORD)];
    let page = web.post("/login", None, &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let cookie = page.header("set-cookie").expect("cookie");
    assert!(cookie.ends_with("; HttpOnly; SameSite=Strict; Path=/; Secure"), "{cookie}");

    let mut request = axum::http::Request::post("/login")
        .header("host", "billing.example.com")
        .header("origin", "https://elsewhere.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(serde_urlencoded::to_string(form).expect("form")))
        .expect("request");
    let response = tower::ServiceExt::oneshot(web.router.clone(), request).await.expect("reply");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("set-cookie").is_none());
    request = axum::http::Request::post("/login")
        .header("host", "billing.example.com")
        .header("origin", "null")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(serde_urlencoded::to_string(form).expect("form")))
        .expect("request");
    let response = tower::ServiceExt::oneshot(web.router.clone(), request).await.expect("reply");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    request = axum::http::Request::post("/login")
        .header("host", "billing.example.com")
        .header("origin", "https://billing.example.com")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(serde_urlencoded::to_string(form).expect("form")))
        .expect("request");
    let response = tower::ServiceExt::oneshot(web.router.clone(), request).await.expect("reply");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}
