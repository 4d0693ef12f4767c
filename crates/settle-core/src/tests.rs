//! Unit and property tests of the core; the fixtures and renderings they share live here.

mod aging;
mod application;
mod document;
mod fold;
mod ledger;
mod money;
mod subscription;
mod toolkit;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::application::{Application, ApplyRequest, ItemAmount, Source, Spread, apply};
use crate::document::{
    Document, DocumentKind, DocumentSpec, ItemSpec, Pricing, TaxSpec, draft_document, post_document,
};
use crate::error::Rejection;
use crate::ids::{CustomerId, IdGen, ItemId, NewIds};
use crate::ledger::{JournalTxn, Side};
use crate::money::{Currency, Money};
use crate::payment::{Payment, PaymentMethod, PaymentRequest, record_payment};

/// Ids from one counter shared by every test, so no two objects anywhere share an id.
struct Counter;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl IdGen for Counter {
    fn suffix(&self) -> String {
        NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string()
    }
}

fn ids() -> NewIds<'static> {
    NewIds(&Counter)
}

/// A USD amount written as the API writes it.
fn usd(text: &str) -> Money {
    Money::parse(text, Currency::USD).expect("a valid USD amount")
}

/// A known currency.
fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a known currency")
}

/// A percent rate such as `"6.26"`.
fn percent(text: &str) -> Decimal {
    text.parse().expect("a decimal rate")
}

/// A day of March 2024.
fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).expect("a day of March 2024")
}

/// The customer every fixture belongs to.
fn alice() -> CustomerId {
    CustomerId::parse("cus_alice").expect("a customer id")
}

/// Another customer.
fn bob() -> CustomerId {
    CustomerId::parse("cus_bob").expect("a customer id")
}

/// A charge item of `amount` named `name`, with a tax item named `name tax` at each percent rate.
fn charge(name: &str, amount: &str, rates: &[&str]) -> ItemSpec {
    ItemSpec {
        description: name.to_owned(),
        pricing: Pricing::Amount(usd(amount)),
        taxes: rates
            .iter()
            .map(|r| TaxSpec::Rate { name: format!("{name} tax"), rate: percent(r) })
            .collect(),
        invoice_item_id: None,
    }
}

/// A document request of Alice's, dated the 1st and due the 31st.
fn spec(kind: DocumentKind, items: Vec<ItemSpec>) -> DocumentSpec {
    DocumentSpec {
        kind,
        customer_id: alice(),
        currency: Currency::USD,
        invoice_date: day(1),
        due_date: day(31),
        adjusts_invoice_id: None,
        reason: None,
        items,
    }
}

/// Drafts a document from a request.
fn draft_spec(spec: DocumentSpec) -> Result<Document, Rejection> {
    let ids = ids();
    let id = ids.document(spec.kind);
    let number = spec.kind.number(1);
    draft_document(spec, id, number, &ids)
}

/// Drafts a document of `kind` with `items`.
fn draft(kind: DocumentKind, items: Vec<ItemSpec>) -> Result<Document, Rejection> {
    draft_spec(spec(kind, items))
}

/// Posts a draft and applies the posting to its item balances, as the engine does.
fn post(mut document: Document) -> Document {
    let txn = post_document(&mut document, ids().txn(), day(1)).expect("a postable draft");
    crate::fold::document(&mut document, &txn.effects()).unwrap();
    document
}

/// A posted invoice of `items`.
fn invoice(items: Vec<ItemSpec>) -> Document {
    post(draft(DocumentKind::Invoice, items).expect("a valid invoice"))
}

/// Seed 003's invoice: charge A 100.00 with 6.26% tax (6.26) and charge B −50.00 with the same
/// tax (−3.13); balance 53.13.
fn seed_003_invoice() -> Document {
    invoice(vec![charge("A", "100.00", &["6.26"]), charge("B", "-50.00", &["6.26"])])
}

/// A payment of Alice's.
fn payment(amount: &str) -> Payment {
    payment_of(alice(), usd(amount))
}

/// A payment of `customer` of `amount`.
fn payment_of(customer_id: CustomerId, amount: Money) -> Payment {
    let ids = ids();
    let (payment, _) = record_payment(PaymentRequest {
        id: ids.payment(),
        txn_id: ids.txn(),
        customer_id,
        amount,
        method: PaymentMethod::Check,
        reference: Some("1042".to_owned()),
        effective_date: day(2),
        description: None,
    })
    .expect("a valid payment");
    payment
}

/// Applies `source` to `target`, dated the 2nd.
fn apply_source(
    source: Source<'_>,
    target: &Document,
    spread: Spread,
) -> Result<(Application, JournalTxn), Rejection> {
    let ids = ids();
    apply(ApplyRequest {
        id: ids.application(),
        txn_id: ids.txn(),
        source,
        target,
        spread,
        effective_date: day(2),
    })
}

/// Applies a payment to `target`.
fn apply_payment(
    payment: &Payment,
    target: &Document,
    spread: Spread,
) -> Result<(Application, JournalTxn), Rejection> {
    apply_source(Source::Payment(payment), target, spread)
}

/// Per-item amounts: `(index of the item in the document, amount)`.
fn per_item(document: &Document, amounts: &[(usize, &str)]) -> Spread {
    Spread::Items(
        amounts
            .iter()
            .map(|(idx, amount)| ItemAmount {
                item_id: document.items[*idx].id.clone(),
                amount: usd(amount),
                credit_memo_item_id: None,
            })
            .collect(),
    )
}

/// Folds a transaction into a document's item balances and a payment's unapplied amount.
fn settle(txn: &JournalTxn, document: &mut Document, payment: &mut Payment) {
    let effects = txn.effects();
    crate::fold::document(document, &effects).unwrap();
    crate::fold::payment(payment, &effects).unwrap();
}

/// Folds a reversal into what is still applied on each item of an application.
fn record_reversal(application: &mut Application, txn: &JournalTxn) {
    crate::fold::application(application, &txn.effects()).unwrap();
}

/// The item balances of a document, as the API writes them.
fn balances(document: &Document) -> Vec<String> {
    document.items.iter().map(|i| i.balance.to_string()).collect()
}

/// The amounts of an application per item, as `description amount`.
fn applied(application: &Application, target: &Document) -> Vec<String> {
    let names = descriptions(&[target]);
    application.items.iter().map(|i| format!("{} {}", names[&i.item_id], i.amount)).collect()
}

fn descriptions(documents: &[&Document]) -> BTreeMap<ItemId, String> {
    documents
        .iter()
        .flat_map(|d| d.items.iter().map(|i| (i.id.clone(), i.description.clone())))
        .collect()
}

/// A transaction's postings, one line each: `side account amount [item description]`.
fn journal(txn: &JournalTxn, documents: &[&Document]) -> Vec<String> {
    let names = descriptions(documents);
    txn.postings()
        .iter()
        .map(|p| {
            let mut line = format!("{} {} {}", p.side.name(), p.account.name(), p.amount);
            if let Some(item) = &p.item_id {
                line.push(' ');
                line.push_str(names.get(item).map_or(item.as_str(), String::as_str));
            }
            line
        })
        .collect()
}

/// Checks the ledger's first promise on one transaction: every posting above zero, debits equal
/// credits in every currency, and the fold agrees.
fn assert_balanced(txn: &JournalTxn) {
    let mut sums: BTreeMap<Currency, (i128, i128)> = BTreeMap::new();
    for posting in txn.postings() {
        assert!(posting.amount.is_positive(), "posting of {} in {txn:?}", posting.amount);
        let sum = sums.entry(posting.amount.currency()).or_default();
        match posting.side {
            Side::Debit => sum.0 += i128::from(posting.amount.minor()),
            Side::Credit => sum.1 += i128::from(posting.amount.minor()),
        }
    }
    for (currency, (debit, credit)) in sums {
        assert_eq!(debit, credit, "{currency} debits and credits of {txn:?}");
    }
    let mut per_currency: BTreeMap<Currency, (i128, i128)> = BTreeMap::new();
    for ((_, currency), (debit, credit)) in txn.effects().accounts {
        let sum = per_currency.entry(currency).or_default();
        sum.0 += i128::from(debit);
        sum.1 += i128::from(credit);
    }
    for (currency, (debit, credit)) in per_currency {
        assert_eq!(debit, credit, "{currency} account totals of {txn:?}");
    }
}

/// `num / den` (`den` above zero) rounded half away from zero, on the integers; `None` beyond
/// 64 bits.
fn reference_round(num: i128, den: i128) -> Option<i64> {
    let (quotient, remainder) = (num / den, num % den);
    let rounded = if 2 * remainder.abs() >= den { quotient + num.signum() } else { quotient };
    i64::try_from(rounded).ok()
}
