//! Tenancy and roles over every route of the route table: another tenant's ids answer 404 like
//! unknown ids and its lists are empty; viewers only read; only admins manage keys and
//! settings. A route missing from this test's classification fails it.

use axum::body::Body;
use axum::http::Method;
use serde_json::{Value, json};
use settle_store::Role;

use crate::harness::{KEY, TestApi, id, item};

/// The first tenant's objects, one of each kind.
struct Fixture {
    customer: String,
    invoice: String,
    invoice_item: String,
    debit_memo: String,
    debit_memo_item: String,
    credit_memo: String,
    payment: String,
    application: String,
    key_id: String,
    link: String,
    product: String,
    price: String,
    subscription: String,
    bill_run: String,
}

async fn fixture(api: &TestApi) -> Fixture {
    let customer = api.customer("Tenant A").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Work", "amount": "100.00"}])).await;
    let debit_memo = api
        .post("/v1/debit-memos", json!({"customer_id": customer, "post": true, "items": [{"description": "Fee", "amount": "10.00"}]}))
        .await
        .expect(201);
    let credit_memo = api
        .post("/v1/credit-memos", json!({"customer_id": customer, "post": true, "items": [{"description": "Credit", "amount": "5.00"}]}))
        .await
        .expect(201);
    let payment = api.payment(&customer, "50.00").await;
    let application = api
        .post("/v1/applications", json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice), "amount": "10.00"}))
        .await
        .expect(201);
    let (_, key_id) = api.key_with_role(Role::Clerk);
    let link = api.post(&format!("/v1/customers/{customer}/payment-links"), json!({})).await;
    let link = id(&link.expect(201));
    let product = id(&api.post("/v1/products", json!({"name": "Plan"})).await.expect(201));
    let price = api
        .post("/v1/prices", json!({"product_id": product, "currency": "USD", "unit_amount": "9.00", "recurring": {"interval": "month"}}))
        .await
        .expect(201);
    let subscription = api
        .post("/v1/subscriptions", json!({"customer_id": customer, "start_date": "2026-01-01", "items": [{"price_id": id(&price)}]}))
        .await
        .expect(201);
    let bill_run = api.post("/v1/bill-runs", json!({"as_of": "2026-01-01"})).await.expect(201);
    Fixture {
        product,
        price: id(&price),
        subscription: id(&subscription),
        bill_run: id(&bill_run),
        customer,
        invoice_item: item(&invoice, 0),
        invoice: id(&invoice),
        debit_memo_item: item(&debit_memo, 0),
        debit_memo: id(&debit_memo),
        credit_memo: id(&credit_memo),
        payment: id(&payment),
        application: id(&application),
        key_id,
        link,
    }
}

/// What a route needs: the path with its id filled in, a body, and whether it names the first
/// tenant's objects at all (routes that do not are the caller's own, like creating a customer).
fn request(method: &str, path: &str, f: &Fixture) -> (String, Value, bool) {
    let doc = |p: &str| {
        if p.contains("debit-memos") {
            (&f.debit_memo, &f.debit_memo_item)
        } else {
            (&f.invoice, &f.invoice_item)
        }
    };
    let fill = |id: &str| path.replace("{id}", id);
    match (method, path) {
        ("GET", "/healthz" | "/readyz" | "/openapi.json") => (path.to_owned(), json!({}), false),
        (
            "GET",
            "/v1/customers"
            | "/v1/invoices"
            | "/v1/debit-memos"
            | "/v1/credit-memos"
            | "/v1/payments"
            | "/v1/applications"
            | "/v1/journal"
            | "/v1/reports/trial-balance"
            | "/v1/settings"
            | "/v1/products"
            | "/v1/prices"
            | "/v1/subscriptions",
        ) => (path.to_owned(), json!({}), false),
        ("GET", p) if p.starts_with("/v1/export/") => {
            (format!("{path}?format=csv"), json!({}), false)
        }
        ("GET", p) if p.starts_with("/v1/reports/") => (path.to_owned(), json!({}), false),
        ("POST", "/v1/customers") => (path.to_owned(), json!({"name": "Mine"}), false),
        ("PATCH", "/v1/settings") => (path.to_owned(), json!({"auto_apply_credit": false}), false),
        ("POST", "/v1/api-keys") => (path.to_owned(), json!({"role": "viewer"}), false),
        ("DELETE", "/v1/api-keys/{id}") => (fill(&f.key_id), json!({}), true),
        (
            "GET",
            "/v1/customers/{id}"
            | "/v1/customers/{id}/history"
            | "/v1/customers/{id}/credit-balance",
        ) => (fill(&f.customer), json!({}), true),
        ("PATCH", "/v1/customers/{id}") => (fill(&f.customer), json!({"name": "Renamed"}), true),
        ("POST", "/v1/customers/{id}/entries") => (
            fill(&f.customer),
            json!({"kind": "charge", "amount": "1.00", "description": "x"}),
            true,
        ),
        ("GET" | "POST", "/v1/customers/{id}/payment-links") => {
            (fill(&f.customer), json!({}), true)
        }
        ("DELETE", "/v1/payment-links/{id}") => (fill(&f.link), json!({}), true),
        ("POST", "/v1/customers/{id}/credit-balance/refunds") => {
            (fill(&f.customer), json!({"amount": "1.00"}), true)
        }
        ("POST", "/v1/invoices" | "/v1/debit-memos" | "/v1/credit-memos") => (
            path.to_owned(),
            json!({"customer_id": f.customer, "items": [{"description": "x", "amount": "1.00"}]}),
            true,
        ),
        ("POST", "/v1/payments") => (
            path.to_owned(),
            json!({"customer_id": f.customer, "amount": "1.00", "method": "cash"}),
            true,
        ),
        ("POST", "/v1/applications") => (
            path.to_owned(),
            json!({"source": {"type": "payment", "id": f.payment}, "target_id": f.invoice, "amount": "1.00"}),
            true,
        ),
        ("GET" | "POST", p)
            if p.starts_with("/v1/invoices/{id}") || p.starts_with("/v1/debit-memos/{id}") =>
        {
            let (document, document_item) = doc(p);
            let body = if p.ends_with("/adjustments") {
                json!({"item_id": document_item, "type": "credit", "amount": "1.00", "reason": "x"})
            } else {
                json!({})
            };
            (fill(document), body, true)
        }
        ("GET" | "POST", p) if p.starts_with("/v1/credit-memos/{id}") => {
            let body = if p.ends_with("/refunds") { json!({"amount": "1.00"}) } else { json!({}) };
            (fill(&f.credit_memo), body, true)
        }
        ("GET" | "POST", p) if p.starts_with("/v1/payments/{id}") => {
            let body = if p.ends_with("/refunds") { json!({"amount": "1.00"}) } else { json!({}) };
            (fill(&f.payment), body, true)
        }
        ("GET" | "POST", p) if p.starts_with("/v1/applications/{id}") => {
            (fill(&f.application), json!({}), true)
        }
        ("POST", "/v1/products") => (path.to_owned(), json!({"name": "Mine"}), false),
        ("POST", "/v1/bill-runs") => (path.to_owned(), json!({"as_of": "2026-01-01"}), false),
        ("POST", "/v1/imports") => {
            (format!("{path}?kind=customers&dry_run=true"), json!({}), false)
        }
        ("POST", "/v1/prices") => (
            path.to_owned(),
            json!({"product_id": f.product, "currency": "USD", "unit_amount": "1.00"}),
            true,
        ),
        ("POST", "/v1/subscriptions") => (
            path.to_owned(),
            json!({"customer_id": f.customer, "items": [{"price_id": f.price}]}),
            true,
        ),
        ("GET", "/v1/products/{id}") => (fill(&f.product), json!({}), true),
        ("GET" | "POST", p) if p.starts_with("/v1/prices/{id}") => {
            (fill(&f.price), json!({}), true)
        }
        ("GET", "/v1/bill-runs/{id}") => (fill(&f.bill_run), json!({}), true),
        ("GET", "/v1/subscriptions/{id}/preview") => (
            format!(
                "{}?effective_date=2026-01-16&changes=%5B%7B%22type%22%3A%22cancel%22%7D%5D",
                fill(&f.subscription)
            ),
            json!({}),
            true,
        ),
        ("GET" | "POST", p) if p.starts_with("/v1/subscriptions/{id}") => {
            let body = if p.ends_with("/amendments") {
                json!({"changes": [{"type": "cancel"}]})
            } else {
                json!({})
            };
            (fill(&f.subscription), body, true)
        }
        _ => panic!("{method} {path} is not classified in the tenancy test: add it"),
    }
}

async fn call(
    api: &TestApi,
    method: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> crate::harness::Reply {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let send_body = if method == Method::GET || method == Method::DELETE {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    api.send_raw(method, path, Some(key), send_body, true).await
}

#[tokio::test]
async fn another_tenants_ids_answer_not_found_on_every_route_and_its_lists_are_empty() {
    let api = TestApi::new();
    let f = fixture(&api).await;
    let other = api.other_tenant_key();
    let before = api.snapshot().await;
    let mut checked = 0;
    for (method, path) in settle_api::route_table() {
        let (path, body, names_first_tenant) = request(method, path, &f);
        let reply = call(&api, method, &path, &other, &body).await;
        if names_first_tenant {
            assert_eq!(
                reply.status.as_u16(),
                404,
                "{method} {path} with another tenant's key: {}",
                reply.body
            );
            assert_eq!(reply.body["code"], "not_found");
            checked += 1;
        } else if *method == "GET" && path.starts_with("/v1/") {
            assert_eq!(reply.status.as_u16(), 200, "{method} {path}: {}", reply.body);
            let text = reply.body.to_string();
            for first in
                [&f.customer, &f.invoice, &f.debit_memo, &f.credit_memo, &f.payment, &f.application]
            {
                assert!(
                    !text.contains(first.as_str()),
                    "{method} {path} shows another tenant's {first}: {text}"
                );
            }
        }
    }
    assert!(checked >= 30, "only {checked} routes named the first tenant's objects");
    // Lists filtered by the first tenant's ids are empty too.
    for path in [
        format!("/v1/invoices?customer_id={}", f.customer),
        format!("/v1/payments?customer_id={}", f.customer),
        format!("/v1/applications?target_id={}", f.invoice),
        format!("/v1/journal?customer_id={}", f.customer),
    ] {
        let reply = call(&api, "GET", &path, &other, &json!({})).await;
        assert_eq!(reply.status.as_u16(), 200);
        assert!(reply.body["data"].as_array().expect("data").is_empty(), "{path}");
    }
    assert_eq!(api.snapshot().await, before, "nothing of the first tenant changed");
    api.assert_verified().await;
}

#[tokio::test]
async fn viewers_only_read_and_only_admins_manage_keys_and_settings() {
    let api = TestApi::new();
    let f = fixture(&api).await;
    let (viewer, _) = api.key_with_role(Role::Viewer);
    let (clerk, _) = api.key_with_role(Role::Clerk);
    let before = api.snapshot().await;
    let mut refused = 0;
    for (method, path) in settle_api::route_table() {
        let (path, body, _) = request(method, path, &f);
        if *method == "GET" {
            let reply = call(&api, method, &path, &viewer, &body).await;
            assert_eq!(reply.status.as_u16(), 200, "viewer {method} {path}: {}", reply.body);
            continue;
        }
        let reply = call(&api, method, &path, &viewer, &body).await;
        reply.expect_problem(403, "forbidden");
        refused += 1;
        if path.starts_with("/v1/api-keys") || path == "/v1/settings" {
            let reply = call(&api, method, &path, &clerk, &body).await;
            reply.expect_problem(403, "forbidden");
            refused += 1;
        }
    }
    assert!(refused >= 30, "{refused}");
    assert_eq!(api.snapshot().await, before);
    // An admin revokes a key: refused from the next request on.
    let reply = call(&api, "DELETE", &format!("/v1/api-keys/{}", f.key_id), KEY, &json!({})).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let (clerk2, clerk2_id) = api.key_with_role(Role::Clerk);
    assert_eq!(call(&api, "GET", "/v1/customers", &clerk2, &json!({})).await.status.as_u16(), 200);
    call(&api, "DELETE", &format!("/v1/api-keys/{clerk2_id}"), KEY, &json!({})).await.expect(200);
    call(&api, "GET", "/v1/customers", &clerk2, &json!({}))
        .await
        .expect_problem(401, "unauthorized");
    call(&api, "DELETE", &format!("/v1/api-keys/{clerk2_id}"), KEY, &json!({}))
        .await
        .expect_problem(404, "not_found");
    let made =
        call(&api, "POST", "/v1/api-keys", KEY, &json!({"role": "viewer", "name": "reports"}))
            .await
            .expect(201);
    let key = made["key"].as_str().expect("key");
    assert!(key.starts_with("sk_settle_"), "{key}");
    assert_eq!(call(&api, "GET", "/v1/customers", key, &json!({})).await.status.as_u16(), 200);
    call(&api, "POST", "/v1/api-keys", KEY, &json!({"role": "owner"}))
        .await
        .expect_problem(422, "validation_error");
}

/// A key revoked after this process found it live (and stopped looking it up before each
/// request) is refused from the next request on: an import (which writes in batches of its
/// own), a read, a write, or a request refused before it reaches the store; and nothing is
/// written. A refused key is forgotten, so each request has a key of its own.
#[tokio::test]
async fn a_revoked_key_is_refused_at_once_though_it_was_found_live_before() {
    let api = TestApi::new();
    let keys: Vec<(String, String)> = (0..4).map(|_| api.key_with_role(Role::Clerk)).collect();
    for (key, _) in &keys {
        call(&api, "GET", "/v1/customers", key, &json!({})).await.expect(200);
    }
    let csv = |n: u32| format!("external_id,name,email\nold-{n},Imported {n},i{n}@example.com\n");
    let path = "/v1/imports?kind=customers";
    api.post_csv_as(&keys[0].0, path, &csv(0)).await.expect(201);
    for (_, id) in &keys {
        call(&api, "DELETE", &format!("/v1/api-keys/{id}"), KEY, &json!({})).await.expect(200);
    }
    let before = api.snapshot().await;
    let reply = api.post_csv_as(&keys[0].0, path, &csv(1)).await;
    assert_eq!(reply.status.as_u16(), 401, "an import: {}", reply.body);
    let requests = [
        ("GET", "/v1/customers", json!({})),
        ("POST", "/v1/customers", json!({"name": "After"})),
        ("POST", "/v1/customers", json!({"name": 7})),
    ];
    for ((method, path, body), (key, _)) in requests.iter().zip(&keys[1..]) {
        let reply = call(&api, method, path, key, body).await;
        assert_eq!(reply.status.as_u16(), 401, "{method} {path} {body}: {}", reply.body);
        reply.expect_problem(401, "unauthorized");
    }
    assert_eq!(api.snapshot().await, before);
}
