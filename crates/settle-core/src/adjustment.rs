//! Operations inside one receivable document: invoice item adjustments, netting items, and
//! moving a negative balance to the customer's credit balance.

use std::fmt;

use chrono::NaiveDate;

use crate::document::{Document, ItemKind};
use crate::error::{Flaw, Input, Operation, Rejection};
use crate::ids::{ItemId, TxnId};
use crate::ledger::{Account, JournalTxn, Posting, TxnKind, push_signed};
use crate::money::Money;

/// What an adjustment does to its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdjustmentType {
    /// Lowers a positive item's balance (the customer owes less).
    Credit,
    /// Raises a negative item's balance toward zero (the customer is owed less).
    Charge,
}

impl AdjustmentType {
    /// `credit` or `charge`.
    pub fn name(self) -> &'static str {
        match self {
            AdjustmentType::Credit => "credit",
            AdjustmentType::Charge => "charge",
        }
    }

    /// Reads a name written by [`AdjustmentType::name`].
    pub fn parse(name: &str) -> Option<AdjustmentType> {
        match name {
            "credit" => Some(AdjustmentType::Credit),
            "charge" => Some(AdjustmentType::Charge),
            _ => None,
        }
    }
}

impl fmt::Display for AdjustmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stored invoice item adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// The id.
    pub id: crate::ids::AdjustmentId,
    /// The customer.
    pub customer_id: crate::ids::CustomerId,
    /// The document.
    pub document_id: crate::ids::DocumentId,
    /// The item.
    pub item_id: ItemId,
    /// Credit or charge.
    pub kind: AdjustmentType,
    /// Positive amount.
    pub amount: Money,
    /// Why.
    pub reason: String,
    /// Accounting date.
    pub effective_date: NaiveDate,
}

/// A request to adjust one item.
#[derive(Debug, Clone)]
pub struct AdjustRequest<'a> {
    /// New journal transaction id.
    pub txn_id: TxnId,
    /// The adjustment's id, as the transaction's subject.
    pub adjustment_id: String,
    /// The posted receivable document.
    pub document: &'a Document,
    /// The item.
    pub item_id: &'a ItemId,
    /// Credit or charge.
    pub kind: AdjustmentType,
    /// Positive amount.
    pub amount: Money,
    /// What is already credited on the item (credit memo items and adjustments, in size).
    pub credited: Money,
    /// Why.
    pub reason: String,
    /// Accounting date.
    pub effective_date: NaiveDate,
}

/// The account on the other side of an item's postings: revenue adjustments for charges, tax
/// payable for tax items.
fn contra(kind: ItemKind) -> Account {
    match kind {
        ItemKind::Charge => Account::RevenueAdjustments,
        ItemKind::Tax => Account::TaxPayable,
    }
}

/// Adjusts one item toward zero. Checks, in order: the document is posted; the item is one of
/// its items; the amount is above zero; a credit needs a positive item and a charge a negative
/// one, and the amount must not pass zero (`over_application`); with what is already credited,
/// the item's amount must not be exceeded in size (`over_credit`).
// tidy: long-function: The body is the list of checks above, in that order, which decides
// which rejection a request gets.
pub fn adjust_item(request: AdjustRequest<'_>) -> Result<JournalTxn, Rejection> {
    let AdjustRequest {
        txn_id,
        adjustment_id,
        document,
        item_id,
        kind,
        amount,
        credited,
        reason,
        effective_date,
    } = request;
    if !document.kind.is_receivable() {
        return Err(Rejection::refused(Input::Document, Flaw::NotReceivable(Operation::Adjust)));
    }
    document.ensure_posted()?;
    let item = document.item(item_id).ok_or_else(|| {
        Rejection::refused(
            Input::Item,
            Flaw::NotAnItemOf {
                item_id: item_id.to_string(),
                document_id: document.id.to_string(),
            },
        )
    })?;
    if !amount.is_positive() {
        return Err(Rejection::refused(Input::Amount, Flaw::NotPositive));
    }
    let balance = item.balance.minor();
    let fits = match kind {
        AdjustmentType::Credit => balance > 0 && amount.minor() <= balance,
        AdjustmentType::Charge => balance < 0 && amount.minor() <= balance.saturating_neg(),
    };
    if !fits {
        return Err(Rejection::OverApplication {
            id: item.id.to_string(),
            balance: item.balance,
            attempted: amount,
        });
    }
    let creditable = item.amount.minor().saturating_abs() - credited.minor();
    if amount.minor() > creditable {
        return Err(Rejection::OverCredit {
            item_id: item.id.to_string(),
            creditable: Money::new(creditable, document.currency),
            attempted: amount,
        });
    }
    // A credit lowers receivable; a charge raises it (toward zero from below).
    let receivable_debit = match kind {
        AdjustmentType::Credit => Money::new(-amount.minor(), document.currency),
        AdjustmentType::Charge => amount,
    };
    let mut postings = Vec::with_capacity(2);
    push_signed(&mut postings, Account::Receivable, receivable_debit, |p| {
        p.document_id = Some(document.id.clone());
        p.item_id = Some(item.id.clone());
    });
    push_signed(
        &mut postings,
        contra(item.kind),
        Money::new(-receivable_debit.minor(), document.currency),
        |p| {
            p.document_id = Some(document.id.clone());
        },
    );
    JournalTxn::new(
        txn_id,
        document.customer_id.clone(),
        TxnKind::Adjustment,
        effective_date,
        format!(
            "{} adjustment of {} on {}: {reason}",
            kind.name(),
            item.description,
            document.number
        ),
        Some(adjustment_id),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))
}

/// Per-item receivable deltas that offset negative balances against positive ones: negative
/// items rise toward zero and positive items fall, in document order, by the smaller of the two
/// totals. No value enters or leaves the document.
fn netting(document: &Document) -> Vec<i64> {
    let negative: i64 =
        document.items.iter().map(|i| i.balance.minor()).filter(|b| *b < 0).map(|b| -b).sum();
    let positive: i64 = document.items.iter().map(|i| i.balance.minor()).filter(|b| *b > 0).sum();
    let (mut raise, mut lower) = (negative.min(positive), negative.min(positive));
    document
        .items
        .iter()
        .map(|item| {
            let b = item.balance.minor();
            if b < 0 {
                let part = raise.min(-b);
                raise -= part;
                part
            } else {
                let part = lower.min(b);
                lower -= part;
                -part
            }
        })
        .collect()
}

fn receivable_postings(document: &Document, deltas: &[i64]) -> Vec<Posting> {
    let mut postings = Vec::with_capacity(deltas.len() + 1);
    for (item, delta) in document.items.iter().zip(deltas) {
        push_signed(
            &mut postings,
            Account::Receivable,
            Money::new(*delta, document.currency),
            |p| {
                p.document_id = Some(document.id.clone());
                p.item_id = Some(item.id.clone());
            },
        );
    }
    postings
}

/// Offsets negative item balances against positive ones inside a posted document (seed 003 in
/// one call); the document's balance does not change. Refuses a document with nothing to net.
pub fn net_items(
    document: &Document,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<JournalTxn, Rejection> {
    if !document.kind.is_receivable() {
        return Err(Rejection::refused(Input::Document, Flaw::NotReceivable(Operation::Net)));
    }
    document.ensure_posted()?;
    let deltas = netting(document);
    if deltas.iter().all(|d| *d == 0) {
        return Err(Rejection::refused(Input::Document, Flaw::NothingToNet));
    }
    JournalTxn::new(
        txn_id,
        document.customer_id.clone(),
        TxnKind::ItemsNetted,
        effective_date,
        format!("Netted items of {}", document.number),
        Some(document.id.to_string()),
        receivable_postings(document, &deltas),
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))
}

/// Moves a negative balance (all of it, or `amount` of it) to the customer's credit balance.
/// Items are netted first, so after a full transfer every item is at zero. Checks: the document
/// is posted; its balance is negative (`not_negative`); the amount is above zero and not more
/// than the negative balance (`over_application`).
pub fn transfer_to_credit(
    document: &Document,
    amount: Option<Money>,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<JournalTxn, Rejection> {
    if !document.kind.is_receivable() {
        return Err(Rejection::refused(Input::Document, Flaw::NotReceivable(Operation::Transfer)));
    }
    document.ensure_posted()?;
    let balance = document.balance();
    if !balance.is_negative() {
        return Err(Rejection::NotNegative { id: document.id.to_string(), balance });
    }
    let owed = balance.minor().saturating_neg();
    let amount = amount.unwrap_or(Money::new(owed, document.currency));
    if !amount.is_positive() {
        return Err(Rejection::refused(Input::Amount, Flaw::NotPositive));
    }
    if amount.minor() > owed {
        return Err(Rejection::OverApplication {
            id: document.id.to_string(),
            balance,
            attempted: amount,
        });
    }
    let mut deltas = netting(document);
    let mut left = amount.minor();
    for (item, delta) in document.items.iter().zip(deltas.iter_mut()) {
        let after_netting = item.balance.minor() + *delta;
        if after_netting < 0 && left > 0 {
            let part = left.min(-after_netting);
            *delta += part;
            left -= part;
        }
    }
    let mut postings = receivable_postings(document, &deltas);
    push_signed(
        &mut postings,
        Account::CreditBalance,
        Money::new(-amount.minor(), document.currency),
        |p| {
            p.document_id = Some(document.id.clone());
        },
    );
    JournalTxn::new(
        txn_id,
        document.customer_id.clone(),
        TxnKind::TransferredToCredit,
        effective_date,
        format!("Transferred {amount} of {} to credit balance", document.number),
        Some(document.id.to_string()),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))
}
