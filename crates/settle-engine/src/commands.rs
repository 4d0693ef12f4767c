//! One module per group of commands and their queries.

pub(crate) mod adjustments;
pub(crate) mod applications;
pub(crate) mod credits;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod entries;
pub(crate) mod export;
pub(crate) mod links;
pub(crate) mod payments;
pub(crate) mod policies;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod staff;
pub(crate) mod tenants;

use settle_core::error::Rejection;
use settle_core::money::{Currency, Money};

/// An amount as the client wrote it: its exact decimal text (a JSON number keeps its digits), so
/// nothing is rounded on the way in. Which currency reads it is known only inside the command
/// (the customer's or the document's), where [`parse_amount`] turns it into `Money` once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount(String);

impl Amount {
    /// The amount written as `text`.
    pub fn new(text: impl Into<String>) -> Amount {
        Amount(text.into())
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Amount {
    fn from(text: &str) -> Amount {
        Amount::new(text)
    }
}

impl From<String> for Amount {
    fn from(text: String) -> Amount {
        Amount(text)
    }
}

impl From<Money> for Amount {
    /// The exact text of an amount the engine computed, read back in the same currency.
    fn from(money: Money) -> Amount {
        Amount(money.to_string())
    }
}

/// Reads an amount in the customer's (or document's) currency; the error names `field`.
pub(crate) fn parse_amount(
    field: &str,
    amount: &Amount,
    currency: Currency,
) -> Result<Money, Rejection> {
    Money::parse(amount.as_str(), currency).map_err(|e| Rejection::money(field, e))
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
