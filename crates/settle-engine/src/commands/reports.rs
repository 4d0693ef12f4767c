//! Reports and journal reads: the trial balance, journal pages, aging and customer balances
//! as of a date.
//!
//! Reports as of a date are folds of the journal, not of today's projections: they sum the
//! postings of transactions effective on or before the date (the end of that day), so they show
//! what the ledger says about that day, back-dated transactions recorded later included.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use settle_core::aging::{AgingReport, age, balances_from_totals};
use settle_core::customer::Customer;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, TenantId};
use settle_core::money::Currency;
use settle_store::{AccountTotal, FeedPage, Page, PageRequest, StoreError, StoreTx, StoredTxn};

use crate::unit::today_in;
use crate::{Engine, EngineResult};

/// The trial balance of one currency. Totals span every posting, so they are `i128`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrialBalance {
    /// The currency of every amount.
    pub currency: Currency,
    /// Debit and credit totals per account, by account name.
    pub accounts: Vec<AccountTotal>,
    /// The sum of the debits.
    pub total_debit: i128,
    /// The sum of the credits (equal to `total_debit` in a sound ledger).
    pub total_credit: i128,
}

/// The aging report of every currency asked for, at one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aging {
    /// The date the balances are aged at.
    pub as_of: NaiveDate,
    /// One report per currency, by code.
    pub currencies: Vec<AgingReport>,
}

/// `only`, or every currency of the tenant's customers and of `seen`, by code.
fn currencies_of(
    tx: &mut dyn StoreTx,
    tenant_id: &TenantId,
    only: Option<Currency>,
    seen: impl IntoIterator<Item = Currency>,
) -> EngineResult<Vec<Currency>> {
    if let Some(currency) = only {
        return Ok(vec![currency]);
    }
    let mut codes: BTreeSet<&'static str> = seen.into_iter().map(Currency::code).collect();
    let customers = tx.customer_currencies(tenant_id)?;
    codes.extend(customers.into_iter().map(Currency::code));
    Ok(codes.into_iter().filter_map(|code| Currency::parse(code).ok()).collect())
}

impl Engine {
    /// The trial balance per currency (`currency`, or every currency the tenant uses, by code):
    /// debit and credit totals per account of the whole journal, or with `as_of`, of the
    /// transactions effective on or before that day.
    pub fn trial_balance(
        &self,
        tenant_id: &TenantId,
        as_of: Option<NaiveDate>,
        currency: Option<Currency>,
    ) -> EngineResult<Vec<TrialBalance>> {
        self.read(|tx| {
            let totals = match as_of {
                None => tx.account_totals(tenant_id)?,
                Some(date) => tx.account_totals_until(tenant_id, date)?,
            };
            let currencies =
                currencies_of(tx, tenant_id, currency, totals.iter().map(|t| t.currency))?;
            Ok(currencies
                .into_iter()
                .map(|currency| {
                    let accounts: Vec<AccountTotal> =
                        totals.iter().filter(|t| t.currency == currency).cloned().collect();
                    TrialBalance {
                        currency,
                        total_debit: accounts.iter().map(|t| t.debit).sum(),
                        total_credit: accounts.iter().map(|t| t.credit).sum(),
                        accounts,
                    }
                })
                .collect())
        })
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
    /// Today's date in the tenant's time zone.
    pub fn today(&self, tenant_id: &TenantId) -> EngineResult<chrono::NaiveDate> {
        crate::unit::today_in(&self.settings(tenant_id)?, self.now())
    }

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
            for balance in self.trial_balance(&tenant_id, None, None)? {
                if balance.total_debit != balance.total_credit {
                    uneven.push(format!(
                        "tenant {tenant_id} {}: debits {}, credits {}",
                        balance.currency, balance.total_debit, balance.total_credit
                    ));
                }
            }
        }
        Ok(uneven)
    }
}

impl Engine {
    /// Open invoice and debit memo balances by days past due, with each customer's available
    /// credit, as they stood at the end of `as_of` (default: today in the tenant's time zone),
    /// in `currency` or in every currency of the tenant's customers.
    pub fn aging_report(
        &self,
        tenant_id: &TenantId,
        as_of: Option<NaiveDate>,
        currency: Option<Currency>,
    ) -> EngineResult<Aging> {
        self.read(|tx| {
            let settings = tx.settings(tenant_id)?;
            let as_of = match as_of {
                Some(date) => date,
                None => today_in(&settings, self.now())?,
            };
            let mut reports = Vec::new();
            for currency in currencies_of(tx, tenant_id, currency, [])? {
                let documents = tx.open_documents_until(tenant_id, currency, as_of)?;
                let credits = tx.available_credit_until(tenant_id, currency, as_of)?;
                reports.push(age(as_of, currency, &documents, &credits));
            }
            Ok(Aging { as_of, currencies: reports })
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
                balances_from_totals(totals.iter().map(|t| (t.account, t.debit, t.credit)))
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "customer {customer_id}'s balances on {as_of} do not fit 64 bits"
                        ))
                    })?;
            Ok(customer)
        })
    }
}
