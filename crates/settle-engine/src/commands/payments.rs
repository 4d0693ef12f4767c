//! Recording payments (with optional applications in the same call), reading and listing them.

use chrono::NaiveDate;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId, PaymentId, TenantId};
use settle_core::payment::{Payment, PaymentMethod, PaymentRequest, record_payment};
use settle_store::{Page, PageRequest, PaymentQuery};

use super::Amount;
use super::applications::{ApplicationTarget, LoadedSource};
use super::{check_text, parse_amount};
use crate::unit::{Ahead, Touched, Unit};
use crate::{Engine, EngineError, EngineResult};

/// A request to record a payment.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The customer.
    pub customer_id: CustomerId,
    /// Signed decimal text.
    pub amount: Amount,
    /// How it was paid.
    pub method: PaymentMethod,
    /// Check number, transaction reference, ...
    pub reference: Option<String>,
    /// Accounting date (default today).
    pub effective_date: Option<NaiveDate>,
    /// Applications to make at once (collect and apply).
    pub applications: Vec<ApplicationTarget>,
    /// History text (default: method and reference).
    pub description: Option<String>,
}

impl Unit<'_> {
    /// Records a payment and its applications; returns the payment as it stands after them.
    pub(crate) fn record_payment(&mut self, new: NewPayment) -> EngineResult<Payment> {
        let amount = parse_amount("amount", &new.amount, self.customer.currency)?;
        if let Some(reference) = &new.reference {
            check_text("reference", reference, false)?;
        }
        let effective_date = new.effective_date.unwrap_or(self.today);
        let (payment, txn) = record_payment(PaymentRequest {
            id: self.ids.payment(),
            txn_id: self.ids.txn(),
            customer_id: self.customer.id.clone(),
            amount,
            method: new.method,
            reference: new.reference,
            effective_date,
            description: new.description,
        })?;
        // The payment's own receipt is already in its unapplied amount.
        self.record(&txn, Touched::default())?;
        if amount.is_negative() && new.applications.is_empty() {
            return Err(negative_unapplied(&payment).into());
        }
        // The row is written once the applications are made: a negative payment is stored
        // only applied in full (the database refuses a negative unapplied amount).
        self.deferred_payment = Some(payment.id.clone());
        let mut source = LoadedSource::Payment(payment);
        for (idx, target) in new.applications.into_iter().enumerate() {
            self.apply_source(&mut source, target, Some(effective_date))
                .map_err(|err| in_application(idx, err))?;
        }
        self.deferred_payment = None;
        let LoadedSource::Payment(payment) = source else {
            unreachable!("the source was built as a payment above")
        };
        if payment.unapplied.is_negative() {
            return Err(negative_unapplied(&payment).into());
        }
        self.tx.insert_payment(&self.lock, &payment)?;
        Ok(payment)
    }
}

/// The refusal of a negative payment left (partly) unapplied.
pub(crate) fn negative_unapplied(payment: &Payment) -> Rejection {
    Rejection::NegativePaymentUnapplied {
        id: payment.id.to_string(),
        unapplied: payment.unapplied,
        hint: "apply all of it in the same request, to documents with negative balances",
    }
}

/// Marks a refused input of `applications[idx]` as that application's, so the API names it by
/// its full path.
fn in_application(idx: usize, err: EngineError) -> EngineError {
    match err {
        EngineError::Rejected(
            rejection @ (Rejection::Invalid { .. }
            | Rejection::AmountOutOfRange { .. }
            | Rejection::Refused { .. }),
        ) => rejection.in_application(idx).into(),
        other => other,
    }
}

impl Engine {
    /// Records a payment, applying it to the given documents in the same transaction.
    pub fn record_payment(&self, tenant_id: &TenantId, new: NewPayment) -> EngineResult<Payment> {
        let customer_id = new.customer_id.clone();
        let mut targets: Vec<DocumentId> =
            new.applications.iter().map(|a| a.target_id.clone()).collect();
        targets.sort();
        targets.dedup();
        let ahead = Ahead { documents: &targets, ..Ahead::default() };
        self.write_with(tenant_id, &customer_id, ahead, |unit| {
            let payment = unit.record_payment(new)?;
            if !unit.settings.auto_apply_credit {
                return Ok(payment);
            }
            unit.after_credit_arrives()?;
            unit.payment(&payment.id)
        })
    }

    /// Reads a payment.
    pub fn payment(&self, tenant_id: &TenantId, payment_id: &PaymentId) -> EngineResult<Payment> {
        self.read(|tx| {
            tx.payment(tenant_id, payment_id)?.ok_or_else(|| {
                Rejection::NotFound { what: "payment", id: payment_id.to_string() }.into()
            })
        })
    }

    /// Lists payments, newest first.
    pub fn payments(
        &self,
        tenant_id: &TenantId,
        query: &PaymentQuery,
        page: &PageRequest,
    ) -> EngineResult<Page<Payment>> {
        self.read(|tx| Ok(tx.payments(tenant_id, query, page)?))
    }
}
