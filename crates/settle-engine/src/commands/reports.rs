//! Reports and journal reads: the trial balance, journal pages, aging and customer balances
//! as of a date.
//!
//! Reports as of a date are folds of the journal, not of today's projections: they sum the
//! postings of transactions effective on or before the date (the end of that day), so they show
//! what the ledger says about that day, back-dated transactions recorded later included.

use chrono::NaiveDate;
use settle_core::aging::{AgingReport, age, balances_from_totals};
use settle_core::customer::Customer;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, TenantId};
use settle_core::money::Currency;
use settle_store::{AccountTotal, FeedPage, Page, PageRequest, StoredTxn};

use crate::unit::today_in;
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

    /// The tenant's journal as a feed: the page after `page.cursor` (from the start without
    /// one). Following `next_cursor` from the start sees every transaction exactly once, also
    /// while others commit; on the last page `next_cursor` is where to poll from later.
    pub fn journal_feed(&self, tenant_id: &TenantId, page: &PageRequest) -> EngineResult<FeedPage> {
        self.store.await_feed(tenant_id)?;
        self.read(|tx| Ok(tx.journal_feed(tenant_id, page)?))
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

impl Engine {
    /// Open invoice and debit memo balances in `currency` (default: the tenant's default
    /// currency) by days past due, as they stood at the end of `as_of` (default: today in the
    /// tenant's time zone).
    pub fn aging_report(
        &self,
        tenant_id: &TenantId,
        as_of: Option<NaiveDate>,
        currency: Option<Currency>,
    ) -> EngineResult<AgingReport> {
        self.read(|tx| {
            let settings = tx.settings(tenant_id)?;
            let as_of = as_of.unwrap_or_else(|| today_in(&settings.time_zone, self.now()));
            let currency = currency.unwrap_or(settings.default_currency);
            let documents = tx.open_documents_until(tenant_id, currency, as_of)?;
            Ok(age(as_of, currency, &documents))
        })
    }

    /// The customer with its balances as they stood at the end of `as_of`, from the journal.
    pub fn customer_as_of(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        as_of: NaiveDate,
    ) -> EngineResult<Customer> {
        self.read(|tx| {
            let mut customer = tx.customer(tenant_id, customer_id)?.ok_or_else(|| {
                Rejection::NotFound { what: "customer", id: customer_id.to_string() }
            })?;
            let totals = tx.customer_account_totals_until(tenant_id, customer_id, as_of)?;
            customer.balances =
                balances_from_totals(totals.iter().map(|t| (t.account, t.debit, t.credit)));
            Ok(customer)
        })
    }
}
