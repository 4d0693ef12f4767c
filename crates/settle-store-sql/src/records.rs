//! The columns each query reads and the mapping of its rows to the port's records, written
//! once for both stores.

use std::collections::{BTreeSet, HashMap};

use settle_core::application::{Application, ApplicationItem, Rule, SourceRef};
use settle_core::customer::{Balances, Customer, HistoryLine};
use settle_core::document::{Document, DocumentKind, DocumentStatus, Item, ItemKind};
use settle_core::ids::{
    ApiKeyId, ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, TenantId, TxnId,
};
use settle_core::ledger::{Account, JournalTxn, Posting, Side, TxnKind};
use settle_core::money::Currency;
use settle_core::payment::{Payment, PaymentMethod, PaymentStatus};
use settle_core::settings::{NegativeInvoicePolicy, Settings};
use settle_store::{
    AccountTotal, ApiKeyRecord, IdempotencyRecord, Role, StoreError, StoreResult, StoredTxn,
};

use crate::row::{Row, bad};

/// A tenant's settings, from a row of [`queries::settings`](crate::queries::settings).
pub fn settings<R: Row + ?Sized>(row: &R) -> StoreResult<Settings> {
    Ok(Settings {
        default_currency: row.currency(0)?,
        time_zone: row.text(1)?,
        application_rule: row.parsed(2, Rule::parse)?,
        negative_invoice_policy: row.parsed(3, NegativeInvoicePolicy::parse)?,
        auto_apply_credit: row.int(4)? != 0,
        business_name: row.text(5)?,
    })
}

/// The response saved under `key`, from a row of
/// [`queries::idempotency`](crate::queries::idempotency).
pub fn idempotency_record<R: Row + ?Sized>(
    tenant_id: &TenantId,
    key: &str,
    row: &R,
) -> StoreResult<IdempotencyRecord> {
    let status = row.int(1)?;
    Ok(IdempotencyRecord {
        tenant_id: tenant_id.clone(),
        key: key.to_owned(),
        request_hash: row.text(0)?,
        status: u16::try_from(status).map_err(|_| bad(1, &status.to_string()))?,
        body: row.text(2)?,
        created_at: row.timestamp(3)?,
    })
}

/// The columns [`customer`] reads, in its order.
pub const CUSTOMER_COLUMNS: &str = "customer_id, name, email, currency, payment_terms_days, \
     metadata, created_at, receivable_minor, unapplied_payments_minor, \
     credit_memo_balance_minor, credit_balance_minor, seq";

/// A customer and its `seq`.
pub fn customer<R: Row + ?Sized>(row: &R) -> StoreResult<(Customer, i64)> {
    let terms = row.int(4)?;
    let customer = Customer {
        id: row.parsed(0, CustomerId::parse)?,
        name: row.text(1)?,
        email: row.text_opt(2)?,
        currency: row.currency(3)?,
        payment_terms_days: u32::try_from(terms).map_err(|_| bad(4, &terms.to_string()))?,
        metadata: row.text(5)?,
        created_at: row.timestamp(6)?,
        balances: Balances {
            receivable: row.int(7)?,
            unapplied_payments: row.int(8)?,
            credit_memo_balance: row.int(9)?,
            credit_balance: row.int(10)?,
        },
    };
    Ok((customer, row.int(11)?))
}

/// The columns [`document`] reads, in its order; the last is the group balance, kept on the
/// original invoice of a group.
pub const DOCUMENT_COLUMNS: &str = "document_id, kind, number, customer_id, status, currency, \
     invoice_date, due_date, adjusts_invoice_id, reason, seq, \
     coalesce((select g.group_balance_minor from document g \
     where g.document_id = document.adjusts_invoice_id), group_balance_minor)";

/// A document without its items and group (see [`attach_items`], [`attach_groups`]) and its
/// `seq`.
pub fn document<R: Row + ?Sized>(row: &R) -> StoreResult<(Document, i64)> {
    let currency = row.currency(5)?;
    let document = Document {
        id: row.parsed(0, DocumentId::parse)?,
        kind: row.parsed(1, DocumentKind::parse)?,
        number: row.text(2)?,
        customer_id: row.parsed(3, CustomerId::parse)?,
        status: row.parsed(4, DocumentStatus::parse)?,
        currency,
        invoice_date: row.date(6)?,
        due_date: row.date(7)?,
        adjusts_invoice_id: row.parsed_opt(8, DocumentId::parse)?,
        reason: row.text_opt(9)?,
        items: Vec::new(),
        group_balance: row.money(11, currency)?,
        group: Vec::new(),
    };
    Ok((document, row.int(10)?))
}

/// An item from the columns `item_id, kind, parent_item_id, description, quantity,
/// unit_price, tax_rate, invoice_item_id, amount_minor, balance_minor, credited_minor`
/// starting at `at` (decimals as text).
pub fn item<R: Row + ?Sized>(row: &R, at: usize, currency: Currency) -> StoreResult<Item> {
    Ok(Item {
        id: row.parsed(at, ItemId::parse)?,
        kind: row.parsed(at + 1, ItemKind::parse)?,
        parent_item_id: row.parsed_opt(at + 2, ItemId::parse)?,
        description: row.text(at + 3)?,
        quantity: row.decimal_opt(at + 4)?,
        unit_price: row.decimal_opt(at + 5)?,
        tax_rate: row.decimal_opt(at + 6)?,
        invoice_item_id: row.parsed_opt(at + 7, ItemId::parse)?,
        amount: row.money(at + 8, currency)?,
        balance: row.money(at + 9, currency)?,
        credited: row.money(at + 10, currency)?,
    })
}

/// Attaches items read as `(document id, item)` in order to their documents.
pub fn attach_items(documents: &mut [Document], rows: Vec<(String, Item)>) {
    let mut by_document: HashMap<String, Vec<Item>> = HashMap::new();
    for (document_id, item) in rows {
        by_document.entry(document_id).or_default().push(item);
    }
    for document in documents {
        document.items = by_document.remove(document.id.as_str()).unwrap_or_default();
    }
}

/// The originals of the invoice groups of the invoices in `documents`, each once.
pub fn group_roots(documents: &[Document]) -> Vec<String> {
    documents
        .iter()
        .filter(|d| d.kind == DocumentKind::Invoice)
        .map(|d| d.adjusts_invoice_id.as_ref().unwrap_or(&d.id).to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Attaches to each invoice its group, from `(original, member)` rows in the order the
/// members were made.
pub fn attach_groups(documents: &mut [Document], rows: Vec<(String, DocumentId)>) {
    let mut groups: HashMap<String, Vec<DocumentId>> = HashMap::new();
    for (root, member) in rows {
        groups.entry(root).or_default().push(member);
    }
    for document in documents.iter_mut().filter(|d| d.kind == DocumentKind::Invoice) {
        let root = document.adjusts_invoice_id.as_ref().unwrap_or(&document.id);
        document.group = groups.get(root.as_str()).cloned().unwrap_or_default();
    }
}

/// The columns [`payment`] reads, in its order.
pub const PAYMENT_COLUMNS: &str = "payment_id, customer_id, amount_minor, currency, \
     unapplied_minor, method, reference, status, effective_date, seq, refunded_minor";

/// A payment and its `seq`.
pub fn payment<R: Row + ?Sized>(row: &R) -> StoreResult<(Payment, i64)> {
    let currency = row.currency(3)?;
    let payment = Payment {
        id: row.parsed(0, PaymentId::parse)?,
        customer_id: row.parsed(1, CustomerId::parse)?,
        amount: row.money(2, currency)?,
        unapplied: row.money(4, currency)?,
        refunded: row.money(10, currency)?,
        method: row.parsed(5, PaymentMethod::parse)?,
        reference: row.text_opt(6)?,
        status: row.parsed(7, PaymentStatus::parse)?,
        effective_date: row.date(8)?,
    };
    Ok((payment, row.int(9)?))
}

/// The columns [`application`] reads, in its order.
pub const APPLICATION_COLUMNS: &str = "application_id, customer_id, source_type, source_id, \
     target_id, rule, currency, effective_date, seq";

/// An application without its items (see [`attach_application_items`]) and its `seq`.
pub fn application<R: Row + ?Sized>(row: &R) -> StoreResult<(Application, i64)> {
    let source_type = row.text(2)?;
    let source_id = row.text_opt(3)?;
    let source = match (source_type.as_str(), source_id.as_deref()) {
        ("payment", Some(id)) => {
            SourceRef::Payment(PaymentId::parse(id).ok_or_else(|| bad(3, id))?)
        }
        ("credit_memo", Some(id)) => {
            SourceRef::CreditMemo(DocumentId::parse(id).ok_or_else(|| bad(3, id))?)
        }
        ("credit_balance", None) => SourceRef::CreditBalance,
        _ => return Err(bad(2, &source_type)),
    };
    let application = Application {
        id: row.parsed(0, ApplicationId::parse)?,
        customer_id: row.parsed(1, CustomerId::parse)?,
        source,
        target_id: row.parsed(4, DocumentId::parse)?,
        rule: row.parsed_opt(5, Rule::parse)?,
        currency: row.currency(6)?,
        effective_date: row.date(7)?,
        items: Vec::new(),
    };
    Ok((application, row.int(8)?))
}

/// An application item from the columns `item_id, credit_memo_item_id, amount_minor,
/// net_minor` starting at `at`.
pub fn application_item<R: Row + ?Sized>(
    row: &R,
    at: usize,
    currency: Currency,
) -> StoreResult<ApplicationItem> {
    Ok(ApplicationItem {
        item_id: row.parsed(at, ItemId::parse)?,
        credit_memo_item_id: row.parsed_opt(at + 1, ItemId::parse)?,
        amount: row.money(at + 2, currency)?,
        net: row.money(at + 3, currency)?,
    })
}

/// Attaches items read as `(application id, item)` in order to their applications.
pub fn attach_application_items(
    applications: &mut [Application],
    rows: Vec<(String, ApplicationItem)>,
) {
    let mut by_application: HashMap<String, Vec<ApplicationItem>> = HashMap::new();
    for (application_id, item) in rows {
        by_application.entry(application_id).or_default().push(item);
    }
    for application in applications {
        application.items = by_application.remove(application.id.as_str()).unwrap_or_default();
    }
}

/// The columns [`history_line`] reads, in its order.
pub const HISTORY_COLUMNS: &str = "history_id, effective_date, kind, description, amount_minor, \
     balance_after_minor, currency, document_id, seq";

/// A history line and its `seq`.
pub fn history_line<R: Row + ?Sized>(row: &R) -> StoreResult<(HistoryLine, i64)> {
    let currency = row.currency(6)?;
    let line = HistoryLine {
        id: row.parsed(0, TxnId::parse)?,
        effective_date: row.date(1)?,
        kind: row.text(2)?,
        description: row.text(3)?,
        amount: row.money(4, currency)?,
        balance_after: row.money(5, currency)?,
        document_id: row.text_opt(7)?,
    };
    Ok((line, row.int(8)?))
}

/// An API key from `api_key_id, tenant_id, key_hash, role, name, created_at, revoked_at`.
pub fn api_key<R: Row + ?Sized>(row: &R) -> StoreResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.parsed(0, ApiKeyId::parse)?,
        tenant_id: row.parsed(1, TenantId::parse)?,
        key_hash: row.text(2)?,
        role: row.parsed(3, Role::parse)?,
        name: row.text_opt(4)?,
        created_at: row.timestamp(5)?,
        revoked_at: row.timestamp_opt(6)?,
    })
}

/// An account total from four columns starting at `at`: account, currency, debit, credit
/// (each an integer column).
pub fn account_total<R: Row + ?Sized>(row: &R, at: usize) -> StoreResult<AccountTotal> {
    Ok(AccountTotal {
        account: row.parsed(at, Account::parse)?,
        currency: row.currency(at + 1)?,
        debit: i128::from(row.int(at + 2)?),
        credit: i128::from(row.int(at + 3)?),
    })
}

/// The columns [`posting`] reads, in its order.
pub const POSTING_COLUMNS: &str = "txn_id, account, side, amount_minor, currency, document_id, \
     item_id, payment_id, application_id";

/// A posting and the id of its transaction.
pub fn posting<R: Row + ?Sized>(row: &R) -> StoreResult<(String, Posting)> {
    let currency = row.currency(4)?;
    let posting = Posting {
        account: row.parsed(1, Account::parse)?,
        side: row.parsed(2, Side::parse)?,
        amount: row.money(3, currency)?,
        document_id: row.parsed_opt(5, DocumentId::parse)?,
        item_id: row.parsed_opt(6, ItemId::parse)?,
        payment_id: row.parsed_opt(7, PaymentId::parse)?,
        application_id: row.parsed_opt(8, ApplicationId::parse)?,
    };
    Ok((row.text(0)?, posting))
}

/// The columns [`txn_head`] reads, in its order.
pub const JOURNAL_COLUMNS: &str =
    "seq, txn_id, customer_id, kind, effective_date, description, subject_id, created_at";

/// A journal transaction as read before its postings.
#[derive(Debug)]
pub struct TxnHead {
    seq: i64,
    txn_id: String,
    customer_id: CustomerId,
    kind: TxnKind,
    effective_date: chrono::NaiveDate,
    description: String,
    subject_id: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl TxnHead {
    /// The transaction's id, to read its postings by.
    pub fn txn_id(&self) -> &str {
        &self.txn_id
    }

    /// The customer it belongs to, which leads every key of its postings.
    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }

    /// Its position in the journal.
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

/// A journal transaction's head from [`JOURNAL_COLUMNS`].
pub fn txn_head<R: Row + ?Sized>(row: &R) -> StoreResult<TxnHead> {
    Ok(TxnHead {
        seq: row.int(0)?,
        txn_id: row.text(1)?,
        customer_id: row.parsed(2, CustomerId::parse)?,
        kind: row.parsed(3, TxnKind::parse)?,
        effective_date: row.date(4)?,
        description: row.text(5)?,
        subject_id: row.text_opt(6)?,
        created_at: row.timestamp(7)?,
    })
}

/// Joins heads (each with its cursor) to their postings, read as `(txn id, posting)` in
/// order; a stored transaction that does not balance is corrupt.
pub fn stored_txns(
    heads: Vec<(TxnHead, String)>,
    postings: Vec<(String, Posting)>,
) -> StoreResult<Vec<(StoredTxn, String)>> {
    let mut by_txn: HashMap<String, Vec<Posting>> = HashMap::new();
    for (txn_id, posting) in postings {
        by_txn.entry(txn_id).or_default().push(posting);
    }
    let mut rows = Vec::with_capacity(heads.len());
    for (head, cursor) in heads {
        let txn_id = head.txn_id;
        let id = TxnId::parse(&txn_id).ok_or_else(|| StoreError::Corrupt(txn_id.clone()))?;
        let txn = JournalTxn::new(
            id,
            head.customer_id,
            head.kind,
            head.effective_date,
            head.description,
            head.subject_id,
            by_txn.remove(&txn_id).unwrap_or_default(),
        )
        .map_err(|e| StoreError::Corrupt(format!("{txn_id}: {e}")))?;
        rows.push((StoredTxn { seq: head.seq, created_at: head.created_at, txn }, cursor));
    }
    Ok(rows)
}
