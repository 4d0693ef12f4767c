//! The answer of `POST /v1/imports`: what an import created and skipped, and its bad rows.

use serde::Serialize;
use settle_engine::{ImportKind, ImportReport};

use crate::error::RowErrorOut;
use utoipa::ToSchema;

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportOut {
    /// `import`.
    pub(crate) object: &'static str,
    /// `customers` or `invoices`.
    pub(crate) kind: &'static str,
    pub(crate) dry_run: bool,
    /// Whether anything was written.
    pub(crate) written: bool,
    /// Lines read, the header left out.
    pub(crate) rows: u64,
    pub(crate) customers_created: u64,
    pub(crate) invoices_created: u64,
    /// Payments recorded for `amount_paid`, each applied to its invoice.
    pub(crate) payments_created: u64,
    /// Customers or invoices whose external id was imported before: skipped.
    pub(crate) already_imported: u64,
    /// Customers or invoices left out because a line of theirs is bad.
    pub(crate) bad_records: u64,
    /// Every bad field, in line order (at most 1,000).
    pub(crate) errors: Vec<RowErrorOut>,
}

impl ImportOut {
    pub(crate) fn new(kind: ImportKind, dry_run: bool, report: &ImportReport) -> ImportOut {
        ImportOut {
            object: "import",
            kind: kind.name(),
            dry_run,
            written: report.written,
            rows: report.rows,
            customers_created: report.customers_created,
            invoices_created: report.invoices_created,
            payments_created: report.payments_created,
            already_imported: report.already_imported,
            bad_records: report.bad_records,
            errors: report.errors.iter().map(RowErrorOut::from).collect(),
        }
    }
}
