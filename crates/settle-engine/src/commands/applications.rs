//! Applying credit sources to receivable documents, and reversing applications.

use chrono::NaiveDate;
use settle_core::application::{
    self, Application, ApplyRequest, ItemAmount, Rule, Source, SourceRef, Spread,
};
use settle_core::document::Document;
use settle_core::error::Rejection;
use settle_core::ids::{ApplicationId, DocumentId, ItemId, PaymentId, TenantId};
use settle_core::money::Money;
use settle_core::payment::Payment;
use settle_store::{ApplicationQuery, Page, PageRequest};

use super::Amount;
use super::parse_amount;
use crate::unit::{Touched, Unit};
use crate::{Engine, EngineResult};

/// Which source to apply, as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceInput {
    /// A payment.
    Payment(PaymentId),
    /// A credit memo.
    CreditMemo(DocumentId),
    /// The customer's credit balance.
    CreditBalance,
}

/// One requested per-item amount.
#[derive(Debug, Clone)]
pub struct ItemAmountInput {
    /// The target item.
    pub item_id: ItemId,
    /// Signed decimal text.
    pub amount: Amount,
    /// For a credit memo source, the credit memo item.
    pub credit_memo_item_id: Option<ItemId>,
}

/// Where and how much to apply.
#[derive(Debug, Clone)]
pub struct ApplicationTarget {
    /// The receivable document.
    pub target_id: DocumentId,
    /// A document-level amount, spread by the rule; with neither this nor `items`, the
    /// largest amount the source can apply to the document.
    pub amount: Option<Amount>,
    /// Or amounts per item.
    pub items: Option<Vec<ItemAmountInput>>,
    /// The rule (default: the tenant's).
    pub rule: Option<Rule>,
}

/// A request to apply a source.
#[derive(Debug, Clone)]
pub struct NewApplication {
    /// The source.
    pub source: SourceInput,
    /// The target and amounts.
    pub target: ApplicationTarget,
    /// Accounting date (default today).
    pub effective_date: Option<NaiveDate>,
}

/// A source loaded inside the unit of work.
pub(crate) enum LoadedSource {
    Payment(Payment),
    CreditMemo(Document),
    CreditBalance,
}

impl Unit<'_> {
    pub(crate) fn load_source(&mut self, source: &SourceInput) -> EngineResult<LoadedSource> {
        Ok(match source {
            SourceInput::Payment(id) => LoadedSource::Payment(self.payment(id)?),
            SourceInput::CreditMemo(id) => LoadedSource::CreditMemo(self.document(id)?),
            SourceInput::CreditBalance => LoadedSource::CreditBalance,
        })
    }

    /// Loads a payment of this customer.
    pub(crate) fn payment(&mut self, id: &PaymentId) -> EngineResult<Payment> {
        match self.tx.payment(self.lock.tenant_id(), id)? {
            Some(p) if p.customer_id == self.customer.id => Ok(p),
            Some(p) => Err(Rejection::CustomerMismatch {
                source_id: p.id.to_string(),
                target_id: self.customer.id.to_string(),
            }
            .into()),
            None => Err(Rejection::NotFound { what: "payment", id: id.to_string() }.into()),
        }
    }

    /// Applies `source` (kept in memory; the caller writes it) to `target`.
    pub(crate) fn apply_source(
        &mut self,
        source: &mut LoadedSource,
        target: ApplicationTarget,
        effective_date: Option<NaiveDate>,
    ) -> EngineResult<Application> {
        let currency = self.customer.currency;
        let mut document = self.document(&target.target_id)?;
        let spread = match (target.amount, target.items) {
            (Some(amount), None) => Spread::Amount(
                parse_amount("amount", &amount, currency)?,
                target.rule.unwrap_or(self.settings.application_rule),
            ),
            (None, Some(items)) => Spread::Items(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(idx, item)| {
                        Ok(ItemAmount {
                            amount: parse_amount(
                                &format!("items[{idx}].amount"),
                                &item.amount,
                                currency,
                            )?,
                            item_id: item.item_id,
                            credit_memo_item_id: item.credit_memo_item_id,
                        })
                    })
                    .collect::<Result<Vec<_>, Rejection>>()?,
            ),
            (None, None) => Spread::Largest(target.rule.unwrap_or(self.settings.application_rule)),
            (Some(_), Some(_)) => {
                return Err(Rejection::invalid("amount", "give either amount or items").into());
            }
        };
        let available = Money::new(self.customer.balances.credit_balance, currency);
        let core_source = match &*source {
            LoadedSource::Payment(p) => Source::Payment(p),
            LoadedSource::CreditMemo(d) => Source::CreditMemo(d),
            LoadedSource::CreditBalance => {
                Source::CreditBalance { customer_id: &self.customer.id, available }
            }
        };
        let (application, txn) = application::apply(ApplyRequest {
            id: self.ids.application(),
            txn_id: self.ids.txn(),
            source: core_source,
            target: &document,
            spread,
            effective_date: effective_date.unwrap_or(self.today),
        })?;
        self.record_with_source(&txn, &mut document, source, None)?;
        self.tx.update_document(&self.lock, &document)?;
        self.tx.insert_application(&self.lock, &application)?;
        Ok(application)
    }

    /// Records `txn`, which moves value between `target` and `source` (and `application`,
    /// for a reversal), and writes the source.
    pub(crate) fn record_with_source(
        &mut self,
        txn: &settle_core::ledger::JournalTxn,
        target: &mut Document,
        source: &mut LoadedSource,
        application: Option<&mut Application>,
    ) -> EngineResult<()> {
        let mut touched = Touched { documents: vec![target], ..Touched::default() };
        if let Some(application) = application {
            touched.applications.push(application);
        }
        match source {
            LoadedSource::Payment(p) => touched.payments.push(p),
            LoadedSource::CreditMemo(d) => touched.documents.push(d),
            LoadedSource::CreditBalance => {}
        }
        self.record(txn, touched)?;
        match source {
            LoadedSource::Payment(p) if self.deferred_payment.as_ref() == Some(&p.id) => {}
            LoadedSource::Payment(p) => self.tx.update_payment(&self.lock, p)?,
            LoadedSource::CreditMemo(d) => self.tx.update_document(&self.lock, d)?,
            LoadedSource::CreditBalance => {}
        }
        Ok(())
    }
}

impl Engine {
    /// Applies a source to a document.
    pub fn apply(&self, tenant_id: &TenantId, new: NewApplication) -> EngineResult<Application> {
        let target_id = new.target.target_id.clone();
        self.write_for_document(tenant_id, &target_id, |unit| {
            let mut source = unit.load_source(&new.source)?;
            unit.apply_source(&mut source, new.target, new.effective_date)
        })
    }

    /// Reverses an application wholly, or partly by `amount`; the value goes back to its source.
    pub fn reverse_application(
        &self,
        tenant_id: &TenantId,
        application_id: &ApplicationId,
        amount: Option<Amount>,
    ) -> EngineResult<Application> {
        let found = self.application(tenant_id, application_id)?;
        self.write(tenant_id, &found.customer_id, |unit| {
            let tenant_id = unit.tenant_id().clone();
            let mut application =
                unit.tx.application(&tenant_id, application_id)?.ok_or_else(|| {
                    Rejection::NotFound { what: "application", id: application_id.to_string() }
                })?;
            let amount =
                amount.map(|a| parse_amount("amount", &a, application.currency)).transpose()?;
            let mut target = unit.document(&application.target_id)?;
            let mut source = unit.load_source(&match &application.source {
                SourceRef::Payment(id) => SourceInput::Payment(id.clone()),
                SourceRef::CreditMemo(id) => SourceInput::CreditMemo(id.clone()),
                SourceRef::CreditBalance => SourceInput::CreditBalance,
            })?;
            if let LoadedSource::Payment(payment) = &source
                && payment.amount.is_negative()
            {
                return Err(Rejection::NegativePaymentUnapplied {
                    id: payment.id.to_string(),
                    unapplied: amount.unwrap_or_else(|| application.net()),
                    hint: "void the payment instead: voiding a negative payment reverses all \
                           its applications",
                }
                .into());
            }
            let txn = application::reverse(&application, amount, unit.ids.txn(), unit.today)?;
            unit.record_with_source(&txn, &mut target, &mut source, Some(&mut application))?;
            unit.tx.update_document(&unit.lock, &target)?;
            unit.tx.update_application(&unit.lock, &application)?;
            Ok(application)
        })
    }

    /// Reads an application.
    pub fn application(
        &self,
        tenant_id: &TenantId,
        id: &ApplicationId,
    ) -> EngineResult<Application> {
        self.read(|tx| {
            tx.application(tenant_id, id)?.ok_or_else(|| {
                Rejection::NotFound { what: "application", id: id.to_string() }.into()
            })
        })
    }

    /// Lists applications, newest first.
    pub fn applications(
        &self,
        tenant_id: &TenantId,
        query: &ApplicationQuery,
        page: &PageRequest,
    ) -> EngineResult<Page<Application>> {
        self.read(|tx| Ok(tx.applications(tenant_id, query, page)?))
    }
}
