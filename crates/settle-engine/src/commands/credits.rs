//! Credit memos (create, post, cancel), refunds from every credit source, and the credit
//! balance.

use chrono::NaiveDate;
use settle_core::document::{Document, DocumentKind, DocumentStatus, WRITE_OFF};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId, ItemId, PaymentId, TenantId};
use settle_core::money::Money;
use settle_core::payment::PaymentMethod;
use settle_core::refund::{self, Refund, RefundRequest, RefundSource};

use super::Amount;
use super::documents::{NewDocument, NewItem};
use super::{check_text, parse_amount};
use crate::unit::{Ahead, Touched, Unit};
use crate::{Engine, EngineResult};

/// A requested credit memo item.
#[derive(Debug, Clone)]
pub struct NewCreditItem {
    /// What it is for.
    pub description: Option<String>,
    /// Signed decimal text (the sign of the invoice item it names).
    pub amount: Amount,
    /// The invoice item it credits.
    pub invoice_item_id: Option<ItemId>,
}

/// A request for a credit memo.
#[derive(Debug, Clone)]
pub struct NewCreditMemo {
    /// The customer.
    pub customer_id: CustomerId,
    /// Items; empty with `from_invoice_id` credits everything still creditable on it.
    pub items: Vec<NewCreditItem>,
    /// Why (`credit`, `write_off`, `goodwill`, ...; default `credit`).
    pub reason: Option<String>,
    /// The invoice it is created from.
    pub from_invoice_id: Option<DocumentId>,
    /// Post at once.
    pub post: bool,
    /// Document date (default today).
    pub invoice_date: Option<NaiveDate>,
}

/// Where a refund comes from, as requested.
#[derive(Debug, Clone)]
pub enum RefundFrom {
    /// A payment's unapplied amount.
    Payment(PaymentId),
    /// A credit memo's balance.
    CreditMemo(DocumentId),
    /// A customer's credit balance.
    CreditBalance(CustomerId),
}

/// A request to refund.
#[derive(Debug, Clone)]
pub struct NewRefund {
    /// Positive decimal text.
    pub amount: Amount,
    /// How it is paid back (default `other`).
    pub method: Option<PaymentMethod>,
    /// Reference of the money movement.
    pub reference: Option<String>,
    /// Accounting date (default today).
    pub effective_date: Option<NaiveDate>,
}

impl Unit<'_> {
    /// Adds `sign × |amount|` of each credit memo item to the credited amount of the invoice
    /// item it names, refusing more than is creditable (`over_credit`).
    pub(crate) fn credit_invoice_items(&mut self, memo: &Document, sign: i64) -> EngineResult<()> {
        for memo_item in memo.items.iter().filter(|i| i.invoice_item_id.is_some()) {
            let Some(item_id) = &memo_item.invoice_item_id else { continue };
            let mut invoice = self.invoice_of_item(item_id)?;
            let creditable = {
                let item = invoice
                    .item(item_id)
                    .ok_or_else(|| Rejection::NotFound { what: "item", id: item_id.to_string() })?;
                invoice.creditable(item)
            };
            let size = memo_item.amount.minor().saturating_abs();
            if sign > 0 && size > creditable.minor() {
                return Err(Rejection::OverCredit {
                    item_id: item_id.to_string(),
                    creditable,
                    attempted: memo_item.amount,
                }
                .into());
            }
            if let Some(item) = invoice.items.iter_mut().find(|i| &i.id == item_id) {
                item.credited =
                    Money::new(item.credited.minor() + sign * size, item.credited.currency());
            }
            self.tx.update_document(&self.lock, &invoice)?;
        }
        Ok(())
    }

    /// The receivable document of this customer that holds `item_id`.
    fn invoice_of_item(&mut self, item_id: &ItemId) -> EngineResult<Document> {
        let tenant_id = self.tenant_id().clone();
        let document_id = self.tx.item_document(&tenant_id, item_id)?.ok_or_else(|| {
            Rejection::invalid("invoice_item_id", format!("{item_id} is not an invoice item"))
        })?;
        let document = self.document(&document_id)?;
        if !document.kind.is_receivable() {
            return Err(Rejection::invalid(
                "invoice_item_id",
                format!("{item_id} is not an invoice item"),
            )
            .into());
        }
        Ok(document)
    }

    /// Creates a credit memo, posting it if asked.
    // tidy: long-function: The item checks run in one pass whose order decides which rejection
    // a request gets, and all of them read the source invoice.
    pub(crate) fn create_credit_memo(&mut self, new: NewCreditMemo) -> EngineResult<Document> {
        let currency = self.customer.currency;
        let reason = new.reason.unwrap_or_else(|| "credit".to_owned());
        let mut items = Vec::with_capacity(new.items.len());
        let source = match &new.from_invoice_id {
            Some(id) => {
                let invoice = self.document(id)?;
                if !invoice.kind.is_receivable() {
                    return Err(Rejection::invalid(
                        "from_invoice_id",
                        "must be an invoice or a debit memo",
                    )
                    .into());
                }
                invoice.ensure_posted()?;
                Some(invoice)
            }
            None => None,
        };
        if new.items.is_empty() {
            let Some(invoice) = &source else {
                return Err(Rejection::invalid("items", "at least one item is required").into());
            };
            for item in &invoice.items {
                let creditable = invoice.creditable(item).minor();
                if creditable > 0 {
                    items.push(NewItem {
                        description: item.description.clone(),
                        amount: Some(Amount::from(Money::new(
                            creditable * item.amount.minor().signum(),
                            currency,
                        ))),
                        invoice_item_id: Some(item.id.clone()),
                        ..NewItem::default()
                    });
                }
            }
            if items.is_empty() {
                return Err(Rejection::OverCredit {
                    item_id: invoice.id.to_string(),
                    creditable: Money::zero(currency),
                    attempted: invoice.total(),
                }
                .into());
            }
        }
        for (idx, item) in new.items.into_iter().enumerate() {
            let amount = parse_amount(&format!("items[{idx}].amount"), &item.amount, currency)?;
            let description = match (&item.description, &item.invoice_item_id) {
                (Some(d), _) => d.clone(),
                (None, Some(item_id)) => {
                    let invoice = self.invoice_of_item(item_id)?;
                    invoice.item(item_id).map(|i| i.description.clone()).unwrap_or_default()
                }
                (None, None) => {
                    return Err(Rejection::invalid(
                        format!("items[{idx}].description"),
                        "required",
                    )
                    .into());
                }
            };
            if let Some(item_id) = &item.invoice_item_id {
                let invoice = self.invoice_of_item(item_id)?;
                if let Some(from) = &source
                    && from.id != invoice.id
                {
                    return Err(Rejection::invalid(
                        format!("items[{idx}].invoice_item_id"),
                        format!("{item_id} is not an item of {}", from.id),
                    )
                    .into());
                }
                let invoice_item = invoice
                    .item(item_id)
                    .ok_or_else(|| Rejection::NotFound { what: "item", id: item_id.to_string() })?;
                if amount.is_zero()
                    || amount.minor().signum() != invoice_item.amount.minor().signum()
                {
                    return Err(Rejection::invalid(
                        format!("items[{idx}].amount"),
                        "must be non-zero with the sign of the invoice item it credits",
                    )
                    .into());
                }
                let creditable = invoice.creditable(invoice_item);
                if amount.minor().saturating_abs() > creditable.minor() {
                    return Err(Rejection::OverCredit {
                        item_id: item_id.to_string(),
                        creditable,
                        attempted: amount,
                    }
                    .into());
                }
            } else if amount.is_zero() {
                return Err(
                    Rejection::invalid(format!("items[{idx}].amount"), "must not be zero").into()
                );
            }
            items.push(NewItem {
                description,
                amount: Some(item.amount),
                invoice_item_id: item.invoice_item_id,
                ..NewItem::default()
            });
        }
        let memo = self.create_document(NewDocument {
            kind: DocumentKind::CreditMemo,
            customer_id: self.customer.id.clone(),
            items,
            invoice_date: new.invoice_date,
            due_date: None,
            adjusts_invoice_id: None,
            reason: Some(reason),
            post: new.post,
        })?;
        if new.post {
            self.credit_invoice_items(&memo, 1)?;
        }
        Ok(memo)
    }

    /// Refunds from a source; returns the refund.
    pub(crate) fn refund(&mut self, from: &RefundFrom, new: NewRefund) -> EngineResult<Refund> {
        let currency = self.customer.currency;
        let amount = parse_amount("amount", &new.amount, currency)?;
        if let Some(reference) = &new.reference {
            check_text("reference", reference, false)?;
        }
        let method = new.method.unwrap_or(PaymentMethod::Other);
        let effective_date = new.effective_date.unwrap_or(self.today);
        let id = self.ids.refund();
        let txn_id = self.ids.txn();
        let (source_type, source_id) = match from {
            RefundFrom::Payment(id) => ("payment", Some(id.to_string())),
            RefundFrom::CreditMemo(id) => ("credit_memo", Some(id.to_string())),
            RefundFrom::CreditBalance(_) => ("credit_balance", None),
        };
        let request = |source| RefundRequest {
            txn_id: txn_id.clone(),
            refund_id: id.to_string(),
            source,
            amount,
            method,
            reference: new.reference.clone(),
            effective_date,
        };
        match from {
            RefundFrom::Payment(payment_id) => {
                let mut payment = self.payment(payment_id)?;
                let txn = refund::refund(request(RefundSource::Payment(&payment)))?;
                self.record(&txn, Touched { payments: vec![&mut payment], ..Touched::default() })?;
                self.tx.update_payment(&self.lock, &payment)?;
            }
            RefundFrom::CreditMemo(memo_id) => {
                let mut memo = self.document(memo_id)?;
                let txn = refund::refund(request(RefundSource::CreditMemo(&memo)))?;
                self.record(&txn, Touched { documents: vec![&mut memo], ..Touched::default() })?;
                self.tx.update_document(&self.lock, &memo)?;
            }
            RefundFrom::CreditBalance(_) => {
                let customer = self.customer.clone();
                let txn = refund::refund(request(RefundSource::CreditBalance(&customer)))?;
                self.record(&txn, Touched::default())?;
            }
        }
        let refund = Refund {
            id,
            customer_id: self.customer.id.clone(),
            source_type,
            source_id,
            amount,
            method,
            reference: new.reference,
            effective_date,
        };
        self.tx.insert_refund(&self.lock, &refund)?;
        Ok(refund)
    }
}

impl Engine {
    /// Creates a credit memo (a draft unless `post`).
    pub fn create_credit_memo(
        &self,
        tenant_id: &TenantId,
        new: NewCreditMemo,
    ) -> EngineResult<Document> {
        if new.reason.as_deref() == Some(WRITE_OFF)
            && new.from_invoice_id.is_none()
            && new.items.is_empty()
        {
            return Err(Rejection::invalid("items", "at least one item is required").into());
        }
        if let Some(reason) = &new.reason {
            check_text("reason", reason, true)?;
        }
        let customer_id = new.customer_id.clone();
        let ahead = Ahead { number: Some(DocumentKind::CreditMemo), ..Ahead::default() };
        self.write_with(tenant_id, &customer_id, ahead, |unit| {
            let memo = unit.create_credit_memo(new)?;
            if memo.status == DocumentStatus::Posted {
                unit.after_credit_arrives()?;
            }
            Ok(memo)
        })
    }

    /// Cancels a credit memo (a draft, or a posted one nothing was taken from).
    pub fn cancel_credit_memo(
        &self,
        tenant_id: &TenantId,
        memo_id: &DocumentId,
    ) -> EngineResult<Document> {
        self.write_for_document(tenant_id, memo_id, |unit| {
            let mut memo = unit.document(memo_id)?;
            let was_posted = memo.status == DocumentStatus::Posted;
            let txn_id = unit.ids.txn();
            if let Some(txn) = refund::cancel_credit_memo(&mut memo, txn_id, unit.today)? {
                unit.record(&txn, Touched { documents: vec![&mut memo], ..Touched::default() })?;
            }
            unit.tx.update_document(&unit.lock, &memo)?;
            if was_posted {
                unit.credit_invoice_items(&memo, -1)?;
            }
            Ok(memo)
        })
    }

    /// Pays money back from a payment, a credit memo or a credit balance.
    pub fn refund(
        &self,
        tenant_id: &TenantId,
        from: RefundFrom,
        new: NewRefund,
    ) -> EngineResult<Refund> {
        let customer_id = match &from {
            RefundFrom::Payment(id) => self.payment(tenant_id, id)?.customer_id,
            RefundFrom::CreditMemo(id) => {
                let memo = self.document(tenant_id, id)?;
                if memo.kind != DocumentKind::CreditMemo {
                    return Err(
                        Rejection::NotFound { what: "credit memo", id: id.to_string() }.into()
                    );
                }
                memo.customer_id
            }
            RefundFrom::CreditBalance(id) => id.clone(),
        };
        self.write(tenant_id, &customer_id, |unit| unit.refund(&from, new))
    }

    /// The customer's credit balance.
    pub fn credit_balance(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
    ) -> EngineResult<Money> {
        let customer = self.customer(tenant_id, customer_id)?;
        Ok(Money::new(customer.balances.credit_balance, customer.currency))
    }
}
