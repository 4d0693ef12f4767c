//! Importing customers and open invoices from another system (`settle import`,
//! `POST /v1/imports`).
//!
//! A file is read and judged whole first: every bad field is a [`RowError`] with its line and
//! column. With errors and without `skip_bad_rows` nothing is written; a dry run writes nothing
//! either and says what would be created. Then the good rows are written in batches of
//! [`IMPORT_BATCH`] per database transaction (batched commits, as bill runs do). Each row's
//! external id is recorded (`external_ref`, unique per tenant and kind) in the transaction that
//! creates its customer or invoice, so importing the same file again, or again after a crash
//! between batches, creates nothing twice.

mod invoices;
mod rows;

use settle_core::customer::{Balances, Customer};
use settle_core::ids::TenantId;
use settle_store::{ExternalKind, ExternalRef};

use crate::commands::customers::DEFAULT_PAYMENT_TERMS_DAYS;
use crate::{Engine, EngineResult};

pub use rows::MAX_EXTERNAL_ID_CHARS;

/// Customers or invoices: what one file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// `customers.csv`: one customer per line.
    Customers,
    /// `invoices.csv`: one invoice line per line, an invoice's lines one after another.
    Invoices,
}

impl ImportKind {
    /// `customers` or `invoices`.
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Customers => "customers",
            ImportKind::Invoices => "invoices",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<ImportKind> {
        [ImportKind::Customers, ImportKind::Invoices].into_iter().find(|k| k.name() == name)
    }

    /// The columns a file of this kind may have, in the documented order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::Customers => &rows::CUSTOMER_COLUMNS,
            ImportKind::Invoices => &rows::INVOICE_COLUMNS,
        }
    }
}

/// How to import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Judge the file and count what would be created; write nothing.
    pub dry_run: bool,
    /// Write the good rows of a file that has bad ones (else nothing is written).
    pub skip_bad_rows: bool,
}

/// A bad field of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    pub line: u64,
    /// The column's name (empty when the line as a whole is refused).
    pub column: String,
    /// Why.
    pub reason: String,
}

/// What an import did, or with a dry run or a refused file, would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Lines read, the header left out.
    pub rows: u64,
    /// Customers created.
    pub customers_created: u64,
    /// Invoices created.
    pub invoices_created: u64,
    /// Payments created (an invoice's `amount_paid`).
    pub payments_created: u64,
    /// Customers or invoices whose external id was imported before: skipped.
    pub already_imported: u64,
    /// Customers or invoices left out because a line of theirs is bad.
    pub bad_records: u64,
    /// Every bad field, in line order (at most [`MAX_REPORTED_ERRORS`]).
    pub errors: Vec<RowError>,
    /// Whether anything was written: false for a dry run, and for a file with bad rows
    /// imported without `skip_bad_rows`.
    pub written: bool,
}

/// How far an import has gone: customers or invoices done (created or skipped) of the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Done so far.
    pub done: u64,
    /// To do in all.
    pub total: u64,
}

/// Customers or invoices written per database transaction. Larger than a bill run's batch:
/// an import is an operator's one-off load, and on SQLite (synchronous=FULL) 5,000 per commit
/// took 100,000 invoices from 42 s (500 per commit) to 27 s, while a concurrent writer waits
/// at most one batch (about 1.5 s, well inside the store's 10 s busy timeout).
pub const IMPORT_BATCH: usize = 5000;

/// The most errors a report lists; `bad_records` still counts them all.
pub const MAX_REPORTED_ERRORS: usize = 1000;

impl ImportReport {
    fn refuse(&mut self, mut errors: Vec<RowError>) {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        errors.truncate(MAX_REPORTED_ERRORS);
        self.errors = errors;
    }
}

/// A good line of a customers file.
struct CustomerRow {
    external_id: String,
    name: String,
    email: Option<String>,
    currency: Option<settle_core::money::Currency>,
    payment_terms_days: Option<u32>,
}

impl Engine {
    /// Imports `file` (CSV with a header line) of `kind` into the tenant. Answers the report,
    /// calling `progress` after each batch. A file with bad rows is answered with its errors
    /// and nothing written unless `options.skip_bad_rows`; a store failure stops the import
    /// between batches (what was committed stays, and running the file again finishes it).
    pub fn import(
        &self,
        tenant_id: &TenantId,
        kind: ImportKind,
        file: &[u8],
        options: ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> EngineResult<ImportReport> {
        let records = match rows::read(kind, file) {
            Ok(records) => records,
            Err(errors) => {
                let mut report = ImportReport::default();
                report.refuse(errors);
                return Ok(report);
            }
        };
        match kind {
            ImportKind::Customers => self.import_customers(tenant_id, &records, options, progress),
            ImportKind::Invoices => self.import_invoices(tenant_id, &records, options, progress),
        }
    }

    fn import_customers(
        &self,
        tenant_id: &TenantId,
        records: &rows::Records,
        options: ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> EngineResult<ImportReport> {
        let mut report = ImportReport { rows: records.rows(), ..Default::default() };
        let (good, errors, bad) = customer_rows(records);
        report.bad_records = bad;
        let refused = !errors.is_empty() && !options.skip_bad_rows;
        report.refuse(errors);
        if refused {
            return Ok(report);
        }
        if options.dry_run {
            self.read(|tx| {
                for row in &good {
                    match tx.external_ref(tenant_id, ExternalKind::Customer, &row.external_id)? {
                        Some(_) => report.already_imported += 1,
                        None => report.customers_created += 1,
                    }
                }
                Ok(())
            })?;
            return Ok(report);
        }
        let total = good.len() as u64;
        let mut done = 0;
        for batch in good.chunks(IMPORT_BATCH) {
            let (created, skipped) = self.write_customers(tenant_id, batch)?;
            report.customers_created += created;
            report.already_imported += skipped;
            report.written = true;
            done += batch.len() as u64;
            progress(ImportProgress { done, total });
        }
        Ok(report)
    }

    /// Creates one batch of customers in one transaction; answers (created, already imported).
    fn write_customers(
        &self,
        tenant_id: &TenantId,
        batch: &[CustomerRow],
    ) -> EngineResult<(u64, u64)> {
        let mut tx = self.begin_batch()?;
        let settings = tx.settings(tenant_id)?;
        let now = self.now();
        let (mut created, mut skipped) = (0, 0);
        for row in batch {
            if tx.external_ref(tenant_id, ExternalKind::Customer, &row.external_id)?.is_some() {
                skipped += 1;
                continue;
            }
            let customer = Customer {
                id: self.new_ids().customer(),
                name: row.name.clone(),
                email: row.email.clone(),
                currency: row.currency.unwrap_or(settings.default_currency),
                payment_terms_days: row.payment_terms_days.unwrap_or(DEFAULT_PAYMENT_TERMS_DAYS),
                metadata: "{}".to_owned(),
                created_at: now,
                balances: Balances::default(),
            };
            tx.insert_customer(tenant_id, &customer)?;
            tx.insert_external_ref(&ExternalRef {
                tenant_id: tenant_id.clone(),
                kind: ExternalKind::Customer,
                external_id: row.external_id.clone(),
                object_id: customer.id.to_string(),
                source_number: None,
                created_at: now,
            })?;
            created += 1;
        }
        tx.commit()?;
        Ok((created, skipped))
    }
}

/// The good lines of a customers file, every error, and how many lines were bad. An external
/// id given on an earlier line makes a later line bad.
fn customer_rows(records: &rows::Records) -> (Vec<CustomerRow>, Vec<RowError>, u64) {
    let mut good = Vec::new();
    let mut errors = records.broken.clone();
    let mut bad = errors.len() as u64;
    let mut seen = std::collections::HashMap::new();
    for idx in 0..records.records.len() {
        let mut fields = records.fields(idx);
        let external_id = fields.external_id("external_id", true);
        let name = fields.required("name");
        let email = fields.email("email");
        let currency = fields.currency("currency");
        let payment_terms_days = fields.terms("payment_terms_days");
        if let Some(id) = &external_id
            && let Some(first) = seen.insert(id.clone(), fields.line)
        {
            seen.insert(id.clone(), first);
            fields.fail("external_id", format!("already given on line {first}"));
        }
        match (external_id, name) {
            (Some(external_id), Some(name)) if fields.errors.is_empty() => {
                good.push(CustomerRow { external_id, name, email, currency, payment_terms_days });
            }
            _ => {
                bad += 1;
                errors.append(&mut fields.errors);
            }
        }
    }
    (good, errors, bad)
}
