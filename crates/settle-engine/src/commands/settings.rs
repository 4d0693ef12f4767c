//! Reading and changing tenant settings.

use chrono::{DateTime, NaiveDate, Utc};
use settle_core::application::Rule;
use settle_core::ids::TenantId;
use settle_core::money::Currency;
use settle_core::settings::{NegativeInvoicePolicy, Settings};
use settle_store::StoreError;

use crate::{Engine, EngineResult};

/// An IANA time zone, as the tenant wrote it: parsed once, when the settings are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone {
    name: String,
    zone: chrono_tz::Tz,
}

impl TimeZone {
    /// The zone named `name` (an IANA name such as `Europe/Paris`), if there is one.
    pub fn parse(name: &str) -> Option<TimeZone> {
        let zone = name.parse::<chrono_tz::Tz>().ok()?;
        Some(TimeZone { name: name.to_owned(), zone })
    }

    /// The zone's name exactly as written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The date it is in this zone at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.zone).date_naive()
    }

    /// The wall-clock date and time in this zone at `now`.
    pub fn local(&self, now: DateTime<Utc>) -> chrono::NaiveDateTime {
        now.with_timezone(&self.zone).naive_local()
    }

    /// The zone of stored settings. Only a zone that parsed was ever written, so one that does
    /// not is corrupt data, never a silent UTC.
    pub(crate) fn of(settings: &Settings) -> Result<TimeZone, StoreError> {
        TimeZone::parse(&settings.time_zone).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown stored time zone {:?}", settings.time_zone))
        })
    }
}

/// Changes to the settings; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    /// Currency of new customers.
    pub default_currency: Option<Currency>,
    /// The time zone that decides "today".
    pub time_zone: Option<TimeZone>,
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
        let mut tx = self.begin_outside_unit()?;
        let mut settings = tx.settings(tenant_id)?;
        if let Some(currency) = patch.default_currency {
            settings.default_currency = currency;
        }
        if let Some(zone) = patch.time_zone {
            settings.time_zone = zone.name;
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
