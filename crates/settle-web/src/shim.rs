//! Stand-in for the engine's staff and payment-link interface until it lands: same names and
//! shapes, and it lets nobody in (no session, every sign-in refused, every token unknown).

use chrono::{DateTime, Utc};
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::Document;
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, TenantId};
use settle_engine::{Engine, EngineResult};
pub(crate) use settle_store::Role;

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaffSession {
    pub(crate) user_id: String,
    pub(crate) tenant_id: TenantId,
    pub(crate) email: String,
    pub(crate) role: Role,
    pub(crate) csrf: String,
}

/// A sign-in attempt's result.
#[allow(dead_code, reason = "the stand-in never signs anyone in")]
#[derive(Debug, Clone)]
pub(crate) enum SignIn {
    Ok { token: String, session: StaffSession },
    Refused,
    Locked { until: DateTime<Utc> },
}

/// A payment link as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PaymentLink {
    pub(crate) id: String,
    pub(crate) tenant_id: TenantId,
    pub(crate) customer_id: CustomerId,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

/// A link just made.
#[allow(dead_code, reason = "the stand-in makes no links")]
#[derive(Debug, Clone)]
pub(crate) struct CreatedPaymentLink {
    pub(crate) link: PaymentLink,
    pub(crate) token: String,
}

/// The public payment page's content.
#[derive(Debug, Clone)]
pub(crate) struct PayView {
    pub(crate) business_name: String,
    pub(crate) customer: Customer,
    pub(crate) open_documents: Vec<Document>,
    pub(crate) recent_history: Vec<HistoryLine>,
}

/// The interface as the engine will have it.
pub(crate) trait StaffEngine {
    fn sign_in(&self, email: &str, password: &str) -> EngineResult<SignIn>;
    fn session(&self, token: &str) -> EngineResult<Option<StaffSession>>;
    fn sign_out(&self, token: &str) -> EngineResult<()>;
    fn create_payment_link(
        &self,
        tenant_id: &TenantId,
        customer_id: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> EngineResult<CreatedPaymentLink>;
    fn payment_links(
        &self,
        tenant_id: &TenantId,
        customer_id: &str,
    ) -> EngineResult<Vec<PaymentLink>>;
    fn revoke_payment_link(&self, tenant_id: &TenantId, link_id: &str) -> EngineResult<()>;
    fn pay_view(&self, token: &str) -> EngineResult<Option<PayView>>;
}

impl StaffEngine for Engine {
    fn sign_in(&self, _email: &str, _password: &str) -> EngineResult<SignIn> {
        Ok(SignIn::Refused)
    }
    fn session(&self, _token: &str) -> EngineResult<Option<StaffSession>> {
        Ok(None)
    }
    fn sign_out(&self, _token: &str) -> EngineResult<()> {
        Ok(())
    }
    fn create_payment_link(
        &self,
        _tenant_id: &TenantId,
        customer_id: &str,
        _expires_at: Option<DateTime<Utc>>,
    ) -> EngineResult<CreatedPaymentLink> {
        Err(Rejection::NotFound { what: "customer", id: customer_id.to_owned() }.into())
    }
    fn payment_links(
        &self,
        _tenant_id: &TenantId,
        _customer_id: &str,
    ) -> EngineResult<Vec<PaymentLink>> {
        Ok(Vec::new())
    }
    fn revoke_payment_link(&self, _tenant_id: &TenantId, link_id: &str) -> EngineResult<()> {
        Err(Rejection::NotFound { what: "payment link", id: link_id.to_owned() }.into())
    }
    fn pay_view(&self, _token: &str) -> EngineResult<Option<PayView>> {
        Ok(None)
    }
}
