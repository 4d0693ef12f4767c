//! `?dry_run=true`: the preview of a balance-moving command, as the API answers it, and the
//! shapes of the responses that are either the command's result or its preview.

use serde::Serialize;
use settle_engine::{BalanceChange, Preview};
use utoipa::ToSchema;

use super::{DocumentOut, TransferOut};

/// What the command would change, computed by running it and rolling it back: nothing was
/// written. Ids of objects the command would create (a write-off's credit memo) are not the ids
/// a real request creates; their numbers are.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PreviewOut {
    #[schema(schema_with = preview_object)]
    pub(crate) object: &'static str,
    /// Each item whose balance would change.
    pub(crate) items: Vec<ItemChangeOut>,
    /// Each document whose balance, status or any item balance would change.
    pub(crate) documents: Vec<DocumentChangeOut>,
    /// Each payment whose unapplied amount or status would change.
    pub(crate) payments: Vec<PaymentChangeOut>,
    /// The customer's balance (available credit − receivable, as on the customer).
    pub(crate) customer: ChangeOut,
    /// The customer's credit balance.
    pub(crate) credit_balance: ChangeOut,
}

fn preview_object() -> utoipa::openapi::schema::Object {
    crate::schema::one_of(&["preview"]).build()
}

/// A balance before and after.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChangeOut {
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) before: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) after: String,
}

/// One item's balance before and after.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ItemChangeOut {
    pub(crate) document_id: String,
    pub(crate) item_id: String,
    pub(crate) description: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) before: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) after: String,
}

/// One document's balance and status before and after.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DocumentChangeOut {
    pub(crate) document_id: String,
    pub(crate) number: String,
    /// `invoice`, `debit_memo` or `credit_memo`.
    #[schema(schema_with = crate::schema::document_object)]
    pub(crate) kind: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) before: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) after: String,
    #[schema(schema_with = crate::schema::document_status)]
    pub(crate) status_before: &'static str,
    #[schema(schema_with = crate::schema::document_status)]
    pub(crate) status_after: &'static str,
    /// The request creates it (a write-off's credit memo): `before` is zero; its `document_id`
    /// is not the id the real request gives it, its `number` is.
    pub(crate) created: bool,
}

/// One payment's unapplied amount and status before and after.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentChangeOut {
    pub(crate) payment_id: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) before: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) after: String,
    #[schema(schema_with = crate::schema::payment_status)]
    pub(crate) status_before: &'static str,
    #[schema(schema_with = crate::schema::payment_status)]
    pub(crate) status_after: &'static str,
}

fn change(c: &BalanceChange) -> ChangeOut {
    ChangeOut { before: c.before.to_string(), after: c.after.to_string() }
}

impl From<&Preview> for PreviewOut {
    fn from(p: &Preview) -> PreviewOut {
        PreviewOut {
            object: "preview",
            items: p
                .items
                .iter()
                .map(|i| ItemChangeOut {
                    document_id: i.document_id.to_string(),
                    item_id: i.item_id.to_string(),
                    description: i.description.clone(),
                    before: i.before.to_string(),
                    after: i.after.to_string(),
                })
                .collect(),
            documents: p
                .documents
                .iter()
                .map(|d| DocumentChangeOut {
                    document_id: d.document_id.to_string(),
                    number: d.number.clone(),
                    kind: d.kind.name(),
                    before: d.before.to_string(),
                    after: d.after.to_string(),
                    status_before: d.status_before.name(),
                    status_after: d.status_after.name(),
                    created: d.created,
                })
                .collect(),
            payments: p
                .payments
                .iter()
                .map(|c| PaymentChangeOut {
                    payment_id: c.payment_id.to_string(),
                    before: c.before.to_string(),
                    after: c.after.to_string(),
                    status_before: c.status_before.name(),
                    status_after: c.status_after.name(),
                })
                .collect(),
            customer: change(&p.customer),
            credit_balance: change(&p.credit_balance),
        }
    }
}

/// The document (as the command answers it) or, with `?dry_run=true`, the preview.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "only its schema is used: answers are rendered by their own type")]
pub(crate) enum DocumentOrPreview {
    Document(DocumentOut),
    Preview(PreviewOut),
}

/// The transfer's answer or, with `?dry_run=true`, the preview.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "only its schema is used: answers are rendered by their own type")]
pub(crate) enum TransferOrPreview {
    Transfer(Box<TransferOut>),
    Preview(PreviewOut),
}
