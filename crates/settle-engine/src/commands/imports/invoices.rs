//! Importing open invoices: an invoice's lines are consecutive lines of the file with the same
//! `external_id`; each becomes a posted invoice of the customer named by
//! `customer_external_id` (a customer imported before) or `customer_email`, and an
//! `amount_paid` becomes a payment applied to it, each one balanced journal transaction.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use settle_core::document::{DocumentKind, DocumentSpec, draft_document};
use settle_core::error::{Input, Rejection};
use settle_core::ids::{CustomerId, IdGen, NewIds, TenantId};
use settle_core::money::{Currency, Money};
use settle_core::payment::PaymentMethod;
use settle_store::{ExternalKind, ExternalRef, StoreTx};

use super::rows::{Fields, INVOICE_LEVEL, Records, error};
use super::{IMPORT_BATCH, ImportOptions, ImportProgress, ImportReport, RowError};
use crate::commands::documents::{NewDocument, NewItem, NewTax, item_specs};
use crate::commands::payments::NewPayment;
use crate::commands::{Amount, parse_amount};
use crate::{ApplicationTarget, Engine, EngineError, EngineResult};

/// How a line names its customer.
enum CustomerRef {
    External(String),
    Email(String),
}

/// One line of an invoice.
struct InvoiceLine {
    line: u64,
    item: NewItem,
}

/// A well-formed invoice of the file, its customer not yet found.
struct InvoiceRow {
    line: u64,
    external_id: String,
    customer: CustomerRef,
    number: Option<String>,
    invoice_date: NaiveDate,
    due_date: Option<NaiveDate>,
    amount_paid: Option<Amount>,
    paid_on: Option<NaiveDate>,
    lines: Vec<InvoiceLine>,
}

/// An invoice ready to write: its customer found, its documents and payment checked.
struct Ready {
    row: InvoiceRow,
    customer_id: CustomerId,
    due_date: NaiveDate,
    paid: Option<Money>,
}

/// What one customer's unit of a batch made.
#[derive(Default)]
struct Made {
    invoices: u64,
    payments: u64,
    skipped: u64,
}

impl Engine {
    pub(super) fn import_invoices(
        &self,
        tenant_id: &TenantId,
        records: &Records,
        options: ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> EngineResult<ImportReport> {
        let mut report = ImportReport { rows: records.rows(), ..Default::default() };
        let (rows, mut errors, mut bad) = invoice_rows(records);
        let mut ready = Vec::with_capacity(rows.len());
        self.read(|tx| {
            let mut customers = HashMap::new();
            for row in rows {
                match self.check_invoice(tx, tenant_id, &mut customers, row)? {
                    Checked::Ready(invoice) => ready.push(*invoice),
                    Checked::Imported => report.already_imported += 1,
                    Checked::Bad(mut row_errors) => {
                        bad += 1;
                        errors.append(&mut row_errors);
                    }
                }
            }
            Ok(())
        })?;
        report.bad_records = bad;
        let refused = !errors.is_empty() && !options.skip_bad_rows;
        report.refuse(errors);
        if refused {
            return Ok(report);
        }
        if options.dry_run {
            report.invoices_created = ready.len() as u64;
            report.payments_created = ready.iter().filter(|r| r.paid.is_some()).count() as u64;
            return Ok(report);
        }
        let total = ready.len() as u64;
        let mut done = 0;
        for batch in ready.chunks(IMPORT_BATCH) {
            let made = self.write_invoices(tenant_id, batch, options, &mut report)?;
            report.invoices_created += made.invoices;
            report.payments_created += made.payments;
            report.already_imported += made.skipped;
            report.written = true;
            done += batch.len() as u64;
            progress(ImportProgress { done, total });
        }
        Ok(report)
    }

    /// Finds the invoice's customer and checks its lines and payment in the customer's
    /// currency, as the write will; an invoice whose external id was imported is skipped.
    fn check_invoice(
        &self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
        customers: &mut HashMap<CustomerId, (Currency, u32)>,
        row: InvoiceRow,
    ) -> EngineResult<Checked> {
        if tx.external_ref(tenant_id, ExternalKind::Invoice, &row.external_id)?.is_some() {
            return Ok(Checked::Imported);
        }
        let bad =
            |column: &str, reason: String| Ok(Checked::Bad(vec![error(row.line, column, reason)]));
        let customer_id = match &row.customer {
            CustomerRef::External(id) => {
                let found = tx.external_ref(tenant_id, ExternalKind::Customer, id)?;
                match found.and_then(|r| CustomerId::parse(&r.object_id)) {
                    Some(customer_id) => customer_id,
                    None => {
                        return bad(
                            "customer_external_id",
                            "no customer was imported with this external id".to_owned(),
                        );
                    }
                }
            }
            CustomerRef::Email(email) => {
                let mut found = tx.customers_by_email(tenant_id, email)?;
                match found.len() {
                    1 => found.remove(0),
                    0 => return bad("customer_email", "no customer has this email".to_owned()),
                    n => {
                        return bad(
                            "customer_email",
                            format!("{n} customers have this email: give customer_external_id"),
                        );
                    }
                }
            }
        };
        let (currency, terms) = match customers.get(&customer_id) {
            Some(known) => *known,
            None => {
                let customer = tx.customer(tenant_id, &customer_id)?.ok_or_else(|| {
                    EngineError::Store(settle_store::StoreError::Corrupt(format!(
                        "imported customer {customer_id} is missing"
                    )))
                })?;
                let known = (customer.currency, customer.payment_terms_days);
                customers.insert(customer_id.clone(), known);
                known
            }
        };
        match self.check_amounts(&row, &customer_id, currency, terms) {
            Ok((due_date, paid)) => {
                Ok(Checked::Ready(Box::new(Ready { row, customer_id, due_date, paid })))
            }
            Err(errors) => Ok(Checked::Bad(errors)),
        }
    }

    /// Drafts the invoice as the write will (nothing is stored) to check its items, taxes and
    /// dates in the customer's currency, and its payment against its total.
    fn check_amounts(
        &self,
        row: &InvoiceRow,
        customer_id: &CustomerId,
        currency: Currency,
        terms: u32,
    ) -> Result<(NaiveDate, Option<Money>), Vec<RowError>> {
        let items = row.lines.iter().map(|l| l.item.clone()).collect();
        let items = item_specs(items, currency).map_err(|r| vec![item_error(row, &r)])?;
        let due_date = match row.due_date {
            Some(due) => due,
            None => row
                .invoice_date
                .checked_add_days(Days::new(u64::from(terms)))
                .ok_or_else(|| vec![error(row.line, "invoice_date", "out of range")])?,
        };
        let spec = DocumentSpec {
            kind: DocumentKind::Invoice,
            customer_id: customer_id.clone(),
            currency,
            invoice_date: row.invoice_date,
            due_date,
            adjusts_invoice_id: None,
            reason: None,
            items,
        };
        // The draft is thrown away: it needs no real ids, and takes none from the generator.
        let ids = NewIds(&CheckIds);
        let draft = draft_document(spec, ids.document(DocumentKind::Invoice), String::new(), &ids)
            .map_err(|r| vec![item_error(row, &r)])?;
        let Some(amount) = &row.amount_paid else { return Ok((due_date, None)) };
        let paid = parse_amount("amount_paid", amount, currency)
            .map_err(|r| vec![error(row.line, "amount_paid", reason(&r))])?;
        if !paid.is_positive() {
            return Err(vec![error(row.line, "amount_paid", "more than zero, or blank")]);
        }
        if paid.minor() > draft.total().minor() {
            let total = draft.total();
            return Err(vec![error(
                row.line,
                "amount_paid",
                format!("more than the invoice's total, {total}"),
            )]);
        }
        Ok((due_date, Some(paid)))
    }

    /// Writes one batch of invoices in one transaction, each customer's in a savepoint.
    fn write_invoices(
        &self,
        tenant_id: &TenantId,
        batch: &[Ready],
        options: ImportOptions,
        report: &mut ImportReport,
    ) -> EngineResult<Made> {
        let mut by_customer: HashMap<&CustomerId, Vec<&Ready>> = HashMap::new();
        let mut order = Vec::new();
        for invoice in batch {
            let of_customer = by_customer.entry(&invoice.customer_id).or_default();
            if of_customer.is_empty() {
                order.push(invoice.customer_id.clone());
            }
            of_customer.push(invoice);
        }
        let mut total = Made::default();
        let mut failed: Option<Rejection> = None;
        self.write_batch(
            tenant_id,
            &order,
            |_, _| Ok(()),
            |unit, ()| {
                let mut made = Made::default();
                let invoices = by_customer.get(&unit.customer.id).map_or(&[][..], Vec::as_slice);
                for invoice in invoices {
                    unit.import_invoice(invoice, &mut made)?;
                }
                Ok(made)
            },
            |_, results| {
                for (customer_id, result) in results {
                    match result {
                        Ok(made) => {
                            total.invoices += made.invoices;
                            total.payments += made.payments;
                            total.skipped += made.skipped;
                        }
                        Err(rejection) if options.skip_bad_rows => {
                            for invoice in by_customer.get(customer_id).into_iter().flatten() {
                                report.bad_records += 1;
                                report.errors.push(error(invoice.row.line, "", reason(rejection)));
                            }
                        }
                        Err(rejection) => {
                            failed.get_or_insert_with(|| rejection.clone());
                        }
                    }
                }
                match &failed {
                    // Rolls the batch back: without skip_bad_rows no part of a refused
                    // customer's invoices is written.
                    Some(rejection) => Err(rejection.clone().into()),
                    None => Ok(()),
                }
            },
        )?;
        Ok(total)
    }
}

/// The ids of a draft made only to check an invoice.
struct CheckIds;

impl IdGen for CheckIds {
    fn suffix(&self) -> String {
        "check".to_owned()
    }
}

enum Checked {
    Ready(Box<Ready>),
    Imported,
    Bad(Vec<RowError>),
}

impl crate::unit::Unit<'_> {
    /// Posts one imported invoice, records its external id, and records and applies what was
    /// paid on it; an invoice imported meanwhile (by a concurrent import) is skipped.
    fn import_invoice(&mut self, invoice: &Ready, made: &mut Made) -> EngineResult<()> {
        let row = &invoice.row;
        let tenant_id = self.tenant_id().clone();
        if self.tx.external_ref(&tenant_id, ExternalKind::Invoice, &row.external_id)?.is_some() {
            made.skipped += 1;
            return Ok(());
        }
        let document = self.create_document(NewDocument {
            kind: DocumentKind::Invoice,
            customer_id: invoice.customer_id.clone(),
            items: row.lines.iter().map(|l| l.item.clone()).collect(),
            invoice_date: Some(row.invoice_date),
            due_date: Some(invoice.due_date),
            adjusts_invoice_id: None,
            reason: None,
            post: true,
        })?;
        self.tx.insert_external_ref(&ExternalRef {
            tenant_id,
            kind: ExternalKind::Invoice,
            external_id: row.external_id.clone(),
            object_id: document.id.to_string(),
            source_number: row.number.clone(),
            created_at: self.now,
        })?;
        made.invoices += 1;
        if let Some(paid) = invoice.paid {
            self.record_payment(NewPayment {
                customer_id: invoice.customer_id.clone(),
                amount: Amount::from(paid),
                method: PaymentMethod::Other,
                reference: Some(row.external_id.clone()),
                effective_date: Some(row.paid_on.unwrap_or(row.invoice_date)),
                applications: vec![ApplicationTarget {
                    target_id: document.id.clone(),
                    amount: Some(Amount::from(paid)),
                    items: None,
                    rule: None,
                }],
                description: Some(format!("Paid before import on {}", row.external_id)),
            })?;
            made.payments += 1;
        }
        Ok(())
    }
}

/// What to say of a refusal beside its column.
fn reason(rejection: &Rejection) -> String {
    match rejection {
        Rejection::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// A refusal of an invoice's items or dates, at the line and column it names.
fn item_error(row: &InvoiceRow, rejection: &Rejection) -> RowError {
    let line_of = |idx: usize| row.lines.get(idx).map_or(row.line, |l| l.line);
    let (line, column) = match rejection {
        Rejection::Invalid { field, .. } | Rejection::AmountOutOfRange { field } => {
            let idx = field
                .strip_prefix("items[")
                .and_then(|rest| rest.split(']').next())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0);
            let column = match (field.contains(".taxes["), field.rsplit('.').next()) {
                (true, Some("name")) => "tax_name",
                (true, Some("rate")) => "tax_rate",
                (true, _) => "tax_amount",
                (false, Some("description")) => "description",
                _ => "amount",
            };
            (line_of(idx), column)
        }
        Rejection::Refused { input: Input::DueDate, .. } => (row.line, "due_date"),
        Rejection::Refused { input: Input::TaxRate { item, .. }, .. } => {
            (line_of(*item), "tax_rate")
        }
        _ => (row.line, "amount"),
    };
    error(line, column, reason(rejection))
}

/// The well-formed invoices of the file, every error of the others, and how many invoices
/// were bad. An invoice's lines follow one another; its first line sets the invoice-level
/// columns, which later lines leave blank or repeat.
fn invoice_rows(records: &Records) -> (Vec<InvoiceRow>, Vec<RowError>, u64) {
    let mut rows = Vec::new();
    let mut errors = records.broken.clone();
    let mut bad = errors.len() as u64;
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut idx = 0;
    while idx < records.records.len() {
        let mut head = records.fields(idx);
        let external_id = head.external_id("external_id", true);
        let mut end = idx + 1;
        if let Some(id) = &external_id {
            while end < records.records.len() && records.fields(end).get("external_id") == Some(id)
            {
                end += 1;
            }
            if let Some(first) = first_line.get(id) {
                head.fail(
                    "external_id",
                    format!("lines of one invoice follow one another; first given on line {first}"),
                );
            }
            first_line.entry(id.clone()).or_insert(head.line);
        }
        let invoice = invoice_head(&mut head);
        let mut lines = Vec::new();
        let mut line_errors = std::mem::take(&mut head.errors);
        for line_idx in idx..end {
            let mut fields = records.fields(line_idx);
            if line_idx > idx {
                for column in INVOICE_LEVEL {
                    let value = fields.get(column);
                    if value.is_some() && value != head.get(column) {
                        fields.fail(column, format!("differs from line {}", head.line));
                    }
                }
            }
            if let Some(item) = invoice_line(&mut fields) {
                lines.push(InvoiceLine { line: fields.line, item });
            }
            line_errors.append(&mut fields.errors);
        }
        match (external_id, invoice) {
            (Some(external_id), Some(head_row)) if line_errors.is_empty() => {
                rows.push(InvoiceRow { external_id, lines, ..head_row });
            }
            _ => {
                bad += 1;
                errors.append(&mut line_errors);
            }
        }
        idx = end;
    }
    (rows, errors, bad)
}

/// The invoice-level columns of an invoice's first line.
fn invoice_head(fields: &mut Fields<'_>) -> Option<InvoiceRow> {
    let by_external = fields.external_id("customer_external_id", false);
    let email = fields.optional("customer_email");
    let customer = match (by_external, email) {
        (Some(id), None) => Some(CustomerRef::External(id)),
        (None, Some(email)) => Some(CustomerRef::Email(email)),
        (Some(_), Some(_)) => {
            fields.fail("customer_email", "give customer_external_id or customer_email, not both");
            None
        }
        (None, None) => {
            fields.fail("customer_external_id", "give customer_external_id or customer_email");
            None
        }
    };
    let number = fields.optional("number");
    let invoice_date = fields.date("invoice_date");
    if fields.get("invoice_date").is_none() {
        fields.fail("invoice_date", "required");
    }
    let due_date = fields.date("due_date");
    let amount_paid = fields.amount("amount_paid");
    let paid_on = fields.date("paid_on");
    if paid_on.is_some() && amount_paid.is_none() {
        fields.fail("paid_on", "a payment date needs amount_paid");
    }
    if let (Some(paid), Some(date)) = (paid_on, invoice_date)
        && paid < date
    {
        fields.fail("paid_on", "before invoice_date");
    }
    Some(InvoiceRow {
        line: fields.line,
        external_id: String::new(),
        customer: customer?,
        number,
        invoice_date: invoice_date?,
        due_date,
        amount_paid,
        paid_on,
        lines: Vec::new(),
    })
}

/// One line's item and its tax.
fn invoice_line(fields: &mut Fields<'_>) -> Option<NewItem> {
    let description = fields.required("description");
    let amount = fields.amount("amount");
    if fields.get("amount").is_none() {
        fields.fail("amount", "required");
    }
    let tax_name = fields.optional("tax_name");
    let rate = fields.rate("tax_rate");
    let tax_amount = fields.amount("tax_amount");
    let given = (fields.get("tax_rate").is_some(), fields.get("tax_amount").is_some());
    let taxes = match (tax_name, given) {
        (None, (false, false)) => Vec::new(),
        (Some(_), (true, true)) => {
            fields.fail("tax_amount", "give tax_rate or tax_amount, not both");
            Vec::new()
        }
        (Some(_), (false, false)) => {
            fields.fail("tax_rate", "give tax_rate or tax_amount with tax_name");
            Vec::new()
        }
        (None, _) => {
            fields.fail("tax_name", "required with tax_rate or tax_amount");
            Vec::new()
        }
        (Some(name), _) => vec![NewTax { name, rate, amount: tax_amount }],
    };
    Some(NewItem {
        description: description?,
        amount: Some(amount?),
        quantity: None,
        unit_price: None,
        taxes,
        invoice_item_id: None,
    })
}
