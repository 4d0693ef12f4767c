//! The one fold of a journal transaction's [`Effects`] into the projections it changes: item
//! balances of a document, a payment's unapplied and refunded amounts, what is still applied on
//! each item of an application, and a customer's balances.
//!
//! The engine's write path folds each transaction into the objects it loaded before the journal
//! is appended; `verify` folds the stored journal into a [`Replay`] from zero. Both go through
//! the same checked arithmetic: every result stays within [`MAX_MINOR`] in size, and a result
//! past it is [`Rejection::TotalOutOfRange`] naming the total.

use std::collections::BTreeMap;

use crate::application::Application;
use crate::customer::{Balances, Customer, HistoryLine};
use crate::document::Document;
use crate::error::Rejection;
use crate::ids::{ApplicationId, CustomerId, ItemId, PaymentId};
use crate::ledger::{BalanceDelta, Effects, JournalTxn};
use crate::money::{MAX_MINOR, Money};
use crate::payment::Payment;

/// `total + delta`, or `None` past [`MAX_MINOR`] in size.
fn add(total: i64, delta: i64) -> Option<i64> {
    total.checked_add(delta).filter(|sum| sum.unsigned_abs() <= MAX_MINOR.unsigned_abs())
}

/// `amount + delta` minor units, or `None` past [`MAX_MINOR`] in size.
fn add_money(amount: Money, delta: i64) -> Option<Money> {
    amount.checked_add_minor(delta).ok()
}

/// Adds the item deltas of `effects` to the balances of `document`'s items and to its group
/// balance; deltas of other documents' items are ignored. Refuses a result past [`MAX_MINOR`]
/// in size, leaving the document as it was.
pub fn document(document: &mut Document, effects: &Effects) -> Result<(), Rejection> {
    let out_of_range = || Rejection::total_out_of_range(format!("the balance of {}", document.id));
    let mut balances = Vec::with_capacity(effects.items.len());
    let mut moved: i64 = 0;
    for (idx, item) in document.items.iter().enumerate() {
        if let Some(delta) = effects.items.get(&item.id) {
            balances.push((idx, add_money(item.balance, *delta).ok_or_else(out_of_range)?));
            moved = moved.checked_add(*delta).ok_or_else(out_of_range)?;
        }
    }
    // Checked in full before anything changes, so a refusal leaves the document as it was.
    let group_balance = add_money(document.group_balance, moved).ok_or_else(out_of_range)?;
    for (idx, balance) in balances {
        document.items[idx].balance = balance;
    }
    document.group_balance = group_balance;
    Ok(())
}

/// Adds the deltas of `effects` to `payment`'s unapplied and refunded amounts. Refuses a result
/// past [`MAX_MINOR`] in size, leaving the payment as it was.
pub fn payment(payment: &mut Payment, effects: &Effects) -> Result<(), Rejection> {
    let out_of_range =
        || Rejection::total_out_of_range(format!("the unapplied amount of {}", payment.id));
    let moved = |deltas: &BTreeMap<PaymentId, i64>, amount: Money| match deltas.get(&payment.id) {
        Some(delta) => add_money(amount, *delta).ok_or_else(out_of_range),
        None => Ok(amount),
    };
    let unapplied = moved(&effects.payments_unapplied, payment.unapplied)?;
    let refunded = moved(&effects.payments_refunded, payment.refunded)?;
    payment.unapplied = unapplied;
    payment.refunded = refunded;
    Ok(())
}

/// Adds the deltas of `effects` to what is still applied on each item of `application`.
/// Refuses a result past [`MAX_MINOR`] in size, leaving the application as it was.
pub fn application(application: &mut Application, effects: &Effects) -> Result<(), Rejection> {
    let out_of_range = || Rejection::total_out_of_range(format!("application {}", application.id));
    let mut nets = Vec::with_capacity(application.items.len());
    for (idx, item) in application.items.iter().enumerate() {
        let key = (application.id.clone(), item.item_id.clone());
        if let Some(delta) = effects.applications.get(&key) {
            nets.push((idx, add_money(item.net, *delta).ok_or_else(out_of_range)?));
        }
    }
    for (idx, net) in nets {
        application.items[idx].net = net;
    }
    Ok(())
}

/// `balances + delta`. Refuses a component, the available credit or the balance past
/// [`MAX_MINOR`] in size (each is stored), leaving the balances as they were.
pub fn balances(balances: &mut Balances, delta: BalanceDelta) -> Result<(), Rejection> {
    let out_of_range = || Rejection::total_out_of_range("the customer's balance");
    let next = Balances {
        receivable: add(balances.receivable, delta.receivable).ok_or_else(out_of_range)?,
        unapplied_payments: add(balances.unapplied_payments, delta.unapplied_payments)
            .ok_or_else(out_of_range)?,
        credit_memo_balance: add(balances.credit_memo_balance, delta.credit_memo_balance)
            .ok_or_else(out_of_range)?,
        credit_balance: add(balances.credit_balance, delta.credit_balance)
            .ok_or_else(out_of_range)?,
    };
    // Components within the bound cannot overflow these sums.
    add(0, next.available_credit()).ok_or_else(out_of_range)?;
    add(0, next.balance()).ok_or_else(out_of_range)?;
    *balances = next;
    Ok(())
}

/// Folds `txn`'s effects into `customer`'s balances and returns the billing-history line it
/// makes, if it changes the customer's balance (applications and nettings do not). Refuses a
/// change that would take any stored balance past [`MAX_MINOR`] in size, leaving the customer
/// as it was.
pub fn customer(
    customer: &mut Customer,
    txn: &JournalTxn,
    effects: &Effects,
) -> Result<Option<HistoryLine>, Rejection> {
    balances(&mut customer.balances, effects.customer)?;
    let amount = effects.customer.balance();
    Ok((amount != 0).then(|| HistoryLine {
        id: txn.id().clone(),
        effective_date: txn.effective_date(),
        kind: txn.kind().name().to_owned(),
        description: txn.description().to_owned(),
        amount: Money::new(amount, customer.currency),
        balance_after: customer.balance(),
        document_id: txn.subject_id().map(str::to_owned),
    }))
}

/// Projections rebuilt from journal transactions alone, every total starting at zero: what
/// `verify` compares with the stored ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// Item balances.
    pub items: BTreeMap<ItemId, i64>,
    /// Unapplied amounts per payment.
    pub payments_unapplied: BTreeMap<PaymentId, i64>,
    /// Refunded amounts per payment.
    pub payments_refunded: BTreeMap<PaymentId, i64>,
    /// What is still applied per application and item.
    pub applications: BTreeMap<(ApplicationId, ItemId), i64>,
    /// Customer balances.
    pub customers: BTreeMap<CustomerId, Balances>,
}

impl Replay {
    /// Folds `effects` of a transaction of `customer_id` and returns the customer's balances
    /// after it. Refuses a total past [`MAX_MINOR`] in size, as the write path does; totals
    /// folded before the refusal stay folded.
    pub fn fold(
        &mut self,
        customer_id: &CustomerId,
        effects: &Effects,
    ) -> Result<Balances, Rejection> {
        fold_totals(&mut self.items, &effects.items, |item| format!("the balance of {item}"))?;
        fold_totals(&mut self.payments_unapplied, &effects.payments_unapplied, |payment| {
            format!("the unapplied amount of {payment}")
        })?;
        fold_totals(&mut self.payments_refunded, &effects.payments_refunded, |payment| {
            format!("the unapplied amount of {payment}")
        })?;
        fold_totals(&mut self.applications, &effects.applications, |(application, _)| {
            format!("application {application}")
        })?;
        let customer = self.customers.entry(customer_id.clone()).or_default();
        balances(customer, effects.customer)?;
        Ok(*customer)
    }
}

/// Adds each delta to its total (zero when absent), refusing a total past [`MAX_MINOR`].
fn fold_totals<K: Ord + Clone>(
    totals: &mut BTreeMap<K, i64>,
    deltas: &BTreeMap<K, i64>,
    name: impl Fn(&K) -> String,
) -> Result<(), Rejection> {
    for (key, delta) in deltas {
        let total = totals.entry(key.clone()).or_default();
        *total = add(*total, *delta).ok_or_else(|| Rejection::total_out_of_range(name(key)))?;
    }
    Ok(())
}
