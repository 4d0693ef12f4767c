//! Subscriptions: creating them, reading them with their current period and items, and
//! amending them (cancellation included). An immediate amendment inside an invoiced period
//! makes a proration invoice through the same document path as every invoice: drafted,
//! posted into the journal, its credit items counted on the invoice items they credit, and
//! the tenant's policies run on it.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use settle_core::document::{Document, DocumentKind, DocumentSpec, draft_document, post_document};
use settle_core::error::Rejection;
use settle_core::ids::{
    CustomerId, DocumentId, PriceId, SubscriptionId, SubscriptionItemId, TenantId,
};
use settle_core::subscription::{
    Change, Creditable, Line, Period, Price, Segment, Subscription, SubscriptionStatus, Timing,
    amend, check_new_price, check_quantity, link_tax_credits, proration_lines,
};
use settle_store::{AmendmentRecord, BilledLine, Page, PageRequest, SubscriptionQuery};

use crate::unit::{Touched, Unit, today_in};
use crate::{Engine, EngineResult, Preview};

/// A subscription with what is current on a given day: the period and the running items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionView {
    /// The subscription with every segment.
    pub subscription: Subscription,
    /// The period containing the day it was read (the first period before the start).
    pub current_period: Period,
    /// The items running that day (or, before the start, those it starts with).
    pub items: Vec<Segment>,
}

/// A subscription's invoiced periods (start and invoice, oldest first) and its amendments.
pub type SubscriptionHistory = (Vec<(NaiveDate, Option<DocumentId>)>, Vec<AmendmentRecord>);

/// A requested item of a new subscription.
#[derive(Debug, Clone)]
pub struct NewSubscriptionItem {
    /// The price.
    pub price_id: PriceId,
    /// Units (default 1).
    pub quantity: Option<Decimal>,
}

/// A request for a subscription.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The customer.
    pub customer_id: CustomerId,
    /// The billing anchor (default today).
    pub start_date: Option<NaiveDate>,
    /// Its items; at least one has a recurring price, and all recurring prices share a period.
    pub items: Vec<NewSubscriptionItem>,
}

/// A requested change (the API's `changes[]`), read into [`Change`] by the engine.
#[derive(Debug, Clone, Default)]
pub struct NewChange {
    /// `add_item`, `remove_item`, `change_quantity`, `change_price` or `cancel`.
    pub kind: String,
    /// The item, for every type but `add_item` and `cancel`.
    pub item_id: Option<SubscriptionItemId>,
    /// The price, for `add_item` and `change_price`.
    pub price_id: Option<PriceId>,
    /// The quantity, for `add_item` (default 1) and `change_quantity`.
    pub quantity: Option<Decimal>,
}

/// A request for an amendment.
#[derive(Debug, Clone)]
pub struct NewAmendment {
    /// The date asked for (default today).
    pub effective_date: Option<NaiveDate>,
    /// `immediate` or `end_of_period`.
    pub timing: Timing,
    /// The changes, applied in order.
    pub changes: Vec<NewChange>,
}

/// What an amendment did: its record, the subscription after it and its proration invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentOutcome {
    /// The amendment.
    pub amendment: AmendmentRecord,
    /// The subscription after it.
    pub subscription: SubscriptionView,
    /// The proration invoice, when the amendment fell in an invoiced period.
    pub invoice: Option<Document>,
}

fn view(subscription: Subscription, today: NaiveDate) -> EngineResult<SubscriptionView> {
    let current_period = subscription.period_of(today)?;
    let items = subscription.items_on(today).into_iter().cloned().collect();
    Ok(SubscriptionView { subscription, current_period, items })
}

fn changes(requested: Vec<NewChange>) -> Result<Vec<Change>, Rejection> {
    requested
        .into_iter()
        .enumerate()
        .map(|(idx, c)| {
            let field = |name: &str| format!("changes[{idx}].{name}");
            let item = || {
                c.item_id.clone().ok_or_else(|| Rejection::invalid(field("item_id"), "required"))
            };
            let price = || {
                c.price_id.clone().ok_or_else(|| Rejection::invalid(field("price_id"), "required"))
            };
            let quantity =
                || c.quantity.ok_or_else(|| Rejection::invalid(field("quantity"), "required"));
            Ok(match c.kind.as_str() {
                "add_item" => Change::AddItem {
                    price_id: price()?,
                    quantity: c.quantity.unwrap_or(Decimal::ONE),
                },
                "remove_item" => Change::RemoveItem { item_id: item()? },
                "change_quantity" => {
                    Change::ChangeQuantity { item_id: item()?, quantity: quantity()? }
                }
                "change_price" => Change::ChangePrice { item_id: item()?, price_id: price()? },
                "cancel" => Change::Cancel,
                _ => {
                    return Err(Rejection::invalid(
                        field("type"),
                        "add_item, remove_item, change_quantity, change_price or cancel",
                    ));
                }
            })
        })
        .collect()
}

impl Unit<'_> {
    /// The prices `ids` name, each at most once; an unknown one is refused beside `field(i)`.
    pub(crate) fn prices_of<'i>(
        &mut self,
        ids: impl IntoIterator<Item = (&'i PriceId, String)>,
    ) -> EngineResult<Vec<Price>> {
        let mut prices: Vec<Price> = Vec::new();
        for (id, field) in ids {
            if prices.iter().any(|p| &p.id == id) {
                continue;
            }
            let tenant_id = self.tenant_id().clone();
            let price = self
                .tx
                .price(&tenant_id, id)?
                .ok_or_else(|| Rejection::invalid(field, format!("no price {id}")))?;
            prices.push(price);
        }
        Ok(prices)
    }

    /// A subscription of this customer, read under the lock.
    fn own_subscription(&mut self, id: &SubscriptionId) -> EngineResult<Subscription> {
        let tenant_id = self.tenant_id().clone();
        match self.tx.subscription(&tenant_id, id)? {
            Some(s) if s.customer_id == self.customer.id => Ok(s),
            _ => Err(Rejection::NotFound { what: "subscription", id: id.to_string() }.into()),
        }
    }

    /// [`Unit::post_lines`], then the invoice as stored once the policies have run.
    pub(crate) fn invoice_lines(
        &mut self,
        subscription_id: &SubscriptionId,
        lines: &[Line],
        date: NaiveDate,
        period_start: NaiveDate,
    ) -> EngineResult<Document> {
        let document = self.post_lines(subscription_id, lines, date, period_start)?;
        self.document(&document.id)
    }

    /// Drafts, posts and stores an invoice of `lines` dated `date`, counts its credit items on
    /// the items they credit (refusing more than is creditable), records which item charged
    /// which segment in the period from `period_start`, and runs the tenant's policies.
    /// Answers the invoice as posted: a policy that applied credit to it changed its stored
    /// balances, not this copy (its total and items are the same).
    pub(crate) fn post_lines(
        &mut self,
        subscription_id: &SubscriptionId,
        lines: &[Line],
        date: NaiveDate,
        period_start: NaiveDate,
    ) -> EngineResult<Document> {
        let due_date = date
            .checked_add_days(chrono::Days::new(u64::from(self.customer.payment_terms_days)))
            .ok_or_else(|| Rejection::invalid("effective_date", "out of range"))?;
        let spec = DocumentSpec {
            kind: DocumentKind::Invoice,
            customer_id: self.customer.id.clone(),
            currency: self.customer.currency,
            invoice_date: date,
            due_date,
            adjusts_invoice_id: None,
            reason: None,
            items: lines.iter().map(|l| l.spec.clone()).collect(),
        };
        let kind = DocumentKind::Invoice;
        let number = kind.number(self.next_number(kind)?);
        let id = self.ids.document(kind);
        let mut document = draft_document(spec, id, number, &self.ids)?;
        link_tax_credits(&mut document, lines);
        let txn = post_document(&mut document, self.ids.txn(), date)?;
        self.record(&txn, Touched { documents: vec![&mut document], ..Touched::default() })?;
        self.tx.insert_document(&self.lock, &document)?;
        self.credit_invoice_items(&document, 1)?;
        let charges = document.items.iter().filter(|i| i.parent_item_id.is_none());
        for (line, item) in lines.iter().zip(charges) {
            if line.is_charge() {
                let billed = BilledLine {
                    subscription_id: subscription_id.clone(),
                    period_start,
                    item_id: line.item_id.clone(),
                    segment_start: line.segment_start,
                    invoice_item_id: item.id.clone(),
                };
                self.tx.insert_billed_line(&self.lock, &billed)?;
            }
        }
        self.after_post(&mut document)?;
        Ok(document)
    }

    /// What is still creditable on the invoice item that charged `segment` in the period from
    /// `period_start` (the last one, when it was charged more than once).
    fn creditable(
        &mut self,
        subscription_id: &SubscriptionId,
        period_start: NaiveDate,
        segment: &Segment,
    ) -> EngineResult<Option<Creditable>> {
        let tenant_id = self.tenant_id().clone();
        let lines = self.tx.billed_lines(
            &tenant_id,
            subscription_id,
            period_start,
            &segment.item_id,
            segment.starts_on,
        )?;
        let Some(line) = lines.last() else { return Ok(None) };
        let Some(document_id) = self.tx.item_document(&tenant_id, &line.invoice_item_id)? else {
            return Ok(None);
        };
        let document = self.document(&document_id)?;
        if document.status != settle_core::document::DocumentStatus::Posted {
            return Ok(None);
        }
        let Some(item) = document.item(&line.invoice_item_id) else { return Ok(None) };
        let taxes = document
            .items
            .iter()
            .filter(|i| i.parent_item_id.as_ref() == Some(&item.id))
            .map(|i| (i.id.clone(), document.creditable(i)))
            .collect();
        Ok(Some(Creditable {
            item_id: item.id.clone(),
            creditable: document.creditable(item),
            taxes,
        }))
    }

    fn amend_subscription(
        &mut self,
        id: &SubscriptionId,
        new: NewAmendment,
    ) -> EngineResult<AmendmentOutcome> {
        let subscription = self.own_subscription(id)?;
        let effective_date = new.effective_date.unwrap_or(self.today);
        let change_list = changes(new.changes)?;
        let requested = change_list.iter().enumerate().filter_map(|(i, c)| match c {
            Change::AddItem { price_id, .. } | Change::ChangePrice { price_id, .. } => {
                Some((price_id, format!("changes[{i}].price_id")))
            }
            _ => None,
        });
        let requested: Vec<(&PriceId, String)> = requested.collect();
        let held = subscription.segments.iter().map(|s| (&s.price_id, "price_id".to_owned()));
        let held: Vec<(&PriceId, String)> = held.collect();
        let prices = self.prices_of(requested.into_iter().chain(held))?;
        let amended =
            amend(&subscription, effective_date, new.timing, &change_list, &prices, &self.ids)?;
        let mut credits = HashMap::new();
        if let Some(period) = amended.prorate_in {
            for segment in &amended.ended {
                if let Some(c) = self.creditable(id, period.start, segment)? {
                    credits.insert((segment.item_id.clone(), segment.starts_on), c);
                }
            }
        }
        let lines = proration_lines(&amended, &prices, |s| {
            credits.get(&(s.item_id.clone(), s.starts_on)).cloned()
        })?;
        let invoice = match amended.prorate_in {
            Some(period) if !lines.is_empty() => {
                Some(self.invoice_lines(id, &lines, amended.date, period.start)?)
            }
            _ => None,
        };
        let mut next = amended.subscription;
        if next.next_bill_on().is_none() && next.ends_on.is_some_and(|end| end <= self.today) {
            next.status = SubscriptionStatus::Canceled;
        }
        self.tx.update_subscription(&self.lock, &next)?;
        let amendment = AmendmentRecord {
            id: self.ids.amendment(),
            subscription_id: id.clone(),
            effective_date,
            timing: new.timing,
            takes_effect_on: amended.date,
            changes: change_list.iter().map(Change::name).collect::<Vec<_>>().join(","),
            document_id: invoice.as_ref().map(|d| d.id.clone()),
            created_at: self.now,
        };
        self.tx.insert_amendment(&self.lock, &amendment)?;
        Ok(AmendmentOutcome { amendment, subscription: view(next, self.today)?, invoice })
    }
}

impl Engine {
    /// Creates a subscription for a customer. Nothing is invoiced until a bill run (or the
    /// daily one) reaches its first period.
    pub fn create_subscription(
        &self,
        tenant_id: &TenantId,
        new: NewSubscription,
    ) -> EngineResult<SubscriptionView> {
        if new.items.is_empty() {
            return Err(Rejection::invalid("items", "at least one item").into());
        }
        let customer_id = new.customer_id.clone();
        self.write(tenant_id, &customer_id, |unit| {
            let start = new.start_date.unwrap_or(unit.today);
            let ids = new
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| (&item.price_id, format!("items[{i}].price_id")));
            let prices = unit.prices_of(ids)?;
            let price = |id: &PriceId| prices.iter().find(|p| &p.id == id);
            let recurring = prices
                .iter()
                .find_map(|p| p.recurring)
                .ok_or_else(|| Rejection::invalid("items", "at least one recurring price"))?;
            let mut subscription = Subscription {
                id: unit.ids.subscription(),
                customer_id: unit.customer.id.clone(),
                currency: unit.customer.currency,
                status: SubscriptionStatus::Active,
                start_date: start,
                recurring,
                ends_on: None,
                billed_periods: 0,
                segments: Vec::new(),
                created_at: unit.now,
            };
            subscription.period(1)?;
            for (i, item) in new.items.iter().enumerate() {
                let quantity = item.quantity.unwrap_or(Decimal::ONE);
                check_quantity(&format!("items[{i}].quantity"), quantity)?;
                let field = format!("items[{i}].price_id");
                let price = price(&item.price_id)
                    .ok_or_else(|| Rejection::invalid(&field, "no such price"))?;
                check_new_price(&subscription, price, &field)?;
                subscription.segments.push(Segment {
                    item_id: unit.ids.subscription_item(),
                    price_id: item.price_id.clone(),
                    quantity,
                    starts_on: start,
                    ends_on: None,
                });
            }
            unit.tx.insert_subscription(&unit.lock, &subscription)?;
            view(subscription, unit.today)
        })
    }

    /// A subscription of the tenant as it stands today.
    pub fn subscription(
        &self,
        tenant_id: &TenantId,
        id: &SubscriptionId,
    ) -> EngineResult<SubscriptionView> {
        self.read(|tx| {
            let subscription = tx
                .subscription(tenant_id, id)?
                .ok_or_else(|| Rejection::NotFound { what: "subscription", id: id.to_string() })?;
            let today = today_in(&tx.settings(tenant_id)?, self.now())?;
            view(subscription, today)
        })
    }

    /// The tenant's subscriptions, filtered.
    pub fn subscriptions(
        &self,
        tenant_id: &TenantId,
        query: &SubscriptionQuery,
        page: &PageRequest,
    ) -> EngineResult<Page<SubscriptionView>> {
        self.read(|tx| {
            let today = today_in(&tx.settings(tenant_id)?, self.now())?;
            let page = tx.subscriptions(tenant_id, query, page)?;
            let rows =
                page.rows.into_iter().map(|s| view(s, today)).collect::<EngineResult<_>>()?;
            Ok(Page { rows, next_cursor: page.next_cursor })
        })
    }

    /// A subscription's invoiced periods (oldest first, with their invoices) and amendments.
    pub fn subscription_history(
        &self,
        tenant_id: &TenantId,
        id: &SubscriptionId,
    ) -> EngineResult<SubscriptionHistory> {
        self.read(|tx| Ok((tx.billed_periods(tenant_id, id)?, tx.amendments(tenant_id, id)?)))
    }

    /// Amends a subscription; see [`settle_core::subscription::amend`] for the rules.
    pub fn amend_subscription(
        &self,
        tenant_id: &TenantId,
        id: &SubscriptionId,
        new: NewAmendment,
    ) -> EngineResult<AmendmentOutcome> {
        let owner = self.subscription(tenant_id, id)?.subscription.customer_id;
        self.write(tenant_id, &owner, |unit| unit.amend_subscription(id, new))
    }

    /// Cancels a subscription: at once on `effective_date` (default today, prorated when that
    /// period is invoiced) or at the end of the period containing it.
    pub fn cancel_subscription(
        &self,
        tenant_id: &TenantId,
        id: &SubscriptionId,
        effective_date: Option<NaiveDate>,
        at_period_end: bool,
    ) -> EngineResult<AmendmentOutcome> {
        let timing = if at_period_end { Timing::EndOfPeriod } else { Timing::Immediate };
        let cancel = NewChange { kind: "cancel".to_owned(), ..NewChange::default() };
        self.amend_subscription(
            tenant_id,
            id,
            NewAmendment { effective_date, timing, changes: vec![cancel] },
        )
    }

    /// What an amendment would do, without doing it: the amendment, the subscription after
    /// it and its proration invoice as they would be, and the balances it would move. Nothing
    /// is written (the unit of work is rolled back).
    pub fn preview_amendment(
        &self,
        tenant_id: &TenantId,
        id: &SubscriptionId,
        new: NewAmendment,
    ) -> EngineResult<(AmendmentOutcome, Preview)> {
        let mut outcome = None;
        let preview = self.preview(|engine| {
            outcome = Some(engine.amend_subscription(tenant_id, id, new)?);
            Ok(())
        })?;
        let outcome = outcome.ok_or_else(|| Rejection::invalid("dry_run", "nothing to preview"))?;
        Ok((outcome, preview))
    }
}
