//! Customers and their balances. Every balance is a projection of the journal, kept in the
//! customer record and changed only by [`crate::fold::customer`].

use chrono::{DateTime, NaiveDate, Utc};

use crate::ids::{CustomerId, TxnId};
use crate::money::{Currency, Money};

/// A customer with its balance projections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// The id.
    pub id: CustomerId,
    /// Name.
    pub name: String,
    /// Email, if known.
    pub email: Option<String>,
    /// The one currency of all its documents.
    pub currency: Currency,
    /// Days from invoice date to due date.
    pub payment_terms_days: u32,
    /// Free-form key/value metadata, as a JSON object text.
    pub metadata: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Its balances.
    pub balances: Balances,
}

/// The balance components of a customer, in its currency's minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balances {
    /// Sum of open receivable document balances.
    pub receivable: i64,
    /// Sum of payments' unapplied amounts.
    pub unapplied_payments: i64,
    /// Sum of posted credit memo balances.
    pub credit_memo_balance: i64,
    /// The credit balance pool.
    pub credit_balance: i64,
}

impl Balances {
    /// Unapplied payments + credit memo balance + credit balance.
    pub fn available_credit(&self) -> i64 {
        self.unapplied_payments + self.credit_memo_balance + self.credit_balance
    }

    /// `available credit − receivable`: negative means the customer owes.
    pub fn balance(&self) -> i64 {
        self.available_credit() - self.receivable
    }
}

impl Customer {
    /// The balance as money.
    pub fn balance(&self) -> Money {
        Money::new(self.balances.balance(), self.currency)
    }
}

/// One line of a customer's billing history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    /// The journal transaction it comes from.
    pub id: TxnId,
    /// Its accounting date.
    pub effective_date: NaiveDate,
    /// `invoice`, `payment`, `credit_memo`, ...
    pub kind: String,
    /// What it was.
    pub description: String,
    /// Signed like the balance: charges negative, credits positive.
    pub amount: Money,
    /// The customer's balance right after it.
    pub balance_after: Money,
    /// The document or payment it concerns.
    pub document_id: Option<String>,
}
