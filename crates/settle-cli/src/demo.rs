//! `settle demo`: realistic sample customers, invoices, payments and credits, including each
//! seed's situation left unresolved so that a new user can resolve it through the API.

use anyhow::Context;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use settle_core::application::Rule;
use settle_core::customer::Customer;
use settle_core::document::{Document, DocumentKind};
use settle_core::ids::PriceId;
use settle_core::ids::TenantId;
use settle_core::payment::PaymentMethod;
use settle_core::subscription::Timing;
use settle_engine::{
    Amount, ApplicationTarget, Engine, EntryKind, NewAmendment, NewChange, NewCustomer,
    NewDocument, NewEntry, NewItem, NewPayment, NewPrice, NewProduct, NewSubscription,
    NewSubscriptionItem, NewTax,
};
use settle_store::{CustomerQuery, PageRequest};

/// What the demo made, to print.
pub(crate) struct DemoReport {
    pub(crate) lines: Vec<String>,
}

struct Demo<'a> {
    engine: &'a Engine,
    tenant: TenantId,
    today: NaiveDate,
    lines: Vec<String>,
}

fn item(description: &str, amount: &str, tax_rate: Option<&str>) -> anyhow::Result<NewItem> {
    Ok(NewItem {
        description: description.to_owned(),
        amount: Some(Amount::parse(amount)?),
        taxes: tax_rate
            .map(|rate| {
                vec![NewTax { name: "Sales tax".into(), rate: rate.parse().ok(), amount: None }]
            })
            .unwrap_or_default(),
        ..NewItem::default()
    })
}

impl Demo<'_> {
    fn days_ago(&self, days: u64) -> NaiveDate {
        self.today.checked_sub_days(Days::new(days)).unwrap_or(self.today)
    }

    fn customer(&self, name: &str, email: &str) -> anyhow::Result<Customer> {
        let new =
            NewCustomer { name: name.into(), email: Some(email.into()), ..NewCustomer::default() };
        Ok(self.engine.create_customer(&self.tenant, new)?)
    }

    fn invoice(
        &self,
        customer: &Customer,
        days_ago: u64,
        items: Vec<NewItem>,
        adjusts: Option<&Document>,
    ) -> anyhow::Result<Document> {
        Ok(self.engine.create_document(
            &self.tenant,
            NewDocument {
                kind: DocumentKind::Invoice,
                customer_id: customer.id.clone(),
                items,
                invoice_date: Some(self.days_ago(days_ago)),
                due_date: None,
                adjusts_invoice_id: adjusts.map(|d| d.id.clone()),
                reason: None,
                post: true,
            },
        )?)
    }

    fn pay(
        &self,
        customer: &Customer,
        days_ago: u64,
        amount: &str,
        apply: Option<(&Document, &str, Rule)>,
    ) -> anyhow::Result<()> {
        let applications = match apply {
            Some((document, amount, rule)) => vec![ApplicationTarget {
                target_id: document.id.clone(),
                amount: Some(Amount::parse(amount)?),
                items: None,
                rule: Some(rule),
            }],
            None => Vec::new(),
        };
        self.engine.record_payment(
            &self.tenant,
            NewPayment {
                customer_id: customer.id.clone(),
                amount: Amount::parse(amount)?,
                method: PaymentMethod::Check,
                reference: Some(format!("check {}", 1000 + days_ago)),
                effective_date: Some(self.days_ago(days_ago)),
                applications,
                description: None,
            },
        )?;
        Ok(())
    }

    fn entry(
        &self,
        customer: &Customer,
        kind: EntryKind,
        amount: &str,
        description: &str,
        method: Option<PaymentMethod>,
    ) -> anyhow::Result<()> {
        self.engine.add_entry(
            &self.tenant,
            &customer.id,
            NewEntry {
                kind,
                amount: Amount::parse(amount)?,
                description: description.into(),
                payment_method: method,
                notes: None,
                effective_date: None,
            },
        )?;
        Ok(())
    }

    fn note(&mut self, text: String) {
        self.lines.push(text);
    }
}

/// Loads the demo into the first tenant of a store with no customers; `None` when it has some.
pub(crate) fn load(engine: &Engine, today: NaiveDate) -> anyhow::Result<Option<DemoReport>> {
    let mut lines = Vec::new();
    let tenant = match engine.bootstrap(None)? {
        Some(new) => {
            lines.push(format!(
                "created tenant {} with admin API key (shown only once): {}",
                new.tenant_id, new.key
            ));
            new.tenant_id
        }
        None => first_tenant(engine)?,
    };
    let existing = engine.customers(
        &tenant,
        &CustomerQuery::default(),
        &PageRequest { limit: 1, cursor: None },
    )?;
    if !existing.rows.is_empty() {
        return Ok(None);
    }
    let mut demo = Demo { engine, tenant, today, lines };
    seed_002(&mut demo)?;
    seed_000(&mut demo)?;
    seed_001(&mut demo)?;
    seed_003(&mut demo)?;
    subscriptions(&mut demo)?;
    Ok(Some(DemoReport { lines: demo.lines }))
}

/// Seed 002: everyday balances of three customers.
fn seed_002(demo: &mut Demo<'_>) -> anyhow::Result<()> {
    // Seed 002: everyday balances from charges and credits.
    let ann = demo.customer("Ann Smith Landscaping", "ann@smithlandscaping.example")?;
    demo.entry(&ann, EntryKind::Charge, "150.00", "Spring cleanup", None)?;
    demo.entry(&ann, EntryKind::Credit, "100.00", "Payment received", Some(PaymentMethod::Card))?;
    demo.entry(&ann, EntryKind::Credit, "25.00", "Goodwill discount", None)?;
    let bob = demo.customer("Bob Jones Plumbing", "accounts@jonesplumbing.example")?;
    let big = demo.invoice(
        &bob,
        75,
        vec![
            item("Pipe replacement", "1200.00", Some("8.25"))?,
            item("Call-out fee", "85.00", None)?,
        ],
        None,
    )?;
    demo.pay(&bob, 40, "500.00", Some((&big, "500.00", Rule::NetFirst)))?;
    demo.invoice(&bob, 10, vec![item("Annual inspection", "240.00", Some("8.25"))?], None)?;
    let carol = demo.customer("Carol White Design", "carol@whitedesign.example")?;
    demo.entry(&carol, EntryKind::Credit, "60.00", "Prepayment", Some(PaymentMethod::Ach))?;
    demo.note(
        "seed 002: Ann Smith, Bob Jones and Carol White show owed, overdue and credit balances"
            .into(),
    );
    Ok(())
}

/// Seed 000's three options: overpayment, a negative invoice, an adjustment invoice.
fn seed_000(demo: &mut Demo<'_>) -> anyhow::Result<()> {
    // Seed 000, option 1: a payment larger than the invoice. Settle never lets it make the
    // invoice negative: the invoice is paid and the rest stays as customer credit.
    let dan = demo.customer("Dan Green HVAC", "dan@greenhvac.example")?;
    let repair = demo.invoice(&dan, 20, vec![item("Furnace repair", "400.00", None)?], None)?;
    demo.pay(&dan, 15, "500.00", Some((&repair, "400.00", Rule::NetFirst)))?;
    demo.note(format!(
        "seed 000 option 1: {} paid 500.00 on {} (400.00); 100.00 waits as unapplied credit",
        dan.name, repair.number
    ));

    // Seed 000, option 2: negative lines leave a negative invoice.
    let erin = demo.customer("Erin Brown Electric", "erin@brownelectric.example")?;
    let negative = demo.invoice(
        &erin,
        12,
        vec![
            item("Panel upgrade", "100.00", None)?,
            item("Returned breaker kit", "-150.00", None)?,
        ],
        None,
    )?;
    demo.note(format!(
        "seed 000 option 2: {} of {} is at {} from a negative line",
        negative.number,
        erin.name,
        negative.balance()
    ));

    // Seed 000, option 3: an adjustment invoice with a negative task.
    let frank = demo.customer("Frank Black Roofing", "frank@blackroofing.example")?;
    let original = demo.invoice(&frank, 30, vec![item("Roof repair", "200.00", None)?], None)?;
    let adjustment =
        demo.invoice(&frank, 5, vec![item("Warranty discount", "-40.00", None)?], Some(&original))?;
    demo.note(format!(
        "seed 000 option 3: {} adjusts {} with -40.00; the original still owes 200.00",
        adjustment.number, original.number
    ));
    Ok(())
}

/// Seed 001: a negative proration invoice after a downgrade.
fn seed_001(demo: &mut Demo<'_>) -> anyhow::Result<()> {
    // Seed 001: a downgrade mid-period leaves a negative proration invoice.
    let gina = demo.customer("Gina Gray Software", "billing@graysoftware.example")?;
    demo.invoice(&gina, 45, vec![item("Pro plan, monthly", "300.00", Some("8.25"))?], None)?;
    let downgrade = demo.invoice(
        &gina,
        3,
        vec![item("Downgrade to Basic, unused Pro (18 of 30 days)", "-180.00", Some("8.25"))?],
        None,
    )?;
    demo.note(format!(
        "seed 001: {} of {} is at {} after a downgrade",
        downgrade.number,
        gina.name,
        downgrade.balance()
    ));
    Ok(())
}

/// Seed 003: a zero invoice whose items are not zero.
fn seed_003(demo: &mut Demo<'_>) -> anyhow::Result<()> {
    // Seed 003: proration leaves +50.00/-50.00 and +3.13/-3.13 under an invoice at zero.
    let zed = demo.customer("Zed Analytics", "ap@zedanalytics.example")?;
    let seed_003 = demo.invoice(
        &zed,
        8,
        vec![
            item("Analytics suite", "100.00", Some("6.26"))?,
            item("Seat reduction credit", "-50.00", Some("6.26"))?,
        ],
        None,
    )?;
    demo.pay(&zed, 2, "53.13", Some((&seed_003, "53.13", Rule::Proration)))?;
    demo.note(format!(
        "seed 003: {} of {} is at 0.00 with items at 50.00, 3.13, -50.00, -3.13",
        seed_003.number, zed.name
    ));
    Ok(())
}

/// A monthly price of a new product.
fn monthly_price(
    demo: &Demo<'_>,
    name: &str,
    amount: &str,
    tax: Option<&str>,
    recurring: bool,
) -> anyhow::Result<PriceId> {
    let product = demo
        .engine
        .create_product(&demo.tenant, NewProduct { name: name.into(), description: None })?;
    let price = NewPrice {
        product_id: product.id,
        currency: "USD".into(),
        unit_amount: Amount::parse(amount)?,
        recurring: recurring.then(|| ("month".to_owned(), None)),
        tax_rate: tax.map(str::parse).transpose()?,
    };
    Ok(demo.engine.create_price(&demo.tenant, price)?.id)
}

/// Two subscriptions for the back office: one billed for two periods with a one-time
/// onboarding fee, one upgraded mid-period (a proration invoice).
fn subscriptions(demo: &mut Demo<'_>) -> anyhow::Result<()> {
    let team = monthly_price(demo, "Team plan", "30.00", Some("8.25"), true)?;
    let seat = monthly_price(demo, "Seat", "5.00", None, true)?;
    let onboarding = monthly_price(demo, "Onboarding", "99.00", None, false)?;
    let item = |price: &PriceId, quantity: i64| NewSubscriptionItem {
        price_id: price.clone(),
        quantity: Some(Decimal::from(quantity)),
    };
    let northwind = demo.customer("Northwind Studio", "billing@northwind.example")?;
    let new = NewSubscription {
        customer_id: northwind.id.clone(),
        start_date: Some(demo.days_ago(45)),
        items: vec![item(&team, 1), item(&seat, 3), item(&onboarding, 1)],
    };
    demo.engine.create_subscription(&demo.tenant, new)?;
    let harbor = demo.customer("Harbor Analytics", "ap@harbor.example")?;
    let new = NewSubscription {
        customer_id: harbor.id.clone(),
        start_date: Some(demo.days_ago(20)),
        items: vec![item(&team, 1), item(&seat, 2)],
    };
    let sub = demo.engine.create_subscription(&demo.tenant, new)?;
    let customers = vec![northwind.id.clone(), harbor.id.clone()];
    let run = demo.engine.bill_run(&demo.tenant, demo.today, Some(customers))?;
    let seats = sub.items.iter().find(|i| i.price_id == seat).context("the seat item")?;
    let upgrade = NewAmendment {
        effective_date: Some(demo.days_ago(5)),
        timing: Timing::Immediate,
        changes: vec![NewChange {
            kind: "change_quantity".into(),
            item_id: Some(seats.item_id.clone()),
            quantity: Some(Decimal::from(4)),
            ..NewChange::default()
        }],
    };
    demo.engine.amend_subscription(&demo.tenant, &sub.subscription.id, upgrade)?;
    demo.note(format!(
        "subscriptions: Northwind Studio (team plan, 3 seats, onboarding) and Harbor Analytics \
         (2 seats upgraded to 4 five days ago); a bill run made {} invoices",
        run.invoices_created
    ));
    Ok(())
}

fn first_tenant(engine: &Engine) -> anyhow::Result<TenantId> {
    engine.tenants()?.into_iter().next().context("the store has no tenant")
}
