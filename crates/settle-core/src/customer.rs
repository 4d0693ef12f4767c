//! Customers and their balances. Every balance is a projection of the journal, kept in the
//! customer record and changed only by [`Customer::apply`].

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::Rejection;
use crate::ids::{CustomerId, TxnId};
use crate::ledger::{BalanceDelta, JournalTxn};
use crate::money::{Currency, MAX_MINOR, Money};

/// True when `minor` is within [`MAX_MINOR`] in size.
fn within(minor: i64) -> bool {
    minor.unsigned_abs() <= MAX_MINOR.unsigned_abs()
}

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

    /// The balances after `delta`, or `None` when a component, the available credit or the
    /// balance would pass [`MAX_MINOR`] in size (each is stored).
    pub fn checked_add(&self, delta: BalanceDelta) -> Option<Balances> {
        let add = |value: i64, delta: i64| value.checked_add(delta).filter(|v| within(*v));
        let next = Balances {
            receivable: add(self.receivable, delta.receivable)?,
            unapplied_payments: add(self.unapplied_payments, delta.unapplied_payments)?,
            credit_memo_balance: add(self.credit_memo_balance, delta.credit_memo_balance)?,
            credit_balance: add(self.credit_balance, delta.credit_balance)?,
        };
        // Components within the bound cannot overflow these sums.
        (within(next.available_credit()) && within(next.balance())).then_some(next)
    }

    /// Adds a delta (for replays of a journal whose every total was checked when written).
    pub fn add(&mut self, delta: BalanceDelta) {
        self.receivable += delta.receivable;
        self.unapplied_payments += delta.unapplied_payments;
        self.credit_memo_balance += delta.credit_memo_balance;
        self.credit_balance += delta.credit_balance;
    }
}

impl Customer {
    /// The balance as money.
    pub fn balance(&self) -> Money {
        Money::new(self.balances.balance(), self.currency)
    }

    /// Applies a transaction's effects and returns the billing-history line it makes, if it
    /// changes the customer's balance (applications and nettings do not). Refuses a change that
    /// would take any stored balance past [`MAX_MINOR`] in size, leaving the customer as it was.
    pub fn apply(
        &mut self,
        txn: &JournalTxn,
        delta: BalanceDelta,
    ) -> Result<Option<HistoryLine>, Rejection> {
        self.balances = self
            .balances
            .checked_add(delta)
            .ok_or_else(|| Rejection::total_out_of_range("the customer's balance"))?;
        let amount = delta.balance();
        Ok((amount != 0).then(|| HistoryLine {
            id: txn.id().clone(),
            effective_date: txn.effective_date(),
            kind: txn.kind().name().to_owned(),
            description: txn.description().to_owned(),
            amount: Money::new(amount, self.currency),
            balance_after: self.balance(),
            document_id: txn.subject_id().map(str::to_owned),
        }))
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
