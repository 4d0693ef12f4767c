//! Payment links: Generate Link shows the URL once, the public page shows one customer with the
//! privacy headers, revoked and guessed tokens answer the same bare 404.

use axum::http::StatusCode;

use crate::harness::{Session, TestWeb, assert_amounts_have_values, field_value};

/// Generates a link on the customer page and returns its URL.
async fn generate(web: &TestWeb, clerk: &Session, customer: &str) -> String {
    let page = web.post_as(clerk, &format!("/customers/{customer}/payment-links"), &[]).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let marker = r#"<output id="payment-link-url""#;
    let at = page.body.find(marker).expect("#payment-link-url");
    let at = at + page.body[at..].find('>').expect(">") + 1;
    page.body[at..at + page.body[at..].find('<').expect("end")].to_owned()
}

#[tokio::test]
async fn a_generated_link_opens_the_customers_page_and_revoking_it_gives_the_bare_404() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let bob = web.new_customer(&clerk, "Bob Jones").await;
    for (customer, amount, description) in
        [(&ann, "150.00", "Website maintenance"), (&bob, "99.00", "Bob's secret work")]
    {
        let page = web
            .post_as(
                &clerk,
                &format!("/customers/{customer}/entries/new"),
                &[("kind", "charge"), ("amount", amount), ("description", description)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
    }
    let url = generate(&web, &clerk, &ann).await;
    let token = url.strip_prefix("http://settle.test/pay/").expect("url on this host").to_owned();
    assert!(token.len() >= 43, "{token}");
    // Shown once: the customer page lists the link, not its token.
    let page = web.get_as(&clerk, &format!("/customers/{ann}")).await;
    assert!(!page.body.contains(&token));
    assert!(page.body.contains("/revoke"));

    let pay = web.get(&format!("/pay/{token}"), None).await;
    assert_eq!(pay.status, StatusCode::OK);
    assert_eq!(pay.header("cache-control"), Some("no-store"));
    assert_eq!(pay.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(pay.header("x-robots-tag"), Some("noindex"));
    assert_eq!(
        pay.header("content-security-policy"),
        Some(
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
    );
    assert!(pay.body.contains("Ann Smith") && pay.body.contains("Website maintenance"));
    assert!(!pay.body.contains("Bob") && !pay.body.contains("<script"));
    assert_eq!(field_value(&pay.body, "", "balance"), Some("-150.00"));
    assert_amounts_have_values(&pay.body);
    assert!(pay.body.contains("You owe") && pay.body.contains("$150.00"));
    // Without credit on account the balance is what the open documents add up to: no breakdown.
    assert_eq!(field_value(&pay.body, "", "available_credit"), None);
    let json = web.get(&format!("/pay/{token}/summary.json"), None).await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.header("x-robots-tag"), Some("noindex"));
    let summary: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert_eq!(summary["customer"]["name"], "Ann Smith");
    assert_eq!(summary["customer"]["balance"], "-150.00");
    assert_eq!(summary["open_documents"][0]["balance"], "150.00");
    assert_eq!(summary["recent_history"][0]["amount"], "-150.00");
    assert!(!json.body.contains("Bob"));

    // Revoke from the customer page: the next request is the bare 404.
    let listed = web.engine.payment_links(&web.tenant_id, &ann).expect("links");
    let link_id = listed[0].id.to_string();
    let revoked = web
        .post_as(
            &clerk,
            &format!("/payment-links/{link_id}/revoke"),
            &[("customer_id", ann.as_str())],
        )
        .await;
    assert_eq!(
        revoked.location(),
        Some(format!("/customers/{ann}?done=revoked#payment-link").as_str())
    );
    let gone = web.get(&format!("/pay/{token}"), None).await;
    let unknown = web.get("/pay/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None).await;
    assert_eq!((gone.status, &gone.body), (StatusCode::NOT_FOUND, &unknown.body));
    assert_eq!(gone.header("content-type"), unknown.header("content-type"));
    assert_eq!(gone.header("content-security-policy"), unknown.header("content-security-policy"));
    let gone_json = web.get(&format!("/pay/{token}/summary.json"), None).await;
    assert_eq!(
        (gone_json.status, gone_json.body.as_str()),
        (StatusCode::NOT_FOUND, unknown.body.as_str())
    );
    // Revoking again, or another tenant's link, is not found.
    let again = web
        .post_as(
            &clerk,
            &format!("/payment-links/{link_id}/revoke"),
            &[("customer_id", ann.as_str())],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_page_says_why_what_is_owed_differs_from_the_open_documents() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let kim = web.new_customer(&clerk, "Kim Lee").await;
    for (kind, amount, method) in [("charge", "240.00", ""), ("credit", "40.00", "card")] {
        let page = web
            .post_as(
                &clerk,
                &format!("/customers/{kim}/entries/new"),
                &[
                    ("kind", kind),
                    ("amount", amount),
                    ("description", "x"),
                    ("payment_method", method),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let url = generate(&web, &clerk, &kim).await;
    let path = url.strip_prefix("http://settle.test").expect("url on this host");
    let pay = web.get(path, None).await;
    assert_eq!(pay.status, StatusCode::OK);
    assert_eq!(field_value(&pay.body, "", "balance"), Some("-200.00"));
    assert_eq!(field_value(&pay.body, "", "receivable"), Some("240.00"));
    assert_eq!(field_value(&pay.body, "", "available_credit"), Some("40.00"));
    assert!(pay.body.contains("less credit on your account"));
}

#[tokio::test]
async fn a_hundred_thousand_guessed_tokens_open_nothing() {
    let web = TestWeb::new();
    let clerk = web.clerk().await;
    let ann = web.new_customer(&clerk, "Ann Smith").await;
    let real = generate(&web, &clerk, &ann).await;
    let real = real.rsplit('/').next().expect("token").to_owned();
    let engine = web.engine.clone();
    let hits = tokio::task::spawn_blocking(move || {
        // Guesses shaped like real tokens: the real one with its characters changed.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut hits = 0_u32;
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..100_000 {
            let mut guess = real.clone().into_bytes();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = usize::try_from(state % guess.len() as u64).expect("index");
                guess[at] = alphabet[usize::try_from((state >> 32) % 64).expect("index")];
            }
            let guess = String::from_utf8(guess).expect("ascii");
            if guess != real && engine.pay_view(&guess).expect("lookup").is_some() {
                hits += 1;
            }
        }
        hits
    })
    .await
    .expect("join");
    assert_eq!(hits, 0);
}
