//! Documents: invoices and debit memos (receivable) and credit memos (a credit source), with
//! their charge, tax and credit items. Each item has an amount and its own balance.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::{Flaw, Input, Rejection};
use crate::ids::{CustomerId, DocumentId, ItemId, NewIds, TxnId};
use crate::ledger::{Account, JournalTxn, TxnKind, push_signed};
use crate::money::{Currency, MAX_MINOR, Money};

/// The credit memo reason of a write-off.
pub const WRITE_OFF: &str = "write_off";

/// Most items one document may have.
pub const MAX_ITEMS: usize = 1000;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A receivable invoice (`inv_`, `INV-000001`).
    Invoice,
    /// A receivable debit memo (`dm_`, `DM-000001`).
    DebitMemo,
    /// A credit memo, a credit source (`cm_`, `CM-000001`).
    CreditMemo,
}

impl DocumentKind {
    /// The id prefix.
    pub fn id_prefix(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "inv_",
            DocumentKind::DebitMemo => "dm_",
            DocumentKind::CreditMemo => "cm_",
        }
    }

    /// The prefix of the human number.
    pub fn number_prefix(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "INV",
            DocumentKind::DebitMemo => "DM",
            DocumentKind::CreditMemo => "CM",
        }
    }

    /// The kind's name in storage and the API.
    pub fn name(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::DebitMemo => "debit_memo",
            DocumentKind::CreditMemo => "credit_memo",
        }
    }

    /// Reads a name written by [`DocumentKind::name`].
    pub fn parse(name: &str) -> Option<DocumentKind> {
        [DocumentKind::Invoice, DocumentKind::DebitMemo, DocumentKind::CreditMemo]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// The kind an id names, from its prefix.
    pub fn of(id: &DocumentId) -> DocumentKind {
        if id.as_str().starts_with("dm_") {
            DocumentKind::DebitMemo
        } else if id.as_str().starts_with("cm_") {
            DocumentKind::CreditMemo
        } else {
            DocumentKind::Invoice
        }
    }

    /// True for invoices and debit memos.
    pub fn is_receivable(self) -> bool {
        !matches!(self, DocumentKind::CreditMemo)
    }

    /// The human number `PREFIX-000042` of the `n`th document of this kind.
    pub fn number(self, n: u64) -> String {
        format!("{}-{n:06}", self.number_prefix())
    }
}

/// Where a document is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentStatus {
    /// Editable, not in the journal, owes nothing.
    Draft,
    /// In the journal.
    Posted,
    /// Reversed by a void (receivable documents).
    Voided,
    /// Reversed by a cancel (credit memos).
    Canceled,
}

impl DocumentStatus {
    /// The status's name.
    pub fn name(self) -> &'static str {
        match self {
            DocumentStatus::Draft => "draft",
            DocumentStatus::Posted => "posted",
            DocumentStatus::Voided => "voided",
            DocumentStatus::Canceled => "canceled",
        }
    }

    /// Reads a name written by [`DocumentStatus::name`].
    pub fn parse(name: &str) -> Option<DocumentStatus> {
        [
            DocumentStatus::Draft,
            DocumentStatus::Posted,
            DocumentStatus::Voided,
            DocumentStatus::Canceled,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A charge (or, on a credit memo, a credit).
    Charge,
    /// A tax on the charge item before it.
    Tax,
}

impl ItemKind {
    /// `"charge"` or `"tax"`.
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Charge => "charge",
            ItemKind::Tax => "tax",
        }
    }

    /// Reads a name written by [`ItemKind::name`].
    pub fn parse(name: &str) -> Option<ItemKind> {
        match name {
            "charge" => Some(ItemKind::Charge),
            "tax" => Some(ItemKind::Tax),
            _ => None,
        }
    }
}

/// One line of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The item id.
    pub id: ItemId,
    /// Charge or tax.
    pub kind: ItemKind,
    /// For a tax item, the charge item it taxes.
    pub parent_item_id: Option<ItemId>,
    /// What it is for.
    pub description: String,
    /// Quantity, when priced as quantity × unit price.
    pub quantity: Option<Decimal>,
    /// Unit price (may have more digits than the currency), when priced by quantity.
    pub unit_price: Option<Decimal>,
    /// For a tax item given by rate, the rate in percent.
    pub tax_rate: Option<Decimal>,
    /// For a credit memo item, the invoice item it credits.
    pub invoice_item_id: Option<ItemId>,
    /// Signed amount.
    pub amount: Money,
    /// What is still open on it; moves toward zero and never past it.
    pub balance: Money,
    /// For an invoice item: how much credit memo items and adjustments have credited, in size
    /// (never more than the amount's size).
    pub credited: Money,
}

/// A document with its items; the document balance is the sum of its items' balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The id.
    pub id: DocumentId,
    /// Invoice, debit memo or credit memo.
    pub kind: DocumentKind,
    /// Human number, unique per tenant and kind.
    pub number: String,
    /// The customer.
    pub customer_id: CustomerId,
    /// The status.
    pub status: DocumentStatus,
    /// The customer's currency.
    pub currency: Currency,
    /// Document date.
    pub invoice_date: NaiveDate,
    /// Due date (invoice date + payment terms unless given).
    pub due_date: NaiveDate,
    /// For an adjustment invoice, the invoice it adjusts.
    pub adjusts_invoice_id: Option<DocumentId>,
    /// For a credit memo, why it was issued (`credit`, `write_off`, `goodwill`, ...).
    pub reason: Option<String>,
    /// The items, tax items right after their charge item.
    pub items: Vec<Item>,
    /// The balance of its invoice group: the original invoice's balance plus the balances of
    /// every adjustment invoice of it, the same on every member (a projection the store keeps;
    /// equal to `balance()` for a document outside any group).
    pub group_balance: Money,
    /// For an invoice, the ids of its group, the original first and then its adjustment
    /// invoices in the order they were made (read by the store; empty until stored).
    pub group: Vec<DocumentId>,
}

impl Document {
    /// Sum of item amounts.
    pub fn total(&self) -> Money {
        sum(self.currency, self.items.iter().map(|i| i.amount))
    }

    /// Sum of item balances.
    pub fn balance(&self) -> Money {
        sum(self.currency, self.items.iter().map(|i| i.balance))
    }

    /// How many items have a non-zero balance (a document is open when this is not zero).
    pub fn open_item_count(&self) -> usize {
        self.items.iter().filter(|i| !i.balance.is_zero()).count()
    }

    /// The item with `id`.
    pub fn item(&self, id: &ItemId) -> Option<&Item> {
        self.items.iter().find(|i| &i.id == id)
    }

    /// True for a credit memo with reason `write_off`.
    pub fn is_write_off(&self) -> bool {
        self.kind == DocumentKind::CreditMemo && self.reason.as_deref() == Some(WRITE_OFF)
    }

    /// The account a credit memo's value comes from: bad debt for a write-off, revenue
    /// adjustments otherwise.
    pub fn credit_contra(&self) -> Account {
        if self.is_write_off() { Account::BadDebt } else { Account::RevenueAdjustments }
    }

    /// What can still be credited on an item: its amount's size less what is credited.
    pub fn creditable(&self, item: &Item) -> Money {
        Money::new(item.amount.minor().saturating_abs() - item.credited.minor(), self.currency)
    }

    /// Checks that the document can take part in an application or other balance move.
    pub fn ensure_posted(&self) -> Result<(), Rejection> {
        match self.status {
            DocumentStatus::Posted => Ok(()),
            DocumentStatus::Voided | DocumentStatus::Canceled => {
                Err(Rejection::DocumentVoided { id: self.id.to_string() })
            }
            DocumentStatus::Draft => Err(Rejection::DocumentNotPosted { id: self.id.to_string() }),
        }
    }
}

/// Sums amounts known to fit: the sums of a document's positive and negative items are bounded
/// when the document is built (see [`Sides`]).
fn sum(currency: Currency, amounts: impl Iterator<Item = Money>) -> Money {
    Money::new(amounts.map(|m| m.minor()).sum(), currency)
}

/// How an item is priced in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// A fixed signed amount.
    Amount(Money),
    /// Quantity × unit price, rounded half away from zero.
    PerUnit {
        /// The quantity (may be fractional or negative).
        quantity: Decimal,
        /// The unit price (may have more digits than the currency).
        unit_price: Decimal,
    },
}

/// A tax on a charge item, by rate (percent) or fixed amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxSpec {
    /// Percent of the charge amount, rounded per tax item half away from zero.
    Rate {
        /// Name, such as `"VAT"`.
        name: String,
        /// Percent, such as `8.25`.
        rate: Decimal,
    },
    /// A fixed signed amount.
    Amount {
        /// Name.
        name: String,
        /// The amount.
        amount: Money,
    },
}

/// One requested charge item with its taxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSpec {
    /// What it is for.
    pub description: String,
    /// Its price.
    pub pricing: Pricing,
    /// Its taxes.
    pub taxes: Vec<TaxSpec>,
    /// For a credit memo item, the invoice item it credits.
    pub invoice_item_id: Option<ItemId>,
}

/// A request for a new document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSpec {
    /// Kind.
    pub kind: DocumentKind,
    /// Customer.
    pub customer_id: CustomerId,
    /// Currency (the customer's).
    pub currency: Currency,
    /// Document date.
    pub invoice_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// For an adjustment invoice, the invoice it adjusts.
    pub adjusts_invoice_id: Option<DocumentId>,
    /// For a credit memo, the reason.
    pub reason: Option<String>,
    /// The items.
    pub items: Vec<ItemSpec>,
}

/// Builds a draft document: computes each item's amount and its tax items. Checks, in order:
/// at least one and at most [`MAX_ITEMS`] items (taxes included), due date not before the
/// document date, each amount in the currency and within range.
// tidy: long-function: The body is the list of checks above, in that order, which decides
// which rejection a request gets; each item and its taxes are built in the same pass.
pub fn draft_document(
    spec: DocumentSpec,
    id: DocumentId,
    number: String,
    ids: &NewIds<'_>,
) -> Result<Document, Rejection> {
    if spec.items.is_empty() {
        return Err(Rejection::refused(Input::Items, Flaw::NoItems));
    }
    let n_items: usize = spec.items.iter().map(|i| 1 + i.taxes.len()).sum();
    if n_items > MAX_ITEMS {
        return Err(Rejection::refused(Input::Items, Flaw::TooManyItems { limit: MAX_ITEMS }));
    }
    if spec.due_date < spec.invoice_date {
        return Err(Rejection::refused(Input::DueDate, Flaw::BeforeInvoiceDate));
    }
    let currency = spec.currency;
    let mut items = Vec::with_capacity(n_items);
    let mut sides = Sides::default();
    for (idx, item_spec) in spec.items.into_iter().enumerate() {
        let (amount, quantity, unit_price) = match item_spec.pricing {
            Pricing::Amount(amount) => {
                if amount.currency() != currency {
                    return Err(Rejection::CurrencyMismatch {
                        expected: currency.code().to_owned(),
                        got: amount.currency().code().to_owned(),
                    });
                }
                (amount, None, None)
            }
            Pricing::PerUnit { quantity, unit_price } => {
                let out_of_range = || Rejection::refused(Input::UnitPrice(idx), Flaw::OutOfRange);
                let exact = quantity.checked_mul(unit_price).ok_or_else(out_of_range)?;
                let amount = Money::new(1, currency)
                    .mul_decimal_round_half_away(
                        exact
                            .checked_mul(Decimal::from(10_i64.pow(u32::from(currency.exponent()))))
                            .ok_or_else(out_of_range)?,
                    )
                    .map_err(|_| out_of_range())?;
                (amount, Some(quantity), Some(unit_price))
            }
        };
        let charge_id = ids.item();
        sides.add(amount)?;
        items.push(Item {
            id: charge_id.clone(),
            kind: ItemKind::Charge,
            parent_item_id: None,
            description: item_spec.description,
            quantity,
            unit_price,
            tax_rate: None,
            invoice_item_id: item_spec.invoice_item_id,
            amount,
            balance: Money::zero(currency),
            credited: Money::zero(currency),
        });
        for (tax_idx, tax) in item_spec.taxes.into_iter().enumerate() {
            let (name, tax_amount, rate) = match tax {
                TaxSpec::Rate { name, rate } => {
                    let input = Input::TaxRate { item: idx, tax: tax_idx };
                    let factor = rate
                        .checked_div(Decimal::ONE_HUNDRED)
                        .ok_or_else(|| Rejection::refused(input, Flaw::RateOutOfRange))?;
                    let tax_amount = amount
                        .mul_decimal_round_half_away(factor)
                        .map_err(|_| Rejection::refused(input, Flaw::OutOfRange))?;
                    (name, tax_amount, Some(rate))
                }
                TaxSpec::Amount { name, amount: tax_amount } => {
                    if tax_amount.currency() != currency {
                        return Err(Rejection::CurrencyMismatch {
                            expected: currency.code().to_owned(),
                            got: tax_amount.currency().code().to_owned(),
                        });
                    }
                    (name, tax_amount, None)
                }
            };
            sides.add(tax_amount)?;
            items.push(Item {
                id: ids.item(),
                kind: ItemKind::Tax,
                parent_item_id: Some(charge_id.clone()),
                description: name,
                quantity: None,
                unit_price: None,
                tax_rate: rate,
                invoice_item_id: None,
                amount: tax_amount,
                balance: Money::zero(currency),
                credited: Money::zero(currency),
            });
        }
    }
    Ok(Document {
        id,
        kind: spec.kind,
        number,
        customer_id: spec.customer_id,
        status: DocumentStatus::Draft,
        currency,
        invoice_date: spec.invoice_date,
        due_date: spec.due_date,
        adjusts_invoice_id: spec.adjusts_invoice_id,
        reason: spec.reason,
        items,
        group_balance: Money::zero(currency),
        group: Vec::new(),
    })
}

/// The sums of a document's positive and of its negative item amounts. Each must stay within
/// [`MAX_MINOR`] in size, so the document's total, its balance after any applications (each
/// item's balance lies between zero and its amount) and every partial sum of its items do too,
/// in any order.
#[derive(Default)]
struct Sides {
    positive: i64,
    negative: i64,
}

impl Sides {
    fn add(&mut self, amount: Money) -> Result<(), Rejection> {
        let side = if amount.is_negative() { &mut self.negative } else { &mut self.positive };
        *side = side
            .checked_add(amount.minor())
            .filter(|sum| sum.unsigned_abs() <= MAX_MINOR.unsigned_abs())
            .ok_or_else(|| Rejection::refused(Input::Items, Flaw::OutOfRange))?;
        Ok(())
    }
}

/// Posts a draft: the document enters the journal; applying the transaction's effects makes
/// every item's balance its amount.
/// Invoices and debit memos debit receivable per item against revenue (charges) or tax payable
/// (tax items); a credit memo credits its items on credit memos against revenue adjustments.
pub fn post_document(
    document: &mut Document,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<JournalTxn, Rejection> {
    if document.status != DocumentStatus::Draft {
        return Err(Rejection::DocumentNotDraft {
            id: document.id.to_string(),
            status: document.status.name(),
        });
    }
    let mut postings = Vec::with_capacity(document.items.len() * 2);
    for item in &document.items {
        let (detail_account, contra) = match (document.kind, item.kind) {
            (DocumentKind::CreditMemo, _) => (Account::CreditMemos, document.credit_contra()),
            (_, ItemKind::Charge) => (Account::Receivable, Account::Revenue),
            (_, ItemKind::Tax) => (Account::Receivable, Account::TaxPayable),
        };
        // Receivable goes up with a debit; credit memo value goes up with a credit.
        let detail_debit = if detail_account == Account::Receivable {
            item.amount
        } else {
            item.amount
                .checked_neg()
                .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?
        };
        let contra_debit = detail_debit
            .checked_neg()
            .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
        push_signed(&mut postings, detail_account, detail_debit, |p| {
            p.document_id = Some(document.id.clone());
            p.item_id = Some(item.id.clone());
        });
        push_signed(&mut postings, contra, contra_debit, |p| {
            p.document_id = Some(document.id.clone());
        });
    }
    let kind = match document.kind {
        DocumentKind::Invoice => TxnKind::InvoicePosted,
        DocumentKind::DebitMemo => TxnKind::DebitMemoPosted,
        DocumentKind::CreditMemo if document.is_write_off() => TxnKind::WriteOff,
        DocumentKind::CreditMemo => TxnKind::CreditMemoPosted,
    };
    let description = match document.items.as_slice() {
        [only] => only.description.clone(),
        _ => document.number.clone(),
    };
    let txn = JournalTxn::new(
        txn_id,
        document.customer_id.clone(),
        kind,
        effective_date,
        description,
        Some(document.id.to_string()),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
    document.status = DocumentStatus::Posted;
    Ok(txn)
}
