//! `GET /openapi.json`: an OpenAPI 3.1 document that documents every route the router serves.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Method;
use serde_json::Value;

use crate::harness::TestApi;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(api: &TestApi) -> Value {
    let reply = api.send_raw(Method::GET, "/openapi.json", None, Body::empty(), false).await;
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    reply.expect(200)
}

/// Every `(METHOD, path)` the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every operation as `(method, path, operation)`.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(|m| item.get(*m).map(|op| (m.to_string(), path.clone(), op.clone())))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn is_openapi_3_1_without_auth() {
    let api = TestApi::new();
    let doc = document(&api).await;
    let version = doc["openapi"].as_str().expect("openapi");
    assert!(version.starts_with("3.1"), "openapi is {version}");
    assert_eq!(api.get("/openapi.json").await.expect(200), doc);
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "code", "errors"] {
        assert!(problem.get(field).is_some(), "Problem lacks {field}");
    }
}

/// The router is built from `settle_api::route_table()`; adding a route there without a
/// `#[utoipa::path]` listed in the document's `paths` fails here.
#[tokio::test]
async fn documents_every_route_and_no_other() {
    let api = TestApi::new();
    let doc = document(&api).await;
    let routes: BTreeSet<(String, String)> = settle_api::route_table()
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(routes.len(), settle_api::route_table().len(), "a route is listed twice");
    let documented = documented(&doc);
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    assert!(undocumented.is_empty(), "routes missing from /openapi.json: {undocumented:?}");
    let ids: Vec<String> = operations(&doc)
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().expect("operationId").to_owned())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operationIds are not unique: {ids:?}");
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(stale.is_empty(), "documented operations the router does not serve: {stale:?}");
}

/// The table really is what the router serves: every listed route answers something other
/// than the router's own 404 or 405.
#[tokio::test]
async fn route_table_is_what_the_router_serves() {
    let api = TestApi::new();
    for (method, path) in settle_api::route_table() {
        let path = path.replace("{id}", "cus_unknown");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let reply = api
            .send_raw(method.clone(), &path, Some(crate::harness::KEY), Body::empty(), false)
            .await;
        assert_ne!(reply.status.as_u16(), 405, "{method} {path} is not routed");
        let unrouted = reply.body["detail"] == "route not found";
        assert!(!unrouted, "{method} {path} is not routed");
    }
}

#[tokio::test]
async fn every_operation_is_complete() {
    let api = TestApi::new();
    let doc = document(&api).await;
    for (method, path, op) in operations(&doc) {
        let name = format!("{method} {path}");
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: no summary");
        assert!(
            op["description"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: no description"
        );
        let responses = op["responses"].as_object().expect("responses");
        let success = match method.as_str() {
            "post" if responses.contains_key("201") => "201",
            "delete" if responses.contains_key("204") => "204",
            _ => "200",
        };
        assert!(responses.contains_key(success), "{name}: no {success} response");
        let problem = responses.iter().any(|(status, response)| {
            status.starts_with('4')
                && response["content"]["application/problem+json"]["schema"]["$ref"]
                    == "#/components/schemas/Problem"
        });
        assert!(problem, "{name}: no 4xx problem+json response");
        let bearer = op["security"]
            .as_array()
            .is_some_and(|list| list.iter().any(|req| req.get("bearer").is_some()));
        if path.starts_with("/v1/") {
            assert!(bearer, "{name}: no bearer security");
        } else {
            assert!(!bearer, "{name} needs no auth");
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let param = segment.trim_matches(|c| c == '{' || c == '}');
            let found = params.iter().any(|p| p["name"] == param && p["in"] == "path");
            assert!(found, "{name}: path parameter {param} undocumented");
        }
        if method == "post" {
            let key = params.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
            assert!(key, "{name}: no Idempotency-Key header");
            assert!(
                responses[success]["headers"].get("Idempotent-Replayed").is_some(),
                "{name}: no Idempotent-Replayed header"
            );
        }
        if method == "get" && doc_is_list(&op) {
            let limit = params.iter().find(|p| p["name"] == "limit").expect("limit");
            assert_eq!(limit["schema"]["minimum"], 1, "{name}");
            assert_eq!(limit["schema"]["maximum"], 500, "{name}");
            assert_eq!(limit["schema"]["default"], 50, "{name}");
            assert!(params.iter().any(|p| p["name"] == "cursor"), "{name}: no cursor");
        }
    }
}

/// A list answers `ListOut_...`.
fn doc_is_list(op: &Value) -> bool {
    op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .is_some_and(|r| r.contains("ListOut"))
}

#[tokio::test]
async fn amounts_and_dates_are_documented() {
    let api = TestApi::new();
    let doc = document(&api).await;
    let schemas = &doc["components"]["schemas"];
    let amount_input = &schemas["AmountInput"]["oneOf"];
    assert_eq!(amount_input[0]["type"], "string");
    assert_eq!(amount_input[0]["pattern"], r"^-?[0-9]+(\.[0-9]+)?$");
    assert_eq!(amount_input[1]["type"], "number");
    assert_eq!(schemas["Date"]["format"], "date");
    assert_eq!(
        schemas["PaymentIn"]["properties"]["amount"]["$ref"],
        "#/components/schemas/AmountInput"
    );
    assert_eq!(
        schemas["CustomerOut"]["properties"]["balance"]["pattern"],
        r"^-?[0-9]+(\.[0-9]+)?$"
    );
    assert_eq!(schemas["DocumentOut"]["properties"]["invoice_date"]["format"], "date");
    let sort = doc["paths"]["/v1/customers"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "sort")
        .expect("sort")
        .clone();
    assert_eq!(sort["schema"]["default"], "-created");
    assert!(sort["schema"]["enum"].as_array().is_some_and(|e| e.len() == 6));
}
