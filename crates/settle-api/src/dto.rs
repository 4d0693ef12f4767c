//! The JSON shapes of the API, written here and converted by hand from and to domain types.
//! Request types refuse unknown fields, so clients cannot set ids, status or balances.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use settle_core::application::Application;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::{Document, DocumentKind};
use settle_core::ledger::Posting;
use settle_core::money::Money;
use settle_core::payment::Payment;
use settle_engine::Amount;
use settle_store::StoredTxn;
use utoipa::ToSchema;

mod billing;
mod imports;
mod links;
mod preview;

pub(crate) use billing::{
    AmendmentIn, AmendmentOutcomeOut, AmendmentPreviewOut, BillRunIn, BillRunOut, CancelIn,
    ChangeIn, PriceIn, PriceOut, ProductIn, ProductOut, SubscriptionIn, SubscriptionOut,
};
pub(crate) use imports::ImportOut;
pub(crate) use links::{
    PaymentLinkCreatedOut, PaymentLinkIn, PaymentLinkOut, PaymentLinksOut, instant,
};
pub(crate) use preview::{DocumentOrPreview, PreviewOut, TransferOrPreview};

/// An amount as given: a decimal string or a JSON number, read once into an exact [`Amount`]
/// (text that is not a decimal is refused here, beside its field); the engine turns it into
/// `Money` in the customer's currency.
#[derive(Debug, Clone)]
pub(crate) struct AmountIn(pub Amount);

impl<'de> Deserialize<'de> for AmountIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) if text.len() <= 64 => amount(&text),
            Value::Number(number) => amount(&number.to_string()),
            _ => Err(serde::de::Error::custom("expected a decimal amount such as \"150.00\"")),
        }
    }
}

fn amount<E: serde::de::Error>(text: &str) -> Result<AmountIn, E> {
    Amount::parse(text).map(AmountIn).map_err(E::custom)
}

/// A decimal (quantity, unit price, rate) as a string or a JSON number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecimalIn(pub Decimal);

impl<'de> Deserialize<'de> for DecimalIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = match Value::deserialize(deserializer)? {
            Value::String(text) if text.len() <= 64 => text,
            Value::Number(number) => number.to_string(),
            _ => return Err(serde::de::Error::custom("expected a decimal number")),
        };
        settle_core::money::parse_decimal(&text)
            .map(DecimalIn)
            .ok_or_else(|| serde::de::Error::custom("expected a decimal number such as \"1.5\""))
    }
}

/// A date `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateIn(pub NaiveDate);

impl<'de> Deserialize<'de> for DateIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(DateIn)
            .map_err(|_| serde::de::Error::custom("expected a date YYYY-MM-DD"))
    }
}

/// A JSON object of metadata, kept as its text.
#[derive(Debug, Clone)]
pub(crate) struct MetadataIn(pub String);

impl<'de> Deserialize<'de> for MetadataIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Object(map) if map.len() <= 50 => {
                if map
                    .iter()
                    .any(|(k, v)| k.len() > 40 || !matches!(v, Value::String(s) if s.len() <= 500))
                {
                    return Err(serde::de::Error::custom(
                        "metadata values are strings of at most 500 characters, keys at most 40",
                    ));
                }
                Ok(MetadataIn(Value::Object(map).to_string()))
            }
            _ => Err(serde::de::Error::custom("expected an object of at most 50 string values")),
        }
    }
}

/// Implements the schema of an input type from a function of `crate::openapi`.
macro_rules! schema_of {
    ($ty:ty, $name:literal, $schema:path) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema().into()
            }
        }

        impl ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

schema_of!(AmountIn, "AmountInput", crate::schema::amount_input);
schema_of!(DecimalIn, "DecimalInput", crate::schema::decimal_input);
schema_of!(DateIn, "Date", crate::schema::date);
schema_of!(MetadataIn, "Metadata", crate::schema::metadata);

/// Distinguishes an absent field from an explicit `null` in PATCH bodies.
pub(crate) fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

// ---- customers ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerIn {
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    /// ISO 4217 code; default: the tenant's `default_currency`.
    pub(crate) currency: Option<String>,
    /// Days from invoice date to due date; default 30.
    pub(crate) payment_terms_days: Option<u32>,
    pub(crate) metadata: Option<MetadataIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerPatchIn {
    pub(crate) name: Option<String>,
    /// `null` clears the email.
    #[serde(default, deserialize_with = "double_option")]
    pub(crate) email: Option<Option<String>>,
    pub(crate) payment_terms_days: Option<u32>,
    pub(crate) metadata: Option<MetadataIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomerOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) name: String,
    pub(crate) email: Option<String>,
    pub(crate) currency: &'static str,
    pub(crate) payment_terms_days: u32,
    /// `available_credit − receivable`: negative means the customer owes.
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) balance: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) receivable: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) unapplied_payments: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) credit_memo_balance: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) credit_balance: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) available_credit: String,
    pub(crate) created_at: String,
    /// The metadata object (string values).
    #[schema(schema_with = crate::schema::metadata)]
    pub(crate) metadata: Value,
}

impl From<&Customer> for CustomerOut {
    fn from(c: &Customer) -> CustomerOut {
        let m = |minor: i64| Money::new(minor, c.currency).to_string();
        let b = c.balances;
        CustomerOut {
            id: c.id.to_string(),
            object: "customer",
            name: c.name.clone(),
            email: c.email.clone(),
            currency: c.currency.code(),
            payment_terms_days: c.payment_terms_days,
            balance: m(b.balance()),
            receivable: m(b.receivable),
            unapplied_payments: m(b.unapplied_payments),
            credit_memo_balance: m(b.credit_memo_balance),
            credit_balance: m(b.credit_balance),
            available_credit: m(b.available_credit()),
            created_at: timestamp(c.created_at),
            metadata: serde_json::from_str(&c.metadata)
                .unwrap_or(Value::Object(Default::default())),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryOut {
    pub(crate) id: String,
    pub(crate) effective_date: NaiveDate,
    pub(crate) kind: String,
    pub(crate) description: String,
    /// Signed like the balance: a charge of 150 is `"-150.00"`, a payment of 100 is `"100.00"`.
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) balance_after: String,
    pub(crate) document_id: Option<String>,
}

impl From<&HistoryLine> for HistoryOut {
    fn from(h: &HistoryLine) -> HistoryOut {
        HistoryOut {
            id: h.id.to_string(),
            effective_date: h.effective_date,
            kind: h.kind.clone(),
            description: h.description.clone(),
            amount: h.amount.to_string(),
            balance_after: h.balance_after.to_string(),
            document_id: h.document_id.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryIn {
    #[schema(schema_with = crate::schema::entry_kind)]
    pub(crate) kind: String,
    /// Positive.
    pub(crate) amount: AmountIn,
    pub(crate) description: String,
    /// For a credit: how it was paid (makes it a payment).
    #[schema(schema_with = crate::schema::payment_method)]
    pub(crate) payment_method: Option<String>,
    pub(crate) notes: Option<String>,
    pub(crate) effective_date: Option<DateIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EntryOut {
    pub(crate) entry: HistoryOut,
    /// What the entry made.
    #[schema(schema_with = crate::schema::entry_document)]
    pub(crate) document: Value,
}

// ---- documents ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaxIn {
    pub(crate) name: String,
    /// A percent: `"8.25"` is 8.25%. Give `rate` or `amount`.
    pub(crate) rate: Option<DecimalIn>,
    /// A fixed tax amount instead of a rate.
    pub(crate) amount: Option<AmountIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemIn {
    pub(crate) description: String,
    /// The item amount; or give `quantity` and `unit_price`.
    pub(crate) amount: Option<AmountIn>,
    pub(crate) quantity: Option<DecimalIn>,
    pub(crate) unit_price: Option<DecimalIn>,
    #[serde(default)]
    pub(crate) taxes: Vec<TaxIn>,
    /// Credit memos only: the invoice item this item credits.
    pub(crate) invoice_item_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentIn {
    pub(crate) customer_id: String,
    pub(crate) items: Vec<ItemIn>,
    /// Default: today in the tenant's time zone.
    pub(crate) invoice_date: Option<DateIn>,
    /// Default: `invoice_date` + the customer's payment terms (30 days unless set).
    pub(crate) due_date: Option<DateIn>,
    /// Invoices only: the invoice this one adjusts.
    pub(crate) adjusts_invoice_id: Option<String>,
    /// `true` posts at once; otherwise a draft, which owes nothing until posted.
    #[serde(default)]
    pub(crate) post: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ItemOut {
    pub(crate) id: String,
    #[schema(schema_with = crate::schema::item_kind)]
    pub(crate) kind: &'static str,
    pub(crate) parent_item_id: Option<String>,
    pub(crate) description: String,
    #[schema(schema_with = crate::schema::decimal)]
    pub(crate) quantity: Option<String>,
    #[schema(schema_with = crate::schema::decimal)]
    pub(crate) unit_price: Option<String>,
    /// Tax items: the percent rate (`"8.25"` is 8.25%).
    #[schema(schema_with = crate::schema::decimal)]
    pub(crate) tax_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) invoice_item_id: Option<String>,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) balance: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DocumentOut {
    pub(crate) id: String,
    #[schema(schema_with = crate::schema::document_object)]
    pub(crate) object: &'static str,
    pub(crate) number: String,
    pub(crate) customer_id: String,
    #[schema(schema_with = crate::schema::document_status)]
    pub(crate) status: &'static str,
    pub(crate) currency: &'static str,
    pub(crate) invoice_date: NaiveDate,
    pub(crate) due_date: NaiveDate,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) total: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) balance: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) adjusts_invoice_id: Option<Option<String>>,
    /// Receivable documents: the balance of the invoice group (the original invoice with
    /// every adjustment invoice of it), the same on every member.
    #[schema(schema_with = crate::schema::amount)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) group_balance: Option<String>,
    /// Invoices: the ids of the group, the original first, then its adjustment invoices in the
    /// order they were made (a group of one for an invoice that is not adjusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) group: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    pub(crate) items: Vec<ItemOut>,
}

impl From<&Document> for DocumentOut {
    fn from(d: &Document) -> DocumentOut {
        let receivable = d.kind.is_receivable();
        DocumentOut {
            id: d.id.to_string(),
            object: d.kind.name(),
            number: d.number.clone(),
            customer_id: d.customer_id.to_string(),
            status: d.status.name(),
            currency: d.currency.code(),
            invoice_date: d.invoice_date,
            due_date: d.due_date,
            total: d.total().to_string(),
            balance: d.balance().to_string(),
            adjusts_invoice_id: (d.kind == DocumentKind::Invoice)
                .then(|| d.adjusts_invoice_id.as_ref().map(|i| i.to_string())),
            group_balance: receivable.then(|| d.group_balance.to_string()),
            group: (d.kind == DocumentKind::Invoice)
                .then(|| d.group.iter().map(|id| id.to_string()).collect()),
            reason: d.reason.clone(),
            items: d
                .items
                .iter()
                .map(|i| ItemOut {
                    id: i.id.to_string(),
                    kind: i.kind.name(),
                    parent_item_id: i.parent_item_id.as_ref().map(|p| p.to_string()),
                    description: i.description.clone(),
                    // Exactly as sent: the scale is kept (`"180.00"`, not `"180"`).
                    quantity: i.quantity.map(|q| q.to_string()),
                    unit_price: i.unit_price.map(|q| q.to_string()),
                    tax_rate: i.tax_rate.map(|q| q.to_string()),
                    invoice_item_id: i.invoice_item_id.as_ref().map(|p| p.to_string()),
                    amount: i.amount.to_string(),
                    balance: i.balance.to_string(),
                })
                .collect(),
        }
    }
}

// ---- payments ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemAmountIn {
    pub(crate) item_id: String,
    /// May be negative for a negative item.
    pub(crate) amount: AmountIn,
    /// For a credit memo source: the credit memo item to draw from.
    pub(crate) credit_memo_item_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetIn {
    pub(crate) target_id: String,
    /// Spread over the items by `rule`; or give `items`; with neither, the largest amount the
    /// source can apply to the document.
    pub(crate) amount: Option<AmountIn>,
    /// Per item; the total may be zero.
    pub(crate) items: Option<Vec<ItemAmountIn>>,
    #[schema(schema_with = crate::schema::rule)]
    pub(crate) rule: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentIn {
    pub(crate) customer_id: String,
    pub(crate) amount: AmountIn,
    #[schema(schema_with = crate::schema::payment_method)]
    pub(crate) method: String,
    pub(crate) reference: Option<String>,
    pub(crate) effective_date: Option<DateIn>,
    /// Applied in the same call, at most 100.
    #[serde(default)]
    pub(crate) applications: Vec<TargetIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) customer_id: String,
    pub(crate) currency: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) applied: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) unapplied: String,
    #[schema(schema_with = crate::schema::payment_method)]
    pub(crate) method: &'static str,
    pub(crate) reference: Option<String>,
    #[schema(schema_with = crate::schema::payment_status)]
    pub(crate) status: &'static str,
    pub(crate) effective_date: NaiveDate,
}

impl From<&Payment> for PaymentOut {
    fn from(p: &Payment) -> PaymentOut {
        PaymentOut {
            id: p.id.to_string(),
            object: "payment",
            customer_id: p.customer_id.to_string(),
            currency: p.amount.currency().code(),
            amount: p.amount.to_string(),
            applied: p.applied().to_string(),
            unapplied: p.unapplied.to_string(),
            method: p.method.name(),
            reference: p.reference.clone(),
            status: p.status.name(),
            effective_date: p.effective_date,
        }
    }
}

// ---- applications ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceIn {
    #[schema(schema_with = crate::schema::source_type)]
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// The payment or credit memo id; none for `credit_balance`.
    pub(crate) id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplicationIn {
    pub(crate) source: SourceIn,
    pub(crate) target_id: String,
    /// Spread over the items by `rule`; or give `items`; with neither, the largest amount the
    /// source can apply to the document.
    pub(crate) amount: Option<AmountIn>,
    /// Per item; may be negative for negative items; the total may be zero.
    pub(crate) items: Option<Vec<ItemAmountIn>>,
    #[schema(schema_with = crate::schema::rule)]
    pub(crate) rule: Option<String>,
    pub(crate) effective_date: Option<DateIn>,
}

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReverseIn {
    /// Default: all that is left applied.
    pub(crate) amount: Option<AmountIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SourceOut {
    #[schema(schema_with = crate::schema::source_type)]
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApplicationItemOut {
    pub(crate) item_id: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) net_amount: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) credit_memo_item_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApplicationOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) customer_id: String,
    pub(crate) source: SourceOut,
    pub(crate) target_id: String,
    pub(crate) currency: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) reversed_amount: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) net_amount: String,
    #[schema(schema_with = crate::schema::rule)]
    pub(crate) rule: Option<&'static str>,
    pub(crate) effective_date: NaiveDate,
    pub(crate) items: Vec<ApplicationItemOut>,
    #[schema(schema_with = crate::schema::application_status)]
    pub(crate) status: &'static str,
}

impl From<&Application> for ApplicationOut {
    fn from(a: &Application) -> ApplicationOut {
        let reversed = Money::new(a.amount().minor() - a.net().minor(), a.currency);
        ApplicationOut {
            id: a.id.to_string(),
            object: "application",
            customer_id: a.customer_id.to_string(),
            source: SourceOut { kind: a.source.type_name(), id: a.source.id().map(str::to_owned) },
            target_id: a.target_id.to_string(),
            currency: a.currency.code(),
            amount: a.amount().to_string(),
            reversed_amount: reversed.to_string(),
            net_amount: a.net().to_string(),
            rule: a.rule.map(|r| r.name()),
            effective_date: a.effective_date,
            items: a
                .items
                .iter()
                .map(|i| ApplicationItemOut {
                    item_id: i.item_id.to_string(),
                    amount: i.amount.to_string(),
                    net_amount: i.net.to_string(),
                    credit_memo_item_id: i.credit_memo_item_id.as_ref().map(|c| c.to_string()),
                })
                .collect(),
            status: a.status(),
        }
    }
}

// ---- journal and reports ----

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PostingOut {
    pub(crate) account: &'static str,
    pub(crate) side: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    pub(crate) currency: &'static str,
    pub(crate) document_id: Option<String>,
    pub(crate) item_id: Option<String>,
    pub(crate) payment_id: Option<String>,
    pub(crate) application_id: Option<String>,
}

impl From<&Posting> for PostingOut {
    fn from(p: &Posting) -> PostingOut {
        PostingOut {
            account: p.account.name(),
            side: p.side.name(),
            amount: p.amount.to_string(),
            currency: p.amount.currency().code(),
            document_id: p.document_id.as_ref().map(|d| d.to_string()),
            item_id: p.item_id.as_ref().map(|d| d.to_string()),
            payment_id: p.payment_id.as_ref().map(|d| d.to_string()),
            application_id: p.application_id.as_ref().map(|d| d.to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TxnOut {
    pub(crate) id: String,
    pub(crate) seq: i64,
    pub(crate) customer_id: String,
    pub(crate) kind: &'static str,
    pub(crate) effective_date: NaiveDate,
    pub(crate) description: String,
    pub(crate) subject_id: Option<String>,
    pub(crate) created_at: String,
    pub(crate) postings: Vec<PostingOut>,
}

impl From<&StoredTxn> for TxnOut {
    fn from(s: &StoredTxn) -> TxnOut {
        TxnOut {
            id: s.txn.id().to_string(),
            seq: s.seq,
            customer_id: s.txn.customer_id().to_string(),
            kind: s.txn.kind().name(),
            effective_date: s.txn.effective_date(),
            description: s.txn.description().to_owned(),
            subject_id: s.txn.subject_id().map(str::to_owned),
            created_at: timestamp(s.created_at),
            postings: s.txn.postings().iter().map(PostingOut::from).collect(),
        }
    }
}

/// A page of `GET /v1/journal`. Without `customer_id` it is the tenant's feed: `has_more` is
/// there and `next_cursor` is never null (on the last page, where to poll from later). With
/// `customer_id` it is a list like the others: no `has_more`, `next_cursor` null on the last
/// page.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JournalOut {
    pub(crate) object: &'static str,
    pub(crate) data: Vec<TxnOut>,
    /// Feed only: more committed transactions follow `next_cursor`; read again (on PostgreSQL
    /// one may become readable a moment later, once transactions begun before it end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) has_more: Option<bool>,
    /// Where the next page starts; in the feed never null.
    pub(crate) next_cursor: Option<String>,
}

/// `{"data": [...], "next_cursor": ...}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ListOut<T> {
    pub(crate) object: &'static str,
    pub(crate) data: Vec<T>,
    pub(crate) next_cursor: Option<String>,
}

// ---- credit memos, refunds, adjustments, settings ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreditItemIn {
    pub(crate) description: Option<String>,
    pub(crate) amount: AmountIn,
    /// The invoice item credited: takes its sign and, with the credit adjustments on it, never
    /// exceeds its amount in size (`over_credit`).
    pub(crate) invoice_item_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreditMemoIn {
    pub(crate) customer_id: String,
    #[serde(default)]
    pub(crate) items: Vec<CreditItemIn>,
    pub(crate) reason: Option<String>,
    pub(crate) from_invoice_id: Option<String>,
    /// `true` posts at once; otherwise a draft.
    #[serde(default)]
    pub(crate) post: bool,
    pub(crate) invoice_date: Option<DateIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundIn {
    /// At most what is unapplied on the source (`insufficient_unapplied`).
    pub(crate) amount: AmountIn,
    #[schema(schema_with = crate::schema::payment_method)]
    pub(crate) method: Option<String>,
    pub(crate) reference: Option<String>,
    pub(crate) effective_date: Option<DateIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RefundOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) customer_id: String,
    pub(crate) source: SourceOut,
    pub(crate) currency: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    #[schema(schema_with = crate::schema::payment_method)]
    pub(crate) method: &'static str,
    pub(crate) reference: Option<String>,
    pub(crate) effective_date: NaiveDate,
}

impl From<&settle_core::refund::Refund> for RefundOut {
    fn from(r: &settle_core::refund::Refund) -> RefundOut {
        RefundOut {
            id: r.id.to_string(),
            object: "refund",
            customer_id: r.customer_id.to_string(),
            source: SourceOut { kind: r.source_type, id: r.source_id.clone() },
            currency: r.amount.currency().code(),
            amount: r.amount.to_string(),
            method: r.method.name(),
            reference: r.reference.clone(),
            effective_date: r.effective_date,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdjustmentIn {
    pub(crate) item_id: String,
    #[schema(schema_with = crate::schema::adjustment_type)]
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) amount: AmountIn,
    pub(crate) reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AdjustmentOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) invoice_id: String,
    pub(crate) item_id: String,
    #[schema(schema_with = crate::schema::adjustment_type)]
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
    pub(crate) reason: String,
    pub(crate) effective_date: NaiveDate,
}

impl From<&settle_core::adjustment::Adjustment> for AdjustmentOut {
    fn from(a: &settle_core::adjustment::Adjustment) -> AdjustmentOut {
        AdjustmentOut {
            id: a.id.to_string(),
            object: "adjustment",
            invoice_id: a.document_id.to_string(),
            item_id: a.item_id.to_string(),
            kind: a.kind.name(),
            amount: a.amount.to_string(),
            reason: a.reason.clone(),
            effective_date: a.effective_date,
        }
    }
}

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmountOnlyIn {
    /// Default: all of the negative balance.
    pub(crate) amount: Option<AmountIn>,
}

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WriteOffIn {
    /// Default: the whole open balance.
    pub(crate) amount: Option<AmountIn>,
    pub(crate) reason: Option<String>,
}

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VoidIn {
    /// Reverse every live application first (otherwise `has_applications`).
    #[serde(default)]
    pub(crate) reverse_applications: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TransferOut {
    pub(crate) invoice: DocumentOut,
    pub(crate) customer: CustomerOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreditBalanceOut {
    pub(crate) object: &'static str,
    pub(crate) customer_id: String,
    pub(crate) currency: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) amount: String,
}

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsIn {
    pub(crate) default_currency: Option<String>,
    pub(crate) time_zone: Option<String>,
    #[schema(schema_with = crate::schema::rule)]
    pub(crate) application_rule: Option<String>,
    #[schema(schema_with = crate::schema::negative_invoice_policy)]
    pub(crate) negative_invoice_policy: Option<String>,
    /// Apply available credit to documents as they post: oldest due date first, then document
    /// number; payments oldest first, then credit memos, then the credit balance.
    pub(crate) auto_apply_credit: Option<bool>,
    /// The business's name as its customers know it, shown on their payment page (`/pay/…`);
    /// at most 200 characters, trimmed; empty means the tenant's name.
    pub(crate) business_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettingsOut {
    pub(crate) object: &'static str,
    pub(crate) default_currency: &'static str,
    pub(crate) time_zone: String,
    #[schema(schema_with = crate::schema::rule)]
    pub(crate) application_rule: &'static str,
    #[schema(schema_with = crate::schema::negative_invoice_policy)]
    pub(crate) negative_invoice_policy: &'static str,
    pub(crate) auto_apply_credit: bool,
    /// The business's name on the payment page; empty when the tenant's name is used.
    pub(crate) business_name: String,
}

impl From<&settle_core::settings::Settings> for SettingsOut {
    fn from(s: &settle_core::settings::Settings) -> SettingsOut {
        SettingsOut {
            object: "settings",
            default_currency: s.default_currency.code(),
            time_zone: s.time_zone.clone(),
            application_rule: s.application_rule.name(),
            negative_invoice_policy: s.negative_invoice_policy.name(),
            auto_apply_credit: s.auto_apply_credit,
            business_name: s.business_name.clone(),
        }
    }
}

// ---- api keys ----

/// A request for a new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApiKeyIn {
    /// `admin`, `clerk` or `viewer`.
    pub(crate) role: String,
    /// A label.
    pub(crate) name: Option<String>,
}

/// A key just made; `key` is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    /// The key text (prefix `sk_settle_`), shown only once: `null` when the answer is an
    /// idempotent replay, because only the key's SHA-256 is kept.
    pub(crate) key: Option<String>,
    pub(crate) role: &'static str,
    pub(crate) name: Option<String>,
}

impl From<&settle_engine::CreatedKey> for ApiKeyOut {
    fn from(k: &settle_engine::CreatedKey) -> ApiKeyOut {
        ApiKeyOut {
            id: k.id.clone(),
            object: "api_key",
            key: Some(k.key.clone()),
            role: k.role.name(),
            name: k.name.clone(),
        }
    }
}

/// The answer to a revocation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevokedOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) revoked: bool,
}

// ---- entries ----

/// The answer to an entry: its history line and what it made.
pub(crate) fn entry_out(
    line: &HistoryLine,
    outcome: &settle_engine::EntryOutcome,
) -> Result<EntryOut, serde_json::Error> {
    let document = match outcome {
        settle_engine::EntryOutcome::Document(d) => serde_json::to_value(DocumentOut::from(d))?,
        settle_engine::EntryOutcome::Payment(p) => serde_json::to_value(PaymentOut::from(p))?,
    };
    Ok(EntryOut { entry: HistoryOut::from(line), document })
}
