//! The port's part for the catalog, subscriptions, amendments and bill runs:
//! [`BillingTx`], which every [`StoreTx`](crate::StoreTx) also is, and its records.
//!
//! Nothing here is ledger state: invoices made by subscriptions are ordinary documents. The
//! one guarantee the store adds is exactly-once billing: a row per invoiced (subscription,
//! period start), unique, written in the same transaction as the invoice.

use chrono::{DateTime, NaiveDate, Utc};
use settle_core::ids::{
    AmendmentId, BillRunId, CustomerId, DocumentId, ItemId, PriceId, ProductId, SubscriptionId,
    SubscriptionItemId, TenantId,
};
use settle_core::money::Money;
use settle_core::subscription::{Price, Product, Subscription, SubscriptionStatus, Timing};

use crate::{CustomerLock, Page, PageRequest, StoreResult};

/// Which invoice item charged one segment of an item in one period (what a proration credits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledLine {
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// The invoiced period's first day.
    pub period_start: NaiveDate,
    /// The subscription item.
    pub item_id: SubscriptionItemId,
    /// The first day of the item's segment that was charged.
    pub segment_start: NaiveDate,
    /// The invoice item that charged it.
    pub invoice_item_id: ItemId,
}

/// An amendment as it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentRecord {
    /// `amd_…`.
    pub id: AmendmentId,
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// The date asked for.
    pub effective_date: NaiveDate,
    /// Immediate or at the period's end.
    pub timing: Timing,
    /// The day its changes took effect.
    pub takes_effect_on: NaiveDate,
    /// The change types, comma separated (`change_price,add_item`).
    pub changes: String,
    /// The proration invoice it made, if any.
    pub document_id: Option<DocumentId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Where a bill run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillRunStatus {
    /// Customers are being billed.
    Running,
    /// Every customer was billed or failed.
    Done,
    /// A shutdown stopped it at a customer boundary ([`BillRun::stopped_at`]); a new run for
    /// the same date bills the rest.
    Stopped,
    /// Its process died half way (as with kill -9): it is still marked running but has not
    /// committed progress for longer than the engine's staleness limit. What it committed
    /// stands; a new run for the same date bills the rest. Only the engine reads a run as
    /// interrupted; the store keeps such a run as running.
    Interrupted,
}

impl BillRunStatus {
    /// `"running"`, `"done"`, `"stopped"` or `"interrupted"`.
    pub fn name(self) -> &'static str {
        match self {
            BillRunStatus::Running => "running",
            BillRunStatus::Done => "done",
            BillRunStatus::Stopped => "stopped",
            BillRunStatus::Interrupted => "interrupted",
        }
    }

    /// Reads a name written by [`BillRunStatus::name`].
    pub fn parse(name: &str) -> Option<BillRunStatus> {
        match name {
            "running" => Some(BillRunStatus::Running),
            "done" => Some(BillRunStatus::Done),
            "stopped" => Some(BillRunStatus::Stopped),
            "interrupted" => Some(BillRunStatus::Interrupted),
            _ => None,
        }
    }

    /// Whether the run has ended, one way or another (nothing will write to it again).
    pub fn has_ended(self) -> bool {
        self != BillRunStatus::Running
    }
}

/// A bill run: its date, progress and results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRun {
    /// `br_…`.
    pub id: BillRunId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Periods that started on or before this date are invoiced.
    pub as_of: NaiveDate,
    /// Where it stands.
    pub status: BillRunStatus,
    /// Customers to bill.
    pub customers_total: u32,
    /// Customers billed or failed so far.
    pub customers_done: u32,
    /// Invoices made.
    pub invoices_created: u32,
    /// The invoices' total per currency, in currency code order.
    pub totals: Vec<Money>,
    /// Customers whose billing failed (rolled back), with the reason.
    pub failures: Vec<(CustomerId, String)>,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When it finished (done).
    pub finished_at: Option<DateTime<Utc>>,
    /// When it last committed progress (its start, each batch, its end).
    pub updated_at: DateTime<Utc>,
    /// When a shutdown stopped it.
    pub stopped_at: Option<DateTime<Utc>>,
}

/// A filter of subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionQuery {
    /// One customer's.
    pub customer_id: Option<CustomerId>,
    /// Only active or only canceled ones.
    pub status: Option<SubscriptionStatus>,
}

/// The catalog, subscriptions, amendments and bill runs in one database transaction.
pub trait BillingTx {
    /// Stores a product.
    fn insert_product(&mut self, tenant_id: &TenantId, product: &Product) -> StoreResult<()>;
    /// A product of the tenant.
    fn product(&mut self, tenant_id: &TenantId, id: &ProductId) -> StoreResult<Option<Product>>;
    /// The tenant's products by id.
    fn products(&mut self, tenant_id: &TenantId, page: &PageRequest) -> StoreResult<Page<Product>>;
    /// Stores a price (its product must exist).
    fn insert_price(&mut self, tenant_id: &TenantId, price: &Price) -> StoreResult<()>;
    /// A price of the tenant, with its product's name.
    fn price(&mut self, tenant_id: &TenantId, id: &PriceId) -> StoreResult<Option<Price>>;
    /// The tenant's prices by id, optionally of one product.
    fn prices(
        &mut self,
        tenant_id: &TenantId,
        product_id: Option<&ProductId>,
        page: &PageRequest,
    ) -> StoreResult<Page<Price>>;
    /// Archives a price; false when there is no such live price.
    fn archive_price(
        &mut self,
        tenant_id: &TenantId,
        id: &PriceId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Stores a new subscription of the locked customer with its segments.
    fn insert_subscription(
        &mut self,
        lock: &CustomerLock,
        subscription: &Subscription,
    ) -> StoreResult<()>;
    /// Writes a subscription of the locked customer again, with all its segments.
    fn update_subscription(
        &mut self,
        lock: &CustomerLock,
        subscription: &Subscription,
    ) -> StoreResult<()>;
    /// Writes what billing changes on a subscription of the locked customer (status, end,
    /// periods invoiced, next bill date), leaving its segments as stored: a bill run's write,
    /// one statement where [`BillingTx::update_subscription`] rewrites every segment.
    fn update_subscription_billing(
        &mut self,
        lock: &CustomerLock,
        subscription: &Subscription,
    ) -> StoreResult<()>;
    /// A subscription of the tenant.
    fn subscription(
        &mut self,
        tenant_id: &TenantId,
        id: &SubscriptionId,
    ) -> StoreResult<Option<Subscription>>;
    /// The tenant's subscriptions by id, filtered.
    fn subscriptions(
        &mut self,
        tenant_id: &TenantId,
        query: &SubscriptionQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Subscription>>;
    /// The locked customer's subscriptions that may still bill, by id.
    fn customer_subscriptions(&mut self, lock: &CustomerLock) -> StoreResult<Vec<Subscription>>;
    /// [`BillingTx::customer_subscriptions`] of many locked customers of one tenant in a few
    /// statements, by customer, then by id.
    fn customers_subscriptions(
        &mut self,
        locks: &[&CustomerLock],
    ) -> StoreResult<Vec<Subscription>>;
    /// Records a period as invoiced (by `document_id`, or by nothing when it had no line);
    /// a period recorded before is a [`StoreError::Conflict`](crate::StoreError::Conflict).
    fn insert_billed_period(
        &mut self,
        lock: &CustomerLock,
        subscription_id: &SubscriptionId,
        period_start: NaiveDate,
        document_id: Option<&DocumentId>,
    ) -> StoreResult<()>;
    /// A subscription's invoiced periods, oldest first, with their invoices.
    fn billed_periods(
        &mut self,
        tenant_id: &TenantId,
        subscription_id: &SubscriptionId,
    ) -> StoreResult<Vec<(NaiveDate, Option<DocumentId>)>>;
    /// Records which invoice item charged a segment in a period.
    fn insert_billed_line(&mut self, lock: &CustomerLock, line: &BilledLine) -> StoreResult<()>;
    /// The invoice items that charged `item_id`'s segment from `segment_start` in the period
    /// from `period_start`, oldest first (the last is the live one).
    fn billed_lines(
        &mut self,
        tenant_id: &TenantId,
        subscription_id: &SubscriptionId,
        period_start: NaiveDate,
        item_id: &SubscriptionItemId,
        segment_start: NaiveDate,
    ) -> StoreResult<Vec<BilledLine>>;
    /// Customers with a subscription due on `as_of` (next period to invoice started by then),
    /// by id, after `after`, at most `limit`.
    fn billable_customers(
        &mut self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
        after: Option<&CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<CustomerId>>;
    /// How many customers [`BillingTx::billable_customers`] would list for `as_of` in all.
    fn billable_customer_count(
        &mut self,
        tenant_id: &TenantId,
        as_of: NaiveDate,
    ) -> StoreResult<u64>;
    /// Stores an amendment of a subscription of the locked customer.
    fn insert_amendment(
        &mut self,
        lock: &CustomerLock,
        amendment: &AmendmentRecord,
    ) -> StoreResult<()>;
    /// A subscription's amendments, oldest first.
    fn amendments(
        &mut self,
        tenant_id: &TenantId,
        subscription_id: &SubscriptionId,
    ) -> StoreResult<Vec<AmendmentRecord>>;
    /// Stores a new bill run.
    fn insert_bill_run(&mut self, run: &BillRun) -> StoreResult<()>;
    /// Writes a bill run's progress and results again.
    fn update_bill_run(&mut self, run: &BillRun) -> StoreResult<()>;
    /// A bill run of the tenant.
    fn bill_run(&mut self, tenant_id: &TenantId, id: &BillRunId) -> StoreResult<Option<BillRun>>;
    /// The tenant's latest `limit` bill runs, the newest first.
    fn bill_runs(&mut self, tenant_id: &TenantId, limit: u32) -> StoreResult<Vec<BillRun>>;
}
