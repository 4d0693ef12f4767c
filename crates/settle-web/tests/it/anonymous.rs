//! Without a session: every back-office route redirects to the sign-in form and shows nothing;
//! the sign-in form, the assets and the payment page's 404 need none.

use axum::http::StatusCode;
use settle_engine::NewCustomer;

use crate::harness::TestWeb;

/// Every signed-in route with ids filled in.
fn staff_paths(customer: &str) -> Vec<(&'static str, String)> {
    settle_web::route_table()
        .into_iter()
        .filter(|(_, path)| {
            !matches!(*path, "/" | "/login" | "/assets/{file}") && !path.starts_with("/pay/")
        })
        .map(|(method, path)| {
            let path = path
                .replace("/customers/{id}", &format!("/customers/{customer}"))
                .replace("{id}", "inv_00000001");
            (method, path)
        })
        .collect()
}

#[tokio::test]
async fn every_page_and_form_without_a_session_redirects_to_sign_in_and_shows_nothing() {
    let web = TestWeb::new();
    let customer = web
        .engine
        .create_customer(
            &web.tenant_id,
            NewCustomer { name: "Secret Customer".into(), ..NewCustomer::default() },
        )
        .expect("customer")
        .id
        .to_string();
    let paths = staff_paths(&customer);
    assert!(paths.len() >= 18, "{paths:?}");
    for (method, path) in paths {
        let page = match method {
            "GET" => web.get(&path, None).await,
            _ => web.post(&path, None, &[("csrf", "x"), ("name", "Mallory")]).await,
        };
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{method} {path}");
        assert_eq!(page.location(), Some("/login"), "{method} {path}");
        assert!(!page.body.contains("Secret"), "{method} {path} showed data");
        // A made-up cookie is no session either.
        let page = web.get(&path, Some("not-a-session-token-at-all")).await;
        assert_eq!(page.location(), Some("/login"), "{method} {path} with a bad cookie");
    }
    let customers = web
        .engine
        .customers(
            &web.tenant_id,
            &Default::default(),
            &settle_store::PageRequest { limit: 10, cursor: None },
        )
        .expect("list");
    assert_eq!(customers.rows.len(), 1, "an anonymous POST wrote something");
    assert_eq!(web.get("/", None).await.location(), Some("/login"));
}

#[tokio::test]
async fn the_sign_in_form_and_the_assets_need_no_session() {
    let web = TestWeb::new();
    let login = web.get("/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains(r#"name="email""#) && login.body.contains(r#"name="password""#));
    assert!(login.body.contains(r#"<label for="email">"#));
    let csp = login.header("content-security-policy").expect("csp");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(login.header("referrer-policy"), Some("same-origin"));
    let css = web.get("/assets/settle.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("public, max-age=86400"));
    assert!(css.body.contains("tabular-nums"));
    let js = web.get("/assets/settle.js", None).await;
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(web.get("/assets/other.css", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_wrong_sign_in_says_one_thing_whichever_part_was_wrong() {
    let web = TestWeb::new();
    let page = web
        .post("/login", None, &[("email", "nobody@example.com"), ("password", "wrong password")])
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("Wrong email or password."), "{}", page.body);
    assert!(page.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn unknown_payment_tokens_answer_the_same_bare_404_with_the_privacy_headers() {
    let web = TestWeb::new();
    let mut seen = Vec::new();
    for path in [
        "/pay/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        "/pay/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ/summary.json",
        "/pay/x",
        "/pay/%3Cscript%3E",
    ] {
        let page = web.get(path, None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert_eq!(page.header("x-robots-tag"), Some("noindex"), "{path}");
        let csp = page.header("content-security-policy").expect("csp");
        assert!(csp.starts_with("default-src 'none'") && !csp.contains("script-src"), "{csp}");
        let content_type = page.header("content-type").map(str::to_owned);
        seen.push((page.body, content_type));
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "404s differ: {seen:?}");
}
