//! Journal export: a tenant's whole journal as a Beancount ledger or as CSV (one row per
//! posting), so that an independent tool can check that it balances. Pure formatting over the
//! stored transactions; amounts are written exactly, with `Money`'s decimal text.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use chrono::NaiveDate;
use settle_core::ids::{CustomerId, TenantId};
use settle_core::ledger::{Account, Posting};
use settle_store::StoredTxn;

use crate::verify::all_pages;
use crate::{Engine, EngineResult};

/// The text formats the journal exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A Beancount ledger that `bean-check` accepts.
    Beancount,
    /// RFC 4180 CSV, one row per posting.
    Csv,
}

impl ExportFormat {
    /// `"beancount"` or `"csv"`.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Beancount => "beancount",
            ExportFormat::Csv => "csv",
        }
    }

    /// Reads a name written by [`ExportFormat::name`].
    pub fn parse(name: &str) -> Option<ExportFormat> {
        [ExportFormat::Beancount, ExportFormat::Csv].into_iter().find(|f| f.name() == name)
    }
}

/// The CSV header: one column per field of a posting and of its transaction.
pub const CSV_HEADER: [&str; 14] = [
    "txn_id",
    "seq",
    "effective_date",
    "customer_id",
    "kind",
    "description",
    "account",
    "side",
    "amount",
    "currency",
    "document_id",
    "item_id",
    "payment_id",
    "application_id",
];

impl Engine {
    /// Writes the tenant's whole journal, in journal order, to `out` in `format`, and returns
    /// the number of transactions written. The journal is read in one read transaction, so
    /// the export is one consistent snapshot.
    pub fn export_journal(
        &self,
        tenant_id: &TenantId,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> EngineResult<usize> {
        let txns = self.read(|tx| all_pages(|page| Ok(tx.journal(tenant_id, None, page)?)))?;
        match format {
            ExportFormat::Beancount => write_beancount(&txns, out)?,
            ExportFormat::Csv => write_csv(&txns, out)?,
        }
        Ok(txns.len())
    }
}

/// The Beancount account of a posting: customer-balance accounts get one sub-account per
/// customer; the company's own accounts (cash, revenue, tax, bad debt) do not.
pub(crate) fn beancount_account(account: Account, customer_id: &CustomerId) -> String {
    let (base, per_customer) = match account {
        Account::Receivable => ("Assets:Receivable", true),
        Account::Cash => ("Assets:Cash", false),
        Account::UnappliedPayments => ("Liabilities:UnappliedPayments", true),
        Account::CreditMemos => ("Liabilities:CreditMemos", true),
        Account::CreditBalance => ("Liabilities:CreditBalance", true),
        Account::Revenue => ("Income:Revenue", false),
        Account::RevenueAdjustments => ("Income:RevenueAdjustments", false),
        Account::TaxPayable => ("Liabilities:TaxPayable", false),
        Account::BadDebt => ("Expenses:BadDebt", false),
    };
    if per_customer {
        format!("{base}:{}", customer_component(customer_id))
    } else {
        base.to_owned()
    }
}

/// A customer id as a Beancount account component: `cus_` becomes `Cus-` and the rest is kept
/// as it is (ids are ASCII letters and digits after their prefix, so the mapping is one to one
/// and the component starts with a capital letter, as Beancount requires). Any other
/// character, which a valid id never has, would become `-`.
pub(crate) fn customer_component(customer_id: &CustomerId) -> String {
    let id = customer_id.as_str();
    let rest = id.strip_prefix("cus_").unwrap_or(id);
    let safe: String =
        rest.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("Cus-{safe}")
}

/// A Beancount string literal: quotes and backslashes escaped; control characters (line
/// breaks, tabs), which Beancount strings cannot carry portably, become spaces.
pub(crate) fn beancount_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The posting's detail as `(metadata key, id)` pairs.
fn detail(posting: &Posting) -> [(&'static str, Option<&str>); 4] {
    [
        ("document_id", posting.document_id.as_ref().map(|id| id.as_str())),
        ("item_id", posting.item_id.as_ref().map(|id| id.as_str())),
        ("payment_id", posting.payment_id.as_ref().map(|id| id.as_str())),
        ("application_id", posting.application_id.as_ref().map(|id| id.as_str())),
    ]
}

/// Writes the Beancount ledger: operating currencies, one `open` per account used (dated at
/// the earliest effective date, with the currencies it holds), then one transaction per
/// journal transaction, in journal order.
pub(crate) fn write_beancount(txns: &[StoredTxn], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "; Settle journal export: {} transactions", txns.len())?;
    let mut currencies = BTreeSet::new();
    let mut accounts: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut first: Option<NaiveDate> = None;
    for stored in txns {
        let txn = &stored.txn;
        first = Some(first.map_or(txn.effective_date(), |d| d.min(txn.effective_date())));
        for posting in txn.postings() {
            let code = posting.amount.currency().code();
            currencies.insert(code);
            accounts
                .entry(beancount_account(posting.account, txn.customer_id()))
                .or_default()
                .insert(code);
        }
    }
    if !currencies.is_empty() {
        writeln!(out)?;
    }
    for code in &currencies {
        writeln!(out, "option \"operating_currency\" \"{code}\"")?;
    }
    if let Some(first) = first {
        writeln!(out)?;
        for (account, codes) in &accounts {
            let codes: Vec<&str> = codes.iter().copied().collect();
            writeln!(out, "{first} open {account} {}", codes.join(","))?;
        }
    }
    for stored in txns {
        let txn = &stored.txn;
        writeln!(out)?;
        writeln!(
            out,
            "{} * {} {}",
            txn.effective_date(),
            beancount_string(txn.kind().name()),
            beancount_string(txn.description())
        )?;
        writeln!(out, "  settle_txn: {}", beancount_string(txn.id().as_str()))?;
        writeln!(out, "  settle_customer: {}", beancount_string(txn.customer_id().as_str()))?;
        for posting in txn.postings() {
            let amount =
                settle_core::money::Money::new(posting.signed_debit(), posting.amount.currency());
            writeln!(
                out,
                "  {}  {} {}",
                beancount_account(posting.account, txn.customer_id()),
                amount,
                amount.currency().code()
            )?;
            for (key, id) in detail(posting) {
                if let Some(id) = id {
                    writeln!(out, "    {key}: {}", beancount_string(id))?;
                }
            }
        }
    }
    out.flush()
}

/// Writes RFC 4180 CSV (CRLF line ends, fields quoted when they hold a comma, a quote or a line
/// break): the header, then one row per posting in journal order. `amount` is the posting's
/// positive amount and `side` says whether it is a debit or a credit; absent detail is empty.
pub(crate) fn write_csv(txns: &[StoredTxn], out: &mut dyn Write) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for stored in txns {
        let txn = &stored.txn;
        let seq = stored.seq.to_string();
        let date = txn.effective_date().to_string();
        for posting in txn.postings() {
            let amount = posting.amount.to_string();
            let [document, item, payment, application] = detail(posting).map(|(_, id)| id);
            writer.write_record([
                txn.id().as_str(),
                &seq,
                &date,
                txn.customer_id().as_str(),
                txn.kind().name(),
                txn.description(),
                posting.account.name(),
                posting.side.name(),
                &amount,
                posting.amount.currency().code(),
                document.unwrap_or(""),
                item.unwrap_or(""),
                payment.unwrap_or(""),
                application.unwrap_or(""),
            ])?;
        }
    }
    writer.flush()
}
