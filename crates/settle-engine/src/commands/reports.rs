//! Reports and journal reads: the trial balance and journal pages.

use settle_core::ids::{CustomerId, TenantId};
use settle_store::{AccountTotal, Page, PageRequest, StoredTxn};

use crate::{Engine, EngineResult};

impl Engine {
    /// Debit and credit totals per account and currency.
    pub fn trial_balance(&self, tenant_id: &TenantId) -> EngineResult<Vec<AccountTotal>> {
        self.read(|tx| Ok(tx.account_totals(tenant_id)?))
    }

    /// The journal in order, optionally of one customer.
    pub fn journal(
        &self,
        tenant_id: &TenantId,
        customer_id: Option<&CustomerId>,
        page: &PageRequest,
    ) -> EngineResult<Page<StoredTxn>> {
        self.read(|tx| Ok(tx.journal(tenant_id, customer_id, page)?))
    }
}

impl Engine {
    /// The tenant's settings.
    pub fn settings(&self, tenant_id: &TenantId) -> EngineResult<settle_core::settings::Settings> {
        self.read(|tx| Ok(tx.settings(tenant_id)?))
    }
}

impl Engine {
    /// A quick audit for startup: every tenant's trial balance is even in every currency.
    /// Returns the accounts' totals that are not.
    pub fn audit_trial_balances(&self) -> EngineResult<Vec<String>> {
        let mut uneven = Vec::new();
        for tenant_id in self.tenants()? {
            let mut sums: std::collections::BTreeMap<&'static str, (i128, i128)> =
                Default::default();
            for total in self.trial_balance(&tenant_id)? {
                let entry = sums.entry(total.currency.code()).or_default();
                entry.0 += i128::from(total.debit);
                entry.1 += i128::from(total.credit);
            }
            for (currency, (debit, credit)) in sums {
                if debit != credit {
                    uneven.push(format!(
                        "tenant {tenant_id} {currency}: debits {debit}, credits {credit}"
                    ));
                }
            }
        }
        Ok(uneven)
    }
}
