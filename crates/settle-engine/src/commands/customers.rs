//! Creating, changing, reading and listing customers.

use settle_core::customer::{Balances, Customer, HistoryLine};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, TenantId};
use settle_core::money::Currency;
use settle_store::{CustomerQuery, Page, PageRequest};

use super::check_text;
use crate::{Engine, EngineResult};

/// A request for a new customer.
#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    /// Name (required).
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// ISO 4217 code; the tenant's default currency when absent.
    pub currency: Option<String>,
    /// Payment terms in days (default 30).
    pub payment_terms_days: Option<u32>,
    /// A JSON object, as text.
    pub metadata: Option<String>,
}

/// Changes to a customer's profile; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct CustomerPatch {
    /// New name.
    pub name: Option<String>,
    /// New email (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// New payment terms.
    pub payment_terms_days: Option<u32>,
    /// New metadata (a JSON object, as text).
    pub metadata: Option<String>,
}

/// Default payment terms: net 30.
pub const DEFAULT_PAYMENT_TERMS_DAYS: u32 = 30;

pub(crate) fn check_email(email: &str) -> Result<(), Rejection> {
    check_text("email", email, true)?;
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if valid { Ok(()) } else { Err(Rejection::invalid("email", "not an email address")) }
}

pub(crate) fn check_terms(days: u32) -> Result<(), Rejection> {
    if days > 3650 {
        return Err(Rejection::invalid("payment_terms_days", "at most 3650 days"));
    }
    Ok(())
}

impl Engine {
    /// Creates a customer with zero balances.
    pub fn create_customer(
        &self,
        tenant_id: &TenantId,
        new: NewCustomer,
    ) -> EngineResult<Customer> {
        check_text("name", &new.name, true)?;
        if let Some(email) = &new.email {
            check_email(email)?;
        }
        let terms = new.payment_terms_days.unwrap_or(DEFAULT_PAYMENT_TERMS_DAYS);
        check_terms(terms)?;
        let mut tx = self.begin_outside_unit()?;
        self.check_idempotency(tx.as_mut(), tenant_id)?;
        let settings = tx.settings(tenant_id)?;
        let currency = match &new.currency {
            Some(code) => Currency::parse(code).map_err(|e| Rejection::money("currency", e))?,
            None => settings.default_currency,
        };
        let customer = Customer {
            id: self.new_ids().customer(),
            name: new.name.trim().to_owned(),
            email: new.email,
            currency,
            payment_terms_days: terms,
            metadata: new.metadata.unwrap_or_else(|| "{}".to_owned()),
            created_at: self.now(),
            balances: Balances::default(),
        };
        tx.insert_customer(tenant_id, &customer)?;
        self.save_idempotency(tx.as_mut(), tenant_id, &customer)?;
        tx.commit()?;
        Ok(customer)
    }

    /// Changes a customer's profile.
    pub fn update_customer(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        patch: CustomerPatch,
    ) -> EngineResult<Customer> {
        if let Some(name) = &patch.name {
            check_text("name", name, true)?;
        }
        if let Some(Some(email)) = &patch.email {
            check_email(email)?;
        }
        if let Some(days) = patch.payment_terms_days {
            check_terms(days)?;
        }
        self.write(tenant_id, customer_id, |unit| {
            if let Some(name) = patch.name {
                unit.customer.name = name.trim().to_owned();
            }
            if let Some(email) = patch.email {
                unit.customer.email = email;
            }
            if let Some(days) = patch.payment_terms_days {
                unit.customer.payment_terms_days = days;
            }
            if let Some(metadata) = patch.metadata {
                unit.customer.metadata = metadata;
            }
            Ok(unit.customer.clone())
        })
    }

    /// Reads a customer.
    pub fn customer(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
    ) -> EngineResult<Customer> {
        self.read_flight(|tx| {
            tx.customer(tenant_id, customer_id)?.ok_or_else(|| {
                Rejection::NotFound { what: "customer", id: customer_id.to_string() }.into()
            })
        })
    }

    /// Lists customers.
    pub fn customers(
        &self,
        tenant_id: &TenantId,
        query: &CustomerQuery,
        page: &PageRequest,
    ) -> EngineResult<Page<Customer>> {
        self.read(|tx| Ok(tx.customers(tenant_id, query, page)?))
    }

    /// A customer's billing history, newest first.
    pub fn history(
        &self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        page: &PageRequest,
    ) -> EngineResult<Page<HistoryLine>> {
        self.read(|tx| {
            if tx.customer(tenant_id, customer_id)?.is_none() {
                return Err(
                    Rejection::NotFound { what: "customer", id: customer_id.to_string() }.into()
                );
            }
            Ok(tx.history(tenant_id, customer_id, page)?)
        })
    }
}
