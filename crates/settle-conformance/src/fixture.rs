//! Records built by hand for the tests that speak to the port directly, without the engine:
//! the contract is the store's, so its tests write what the store is given.

use chrono::{DateTime, NaiveDate, Utc};
use settle_core::application::{Application, ApplicationItem, SourceRef};
use settle_core::customer::{Balances, Customer, HistoryLine};
use settle_core::document::{Document, DocumentKind, DocumentStatus, Item, ItemKind};
use settle_core::ids::{ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, TenantId, TxnId};
use settle_core::ledger::{Account, JournalTxn, Posting, Side, TxnKind};
use settle_core::money::{Currency, Money};
use settle_core::payment::{Payment, PaymentMethod, PaymentStatus};
use settle_engine::Clock;
use settle_store::{Page, PageRequest, Store, StoreResult};

use crate::PinnedClock;

/// The pinned instant every record is made at.
pub(crate) fn t0() -> DateTime<Utc> {
    PinnedClock.now()
}

/// A day of March 2026.
pub(crate) fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, n).expect("a day of March")
}

/// An amount in US dollars.
pub(crate) fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

/// Parses an id the test spells out.
pub(crate) fn id<T>(parse: fn(&str) -> Option<T>, text: &str) -> T {
    parse(text).expect("a well-formed id")
}

/// Creates and commits a tenant.
pub(crate) fn tenant(store: &dyn Store, tenant_id: &str) -> TenantId {
    let tenant = id(TenantId::parse, tenant_id);
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&tenant, tenant_id, t0()).expect("tenant");
    tx.commit().expect("commit");
    tenant
}

/// A USD customer owing `owes` minor units (its receivable).
pub(crate) fn customer(customer_id: &str, name: &str, owes: i64) -> Customer {
    Customer {
        id: id(CustomerId::parse, customer_id),
        name: name.to_owned(),
        email: Some(format!("{}@example.com", name.to_lowercase().replace(' ', "."))),
        currency: Currency::USD,
        payment_terms_days: 30,
        metadata: "{}".to_owned(),
        created_at: t0(),
        balances: Balances { receivable: owes, ..Balances::default() },
    }
}

/// Creates and commits a tenant with `customers`.
pub(crate) fn seed(store: &dyn Store, tenant_id: &str, customers: &[Customer]) -> TenantId {
    let tenant = tenant(store, tenant_id);
    let mut tx = store.begin_write().expect("begin");
    for customer in customers {
        tx.insert_customer(&tenant, customer).expect("customer");
    }
    tx.commit().expect("commit");
    tenant
}

/// A document of `kind` with one charge item per `(item id, amount, balance)`.
pub(crate) fn document(
    document_id: &str,
    customer_id: &CustomerId,
    status: DocumentStatus,
    items: &[(&str, i64, i64)],
) -> Document {
    let id = id(DocumentId::parse, document_id);
    let kind = match document_id.split('_').next() {
        Some("inv") => DocumentKind::Invoice,
        Some("dm") => DocumentKind::DebitMemo,
        _ => DocumentKind::CreditMemo,
    };
    let items: Vec<Item> = items
        .iter()
        .map(|&(item_id, amount, balance)| Item {
            id: self::id(ItemId::parse, item_id),
            kind: ItemKind::Charge,
            parent_item_id: None,
            description: format!("{item_id} work"),
            quantity: None,
            unit_price: None,
            tax_rate: None,
            invoice_item_id: None,
            amount: usd(amount),
            balance: usd(balance),
            credited: usd(0),
        })
        .collect();
    let balance = items.iter().map(|i| i.balance.minor()).sum();
    Document {
        number: document_id.to_uppercase(),
        group: if kind == DocumentKind::Invoice { vec![id.clone()] } else { Vec::new() },
        id,
        kind,
        customer_id: customer_id.clone(),
        status,
        currency: Currency::USD,
        invoice_date: day(1),
        due_date: day(31),
        adjusts_invoice_id: None,
        reason: (kind == DocumentKind::CreditMemo).then(|| "credit".to_owned()),
        items,
        group_balance: usd(balance),
    }
}

/// A payment of `amount` with `unapplied` left.
pub(crate) fn payment(
    payment_id: &str,
    customer_id: &CustomerId,
    amount: i64,
    unapplied: i64,
    status: PaymentStatus,
) -> Payment {
    Payment {
        id: id(PaymentId::parse, payment_id),
        customer_id: customer_id.clone(),
        amount: usd(amount),
        unapplied: usd(unapplied),
        refunded: usd(0),
        method: PaymentMethod::Ach,
        reference: Some(format!("ref {payment_id}")),
        status,
        effective_date: day(2),
    }
}

/// An application of `source` to one item of `target`.
pub(crate) fn application(
    application_id: &str,
    customer_id: &CustomerId,
    source: SourceRef,
    target: &Document,
    amount: i64,
) -> Application {
    Application {
        id: id(ApplicationId::parse, application_id),
        customer_id: customer_id.clone(),
        source,
        target_id: target.id.clone(),
        rule: None,
        currency: Currency::USD,
        effective_date: day(3),
        items: vec![ApplicationItem {
            item_id: target.items[0].id.clone(),
            credit_memo_item_id: None,
            amount: usd(amount),
            net: usd(amount),
        }],
    }
}

/// A transaction effective on `effective_date` debiting receivable and crediting revenue by
/// `amount`, on `document` when given.
pub(crate) fn sale(
    txn_id: &str,
    customer_id: &CustomerId,
    effective_date: NaiveDate,
    amount: i64,
    document: Option<&Document>,
) -> JournalTxn {
    let mut receivable = Posting::new(Account::Receivable, Side::Debit, usd(amount));
    receivable.document_id = document.map(|d| d.id.clone());
    receivable.item_id = document.map(|d| d.items[0].id.clone());
    JournalTxn::new(
        id(TxnId::parse, txn_id),
        customer_id.clone(),
        TxnKind::InvoicePosted,
        effective_date,
        format!("sale {txn_id}"),
        document.map(|d| d.id.to_string()),
        vec![receivable, Posting::new(Account::Revenue, Side::Credit, usd(amount))],
    )
    .expect("a balanced transaction")
}

/// A transaction effective on `effective_date` debiting cash and crediting unapplied payments.
pub(crate) fn receipt(
    txn_id: &str,
    customer_id: &CustomerId,
    effective_date: NaiveDate,
    amount: i64,
) -> JournalTxn {
    JournalTxn::new(
        id(TxnId::parse, txn_id),
        customer_id.clone(),
        TxnKind::PaymentReceived,
        effective_date,
        format!("receipt {txn_id}"),
        None,
        vec![
            Posting::new(Account::Cash, Side::Debit, usd(amount)),
            Posting::new(Account::UnappliedPayments, Side::Credit, usd(amount)),
        ],
    )
    .expect("a balanced transaction")
}

/// A history line of `amount` after which the balance is `balance_after`.
pub(crate) fn history_line(txn_id: &str, amount: i64, balance_after: i64) -> HistoryLine {
    HistoryLine {
        id: id(TxnId::parse, txn_id),
        effective_date: day(4),
        kind: "invoice".to_owned(),
        description: format!("line {txn_id}"),
        amount: usd(amount),
        balance_after: usd(balance_after),
        document_id: Some(format!("inv_{txn_id}")),
    }
}

/// One page of a list, read in the given transaction.
pub(crate) type ListPage<'a, T> =
    &'a dyn Fn(&mut dyn settle_store::StoreTx, &PageRequest) -> StoreResult<Page<T>>;

/// Every row of a list, read page by page with `limit` rows a page through `list` (called in
/// a fresh read transaction per page, as a client would).
pub(crate) fn read_all<T>(store: &dyn Store, limit: u32, list: ListPage<'_, T>) -> Vec<T> {
    let mut rows = Vec::new();
    let mut cursor = None;
    for _ in 0..1_000 {
        let mut tx = store.begin_read().expect("read");
        let page = list(tx.as_mut(), &PageRequest { limit, cursor }).expect("page");
        let full = page.rows.len() == usize::try_from(limit).expect("fits");
        assert!(page.rows.len() <= usize::try_from(limit).expect("fits"), "a page past its limit");
        rows.extend(page.rows);
        match page.next_cursor {
            Some(next) => {
                assert!(full, "a cursor after a short page");
                cursor = Some(next);
            }
            None => return rows,
        }
    }
    panic!("the list never ended");
}
