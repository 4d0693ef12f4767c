//! `verify`: rebuilds every projection from the journal alone and compares it with what is
//! stored. Any difference is a bug or tampering, and is reported, never repaired silently.

use std::collections::BTreeMap;
use std::fmt;

use settle_core::customer::Balances;
use settle_core::ids::{ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, TenantId, TxnId};
use settle_core::ledger::{Account, Effects};
use settle_core::money::Currency;
use settle_store::{CustomerQuery, CustomerSort, DocumentQuery, Page, PageRequest, StoreTx};

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

/// Projections rebuilt from the journal of one tenant.
#[derive(Default)]
struct Replay {
    items: BTreeMap<ItemId, i64>,
    payments: BTreeMap<PaymentId, i64>,
    refunded: BTreeMap<PaymentId, i64>,
    adjusted: BTreeMap<ItemId, i64>,
    applications: BTreeMap<(ApplicationId, ItemId), i64>,
    customers: BTreeMap<CustomerId, Balances>,
    accounts: BTreeMap<(CustomerId, Account, Currency), (i128, i128)>,
    history: BTreeMap<CustomerId, Vec<(TxnId, i64, i64)>>,
}

impl Replay {
    fn add(&mut self, customer_id: &CustomerId, txn_id: &TxnId, effects: Effects) {
        for (item, delta) in effects.items {
            *self.items.entry(item).or_default() += delta;
        }
        for (payment, delta) in effects.payments_unapplied {
            *self.payments.entry(payment).or_default() += delta;
        }
        for (payment, delta) in effects.payments_refunded {
            *self.refunded.entry(payment).or_default() += delta;
        }
        for (key, delta) in effects.applications {
            *self.applications.entry(key).or_default() += delta;
        }
        for ((account, currency), (debit, credit)) in effects.accounts {
            let entry = self.accounts.entry((customer_id.clone(), account, currency)).or_default();
            entry.0 += i128::from(debit);
            entry.1 += i128::from(credit);
        }
        let balances = self.customers.entry(customer_id.clone()).or_default();
        balances.add(effects.customer);
        let amount = effects.customer.balance();
        if amount != 0 {
            self.history.entry(customer_id.clone()).or_default().push((
                txn_id.clone(),
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
        let mut tx = self.store.begin_read()?;
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
    let mut replay = Replay::default();
    for stored in all_pages(|page| Ok(tx.journal(tenant_id, None, page)?))? {
        report.transactions += 1;
        report.postings += stored.txn.postings().len();
        if stored.txn.kind() == settle_core::ledger::TxnKind::Adjustment {
            for posting in stored.txn.postings().iter().filter(|p| p.account == Account::Receivable)
            {
                if let Some(item) = &posting.item_id {
                    *replay.adjusted.entry(item.clone()).or_default() += posting.amount.minor();
                }
            }
        }
        replay.add(stored.txn.customer_id(), stored.txn.id(), stored.txn.effects());
    }
    let differ = |report: &mut VerifyReport, what: String, stored: i64, replayed: i64| {
        if stored != replayed {
            report.differences.push(format!("{what}: stored {stored}, journal {replayed}"));
        }
    };
    let query = CustomerQuery { search: None, sort: CustomerSort::Created };
    let customers = all_pages(|page| Ok(tx.customers(tenant_id, &query, page)?))?;
    for customer in &customers {
        report.customers += 1;
        let want = replay.customers.get(&customer.id).copied().unwrap_or_default();
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
        let expected = replay.history.remove(id).unwrap_or_default();
        report.history_lines += lines.len();
        if lines.len() != expected.len() {
            report.differences.push(format!(
                "customer {id} history: {} lines stored, {} from the journal",
                lines.len(),
                expected.len()
            ));
        }
        for (line, (txn_id, amount, balance_after)) in lines.iter().rev().zip(&expected) {
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
    let stored_accounts = tx.customer_account_totals(tenant_id)?;
    let mut stored_map = BTreeMap::new();
    for (customer_id, total) in stored_accounts {
        stored_map
            .insert((customer_id, total.account, total.currency), (total.debit, total.credit));
    }
    if stored_map != replay.accounts {
        for (key, want) in &replay.accounts {
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
        for key in stored_map.keys().filter(|k| !replay.accounts.contains_key(*k)) {
            report.differences.push(format!(
                "customer {} account {}: stored totals with no postings",
                key.0,
                key.1.name()
            ));
        }
    }
    let documents =
        all_pages(|page| Ok(tx.documents(tenant_id, &DocumentQuery::default(), page)?))?;
    for document in &documents {
        for item in &document.items {
            report.items += 1;
            let want = replay.items.get(&item.id).copied().unwrap_or_default();
            differ(
                report,
                format!("{} item {} balance", document.id, item.id),
                item.balance.minor(),
                want,
            );
        }
    }
    // Credited per invoice item: posted credit memo items naming it, and adjustments on it.
    let mut credited: BTreeMap<&ItemId, i64> = BTreeMap::new();
    for memo in
        documents.iter().filter(|d| d.status == settle_core::document::DocumentStatus::Posted)
    {
        for item in &memo.items {
            if let Some(invoice_item) = &item.invoice_item_id {
                *credited.entry(invoice_item).or_default() += item.amount.minor().saturating_abs();
            }
        }
    }
    for document in &documents {
        for item in &document.items {
            let want = credited.get(&item.id).copied().unwrap_or_default()
                + replay.adjusted.get(&item.id).copied().unwrap_or_default();
            differ(
                report,
                format!("{} item {} credited", document.id, item.id),
                item.credited.minor(),
                want,
            );
        }
    }
    // Group balances: each invoice's own replayed balance plus those of its adjustment invoices.
    let replayed = |document: &settle_core::document::Document| -> i64 {
        document.items.iter().map(|i| replay.items.get(&i.id).copied().unwrap_or_default()).sum()
    };
    let mut groups: BTreeMap<&DocumentId, i64> = BTreeMap::new();
    for document in &documents {
        *groups.entry(&document.id).or_default() += replayed(document);
        if let Some(original) = &document.adjusts_invoice_id {
            *groups.entry(original).or_default() += replayed(document);
        }
    }
    for document in &documents {
        // Every member of a group shows the group's balance, kept on its original.
        let root = document.adjusts_invoice_id.as_ref().unwrap_or(&document.id);
        let want = groups.get(root).copied().unwrap_or_default();
        differ(
            report,
            format!("{} group_balance", document.id),
            document.group_balance.minor(),
            want,
        );
    }
    let payments = all_pages(|page| Ok(tx.payments(tenant_id, &Default::default(), page)?))?;
    for payment in &payments {
        report.payments += 1;
        let want = replay.payments.get(&payment.id).copied().unwrap_or_default();
        differ(
            report,
            format!("payment {} unapplied", payment.id),
            payment.unapplied.minor(),
            want,
        );
    }
    let applications =
        all_pages(|page| Ok(tx.applications(tenant_id, &Default::default(), page)?))?;
    for application in &applications {
        for item in &application.items {
            report.application_items += 1;
            let key = (application.id.clone(), item.item_id.clone());
            let want = replay.applications.get(&key).copied().unwrap_or_default();
            differ(
                report,
                format!("application {} item {} net", application.id, item.item_id),
                item.net.minor(),
                want,
            );
        }
    }
    Ok(())
}
