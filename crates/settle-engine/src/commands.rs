//! One module per group of commands and their queries.

pub(crate) mod adjustments;
pub(crate) mod applications;
pub(crate) mod bill_runs;
pub(crate) mod catalog;
pub(crate) mod collect;
pub(crate) mod credits;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod entries;
pub(crate) mod export;
pub(crate) mod imports;
pub(crate) mod links;
pub(crate) mod payments;
pub(crate) mod policies;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod staff;
pub(crate) mod subscriptions;
pub(crate) mod tenants;

use settle_core::error::Rejection;
use settle_core::money::{Currency, DecimalAmount, Money, NotDecimal};

/// An amount as the client wrote it, already read as an exact decimal (the API reads its text
/// once, at the boundary), so nothing is rounded on the way in. Which currency it is in is known
/// only inside the command (the customer's or the document's), where [`parse_amount`] turns it
/// into `Money`: more digits than that currency has are refused there, never rounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount(DecimalAmount);

impl Amount {
    /// Reads `text` by the strict rule of amounts (`"150.00"`, `"-3.13"`, `"150"`; no exponent,
    /// no `_`); anything else is [`NotDecimal`], which a caller reports beside its field.
    pub fn parse(text: &str) -> Result<Amount, NotDecimal> {
        DecimalAmount::parse(text).map(Amount)
    }

    /// The exact decimal.
    pub fn decimal(&self) -> &DecimalAmount {
        &self.0
    }
}

impl From<DecimalAmount> for Amount {
    fn from(decimal: DecimalAmount) -> Amount {
        Amount(decimal)
    }
}

impl From<Money> for Amount {
    /// An amount the engine computed, read back exactly in the same currency.
    fn from(money: Money) -> Amount {
        Amount(DecimalAmount::from(money))
    }
}

/// Reads an amount in the customer's (or document's) currency; the error names `field`.
pub(crate) fn parse_amount(
    field: &str,
    amount: &Amount,
    currency: Currency,
) -> Result<Money, Rejection> {
    amount.0.in_currency(currency).map_err(|e| Rejection::money(field, e))
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
