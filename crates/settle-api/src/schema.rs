//! The OpenAPI schemas of values the DTOs and query types share (amounts, decimals, dates,
//! enumerations), for their `#[schema(schema_with = ...)]` attributes. A leaf: it knows nothing
//! of routes or of the document they are assembled into.

use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    KnownFormat, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};

/// What an amount looks like: a decimal string with the currency's minor digits.
pub(crate) const AMOUNT_PATTERN: &str = r"^-?[0-9]+(\.[0-9]+)?$";

pub(crate) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// An amount as answered.
pub(crate) fn amount() -> Object {
    string()
        .pattern(Some(AMOUNT_PATTERN))
        .description(Some("Decimal string with exactly the currency's minor digits."))
        .examples(["150.00"])
        .build()
}

/// An amount as accepted: a decimal string or a JSON number.
pub(crate) fn amount_input() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(string().pattern(Some(AMOUNT_PATTERN)))
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .description(Some(
            "A decimal string (`\"150.00\"`) or a JSON number. The currency's minor digits \
             apply: a value not exactly representable in the currency (`\"1.005\"` for USD) is \
             422 `validation_error`.",
        ))
        .examples([json!("150.00")])
        .into()
}

/// A decimal (quantity, unit price, rate) as accepted.
pub(crate) fn decimal_input() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(string().pattern(Some(AMOUNT_PATTERN)))
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .description(Some("A decimal as a string (`\"1.5\"`) or a JSON number."))
        .into()
}

/// A decimal as answered (quantity, unit price, rate), or `null` where the item has none.
pub(crate) fn decimal() -> Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(AMOUNT_PATTERN))
        .description(Some("A decimal string, or null."))
        .build()
}

/// A date `YYYY-MM-DD`.
pub(crate) fn date() -> Object {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).build()
}

/// A date `YYYY-MM-DD`, or `null` where there is none (a subscription or item without an end).
pub(crate) fn date_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .description(Some("A date `YYYY-MM-DD`, or null."))
        .build()
}

/// What an entry made: a document or a payment.
pub(crate) fn entry_document() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name("DocumentOut"))
        .item(utoipa::openapi::Ref::from_schema_name("PaymentOut"))
        .description(Some(
            "The posted invoice (a charge), the posted credit memo (a credit) or the payment (a \
             credit with `payment_method`).",
        ))
        .into()
}

/// Metadata: an object of string values.
pub(crate) fn metadata() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(string().max_length(Some(500))))
        .max_properties(Some(50))
        .description(Some("At most 50 string values of at most 500 characters; keys at most 40."))
        .build()
}

pub(crate) fn one_of(values: &[&'static str]) -> ObjectBuilder {
    string().enum_values(Some(values.iter().copied()))
}

/// `charge` or `credit`.
pub(crate) fn entry_kind() -> Object {
    one_of(&["charge", "credit"]).build()
}

/// Payment and refund methods.
pub(crate) fn payment_method() -> Object {
    one_of(&["cash", "check", "card", "ach", "other"]).build()
}

/// Application rules.
pub(crate) fn rule() -> Object {
    one_of(&["proration", "sequential", "net_first"])
        .description(Some(
            "How an `amount` is spread over the target's items; default: the tenant's \
             `application_rule` setting.",
        ))
        .build()
}

/// Application source types.
pub(crate) fn source_type() -> Object {
    one_of(&["payment", "credit_memo", "credit_balance"]).build()
}

/// Adjustment types.
pub(crate) fn adjustment_type() -> Object {
    one_of(&["credit", "charge"]).build()
}

/// Negative-invoice policies.
pub(crate) fn negative_invoice_policy() -> Object {
    one_of(&["keep", "transfer_to_credit", "transfer_and_apply"]).build()
}

/// Document statuses.
pub(crate) fn document_status() -> Object {
    one_of(&["draft", "posted", "voided", "canceled"]).build()
}

/// Payment statuses.
pub(crate) fn payment_status() -> Object {
    one_of(&["posted", "voided"]).build()
}

/// Document kinds as `object`.
pub(crate) fn document_object() -> Object {
    one_of(&["invoice", "debit_memo", "credit_memo"]).build()
}

/// Item kinds.
pub(crate) fn item_kind() -> Object {
    one_of(&["charge", "tax"]).build()
}

/// Application statuses.
pub(crate) fn application_status() -> Object {
    one_of(&["applied", "partially_reversed", "reversed"]).build()
}

/// Customer sort orders.
pub(crate) fn customer_sort() -> Object {
    one_of(&["name", "-name", "balance", "-balance", "created", "-created"])
        .default(Some(json!("-created")))
        .build()
}

/// Balance filters of document lists.
pub(crate) fn balance_filter() -> Object {
    one_of(&["negative", "positive", "open"])
        .description(Some(
            "`negative` or `positive` total balance; `open` = non-zero balance or any non-zero \
             item balance.",
        ))
        .build()
}

/// Page size.
pub(crate) fn limit() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(500))
        .default(Some(json!(50)))
        .build()
}
