//! Recording payments (with optional applications in the same call), reading and listing them.

use chrono::NaiveDate;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, PaymentId, TenantId};
use settle_core::payment::{Payment, PaymentMethod, PaymentRequest, record_payment};
use settle_store::{Page, PageRequest, PaymentQuery};

use super::applications::{ApplicationTarget, LoadedSource};
use super::{check_text, parse_amount};
use crate::unit::{Touched, Unit};
use crate::{Engine, EngineResult};

/// A request to record a payment.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The customer.
    pub customer_id: CustomerId,
    /// Signed decimal text.
    pub amount: String,
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
        self.tx.insert_payment(&self.lock, &payment)?;
        if new.applications.is_empty() {
            return Ok(payment);
        }
        let mut source = LoadedSource::Payment(payment);
        for target in new.applications {
            self.apply_source(&mut source, target, Some(effective_date))?;
        }
        match source {
            LoadedSource::Payment(applied) => Ok(applied),
            LoadedSource::CreditMemo(_) | LoadedSource::CreditBalance => {
                unreachable!("the source was built as a payment above")
            }
        }
    }
}

impl Engine {
    /// Records a payment, applying it to the given documents in the same transaction.
    pub fn record_payment(&self, tenant_id: &TenantId, new: NewPayment) -> EngineResult<Payment> {
        let customer_id = new.customer_id.clone();
        self.write(tenant_id, &customer_id, |unit| {
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
