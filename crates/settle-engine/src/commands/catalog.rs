//! The catalog: products and their prices. Not ledger state, so no customer lock; a price is
//! never changed once made, except that it may be archived (it then starts no new subscription
//! or item, and keeps billing the ones it has).

use rust_decimal::Decimal;
use settle_core::error::Rejection;
use settle_core::ids::{PriceId, ProductId, TenantId};
use settle_core::money::Currency;
use settle_core::subscription::{Interval, Price, Product, Recurring, check_price};
use settle_store::{Page, PageRequest};

use super::{Amount, check_text, parse_amount};
use crate::{Engine, EngineResult};

/// A request for a product.
#[derive(Debug, Clone, Default)]
pub struct NewProduct {
    /// Its name, shown on invoice lines.
    pub name: String,
    /// A longer description.
    pub description: Option<String>,
}

/// A request for a price.
#[derive(Debug, Clone)]
pub struct NewPrice {
    /// The product.
    pub product_id: ProductId,
    /// The currency's code.
    pub currency: String,
    /// Amount per unit, in the currency.
    pub unit_amount: Amount,
    /// `Some((interval, interval_count))` for a recurring price (`"month"` or `"year"`, count
    /// default 1); `None` for one-time.
    pub recurring: Option<(String, Option<u32>)>,
    /// Tax in percent.
    pub tax_rate: Option<Decimal>,
}

impl Engine {
    /// Creates a product.
    pub fn create_product(&self, tenant_id: &TenantId, new: NewProduct) -> EngineResult<Product> {
        check_text("name", &new.name, true)?;
        if let Some(description) = &new.description {
            check_text("description", description, false)?;
        }
        let product = Product {
            id: self.new_ids().product(),
            name: new.name,
            description: new.description,
            created_at: self.now(),
        };
        let mut tx = self.begin_outside_unit()?;
        self.check_idempotency(tx.as_mut(), tenant_id)?;
        tx.insert_product(tenant_id, &product)?;
        self.save_idempotency(tx.as_mut(), tenant_id, &product)?;
        tx.commit()?;
        Ok(product)
    }

    /// A product of the tenant.
    pub fn product(&self, tenant_id: &TenantId, id: &ProductId) -> EngineResult<Product> {
        self.read(|tx| {
            tx.product(tenant_id, id)?
                .ok_or_else(|| Rejection::NotFound { what: "product", id: id.to_string() }.into())
        })
    }

    /// The tenant's products.
    pub fn products(
        &self,
        tenant_id: &TenantId,
        page: &PageRequest,
    ) -> EngineResult<Page<Product>> {
        self.read(|tx| Ok(tx.products(tenant_id, page)?))
    }

    /// Creates a price of a product.
    pub fn create_price(&self, tenant_id: &TenantId, new: NewPrice) -> EngineResult<Price> {
        let currency = Currency::parse(&new.currency)
            .map_err(|_| Rejection::invalid("currency", "an ISO 4217 currency code"))?;
        let unit_amount = parse_amount("unit_amount", &new.unit_amount, currency)?;
        check_price(unit_amount, new.tax_rate)?;
        let recurring = match new.recurring {
            None => None,
            Some((interval, count)) => {
                let interval = Interval::parse(&interval).ok_or_else(|| {
                    Rejection::invalid("recurring.interval", "\"month\" or \"year\"")
                })?;
                Some(Recurring::new(interval, count.unwrap_or(1))?)
            }
        };
        let mut tx = self.begin_outside_unit()?;
        self.check_idempotency(tx.as_mut(), tenant_id)?;
        let product = tx.product(tenant_id, &new.product_id)?.ok_or_else(|| {
            Rejection::NotFound { what: "product", id: new.product_id.to_string() }
        })?;
        let price = Price {
            id: self.new_ids().price(),
            product_id: product.id,
            product_name: product.name,
            unit_amount,
            recurring,
            tax_rate: new.tax_rate,
            archived: false,
            created_at: self.now(),
        };
        tx.insert_price(tenant_id, &price)?;
        self.save_idempotency(tx.as_mut(), tenant_id, &price)?;
        tx.commit()?;
        Ok(price)
    }

    /// A price of the tenant.
    pub fn price(&self, tenant_id: &TenantId, id: &PriceId) -> EngineResult<Price> {
        self.read(|tx| {
            tx.price(tenant_id, id)?
                .ok_or_else(|| Rejection::NotFound { what: "price", id: id.to_string() }.into())
        })
    }

    /// The tenant's prices, optionally of one product.
    pub fn prices(
        &self,
        tenant_id: &TenantId,
        product_id: Option<&ProductId>,
        page: &PageRequest,
    ) -> EngineResult<Page<Price>> {
        self.read(|tx| Ok(tx.prices(tenant_id, product_id, page)?))
    }

    /// Archives a price (archiving an archived price changes nothing and answers it).
    pub fn archive_price(&self, tenant_id: &TenantId, id: &PriceId) -> EngineResult<Price> {
        let mut tx = self.begin_outside_unit()?;
        self.check_idempotency(tx.as_mut(), tenant_id)?;
        if tx.price(tenant_id, id)?.is_none() {
            return Err(Rejection::NotFound { what: "price", id: id.to_string() }.into());
        }
        tx.archive_price(tenant_id, id, self.now())?;
        let price = tx
            .price(tenant_id, id)?
            .ok_or_else(|| Rejection::NotFound { what: "price", id: id.to_string() })?;
        self.save_idempotency(tx.as_mut(), tenant_id, &price)?;
        tx.commit()?;
        Ok(price)
    }
}
