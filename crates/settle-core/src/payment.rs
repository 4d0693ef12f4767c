//! Payments: money received (or, when negative, paid back) and recorded as unapplied credit
//! until applied.

use chrono::NaiveDate;

use crate::error::{Flaw, Input, Rejection};
use crate::ids::{CustomerId, PaymentId, TxnId};
use crate::ledger::{Account, JournalTxn, TxnKind, push_signed};
use crate::money::Money;

/// How the money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    /// Cash.
    Cash,
    /// Check.
    Check,
    /// Card.
    Card,
    /// Bank transfer.
    Ach,
    /// Anything else.
    Other,
}

impl PaymentMethod {
    /// Every method.
    pub const ALL: [PaymentMethod; 5] = [
        PaymentMethod::Cash,
        PaymentMethod::Check,
        PaymentMethod::Card,
        PaymentMethod::Ach,
        PaymentMethod::Other,
    ];

    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Check => "check",
            PaymentMethod::Card => "card",
            PaymentMethod::Ach => "ach",
            PaymentMethod::Other => "other",
        }
    }

    /// Reads a name written by [`PaymentMethod::name`].
    pub fn parse(name: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Whether a payment counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// In the journal.
    Posted,
    /// Reversed.
    Voided,
}

impl PaymentStatus {
    /// The status's name.
    pub fn name(self) -> &'static str {
        match self {
            PaymentStatus::Posted => "posted",
            PaymentStatus::Voided => "voided",
        }
    }

    /// Reads a name written by [`PaymentStatus::name`].
    pub fn parse(name: &str) -> Option<PaymentStatus> {
        match name {
            "posted" => Some(PaymentStatus::Posted),
            "voided" => Some(PaymentStatus::Voided),
            _ => None,
        }
    }
}

/// A payment and its projections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The id.
    pub id: PaymentId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Signed amount; negative pays money back and applies only to negative balances.
    pub amount: Money,
    /// What is not yet applied (same sign as `amount`, or zero).
    pub unapplied: Money,
    /// What was paid back by refunds.
    pub refunded: Money,
    /// How it was paid.
    pub method: PaymentMethod,
    /// Check number, transaction reference, ...
    pub reference: Option<String>,
    /// Status.
    pub status: PaymentStatus,
    /// Accounting date.
    pub effective_date: NaiveDate,
}

impl Payment {
    /// `amount − unapplied − refunded`; zero for a voided payment (only an untouched payment
    /// can be voided).
    pub fn applied(&self) -> Money {
        if self.status == PaymentStatus::Voided {
            return Money::zero(self.amount.currency());
        }
        Money::new(
            self.amount.minor() - self.unapplied.minor() - self.refunded.minor(),
            self.amount.currency(),
        )
    }
}

/// A request to record a payment.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    /// New payment id.
    pub id: PaymentId,
    /// New journal transaction id.
    pub txn_id: TxnId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Signed amount, not zero.
    pub amount: Money,
    /// How it was paid.
    pub method: PaymentMethod,
    /// Check number, transaction reference, ...
    pub reference: Option<String>,
    /// Accounting date.
    pub effective_date: NaiveDate,
    /// History text (default: method and reference).
    pub description: Option<String>,
}

/// Records a payment: debits cash and credits unapplied payments for its amount (the other way
/// round for a negative payment). Refuses a zero amount.
pub fn record_payment(request: PaymentRequest) -> Result<(Payment, JournalTxn), Rejection> {
    let PaymentRequest {
        id,
        txn_id,
        customer_id,
        amount,
        method,
        reference,
        effective_date,
        description,
    } = request;
    if amount.is_zero() {
        return Err(Rejection::refused(Input::Amount, Flaw::Zero));
    }
    let mut postings = Vec::with_capacity(2);
    let credit =
        amount.checked_neg().map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
    push_signed(&mut postings, Account::Cash, amount, |_| {});
    push_signed(&mut postings, Account::UnappliedPayments, credit, |p| {
        p.payment_id = Some(id.clone())
    });
    let description = description.unwrap_or_else(|| match &reference {
        Some(reference) => format!("Payment ({}, {reference})", method.name()),
        None => format!("Payment ({})", method.name()),
    });
    let txn = JournalTxn::new(
        txn_id,
        customer_id.clone(),
        TxnKind::PaymentReceived,
        effective_date,
        description,
        Some(id.to_string()),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
    let payment = Payment {
        id,
        customer_id,
        amount,
        unapplied: amount,
        refunded: Money::zero(amount.currency()),
        method,
        reference,
        status: PaymentStatus::Posted,
        effective_date,
    };
    Ok((payment, txn))
}
