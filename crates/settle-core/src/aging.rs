//! Aging of open receivable documents by days past due, and customer balances as they stood on
//! a date. Both are folds of journal sums the store computes for postings of transactions
//! effective on or before the date, so a report for a past date is what the ledger said at the
//! end of that day (later back-dated transactions included, as the journal dates them).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::customer::Balances;
use crate::ids::{CustomerId, DocumentId};
use crate::ledger::Account;
use crate::money::Currency;

/// An aging bucket: how far past its due date a balance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// Not yet past due (due today or later).
    Current,
    /// 1 to 30 days past due.
    Days1To30,
    /// 31 to 60 days past due.
    Days31To60,
    /// 61 to 90 days past due.
    Days61To90,
    /// More than 90 days past due.
    DaysOver90,
}

impl Bucket {
    /// The bucket of a balance `days_past_due` days past due (zero or less is current).
    pub fn of_days(days_past_due: i64) -> Bucket {
        match days_past_due {
            i64::MIN..=0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            _ => Bucket::DaysOver90,
        }
    }

    /// The bucket of a document due on `due_date`, seen at the end of `as_of`.
    pub fn at(as_of: NaiveDate, due_date: NaiveDate) -> Bucket {
        Bucket::of_days(as_of.signed_duration_since(due_date).num_days())
    }
}

/// Amounts per bucket, in minor units of one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Buckets {
    /// Not yet past due.
    pub current: i64,
    /// 1 to 30 days past due.
    pub days_1_30: i64,
    /// 31 to 60 days past due.
    pub days_31_60: i64,
    /// 61 to 90 days past due.
    pub days_61_90: i64,
    /// More than 90 days past due.
    pub days_over_90: i64,
}

impl Buckets {
    /// Adds `amount` (negative balances too) to `bucket`.
    pub fn add(&mut self, bucket: Bucket, amount: i64) {
        let slot = match bucket {
            Bucket::Current => &mut self.current,
            Bucket::Days1To30 => &mut self.days_1_30,
            Bucket::Days31To60 => &mut self.days_31_60,
            Bucket::Days61To90 => &mut self.days_61_90,
            Bucket::DaysOver90 => &mut self.days_over_90,
        };
        *slot = slot.saturating_add(amount);
    }

    /// Adds every bucket of `other`.
    pub fn add_all(&mut self, other: &Buckets) {
        self.add(Bucket::Current, other.current);
        self.add(Bucket::Days1To30, other.days_1_30);
        self.add(Bucket::Days31To60, other.days_31_60);
        self.add(Bucket::Days61To90, other.days_61_90);
        self.add(Bucket::DaysOver90, other.days_over_90);
    }

    /// The sum of the buckets.
    pub fn total(&self) -> i64 {
        [self.current, self.days_1_30, self.days_31_60, self.days_61_90, self.days_over_90]
            .into_iter()
            .fold(0_i64, i64::saturating_add)
    }
}

/// A receivable document's balance as it stood on a date, as the store reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDocument {
    /// Its customer.
    pub customer_id: CustomerId,
    /// The customer's name.
    pub customer_name: String,
    /// The invoice or debit memo.
    pub document_id: DocumentId,
    /// Its due date.
    pub due_date: NaiveDate,
    /// Its receivable balance (sum of its receivable postings), minor units; may be negative.
    pub balance: i64,
}

/// One customer's line of the aging report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAging {
    /// The customer.
    pub customer_id: CustomerId,
    /// Its name.
    pub name: String,
    /// Its open balances per bucket.
    pub buckets: Buckets,
}

/// Open receivable balances of one currency by days past due, as they stood at the end of
/// `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingReport {
    /// The date the balances are aged at.
    pub as_of: NaiveDate,
    /// The currency of every amount.
    pub currency: Currency,
    /// Customers with at least one open document, by name then id.
    pub customers: Vec<CustomerAging>,
    /// The sum of the customers' buckets.
    pub totals: Buckets,
}

/// Ages `documents` at `as_of`: each non-zero balance goes, with its sign, into the bucket of
/// its days past due, per customer. Each customer's buckets sum to its total, and the totals
/// to the sum of all balances.
pub fn age(as_of: NaiveDate, currency: Currency, documents: &[OpenDocument]) -> AgingReport {
    let mut per_customer: BTreeMap<(&str, &CustomerId), Buckets> = BTreeMap::new();
    let mut totals = Buckets::default();
    for document in documents.iter().filter(|d| d.balance != 0) {
        let bucket = Bucket::at(as_of, document.due_date);
        per_customer
            .entry((document.customer_name.as_str(), &document.customer_id))
            .or_default()
            .add(bucket, document.balance);
        totals.add(bucket, document.balance);
    }
    let customers = per_customer
        .into_iter()
        .map(|((name, customer_id), buckets)| CustomerAging {
            customer_id: customer_id.clone(),
            name: name.to_owned(),
            buckets,
        })
        .collect();
    AgingReport { as_of, currency, customers, totals }
}

/// A customer's balance components from its per-account debit and credit sums, folded as
/// [`crate::ledger::JournalTxn::effects`] folds postings: receivable is debit-normal; unapplied
/// payments, credit memos and the credit balance are credit-normal; other accounts do not
/// touch the customer's balances.
pub fn balances_from_totals(totals: impl IntoIterator<Item = (Account, i64, i64)>) -> Balances {
    let mut balances = Balances::default();
    for (account, debit, credit) in totals {
        let signed_debit = debit.saturating_sub(credit);
        let slot = match account {
            Account::Receivable => {
                balances.receivable = balances.receivable.saturating_add(signed_debit);
                continue;
            }
            Account::UnappliedPayments => &mut balances.unapplied_payments,
            Account::CreditMemos => &mut balances.credit_memo_balance,
            Account::CreditBalance => &mut balances.credit_balance,
            Account::Cash
            | Account::Revenue
            | Account::RevenueAdjustments
            | Account::TaxPayable
            | Account::BadDebt => continue,
        };
        *slot = slot.saturating_sub(signed_debit);
    }
    balances
}
