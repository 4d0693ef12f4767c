//! `/v1/invoices`, `/v1/debit-memos` and `/v1/credit-memos`: one set of handlers, one kind each.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use settle_core::document::{DocumentKind, DocumentStatus};
use settle_core::ids::{CustomerId, DocumentId, ItemId};
use settle_engine::{NewDocument, NewItem, NewTax};
use settle_store::{BalanceFilter, DocumentQuery};

use super::{list_out, page_request, parse_id};
use crate::dto::{DocumentIn, DocumentOut, ListOut};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::{AppState, blocking};

fn what(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "invoice",
        DocumentKind::DebitMemo => "debit memo",
        DocumentKind::CreditMemo => "credit memo",
    }
}

/// Parses a document id of `kind` (an id of another kind is not found here).
fn document_id(text: &str, kind: DocumentKind) -> Result<DocumentId, ApiError> {
    let id = parse_id(text, DocumentId::parse, what(kind))?;
    if DocumentKind::of(&id) == kind { Ok(id) } else { Err(ApiError::not_found(what(kind))) }
}

async fn create(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    body: DocumentIn,
) -> Result<(StatusCode, Json<DocumentOut>), ApiError> {
    let customer_id = parse_id(&body.customer_id, CustomerId::parse, "customer")?;
    let adjusts_invoice_id =
        body.adjusts_invoice_id.map(|id| document_id(&id, DocumentKind::Invoice)).transpose()?;
    let items = body
        .items
        .into_iter()
        .enumerate()
        .map(|(idx, item)| {
            Ok(NewItem {
                description: item.description,
                amount: item.amount.map(|a| a.0),
                quantity: item.quantity.map(|q| q.0),
                unit_price: item.unit_price.map(|q| q.0),
                taxes: item
                    .taxes
                    .into_iter()
                    .map(|t| NewTax {
                        name: t.name,
                        rate: t.rate.map(|r| r.0),
                        amount: t.amount.map(|a| a.0),
                    })
                    .collect(),
                invoice_item_id: item
                    .invoice_item_id
                    .map(|i| {
                        ItemId::parse(&i).ok_or_else(|| {
                            ApiError::invalid(
                                format!("items[{idx}].invoice_item_id"),
                                "not an item id",
                            )
                        })
                    })
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    if items.len() > settle_core::document::MAX_ITEMS {
        return Err(ApiError::invalid("items", "at most 1000 items"));
    }
    let new = NewDocument {
        kind,
        customer_id,
        items,
        invoice_date: body.invoice_date.map(|d| d.0),
        due_date: body.due_date.map(|d| d.0),
        adjusts_invoice_id,
        reason: None,
        post: body.post,
    };
    let document = blocking(&state, move |e| e.create_document(&caller.tenant_id, new)).await?;
    Ok((StatusCode::CREATED, Json(DocumentOut::from(&document))))
}

async fn show(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
) -> Result<Json<DocumentOut>, ApiError> {
    let id = document_id(&id, kind)?;
    let document = blocking(&state, move |e| e.document(&caller.tenant_id, &id)).await?;
    Ok(Json(DocumentOut::from(&document)))
}

async fn post_document(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
) -> Result<Json<DocumentOut>, ApiError> {
    let id = document_id(&id, kind)?;
    let document = blocking(&state, move |e| e.post_document(&caller.tenant_id, &id)).await?;
    Ok(Json(DocumentOut::from(&document)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    customer_id: Option<String>,
    status: Option<String>,
    balance: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    query: ListQuery,
) -> Result<Json<ListOut<DocumentOut>>, ApiError> {
    let customer_id = match query.customer_id {
        // An id that cannot exist matches nothing; the list is simply empty.
        Some(text) => match CustomerId::parse(&text) {
            Some(id) => Some(id),
            None => {
                return Ok(Json(ListOut { object: "list", data: Vec::new(), next_cursor: None }));
            }
        },
        None => None,
    };
    let status = query
        .status
        .map(|s| {
            DocumentStatus::parse(&s)
                .ok_or_else(|| ApiError::invalid("status", "draft, posted, voided or canceled"))
        })
        .transpose()?;
    let balance = match query.balance.as_deref() {
        None => None,
        Some("negative") => Some(BalanceFilter::Negative),
        Some("positive") => Some(BalanceFilter::Positive),
        Some("open") => Some(BalanceFilter::Open),
        Some(_) => return Err(ApiError::invalid("balance", "negative, positive or open")),
    };
    let page = page_request(query.limit, query.cursor)?;
    let document_query = DocumentQuery { kinds: vec![kind], customer_id, status, balance };
    let got =
        blocking(&state, move |e| e.documents(&caller.tenant_id, &document_query, &page)).await?;
    Ok(Json(list_out(&got, |r| DocumentOut::from(r))))
}

macro_rules! handlers {
    ($kind:expr, $create:ident, $show:ident, $post:ident, $list:ident) => {
        #[allow(dead_code, reason = "not every kind has every route yet")]
        pub(crate) async fn $create(
            State(state): State<AppState>,
            Caller(caller): Caller,
            JsonBody(body): JsonBody<DocumentIn>,
        ) -> Result<(StatusCode, Json<DocumentOut>), ApiError> {
            create($kind, state, caller, body).await
        }

        pub(crate) async fn $show(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
        ) -> Result<Json<DocumentOut>, ApiError> {
            show($kind, state, caller, id).await
        }

        #[allow(dead_code, reason = "not every kind has every route yet")]
        pub(crate) async fn $post(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
        ) -> Result<Json<DocumentOut>, ApiError> {
            post_document($kind, state, caller, id).await
        }

        pub(crate) async fn $list(
            State(state): State<AppState>,
            Caller(caller): Caller,
            QueryParams(query): QueryParams<ListQuery>,
        ) -> Result<Json<ListOut<DocumentOut>>, ApiError> {
            list($kind, state, caller, query).await
        }
    };
}

handlers!(DocumentKind::Invoice, create_invoice, show_invoice, post_invoice, list_invoices);
handlers!(
    DocumentKind::DebitMemo,
    create_debit_memo,
    show_debit_memo,
    post_debit_memo,
    list_debit_memos
);
handlers!(
    DocumentKind::CreditMemo,
    create_credit_memo,
    show_credit_memo,
    post_credit_memo,
    list_credit_memos
);

async fn void(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    body: crate::dto::VoidIn,
) -> Result<Json<DocumentOut>, ApiError> {
    let id = document_id(&id, kind)?;
    let reverse = body.reverse_applications;
    let document =
        blocking(&state, move |e| e.void_document(&caller.tenant_id, &id, reverse)).await?;
    Ok(Json(DocumentOut::from(&document)))
}

async fn net_items(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
) -> Result<Json<DocumentOut>, ApiError> {
    let id = document_id(&id, kind)?;
    let document = blocking(&state, move |e| e.net_items(&caller.tenant_id, &id)).await?;
    Ok(Json(DocumentOut::from(&document)))
}

async fn transfer(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    body: crate::dto::AmountOnlyIn,
) -> Result<Json<crate::dto::TransferOut>, ApiError> {
    let id = document_id(&id, kind)?;
    let amount = body.amount.map(|a| a.0);
    let (document, customer) =
        blocking(&state, move |e| e.transfer_to_credit(&caller.tenant_id, &id, amount)).await?;
    Ok(Json(crate::dto::TransferOut {
        invoice: DocumentOut::from(&document),
        customer: crate::dto::CustomerOut::from(&customer),
    }))
}

async fn adjust(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    body: crate::dto::AdjustmentIn,
) -> Result<(StatusCode, Json<crate::dto::AdjustmentOut>), ApiError> {
    let id = document_id(&id, kind)?;
    let item_id = ItemId::parse(&body.item_id)
        .ok_or_else(|| ApiError::invalid("item_id", "not an item id"))?;
    let adjustment_kind = settle_core::adjustment::AdjustmentType::parse(&body.kind)
        .ok_or_else(|| ApiError::invalid("type", "credit or charge"))?;
    let new = settle_engine::NewAdjustment {
        item_id,
        kind: adjustment_kind,
        amount: body.amount.0,
        reason: body.reason,
    };
    let adjustment = blocking(&state, move |e| e.adjust_item(&caller.tenant_id, &id, new)).await?;
    Ok((StatusCode::CREATED, Json(crate::dto::AdjustmentOut::from(&adjustment))))
}

async fn write_off(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    body: crate::dto::WriteOffIn,
) -> Result<(StatusCode, Json<DocumentOut>), ApiError> {
    let id = document_id(&id, kind)?;
    let amount = body.amount.map(|a| a.0);
    let memo =
        blocking(&state, move |e| e.write_off(&caller.tenant_id, &id, amount, body.reason)).await?;
    Ok((StatusCode::CREATED, Json(DocumentOut::from(&memo))))
}

macro_rules! operations {
    ($kind:expr, $void:ident, $net:ident, $transfer:ident, $adjust:ident, $write_off:ident) => {
        pub(crate) async fn $void(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            JsonBody(body): JsonBody<crate::dto::VoidIn>,
        ) -> Result<Json<DocumentOut>, ApiError> {
            void($kind, state, caller, id, body).await
        }

        pub(crate) async fn $net(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
        ) -> Result<Json<DocumentOut>, ApiError> {
            net_items($kind, state, caller, id).await
        }

        pub(crate) async fn $transfer(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            JsonBody(body): JsonBody<crate::dto::AmountOnlyIn>,
        ) -> Result<Json<crate::dto::TransferOut>, ApiError> {
            transfer($kind, state, caller, id, body).await
        }

        pub(crate) async fn $adjust(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            JsonBody(body): JsonBody<crate::dto::AdjustmentIn>,
        ) -> Result<(StatusCode, Json<crate::dto::AdjustmentOut>), ApiError> {
            adjust($kind, state, caller, id, body).await
        }

        pub(crate) async fn $write_off(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            JsonBody(body): JsonBody<crate::dto::WriteOffIn>,
        ) -> Result<(StatusCode, Json<DocumentOut>), ApiError> {
            write_off($kind, state, caller, id, body).await
        }
    };
}

operations!(
    DocumentKind::Invoice,
    void_invoice,
    net_invoice,
    transfer_invoice,
    adjust_invoice,
    write_off_invoice
);
operations!(
    DocumentKind::DebitMemo,
    void_debit_memo,
    net_debit_memo,
    transfer_debit_memo,
    adjust_debit_memo,
    write_off_debit_memo
);
