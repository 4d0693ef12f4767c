//! Payment links over HTTP: made with their URL and token once, listed without them, revoked
//! once, another tenant's not found, and refused input.

use axum::body::Body;
use axum::http::Method;
use chrono::TimeDelta;
use serde_json::{Value, json};
use settle_store::Role;

use crate::harness::{PUBLIC_URL, TestApi, id};

fn links_path(customer: &str) -> String {
    format!("/v1/customers/{customer}/payment-links")
}

async fn delete(api: &TestApi, path: &str, key: &str) -> crate::harness::Reply {
    api.send_raw(Method::DELETE, path, Some(key), Body::empty(), false).await
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> =
        value.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn a_link_is_made_with_its_url_and_token_once_and_listed_newest_first_without_them() {
    let api = TestApi::new();
    let customer = api.customer("Globex").await;
    let first = api.post(&links_path(&customer), json!({})).await.expect(201);
    let token = first["token"].as_str().expect("token").to_owned();
    assert!(token.len() >= 44 && token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
    assert_eq!(first["url"], format!("{PUBLIC_URL}/pay/{token}"));
    assert!(id(&first).starts_with("plink_"), "{first}");
    assert_eq!(
        (&first["object"], &first["customer_id"], &first["created_at"], &first["expires_at"]),
        (&json!("payment_link"), &json!(customer), &json!("2026-03-01T12:00:00Z"), &Value::Null)
    );
    assert_eq!(
        keys(&first),
        ["created_at", "customer_id", "expires_at", "id", "object", "token", "url"]
    );

    api.advance_clock(TimeDelta::minutes(1));
    let body = json!({"expires_at": "2026-03-08T00:00:00+01:00"});
    let second = api.post(&links_path(&customer), body).await.expect(201);
    assert_eq!(second["expires_at"], "2026-03-07T23:00:00Z");
    assert_ne!(second["token"], first["token"]);

    let listed = api.get(&links_path(&customer)).await.expect(200);
    assert_eq!(listed["object"], "list");
    let data = listed["data"].as_array().expect("data");
    let ids: Vec<String> = data.iter().map(id).collect();
    assert_eq!(ids, [id(&second), id(&first)]);
    assert_eq!(
        data[0],
        json!({
            "id": id(&second),
            "object": "payment_link",
            "customer_id": customer,
            "created_at": "2026-03-01T12:01:00Z",
            "expires_at": "2026-03-07T23:00:00Z",
            "revoked_at": null,
        })
    );
    let text = listed.to_string();
    for secret in [&first["token"], &second["token"]] {
        assert!(!text.contains(secret.as_str().expect("token")), "a token is listed: {text}");
    }
}

#[tokio::test]
async fn a_revoked_link_is_listed_with_revoked_at_and_is_not_found_the_second_time() {
    let api = TestApi::new();
    let customer = api.customer("Globex").await;
    let link = id(&api.post(&links_path(&customer), json!({})).await.expect(201));
    api.advance_clock(TimeDelta::hours(2));
    let path = format!("/v1/payment-links/{link}");
    let reply = delete(&api, &path, crate::harness::KEY).await;
    assert_eq!((reply.status.as_u16(), reply.body), (204, Value::Null));
    let listed = api.get(&links_path(&customer)).await.expect(200);
    assert_eq!(listed["data"][0]["id"], link);
    assert_eq!(listed["data"][0]["revoked_at"], "2026-03-01T14:00:00Z");
    delete(&api, &path, crate::harness::KEY).await.expect_problem(404, "not_found");
    delete(&api, "/v1/payment-links/plink_00009999", crate::harness::KEY)
        .await
        .expect_problem(404, "not_found");
    delete(&api, "/v1/payment-links/not-an-id", crate::harness::KEY)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn another_tenants_customer_and_link_are_not_found_and_stay_untouched() {
    let api = TestApi::new();
    let customer = api.customer("Globex").await;
    let link = id(&api.post(&links_path(&customer), json!({})).await.expect(201));
    let other = api.other_tenant_key();
    let post = Body::from("{}");
    api.send_raw(Method::POST, &links_path(&customer), Some(&other), post, true)
        .await
        .expect_problem(404, "not_found");
    api.send_raw(Method::GET, &links_path(&customer), Some(&other), Body::empty(), false)
        .await
        .expect_problem(404, "not_found");
    delete(&api, &format!("/v1/payment-links/{link}"), &other)
        .await
        .expect_problem(404, "not_found");
    let listed = api.get(&links_path(&customer)).await.expect(200);
    assert_eq!(listed["data"].as_array().expect("data").len(), 1);
    assert_eq!(listed["data"][0]["revoked_at"], Value::Null);
}

#[tokio::test]
async fn bad_input_is_refused_and_viewers_only_list() {
    let api = TestApi::new();
    let customer = api.customer("Globex").await;
    let path = links_path(&customer);
    for expires_at in ["tomorrow", "2026-03-08", "2026-03-01T12:00:00Z", "2020-01-01T00:00:00Z"] {
        let problem = api
            .post(&path, json!({"expires_at": expires_at}))
            .await
            .expect_problem(422, "validation_error");
        assert_eq!(problem["errors"][0]["field"], "expires_at", "{expires_at}");
    }
    api.post(&path, json!({"token": "mine"})).await.expect_problem(422, "validation_error");
    api.post(&links_path("cus_00009999"), json!({})).await.expect_problem(404, "not_found");
    api.get(&links_path("cus_00009999")).await.expect_problem(404, "not_found");
    let (viewer, _) = api.key_with_role(Role::Viewer);
    api.send_raw(Method::POST, &path, Some(&viewer), Body::from("{}"), true)
        .await
        .expect_problem(403, "forbidden");
    let (clerk, _) = api.key_with_role(Role::Clerk);
    let made = api.send_raw(Method::POST, &path, Some(&clerk), Body::from("{}"), true).await;
    let link = id(&made.expect(201));
    let listed = api.send_raw(Method::GET, &path, Some(&viewer), Body::empty(), false).await;
    assert_eq!(listed.expect(200)["data"][0]["id"], link);
    delete(&api, &format!("/v1/payment-links/{link}"), &viewer)
        .await
        .expect_problem(403, "forbidden");
    let reply = delete(&api, &format!("/v1/payment-links/{link}"), &clerk).await;
    assert_eq!(reply.status.as_u16(), 204);
}

#[tokio::test]
async fn a_keyed_create_answers_the_same_link_again_without_its_token_and_makes_one() {
    let api = TestApi::new();
    let customer = api.customer("Globex").await;
    let path = links_path(&customer);
    let made = api.post_keyed(&path, "link-1", json!({})).await;
    assert!(!made.replayed);
    let made = made.expect(201);
    assert!(made["token"].as_str().is_some_and(|t| t.len() >= 43), "{made}");
    let again = api.post_keyed(&path, "link-1", json!({})).await;
    assert!(again.replayed);
    // The replay is the kept answer, and only the token's SHA-256 is kept: the same link,
    // without the token or its URL.
    let mut expected = made.clone();
    expected["token"] = Value::Null;
    expected["url"] = Value::Null;
    let again = again.expect(201);
    assert_eq!(again, expected);
    let token = made["token"].as_str().expect("token");
    assert!(!again.to_string().contains(token));
    let listed = api.get(&path).await.expect(200);
    assert_eq!(listed["data"].as_array().expect("data").len(), 1);
}

#[tokio::test]
async fn a_keyed_api_key_create_replays_the_key_without_its_text() {
    let api = TestApi::new();
    let made = api.post_keyed("/v1/api-keys", "key-1", json!({"role": "viewer"})).await.expect(201);
    let text = made["key"].as_str().expect("the key text, once").to_owned();
    let again = api.post_keyed("/v1/api-keys", "key-1", json!({"role": "viewer"})).await;
    assert!(again.replayed);
    let mut expected = made.clone();
    expected["key"] = Value::Null;
    let again = again.expect(201);
    assert_eq!(again, expected);
    assert!(!again.to_string().contains(&text));
}
