//! `?dry_run=true` on the POSTs that move balances: 200 with the preview, nothing written, no
//! idempotency record; the committed request then shows exactly the previewed numbers.

use serde_json::{Value, json};

use crate::harness::{TestApi, id, item};

/// The collection path of a document kind as previews name it.
fn base(kind: &str) -> &'static str {
    match kind {
        "invoice" => "/v1/invoices",
        "debit_memo" => "/v1/debit-memos",
        _ => "/v1/credit-memos",
    }
}

/// Posts `body` to `path?dry_run=true`, checks that nothing changed, then posts it for real
/// (expecting `status`) and checks every previewed number against what the API then shows.
/// Documents the request creates are matched by number (their ids differ from the preview's).
async fn preview_then_commit(
    api: &TestApi,
    customer: &str,
    path: &str,
    body: Value,
    status: u16,
) -> (Value, Value) {
    let before = api.snapshot().await;
    let preview = api.post(&format!("{path}?dry_run=true"), body.clone()).await.expect(200);
    assert_eq!(preview["object"], "preview");
    assert_eq!(api.snapshot().await, before, "a dry run writes nothing");
    let committed = api.post(path, body).await.expect(status);
    let shown = api.balances(customer).await;
    assert_eq!(preview["customer"]["after"], shown["balance"]);
    assert_eq!(preview["credit_balance"]["after"], shown["credit_balance"]);
    for document in preview["documents"].as_array().expect("documents") {
        let kind = document["kind"].as_str().expect("kind");
        let reply = api.get(&format!("{}/{}", base(kind), id_of(document))).await;
        let now = if reply.status == 200 {
            reply.body
        } else {
            let list = api.get(&format!("{}?customer_id={customer}", base(kind))).await.expect(200);
            list["data"]
                .as_array()
                .expect("data")
                .iter()
                .find(|d| d["number"] == document["number"])
                .cloned()
                .expect("a created document has the previewed number")
        };
        assert_eq!(now["balance"], document["after"], "{document}");
        assert_eq!(now["status"], document["status_after"], "{document}");
        for change in preview["items"].as_array().expect("items") {
            if change["document_id"] == document["document_id"] {
                let shown = now["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .find(|i| i["id"] == change["item_id"] || reply.status != 200)
                    .expect("the previewed item");
                assert_eq!(shown["balance"], change["after"], "{change}");
            }
        }
    }
    for payment in preview["payments"].as_array().expect("payments") {
        let path = format!("/v1/payments/{}", payment["payment_id"].as_str().expect("id"));
        let now = api.get(&path).await.expect(200);
        assert_eq!(now["unapplied"], payment["after"]);
        assert_eq!(now["status"], payment["status_after"]);
    }
    api.assert_verified().await;
    (preview, committed)
}

fn id_of(document: &Value) -> &str {
    document["document_id"].as_str().expect("document_id")
}

fn changes(preview: &Value) -> Vec<(String, String)> {
    preview["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["before"].as_str().expect("s").to_owned(),
                i["after"].as_str().expect("s").to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn net_items_preview_shows_each_item_before_and_after() {
    let api = TestApi::new();
    let customer = api.customer("Zed Corp").await;
    let invoice = api
        .invoice(&customer, json!([{"description": "Plan", "amount": "100.00"}, {"description": "Credit", "amount": "-40.00"}]))
        .await;
    let path = format!("/v1/invoices/{}/net-items", id(&invoice));
    let (preview, committed) = preview_then_commit(&api, &customer, &path, json!({}), 200).await;
    assert_eq!(changes(&preview), pairs(&[("100.00", "60.00"), ("-40.00", "0.00")]));
    assert_eq!(preview["items"][0]["description"], "Plan");
    assert_eq!(preview["items"][0]["item_id"], item(&invoice, 0));
    assert_eq!(preview["documents"][0]["number"], invoice["number"]);
    assert_eq!(preview["documents"][0]["before"], "60.00");
    assert_eq!(preview["documents"][0]["after"], "60.00");
    assert_eq!(preview["customer"], json!({"before": "-60.00", "after": "-60.00"}));
    assert_eq!(committed["balance"], "60.00");
}

#[tokio::test]
async fn transfer_preview_uses_up_no_idempotency_key() {
    let api = TestApi::new();
    let customer = api.customer("Neg Co").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Refund due", "amount": "-25.00"}])).await;
    let path = format!("/v1/invoices/{}/transfer-to-credit", id(&invoice));
    let dry = api.post_keyed(&format!("{path}?dry_run=true"), "k-1", json!({})).await;
    assert!(!dry.replayed);
    let dry = dry.expect(200);
    assert_eq!(dry["credit_balance"], json!({"before": "0.00", "after": "25.00"}));
    assert_eq!(dry["documents"][0]["before"], "-25.00");
    assert_eq!(dry["documents"][0]["after"], "0.00");
    // The same key, for real: done now, not a replay of the preview.
    let real = api.post_keyed(&path, "k-1", json!({})).await;
    assert!(!real.replayed);
    let real = real.expect(200);
    assert_eq!(real["customer"]["credit_balance"], "25.00");
    assert_eq!(real["invoice"]["balance"], "0.00");
}

#[tokio::test]
async fn write_off_preview_shows_the_new_credit_memo_by_number() {
    let api = TestApi::new();
    let customer = api.customer("Gone Inc").await;
    let invoice = api.invoice(&customer, json!([{"description": "Work", "amount": "80.00"}])).await;
    let path = format!("/v1/invoices/{}/write-off", id(&invoice));
    let body = json!({"amount": "30.00", "reason": "uncollectible"});
    let (preview, memo) = preview_then_commit(&api, &customer, &path, body, 201).await;
    assert_eq!(changes(&preview), pairs(&[("80.00", "50.00")]));
    assert_eq!(preview["customer"], json!({"before": "-80.00", "after": "-50.00"}));
    let numbers: Vec<&Value> =
        preview["documents"].as_array().expect("d").iter().map(|d| &d["number"]).collect();
    assert_eq!(numbers, vec![&invoice["number"], &memo["number"]]);
}

#[tokio::test]
async fn adjustment_preview_matches_the_adjustment() {
    let api = TestApi::new();
    let customer = api.customer("Adj Ltd").await;
    let invoice =
        api.invoice(&customer, json!([{"description": "Seats", "amount": "45.00"}])).await;
    let path = format!("/v1/invoices/{}/adjustments", id(&invoice));
    let body = json!({"item_id": item(&invoice, 0), "type": "credit", "amount": "5.00", "reason": "goodwill"});
    let (preview, adjustment) = preview_then_commit(&api, &customer, &path, body, 201).await;
    assert_eq!(changes(&preview), pairs(&[("45.00", "40.00")]));
    assert_eq!(adjustment["amount"], "5.00");
}

#[tokio::test]
async fn void_with_reverse_applications_preview_returns_the_payment() {
    let api = TestApi::new();
    let customer = api.customer("Void Co").await;
    let invoice = api.invoice(&customer, json!([{"description": "Box", "amount": "70.00"}])).await;
    let payment = api.payment(&customer, "20.00").await;
    api.post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice)}),
    )
    .await
    .expect(201);
    let path = format!("/v1/invoices/{}/void", id(&invoice));
    let body = json!({"reverse_applications": true});
    let (preview, voided) = preview_then_commit(&api, &customer, &path, body, 200).await;
    assert_eq!(preview["documents"][0]["status_before"], "posted");
    assert_eq!(preview["documents"][0]["status_after"], "voided");
    assert_eq!(preview["payments"][0]["before"], "0.00");
    assert_eq!(preview["payments"][0]["after"], "20.00");
    assert_eq!(preview["customer"], json!({"before": "-50.00", "after": "20.00"}));
    assert_eq!(voided["status"], "voided");
}

#[tokio::test]
async fn apply_preview_spreads_by_the_rule_exactly_as_the_application() {
    let api = TestApi::new();
    let customer = api.customer("Rule Co").await;
    let invoice = api
        .invoice(&customer, json!([{"description": "A", "amount": "10.00"}, {"description": "B", "amount": "20.00"}]))
        .await;
    let payment = api.payment(&customer, "10.00").await;
    let body = json!({"source": {"type": "payment", "id": id(&payment)}, "target_id": id(&invoice),
                      "amount": "10.00", "rule": "proration"});
    let (preview, application) =
        preview_then_commit(&api, &customer, "/v1/applications", body, 201).await;
    assert_eq!(changes(&preview), pairs(&[("10.00", "6.67"), ("20.00", "13.33")]));
    assert_eq!(preview["payments"][0]["after"], "0.00");
    assert_eq!(application["amount"], "10.00");
}

#[tokio::test]
async fn a_refused_dry_run_is_refused_as_the_request_and_a_bad_flag_is_validation() {
    let api = TestApi::new();
    let customer = api.customer("Pos Co").await;
    let invoice = api.invoice(&customer, json!([{"description": "Fee", "amount": "9.00"}])).await;
    let path = format!("/v1/invoices/{}/transfer-to-credit", id(&invoice));
    let before = api.snapshot().await;
    api.post(&format!("{path}?dry_run=true"), json!({})).await.expect_problem(422, "not_negative");
    api.post(&format!("{path}?dry_run=yes"), json!({}))
        .await
        .expect_problem(422, "validation_error");
    // dry_run=false is the request itself.
    api.post(&format!("{path}?dry_run=false"), json!({})).await.expect_problem(422, "not_negative");
    assert_eq!(api.snapshot().await, before);
}

#[tokio::test]
async fn openapi_documents_dry_run_and_the_preview_on_each_previewable_post() {
    let api = TestApi::new();
    let doc = api.get("/openapi.json").await.expect(200);
    let mut paths = vec!["/v1/applications".to_owned()];
    for base in ["/v1/invoices", "/v1/debit-memos"] {
        for op in ["void", "net-items", "transfer-to-credit", "adjustments", "write-off"] {
            paths.push(format!("{base}/{{id}}/{op}"));
        }
    }
    for path in &paths {
        let op = &doc["paths"][path]["post"];
        let params = op["parameters"].as_array().expect("parameters");
        assert!(
            params.iter().any(|p| p["name"] == "dry_run" && p["in"] == "query"),
            "{path} documents dry_run"
        );
        let ok = op["responses"]["200"]["content"]["application/json"]["schema"].to_string();
        assert!(ok.contains("Preview"), "{path} answers the preview with 200: {ok}");
    }
    assert!(doc["components"]["schemas"]["PreviewOut"].is_object());
}
