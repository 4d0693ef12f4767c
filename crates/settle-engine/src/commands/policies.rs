//! Tenant policies run inside the command that triggers them: the negative-invoice policy when a
//! document is posted, and auto-apply of available credit to the oldest open documents (oldest
//! due date first, then document number) when a document is posted or credit arrives.

use settle_core::document::{Document, DocumentKind, DocumentStatus};
use settle_core::settings::NegativeInvoicePolicy;
use settle_store::{BalanceFilter, DocumentQuery, PaymentQuery};

use super::applications::{ApplicationTarget, LoadedSource};
use crate::EngineResult;
use crate::unit::Unit;
use crate::verify::all_pages;

impl Unit<'_> {
    /// Runs the tenant's policies after `document` was posted.
    pub(crate) fn after_post(&mut self, document: &mut Document) -> EngineResult<()> {
        if document.kind == DocumentKind::CreditMemo {
            return self.after_credit_arrives();
        }
        if document.balance().is_negative() {
            match self.settings.negative_invoice_policy {
                NegativeInvoicePolicy::Keep => {}
                NegativeInvoicePolicy::TransferToCredit => {
                    self.transfer_to_credit(document, None)?
                }
                NegativeInvoicePolicy::TransferAndApply => {
                    self.transfer_to_credit(document, None)?;
                    self.apply_to_open_documents(&mut [LoadedSource::CreditBalance])?;
                }
            }
        }
        if self.settings.auto_apply_credit {
            self.auto_apply()?;
        }
        Ok(())
    }

    /// Runs auto-apply, when the tenant has it on, after credit arrived.
    pub(crate) fn after_credit_arrives(&mut self) -> EngineResult<()> {
        if self.settings.auto_apply_credit { self.auto_apply() } else { Ok(()) }
    }

    /// Applies every available source (payments oldest first, then credit memos oldest first,
    /// then the credit balance) to the open documents, oldest due date first. A customer with
    /// nothing to spend is answered from its balances, without reading any list: a payment's
    /// unapplied amount is never negative, so no unapplied total means no payment to read.
    fn auto_apply(&mut self) -> EngineResult<()> {
        let tenant_id = self.tenant_id().clone();
        let customer_id = self.customer.id.clone();
        let mut sources: Vec<LoadedSource> = Vec::new();
        if self.customer.balances.unapplied_payments != 0 {
            let query =
                PaymentQuery { customer_id: Some(customer_id.clone()), unapplied_only: true };
            let mut payments = all_pages(|page| Ok(self.tx.payments(&tenant_id, &query, page)?))?;
            payments.retain(|p| p.unapplied.is_positive());
            payments.reverse();
            payments.sort_by_key(|p| p.effective_date);
            sources.extend(payments.into_iter().map(LoadedSource::Payment));
        }
        let query = DocumentQuery {
            kinds: vec![DocumentKind::CreditMemo],
            customer_id: Some(customer_id),
            status: Some(DocumentStatus::Posted),
            balance: Some(BalanceFilter::Positive),
        };
        let mut memos = all_pages(|page| Ok(self.tx.documents(&tenant_id, &query, page)?))?;
        memos.reverse();
        sources.extend(memos.into_iter().map(LoadedSource::CreditMemo));
        if self.customer.balances.credit_balance > 0 {
            sources.push(LoadedSource::CreditBalance);
        }
        if sources.is_empty() {
            return Ok(());
        }
        self.apply_to_open_documents(&mut sources)
    }

    /// Applies `sources`, in order, to the customer's open documents, oldest due date first.
    pub(crate) fn apply_to_open_documents(
        &mut self,
        sources: &mut [LoadedSource],
    ) -> EngineResult<()> {
        let tenant_id = self.tenant_id().clone();
        let query = DocumentQuery {
            kinds: vec![DocumentKind::Invoice, DocumentKind::DebitMemo],
            customer_id: Some(self.customer.id.clone()),
            status: Some(DocumentStatus::Posted),
            balance: Some(BalanceFilter::Positive),
        };
        let mut open = all_pages(|page| Ok(self.tx.documents(&tenant_id, &query, page)?))?;
        open.sort_by(|a, b| (a.due_date, &a.number).cmp(&(b.due_date, &b.number)));
        let mut owed: Vec<i64> = open.iter().map(|d| d.balance().minor()).collect();
        for source in sources.iter_mut() {
            for (document, left) in open.iter().zip(owed.iter_mut()) {
                let available = match &*source {
                    LoadedSource::Payment(p) => p.unapplied.minor(),
                    LoadedSource::CreditMemo(m) => {
                        // Never more than the memo's balance, whatever its positive items hold.
                        let positive: i64 = m.items.iter().map(|i| i.balance.minor().max(0)).sum();
                        positive.min(m.balance().minor())
                    }
                    LoadedSource::CreditBalance => self.customer.balances.credit_balance,
                };
                let amount = available.min(*left);
                if amount <= 0 {
                    continue;
                }
                let target = ApplicationTarget {
                    target_id: document.id.clone(),
                    amount: Some(settle_core::money::Money::new(amount, document.currency).into()),
                    items: None,
                    rule: None,
                };
                self.apply_source(source, target, None)?;
                *left -= amount;
            }
            if let LoadedSource::Payment(p) = &*source {
                self.tx.update_payment(&self.lock, p)?;
            }
        }
        Ok(())
    }
}
