//! The catalog (products and prices) and subscriptions: billing periods computed from the
//! anchor, the lines of a period's invoice, amendments and their day proration.
//!
//! Everything here is pure. A subscription's items are kept as *segments*: one price and
//! quantity over `[starts_on, ends_on)`. An item keeps its id when its quantity or price
//! changes; the change ends one segment and starts the next. Billing a period charges every
//! segment for the days it overlaps the period (all of it, in the usual case); an immediate
//! amendment inside an invoiced period credits the unused days of what ends, naming the invoice
//! item that billed it, and charges the rest of the period for what starts.

use chrono::{DateTime, Months, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::document::{Document, ItemKind, ItemSpec, Pricing, TaxSpec};
use crate::error::Rejection;
use crate::ids::{
    CustomerId, ItemId, NewIds, PriceId, ProductId, SubscriptionId, SubscriptionItemId,
};
use crate::money::{Currency, MAX_MINOR, Money};

/// Most months one billing period may span (three years).
pub const MAX_PERIOD_MONTHS: u32 = 36;

/// Most fraction digits of a quantity or tax rate.
const MAX_SCALE: u32 = 12;

/// The unit of a recurring price's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

impl Interval {
    /// `"month"` or `"year"`.
    pub fn name(self) -> &'static str {
        match self {
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    /// Reads a name written by [`Interval::name`].
    pub fn parse(name: &str) -> Option<Interval> {
        match name {
            "month" => Some(Interval::Month),
            "year" => Some(Interval::Year),
            _ => None,
        }
    }
}

/// How often a recurring price bills: every `interval_count` months or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Recurring {
    /// Month or year.
    pub interval: Interval,
    /// How many of them make one period (at least 1; at most 36 months in all).
    pub interval_count: u32,
}

/// One billing period `[start, end)`, the `index`th from the anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// 0 for the period that starts on the anchor.
    pub index: u32,
    /// First day.
    pub start: NaiveDate,
    /// The day after the last day (the next period's start).
    pub end: NaiveDate,
}

impl Period {
    /// Days in the period.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// True when `date` lies in `[start, end)`.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }
}

impl Recurring {
    /// Checks the count: 1 or more, and a period of at most [`MAX_PERIOD_MONTHS`] months.
    pub fn new(interval: Interval, interval_count: u32) -> Result<Recurring, Rejection> {
        let recurring = Recurring { interval, interval_count };
        if interval_count == 0 || recurring.months() > MAX_PERIOD_MONTHS {
            return Err(Rejection::invalid(
                "recurring.interval_count",
                format!("a period of 1 to {MAX_PERIOD_MONTHS} months"),
            ));
        }
        Ok(recurring)
    }

    /// Months per period.
    pub fn months(self) -> u32 {
        match self.interval {
            Interval::Month => self.interval_count,
            Interval::Year => self.interval_count.saturating_mul(12),
        }
    }

    /// The start of period `k`: always computed from the anchor, so a month after Jan 31 is
    /// Feb 28 (or 29) and two months after it Mar 31. `None` past the calendar's end.
    pub fn period_start(self, anchor: NaiveDate, k: u32) -> Option<NaiveDate> {
        anchor.checked_add_months(Months::new(k.checked_mul(self.months())?))
    }

    /// Period `k`.
    pub fn period(self, anchor: NaiveDate, k: u32) -> Option<Period> {
        Some(Period {
            index: k,
            start: self.period_start(anchor, k)?,
            end: self.period_start(anchor, k.checked_add(1)?)?,
        })
    }

    /// The period that contains `date`; `None` before the anchor.
    pub fn period_of(self, anchor: NaiveDate, date: NaiveDate) -> Option<Period> {
        if date < anchor {
            return None;
        }
        // An estimate from the calendar months between them, then a step either way.
        let months = (date.year_month_index() - anchor.year_month_index()).max(0);
        let mut k = u32::try_from(months).ok()? / self.months();
        loop {
            let period = self.period(anchor, k)?;
            if period.start > date {
                k = k.checked_sub(1)?;
            } else if period.end <= date {
                k = k.checked_add(1)?;
            } else {
                return Some(period);
            }
        }
    }
}

trait YearMonth {
    fn year_month_index(&self) -> i64;
}

impl YearMonth for NaiveDate {
    fn year_month_index(&self) -> i64 {
        use chrono::Datelike;
        i64::from(self.year()) * 12 + i64::from(self.month0())
    }
}

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// `prod_…`.
    pub id: ProductId,
    /// Its name, shown on invoice lines.
    pub name: String,
    /// A longer description.
    pub description: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A price of a product: a flat amount per unit, recurring or one-time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// `price_…`.
    pub id: PriceId,
    /// The product.
    pub product_id: ProductId,
    /// The product's name (read with the price; it names invoice lines).
    pub product_name: String,
    /// Amount per unit, in the price's currency.
    pub unit_amount: Money,
    /// `None` for a one-time price.
    pub recurring: Option<Recurring>,
    /// Tax in percent (`"8.25"`), taxed per invoice line and rounded half away from zero.
    pub tax_rate: Option<Decimal>,
    /// An archived price starts no new subscription or item but keeps billing existing ones.
    pub archived: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Price {
    /// The currency.
    pub fn currency(&self) -> Currency {
        self.unit_amount.currency()
    }
}

/// Checks a new price's amount and tax rate (the amount is already in its currency).
pub fn check_price(unit_amount: Money, tax_rate: Option<Decimal>) -> Result<(), Rejection> {
    if unit_amount.is_negative() {
        return Err(Rejection::invalid("unit_amount", "zero or more"));
    }
    if let Some(rate) = tax_rate
        && (rate.is_sign_negative() || rate > Decimal::ONE_HUNDRED || rate.scale() > MAX_SCALE)
    {
        return Err(Rejection::invalid("tax_rate", "a percent between 0 and 100"));
    }
    Ok(())
}

/// Checks a quantity: more than zero, at most 12 fraction digits.
pub fn check_quantity(field: &str, quantity: Decimal) -> Result<(), Rejection> {
    if quantity <= Decimal::ZERO
        || quantity.scale() > MAX_SCALE
        || quantity > Decimal::from(MAX_MINOR)
    {
        return Err(Rejection::invalid(field, "a quantity above zero"));
    }
    Ok(())
}

/// Whether a subscription still bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// Billing (possibly with a cancellation at a period's end ahead).
    Active,
    /// Ended: nothing more is billed.
    Canceled,
}

impl SubscriptionStatus {
    /// `"active"` or `"canceled"`.
    pub fn name(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Canceled => "canceled",
        }
    }

    /// Reads a name written by [`SubscriptionStatus::name`].
    pub fn parse(name: &str) -> Option<SubscriptionStatus> {
        match name {
            "active" => Some(SubscriptionStatus::Active),
            "canceled" => Some(SubscriptionStatus::Canceled),
            _ => None,
        }
    }
}

/// One price and quantity of an item over `[starts_on, ends_on)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The item (stable across changes).
    pub item_id: SubscriptionItemId,
    /// The price.
    pub price_id: PriceId,
    /// Units.
    pub quantity: Decimal,
    /// First day.
    pub starts_on: NaiveDate,
    /// The day it ends (exclusive); `None` while it runs on.
    pub ends_on: Option<NaiveDate>,
}

impl Segment {
    /// True when the segment runs on `date`.
    pub fn active_on(&self, date: NaiveDate) -> bool {
        self.starts_on <= date && self.ends_on.is_none_or(|end| date < end)
    }

    /// The part of `[from, to)` it covers, if any.
    pub fn overlap(&self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let start = self.starts_on.max(from);
        let end = self.ends_on.map_or(to, |e| e.min(to));
        (start < end).then_some((start, end))
    }
}

/// A subscription: a customer's items billed in advance per period from the anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `sub_…`.
    pub id: SubscriptionId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The customer's currency, which every price must have.
    pub currency: Currency,
    /// Active or canceled.
    pub status: SubscriptionStatus,
    /// The billing anchor.
    pub start_date: NaiveDate,
    /// The period length (of every recurring price of the subscription).
    pub recurring: Recurring,
    /// The day service ends (exclusive), once a cancellation is made.
    pub ends_on: Option<NaiveDate>,
    /// How many periods, from the first, have been invoiced.
    pub billed_periods: u32,
    /// Every segment of every item, in the order they were made.
    pub segments: Vec<Segment>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Subscription {
    /// Period `k`.
    pub fn period(&self, k: u32) -> Result<Period, Rejection> {
        self.recurring
            .period(self.start_date, k)
            .ok_or_else(|| Rejection::invalid("start_date", "out of range"))
    }

    /// The period containing `date` (the first period before the start).
    pub fn period_of(&self, date: NaiveDate) -> Result<Period, Rejection> {
        match self.recurring.period_of(self.start_date, date) {
            Some(period) => Ok(period),
            None if date < self.start_date => self.period(0),
            None => Err(Rejection::invalid("effective_date", "out of range")),
        }
    }

    /// The segments running on `date` (or, before the start, those that start with it).
    pub fn items_on(&self, date: NaiveDate) -> Vec<&Segment> {
        let date = date.max(self.start_date);
        self.segments.iter().filter(|s| s.active_on(date)).collect()
    }

    /// The start of the next period to invoice; `None` once nothing more will be billed.
    pub fn next_bill_on(&self) -> Option<NaiveDate> {
        if self.status == SubscriptionStatus::Canceled {
            return None;
        }
        let start = self.recurring.period_start(self.start_date, self.billed_periods)?;
        self.ends_on.is_none_or(|end| start < end).then_some(start)
    }

    /// The next period to invoice, if it has started by `as_of` and the subscription still
    /// runs then.
    pub fn next_due(&self, as_of: NaiveDate) -> Result<Option<Period>, Rejection> {
        if self.status == SubscriptionStatus::Canceled {
            return Ok(None);
        }
        let period = self.period(self.billed_periods)?;
        let running = self.ends_on.is_none_or(|end| period.start < end);
        Ok((period.start <= as_of && running).then_some(period))
    }
}

/// Where a credit line goes: the invoice item that billed a segment and its tax items, with
/// what is still creditable on each (so earlier credit memos and adjustments count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditable {
    /// The charge item.
    pub item_id: ItemId,
    /// Still creditable on it, in size.
    pub creditable: Money,
    /// Its tax items in order, with what is still creditable on each.
    pub taxes: Vec<(ItemId, Money)>,
}

/// One line an invoice gets from a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The subscription item.
    pub item_id: SubscriptionItemId,
    /// The segment's first day: with the item and the period, what the line bills.
    pub segment_start: NaiveDate,
    /// The invoice item to make (a credit names the item it credits in `invoice_item_id`).
    pub spec: ItemSpec,
    /// For a credit line, the tax items it credits, in the order of `spec.taxes`.
    pub credits_tax_items: Vec<ItemId>,
}

impl Line {
    /// True for a charge line (one that bills a segment, rather than credits one).
    pub fn is_charge(&self) -> bool {
        self.spec.invoice_item_id.is_none()
    }
}

/// `amount × days_left / days`, rounded half away from zero (in `i128`, so it cannot overflow).
pub fn prorate(amount: Money, days_left: i64, days: i64) -> Money {
    if days <= 0 || days_left >= days {
        return amount;
    }
    let numerator = i128::from(amount.minor()) * i128::from(days_left.max(0));
    let days = i128::from(days);
    let (quotient, remainder) = (numerator / days, numerator % days);
    let rounded =
        if 2 * remainder.abs() >= days { quotient + numerator.signum() } else { quotient };
    // |rounded| ≤ |amount|, so it fits.
    Money::new(i64::try_from(rounded).unwrap_or(amount.minor()), amount.currency())
}

/// A full period's amount of a segment: quantity × unit amount, half away from zero.
pub fn full_amount(price: &Price, quantity: Decimal) -> Result<Money, Rejection> {
    price
        .unit_amount
        .mul_decimal_round_half_away(quantity)
        .map_err(|e| Rejection::money("quantity", e))
}

/// The tax on `amount` at the price's rate, rounded half away from zero.
fn tax_on(price: &Price, amount: Money) -> Result<Option<(String, Money)>, Rejection> {
    let Some(rate) = price.tax_rate else { return Ok(None) };
    let tax = amount
        .mul_decimal_round_half_away(rate / Decimal::ONE_HUNDRED)
        .map_err(|e| Rejection::money("tax_rate", e))?;
    Ok(Some((tax_name(rate), tax)))
}

fn tax_name(rate: Decimal) -> String {
    format!("Tax {}%", rate.normalize())
}

fn last_day(end: NaiveDate) -> NaiveDate {
    end.pred_opt().unwrap_or(end)
}

fn describe(
    price: &Price,
    segment: &Segment,
    what: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> String {
    format!(
        "{} × {}{what}, {from} to {}",
        price.product_name,
        segment.quantity.normalize(),
        last_day(to)
    )
}

/// The line charging `segment` for the days of `period` from `from` on (all of it when it
/// covers the period: quantity × unit amount; otherwise the full amount prorated by day).
/// A one-time price is charged in full by the caller's choice of period, never prorated.
pub fn charge_line(
    segment: &Segment,
    price: &Price,
    period: Period,
    from: NaiveDate,
) -> Result<Option<Line>, Rejection> {
    let unit_price =
        Decimal::new(price.unit_amount.minor(), u32::from(price.currency().exponent()));
    let per_unit = Pricing::PerUnit { quantity: segment.quantity, unit_price };
    let Some(_) = price.recurring else {
        let description = format!("{} × {}", price.product_name, segment.quantity.normalize());
        let taxes = price
            .tax_rate
            .map(|rate| TaxSpec::Rate { name: tax_name(rate), rate })
            .into_iter()
            .collect();
        return Ok(Some(line(segment, description, per_unit, taxes, None, Vec::new())));
    };
    let Some((start, end)) = segment.overlap(from, period.end) else { return Ok(None) };
    let full = full_amount(price, segment.quantity)?;
    let days = (end - start).num_days();
    if days == period.days() {
        let description = describe(price, segment, "", start, end);
        let taxes = price
            .tax_rate
            .map(|rate| TaxSpec::Rate { name: tax_name(rate), rate })
            .into_iter()
            .collect();
        return Ok(Some(line(segment, description, per_unit, taxes, None, Vec::new())));
    }
    let amount = prorate(full, days, period.days());
    let mut taxes = Vec::new();
    if let Some((name, tax)) = tax_on(price, full)? {
        taxes.push(TaxSpec::Amount { name, amount: prorate(tax, days, period.days()) });
    }
    let description = describe(price, segment, "", start, end);
    Ok(Some(line(segment, description, Pricing::Amount(amount), taxes, None, Vec::new())))
}

/// The line crediting the unused days `[from, period end)` of `segment` (cut at `from`),
/// each amount capped by what is still creditable on the invoice item that billed it.
pub fn credit_line(
    segment: &Segment,
    price: &Price,
    period: Period,
    from: NaiveDate,
    billed: &Creditable,
) -> Result<Option<Line>, Rejection> {
    if price.recurring.is_none() {
        return Ok(None);
    }
    let Some((start, end)) = segment.overlap(from, period.end) else { return Ok(None) };
    let days = (end - start).num_days();
    let full = full_amount(price, segment.quantity)?;
    let capped = |amount: Money, creditable: Money| {
        let size = prorate(amount, days, period.days()).minor().min(creditable.minor());
        Money::new(-size.max(0), amount.currency())
    };
    let amount = capped(full, billed.creditable);
    let mut taxes = Vec::new();
    let mut tax_items = Vec::new();
    if let Some((name, tax)) = tax_on(price, full)? {
        for (tax_item, creditable) in &billed.taxes {
            taxes.push(TaxSpec::Amount { name: name.clone(), amount: capped(tax, *creditable) });
            tax_items.push(tax_item.clone());
        }
    }
    if amount.is_zero()
        && taxes.iter().all(|t| matches!(t, TaxSpec::Amount { amount, .. } if amount.is_zero()))
    {
        return Ok(None);
    }
    let description = describe(price, segment, " unused", start, end);
    Ok(Some(line(
        segment,
        description,
        Pricing::Amount(amount),
        taxes,
        Some(billed.item_id.clone()),
        tax_items,
    )))
}

fn line(
    segment: &Segment,
    description: String,
    pricing: Pricing,
    taxes: Vec<TaxSpec>,
    credits: Option<ItemId>,
    credits_tax_items: Vec<ItemId>,
) -> Line {
    Line {
        item_id: segment.item_id.clone(),
        segment_start: segment.starts_on,
        spec: ItemSpec { description, pricing, taxes, invoice_item_id: credits },
        credits_tax_items,
    }
}

/// The lines of `period`'s invoice: every recurring segment for the days it overlaps the
/// period, and every one-time segment that starts in it (once: a period is invoiced once).
pub fn period_lines(
    subscription: &Subscription,
    period: Period,
    prices: &[Price],
) -> Result<Vec<Line>, Rejection> {
    let mut lines = Vec::new();
    for segment in &subscription.segments {
        let price = price_of(prices, &segment.price_id)?;
        let bills = price.recurring.is_some()
            || period.contains(segment.starts_on)
            || (period.index == 0 && segment.starts_on < period.start);
        if bills {
            lines.extend(charge_line(segment, price, period, period.start)?);
        }
    }
    Ok(lines)
}

/// The price with `id` among `prices`.
pub fn price_of<'p>(prices: &'p [Price], id: &PriceId) -> Result<&'p Price, Rejection> {
    prices
        .iter()
        .find(|p| &p.id == id)
        .ok_or_else(|| Rejection::NotFound { what: "price", id: id.to_string() })
}

/// After drafting a document from `lines`, names on each credit line's tax items the tax
/// items they credit (a draft's tax items follow their charge item, in the order of the
/// line's taxes).
pub fn link_tax_credits(document: &mut Document, lines: &[Line]) {
    let mut charge = 0_usize;
    let mut tax = 0_usize;
    for item in &mut document.items {
        match item.kind {
            ItemKind::Charge => {
                charge += 1;
                tax = 0;
            }
            ItemKind::Tax => {
                if let Some(line) = charge.checked_sub(1).and_then(|i| lines.get(i)) {
                    item.invoice_item_id = line.credits_tax_items.get(tax).cloned();
                }
                tax += 1;
            }
        }
    }
}

/// When an amendment takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timing {
    /// On the effective date, prorated when that period is invoiced.
    Immediate,
    /// At the end of the period containing the effective date, with no proration.
    EndOfPeriod,
}

impl Timing {
    /// `"immediate"` or `"end_of_period"`.
    pub fn name(self) -> &'static str {
        match self {
            Timing::Immediate => "immediate",
            Timing::EndOfPeriod => "end_of_period",
        }
    }

    /// Reads a name written by [`Timing::name`].
    pub fn parse(name: &str) -> Option<Timing> {
        match name {
            "immediate" => Some(Timing::Immediate),
            "end_of_period" => Some(Timing::EndOfPeriod),
            _ => None,
        }
    }
}

/// One change of an amendment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new item.
    AddItem {
        /// Its price.
        price_id: PriceId,
        /// Its quantity.
        quantity: Decimal,
    },
    /// An item ends.
    RemoveItem {
        /// The item.
        item_id: SubscriptionItemId,
    },
    /// An item's quantity changes.
    ChangeQuantity {
        /// The item.
        item_id: SubscriptionItemId,
        /// The new quantity.
        quantity: Decimal,
    },
    /// An item's price changes (an upgrade or downgrade).
    ChangePrice {
        /// The item.
        item_id: SubscriptionItemId,
        /// The new price.
        price_id: PriceId,
    },
    /// The subscription ends.
    Cancel,
}

impl Change {
    /// The change's `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            Change::AddItem { .. } => "add_item",
            Change::RemoveItem { .. } => "remove_item",
            Change::ChangeQuantity { .. } => "change_quantity",
            Change::ChangePrice { .. } => "change_price",
            Change::Cancel => "cancel",
        }
    }
}

/// An amendment applied to a subscription: the new subscription, the date its changes take
/// effect, what ended and what started on it, and the invoiced period to prorate in (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amended {
    /// The subscription after the changes.
    pub subscription: Subscription,
    /// The day the changes take effect.
    pub date: NaiveDate,
    /// Segments cut at `date`, as they were before the cut.
    pub ended: Vec<Segment>,
    /// Segments starting at `date`.
    pub started: Vec<Segment>,
    /// The invoiced period containing `date`, for an immediate amendment.
    pub prorate_in: Option<Period>,
}

/// Checks a price for a new segment of `subscription`.
pub fn check_new_price(
    subscription: &Subscription,
    price: &Price,
    field: &str,
) -> Result<(), Rejection> {
    if price.archived {
        return Err(Rejection::invalid(field, format!("{} is archived", price.id)));
    }
    if price.currency() != subscription.currency {
        return Err(Rejection::CurrencyMismatch {
            expected: subscription.currency.code().to_owned(),
            got: price.currency().code().to_owned(),
        });
    }
    if let Some(recurring) = price.recurring
        && recurring.months() != subscription.recurring.months()
    {
        return Err(Rejection::invalid(
            field,
            "every recurring price of a subscription has the same period",
        ));
    }
    Ok(())
}

/// Applies `changes` to `subscription` at `effective_date` with `timing`.
/// An immediate amendment may not go back before the last invoiced period; an end-of-period
/// one may not take effect in a period already invoiced (amend immediately instead).
// tidy: long-function: the date rules, then one arm per change type, in the request's order.
pub fn amend(
    subscription: &Subscription,
    effective_date: NaiveDate,
    timing: Timing,
    changes: &[Change],
    prices: &[Price],
    ids: &NewIds<'_>,
) -> Result<Amended, Rejection> {
    if subscription.status == SubscriptionStatus::Canceled {
        return Err(Rejection::invalid("changes", "the subscription is canceled"));
    }
    if changes.is_empty() {
        return Err(Rejection::invalid("changes", "at least one change"));
    }
    if effective_date < subscription.start_date {
        return Err(Rejection::invalid("effective_date", "before the subscription's start"));
    }
    let date = match timing {
        Timing::Immediate => effective_date,
        Timing::EndOfPeriod => subscription.period_of(effective_date)?.end,
    };
    let period = subscription.period_of(date)?;
    if let Some(end) = subscription.ends_on
        && date >= end
    {
        return Err(Rejection::invalid(
            "effective_date",
            format!("the subscription ends on {end}"),
        ));
    }
    let billed = subscription.billed_periods;
    let prorate_in = match timing {
        Timing::Immediate if period.index + 1 < billed => {
            let last = subscription.period(billed - 1)?;
            return Err(Rejection::invalid(
                "effective_date",
                format!("before the last invoiced period, which starts on {}", last.start),
            ));
        }
        Timing::Immediate => (period.index < billed).then_some(period),
        Timing::EndOfPeriod if period.index < billed => {
            return Err(Rejection::invalid(
                "timing",
                format!("the period from {} is already invoiced; amend immediately", period.start),
            ));
        }
        Timing::EndOfPeriod => None,
    };
    let mut next = subscription.clone();
    let mut ended = Vec::new();
    let mut started = Vec::new();
    for (idx, change) in changes.iter().enumerate() {
        let field = |name: &str| format!("changes[{idx}].{name}");
        match change {
            Change::AddItem { price_id, quantity } => {
                check_quantity(&field("quantity"), *quantity)?;
                let price = price_of(prices, price_id)?;
                check_new_price(subscription, price, &field("price_id"))?;
                let segment = Segment {
                    item_id: ids.subscription_item(),
                    price_id: price_id.clone(),
                    quantity: *quantity,
                    starts_on: date,
                    ends_on: next.ends_on,
                };
                started.push(segment.clone());
                next.segments.push(segment);
            }
            Change::RemoveItem { item_id } => {
                ended.push(cut(&mut next, item_id, date, &field("item_id"))?);
            }
            Change::ChangeQuantity { item_id, quantity } => {
                check_quantity(&field("quantity"), *quantity)?;
                let old = cut(&mut next, item_id, date, &field("item_id"))?;
                let segment = Segment { quantity: *quantity, starts_on: date, ..old.clone() };
                ended.push(old);
                started.push(segment.clone());
                next.segments.push(segment);
            }
            Change::ChangePrice { item_id, price_id } => {
                let price = price_of(prices, price_id)?;
                check_new_price(subscription, price, &field("price_id"))?;
                let old = cut(&mut next, item_id, date, &field("item_id"))?;
                let segment =
                    Segment { price_id: price_id.clone(), starts_on: date, ..old.clone() };
                ended.push(old);
                started.push(segment.clone());
                next.segments.push(segment);
            }
            Change::Cancel => {
                let running: Vec<SubscriptionItemId> = next
                    .segments
                    .iter()
                    .filter(|s| s.active_on(date))
                    .map(|s| s.item_id.clone())
                    .collect();
                for item_id in running {
                    ended.push(cut(&mut next, &item_id, date, &field("type"))?);
                }
                next.segments.retain(|s| s.starts_on < date);
                started.retain(|s| s.starts_on < date);
                next.ends_on = Some(date);
                if timing == Timing::Immediate {
                    next.status = SubscriptionStatus::Canceled;
                }
            }
        }
    }
    // A segment cut on the day it started covers no day: it is dropped, not kept empty.
    next.segments.retain(|s| s.ends_on.is_none_or(|end| s.starts_on < end));
    Ok(Amended { subscription: next, date, ended, started, prorate_in })
}

/// Ends the segment of `item_id` that runs on `date`, returning it as it was.
fn cut(
    subscription: &mut Subscription,
    item_id: &SubscriptionItemId,
    date: NaiveDate,
    field: &str,
) -> Result<Segment, Rejection> {
    let segment = subscription
        .segments
        .iter_mut()
        .find(|s| &s.item_id == item_id && s.active_on(date))
        .ok_or_else(|| Rejection::invalid(field, format!("{item_id} does not run on {date}")))?;
    let old = segment.clone();
    segment.ends_on = Some(date);
    Ok(old)
}

/// The proration lines of an amendment: for an immediate amendment inside an invoiced period,
/// a credit for the unused days of each recurring segment that ended (capped by what is still
/// creditable on the item that billed it, found by `billed`), then a charge for the rest of the
/// period of each segment that started (one-time prices in full). Empty otherwise.
pub fn proration_lines(
    amended: &Amended,
    prices: &[Price],
    mut billed: impl FnMut(&Segment) -> Option<Creditable>,
) -> Result<Vec<Line>, Rejection> {
    let Some(period) = amended.prorate_in else { return Ok(Vec::new()) };
    let mut lines = Vec::new();
    for segment in &amended.ended {
        let price = price_of(prices, &segment.price_id)?;
        if let Some(creditable) = billed(segment) {
            lines.extend(credit_line(segment, price, period, amended.date, &creditable)?);
        }
    }
    for segment in &amended.started {
        let price = price_of(prices, &segment.price_id)?;
        lines.extend(charge_line(segment, price, period, amended.date)?);
    }
    Ok(lines)
}
