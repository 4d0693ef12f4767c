//! One module per group of commands and their queries.

pub(crate) mod adjustments;
pub(crate) mod applications;
pub(crate) mod credits;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod entries;
pub(crate) mod export;
pub(crate) mod payments;
pub(crate) mod policies;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod tenants;

use settle_core::error::Rejection;
use settle_core::money::{Currency, Money};

/// Reads an amount given as decimal text in the customer's currency; the error names `field`.
pub(crate) fn parse_amount(
    field: &str,
    text: &str,
    currency: Currency,
) -> Result<Money, Rejection> {
    Money::parse(text, currency).map_err(|e| Rejection::money(field, e))
}

/// Refuses text over 1,024 characters (and, when `required`, empty text).
pub(crate) fn check_text(field: &str, text: &str, required: bool) -> Result<(), Rejection> {
    if required && text.trim().is_empty() {
        return Err(Rejection::invalid(field, "must not be empty"));
    }
    if text.chars().count() > 1024 {
        return Err(Rejection::invalid(field, "at most 1024 characters"));
    }
    Ok(())
}
