//! The catalog, subscriptions, amendments and bill runs: the statements and row mappings both
//! stores share, and [`shared_billing!`](crate::shared_billing), which expands to the port's
//! [`BillingTx`](settle_store::BillingTx) methods. Decimals are read through
//! `cast(… as text)`, which both dialects accept and which keeps their scale.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use settle_core::ids::{
    AmendmentId, BillRunId, CustomerId, DocumentId, ItemId, PriceId, ProductId, SubscriptionId,
    SubscriptionItemId, TenantId,
};
use settle_core::money::Money;
use settle_core::subscription::{
    Interval, Price, Product, Recurring, Segment, Subscription, SubscriptionStatus, Timing,
};
use settle_store::{
    AmendmentRecord, BillRun, BillRunStatus, BilledLine, CustomerLock, PageRequest, StoreError,
    StoreResult, SubscriptionQuery,
};

use crate::row::{Row, bad};
use crate::statements::{Insert, Statement, Value};

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn opt_text(value: Option<&str>) -> Value {
    Value::OptText(value.map(str::to_owned))
}

fn int32(value: u32) -> Value {
    Value::Int32(i32::try_from(value).unwrap_or(i32::MAX))
}

fn statement(sql: &'static str, args: Vec<Value>) -> Statement {
    Statement { sql: Cow::Borrowed(sql), args }
}

fn owned(sql: String, args: Vec<Value>) -> Statement {
    Statement { sql: Cow::Owned(sql), args }
}

fn count<R: Row + ?Sized>(row: &R, idx: usize) -> StoreResult<u32> {
    u32::try_from(row.int(idx)?).map_err(|_| bad(idx, "count"))
}

fn opt_date<R: Row + ?Sized>(row: &R, idx: usize) -> StoreResult<Option<NaiveDate>> {
    row.parsed_opt(idx, |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// Stores a product.
pub fn insert_product(tenant_id: &TenantId, product: &Product) -> Statement {
    statement(
        "insert into product (product_id, tenant_id, name, description, created_at) \
         values (?1, ?2, ?3, ?4, ?5)",
        vec![
            text(product.id.as_str()),
            text(tenant_id.as_str()),
            text(&product.name),
            opt_text(product.description.as_deref()),
            Value::Instant(product.created_at),
        ],
    )
}

const PRODUCT_COLUMNS: &str = "product_id, name, description, created_at";

/// A product row.
pub fn product<R: Row + ?Sized>(row: &R) -> StoreResult<Product> {
    Ok(Product {
        id: row.parsed(0, ProductId::parse)?,
        name: row.text(1)?,
        description: row.text_opt(2)?,
        created_at: row.timestamp(3)?,
    })
}

/// One product of the tenant.
pub fn product_by_id(tenant_id: &TenantId, id: &ProductId) -> Statement {
    owned(
        format!("select {PRODUCT_COLUMNS} from product where tenant_id = ?1 and product_id = ?2"),
        vec![text(tenant_id.as_str()), text(id.as_str())],
    )
}

/// A page of the tenant's products by id.
pub fn products(tenant_id: &TenantId, page: &PageRequest) -> Statement {
    owned(
        format!(
            "select {PRODUCT_COLUMNS} from product where tenant_id = ?1 \
             and (cast(?2 as text) is null or product_id > ?2) order by product_id limit ?3"
        ),
        vec![
            text(tenant_id.as_str()),
            opt_text(page.cursor.as_deref()),
            Value::Int(crate::fetch_limit(page)),
        ],
    )
}

/// Stores a price.
pub fn insert_price(tenant_id: &TenantId, price: &Price) -> Statement {
    statement(
        "insert into price (price_id, tenant_id, product_id, currency, unit_amount_minor, \
         recurring_interval, interval_count, tax_rate, archived_at, created_at) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        vec![
            text(price.id.as_str()),
            text(tenant_id.as_str()),
            text(price.product_id.as_str()),
            text(price.currency().code()),
            Value::Int(price.unit_amount.minor()),
            opt_text(price.recurring.map(|r| r.interval.name())),
            match price.recurring {
                Some(r) => int32(r.interval_count),
                None => Value::OptInt32(None),
            },
            Value::Decimal(price.tax_rate),
            Value::OptInstant(price.archived.then_some(price.created_at)),
            Value::Instant(price.created_at),
        ],
    )
}

const PRICE_COLUMNS: &str = "p.price_id, p.product_id, pr.name, p.currency, \
     p.unit_amount_minor, p.recurring_interval, p.interval_count, cast(p.tax_rate as text), \
     p.archived_at, p.created_at";

/// A price row (joined with its product).
pub fn price<R: Row + ?Sized>(row: &R) -> StoreResult<Price> {
    let currency = row.currency(3)?;
    let recurring = match row.parsed_opt(5, Interval::parse)? {
        Some(interval) => Some(Recurring { interval, interval_count: count(row, 6)? }),
        None => None,
    };
    Ok(Price {
        id: row.parsed(0, PriceId::parse)?,
        product_id: row.parsed(1, ProductId::parse)?,
        product_name: row.text(2)?,
        unit_amount: row.money(4, currency)?,
        recurring,
        tax_rate: row.decimal_opt(7)?,
        archived: row.timestamp_opt(8)?.is_some(),
        created_at: row.timestamp(9)?,
    })
}

/// One price of the tenant.
pub fn price_by_id(tenant_id: &TenantId, id: &PriceId) -> Statement {
    owned(
        format!(
            "select {PRICE_COLUMNS} from price p join product pr on pr.product_id = p.product_id \
             where p.tenant_id = ?1 and p.price_id = ?2"
        ),
        vec![text(tenant_id.as_str()), text(id.as_str())],
    )
}

/// A page of the tenant's prices by id, optionally of one product.
pub fn prices(
    tenant_id: &TenantId,
    product_id: Option<&ProductId>,
    page: &PageRequest,
) -> Statement {
    owned(
        format!(
            "select {PRICE_COLUMNS} from price p join product pr on pr.product_id = p.product_id \
             where p.tenant_id = ?1 and (cast(?2 as text) is null or p.product_id = ?2) \
             and (cast(?3 as text) is null or p.price_id > ?3) order by p.price_id limit ?4"
        ),
        vec![
            text(tenant_id.as_str()),
            opt_text(product_id.map(ProductId::as_str)),
            opt_text(page.cursor.as_deref()),
            Value::Int(crate::fetch_limit(page)),
        ],
    )
}

/// Archives a live price.
pub fn archive_price(tenant_id: &TenantId, id: &PriceId, now: DateTime<Utc>) -> Statement {
    statement(
        "update price set archived_at = ?3 \
         where tenant_id = ?1 and price_id = ?2 and archived_at is null",
        vec![text(tenant_id.as_str()), text(id.as_str()), Value::Instant(now)],
    )
}

fn opt_date_value(date: Option<NaiveDate>) -> Value {
    Value::OptDate(date)
}

/// Stores a subscription's row (its segments are written by [`insert_segment`]).
pub fn insert_subscription(tenant_id: &TenantId, s: &Subscription) -> Statement {
    statement(
        "insert into subscription (subscription_id, tenant_id, customer_id, currency, status, \
         start_date, recurring_interval, interval_count, ends_on, billed_periods, next_bill_on, \
         created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        subscription_values(tenant_id, s),
    )
}

fn subscription_values(tenant_id: &TenantId, s: &Subscription) -> Vec<Value> {
    vec![
        text(s.id.as_str()),
        text(tenant_id.as_str()),
        text(s.customer_id.as_str()),
        text(s.currency.code()),
        text(s.status.name()),
        Value::Date(s.start_date),
        text(s.recurring.interval.name()),
        int32(s.recurring.interval_count),
        opt_date_value(s.ends_on),
        int32(s.billed_periods),
        opt_date_value(s.next_bill_on()),
        Value::Instant(s.created_at),
    ]
}

/// [`update_subscription`] for a subscription whose status is unchanged: it changes no row
/// otherwise. Not naming the status spares the index by status a rewrite, which a bill run
/// would pay for every invoice.
pub fn update_subscription_same_status(tenant_id: &TenantId, s: &Subscription) -> Statement {
    statement(
        "update subscription set ends_on = ?9, billed_periods = ?10, next_bill_on = ?11 \
         where subscription_id = ?1 and tenant_id = ?2 and customer_id = ?3 \
         and currency = ?4 and status = ?5 and start_date = ?6 and recurring_interval = ?7 \
         and interval_count = ?8 and created_at = ?12",
        subscription_values(tenant_id, s),
    )
}

/// Writes a subscription's row again.
pub fn update_subscription(tenant_id: &TenantId, s: &Subscription) -> Statement {
    statement(
        "update subscription set status = ?5, ends_on = ?9, billed_periods = ?10, \
         next_bill_on = ?11 where subscription_id = ?1 and tenant_id = ?2 and customer_id = ?3 \
         and currency = ?4 and start_date = ?6 and recurring_interval = ?7 \
         and interval_count = ?8 and created_at = ?12",
        subscription_values(tenant_id, s),
    )
}

/// Removes a subscription's segments, before they are written again.
pub fn delete_segments(id: &SubscriptionId) -> Statement {
    statement(
        "delete from subscription_segment where subscription_id = ?1",
        vec![text(id.as_str())],
    )
}

/// Stores one segment of a subscription.
pub fn insert_segment(id: &SubscriptionId, idx: usize, segment: &Segment) -> Insert {
    Insert::new(
        "subscription_segment",
        vec![
            ("subscription_id", text(id.as_str())),
            ("idx", int32(u32::try_from(idx).unwrap_or(u32::MAX))),
            ("item_id", text(segment.item_id.as_str())),
            ("price_id", text(segment.price_id.as_str())),
            ("quantity", Value::Decimal(Some(segment.quantity))),
            ("starts_on", Value::Date(segment.starts_on)),
            ("ends_on", opt_date_value(segment.ends_on)),
        ],
    )
}

const SUBSCRIPTION_COLUMNS: &str = "subscription_id, customer_id, currency, status, start_date, \
     recurring_interval, interval_count, cast(ends_on as text), billed_periods, created_at";

/// A subscription row, without its segments.
pub fn subscription<R: Row + ?Sized>(row: &R) -> StoreResult<Subscription> {
    Ok(Subscription {
        id: row.parsed(0, SubscriptionId::parse)?,
        customer_id: row.parsed(1, CustomerId::parse)?,
        currency: row.currency(2)?,
        status: row.parsed(3, SubscriptionStatus::parse)?,
        start_date: row.date(4)?,
        recurring: Recurring {
            interval: row.parsed(5, Interval::parse)?,
            interval_count: count(row, 6)?,
        },
        ends_on: opt_date(row, 7)?,
        billed_periods: count(row, 8)?,
        segments: Vec::new(),
        created_at: row.timestamp(9)?,
    })
}

/// One subscription of the tenant.
pub fn subscription_by_id(tenant_id: &TenantId, id: &SubscriptionId) -> Statement {
    owned(
        format!(
            "select {SUBSCRIPTION_COLUMNS} from subscription \
             where tenant_id = ?1 and subscription_id = ?2"
        ),
        vec![text(tenant_id.as_str()), text(id.as_str())],
    )
}

/// A page of the tenant's subscriptions by id.
pub fn subscriptions(
    tenant_id: &TenantId,
    query: &SubscriptionQuery,
    page: &PageRequest,
) -> Statement {
    owned(
        format!(
            "select {SUBSCRIPTION_COLUMNS} from subscription where tenant_id = ?1 \
             and (cast(?2 as text) is null or customer_id = ?2) and (cast(?3 as text) is null or status = ?3) \
             and (cast(?4 as text) is null or subscription_id > ?4) order by subscription_id limit ?5"
        ),
        vec![
            text(tenant_id.as_str()),
            opt_text(query.customer_id.as_ref().map(CustomerId::as_str)),
            opt_text(query.status.map(SubscriptionStatus::name)),
            opt_text(page.cursor.as_deref()),
            Value::Int(crate::fetch_limit(page)),
        ],
    )
}

/// A customer's subscriptions that may still bill.
pub fn customer_subscriptions(tenant_id: &TenantId, customer_id: &CustomerId) -> Statement {
    owned(
        format!(
            "select {SUBSCRIPTION_COLUMNS} from subscription where tenant_id = ?1 \
             and customer_id = ?2 order by subscription_id"
        ),
        vec![text(tenant_id.as_str()), text(customer_id.as_str())],
    )
}

/// The subscriptions of the tenant's customers among `ids`, by customer, then by id: a bill
/// run's batch reads its customers' subscriptions with it.
pub fn subscriptions_of_customers(tenant_id: &TenantId, ids: &[&CustomerId]) -> Statement {
    owned(
        format!(
            "select {SUBSCRIPTION_COLUMNS} from subscription where tenant_id = ?1 \
             and customer_id in ?2 order by customer_id, subscription_id"
        ),
        vec![
            text(tenant_id.as_str()),
            Value::TextList(ids.iter().map(|id| id.to_string()).collect()),
        ],
    )
}

/// The segments of the subscriptions among `ids`, in each one's order, the subscription's id
/// after the columns [`segment`] reads.
pub fn segments_of(ids: &[&SubscriptionId]) -> Statement {
    statement(
        "select item_id, price_id, cast(quantity as text), starts_on, cast(ends_on as text), \
         subscription_id from subscription_segment where subscription_id in ?1 \
         order by subscription_id, idx",
        vec![Value::TextList(ids.iter().map(|id| id.to_string()).collect())],
    )
}

/// A subscription's segments in order.
pub fn segments(id: &SubscriptionId) -> Statement {
    statement(
        "select item_id, price_id, cast(quantity as text), starts_on, cast(ends_on as text) \
         from subscription_segment where subscription_id = ?1 order by idx",
        vec![text(id.as_str())],
    )
}

/// A segment row.
pub fn segment<R: Row + ?Sized>(row: &R) -> StoreResult<Segment> {
    Ok(Segment {
        item_id: row.parsed(0, SubscriptionItemId::parse)?,
        price_id: row.parsed(1, PriceId::parse)?,
        quantity: row.decimal_opt(2)?.ok_or_else(|| bad(2, "quantity"))?,
        starts_on: row.date(3)?,
        ends_on: opt_date(row, 4)?,
    })
}

/// Records an invoiced period.
pub fn insert_billed_period(
    lock: &CustomerLock,
    id: &SubscriptionId,
    period_start: NaiveDate,
    document_id: Option<&DocumentId>,
) -> Insert {
    Insert::new(
        "subscription_period",
        vec![
            ("tenant_id", text(lock.tenant_id().as_str())),
            ("subscription_id", text(id.as_str())),
            ("period_start", Value::Date(period_start)),
            ("document_id", opt_text(document_id.map(DocumentId::as_str))),
            ("created_at", Value::Instant(lock.now())),
        ],
    )
}

/// A subscription's invoiced periods.
pub fn billed_periods(tenant_id: &TenantId, id: &SubscriptionId) -> Statement {
    statement(
        "select period_start, document_id from subscription_period \
         where tenant_id = ?1 and subscription_id = ?2 order by period_start",
        vec![text(tenant_id.as_str()), text(id.as_str())],
    )
}

/// Records which invoice item charged a segment.
pub fn insert_billed_line(lock: &CustomerLock, line: &BilledLine) -> Insert {
    Insert::new(
        "subscription_line",
        vec![
            ("tenant_id", text(lock.tenant_id().as_str())),
            ("subscription_id", text(line.subscription_id.as_str())),
            ("period_start", Value::Date(line.period_start)),
            ("item_id", text(line.item_id.as_str())),
            ("segment_start", Value::Date(line.segment_start)),
            ("invoice_item_id", text(line.invoice_item_id.as_str())),
            ("created_at", Value::Instant(lock.now())),
        ],
    )
}

/// The lines of one segment in one period, oldest first.
pub fn billed_lines(
    tenant_id: &TenantId,
    id: &SubscriptionId,
    period_start: NaiveDate,
    item_id: &SubscriptionItemId,
    segment_start: NaiveDate,
) -> Statement {
    statement(
        "select l.subscription_id, l.period_start, l.item_id, l.segment_start, l.invoice_item_id \
         from subscription_line l where l.tenant_id = ?1 and l.subscription_id = ?2 and l.period_start = ?3 \
         and l.item_id = ?4 and l.segment_start = ?5 order by l.line_seq",
        vec![
            text(tenant_id.as_str()),
            text(id.as_str()),
            Value::Date(period_start),
            text(item_id.as_str()),
            Value::Date(segment_start),
        ],
    )
}

/// A line row.
pub fn billed_line<R: Row + ?Sized>(row: &R) -> StoreResult<BilledLine> {
    Ok(BilledLine {
        subscription_id: row.parsed(0, SubscriptionId::parse)?,
        period_start: row.date(1)?,
        item_id: row.parsed(2, SubscriptionItemId::parse)?,
        segment_start: row.date(3)?,
        invoice_item_id: row.parsed(4, ItemId::parse)?,
    })
}

/// Customers with a subscription due by `as_of`.
pub fn billable_customers(
    tenant_id: &TenantId,
    as_of: NaiveDate,
    after: Option<&CustomerId>,
    limit: u32,
) -> Statement {
    // Two texts rather than `(?3 is null or customer_id > ?3)`, which keeps SQLite from
    // starting the index walk at `after`: every batch would pass over the billed ones again.
    let (sql, after) = match after {
        Some(after) => (
            "select distinct customer_id from subscription where tenant_id = ?1 \
             and customer_id > ?4 and next_bill_on is not null and next_bill_on <= ?2 \
             order by customer_id limit ?3",
            Some(text(after.as_str())),
        ),
        None => (
            "select distinct customer_id from subscription where tenant_id = ?1 \
             and next_bill_on is not null and next_bill_on <= ?2 \
             order by customer_id limit ?3",
            None,
        ),
    };
    let mut args = vec![text(tenant_id.as_str()), Value::Date(as_of), Value::Int(i64::from(limit))];
    args.extend(after);
    statement(sql, args)
}

/// How many customers [`billable_customers`] lists for `as_of` in all.
pub fn billable_customer_count(tenant_id: &TenantId, as_of: NaiveDate) -> Statement {
    statement(
        "select count(distinct customer_id) from subscription where tenant_id = ?1 \
         and next_bill_on is not null and next_bill_on <= ?2",
        vec![text(tenant_id.as_str()), Value::Date(as_of)],
    )
}

/// Stores an amendment.
pub fn insert_amendment(lock: &CustomerLock, a: &AmendmentRecord) -> Insert {
    Insert::new(
        "amendment",
        vec![
            ("amendment_id", text(a.id.as_str())),
            ("tenant_id", text(lock.tenant_id().as_str())),
            ("subscription_id", text(a.subscription_id.as_str())),
            ("effective_date", Value::Date(a.effective_date)),
            ("timing", text(a.timing.name())),
            ("takes_effect_on", Value::Date(a.takes_effect_on)),
            ("changes", text(&a.changes)),
            ("document_id", opt_text(a.document_id.as_ref().map(DocumentId::as_str))),
            ("created_at", Value::Instant(a.created_at)),
        ],
    )
}

/// A subscription's amendments.
pub fn amendments(tenant_id: &TenantId, id: &SubscriptionId) -> Statement {
    statement(
        "select amendment_id, subscription_id, effective_date, timing, takes_effect_on, changes, \
         document_id, created_at from amendment where tenant_id = ?1 and subscription_id = ?2 \
         order by created_at, amendment_id",
        vec![text(tenant_id.as_str()), text(id.as_str())],
    )
}

/// An amendment row.
pub fn amendment<R: Row + ?Sized>(row: &R) -> StoreResult<AmendmentRecord> {
    Ok(AmendmentRecord {
        id: row.parsed(0, AmendmentId::parse)?,
        subscription_id: row.parsed(1, SubscriptionId::parse)?,
        effective_date: row.date(2)?,
        timing: row.parsed(3, Timing::parse)?,
        takes_effect_on: row.date(4)?,
        changes: row.text(5)?,
        document_id: row.parsed_opt(6, DocumentId::parse)?,
        created_at: row.timestamp(7)?,
    })
}

/// Stores a bill run's row.
pub fn insert_bill_run(run: &BillRun) -> Statement {
    statement(
        "insert into bill_run (bill_run_id, tenant_id, as_of, status, customers_total, \
         customers_done, invoices_created, created_at, finished_at, updated_at, stopped_at) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        bill_run_values(run),
    )
}

fn bill_run_values(run: &BillRun) -> Vec<Value> {
    vec![
        text(run.id.as_str()),
        text(run.tenant_id.as_str()),
        Value::Date(run.as_of),
        text(stored_status(run.status)),
        int32(run.customers_total),
        int32(run.customers_done),
        int32(run.invoices_created),
        Value::Instant(run.created_at),
        Value::OptInstant(run.finished_at),
        Value::Instant(run.updated_at),
        Value::OptInstant(run.stopped_at),
    ]
}

/// The `status` column: `running` or `done`. A stopped run is a running one with
/// `stopped_at`, and an interrupted one is a running one the engine finds stale, so the column
/// keeps the two values its check allows (migration `bill_run_progress`).
fn stored_status(status: BillRunStatus) -> &'static str {
    match status {
        BillRunStatus::Done => BillRunStatus::Done.name(),
        BillRunStatus::Running | BillRunStatus::Stopped | BillRunStatus::Interrupted => {
            BillRunStatus::Running.name()
        }
    }
}

/// Writes a bill run's row again.
pub fn update_bill_run(run: &BillRun) -> Statement {
    statement(
        "update bill_run set status = ?4, customers_total = ?5, customers_done = ?6, \
         invoices_created = ?7, finished_at = ?9, updated_at = ?10, stopped_at = ?11 \
         where bill_run_id = ?1 and tenant_id = ?2 and as_of = ?3 and created_at = ?8",
        bill_run_values(run),
    )
}

/// Removes a bill run's totals and failures, before they are written again.
pub fn delete_bill_run_details(run: &BillRun) -> [Statement; 2] {
    let id = || vec![text(run.id.as_str())];
    [
        statement("delete from bill_run_total where bill_run_id = ?1", id()),
        statement("delete from bill_run_failure where bill_run_id = ?1", id()),
    ]
}

/// Stores a bill run's total in one currency.
pub fn insert_bill_run_total(run: &BillRunId, total: Money) -> Statement {
    statement(
        "insert into bill_run_total (bill_run_id, currency, total_minor) values (?1, ?2, ?3)",
        vec![text(run.as_str()), text(total.currency().code()), Value::Int(total.minor())],
    )
}

/// Stores a failure of a bill run.
pub fn insert_bill_run_failure(
    run: &BillRunId,
    customer_id: &CustomerId,
    reason: &str,
) -> Statement {
    statement(
        "insert into bill_run_failure (bill_run_id, customer_id, reason) values (?1, ?2, ?3)",
        vec![text(run.as_str()), text(customer_id.as_str()), text(reason)],
    )
}

/// One bill run of the tenant.
pub fn bill_run_by_id(tenant_id: &TenantId, id: &BillRunId) -> Statement {
    statement(
        "select bill_run_id, tenant_id, as_of, status, customers_total, customers_done, \
         invoices_created, created_at, finished_at, updated_at, stopped_at from bill_run \
         where tenant_id = ?1 and bill_run_id = ?2",
        vec![text(tenant_id.as_str()), text(id.as_str())],
    )
}

/// The tenant's latest `limit` bill runs, the newest first.
pub fn recent_bill_runs(tenant_id: &TenantId, limit: u32) -> Statement {
    statement(
        "select bill_run_id, tenant_id, as_of, status, customers_total, customers_done, \
         invoices_created, created_at, finished_at, updated_at, stopped_at from bill_run \
         where tenant_id = ?1 order by created_at desc, bill_run_id desc limit ?2",
        vec![text(tenant_id.as_str()), Value::Int(i64::from(limit))],
    )
}

/// A bill run row, without totals and failures.
pub fn bill_run<R: Row + ?Sized>(row: &R) -> StoreResult<BillRun> {
    let stopped_at = row.timestamp_opt(10)?;
    let status = match row.parsed(3, BillRunStatus::parse)? {
        BillRunStatus::Running if stopped_at.is_some() => BillRunStatus::Stopped,
        status => status,
    };
    Ok(BillRun {
        id: row.parsed(0, BillRunId::parse)?,
        tenant_id: row.parsed(1, TenantId::parse)?,
        as_of: row.date(2)?,
        status,
        customers_total: count(row, 4)?,
        customers_done: count(row, 5)?,
        invoices_created: count(row, 6)?,
        totals: Vec::new(),
        failures: Vec::new(),
        created_at: row.timestamp(7)?,
        finished_at: row.timestamp_opt(8)?,
        updated_at: row.timestamp(9)?,
        stopped_at,
    })
}

/// A bill run's totals.
pub fn bill_run_totals(id: &BillRunId) -> Statement {
    statement(
        "select currency, total_minor from bill_run_total where bill_run_id = ?1 order by currency",
        vec![text(id.as_str())],
    )
}

/// A total row.
pub fn bill_run_total<R: Row + ?Sized>(row: &R) -> StoreResult<Money> {
    let currency = row.currency(0)?;
    row.money(1, currency)
}

/// A bill run's failures.
pub fn bill_run_failures(id: &BillRunId) -> Statement {
    statement(
        "select customer_id, reason from bill_run_failure where bill_run_id = ?1 \
         order by customer_id",
        vec![text(id.as_str())],
    )
}

/// A failure row.
pub fn bill_run_failure<R: Row + ?Sized>(row: &R) -> StoreResult<(CustomerId, String)> {
    Ok((row.parsed(0, CustomerId::parse)?, row.text(1)?))
}

/// Refuses a write that changed no row where one was meant.
pub fn one_changed(changed: usize, what: &str) -> StoreResult<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!("{what}: {changed} rows changed")))
    }
}

/// A keyset page whose cursor is each row's id.
pub fn page_by_id<T>(
    rows: Vec<T>,
    id: impl Fn(&T) -> String,
    page: &PageRequest,
) -> settle_store::Page<T> {
    let rows = rows.into_iter().map(|r| {
        let key = id(&r);
        (r, key)
    });
    crate::paginate(rows.collect(), page)
}
