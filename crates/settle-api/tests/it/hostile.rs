//! Hostile and malformed input: never a panic, never a 5xx, always problem+json, nothing written.

use axum::body::Body;
use axum::http::Method;
use serde_json::json;

use crate::harness::{KEY, TestApi};

#[tokio::test]
async fn requests_without_a_valid_key_are_unauthorized() {
    let api = TestApi::new();
    api.send_raw(Method::GET, "/v1/customers", None, Body::empty(), false)
        .await
        .expect_problem(401, "unauthorized");
    api.send_raw(Method::GET, "/v1/customers", Some("sk_wrong_key_000000"), Body::empty(), false)
        .await
        .expect_problem(401, "unauthorized");
    let health = api.send_raw(Method::GET, "/healthz", None, Body::empty(), false).await;
    assert_eq!(health.status.as_u16(), 200);
}

#[tokio::test]
async fn malformed_bodies_get_4xx_problems_and_write_nothing() {
    let api = TestApi::new();
    let customer = api.customer("Hostile").await;
    let before = api.snapshot().await;
    let raw = |path: &str, body: &'static str| {
        let api = &api;
        let path = path.to_owned();
        async move { api.send_raw(Method::POST, &path, Some(KEY), Body::from(body), true).await }
    };
    raw("/v1/customers", "{").await.expect_problem(400, "bad_request");
    raw("/v1/customers", "[]").await.expect_problem(422, "validation_error");
    raw("/v1/customers", "null").await.expect_problem(422, "validation_error");
    raw("/v1/customers", "{\"name\": 5}").await.expect_problem(422, "validation_error");
    raw("/v1/customers", "{\"name\": \"a\"} trailing").await.expect_problem(400, "bad_request");
    // PostgreSQL's text cannot hold U+0000: refused at the boundary on every store.
    raw("/v1/customers", "{\"name\": \"a\\u0000\"}").await.expect_problem(422, "validation_error");
    raw("/v1/products", "{\"name\": \"\\u0000\"}").await.expect_problem(422, "validation_error");
    raw("/v1/payments", "{\"customer_id\": 1, \"amount\": \"1\", \"method\": \"cash\"}")
        .await
        .expect_problem(422, "validation_error");
    // An amount's text is read at the boundary, before any lookup: malformed text is refused
    // beside its field even for a customer that does not exist.
    let problem = raw(
        "/v1/payments",
        "{\"customer_id\": \"cus_x\", \"amount\": 1e400, \"method\": \"cash\"}",
    )
    .await
    .expect_problem(422, "validation_error");
    assert_eq!(problem["errors"][0]["field"], "amount");
    raw("/v1/payments", "{\"customer_id\": \"cus_x\", \"amount\": 1e2, \"method\": \"cash\"}")
        .await
        .expect_problem(422, "validation_error");
    raw("/v1/payments", "{\"customer_id\": \"cus_x\", \"amount\": 100, \"method\": \"cash\"}")
        .await
        .expect_problem(404, "not_found");
    let huge = "x".repeat(300 * 1024);
    api.send_raw(
        Method::POST,
        "/v1/customers",
        Some(KEY),
        Body::from(format!("{{\"name\": \"{huge}\"}}")),
        true,
    )
    .await
    .expect_problem(413, "payload_too_large");
    api.post("/v1/payments", json!({"customer_id": customer, "amount": "1.005", "method": "cash"}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/payments", json!({"customer_id": customer, "amount": 1.005, "method": "cash"}))
        .await
        .expect_problem(422, "validation_error");
    api.post("/v1/payments", json!({"customer_id": customer, "amount": "0", "method": "cash"}))
        .await
        .expect_problem(422, "validation_error");
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "1", "method": "cash", "status": "voided"}),
    )
    .await
    .expect_problem(422, "validation_error");
    api.get("/v1/nowhere").await.expect_problem(404, "not_found");
    api.send_raw(Method::DELETE, "/v1/customers", Some(KEY), Body::empty(), false)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(api.snapshot().await, before);
}

/// A tiny deterministic generator, so a failure names the case that made it.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[usize::try_from(self.next()).unwrap_or(0) % from.len()]
    }
}

#[tokio::test]
async fn ten_thousand_mutated_requests_on_every_route_never_get_a_5xx() {
    let api = TestApi::new();
    let customer = api.customer("Fuzz").await;
    let invoice = api.invoice(&customer, json!([{"description": "A", "amount": "10.00"}])).await;
    let invoice_id = invoice["id"].as_str().expect("id").to_owned();
    let values = [
        "null",
        "true",
        "0",
        "-1",
        "1e308",
        "-0.0",
        "\"\"",
        "\"1.00\"",
        "\"-3.13\"",
        "\"abc\"",
        "[]",
        "{}",
        "\"\\u0000\"",
        "99999999999999999999999",
        "\"92233720368547758.08\"",
        "1.001",
        "\"2026-02-30\"",
        "\"cus_x\"",
        "\"inv_x\"",
        "[{}]",
        "[{\"description\":\"d\",\"amount\":\"1\"}]",
    ];
    let fields = [
        "name",
        "email",
        "currency",
        "customer_id",
        "items",
        "amount",
        "method",
        "source",
        "target_id",
        "rule",
        "post",
        "payment_terms_days",
        "metadata",
        "invoice_date",
        "applications",
        "kind",
        "description",
        "payment_method",
        "item_id",
        "type",
        "reason",
        "reverse_applications",
        "role",
        "from_invoice_id",
        "application_rule",
        "negative_invoice_policy",
        "auto_apply_credit",
        "time_zone",
        "effective_date",
        "due_date",
        "quantity",
        "unit_price",
        "taxes",
    ];
    let routes = settle_api::route_table();
    let ids = [
        customer.clone(),
        invoice_id.clone(),
        "cus_nope".to_owned(),
        "inv_".to_owned(),
        "%00".to_owned(),
        "x".repeat(300),
        "..%2F..".to_owned(),
        "pay_1".to_owned(),
        "cm_1".to_owned(),
        "app_1".to_owned(),
    ];
    let queries = [
        "",
        "?limit=0",
        "?limit=-1",
        "?limit=99999999999",
        "?cursor=%FF%FE",
        "?cursor=bm9w",
        "?sort=%00",
        "?as_of=2026-13-45",
        "?format=xml",
        "?balance=maybe",
        "?status=",
        "?customer_id=cus_x&limit=1",
        "?search=%25%5F%5C",
        "?unapplied=yes",
        "?currency=ZZZ",
    ];
    let mut rng = Lcg(0x5e771e);
    for case in 0..10_000 {
        let n_fields = rng.next() % 6;
        let mut body = String::from("{");
        for i in 0..n_fields {
            if i > 0 {
                body.push(',');
            }
            let field = rng.pick(&fields);
            let value = if field == "target_id" && rng.next().is_multiple_of(2) {
                format!("\"{invoice_id}\"")
            } else if field == "customer_id" && rng.next().is_multiple_of(2) {
                format!("\"{customer}\"")
            } else {
                rng.pick(&values).to_owned()
            };
            body.push_str(&format!("\"{field}\":{value}"));
        }
        body.push('}');
        if rng.next().is_multiple_of(10) {
            body.truncate(body.len() / 2);
        }
        let (method, template) = routes[usize::try_from(rng.next()).unwrap_or(0) % routes.len()];
        let method: &str = method;
        let id = &ids[usize::try_from(rng.next()).unwrap_or(0) % ids.len()];
        let mut path = template.replace("{id}", id);
        if method == "GET" {
            path.push_str(rng.pick(&queries));
        }
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let reply =
            api.send_raw(method.clone(), &path, Some(KEY), Body::from(body.clone()), true).await;
        assert!(
            reply.status.is_success() || reply.status.is_client_error(),
            "case {case}: {method} {path} {body} answered {}: {}",
            reply.status,
            reply.body
        );
        if reply.status.is_client_error() {
            assert_eq!(
                reply.content_type.as_deref(),
                Some("application/problem+json"),
                "case {case}: {method} {path}"
            );
        }
    }
    api.assert_verified().await;
}
