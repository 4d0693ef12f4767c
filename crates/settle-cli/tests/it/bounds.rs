//! The sequence that once made a store unreadable: now refused, and the server restarts and
//! `verify` agrees, on the store `SETTLE_TEST_STORE` names.

use super::{KEY, Server, TestStore, field, settle};

#[test]
fn an_amount_past_the_bound_is_refused_and_the_store_restarts_and_verifies() {
    let dir = tempfile::tempdir().expect("dir");
    let store = TestStore::new(&dir);
    let server = Server::start_url(&store.url, Some(KEY));
    let (status, body) = server.request("POST", "/v1/customers", KEY, r#"{"name":"Huge"}"#);
    assert_eq!(status, 201, "{body}");
    let customer = field(&body, "id");
    let invoice = |amount: &str| {
        format!(
            r#"{{"customer_id":"{customer}","post":true,"items":[{{"description":"A","amount":"{amount}"}}]}}"#
        )
    };
    let (status, body) =
        server.request("POST", "/v1/invoices", KEY, &invoice("92233720368547758.07"));
    assert_eq!(status, 422, "{body}");
    assert_eq!(field(&body, "code"), "amount_out_of_range");
    let (status, body) = server.request("POST", "/v1/invoices", KEY, &invoice("999999999999.99"));
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.request("POST", "/v1/invoices", KEY, &invoice("1.00"));
    assert_eq!(status, 422, "{body}");
    assert_eq!(field(&body, "code"), "amount_out_of_range");
    let (status, body) = server.request("GET", "/v1/reports/trial-balance", KEY, "");
    assert_eq!(status, 200, "{body}");
    drop(server);

    let server = Server::start_url(&store.url, Some(KEY));
    let (status, body) = server.request("GET", &format!("/v1/customers/{customer}"), KEY, "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(field(&body, "balance"), "-999999999999.99");
    drop(server);
    let verify = settle().args(["verify", "--database", &store.url]).output().expect("verify");
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{out}");
    assert!(out.contains("0 differences"), "{out}");
}
