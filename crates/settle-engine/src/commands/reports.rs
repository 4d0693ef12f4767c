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
