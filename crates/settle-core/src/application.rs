//! Applications: moving value from a credit source to a receivable document, spread over its
//! items by an application rule or given per item, and their reversals. Every item's balance
//! moves toward zero and never past it, and so does the document's.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::document::{Document, DocumentKind};
use crate::error::{Flaw, Input, Rejection};
use crate::ids::{ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, TxnId};
use crate::ledger::{Account, JournalTxn, Posting, TxnKind, push_signed};
use crate::money::{Currency, Money, allocate};
use crate::payment::{Payment, PaymentStatus};

/// How a document-level amount is spread over the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rule {
    /// Over positive items in proportion to their balances; negative items are left alone.
    Proration,
    /// Fill positive items in document order (each charge, then its taxes).
    Sequential,
    /// Offset negative item balances against positive ones first, then sequential.
    #[default]
    NetFirst,
}

impl Rule {
    /// The rule's name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Proration => "proration",
            Rule::Sequential => "sequential",
            Rule::NetFirst => "net_first",
        }
    }

    /// Reads a name written by [`Rule::name`].
    pub fn parse(name: &str) -> Option<Rule> {
        [Rule::Proration, Rule::Sequential, Rule::NetFirst].into_iter().find(|r| r.name() == name)
    }
}

/// Where applied value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SourceRef {
    /// A payment's unapplied amount.
    Payment(PaymentId),
    /// A posted credit memo's balance.
    CreditMemo(DocumentId),
    /// The customer's credit balance.
    CreditBalance,
}

impl SourceRef {
    /// `payment`, `credit_memo` or `credit_balance`.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceRef::Payment(_) => "payment",
            SourceRef::CreditMemo(_) => "credit_memo",
            SourceRef::CreditBalance => "credit_balance",
        }
    }

    /// The source's id (none for the credit balance).
    pub fn id(&self) -> Option<&str> {
        match self {
            SourceRef::Payment(id) => Some(id.as_str()),
            SourceRef::CreditMemo(id) => Some(id.as_str()),
            SourceRef::CreditBalance => None,
        }
    }
}

/// The loaded state of a source, as the rules need it.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A payment.
    Payment(&'a Payment),
    /// A credit memo.
    CreditMemo(&'a Document),
    /// The customer's credit balance, with what it holds.
    CreditBalance {
        /// The customer.
        customer_id: &'a CustomerId,
        /// What the pool holds.
        available: Money,
    },
}

impl Source<'_> {
    fn reference(&self) -> SourceRef {
        match self {
            Source::Payment(p) => SourceRef::Payment(p.id.clone()),
            Source::CreditMemo(d) => SourceRef::CreditMemo(d.id.clone()),
            Source::CreditBalance { .. } => SourceRef::CreditBalance,
        }
    }

    fn customer_id(&self) -> &CustomerId {
        match self {
            Source::Payment(p) => &p.customer_id,
            Source::CreditMemo(d) => &d.customer_id,
            Source::CreditBalance { customer_id, .. } => customer_id,
        }
    }

    fn currency(&self) -> Currency {
        match self {
            Source::Payment(p) => p.amount.currency(),
            Source::CreditMemo(d) => d.currency,
            Source::CreditBalance { available, .. } => available.currency(),
        }
    }

    /// What the source can give: a payment's unapplied amount, a credit memo's balance, what the
    /// credit balance holds.
    fn available(&self) -> Money {
        match self {
            Source::Payment(p) => p.unapplied,
            Source::CreditMemo(d) => d.balance(),
            Source::CreditBalance { available, .. } => *available,
        }
    }

    fn id_text(&self) -> String {
        self.reference().id().unwrap_or("credit_balance").to_owned()
    }
}

/// One requested per-item amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAmount {
    /// The target document's item.
    pub item_id: ItemId,
    /// Signed; negative for an item whose balance is negative.
    pub amount: Money,
    /// For a credit memo source, the credit memo item it comes from.
    pub credit_memo_item_id: Option<ItemId>,
}

/// How much to apply: one amount spread by a rule, or per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spread {
    /// A document-level amount and the rule that spreads it.
    Amount(Money, Rule),
    /// Amounts per item; the total may be zero.
    Items(Vec<ItemAmount>),
    /// As much as the source holds and the document owes, spread by the rule.
    Largest(Rule),
}

/// One item of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationItem {
    /// The target item.
    pub item_id: ItemId,
    /// For a credit memo source, the credit memo item the value came from.
    pub credit_memo_item_id: Option<ItemId>,
    /// Signed amount applied (moves the item's balance toward zero by this much).
    pub amount: Money,
    /// What is still applied after reversals (a projection).
    pub net: Money,
}

/// An application of a source to a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// The id.
    pub id: ApplicationId,
    /// The customer.
    pub customer_id: CustomerId,
    /// Where the value came from.
    pub source: SourceRef,
    /// The receivable document.
    pub target_id: DocumentId,
    /// The rule used, for a document-level amount.
    pub rule: Option<Rule>,
    /// Currency.
    pub currency: Currency,
    /// Accounting date.
    pub effective_date: NaiveDate,
    /// Per-item amounts (never zero).
    pub items: Vec<ApplicationItem>,
}

impl Application {
    /// Sum of item amounts.
    pub fn amount(&self) -> Money {
        Money::new(self.items.iter().map(|i| i.amount.minor()).sum(), self.currency)
    }

    /// Sum of what is still applied.
    pub fn net(&self) -> Money {
        Money::new(self.items.iter().map(|i| i.net.minor()).sum(), self.currency)
    }

    /// `applied`, `partially_reversed` or `reversed`.
    pub fn status(&self) -> &'static str {
        if self.items.iter().all(|i| i.net.is_zero()) {
            "reversed"
        } else if self.items.iter().any(|i| i.net != i.amount) {
            "partially_reversed"
        } else {
            "applied"
        }
    }
}

/// A request to apply a source to a document.
#[derive(Debug, Clone)]
pub struct ApplyRequest<'a> {
    /// New application id.
    pub id: ApplicationId,
    /// New journal transaction id.
    pub txn_id: TxnId,
    /// The source.
    pub source: Source<'a>,
    /// The target document.
    pub target: &'a Document,
    /// How much, and how spread.
    pub spread: Spread,
    /// Accounting date.
    pub effective_date: NaiveDate,
}

/// Applies a source to a receivable document. Checks, in this order: the target is a posted
/// invoice or debit memo (`document_not_posted`, `document_voided`); the source is live
/// (`document_not_posted`, `document_voided`); both belong to one customer
/// (`customer_mismatch`) and currency (`currency_mismatch`); every item amount keeps its item's
/// balance from passing zero and so does the document total (`over_application`); the source
/// holds enough (`insufficient_unapplied`).
pub fn apply(request: ApplyRequest<'_>) -> Result<(Application, JournalTxn), Rejection> {
    let ApplyRequest { id, txn_id, source, target, spread, effective_date } = request;
    if !target.kind.is_receivable() {
        return Err(Rejection::refused(Input::Target, Flaw::NotAnInvoiceOrDebitMemo));
    }
    target.ensure_posted()?;
    match source {
        Source::Payment(payment) if payment.status == PaymentStatus::Voided => {
            return Err(Rejection::DocumentVoided { id: payment.id.to_string() });
        }
        Source::CreditMemo(memo) => {
            if memo.kind != DocumentKind::CreditMemo {
                return Err(Rejection::refused(Input::Source, Flaw::NotACreditMemo));
            }
            memo.ensure_posted()?;
        }
        _ => {}
    }
    if source.customer_id() != &target.customer_id {
        return Err(Rejection::CustomerMismatch {
            source_id: source.id_text(),
            target_id: target.id.to_string(),
        });
    }
    if source.currency() != target.currency {
        return Err(Rejection::CurrencyMismatch {
            expected: target.currency.code().to_owned(),
            got: source.currency().code().to_owned(),
        });
    }
    let (rule, amounts) = match spread {
        Spread::Amount(amount, rule) => (Some(rule), spread_amount(target, amount, rule)?),
        Spread::Items(items) => (None, check_items(target, items)?),
        Spread::Largest(rule) => {
            (Some(rule), spread_amount(target, largest_amount(source, target)?, rule)?)
        }
    };
    check_document_total(target, &amounts)?;
    let items = take_from_source(source, &amounts)?;
    let application = Application {
        id,
        customer_id: target.customer_id.clone(),
        source: source.reference(),
        target_id: target.id.clone(),
        rule,
        currency: target.currency,
        effective_date,
        items,
    };
    let txn = application_txn(&application, txn_id, TxnKind::Application, &application.items, 1)?;
    Ok((application, txn))
}

/// The largest amount `source` can apply to `target`: the lesser in size of what the source
/// holds and what the document owes, when both lean the same way (a negative payment clears a
/// negative balance). A document with nothing owed is `over_application`; a source with nothing
/// of the right sign, `insufficient_unapplied`.
fn largest_amount(source: Source<'_>, target: &Document) -> Result<Money, Rejection> {
    let (available, owed) = (source.available(), target.balance());
    if owed.is_zero() {
        return Err(Rejection::OverApplication {
            id: target.id.to_string(),
            balance: owed,
            attempted: available,
        });
    }
    if available.minor().signum() != owed.minor().signum() {
        return Err(Rejection::InsufficientUnapplied {
            source_id: source.id_text(),
            available,
            attempted: owed,
        });
    }
    Ok(if available.minor().abs() < owed.minor().abs() { available } else { owed })
}

/// Per-item amounts for a document-level amount under `rule`.
fn spread_amount(
    target: &Document,
    amount: Money,
    rule: Rule,
) -> Result<Vec<ItemAmount>, Rejection> {
    if amount.currency() != target.currency {
        return Err(Rejection::CurrencyMismatch {
            expected: target.currency.code().to_owned(),
            got: amount.currency().code().to_owned(),
        });
    }
    if amount.is_zero() {
        return Err(Rejection::refused(Input::Amount, Flaw::Zero));
    }
    let balance = target.balance();
    let sign = balance.minor().signum();
    let over =
        || Rejection::OverApplication { id: target.id.to_string(), balance, attempted: amount };
    if sign == 0
        || amount.minor().signum() != sign
        || amount.minor().unsigned_abs() > balance.minor().unsigned_abs()
    {
        return Err(over());
    }
    // Work on balances oriented so that the document's balance is positive.
    let oriented: Vec<i64> = target.items.iter().map(|i| i.balance.minor() * sign).collect();
    let wanted =
        amount.minor().checked_abs().ok_or(Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
    let parts = match rule {
        Rule::Proration => {
            let weights: Vec<i64> = oriented.iter().map(|b| (*b).max(0)).collect();
            allocate(wanted, &weights).map_err(|_| over())?
        }
        Rule::Sequential => fill_sequentially(&oriented, wanted),
        Rule::NetFirst => {
            let negative: i64 = oriented.iter().filter(|b| **b < 0).map(|b| -b).sum();
            let netting = fill_sequentially(&oriented, negative);
            let after: Vec<i64> = oriented
                .iter()
                .zip(&netting)
                .map(|(b, n)| if *b < 0 { 0 } else { b - n })
                .collect();
            let paying = fill_sequentially(&after, wanted);
            oriented
                .iter()
                .zip(netting.iter().zip(&paying))
                .map(|(b, (n, p))| if *b < 0 { *b } else { n + p })
                .collect()
        }
    };
    Ok(target
        .items
        .iter()
        .zip(parts)
        .filter(|(_, part)| *part != 0)
        .map(|(item, part)| ItemAmount {
            item_id: item.id.clone(),
            amount: Money::new(part * sign, target.currency),
            credit_memo_item_id: None,
        })
        .collect())
}

/// Fills positive balances in order with `amount`; negative balances get nothing.
fn fill_sequentially(balances: &[i64], amount: i64) -> Vec<i64> {
    let mut left = amount;
    balances
        .iter()
        .map(|b| {
            let part = left.min((*b).max(0));
            left -= part;
            part
        })
        .collect()
}

/// Checks per-item amounts: known items of the target, listed once, each in the item's
/// currency and moving its balance toward zero without passing it. Zero amounts are dropped.
fn check_items(target: &Document, items: Vec<ItemAmount>) -> Result<Vec<ItemAmount>, Rejection> {
    if items.is_empty() {
        return Err(Rejection::refused(Input::Items, Flaw::NoItems));
    }
    let mut seen = BTreeSet::new();
    let mut checked = Vec::with_capacity(items.len());
    for (idx, requested) in items.into_iter().enumerate() {
        let Some(item) = target.item(&requested.item_id) else {
            return Err(Rejection::refused(
                Input::ItemId(idx),
                Flaw::NotAnItemOf {
                    item_id: requested.item_id.to_string(),
                    document_id: target.id.to_string(),
                },
            ));
        };
        if !seen.insert(requested.item_id.clone()) {
            return Err(Rejection::refused(Input::ItemId(idx), Flaw::ListedTwice));
        }
        if requested.amount.currency() != target.currency {
            return Err(Rejection::CurrencyMismatch {
                expected: target.currency.code().to_owned(),
                got: requested.amount.currency().code().to_owned(),
            });
        }
        let (amount, balance) = (requested.amount.minor(), item.balance.minor());
        if amount == 0 {
            continue;
        }
        if amount.signum() != balance.signum() || amount.unsigned_abs() > balance.unsigned_abs() {
            return Err(Rejection::OverApplication {
                id: item.id.to_string(),
                balance: item.balance,
                attempted: requested.amount,
            });
        }
        checked.push(requested);
    }
    if checked.is_empty() {
        return Err(Rejection::refused(Input::Items, Flaw::NothingToApply));
    }
    Ok(checked)
}

/// The document's balance moves toward zero and never past it either: items moving toward
/// zero can still flip the total (positive items paid, negative ones left) or push it away
/// from zero (negative items cleared on a document that is owed).
fn check_document_total(target: &Document, amounts: &[ItemAmount]) -> Result<(), Rejection> {
    let total: i64 = amounts.iter().map(|a| a.amount.minor()).sum();
    let before = target.balance().minor();
    let after = before - total;
    let fine = match before.signum() {
        1 => (0..=before).contains(&after),
        -1 => (before..=0).contains(&after),
        _ => after == 0,
    };
    if fine {
        Ok(())
    } else {
        Err(Rejection::OverApplication {
            id: target.id.to_string(),
            balance: target.balance(),
            attempted: Money::new(total, target.currency),
        })
    }
}

/// Checks that the source holds the total and, for a credit memo, picks the credit memo item
/// each amount comes from (the one named, else the first with room of the same sign).
// tidy: long-function: One match over the three sources, each checked and drawn its own way;
// the credit memo arm picks an item for each amount in one pass.
fn take_from_source(
    source: Source<'_>,
    amounts: &[ItemAmount],
) -> Result<Vec<ApplicationItem>, Rejection> {
    let currency = source.currency();
    let total = Money::new(amounts.iter().map(|a| a.amount.minor()).sum(), currency);
    let insufficient = |available: Money| Rejection::InsufficientUnapplied {
        source_id: source.id_text(),
        available,
        attempted: total,
    };
    let holds = |available: Money| match total.minor().signum() {
        1 => available.minor() >= total.minor(),
        -1 => available.minor() <= total.minor(),
        _ => true,
    };
    let memo = match source {
        Source::Payment(payment) => {
            if !holds(payment.unapplied) {
                return Err(insufficient(payment.unapplied));
            }
            None
        }
        Source::CreditBalance { available, .. } => {
            if !holds(available) {
                return Err(insufficient(available));
            }
            None
        }
        Source::CreditMemo(memo) => {
            // Items are checked one by one below; the memo as a whole must hold the total too
            // (a memo of +30.00 and -10.00 holds 20.00).
            if !holds(memo.balance()) {
                return Err(insufficient(memo.balance()));
            }
            Some(memo)
        }
    };
    let Some(memo) = memo else {
        return Ok(amounts
            .iter()
            .map(|a| ApplicationItem {
                item_id: a.item_id.clone(),
                credit_memo_item_id: None,
                amount: a.amount,
                net: a.amount,
            })
            .collect());
    };
    let mut room: Vec<i64> = memo.items.iter().map(|i| i.balance.minor()).collect();
    let mut slots = vec![0usize; amounts.len()];
    // Amounts leaning against the total (a negative line paid back by a positive memo) are
    // taken first: each gives its memo item room that the lines it nets against then use. A
    // memo of one line of 139.15 carries −60.85 and then +200.00 of a net-first spread.
    let mut order: Vec<usize> = (0..amounts.len()).collect();
    order.sort_by_key(|idx| amounts[*idx].amount.minor().signum() == total.minor().signum());
    for idx in order {
        let wanted = &amounts[idx];
        let want = wanted.amount.minor();
        let against = total.minor() != 0 && want.signum() != total.minor().signum();
        let slot = match &wanted.credit_memo_item_id {
            Some(named) => memo.items.iter().position(|i| &i.id == named).ok_or_else(|| {
                Rejection::refused(
                    Input::CreditMemoItemId(idx),
                    Flaw::NotAnItemOf {
                        item_id: named.to_string(),
                        document_id: memo.id.to_string(),
                    },
                )
            })?,
            None => room
                .iter()
                .position(|r| r.signum() == want.signum() && r.abs() >= want.abs())
                .or_else(|| against.then(|| widest_against(&room, want)).flatten())
                .ok_or_else(|| insufficient(memo.balance()))?,
        };
        let left = room[slot];
        let gives_room =
            against && wanted.credit_memo_item_id.is_none() && left.signum() == -want.signum();
        if !gives_room && (left.signum() != want.signum() || left.abs() < want.abs()) {
            return Err(Rejection::InsufficientUnapplied {
                source_id: memo.items[slot].id.to_string(),
                available: Money::new(left, currency),
                attempted: wanted.amount,
            });
        }
        room[slot] -= want;
        slots[idx] = slot;
    }
    // Each memo item ends between zero and where it started, whatever the order of the lines.
    for (item, left) in memo.items.iter().zip(&room) {
        let start = item.balance.minor();
        if (*left != 0 && left.signum() != start.signum()) || left.abs() > start.abs() {
            return Err(insufficient(memo.balance()));
        }
    }
    Ok(amounts
        .iter()
        .zip(slots)
        .map(|(wanted, slot)| ApplicationItem {
            item_id: wanted.item_id.clone(),
            credit_memo_item_id: Some(memo.items[slot].id.clone()),
            amount: wanted.amount,
            net: wanted.amount,
        })
        .collect())
}

/// The memo item with the most room of the sign opposite to `want`: an amount leaning against
/// the total widens it for the amounts that follow.
fn widest_against(room: &[i64], want: i64) -> Option<usize> {
    room.iter()
        .enumerate()
        .filter(|(_, r)| r.signum() == -want.signum())
        .max_by_key(|(idx, r)| (r.abs(), std::cmp::Reverse(*idx)))
        .map(|(idx, _)| idx)
}

/// The postings of applying (`direction` 1) or reversing (`direction` −1) `amounts` of an
/// application: receivable per item against the source.
fn application_txn(
    application: &Application,
    txn_id: TxnId,
    kind: TxnKind,
    amounts: &[ApplicationItem],
    direction: i64,
) -> Result<JournalTxn, Rejection> {
    let currency = application.currency;
    let mut postings: Vec<Posting> = Vec::with_capacity(amounts.len() * 2);
    let mut total = 0_i64;
    for item in amounts {
        let moved = item.amount.minor() * direction;
        total += moved;
        push_signed(&mut postings, Account::Receivable, Money::new(-moved, currency), |p| {
            p.document_id = Some(application.target_id.clone());
            p.item_id = Some(item.item_id.clone());
            p.application_id = Some(application.id.clone());
        });
        if let (SourceRef::CreditMemo(memo_id), Some(memo_item)) =
            (&application.source, &item.credit_memo_item_id)
        {
            push_signed(&mut postings, Account::CreditMemos, Money::new(moved, currency), |p| {
                p.document_id = Some(memo_id.clone());
                p.item_id = Some(memo_item.clone());
                p.application_id = Some(application.id.clone());
            });
        }
    }
    let source_debit = Money::new(total, currency);
    match &application.source {
        SourceRef::Payment(payment_id) => {
            push_signed(&mut postings, Account::UnappliedPayments, source_debit, |p| {
                p.payment_id = Some(payment_id.clone());
                p.application_id = Some(application.id.clone());
            });
        }
        SourceRef::CreditBalance => {
            push_signed(&mut postings, Account::CreditBalance, source_debit, |p| {
                p.application_id = Some(application.id.clone());
            });
        }
        SourceRef::CreditMemo(_) => {}
    }
    let verb = if direction > 0 { "Applied" } else { "Reversed" };
    let description = format!(
        "{verb} {} {} to {}",
        application.source.type_name(),
        application.source.id().unwrap_or(""),
        application.target_id
    );
    JournalTxn::new(
        txn_id,
        application.customer_id.clone(),
        kind,
        application.effective_date,
        description,
        Some(application.id.to_string()),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))
}

/// Reverses an application wholly (`amount` `None`: everything still applied) or partly. A
/// partial reversal is spread over the items in proportion to what is still applied on each
/// (largest remainder); an application with items of both signs can only be reversed whole.
/// Refuses more than is still applied (`over_reversal`).
pub fn reverse(
    application: &Application,
    amount: Option<Money>,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<JournalTxn, Rejection> {
    let remaining = application.net();
    let nets: Vec<i64> = application.items.iter().map(|i| i.net.minor()).collect();
    let over = |attempted: Money| Rejection::OverReversal {
        id: application.id.to_string(),
        remaining,
        attempted,
    };
    let parts: Vec<i64> = match amount {
        None => {
            if nets.iter().all(|n| *n == 0) {
                return Err(over(remaining));
            }
            nets.clone()
        }
        Some(amount) => {
            if amount.currency() != application.currency {
                return Err(Rejection::CurrencyMismatch {
                    expected: application.currency.code().to_owned(),
                    got: amount.currency().code().to_owned(),
                });
            }
            let sign = remaining.minor().signum();
            if nets.iter().any(|n| n.signum() == -sign && *n != 0)
                || sign == 0 && nets.iter().any(|n| *n != 0)
            {
                return Err(Rejection::refused(Input::Amount, Flaw::MixedSignsReversedWhole));
            }
            if amount.is_zero()
                || amount.minor().signum() != sign
                || amount.minor().unsigned_abs() > remaining.minor().unsigned_abs()
            {
                return Err(over(amount));
            }
            let weights: Vec<i64> = nets.iter().map(|n| n.abs()).collect();
            let magnitude = amount
                .minor()
                .checked_abs()
                .ok_or(Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
            allocate(magnitude, &weights)
                .map_err(|_| over(amount))?
                .into_iter()
                .map(|p| p * sign)
                .collect()
        }
    };
    let amounts: Vec<ApplicationItem> = application
        .items
        .iter()
        .zip(parts)
        .filter(|(_, part)| *part != 0)
        .map(|(item, part)| ApplicationItem {
            amount: Money::new(part, application.currency),
            ..item.clone()
        })
        .collect();
    let mut dated = application.clone();
    dated.effective_date = effective_date;
    application_txn(&dated, txn_id, TxnKind::ApplicationReversal, &amounts, -1)
}
