//! `/v1/applications`: apply a source to a document, reverse, read, list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use settle_core::ids::{ApplicationId, CustomerId, DocumentId, PaymentId};
use settle_engine::{NewApplication, SourceInput};
use settle_store::ApplicationQuery;

use super::payments::{item_amounts, rule};
use super::{list_out, page_request, parse_id};
use crate::dto::{ApplicationIn, ApplicationOut, ListOut, ReverseIn};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::{AppState, blocking};

pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody<ApplicationIn>,
) -> Result<(StatusCode, Json<ApplicationOut>), ApiError> {
    let source = match (body.source.kind.as_str(), body.source.id) {
        ("payment", Some(id)) => SourceInput::Payment(parse_id(&id, PaymentId::parse, "payment")?),
        ("credit_memo", Some(id)) => {
            let id = parse_id(&id, DocumentId::parse, "credit memo")?;
            SourceInput::CreditMemo(id)
        }
        ("credit_balance", None) => SourceInput::CreditBalance,
        ("payment" | "credit_memo", None) => {
            return Err(ApiError::invalid("source.id", "required"));
        }
        ("credit_balance", Some(_)) => {
            return Err(ApiError::invalid("source.id", "the credit balance takes no id"));
        }
        _ => {
            return Err(ApiError::invalid("source.type", "payment, credit_memo or credit_balance"));
        }
    };
    let new = NewApplication {
        source,
        target: settle_engine::ApplicationTarget {
            target_id: parse_id(&body.target_id, DocumentId::parse, "document")?,
            amount: body.amount.map(|a| a.0),
            items: item_amounts("items", body.items)?,
            rule: rule("rule", body.rule)?,
        },
        effective_date: body.effective_date.map(|d| d.0),
    };
    let application = blocking(&state, move |e| e.apply(&caller.tenant_id, new)).await?;
    Ok((StatusCode::CREATED, Json(ApplicationOut::from(&application))))
}

pub(crate) async fn reverse(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReverseIn>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let id = parse_id(&id, ApplicationId::parse, "application")?;
    let amount = body.amount.map(|a| a.0);
    let application =
        blocking(&state, move |e| e.reverse_application(&caller.tenant_id, &id, amount)).await?;
    Ok(Json(ApplicationOut::from(&application)))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let id = parse_id(&id, ApplicationId::parse, "application")?;
    let application = blocking(&state, move |e| e.application(&caller.tenant_id, &id)).await?;
    Ok(Json(ApplicationOut::from(&application)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    customer_id: Option<String>,
    source_id: Option<String>,
    target_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<ListOut<ApplicationOut>>, ApiError> {
    let empty = || Ok(Json(ListOut { object: "list", data: Vec::new(), next_cursor: None }));
    let customer_id = match query.customer_id.map(|c| CustomerId::parse(&c)) {
        Some(None) => return empty(),
        Some(id) => id,
        None => None,
    };
    let target_id = match query.target_id.map(|c| DocumentId::parse(&c)) {
        Some(None) => return empty(),
        Some(id) => id,
        None => None,
    };
    let page = page_request(query.limit, query.cursor)?;
    let application_query = ApplicationQuery { customer_id, source_id: query.source_id, target_id };
    let got =
        blocking(&state, move |e| e.applications(&caller.tenant_id, &application_query, &page))
            .await?;
    Ok(Json(list_out(&got, |r| ApplicationOut::from(r))))
}
