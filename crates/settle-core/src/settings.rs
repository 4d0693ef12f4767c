//! Tenant settings that steer the rules.

use crate::application::Rule;
use crate::money::Currency;

/// What to do with a document whose balance ends up negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NegativeInvoicePolicy {
    /// Leave it for a person to resolve.
    #[default]
    Keep,
    /// Move the negative balance to the customer's credit balance.
    TransferToCredit,
    /// Move it to the credit balance and apply that to open documents.
    TransferAndApply,
}

impl NegativeInvoicePolicy {
    /// The policy's name.
    pub fn name(self) -> &'static str {
        match self {
            NegativeInvoicePolicy::Keep => "keep",
            NegativeInvoicePolicy::TransferToCredit => "transfer_to_credit",
            NegativeInvoicePolicy::TransferAndApply => "transfer_and_apply",
        }
    }

    /// Reads a name written by [`NegativeInvoicePolicy::name`].
    pub fn parse(name: &str) -> Option<NegativeInvoicePolicy> {
        [
            NegativeInvoicePolicy::Keep,
            NegativeInvoicePolicy::TransferToCredit,
            NegativeInvoicePolicy::TransferAndApply,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }
}

/// A tenant's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Currency of new customers that name none.
    pub default_currency: Currency,
    /// IANA time zone that decides "today".
    pub time_zone: String,
    /// Rule for document-level application amounts.
    pub application_rule: Rule,
    /// What happens to negative documents.
    pub negative_invoice_policy: NegativeInvoicePolicy,
    /// Apply available credit to the oldest open documents automatically.
    pub auto_apply_credit: bool,
    /// The business's name as its customers know it (the payment page's heading); empty means
    /// the tenant's name.
    pub business_name: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            default_currency: Currency::USD,
            time_zone: "UTC".to_owned(),
            application_rule: Rule::NetFirst,
            negative_invoice_policy: NegativeInvoicePolicy::Keep,
            auto_apply_credit: false,
            business_name: String::new(),
        }
    }
}
