//! Amounts and stored totals are bounded to 10^14 minor units in size (99,999,999,999,999):
//! larger input, or a command that would take any stored balance or total past the bound, is
//! 422 `amount_out_of_range` with nothing written, and reports and `verify` still answer.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::{TestApi, id};

/// The largest amount in a 2-digit currency.
const LARGEST: &str = "999999999999.99";

#[tokio::test]
async fn the_amount_that_once_wrapped_the_store_is_refused_naming_its_field() {
    let api = TestApi::new();
    let customer = api.customer("Huge Amounts").await;
    let before = api.snapshot().await;
    let problem = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "post": true,
                   "items": [{"description": "Huge", "amount": "92233720368547758.07"}]}),
        )
        .await
        .expect_problem(422, "amount_out_of_range");
    assert_eq!(problem["errors"][0]["field"], "items[0].amount");
    for (body, field) in [
        (json!({"description": "A", "amount": "1000000000000.00"}), "items[0].amount"),
        (
            json!({"description": "A", "quantity": "1000", "unit_price": "1000000000"}),
            "items[0].unit_price",
        ),
        (
            json!({"description": "A", "amount": "1.00", "taxes": [{"name": "T", "amount": "-1000000000000"}]}),
            "items[0].taxes[0].amount",
        ),
    ] {
        let problem = api
            .post("/v1/invoices", json!({"customer_id": customer, "post": true, "items": [body]}))
            .await
            .expect_problem(422, "amount_out_of_range");
        assert_eq!(problem["errors"][0]["field"], field);
    }
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "-1000000000000", "method": "cash"}),
    )
    .await
    .expect_problem(422, "amount_out_of_range");
    assert_eq!(api.snapshot().await, before);

    // The largest amount is accepted; a second invoice of 1.00 would take the customer past
    // the bound and is refused whole, and the store stays readable.
    api.invoice(&customer, json!([{"description": "Largest", "amount": LARGEST}])).await;
    let before = api.snapshot().await;
    let problem = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "post": true,
                   "items": [{"description": "One more", "amount": "1.00"}]}),
        )
        .await
        .expect_problem(422, "amount_out_of_range");
    assert!(problem["detail"].as_str().expect("detail").contains("the customer's balance"));
    assert_eq!(api.snapshot().await, before);
    let balances = api.balances(&customer).await;
    assert_eq!(balances["receivable"], LARGEST);
    assert_eq!(balances["balance"], "-999999999999.99");
    api.assert_verified().await;
}

#[tokio::test]
async fn a_document_whose_items_add_up_past_the_bound_is_refused() {
    let api = TestApi::new();
    let customer = api.customer("Big Document").await;
    let problem = api
        .post(
            "/v1/invoices",
            json!({"customer_id": customer, "post": true, "items": [
                {"description": "A", "amount": LARGEST}, {"description": "B", "amount": "0.01"}]}),
        )
        .await
        .expect_problem(422, "amount_out_of_range");
    assert_eq!(problem["errors"][0]["field"], "items");
    // Each side is bounded on its own: +largest and −largest make a document of 0.00.
    let even = api
        .invoice(
            &customer,
            json!([{"description": "A", "amount": LARGEST}, {"description": "B", "amount": "-999999999999.99"}]),
        )
        .await;
    assert_eq!(even["total"], "0.00");
    api.assert_verified().await;
}

#[tokio::test]
async fn running_totals_the_store_adds_up_are_bounded_too() {
    let api = TestApi::new();
    let customer = api.customer("Lifetime Totals").await;
    // Receivable debits add up over the customer's life: the largest invoice, paid, then one
    // more would take the customer's receivable debit total past the bound.
    let invoice = api.invoice(&customer, json!([{"description": "A", "amount": LARGEST}])).await;
    api.post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": LARGEST, "method": "ach",
               "applications": [{"target_id": id(&invoice)}]}),
    )
    .await
    .expect(201);
    let before = api.snapshot().await;
    api.post(
        "/v1/invoices",
        json!({"customer_id": customer, "post": true,
               "items": [{"description": "B", "amount": "1.00"}]}),
    )
    .await
    .expect_problem(422, "amount_out_of_range");
    assert_eq!(api.snapshot().await, before);

    // An invoice group's balance is bounded: an adjustment invoice may not take it past.
    let group = api.customer("Big Group").await;
    let original =
        api.invoice(&group, json!([{"description": "A", "amount": "600000000000.00"}])).await;
    let before = api.snapshot().await;
    api.post(
        "/v1/invoices",
        json!({"customer_id": group, "adjusts_invoice_id": id(&original), "post": true,
               "items": [{"description": "More", "amount": "400000000000.00"}]}),
    )
    .await
    .expect_problem(422, "amount_out_of_range");
    assert_eq!(api.snapshot().await, before);
    api.assert_verified().await;
}

/// One command of the property test, with amounts near the bound.
#[derive(Debug, Clone)]
enum Step {
    Invoice(i64),
    Payment(i64),
    ApplyLatest,
    CreditMemo(i64),
    TransferCredit,
}

fn near_bound() -> impl Strategy<Value = i64> {
    const MAX: i64 = 99_999_999_999_999;
    prop_oneof![MAX - 3..=MAX, Just(MAX / 2), Just(MAX / 2 + 1), 1_i64..=100]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        near_bound().prop_map(Step::Invoice),
        near_bound().prop_map(Step::Payment),
        Just(Step::ApplyLatest),
        near_bound().prop_map(Step::CreditMemo),
        Just(Step::TransferCredit),
    ]
}

fn cents(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// Runs one step; every answer is a success or a 422 with one of the expected codes.
async fn run(api: &TestApi, customer: &str, step: &Step, invoices: &mut Vec<String>) {
    let reply = match step {
        Step::Invoice(minor) => {
            api.post(
                "/v1/invoices",
                json!({"customer_id": customer, "post": true,
                       "items": [{"description": "I", "amount": cents(*minor)}]}),
            )
            .await
        }
        Step::Payment(minor) => {
            api.post(
                "/v1/payments",
                json!({"customer_id": customer, "amount": cents(*minor), "method": "ach"}),
            )
            .await
        }
        Step::ApplyLatest => {
            let Some(target) = invoices.last() else { return };
            let payments = api
                .get(&format!("/v1/payments?customer_id={customer}&unapplied=true"))
                .await
                .expect(200);
            let Some(payment) = payments["data"].as_array().and_then(|d| d.first()) else {
                return;
            };
            api.post(
                "/v1/applications",
                json!({"source": {"type": "payment", "id": id(payment)}, "target_id": target}),
            )
            .await
        }
        Step::CreditMemo(minor) => {
            api.post(
                "/v1/credit-memos",
                json!({"customer_id": customer, "post": true,
                       "items": [{"description": "C", "amount": cents(*minor)}]}),
            )
            .await
        }
        Step::TransferCredit => {
            let Some(target) = invoices.first() else { return };
            api.post(&format!("/v1/invoices/{target}/transfer-to-credit"), json!({})).await
        }
    };
    let status = reply.status.as_u16();
    let body: Value = reply.body;
    if status == 422 {
        let code = body["code"].as_str().unwrap_or_default().to_owned();
        assert!(
            ["amount_out_of_range", "over_application", "insufficient_unapplied", "not_negative"]
                .contains(&code.as_str()),
            "{step:?}: {body:#}"
        );
    } else {
        assert!((200..300).contains(&status), "{step:?}: {status} {body:#}");
        if matches!(step, Step::Invoice(_)) {
            invoices.push(id(&body));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn commands_near_the_bound_are_done_or_refused_and_the_ledger_stays_verifiable(
        steps in prop::collection::vec(step(), 1..10)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let api = TestApi::new();
            let customer = api.customer("Near The Bound").await;
            let mut invoices = Vec::new();
            for step in &steps {
                run(&api, &customer, step, &mut invoices).await;
            }
            let customer = api.get(&format!("/v1/customers/{customer}")).await.expect(200);
            for field in ["balance", "receivable", "available_credit"] {
                let text = customer[field].as_str().expect("amount");
                let digits = text.trim_start_matches('-').replace('.', "");
                assert!(digits.len() <= 14, "{field} {text}");
            }
            api.assert_verified().await;
            api.get("/v1/reports/aging").await.expect(200);
        });
    }
}

/// Text that is not a decimal amount is refused beside its field, wherever the amount sits,
/// with the same words for every kind of malformed text; nothing is written.
#[tokio::test]
async fn an_amount_that_is_not_decimal_text_is_refused_naming_its_field() {
    let api = TestApi::new();
    let customer = api.customer("Malformed Amounts").await;
    let invoice = api.invoice(&customer, json!([{"description": "Work", "amount": "10.00"}])).await;
    let before = api.snapshot().await;
    for text in ["1e3", "1_000", "12.", ".5", "--1", "ten", "", "1.2.3", " 1 2"] {
        let cases = [
            (
                "/v1/invoices",
                json!({"customer_id": customer,
                       "items": [{"description": "A", "amount": "1.00"},
                                 {"description": "B", "amount": text}]}),
                "items[1].amount",
            ),
            (
                "/v1/payments",
                json!({"customer_id": customer, "amount": text, "method": "card"}),
                "amount",
            ),
            (
                "/v1/payments",
                json!({"customer_id": customer, "amount": "5.00", "method": "card",
                       "applications": [{"target_id": id(&invoice), "amount": text}]}),
                "applications[0].amount",
            ),
        ];
        for (path, body, field) in cases {
            let problem = api.post(path, body).await.expect_problem(422, "validation_error");
            assert_eq!(problem["errors"][0]["field"], field, "{text:?} at {path}");
            assert_eq!(problem["errors"][0]["message"], "not a decimal amount", "{text:?}");
            assert_eq!(problem["detail"], format!("{field}: not a decimal amount"), "{text:?}");
        }
    }
    assert_eq!(api.snapshot().await, before);
}
