//! Reading an import file: the header, each record's fields by column name, and every bad
//! field as a [`RowError`] with its line and column, so a file is judged whole before
//! anything is written.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use settle_core::error::Rejection;
use settle_core::money::Currency;

use super::{ImportKind, RowError};
use crate::commands::Amount;
use crate::commands::customers::{check_email, check_terms};

/// Most characters of an external id.
pub const MAX_EXTERNAL_ID_CHARS: usize = 200;

/// The columns of a customers file; the first two are required.
pub(crate) const CUSTOMER_COLUMNS: [&str; 5] =
    ["external_id", "name", "email", "currency", "payment_terms_days"];

/// The columns of an invoices file; `external_id`, `invoice_date`, `description` and `amount`
/// are required, and one of `customer_external_id` and `customer_email`.
pub(crate) const INVOICE_COLUMNS: [&str; 13] = [
    "external_id",
    "customer_external_id",
    "customer_email",
    "number",
    "invoice_date",
    "due_date",
    "description",
    "amount",
    "tax_name",
    "tax_rate",
    "tax_amount",
    "amount_paid",
    "paid_on",
];

/// Columns an invoice's first line sets and later lines may only repeat.
pub(crate) const INVOICE_LEVEL: [&str; 7] = [
    "customer_external_id",
    "customer_email",
    "number",
    "invoice_date",
    "due_date",
    "amount_paid",
    "paid_on",
];

/// The file's records with its header's columns.
pub(crate) struct Records {
    /// Column name → index in a record.
    columns: HashMap<String, usize>,
    /// Each record with its line number (the header is line 1).
    pub(crate) records: Vec<(u64, csv::StringRecord)>,
    /// The lines that are not records of this header (bad CSV, a field too many or too few).
    pub(crate) broken: Vec<RowError>,
}

/// One record's fields, read by column name; every refusal lands in `errors`.
pub(crate) struct Fields<'a> {
    pub(crate) line: u64,
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
    pub(crate) errors: Vec<RowError>,
}

/// Reads the header and the records. A header without a required column or with a column
/// this kind does not know is an error of the file; a line that is not a record of the
/// header is `broken`, and the other lines are still read.
pub(crate) fn read(kind: ImportKind, file: &[u8]) -> Result<Records, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(file);
    let header = reader.headers().map_err(|e| vec![csv_error(1, &e)])?.clone();
    let known: &[&str] = match kind {
        ImportKind::Customers => &CUSTOMER_COLUMNS,
        ImportKind::Invoices => &INVOICE_COLUMNS,
    };
    let mut errors = Vec::new();
    let mut columns = HashMap::new();
    for (idx, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        if !known.contains(&name) {
            errors.push(error(1, name, "unknown column"));
        } else if columns.insert(name.to_owned(), idx).is_some() {
            errors.push(error(1, name, "column given twice"));
        }
    }
    let required: &[&str] = match kind {
        ImportKind::Customers => &["external_id", "name"],
        ImportKind::Invoices => &["external_id", "invoice_date", "description", "amount"],
    };
    for name in required {
        if !columns.contains_key(*name) {
            errors.push(error(1, name, "missing column"));
        }
    }
    if kind == ImportKind::Invoices
        && !columns.contains_key("customer_external_id")
        && !columns.contains_key("customer_email")
    {
        errors.push(error(
            1,
            "customer_external_id",
            "give customer_external_id or customer_email",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (mut records, mut broken) = (Vec::new(), Vec::new());
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                records.push((line, record));
            }
            Err(err) => {
                let line = err.position().map_or(0, csv::Position::line);
                broken.push(csv_error(line, &err));
            }
        }
    }
    Ok(Records { columns, records, broken })
}

fn csv_error(line: u64, err: &csv::Error) -> RowError {
    let reason = match err.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
        _ => "not CSV".to_owned(),
    };
    error(line, "", reason)
}

pub(crate) fn error(line: u64, column: &str, reason: impl Into<String>) -> RowError {
    RowError { line, column: column.to_owned(), reason: reason.into() }
}

impl Records {
    /// Lines read, the header left out.
    pub(crate) fn rows(&self) -> u64 {
        (self.records.len() + self.broken.len()) as u64
    }

    /// The fields of the `idx`th record.
    pub(crate) fn fields(&self, idx: usize) -> Fields<'_> {
        let (line, record) = &self.records[idx];
        Fields { line: *line, record, columns: &self.columns, errors: Vec::new() }
    }
}

impl Fields<'_> {
    /// The trimmed text of `column`; `None` when blank or not in the file.
    pub(crate) fn get(&self, column: &str) -> Option<&str> {
        let idx = *self.columns.get(column)?;
        let text = self.record.get(idx)?.trim();
        (!text.is_empty()).then_some(text)
    }

    pub(crate) fn fail(&mut self, column: &str, reason: impl Into<String>) {
        self.errors.push(error(self.line, column, reason));
    }

    /// A refusal of the engine's checks, told at `column`.
    pub(crate) fn refuse(&mut self, column: &str, rejection: &Rejection) {
        let reason = match rejection {
            Rejection::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        self.fail(column, reason);
    }

    /// Required text of at most 1,024 characters.
    pub(crate) fn required(&mut self, column: &str) -> Option<String> {
        if self.get(column).is_none() {
            self.fail(column, "required");
        }
        self.optional(column)
    }

    /// Optional text of at most 1,024 characters.
    pub(crate) fn optional(&mut self, column: &str) -> Option<String> {
        let text = self.get(column)?.to_owned();
        if text.contains('\0') {
            // PostgreSQL's text cannot hold U+0000, and no column of Settle's means it.
            self.fail(column, "must not contain the NUL character");
            return None;
        }
        if text.chars().count() > 1024 {
            self.fail(column, "at most 1024 characters");
            return None;
        }
        Some(text)
    }

    /// A required external id: at most [`MAX_EXTERNAL_ID_CHARS`] characters.
    pub(crate) fn external_id(&mut self, column: &str, required: bool) -> Option<String> {
        let text = if required { self.required(column)? } else { self.optional(column)? };
        if text.chars().count() > MAX_EXTERNAL_ID_CHARS {
            self.fail(column, format!("at most {MAX_EXTERNAL_ID_CHARS} characters"));
            return None;
        }
        Some(text)
    }

    pub(crate) fn email(&mut self, column: &str) -> Option<String> {
        let email = self.optional(column)?;
        match check_email(&email) {
            Ok(()) => Some(email),
            Err(rejection) => {
                self.refuse(column, &rejection);
                None
            }
        }
    }

    pub(crate) fn currency(&mut self, column: &str) -> Option<Currency> {
        let code = self.get(column)?;
        match Currency::parse(code) {
            Ok(currency) => Some(currency),
            Err(_) => {
                self.fail(column, "not an ISO 4217 currency code Settle knows");
                None
            }
        }
    }

    pub(crate) fn terms(&mut self, column: &str) -> Option<u32> {
        let text = self.get(column)?;
        let Ok(days) = text.parse::<u32>() else {
            self.fail(column, "a whole number of days");
            return None;
        };
        match check_terms(days) {
            Ok(()) => Some(days),
            Err(rejection) => {
                self.refuse(column, &rejection);
                None
            }
        }
    }

    /// A date written `YYYY-MM-DD`.
    pub(crate) fn date(&mut self, column: &str) -> Option<NaiveDate> {
        let text = self.get(column)?;
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                self.fail(column, "a date written YYYY-MM-DD");
                None
            }
        }
    }

    /// An exact decimal amount (`"150.00"`, `"-3.13"`).
    pub(crate) fn amount(&mut self, column: &str) -> Option<Amount> {
        let text = self.get(column)?;
        match Amount::parse(text) {
            Ok(amount) => Some(amount),
            Err(_) => {
                self.fail(column, "a decimal amount such as 150.00");
                None
            }
        }
    }

    /// A tax rate in percent (`"8.25"`).
    pub(crate) fn rate(&mut self, column: &str) -> Option<Decimal> {
        let text = self.get(column)?;
        let rate = settle_core::money::parse_decimal(text);
        if rate.is_none() {
            self.fail(column, "a percent such as 8.25");
        }
        rate
    }
}
