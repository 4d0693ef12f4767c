//! Simple entries (a charge or a credit on a customer's page): a charge is a one-line posted
//! invoice; a credit is a payment when a payment method is given, otherwise a posted credit memo.

use chrono::NaiveDate;
use settle_core::customer::HistoryLine;
use settle_core::document::{Document, DocumentKind};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, TenantId};
use settle_core::payment::{Payment, PaymentMethod};

use super::Amount;
use super::check_text;
use super::documents::{NewDocument, NewItem};
use super::payments::NewPayment;
use crate::unit::Unit;
use crate::{Engine, EngineResult};

/// Charge or credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Raises what the customer owes.
    Charge,
    /// Lowers it.
    Credit,
}

/// A request for an entry.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Charge or credit.
    pub kind: EntryKind,
    /// Positive decimal text.
    pub amount: Amount,
    /// What it is for.
    pub description: String,
    /// For a credit: how it was paid (makes it a payment).
    pub payment_method: Option<PaymentMethod>,
    /// Free text kept as the payment's reference or the memo's reason.
    pub notes: Option<String>,
    /// Accounting date (default today).
    pub effective_date: Option<NaiveDate>,
}

/// What an entry made.
#[derive(Debug, Clone)]
pub enum EntryOutcome {
    /// A posted invoice or credit memo.
    Document(Document),
    /// A payment.
    Payment(Payment),
}

impl Engine {
    /// Adds a charge or credit entry; returns its history line and what it made.
    pub fn add_entry(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        new: NewEntry,
    ) -> EngineResult<(HistoryLine, EntryOutcome)> {
        check_text("description", &new.description, true)?;
        if let Some(notes) = &new.notes {
            check_text("notes", notes, false)?;
        }
        self.write(tenant_id, customer_id, |unit| {
            let amount = super::parse_amount("amount", &new.amount, unit.customer.currency)?;
            if !amount.is_positive() {
                return Err(Rejection::invalid("amount", "must be above zero").into());
            }
            if new.kind == EntryKind::Charge && new.payment_method.is_some() {
                return Err(Rejection::invalid(
                    "payment_method",
                    "only a credit takes a payment method",
                )
                .into());
            }
            let before = unit.customer.balances.balance();
            let outcome = make_entry(unit, new)?;
            let line = unit.last_history.clone();
            match &outcome {
                EntryOutcome::Document(d) if d.kind == DocumentKind::Invoice => {
                    let mut document = d.clone();
                    unit.after_post(&mut document)?;
                }
                _ => unit.after_credit_arrives()?,
            }
            let line = line.ok_or_else(|| {
                Rejection::invalid("amount", "the entry did not change the balance")
            })?;
            debug_assert_eq!(line.balance_after.minor() - before, line.amount.minor());
            // Policies may have applied what the entry made; answer it as it stands now.
            let outcome = match outcome {
                EntryOutcome::Document(d) => EntryOutcome::Document(unit.document(&d.id)?),
                EntryOutcome::Payment(p) => EntryOutcome::Payment(unit.payment(&p.id)?),
            };
            Ok((line, outcome))
        })
    }
}

/// Makes what an entry is: a payment for a credit with a payment method, otherwise a posted
/// invoice (a charge) or credit memo (a credit) of one item.
fn make_entry(unit: &mut Unit<'_>, new: NewEntry) -> EngineResult<EntryOutcome> {
    Ok(match (new.kind, new.payment_method) {
        (EntryKind::Credit, Some(method)) => {
            EntryOutcome::Payment(unit.record_payment(NewPayment {
                customer_id: unit.customer.id.clone(),
                amount: new.amount,
                method,
                reference: new.notes,
                effective_date: new.effective_date,
                applications: Vec::new(),
                description: Some(new.description.clone()),
            })?)
        }
        (kind, _) => {
            let kind = match kind {
                EntryKind::Charge => DocumentKind::Invoice,
                EntryKind::Credit => DocumentKind::CreditMemo,
            };
            EntryOutcome::Document(
                unit.create_document(NewDocument {
                    kind,
                    customer_id: unit.customer.id.clone(),
                    items: vec![NewItem {
                        description: new.description.clone(),
                        amount: Some(new.amount),
                        ..NewItem::default()
                    }],
                    invoice_date: new.effective_date,
                    due_date: None,
                    adjusts_invoice_id: None,
                    reason: (kind == DocumentKind::CreditMemo)
                        .then(|| new.notes.clone().unwrap_or_else(|| "credit".to_owned())),
                    post: true,
                })?,
            )
        }
    })
}
