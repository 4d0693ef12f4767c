//! Collect and Apply Payments (seed 000 option 1): a new payment and/or existing credits applied
//! to several documents in one save. Every application is its own journal transaction, but all
//! of them run in one unit of work, so either every one is written or none is.

use chrono::NaiveDate;
use settle_core::customer::Customer;
use settle_core::ids::CustomerId;
use settle_core::ids::TenantId;

use super::applications::{ApplicationTarget, SourceInput};
use super::payments::NewPayment;
use crate::{Engine, EngineError, EngineResult};

/// One application of an existing credit in a collect request.
#[derive(Debug, Clone)]
pub struct CollectApplication {
    /// The existing credit: an unapplied payment, a credit memo or the credit balance.
    pub source: SourceInput,
    /// The document and how much.
    pub target: ApplicationTarget,
}

/// A new payment and/or applications of existing credits, for one customer.
#[derive(Debug, Clone)]
pub struct Collect {
    /// The customer every source and document belongs to.
    pub customer_id: CustomerId,
    /// A payment to record first, with its own applications (a negative payment must apply
    /// all of itself there). Its refusals are named as [`Engine::record_payment`] names them.
    pub payment: Option<NewPayment>,
    /// Then each existing credit's application, in order. A refusal of the `i`th is wrapped
    /// as `Rejection::InApplication { index, .. }` with `index` counted after the payment's
    /// own applications (`payment.applications.len() + i`), so one flat list of targets names
    /// the row of any refusal.
    pub applications: Vec<CollectApplication>,
    /// Accounting date of the applications (default today).
    pub effective_date: Option<NaiveDate>,
}

impl Engine {
    /// Records the payment (if any) and makes every application, all in one write
    /// transaction under the customer's lock: the first refusal rolls everything back.
    /// Answers the customer as it stands afterwards. With auto-apply on, what the save leaves
    /// unapplied is then applied as when any credit arrives.
    pub fn collect(&self, tenant_id: &TenantId, collect: Collect) -> EngineResult<Customer> {
        let customer_id = collect.customer_id.clone();
        self.write(tenant_id, &customer_id, |unit| {
            let mut arrived = false;
            let offset = collect.payment.as_ref().map_or(0, |p| p.applications.len());
            if let Some(mut payment) = collect.payment {
                payment.customer_id = customer_id.clone();
                unit.record_payment(payment)?;
                arrived = true;
            }
            for (index, application) in collect.applications.into_iter().enumerate() {
                let in_row = |err: EngineError| match err {
                    EngineError::Rejected(rejection) => {
                        EngineError::Rejected(rejection.in_application(offset + index))
                    }
                    other => other,
                };
                let mut source = unit.load_source(&application.source).map_err(in_row)?;
                unit.apply_source(&mut source, application.target, collect.effective_date)
                    .map_err(in_row)?;
            }
            if arrived {
                unit.after_credit_arrives()?;
            }
            Ok(unit.customer.clone())
        })
    }
}
