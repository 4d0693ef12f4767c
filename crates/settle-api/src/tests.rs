//! Unit tests of the API's own middleware and of how it words the core's refusals.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::{REQUEST_TIMEOUT, time_limit};

#[tokio::test(start_paused = true)]
async fn a_request_past_the_time_limit_is_answered_408_as_a_problem() {
    let slow = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(REQUEST_TIMEOUT + Duration::from_secs(1)).await;
                "late"
            }),
        )
        .route("/fast", get(|| async { "fine" }))
        .layer(axum::middleware::from_fn(time_limit));
    let response = slow
        .clone()
        .oneshot(Request::get("/slow").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status().as_u16(), 408);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body = response.into_body().collect().await.expect("body").to_bytes();
    let problem: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(problem["code"], "request_timeout");
    let response = slow
        .oneshot(Request::get("/fast").body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status().as_u16(), 200);
}

#[test]
fn typed_refusals_of_the_core_answer_the_same_problem_as_field_paths_did() {
    use settle_core::error::{Flaw, Input, Operation, Rejection};

    use crate::error::ApiError;

    let answer = |rejection: Rejection| format!("{:?}", ApiError::from(rejection));
    assert_eq!(
        answer(Rejection::refused(Input::Amount, Flaw::Zero)),
        answer(Rejection::invalid("amount", "must not be zero"))
    );
    assert_eq!(
        answer(Rejection::refused(Input::Amount, Flaw::OutOfRange)),
        answer(Rejection::out_of_range("amount"))
    );
    assert_eq!(
        answer(Rejection::refused(Input::Amount, Flaw::NotPositive)),
        answer(Rejection::invalid("amount", "must be above zero"))
    );
    assert_eq!(
        answer(Rejection::refused(Input::Document, Flaw::NotACreditMemo)),
        answer(Rejection::invalid("id", "must be a credit memo"))
    );
    assert_eq!(
        answer(Rejection::refused(Input::Document, Flaw::CanceledNotVoided)),
        answer(Rejection::invalid("id", "credit memos are canceled, not voided"))
    );
    for (operation, message) in [
        (Operation::Adjust, "only invoices and debit memos take adjustments"),
        (Operation::Net, "only invoices and debit memos are netted"),
        (Operation::Transfer, "only invoices and debit memos have balances to transfer"),
    ] {
        assert_eq!(
            answer(Rejection::refused(Input::Document, Flaw::NotReceivable(operation))),
            answer(Rejection::invalid("id", message))
        );
    }
    let not_an_item =
        Flaw::NotAnItemOf { item_id: "item_9".to_owned(), document_id: "inv_1".to_owned() };
    assert_eq!(
        answer(Rejection::refused(Input::Item, not_an_item)),
        answer(Rejection::invalid("item_id", "item_9 is not an item of inv_1"))
    );
    assert_eq!(
        answer(Rejection::refused(Input::Document, Flaw::NothingToNet)),
        answer(Rejection::invalid(
            "id",
            "no negative item balance to offset against a positive one"
        ))
    );
}

#[test]
fn typed_refusals_of_documents_and_applications_answer_the_field_paths_they_had() {
    use settle_core::error::{Flaw, Input, Rejection};

    use crate::error::ApiError;

    let answer = |rejection: Rejection| format!("{:?}", ApiError::from(rejection));
    let cases = [
        (Input::Items, Flaw::NoItems, "items", "at least one item is required"),
        (
            Input::Items,
            Flaw::TooManyItems { limit: 1000 },
            "items",
            "at most 1000 items and tax items",
        ),
        (
            Input::DueDate,
            Flaw::BeforeInvoiceDate,
            "due_date",
            "must not be before the invoice date",
        ),
        (
            Input::TaxRate { item: 2, tax: 1 },
            Flaw::RateOutOfRange,
            "items[2].taxes[1].rate",
            "out of range",
        ),
        (
            Input::Target,
            Flaw::NotAnInvoiceOrDebitMemo,
            "target_id",
            "must be an invoice or a debit memo",
        ),
        (Input::Source, Flaw::NotACreditMemo, "source.id", "must be a credit memo"),
        (Input::ItemId(1), Flaw::ListedTwice, "items[1].item_id", "listed twice"),
        (Input::Items, Flaw::NothingToApply, "items", "every amount is zero: nothing to apply"),
        (
            Input::Amount,
            Flaw::MixedSignsReversedWhole,
            "amount",
            "an application with items of both signs can only be reversed whole",
        ),
        (
            Input::CreditMemoItemId(0),
            Flaw::NotAnItemOf { item_id: "item_9".to_owned(), document_id: "cm_1".to_owned() },
            "items[0].credit_memo_item_id",
            "item_9 is not an item of cm_1",
        ),
    ];
    for (input, flaw, field, message) in cases {
        let refused = Rejection::refused(input, flaw);
        assert_eq!(answer(refused.clone()), answer(Rejection::invalid(field, message)));
        assert_eq!(
            answer(refused.in_application(3)),
            answer(Rejection::invalid(format!("applications[3].{field}"), message))
        );
    }
    for (input, field) in [
        (Input::Items, "items"),
        (Input::UnitPrice(4), "items[4].unit_price"),
        (Input::TaxRate { item: 0, tax: 2 }, "items[0].taxes[2].rate"),
        (Input::Amount, "amount"),
    ] {
        let refused = Rejection::refused(input, Flaw::OutOfRange);
        assert_eq!(answer(refused.clone()), answer(Rejection::out_of_range(field)));
        assert_eq!(
            answer(refused.in_application(0)),
            answer(Rejection::out_of_range(format!("applications[0].{field}")))
        );
    }
    assert_eq!(
        answer(Rejection::invalid("reference", "too long").in_application(1)),
        answer(Rejection::invalid("applications[1].reference", "too long"))
    );
}
