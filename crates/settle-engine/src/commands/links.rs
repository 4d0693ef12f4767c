//! Payment links: a secret URL that shows one customer what it owes, without signing in.
//! Only the SHA-256 of a link's token is stored; unknown, revoked and expired tokens are alike.

use chrono::{DateTime, Utc};
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::{Document, DocumentStatus};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, PaymentLinkId, TenantId};
use settle_store::{BalanceFilter, DocumentQuery, PageRequest, PaymentLinkRecord, StoreTx};

use super::staff::token_hash;
use crate::{Engine, EngineResult};

/// How many history lines the payment page shows.
pub const PAY_VIEW_HISTORY: u32 = 20;

/// A payment link as listed (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLink {
    /// The link's id.
    pub id: PaymentLinkId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The customer it shows.
    pub customer_id: CustomerId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A link just made; `token` (at least 256 random bits, URL-safe) is shown only now.
#[derive(Debug, Clone)]
pub struct CreatedPaymentLink {
    /// The link.
    pub link: PaymentLink,
    /// The secret of its URL (`/pay/{token}`).
    pub token: String,
}

/// What the public payment page shows (one customer only).
#[derive(Debug, Clone)]
pub struct PayView {
    /// The tenant's name.
    pub business_name: String,
    /// The customer with its balances (signed as the API shows them: negative owes).
    pub customer: Customer,
    /// Posted documents whose balance is not zero, oldest due date first.
    pub open_documents: Vec<Document>,
    /// Billing history, newest first, at most [`PAY_VIEW_HISTORY`] lines.
    pub recent_history: Vec<HistoryLine>,
}

fn shown(record: PaymentLinkRecord) -> PaymentLink {
    PaymentLink {
        id: record.id,
        tenant_id: record.tenant_id,
        customer_id: record.customer_id,
        created_at: record.created_at,
        expires_at: record.expires_at,
        revoked_at: record.revoked_at,
    }
}

fn customer_not_found(customer_id: &str) -> Rejection {
    Rejection::NotFound { what: "customer", id: customer_id.to_owned() }
}

/// The tenant's customer named by `customer_id`, or `NotFound`.
fn known_customer(
    tx: &mut dyn StoreTx,
    tenant_id: &TenantId,
    customer_id: &str,
) -> EngineResult<Customer> {
    let id = CustomerId::parse(customer_id).ok_or_else(|| customer_not_found(customer_id))?;
    Ok(tx.customer(tenant_id, &id)?.ok_or_else(|| customer_not_found(customer_id))?)
}

/// Every posted document of the customer with a balance, oldest due date first.
fn open_documents(
    tx: &mut dyn StoreTx,
    tenant_id: &TenantId,
    customer_id: &CustomerId,
) -> EngineResult<Vec<Document>> {
    let query = DocumentQuery {
        customer_id: Some(customer_id.clone()),
        status: Some(DocumentStatus::Posted),
        balance: Some(BalanceFilter::Open),
        ..DocumentQuery::default()
    };
    let mut page = PageRequest { limit: 500, cursor: None };
    let mut out = Vec::new();
    loop {
        let rows = tx.documents(tenant_id, &query, &page)?;
        out.extend(rows.rows.into_iter().filter(|d| !d.balance().is_zero()));
        match rows.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    out.sort_by(|a, b| (a.due_date, &a.number).cmp(&(b.due_date, &b.number)));
    Ok(out)
}

impl Engine {
    /// Makes a link to the customer's payment page. `NotFound` for an unknown customer of the
    /// tenant; an `expires_at` not in the future is refused (field `expires_at`).
    pub fn create_payment_link(
        &self,
        tenant_id: &TenantId,
        customer_id: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> EngineResult<CreatedPaymentLink> {
        let now = self.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Rejection::invalid("expires_at", "must be in the future").into());
        }
        let mut tx = self.begin_outside_unit()?;
        self.check_idempotency(tx.as_mut(), tenant_id)?;
        let customer = known_customer(tx.as_mut(), tenant_id, customer_id)?;
        let token = self.secret(44);
        let record = PaymentLinkRecord {
            id: self.new_ids().payment_link(),
            tenant_id: tenant_id.clone(),
            customer_id: customer.id,
            token_hash: token_hash(&token),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        tx.insert_payment_link(&record)?;
        let created = CreatedPaymentLink { link: shown(record), token };
        self.save_idempotency(tx.as_mut(), tenant_id, &created)?;
        tx.commit()?;
        Ok(created)
    }

    /// Live and past links of a customer, newest first; `NotFound` for an unknown customer.
    pub fn payment_links(
        &self,
        tenant_id: &TenantId,
        customer_id: &str,
    ) -> EngineResult<Vec<PaymentLink>> {
        self.read(|tx| {
            let customer = known_customer(tx, tenant_id, customer_id)?;
            Ok(tx.payment_links(tenant_id, &customer.id)?.into_iter().map(shown).collect())
        })
    }

    /// Revokes a link; effective on the next request. Unknown, another tenant's or already
    /// revoked → `NotFound`.
    pub fn revoke_payment_link(&self, tenant_id: &TenantId, link_id: &str) -> EngineResult<()> {
        let not_found = || Rejection::NotFound { what: "payment link", id: link_id.to_owned() };
        let id = PaymentLinkId::parse(link_id).ok_or_else(not_found)?;
        let mut tx = self.begin_outside_unit()?;
        if !tx.revoke_payment_link(tenant_id, &id, self.now())? {
            return Err(not_found().into());
        }
        tx.commit()?;
        Ok(())
    }

    /// The page behind a raw token: `None` for unknown, revoked and expired tokens alike.
    pub fn pay_view(&self, token: &str) -> EngineResult<Option<PayView>> {
        let now = self.now();
        self.read(|tx| {
            let Some(link) = tx.payment_link_by_hash(&token_hash(token))? else { return Ok(None) };
            if link.revoked_at.is_some() || link.expires_at.is_some_and(|at| at <= now) {
                return Ok(None);
            }
            let Some(customer) = tx.customer(&link.tenant_id, &link.customer_id)? else {
                return Ok(None);
            };
            // The business's name as set in the settings, else the tenant's.
            let named = tx.settings(&link.tenant_id)?.business_name;
            let business_name = if named.is_empty() {
                tx.tenant_name(&link.tenant_id)?.unwrap_or_default()
            } else {
                named
            };
            let open_documents = open_documents(tx, &link.tenant_id, &customer.id)?;
            let history = PageRequest { limit: PAY_VIEW_HISTORY, cursor: None };
            let recent_history = tx.history(&link.tenant_id, &customer.id, &history)?.rows;
            Ok(Some(PayView { business_name, customer, open_documents, recent_history }))
        })
    }
}
