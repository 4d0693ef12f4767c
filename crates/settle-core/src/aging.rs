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

/// Amounts per bucket, in minor units of one currency. Sums over many customers can pass what an
/// `i64` holds, so every bucket is an `i128`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Buckets {
    /// Not yet past due.
    pub current: i128,
    /// 1 to 30 days past due.
    pub days_1_30: i128,
    /// 31 to 60 days past due.
    pub days_31_60: i128,
    /// 61 to 90 days past due.
    pub days_61_90: i128,
    /// More than 90 days past due.
    pub days_over_90: i128,
}

impl Buckets {
    /// Adds `amount` (negative balances too) to `bucket`.
    pub fn add(&mut self, bucket: Bucket, amount: i128) {
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
    pub fn total(&self) -> i128 {
        [self.current, self.days_1_30, self.days_31_60, self.days_61_90, self.days_over_90]
            .into_iter()
            .fold(0_i128, i128::saturating_add)
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
    pub balance: i128,
}

/// A customer's available credit as it stood on a date, as the store reads it: the credits
/// minus the debits of its unapplied payments, credit memos and credit balance postings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerCredit {
    /// The customer.
    pub customer_id: CustomerId,
    /// Its name.
    pub customer_name: String,
    /// Unapplied payments + credit memo balances + credit balance, minor units.
    pub available_credit: i128,
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
    /// Its available credit at the date.
    pub available_credit: i128,
}

impl CustomerAging {
    /// What is open minus the credit available: minus the customer's balance at the date.
    pub fn net(&self) -> i128 {
        self.buckets.total().saturating_sub(self.available_credit)
    }
}

/// Open receivable balances and available credit of one currency, by days past due, as they
/// stood at the end of `as_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingReport {
    /// The date the balances are aged at.
    pub as_of: NaiveDate,
    /// The currency of every amount.
    pub currency: Currency,
    /// Customers with an open document or available credit, by name then id.
    pub customers: Vec<CustomerAging>,
    /// The sum of the customers' buckets.
    pub totals: Buckets,
    /// The sum of the customers' available credit.
    pub available_credit: i128,
}

impl AgingReport {
    /// Everything open minus all available credit: the sum of the customers' `net`.
    pub fn net(&self) -> i128 {
        self.totals.total().saturating_sub(self.available_credit)
    }
}

/// Ages `documents` at `as_of`: each non-zero balance goes, with its sign, into the bucket of
/// its days past due, per customer; each customer's non-zero available credit (`credits`) sits
/// beside its buckets, so a customer with credit and nothing open has a line too. Each
/// customer's buckets sum to its total, and the totals to the sum of all balances; a customer's
/// `net` (total − available credit) is minus its balance at that date when `documents` and
/// `credits` are its whole receivable and credit accounts.
pub fn age(
    as_of: NaiveDate,
    currency: Currency,
    documents: &[OpenDocument],
    credits: &[CustomerCredit],
) -> AgingReport {
    let mut per_customer: BTreeMap<(&str, &CustomerId), (Buckets, i128)> = BTreeMap::new();
    let mut totals = Buckets::default();
    let mut available_credit = 0_i128;
    for document in documents.iter().filter(|d| d.balance != 0) {
        let bucket = Bucket::at(as_of, document.due_date);
        per_customer
            .entry((document.customer_name.as_str(), &document.customer_id))
            .or_default()
            .0
            .add(bucket, document.balance);
        totals.add(bucket, document.balance);
    }
    for credit in credits.iter().filter(|c| c.available_credit != 0) {
        let slot = &mut per_customer
            .entry((credit.customer_name.as_str(), &credit.customer_id))
            .or_default()
            .1;
        *slot = slot.saturating_add(credit.available_credit);
        available_credit = available_credit.saturating_add(credit.available_credit);
    }
    let customers = per_customer
        .into_iter()
        .map(|((name, customer_id), (buckets, available_credit))| CustomerAging {
            customer_id: customer_id.clone(),
            name: name.to_owned(),
            buckets,
            available_credit,
        })
        .collect();
    AgingReport { as_of, currency, customers, totals, available_credit }
}

/// A customer's balance components from its per-account debit and credit sums, folded as
/// [`crate::ledger::JournalTxn::effects`] folds postings: receivable is debit-normal; unapplied
/// payments, credit memos and the credit balance are credit-normal; other accounts do not
/// touch the customer's balances. The sums may pass what an `i64` holds; `None` when a
/// resulting balance does not fit one (which a store that bounds every balance never holds).
pub fn balances_from_totals(
    totals: impl IntoIterator<Item = (Account, i128, i128)>,
) -> Option<Balances> {
    let mut receivable = 0_i128;
    let mut unapplied_payments = 0_i128;
    let mut credit_memo_balance = 0_i128;
    let mut credit_balance = 0_i128;
    for (account, debit, credit) in totals {
        let signed_debit = debit.checked_sub(credit)?;
        let (slot, sign) = match account {
            Account::Receivable => (&mut receivable, 1),
            Account::UnappliedPayments => (&mut unapplied_payments, -1),
            Account::CreditMemos => (&mut credit_memo_balance, -1),
            Account::CreditBalance => (&mut credit_balance, -1),
            Account::Cash
            | Account::Revenue
            | Account::RevenueAdjustments
            | Account::TaxPayable
            | Account::BadDebt => continue,
        };
        *slot = slot.checked_add(signed_debit.checked_mul(sign)?)?;
    }
    Some(Balances {
        receivable: i64::try_from(receivable).ok()?,
        unapplied_payments: i64::try_from(unapplied_payments).ok()?,
        credit_memo_balance: i64::try_from(credit_memo_balance).ok()?,
        credit_balance: i64::try_from(credit_balance).ok()?,
    })
}
