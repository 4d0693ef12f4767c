//! `/v1/invoices`, `/v1/debit-memos` and `/v1/credit-memos`: one set of handlers, one kind each.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use settle_core::document::{DocumentKind, DocumentStatus};
use settle_core::ids::{CustomerId, DocumentId, ItemId};
use settle_engine::{NewDocument, NewItem, NewTax};
use settle_store::{BalanceFilter, DocumentQuery};
use utoipa::IntoParams;

use super::{list_out, page_request, parse_id};
use crate::call::{DryRun, blocking, blocking_write, write_or_preview};
use crate::dto::{
    AdjustmentIn, AdjustmentOut, AmountOnlyIn, DocumentIn, DocumentOrPreview, DocumentOut, ListOut,
    PreviewOut, TransferOrPreview, VoidIn, WriteOffIn,
};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, QueryParams};
use crate::state::AppState;

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
) -> Result<Response, ApiError> {
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
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::CREATED, move |e| {
        e.create_document(&caller.tenant_id, new)
    })
    .await
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
) -> Result<Response, ApiError> {
    let id = document_id(&id, kind)?;
    blocking_write(&state, caller.tenant_id.clone(), StatusCode::OK, move |e| {
        e.post_document(&caller.tenant_id, &id)
    })
    .await
}

/// Query of the document lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only this customer's documents (an id that cannot exist gives an empty list).
    customer_id: Option<String>,
    /// Only documents with this status.
    #[param(schema_with = crate::schema::document_status)]
    status: Option<String>,
    /// `negative`, `positive`, or `open` (non-zero balance or any non-zero item balance).
    #[param(schema_with = crate::schema::balance_filter)]
    balance: Option<String>,
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
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
    (
        $kind:expr, $tag:literal, $base:literal, $a:literal, $noun:literal,
        $create:ident, $show:ident, $post:ident, $list:ident
    ) => {
        #[allow(dead_code, reason = "not every kind has every route yet")]
        #[utoipa::path(
            post,
            path = $base,
            tag = $tag,
            summary = concat!("Create ", $a),
            description = concat!(
                "`{customer_id, items:[{description, amount? | quantity + unit_price, taxes?: \
                [{name, rate? | amount?}]}], invoice_date?, due_date?, adjusts_invoice_id?, \
                post?: bool}` → ", $noun, " (draft unless `post: true`). A draft owes nothing \
                until it is posted. Tax items follow their charge item; a tax `rate` is a \
                percent (`\"8.25\"` = 8.25%) and tax is rounded per tax item, half away from \
                zero. `invoice_date` defaults to today; `due_date` to `invoice_date` plus the \
                customer's payment terms (default 30 days)."
            ),
            request_body = DocumentIn,
            responses(
                (status = 201, description = concat!("The ", $noun, "."), body = DocumentOut),
                (status = 404, description = "not_found"),
                (status = 422, description = "currency_mismatch, customer_mismatch, \
                    amount_out_of_range"),
            )
        )]
        pub(crate) async fn $create(
            State(state): State<AppState>,
            Caller(caller): Caller,
            JsonBody(body): JsonBody<DocumentIn>,
        ) -> Result<Response, ApiError> {
            create($kind, state, caller, body).await
        }

        #[utoipa::path(
            get,
            path = concat!($base, "/{id}"),
            tag = $tag,
            summary = concat!("Retrieve ", $a),
            description = concat!(
                "The ", $noun, " `{id, number, customer_id, status, currency, invoice_date, \
                due_date, total, balance, adjusts_invoice_id, group_balance, group, items:[{id, \
                kind, parent_item_id, description, quantity, unit_price, amount, balance}]}`. \
                `group_balance` is the balance of the invoice group (the original invoice and \
                every adjustment invoice of it), the same on every member; an invoice's `group` \
                lists the members, the original first. `quantity` and `unit_price` come back \
                exactly as they were sent."
            ),
            params(("id" = String, Path, description = concat!("The ", $noun, " id."))),
            responses((
                status = 200, description = concat!("The ", $noun, "."), body = DocumentOut
            ))
        )]
        pub(crate) async fn $show(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
        ) -> Result<Json<DocumentOut>, ApiError> {
            show($kind, state, caller, id).await
        }

        #[allow(dead_code, reason = "not every kind has every route yet")]
        #[utoipa::path(
            post,
            path = concat!($base, "/{id}/post"),
            tag = $tag,
            summary = concat!("Post ", $a),
            description = concat!(
                "Posts a draft ", $noun, ": from now on it counts in balances, aging and the \
                journal (the tenant's `negative_invoice_policy` and `auto_apply_credit` then \
                apply). A document that is not a draft is 409 `document_not_draft`."
            ),
            params(("id" = String, Path, description = concat!("The ", $noun, " id."))),
            responses(
                (
                    status = 200, description = concat!("The posted ", $noun, "."),
                    body = DocumentOut
                ),
                (status = 409, description = "document_not_draft"),
                (status = 422, description = "amount_out_of_range"),
            )
        )]
        pub(crate) async fn $post(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
        ) -> Result<Response, ApiError> {
            post_document($kind, state, caller, id).await
        }

        #[utoipa::path(
            get,
            path = $base,
            tag = $tag,
            summary = concat!("List ", $noun, "s"),
            description = "`?customer_id=&status=&balance=negative|positive|open` (`open` = \
                non-zero balance or any non-zero item balance). Newest first.",
            params(ListQuery),
            responses((
                status = 200,
                description = concat!("A page of ", $noun, "s."),
                body = ListOut<DocumentOut>
            ))
        )]
        pub(crate) async fn $list(
            State(state): State<AppState>,
            Caller(caller): Caller,
            QueryParams(query): QueryParams<ListQuery>,
        ) -> Result<Json<ListOut<DocumentOut>>, ApiError> {
            list($kind, state, caller, query).await
        }
    };
}

handlers!(
    DocumentKind::Invoice,
    "invoices",
    "/v1/invoices",
    "an invoice",
    "invoice",
    create_invoice,
    show_invoice,
    post_invoice,
    list_invoices
);
handlers!(
    DocumentKind::DebitMemo,
    "debit-memos",
    "/v1/debit-memos",
    "a debit memo",
    "debit memo",
    create_debit_memo,
    show_debit_memo,
    post_debit_memo,
    list_debit_memos
);
handlers!(
    DocumentKind::CreditMemo,
    "credit-memos",
    "/v1/credit-memos",
    "a credit memo",
    "credit memo",
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
    dry_run: DryRun,
    body: VoidIn,
) -> Result<Response, ApiError> {
    let id = document_id(&id, kind)?;
    let reverse = body.reverse_applications;
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::OK, dry_run, move |e| {
        e.void_document(&caller.tenant_id, &id, reverse)
    })
    .await
}

async fn net_items(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    dry_run: DryRun,
) -> Result<Response, ApiError> {
    let id = document_id(&id, kind)?;
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::OK, dry_run, move |e| {
        e.net_items(&caller.tenant_id, &id)
    })
    .await
}

async fn transfer(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    dry_run: DryRun,
    body: AmountOnlyIn,
) -> Result<Response, ApiError> {
    let id = document_id(&id, kind)?;
    let amount = body.amount.map(|a| a.0);
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::OK, dry_run, move |e| {
        e.transfer_to_credit(&caller.tenant_id, &id, amount)
    })
    .await
}

async fn adjust(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    dry_run: DryRun,
    body: AdjustmentIn,
) -> Result<Response, ApiError> {
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
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::CREATED, dry_run, move |e| {
        e.adjust_item(&caller.tenant_id, &id, new)
    })
    .await
}

async fn write_off(
    kind: DocumentKind,
    state: AppState,
    caller: settle_engine::Principal,
    id: String,
    dry_run: DryRun,
    body: WriteOffIn,
) -> Result<Response, ApiError> {
    let id = document_id(&id, kind)?;
    let amount = body.amount.map(|a| a.0);
    write_or_preview(&state, caller.tenant_id.clone(), StatusCode::CREATED, dry_run, move |e| {
        e.write_off(&caller.tenant_id, &id, amount, body.reason)
    })
    .await
}

macro_rules! operations {
    (
        $kind:expr, $tag:literal, $base:literal, $a:literal, $noun:literal,
        $void:ident, $net:ident, $transfer:ident, $adjust:ident, $write_off:ident
    ) => {
        #[utoipa::path(
            post,
            path = concat!($base, "/{id}/void"),
            tag = $tag,
            summary = concat!("Void ", $a),
            description = "`{reverse_applications?: bool}` — a document with live applications \
                is refused (`has_applications`) unless `reverse_applications` is true; then every \
                application is reversed first and its value returns to its source. Voiding a \
                draft just voids it.",
            params(("id" = String, Path, description = concat!("The ", $noun, " id.")), DryRun),
            request_body(content = VoidIn, description = "Optional: an empty body is `{}`."),
            responses(
                (
                    status = 200,
                    description = concat!(
                        "The voided ", $noun, "; with `dry_run=true`, the `Preview`."
                    ),
                    body = DocumentOrPreview
                ),
                (status = 422, description = "has_applications, document_voided, \
                    amount_out_of_range"),
            )
        )]
        pub(crate) async fn $void(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            QueryParams(dry_run): QueryParams<DryRun>,
            JsonBody(body): JsonBody<VoidIn>,
        ) -> Result<Response, ApiError> {
            void($kind, state, caller, id, dry_run, body).await
        }

        #[utoipa::path(
            post,
            path = concat!($base, "/{id}/net-items"),
            tag = $tag,
            summary = concat!("Net the items of ", $a),
            description = "Offsets negative against positive item balances; the total balance is \
                unchanged.",
            params(("id" = String, Path, description = concat!("The ", $noun, " id.")), DryRun),
            responses(
                (
                    status = 200,
                    description = concat!("The ", $noun, "; with `dry_run=true`, the `Preview`."),
                    body = DocumentOrPreview
                ),
                (status = 422, description = "document_not_posted, document_voided, \
                    amount_out_of_range"),
            )
        )]
        pub(crate) async fn $net(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            QueryParams(dry_run): QueryParams<DryRun>,
        ) -> Result<Response, ApiError> {
            net_items($kind, state, caller, id, dry_run).await
        }

        #[utoipa::path(
            post,
            path = concat!($base, "/{id}/transfer-to-credit"),
            tag = $tag,
            summary = concat!("Transfer the negative balance of ", $a, " to the credit balance"),
            description = concat!(
                "`{amount?}` → `{invoice, customer}`; the ", $noun, "'s balance must be negative \
                (`not_negative` otherwise); the default amount is all of it."
            ),
            params(("id" = String, Path, description = concat!("The ", $noun, " id.")), DryRun),
            request_body(content = AmountOnlyIn, description = "Optional: an empty body is `{}`."),
            responses(
                (
                    status = 200,
                    description = "The document and the customer after it; with \
                        `dry_run=true`, the `Preview`.",
                    body = TransferOrPreview
                ),
                (status = 422, description = "not_negative, over_application, \
                    document_not_posted, document_voided, amount_out_of_range"),
            )
        )]
        pub(crate) async fn $transfer(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            QueryParams(dry_run): QueryParams<DryRun>,
            JsonBody(body): JsonBody<AmountOnlyIn>,
        ) -> Result<Response, ApiError> {
            transfer($kind, state, caller, id, dry_run, body).await
        }

        #[utoipa::path(
            post,
            path = concat!($base, "/{id}/adjustments"),
            tag = $tag,
            summary = concat!("Adjust an item of ", $a),
            description = "`{item_id, type: \"credit\"|\"charge\", amount, reason}` → adjustment \
                `{id, invoice_id, item_id, type, amount, reason}`. A credit adjustment, with the \
                credit memo items on the same item, never exceeds the item's amount in size \
                (`over_credit`).",
            params(("id" = String, Path, description = concat!("The ", $noun, " id.")), DryRun),
            request_body = AdjustmentIn,
            responses(
                (status = 201, description = "The adjustment.", body = AdjustmentOut),
                (status = 200, description = "With `dry_run=true`: the `Preview`.", body = PreviewOut),
                (status = 422, description = "over_application, over_credit, \
                    document_not_posted, document_voided, amount_out_of_range"),
            )
        )]
        pub(crate) async fn $adjust(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            QueryParams(dry_run): QueryParams<DryRun>,
            JsonBody(body): JsonBody<AdjustmentIn>,
        ) -> Result<Response, ApiError> {
            adjust($kind, state, caller, id, dry_run, body).await
        }

        #[utoipa::path(
            post,
            path = concat!($base, "/{id}/write-off"),
            tag = $tag,
            summary = concat!("Write off ", $a),
            description = "`{amount?, reason?}` → credit memo (reason `write_off`, already \
                applied); the default amount is the whole open balance.",
            params(("id" = String, Path, description = concat!("The ", $noun, " id.")), DryRun),
            request_body(content = WriteOffIn, description = "Optional: an empty body is `{}`."),
            responses(
                (status = 201, description = "The write-off credit memo.", body = DocumentOut),
                (status = 200, description = "With `dry_run=true`: the `Preview`.", body = PreviewOut),
                (status = 422, description = "over_application, document_not_posted, \
                    document_voided, amount_out_of_range"),
            )
        )]
        pub(crate) async fn $write_off(
            State(state): State<AppState>,
            Caller(caller): Caller,
            Path(id): Path<String>,
            QueryParams(dry_run): QueryParams<DryRun>,
            JsonBody(body): JsonBody<WriteOffIn>,
        ) -> Result<Response, ApiError> {
            write_off($kind, state, caller, id, dry_run, body).await
        }
    };
}

operations!(
    DocumentKind::Invoice,
    "invoices",
    "/v1/invoices",
    "an invoice",
    "invoice",
    void_invoice,
    net_invoice,
    transfer_invoice,
    adjust_invoice,
    write_off_invoice
);
operations!(
    DocumentKind::DebitMemo,
    "debit-memos",
    "/v1/debit-memos",
    "a debit memo",
    "debit memo",
    void_debit_memo,
    net_debit_memo,
    transfer_debit_memo,
    adjust_debit_memo,
    write_off_debit_memo
);
