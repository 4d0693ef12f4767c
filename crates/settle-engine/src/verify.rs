//! `verify`: rebuilds every projection from the journal alone and compares it with what is
//! stored. Any difference is a bug or tampering, and is reported, never repaired silently.

use std::collections::BTreeMap;
use std::fmt;

use settle_core::customer::HistoryLine;
use settle_core::document::{Document, DocumentStatus};
use settle_core::fold::Replay;
use settle_core::ids::{CustomerId, DocumentId, ItemId, TenantId, TxnId};
use settle_core::ledger::{Account, JournalTxn, TxnKind};
use settle_core::money::Currency;
use settle_store::{
    AccountTotal, CustomerQuery, CustomerSort, DocumentQuery, Page, PageRequest, StoreTx,
};

use crate::{Engine, EngineResult};

/// What `verify` checked and what differed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Tenants checked.
    pub tenants: usize,
    /// Journal transactions replayed.
    pub transactions: usize,
    /// Postings replayed.
    pub postings: usize,
    /// Customers compared.
    pub customers: usize,
    /// Document items compared.
    pub items: usize,
    /// Payments compared.
    pub payments: usize,
    /// Application items compared.
    pub application_items: usize,
    /// History lines compared.
    pub history_lines: usize,
    /// Every difference found, one line each.
    pub differences: Vec<String>,
}

impl VerifyReport {
    /// True when every projection matched the replay.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tenants, {} transactions, {} postings replayed; {} customers, {} items, \
             {} payments, {} application items, {} history lines compared; {} differences",
            self.tenants,
            self.transactions,
            self.postings,
            self.customers,
            self.items,
            self.payments,
            self.application_items,
            self.history_lines,
            self.differences.len()
        )
    }
}

/// What one tenant's journal says every projection should be.
#[derive(Default)]
struct Expected {
    /// Item, payment, application and customer projections, folded as the write path does.
    replay: Replay,
    /// Credited amounts per invoice item from adjustment transactions.
    adjusted: BTreeMap<ItemId, i64>,
    /// Debit and credit totals per customer, account and currency.
    accounts: BTreeMap<(CustomerId, Account, Currency), (i128, i128)>,
    /// History lines per customer: transaction, amount, balance after.
    history: BTreeMap<CustomerId, Vec<(TxnId, i64, i64)>>,
}

impl Expected {
    /// Folds one stored transaction; a total past the amount bound is a difference.
    fn add(&mut self, txn: &JournalTxn, report: &mut VerifyReport) {
        let customer_id = txn.customer_id();
        if txn.kind() == TxnKind::Adjustment {
            for posting in txn.postings().iter().filter(|p| p.account == Account::Receivable) {
                if let Some(item) = &posting.item_id {
                    *self.adjusted.entry(item.clone()).or_default() += posting.amount.minor();
                }
            }
        }
        let effects = txn.effects();
        for ((account, currency), (debit, credit)) in &effects.accounts {
            let entry =
                self.accounts.entry((customer_id.clone(), *account, *currency)).or_default();
            entry.0 += i128::from(*debit);
            entry.1 += i128::from(*credit);
        }
        let balances = match self.replay.fold(customer_id, &effects) {
            Ok(balances) => balances,
            Err(rejection) => {
                report.differences.push(format!("transaction {}: {rejection}", txn.id()));
                return;
            }
        };
        let amount = effects.customer.balance();
        if amount != 0 {
            self.history.entry(customer_id.clone()).or_default().push((
                txn.id().clone(),
                amount,
                balances.balance(),
            ));
        }
    }
}

/// Reads every page of a list.
pub(crate) fn all_pages<T>(
    mut fetch: impl FnMut(&PageRequest) -> EngineResult<Page<T>>,
) -> EngineResult<Vec<T>> {
    let mut rows = Vec::new();
    let mut page = PageRequest { limit: 500, cursor: None };
    loop {
        let got = fetch(&page)?;
        rows.extend(got.rows);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(rows),
        }
    }
}

impl Engine {
    /// Replays every tenant's journal and compares every stored projection with the replay.
    pub fn verify(&self) -> EngineResult<VerifyReport> {
        let mut report = VerifyReport::default();
        let mut tx = self.begin_read()?;
        for tenant_id in tx.tenants()? {
            report.tenants += 1;
            verify_tenant(tx.as_mut(), &tenant_id, &mut report)?;
        }
        Ok(report)
    }
}

fn verify_tenant(
    tx: &mut dyn StoreTx,
    tenant_id: &TenantId,
    report: &mut VerifyReport,
) -> EngineResult<()> {
    let mut expected = Expected::default();
    for stored in all_pages(|page| Ok(tx.journal(tenant_id, None, page)?))? {
        report.transactions += 1;
        report.postings += stored.txn.postings().len();
        expected.add(&stored.txn, report);
    }
    verify_customers(tx, tenant_id, &mut expected, report)?;
    verify_accounts(&tx.customer_account_totals(tenant_id)?, &expected.accounts, report);
    let documents =
        all_pages(|page| Ok(tx.documents(tenant_id, &DocumentQuery::default(), page)?))?;
    verify_items(&documents, &expected, report);
    verify_groups(&documents, &expected.replay, report);
    let payments = all_pages(|page| Ok(tx.payments(tenant_id, &Default::default(), page)?))?;
    for payment in &payments {
        report.payments += 1;
        let want = expected.replay.payments_unapplied.get(&payment.id).copied().unwrap_or_default();
        let what = format!("payment {} unapplied", payment.id);
        differ(report, what, payment.unapplied.minor(), want);
    }
    let applications =
        all_pages(|page| Ok(tx.applications(tenant_id, &Default::default(), page)?))?;
    for application in &applications {
        for item in &application.items {
            report.application_items += 1;
            let key = (application.id.clone(), item.item_id.clone());
            let want = expected.replay.applications.get(&key).copied().unwrap_or_default();
            let what = format!("application {} item {} net", application.id, item.item_id);
            differ(report, what, item.net.minor(), want);
        }
    }
    Ok(())
}

/// Records a difference when `stored` is not what the journal says.
fn differ(report: &mut VerifyReport, what: String, stored: i64, replayed: i64) {
    if stored != replayed {
        report.differences.push(format!("{what}: stored {stored}, journal {replayed}"));
    }
}

/// Compares each customer's balances and billing history with the journal's.
fn verify_customers(
    tx: &mut dyn StoreTx,
    tenant_id: &TenantId,
    expected: &mut Expected,
    report: &mut VerifyReport,
) -> EngineResult<()> {
    let query = CustomerQuery { search: None, sort: CustomerSort::Created };
    let customers = all_pages(|page| Ok(tx.customers(tenant_id, &query, page)?))?;
    for customer in &customers {
        report.customers += 1;
        let want = expected.replay.customers.get(&customer.id).copied().unwrap_or_default();
        let have = customer.balances;
        let id = &customer.id;
        differ(report, format!("customer {id} receivable"), have.receivable, want.receivable);
        differ(
            report,
            format!("customer {id} unapplied_payments"),
            have.unapplied_payments,
            want.unapplied_payments,
        );
        differ(
            report,
            format!("customer {id} credit_memo_balance"),
            have.credit_memo_balance,
            want.credit_memo_balance,
        );
        differ(
            report,
            format!("customer {id} credit_balance"),
            have.credit_balance,
            want.credit_balance,
        );
        let lines = all_pages(|page| Ok(tx.history(tenant_id, id, page)?))?;
        let lines_expected = expected.history.remove(id).unwrap_or_default();
        verify_history(id, &lines, &lines_expected, report);
    }
    Ok(())
}

/// Compares one customer's stored history lines (newest first) with the journal's.
fn verify_history(
    id: &CustomerId,
    lines: &[HistoryLine],
    expected: &[(TxnId, i64, i64)],
    report: &mut VerifyReport,
) {
    report.history_lines += lines.len();
    if lines.len() != expected.len() {
        report.differences.push(format!(
            "customer {id} history: {} lines stored, {} from the journal",
            lines.len(),
            expected.len()
        ));
    }
    for (line, (txn_id, amount, balance_after)) in lines.iter().rev().zip(expected) {
        if &line.id != txn_id
            || line.amount.minor() != *amount
            || line.balance_after.minor() != *balance_after
        {
            report.differences.push(format!(
                "customer {id} history line {}: stored {} after {}, journal {txn_id} {amount} after {balance_after}",
                line.id,
                line.amount.minor(),
                line.balance_after.minor()
            ));
        }
    }
}

/// Compares the stored per-customer account totals with the journal's.
fn verify_accounts(
    stored: &[(CustomerId, AccountTotal)],
    expected: &BTreeMap<(CustomerId, Account, Currency), (i128, i128)>,
    report: &mut VerifyReport,
) {
    let mut stored_map = BTreeMap::new();
    for (customer_id, total) in stored {
        stored_map.insert(
            (customer_id.clone(), total.account, total.currency),
            (total.debit, total.credit),
        );
    }
    if stored_map == *expected {
        return;
    }
    for (key, want) in expected {
        let have = stored_map.get(key).copied().unwrap_or_default();
        if have != *want {
            report.differences.push(format!(
                "customer {} account {} {}: stored {:?}, journal {:?}",
                key.0,
                key.1.name(),
                key.2,
                have,
                want
            ));
        }
    }
    for key in stored_map.keys().filter(|k| !expected.contains_key(*k)) {
        report.differences.push(format!(
            "customer {} account {}: stored totals with no postings",
            key.0,
            key.1.name()
        ));
    }
}

/// Compares each item's balance and credited amount with the journal's.
fn verify_items(documents: &[Document], expected: &Expected, report: &mut VerifyReport) {
    for document in documents {
        for item in &document.items {
            report.items += 1;
            let want = expected.replay.items.get(&item.id).copied().unwrap_or_default();
            let what = format!("{} item {} balance", document.id, item.id);
            differ(report, what, item.balance.minor(), want);
        }
    }
    // Credited per invoice item: posted credit memo items naming it, and adjustments on it.
    let mut credited: BTreeMap<&ItemId, i64> = BTreeMap::new();
    for memo in documents.iter().filter(|d| d.status == DocumentStatus::Posted) {
        for item in &memo.items {
            if let Some(invoice_item) = &item.invoice_item_id {
                *credited.entry(invoice_item).or_default() += item.amount.minor().saturating_abs();
            }
        }
    }
    for document in documents {
        for item in &document.items {
            let want = credited.get(&item.id).copied().unwrap_or_default()
                + expected.adjusted.get(&item.id).copied().unwrap_or_default();
            let what = format!("{} item {} credited", document.id, item.id);
            differ(report, what, item.credited.minor(), want);
        }
    }
}

/// Compares each document's group balance with the journal's: each invoice's own replayed
/// balance plus those of its adjustment invoices.
fn verify_groups(documents: &[Document], replay: &Replay, report: &mut VerifyReport) {
    let replayed = |document: &Document| -> i64 {
        document.items.iter().map(|i| replay.items.get(&i.id).copied().unwrap_or_default()).sum()
    };
    let mut groups: BTreeMap<&DocumentId, i64> = BTreeMap::new();
    for document in documents {
        *groups.entry(&document.id).or_default() += replayed(document);
        if let Some(original) = &document.adjusts_invoice_id {
            *groups.entry(original).or_default() += replayed(document);
        }
    }
    for document in documents {
        // Every member of a group shows the group's balance, kept on its original.
        let root = document.adjusts_invoice_id.as_ref().unwrap_or(&document.id);
        let want = groups.get(root).copied().unwrap_or_default();
        let what = format!("{} group_balance", document.id);
        differ(report, what, document.group_balance.minor(), want);
    }
}
