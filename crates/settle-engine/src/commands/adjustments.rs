//! Operations on one receivable document: item adjustments, netting, transfer to the credit
//! balance, write-off and void; and voiding a payment.

use settle_core::adjustment::{self, AdjustRequest, Adjustment, AdjustmentType};
use settle_core::application::Rule;
use settle_core::customer::Customer;
use settle_core::document::{Document, WRITE_OFF};
use settle_core::error::Rejection;
use settle_core::ids::{DocumentId, ItemId, PaymentId, TenantId};
use settle_core::money::Money;
use settle_core::payment::{Payment, PaymentStatus};
use settle_core::refund;
use settle_store::ApplicationQuery;

use super::Amount;
use super::applications::{ApplicationTarget, LoadedSource, SourceInput};
use super::check_text;
use super::credits::{NewCreditItem, NewCreditMemo};
use super::parse_amount;
use crate::unit::{Touched, Unit};
use crate::verify::all_pages;
use crate::{Engine, EngineResult};

/// A request to adjust an invoice item.
#[derive(Debug, Clone)]
pub struct NewAdjustment {
    /// The item.
    pub item_id: ItemId,
    /// Credit or charge.
    pub kind: AdjustmentType,
    /// Positive decimal text.
    pub amount: Amount,
    /// Why (required).
    pub reason: String,
}

impl Unit<'_> {
    /// Moves all of a negative document (or `amount` of it) to the credit balance.
    pub(crate) fn transfer_to_credit(
        &mut self,
        document: &mut Document,
        amount: Option<Money>,
    ) -> EngineResult<()> {
        let txn = adjustment::transfer_to_credit(document, amount, self.ids.txn(), self.today)?;
        self.record(&txn, Touched { documents: vec![&mut *document], ..Touched::default() })?;
        self.tx.update_document(&self.lock, document)?;
        Ok(())
    }

    /// Reverses every live application on `document`; the value returns to each source.
    fn reverse_applications_on(&mut self, document: &mut Document) -> EngineResult<usize> {
        let tenant_id = self.tenant_id().clone();
        let query = ApplicationQuery {
            target_id: Some(document.id.clone()),
            ..ApplicationQuery::default()
        };
        let mut live = all_pages(|page| Ok(self.tx.applications(&tenant_id, &query, page)?))?;
        live.retain(|a| a.items.iter().any(|i| !i.net.is_zero()));
        let count = live.len();
        for mut application in live {
            let mut source = self.load_source(&match &application.source {
                settle_core::application::SourceRef::Payment(id) => {
                    SourceInput::Payment(id.clone())
                }
                settle_core::application::SourceRef::CreditMemo(id) => {
                    SourceInput::CreditMemo(id.clone())
                }
                settle_core::application::SourceRef::CreditBalance => SourceInput::CreditBalance,
            })?;
            let negative_payment = match &source {
                LoadedSource::Payment(p) if p.amount.is_negative() => Some(p.id.clone()),
                _ => None,
            };
            self.deferred_payment = negative_payment.clone();
            let txn =
                settle_core::application::reverse(&application, None, self.ids.txn(), self.today)?;
            self.record_with_source(&txn, document, &mut source, Some(&mut application))?;
            self.tx.update_application(&self.lock, &application)?;
            self.deferred_payment = None;
            if let (Some(_), LoadedSource::Payment(payment)) = (negative_payment, &mut source) {
                self.void_if_whole(payment)?;
            }
            // A write-off exists only for this document: its value goes back to bad debt, not
            // to the customer as spendable credit.
            if let LoadedSource::CreditMemo(memo) = &mut source
                && memo.is_write_off()
                && memo.items.iter().all(|i| i.balance == i.amount)
                && let Some(txn) = refund::cancel_credit_memo(memo, self.ids.txn(), self.today)?
            {
                self.record(&txn, Touched { documents: vec![&mut *memo], ..Touched::default() })?;
                self.tx.update_document(&self.lock, memo)?;
            }
        }
        Ok(count)
    }

    /// A negative payment whose application was just reversed: stored as it is when nothing is
    /// left unapplied, voided when every application of it is reversed (it existed only to clear
    /// those balances), and refused otherwise.
    fn void_if_whole(&mut self, payment: &mut Payment) -> EngineResult<()> {
        if payment.unapplied == payment.amount {
            let txn = refund::void_payment(payment, self.ids.txn(), self.today)?;
            self.record(&txn, Touched { payments: vec![&mut *payment], ..Touched::default() })?;
        } else if !payment.unapplied.is_zero() {
            return Err(Rejection::NegativePaymentUnapplied {
                id: payment.id.to_string(),
                unapplied: payment.unapplied,
                hint: "void the payment first: voiding a negative payment reverses all its \
                       applications",
            }
            .into());
        }
        self.tx.update_payment(&self.lock, payment)?;
        Ok(())
    }

    /// Reverses every live application of a negative payment, which returns it whole; the
    /// caller voids it in the same transaction.
    fn reverse_negative_payment(&mut self, payment: Payment) -> EngineResult<Payment> {
        let tenant_id = self.tenant_id().clone();
        let query = ApplicationQuery {
            source_id: Some(payment.id.to_string()),
            ..ApplicationQuery::default()
        };
        let mut live = all_pages(|page| Ok(self.tx.applications(&tenant_id, &query, page)?))?;
        live.retain(|a| a.items.iter().any(|i| !i.net.is_zero()));
        self.deferred_payment = Some(payment.id.clone());
        let mut source = LoadedSource::Payment(payment);
        for mut application in live {
            let mut target = self.document(&application.target_id)?;
            let txn =
                settle_core::application::reverse(&application, None, self.ids.txn(), self.today)?;
            self.record_with_source(&txn, &mut target, &mut source, Some(&mut application))?;
            self.tx.update_document(&self.lock, &target)?;
            self.tx.update_application(&self.lock, &application)?;
        }
        self.deferred_payment = None;
        let LoadedSource::Payment(payment) = source else {
            unreachable!("the source was built as a payment above")
        };
        Ok(payment)
    }
}

impl Engine {
    /// Adjusts one invoice item toward zero.
    pub fn adjust_item(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
        new: NewAdjustment,
    ) -> EngineResult<Adjustment> {
        check_text("reason", &new.reason, true)?;
        self.write_for_document(tenant_id, document_id, |unit| {
            let mut document = unit.document(document_id)?;
            let amount = parse_amount("amount", &new.amount, document.currency)?;
            let credited = document.item(&new.item_id).map(|i| i.credited).ok_or_else(|| {
                Rejection::invalid(
                    "item_id",
                    format!("{} is not an item of {document_id}", new.item_id),
                )
            })?;
            let id = unit.ids.adjustment();
            let txn = adjustment::adjust_item(AdjustRequest {
                txn_id: unit.ids.txn(),
                adjustment_id: id.to_string(),
                document: &document,
                item_id: &new.item_id,
                kind: new.kind,
                amount,
                credited,
                reason: new.reason.clone(),
                effective_date: unit.today,
            })?;
            unit.record(&txn, Touched { documents: vec![&mut document], ..Touched::default() })?;
            if let Some(item) = document.items.iter_mut().find(|i| i.id == new.item_id) {
                item.credited =
                    Money::new(item.credited.minor() + amount.minor(), amount.currency());
            }
            unit.tx.update_document(&unit.lock, &document)?;
            let adjustment = Adjustment {
                id,
                customer_id: document.customer_id.clone(),
                document_id: document.id.clone(),
                item_id: new.item_id,
                kind: new.kind,
                amount,
                reason: new.reason,
                effective_date: unit.today,
            };
            unit.tx.insert_adjustment(&unit.lock, &adjustment)?;
            Ok(adjustment)
        })
    }

    /// Offsets negative item balances against positive ones inside a document.
    pub fn net_items(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> EngineResult<Document> {
        self.write_for_document(tenant_id, document_id, |unit| {
            let mut document = unit.document(document_id)?;
            let txn = adjustment::net_items(&document, unit.ids.txn(), unit.today)?;
            unit.record(&txn, Touched { documents: vec![&mut document], ..Touched::default() })?;
            unit.tx.update_document(&unit.lock, &document)?;
            Ok(document)
        })
    }

    /// Moves a negative balance to the customer's credit balance.
    pub fn transfer_to_credit(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
        amount: Option<Amount>,
    ) -> EngineResult<(Document, Customer)> {
        self.write_for_document(tenant_id, document_id, |unit| {
            let mut document = unit.document(document_id)?;
            let amount =
                amount.map(|a| parse_amount("amount", &a, document.currency)).transpose()?;
            unit.transfer_to_credit(&mut document, amount)?;
            unit.after_credit_arrives()?;
            let document = unit.document(document_id)?;
            Ok((document, unit.customer.clone()))
        })
    }

    /// Moves a negative balance (or `amount` of it) to the credit balance and applies that
    /// credit to the customer's open documents, oldest due date first, in one unit of work (the
    /// `transfer_and_apply` negative-invoice policy, on demand). What finds no open document
    /// stays on the credit balance.
    pub fn transfer_and_apply(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
        amount: Option<Amount>,
    ) -> EngineResult<(Document, Customer)> {
        self.write_for_document(tenant_id, document_id, |unit| {
            let mut document = unit.document(document_id)?;
            let amount =
                amount.map(|a| parse_amount("amount", &a, document.currency)).transpose()?;
            unit.transfer_to_credit(&mut document, amount)?;
            unit.apply_to_open_documents(&mut [LoadedSource::CreditBalance])?;
            let document = unit.document(document_id)?;
            Ok((document, unit.customer.clone()))
        })
    }

    /// Writes off a document's remaining balance (or `amount` of it): a `write_off` credit memo,
    /// posted against bad debt and applied to the document. Returns the credit memo.
    pub fn write_off(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
        amount: Option<Amount>,
        reason: Option<String>,
    ) -> EngineResult<Document> {
        if let Some(reason) = &reason {
            check_text("reason", reason, true)?;
        }
        self.write_for_document(tenant_id, document_id, |unit| {
            let document = unit.document(document_id)?;
            if !document.kind.is_receivable() {
                return Err(Rejection::invalid(
                    "id",
                    "only invoices and debit memos are written off",
                )
                .into());
            }
            document.ensure_posted()?;
            let balance = document.balance();
            let amount = match amount {
                Some(text) => parse_amount("amount", &text, document.currency)?,
                None => balance,
            };
            if !amount.is_positive() || amount.minor() > balance.minor() {
                return Err(Rejection::OverApplication {
                    id: document.id.to_string(),
                    balance,
                    attempted: amount,
                }
                .into());
            }
            let description = match &reason {
                Some(reason) => format!("Write-off of {}: {reason}", document.number),
                None => format!("Write-off of {}", document.number),
            };
            let memo = unit.create_credit_memo(NewCreditMemo {
                customer_id: document.customer_id.clone(),
                items: vec![NewCreditItem {
                    description: Some(description),
                    amount: Amount::from(amount),
                    invoice_item_id: None,
                }],
                reason: Some(WRITE_OFF.to_owned()),
                from_invoice_id: None,
                post: true,
                invoice_date: None,
            })?;
            let mut source = LoadedSource::CreditMemo(memo);
            let target = ApplicationTarget {
                target_id: document.id.clone(),
                amount: Some(Amount::from(amount)),
                items: None,
                rule: Some(Rule::NetFirst),
            };
            unit.apply_source(&mut source, target, None)?;
            match source {
                LoadedSource::CreditMemo(memo) => Ok(memo),
                LoadedSource::Payment(_) | LoadedSource::CreditBalance => {
                    unreachable!("the source was built as a credit memo above")
                }
            }
        })
    }

    /// Voids a posted invoice or debit memo. With live applications it is refused
    /// (`has_applications`) unless `reverse_applications`, which reverses each first.
    pub fn void_document(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
        reverse_applications: bool,
    ) -> EngineResult<Document> {
        self.write_for_document(tenant_id, document_id, |unit| {
            let mut document = unit.document(document_id)?;
            if !document.kind.is_receivable() {
                return Err(
                    Rejection::invalid("id", "credit memos are canceled, not voided").into()
                );
            }
            document.ensure_posted()?;
            if reverse_applications {
                unit.reverse_applications_on(&mut document)?;
            } else {
                let tenant_id = unit.tenant_id().clone();
                let query = ApplicationQuery {
                    target_id: Some(document.id.clone()),
                    ..ApplicationQuery::default()
                };
                let any_live =
                    all_pages(|page| Ok(unit.tx.applications(&tenant_id, &query, page)?))?
                        .iter()
                        .any(|a| a.items.iter().any(|i| !i.net.is_zero()));
                if any_live {
                    return Err(Rejection::HasApplications { id: document.id.to_string() }.into());
                }
            }
            let txn = refund::void_document(&mut document, unit.ids.txn(), unit.today)?;
            unit.record(&txn, Touched { documents: vec![&mut document], ..Touched::default() })?;
            unit.tx.update_document(&unit.lock, &document)?;
            // A proration invoice's credit items counted against the items they credit; voided,
            // they credit nothing, so those items are creditable again.
            unit.credit_invoice_items(&document, -1)?;
            unit.after_credit_arrives()?;
            Ok(document)
        })
    }

    /// Voids a payment with nothing applied or refunded. A negative payment, which is always
    /// applied in full, has its applications reversed first in the same transaction.
    pub fn void_payment(
        &self,
        tenant_id: &TenantId,
        payment_id: &PaymentId,
    ) -> EngineResult<Payment> {
        let customer_id = self.payment(tenant_id, payment_id)?.customer_id;
        self.write(tenant_id, &customer_id, |unit| {
            let mut payment: Payment = unit.payment(payment_id)?;
            if payment.amount.is_negative() && payment.status == PaymentStatus::Posted {
                payment = unit.reverse_negative_payment(payment)?;
            }
            let txn = refund::void_payment(&mut payment, unit.ids.txn(), unit.today)?;
            unit.record(&txn, Touched { payments: vec![&mut payment], ..Touched::default() })?;
            unit.tx.update_payment(&unit.lock, &payment)?;
            Ok(payment)
        })
    }
}
