//! Reading and changing tenant settings.

use settle_core::application::Rule;
use settle_core::error::Rejection;
use settle_core::ids::TenantId;
use settle_core::money::Currency;
use settle_core::settings::{NegativeInvoicePolicy, Settings};

use crate::{Engine, EngineResult};

/// Changes to the settings; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    /// ISO 4217 code for new customers.
    pub default_currency: Option<String>,
    /// IANA time zone that decides "today".
    pub time_zone: Option<String>,
    /// Default application rule.
    pub application_rule: Option<Rule>,
    /// What happens to negative documents when posted.
    pub negative_invoice_policy: Option<NegativeInvoicePolicy>,
    /// Apply available credit automatically.
    pub auto_apply_credit: Option<bool>,
}

impl Engine {
    /// Changes the tenant's settings.
    pub fn update_settings(
        &self,
        tenant_id: &TenantId,
        patch: SettingsPatch,
    ) -> EngineResult<Settings> {
        let mut tx = self.store.begin_write()?;
        let mut settings = tx.settings(tenant_id)?;
        if let Some(code) = patch.default_currency {
            settings.default_currency =
                Currency::parse(&code).map_err(|e| Rejection::money("default_currency", e))?;
        }
        if let Some(zone) = patch.time_zone {
            if zone.parse::<chrono_tz::Tz>().is_err() {
                return Err(Rejection::invalid(
                    "time_zone",
                    "an IANA time zone such as Europe/Paris",
                )
                .into());
            }
            settings.time_zone = zone;
        }
        if let Some(rule) = patch.application_rule {
            settings.application_rule = rule;
        }
        if let Some(policy) = patch.negative_invoice_policy {
            settings.negative_invoice_policy = policy;
        }
        if let Some(auto) = patch.auto_apply_credit {
            settings.auto_apply_credit = auto;
        }
        tx.update_settings(tenant_id, &settings)?;
        tx.commit()?;
        Ok(settings)
    }
}
