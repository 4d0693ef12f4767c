//! Rejections: the expected, contractual reasons a command is refused. Each carries the facts
//! and maps to one stable machine-readable code.

use crate::money::{Money, MoneyError};

/// Why a command was refused. Checks run in a documented order (see each command), so the same
/// input always yields the same first rejection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A field is missing, malformed or out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// The JSON path of the field, such as `items[2].amount`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The object does not exist (or belongs to another tenant).
    #[error("{what} {id} not found")]
    NotFound {
        /// The kind of object.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// Source and target, or an amount and its document, are in different currencies.
    #[error("currency mismatch: expected {expected}, got {got}")]
    CurrencyMismatch {
        /// The currency of the document or customer.
        expected: String,
        /// The currency given.
        got: String,
    },
    /// Source and target belong to different customers.
    #[error("{source_id} and {target_id} belong to different customers")]
    CustomerMismatch {
        /// The credit source.
        source_id: String,
        /// The target document.
        target_id: String,
    },
    /// The document is a draft (or a canceled credit memo) and cannot take part.
    #[error("document {id} is not posted")]
    DocumentNotPosted {
        /// The document.
        id: String,
    },
    /// The document is voided.
    #[error("document {id} is voided")]
    DocumentVoided {
        /// The document.
        id: String,
    },
    /// The document is not a draft, so it cannot be posted again.
    #[error("document {id} is already {status}")]
    DocumentNotDraft {
        /// The document.
        id: String,
        /// Its status.
        status: &'static str,
    },
    /// An item's or a document's balance would pass zero.
    #[error("{id}: balance {balance} cannot take {attempted} without passing zero")]
    OverApplication {
        /// The item or document whose balance would pass zero.
        id: String,
        /// Its balance now.
        balance: Money,
        /// The amount that was to be applied to it.
        attempted: Money,
    },
    /// The credit source has not enough unapplied value.
    #[error("{source_id} has {available} unapplied, {attempted} was asked")]
    InsufficientUnapplied {
        /// The source.
        source_id: String,
        /// What it has.
        available: Money,
        /// What was asked.
        attempted: Money,
    },
    /// Nothing is left to reverse on the application, or not that much.
    #[error("application {id} has {remaining} left to reverse, {attempted} was asked")]
    OverReversal {
        /// The application.
        id: String,
        /// What is left applied.
        remaining: Money,
        /// What was asked.
        attempted: Money,
    },
    /// The document or payment still has live applications (or refunds).
    #[error("{id} has live applications; reverse them first")]
    HasApplications {
        /// The document or payment.
        id: String,
    },
    /// The page the request was made from was drawn from an older state of the object: its
    /// version token no longer matches (see [`crate::version`]). Nothing was written.
    #[error("{id} changed since this page was drawn; reload it")]
    Stale {
        /// The document, payment or customer.
        id: String,
    },
    /// The operation needs a negative document balance.
    #[error("{id} balance {balance} is not negative")]
    NotNegative {
        /// The document.
        id: String,
        /// Its balance.
        balance: Money,
    },
    /// More credit than is left creditable on an invoice item.
    #[error("{item_id}: {creditable} is left creditable, {attempted} was asked")]
    OverCredit {
        /// The invoice item.
        item_id: String,
        /// What can still be credited on it.
        creditable: Money,
        /// What was asked.
        attempted: Money,
    },
    /// A negative payment would keep (or get back) unapplied value: it exists to clear a
    /// negative balance and must stay applied in full.
    #[error("{id} is a negative payment and would keep {unapplied} unapplied; {hint}")]
    NegativePaymentUnapplied {
        /// The payment.
        id: String,
        /// What would stay unapplied.
        unapplied: Money,
        /// What to do instead.
        hint: &'static str,
    },
    /// An amount given (or computed from what was given, such as quantity × unit price) is
    /// past [`crate::money::MAX_MINOR`] minor units in size.
    #[error("{field}: {OUT_OF_RANGE}")]
    AmountOutOfRange {
        /// The JSON path of the field, such as `items[2].amount`.
        field: String,
    },
    /// An input breaks a rule, told as facts: which input and what is wrong with it. The API
    /// names the input (as a JSON field path) and words the flaw; the core builds no path.
    #[error("{input:?}: {flaw:?}")]
    Refused {
        /// Which input.
        input: Input,
        /// What is wrong with it.
        flaw: Flaw,
    },
    /// A refusal of an input inside the `index`th application of a request that makes several
    /// (a payment's `applications`): the API names the input by its full path.
    #[error("application {index}: {rejection}")]
    InApplication {
        /// Which application of the request, from 0.
        index: usize,
        /// The refusal of an input of that application.
        rejection: Box<Rejection>,
    },
    /// The email belongs to another staff user (of any tenant).
    #[error("email already in use")]
    EmailInUse,
    /// The command would take a stored balance or total past [`crate::money::MAX_MINOR`] minor units in size.
    #[error("{total} would pass 99999999999999 minor units in size")]
    TotalOutOfRange {
        /// Which balance or total, such as `the customer's receivable`.
        total: String,
    },
}

/// The input a [`Rejection::Refused`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The amount of the command.
    Amount,
    /// The document the command acts on (named by its id).
    Document,
    /// The item the command names.
    Item,
    /// The list of items of a document or an application.
    Items,
    /// A document's due date.
    DueDate,
    /// The document an application applies to.
    Target,
    /// The credit memo an application applies from.
    Source,
    /// The item named by the entry at this index of a list of items.
    ItemId(usize),
    /// The credit memo item named by the entry at this index of a list of items.
    CreditMemoItemId(usize),
    /// The unit price of the item at this index.
    UnitPrice(usize),
    /// The rate of a tax of an item.
    TaxRate {
        /// The item's index.
        item: usize,
        /// The tax's index among the item's taxes.
        tax: usize,
    },
}

/// A command on one document, named where its refusal depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// An adjustment of an item.
    Adjust,
    /// Netting a document's items.
    Net,
    /// A transfer of a negative balance to credit.
    Transfer,
}

/// What is wrong with an input of a [`Rejection::Refused`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flaw {
    /// It is zero, and must not be.
    Zero,
    /// It is zero or negative, and must be above zero.
    NotPositive,
    /// It is not a credit memo, and must be one.
    NotACreditMemo,
    /// It is a credit memo, which is canceled rather than voided.
    CanceledNotVoided,
    /// It is not an invoice or a debit memo, which the operation needs.
    NotReceivable(Operation),
    /// The item is not one of the document's.
    NotAnItemOf {
        /// The item named.
        item_id: String,
        /// The document.
        document_id: String,
    },
    /// It has no negative item balance to offset against a positive one.
    NothingToNet,
    /// It is past [`crate::money::MAX_MINOR`] minor units in size (or makes an amount that is).
    OutOfRange,
    /// It is a rate that cannot be turned into a factor.
    RateOutOfRange,
    /// The list is empty, and needs at least one item.
    NoItems,
    /// The list has more items (taxes counted) than a document may have.
    TooManyItems {
        /// The most a document may have.
        limit: usize,
    },
    /// The due date is before the invoice date.
    BeforeInvoiceDate,
    /// It is not an invoice or a debit memo, and must be one.
    NotAnInvoiceOrDebitMemo,
    /// The item is named twice in the list.
    ListedTwice,
    /// Every amount of the list is zero.
    NothingToApply,
    /// A partial reversal of an application whose items have both signs.
    MixedSignsReversedWhole,
}

/// The message of an amount past [`crate::money::MAX_MINOR`].
pub const OUT_OF_RANGE: &str =
    "out of range: at most 99999999999999 minor units in size (999999999999.99 with 2 decimals)";

impl Rejection {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Invalid { .. } => "validation_error",
            Rejection::NotFound { .. } => "not_found",
            Rejection::CurrencyMismatch { .. } => "currency_mismatch",
            Rejection::CustomerMismatch { .. } => "customer_mismatch",
            Rejection::DocumentNotPosted { .. } => "document_not_posted",
            Rejection::DocumentVoided { .. } => "document_voided",
            Rejection::DocumentNotDraft { .. } => "document_not_draft",
            Rejection::OverApplication { .. } => "over_application",
            Rejection::InsufficientUnapplied { .. } => "insufficient_unapplied",
            Rejection::OverReversal { .. } => "over_reversal",
            Rejection::HasApplications { .. } => "has_applications",
            Rejection::Stale { .. } => "stale",
            Rejection::NotNegative { .. } => "not_negative",
            Rejection::OverCredit { .. } => "over_credit",
            Rejection::NegativePaymentUnapplied { .. } => "negative_payment_unapplied",
            Rejection::EmailInUse => "email_in_use",
            Rejection::AmountOutOfRange { .. }
            | Rejection::TotalOutOfRange { .. }
            | Rejection::Refused { flaw: Flaw::OutOfRange, .. } => "amount_out_of_range",
            Rejection::Refused { .. } => "validation_error",
            Rejection::InApplication { rejection, .. } => rejection.code(),
        }
    }

    /// A validation rejection of `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Rejection {
        Rejection::Invalid { field: field.into(), message: message.into() }
    }

    /// `input` is refused for `flaw`.
    pub fn refused(input: Input, flaw: Flaw) -> Rejection {
        Rejection::Refused { input, flaw }
    }

    /// This refusal, of an input of the `index`th application of a request.
    pub fn in_application(self, index: usize) -> Rejection {
        Rejection::InApplication { index, rejection: Box::new(self) }
    }

    /// `field` is past [`crate::money::MAX_MINOR`] in size.
    pub fn out_of_range(field: impl Into<String>) -> Rejection {
        Rejection::AmountOutOfRange { field: field.into() }
    }

    /// The stored `total` would pass [`crate::money::MAX_MINOR`] in size.
    pub fn total_out_of_range(total: impl Into<String>) -> Rejection {
        Rejection::TotalOutOfRange { total: total.into() }
    }

    /// The money error of `field` as a validation rejection.
    pub fn money(field: impl Into<String>, err: MoneyError) -> Rejection {
        match err {
            MoneyError::Overflow => Rejection::AmountOutOfRange { field: field.into() },
            MoneyError::CurrencyMismatch { left, right } => Rejection::CurrencyMismatch {
                expected: left.code().to_owned(),
                got: right.code().to_owned(),
            },
            other => Rejection::invalid(field, other.to_string()),
        }
    }
}
