//! The catalog, subscriptions, amendments and bill runs: request bodies and answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use settle_core::subscription::{Price, Product, Segment};
use settle_engine::{AmendmentOutcome, SubscriptionView};
use settle_store::BillRun;
use utoipa::ToSchema;

use super::{AmountIn, DateIn, DecimalIn, DocumentOut, PreviewOut, timestamp};

/// `{name, description?}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductIn {
    /// Shown on invoice lines.
    pub(crate) name: String,
    pub(crate) description: Option<String>,
}

/// A product (`prod_`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProductOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) created_at: String,
}

impl From<&Product> for ProductOut {
    fn from(p: &Product) -> ProductOut {
        ProductOut {
            id: p.id.to_string(),
            object: "product",
            name: p.name.clone(),
            description: p.description.clone(),
            created_at: timestamp(p.created_at),
        }
    }
}

/// How often a price bills.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecurringIn {
    /// `month` or `year`.
    pub(crate) interval: String,
    /// Periods of `interval_count` intervals (default 1; at most 36 months in all).
    pub(crate) interval_count: Option<u32>,
}

/// `{product_id, currency, unit_amount, recurring?, tax_rate?}`; no `recurring` is one-time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PriceIn {
    pub(crate) product_id: String,
    /// ISO 4217, the currency of the customers it may bill.
    pub(crate) currency: String,
    /// The flat amount per unit, zero or more.
    pub(crate) unit_amount: AmountIn,
    pub(crate) recurring: Option<RecurringIn>,
    /// A percent (`"8.25"`): each invoice line of the price gets a tax item at this rate,
    /// rounded half away from zero; prorated lines prorate their tax item.
    pub(crate) tax_rate: Option<DecimalIn>,
}

/// How often a price bills.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecurringOut {
    pub(crate) interval: &'static str,
    pub(crate) interval_count: u32,
}

/// A price (`price_`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PriceOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) product_id: String,
    pub(crate) currency: String,
    #[schema(schema_with = crate::schema::amount)]
    pub(crate) unit_amount: String,
    /// `null` for a one-time price.
    pub(crate) recurring: Option<RecurringOut>,
    #[schema(schema_with = crate::schema::decimal)]
    pub(crate) tax_rate: Option<String>,
    /// `false` once archived: it starts no new subscription or item, and keeps billing the
    /// ones it has.
    pub(crate) active: bool,
    pub(crate) created_at: String,
}

impl From<&Price> for PriceOut {
    fn from(p: &Price) -> PriceOut {
        PriceOut {
            id: p.id.to_string(),
            object: "price",
            product_id: p.product_id.to_string(),
            currency: p.currency().code().to_owned(),
            unit_amount: p.unit_amount.to_string(),
            recurring: p.recurring.map(|r| RecurringOut {
                interval: r.interval.name(),
                interval_count: r.interval_count,
            }),
            tax_rate: p.tax_rate.map(|r| r.to_string()),
            active: !p.archived,
            created_at: timestamp(p.created_at),
        }
    }
}

/// An item of a new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscriptionItemIn {
    pub(crate) price_id: String,
    /// Default 1.
    pub(crate) quantity: Option<DecimalIn>,
}

/// `{customer_id, start_date?, items}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscriptionIn {
    pub(crate) customer_id: String,
    /// The billing anchor; default today in the tenant's time zone.
    pub(crate) start_date: Option<DateIn>,
    pub(crate) items: Vec<SubscriptionItemIn>,
}

/// An item of a subscription as it runs today.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SubscriptionItemOut {
    /// `si_`: the same across quantity and price changes.
    pub(crate) id: String,
    pub(crate) price_id: String,
    #[schema(schema_with = crate::schema::decimal)]
    pub(crate) quantity: String,
    #[schema(schema_with = crate::schema::date)]
    pub(crate) starts_on: String,
    #[schema(schema_with = crate::schema::date_or_null)]
    pub(crate) ends_on: Option<String>,
}

impl From<&Segment> for SubscriptionItemOut {
    fn from(s: &Segment) -> SubscriptionItemOut {
        SubscriptionItemOut {
            id: s.item_id.to_string(),
            price_id: s.price_id.to_string(),
            quantity: s.quantity.to_string(),
            starts_on: s.starts_on.to_string(),
            ends_on: s.ends_on.map(|d| d.to_string()),
        }
    }
}

/// A subscription (`sub_`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SubscriptionOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) customer_id: String,
    /// `active` or `canceled`.
    pub(crate) status: &'static str,
    #[schema(schema_with = crate::schema::date)]
    pub(crate) start_date: String,
    /// The period containing today (the first one before the start).
    #[schema(schema_with = crate::schema::date)]
    pub(crate) current_period_start: String,
    /// The day after the current period's last day.
    #[schema(schema_with = crate::schema::date)]
    pub(crate) current_period_end: String,
    /// The period length of its recurring prices.
    pub(crate) recurring: RecurringOut,
    /// The day service ends (exclusive), once a cancellation is made.
    #[schema(schema_with = crate::schema::date_or_null)]
    pub(crate) ends_on: Option<String>,
    /// How many periods, from the first, are invoiced.
    pub(crate) billed_periods: u32,
    /// The items running today (or, before the start, those it starts with).
    pub(crate) items: Vec<SubscriptionItemOut>,
    /// Every price and quantity each item had or will have, with their days.
    pub(crate) item_history: Vec<SubscriptionItemOut>,
    pub(crate) created_at: String,
}

impl From<&SubscriptionView> for SubscriptionOut {
    fn from(v: &SubscriptionView) -> SubscriptionOut {
        let s = &v.subscription;
        SubscriptionOut {
            id: s.id.to_string(),
            object: "subscription",
            customer_id: s.customer_id.to_string(),
            status: s.status.name(),
            start_date: s.start_date.to_string(),
            current_period_start: v.current_period.start.to_string(),
            current_period_end: v.current_period.end.to_string(),
            recurring: RecurringOut {
                interval: s.recurring.interval.name(),
                interval_count: s.recurring.interval_count,
            },
            ends_on: s.ends_on.map(|d| d.to_string()),
            billed_periods: s.billed_periods,
            items: v.items.iter().map(SubscriptionItemOut::from).collect(),
            item_history: s.segments.iter().map(SubscriptionItemOut::from).collect(),
            created_at: timestamp(s.created_at),
        }
    }
}

/// One change of an amendment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeIn {
    /// `add_item`, `remove_item`, `change_quantity`, `change_price` or `cancel`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// The subscription item (`si_`), for `remove_item`, `change_quantity`, `change_price`.
    pub(crate) item_id: Option<String>,
    /// The price, for `add_item` and `change_price`.
    pub(crate) price_id: Option<String>,
    /// For `add_item` (default 1) and `change_quantity`.
    pub(crate) quantity: Option<DecimalIn>,
}

/// `{effective_date?, timing?, changes}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmendmentIn {
    /// Default today in the tenant's time zone.
    pub(crate) effective_date: Option<DateIn>,
    /// `immediate` (default) or `end_of_period`.
    pub(crate) timing: Option<String>,
    pub(crate) changes: Vec<ChangeIn>,
}

/// `{effective_date?, at_period_end?}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelIn {
    /// Default today in the tenant's time zone.
    pub(crate) effective_date: Option<DateIn>,
    /// `true`: at the end of the period containing `effective_date`, with no proration.
    #[serde(default)]
    pub(crate) at_period_end: bool,
}

/// An amendment (`amd_`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AmendmentOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) subscription_id: String,
    #[schema(schema_with = crate::schema::date)]
    pub(crate) effective_date: String,
    pub(crate) timing: &'static str,
    /// The day the changes took effect: `effective_date`, or the end of its period.
    #[schema(schema_with = crate::schema::date)]
    pub(crate) takes_effect_on: String,
    /// The change types, in order.
    pub(crate) changes: Vec<String>,
    /// The proration invoice, if it made one.
    pub(crate) invoice_id: Option<String>,
    pub(crate) created_at: String,
}

/// `{amendment, subscription, invoice}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AmendmentOutcomeOut {
    pub(crate) amendment: AmendmentOut,
    pub(crate) subscription: SubscriptionOut,
    /// The proration invoice (posted, policies run), or `null`.
    pub(crate) invoice: Option<DocumentOut>,
}

impl From<&AmendmentOutcome> for AmendmentOutcomeOut {
    fn from(o: &AmendmentOutcome) -> AmendmentOutcomeOut {
        let a = &o.amendment;
        AmendmentOutcomeOut {
            amendment: AmendmentOut {
                id: a.id.to_string(),
                object: "amendment",
                subscription_id: a.subscription_id.to_string(),
                effective_date: a.effective_date.to_string(),
                timing: a.timing.name(),
                takes_effect_on: a.takes_effect_on.to_string(),
                changes: a.changes.split(',').map(str::to_owned).collect(),
                invoice_id: a.document_id.as_ref().map(ToString::to_string),
                created_at: timestamp(a.created_at),
            },
            subscription: SubscriptionOut::from(&o.subscription),
            invoice: o.invoice.as_ref().map(DocumentOut::from),
        }
    }
}

/// What an amendment would do: `{amendment, subscription, invoice, preview}`; nothing was
/// written, and the ids are not those a real request makes.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AmendmentPreviewOut {
    pub(crate) amendment: AmendmentOut,
    pub(crate) subscription: SubscriptionOut,
    pub(crate) invoice: Option<DocumentOut>,
    pub(crate) preview: PreviewOut,
}

/// `{as_of, customer_ids?}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BillRunIn {
    pub(crate) as_of: DateIn,
    /// Only these customers (default: every customer with a period due).
    pub(crate) customer_ids: Option<Vec<String>>,
}

/// A customer whose billing was refused (and rolled back alone).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BillRunFailureOut {
    pub(crate) customer_id: String,
    /// The problem's `code`, a colon and its detail.
    pub(crate) reason: String,
}

/// A bill run (`br_`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BillRunOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    #[schema(schema_with = crate::schema::date)]
    pub(crate) as_of: String,
    /// `running`, `done`, `stopped` (a shutdown stopped it at a customer boundary, at
    /// `stopped_at`) or `interrupted` (its process died: still unfinished, and no progress
    /// committed for ten minutes). What a stopped or interrupted run committed stands, and a new
    /// run for the same date bills the rest.
    #[schema(example = "done")]
    pub(crate) status: &'static str,
    pub(crate) customers_total: u32,
    pub(crate) customers_done: u32,
    pub(crate) invoices_created: u32,
    /// The invoices' total per currency code, such as `{"USD": "90.00"}`.
    pub(crate) total: BTreeMap<String, String>,
    pub(crate) failures: Vec<BillRunFailureOut>,
    pub(crate) created_at: String,
    pub(crate) finished_at: Option<String>,
    /// When the run last committed progress.
    pub(crate) updated_at: String,
    pub(crate) stopped_at: Option<String>,
}

impl From<&BillRun> for BillRunOut {
    fn from(r: &BillRun) -> BillRunOut {
        BillRunOut {
            id: r.id.to_string(),
            object: "bill_run",
            as_of: r.as_of.to_string(),
            status: r.status.name(),
            customers_total: r.customers_total,
            customers_done: r.customers_done,
            invoices_created: r.invoices_created,
            total: r
                .totals
                .iter()
                .map(|t| (t.currency().code().to_owned(), t.to_string()))
                .collect(),
            failures: r
                .failures
                .iter()
                .map(|(c, reason)| BillRunFailureOut {
                    customer_id: c.to_string(),
                    reason: reason.clone(),
                })
                .collect(),
            created_at: timestamp(r.created_at),
            finished_at: r.finished_at.map(timestamp),
            updated_at: timestamp(r.updated_at),
            stopped_at: r.stopped_at.map(timestamp),
        }
    }
}
