//! Refunds (money paid back out of a payment's unapplied amount, a credit memo's balance or the
//! credit balance) and voids (reversing a posted document or payment as a whole).

use chrono::NaiveDate;

use crate::customer::Customer;
use crate::document::{Document, DocumentKind, DocumentStatus, ItemKind};
use crate::error::{Flaw, Input, Rejection};
use crate::ids::TxnId;
use crate::ledger::{Account, JournalTxn, Posting, TxnKind, push_signed};
use crate::money::Money;
use crate::payment::{Payment, PaymentMethod, PaymentStatus};

/// A stored refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The id.
    pub id: crate::ids::RefundId,
    /// The customer.
    pub customer_id: crate::ids::CustomerId,
    /// `payment`, `credit_memo` or `credit_balance`.
    pub source_type: &'static str,
    /// The payment or credit memo id (none for the credit balance).
    pub source_id: Option<String>,
    /// Positive amount.
    pub amount: Money,
    /// How it was paid back.
    pub method: PaymentMethod,
    /// Reference of the money movement.
    pub reference: Option<String>,
    /// Accounting date.
    pub effective_date: NaiveDate,
}

/// What a refund pays back from.
#[derive(Debug, Clone, Copy)]
pub enum RefundSource<'a> {
    /// A payment's unapplied amount.
    Payment(&'a Payment),
    /// A posted credit memo's balance.
    CreditMemo(&'a Document),
    /// The customer's credit balance.
    CreditBalance(&'a Customer),
}

/// A request to refund.
#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    /// New journal transaction id.
    pub txn_id: TxnId,
    /// The refund's id, as the transaction's subject.
    pub refund_id: String,
    /// Where the money comes from.
    pub source: RefundSource<'a>,
    /// Positive amount.
    pub amount: Money,
    /// How it was paid back.
    pub method: PaymentMethod,
    /// Reference of the money movement.
    pub reference: Option<String>,
    /// Accounting date.
    pub effective_date: NaiveDate,
}

/// Pays money back: debits the source, credits cash. Checks, in order: the amount is above
/// zero; the source is live (`document_not_posted`, `document_voided`); it holds the amount
/// (`insufficient_unapplied`). A credit memo is drawn item by item in order.
// tidy: long-function: One match over the three sources, each drawn its own way, after the
// checks above in the order that decides which rejection a request gets.
pub fn refund(request: RefundRequest<'_>) -> Result<JournalTxn, Rejection> {
    let RefundRequest { txn_id, refund_id, source, amount, method, reference, effective_date } =
        request;
    if !amount.is_positive() {
        return Err(Rejection::refused(Input::Amount, Flaw::NotPositive));
    }
    let insufficient = |source_id: String, available: Money| Rejection::InsufficientUnapplied {
        source_id,
        available,
        attempted: amount,
    };
    let mut postings: Vec<Posting> = Vec::with_capacity(4);
    let (customer_id, what) = match source {
        RefundSource::Payment(payment) => {
            if payment.status == PaymentStatus::Voided {
                return Err(Rejection::DocumentVoided { id: payment.id.to_string() });
            }
            if payment.unapplied.minor() < amount.minor() {
                return Err(insufficient(payment.id.to_string(), payment.unapplied));
            }
            push_signed(&mut postings, Account::UnappliedPayments, amount, |p| {
                p.payment_id = Some(payment.id.clone())
            });
            (payment.customer_id.clone(), format!("payment {}", payment.id))
        }
        RefundSource::CreditMemo(memo) => {
            if memo.kind != DocumentKind::CreditMemo {
                return Err(Rejection::refused(Input::Document, Flaw::NotACreditMemo));
            }
            memo.ensure_posted()?;
            // What the memo holds: its positive item balances, but never more than its balance,
            // so negative items are not refunded past zero.
            let positive: i64 = memo.items.iter().map(|i| i.balance.minor().max(0)).sum();
            let available = positive.min(memo.balance().minor()).max(0);
            if available < amount.minor() {
                return Err(insufficient(
                    memo.id.to_string(),
                    Money::new(available, memo.currency),
                ));
            }
            let mut left = amount.minor();
            for item in &memo.items {
                let part = left.min(item.balance.minor().max(0));
                left -= part;
                push_signed(
                    &mut postings,
                    Account::CreditMemos,
                    Money::new(part, memo.currency),
                    |p| {
                        p.document_id = Some(memo.id.clone());
                        p.item_id = Some(item.id.clone());
                    },
                );
            }
            (memo.customer_id.clone(), format!("credit memo {}", memo.number))
        }
        RefundSource::CreditBalance(customer) => {
            let available = Money::new(customer.balances.credit_balance, customer.currency);
            if available.minor() < amount.minor() {
                return Err(insufficient("credit_balance".to_owned(), available));
            }
            push_signed(&mut postings, Account::CreditBalance, amount, |_| {});
            (customer.id.clone(), "credit balance".to_owned())
        }
    };
    push_signed(
        &mut postings,
        Account::Cash,
        Money::new(-amount.minor(), amount.currency()),
        |_| {},
    );
    let description = match &reference {
        Some(reference) => format!("Refund of {what} ({}, {reference})", method.name()),
        None => format!("Refund of {what} ({})", method.name()),
    };
    JournalTxn::new(
        txn_id,
        customer_id,
        TxnKind::Refund,
        effective_date,
        description,
        Some(refund_id),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))
}

/// Voids a posted invoice or debit memo: what is left on each item goes back against revenue
/// (or tax payable), every item ends at zero and the document is `voided`. The caller must
/// first make sure no application is live.
pub fn void_document(
    document: &mut Document,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<JournalTxn, Rejection> {
    if !document.kind.is_receivable() {
        return Err(Rejection::refused(Input::Document, Flaw::CanceledNotVoided));
    }
    document.ensure_posted()?;
    let mut postings = Vec::with_capacity(document.items.len() * 2);
    for item in &document.items {
        let contra = match item.kind {
            ItemKind::Charge => Account::Revenue,
            ItemKind::Tax => Account::TaxPayable,
        };
        push_signed(
            &mut postings,
            Account::Receivable,
            Money::new(-item.balance.minor(), document.currency),
            |p| {
                p.document_id = Some(document.id.clone());
                p.item_id = Some(item.id.clone());
            },
        );
        push_signed(&mut postings, contra, item.balance, |p| {
            p.document_id = Some(document.id.clone())
        });
    }
    let txn = JournalTxn::new(
        txn_id,
        document.customer_id.clone(),
        TxnKind::DocumentVoided,
        effective_date,
        format!("Voided {}", document.number),
        Some(document.id.to_string()),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
    document.status = DocumentStatus::Voided;
    Ok(txn)
}

/// Cancels a credit memo: a draft simply becomes `canceled`; a posted one must be untouched
/// (`has_applications` otherwise) and its value goes back to where it came from.
pub fn cancel_credit_memo(
    memo: &mut Document,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<Option<JournalTxn>, Rejection> {
    if memo.kind != DocumentKind::CreditMemo {
        return Err(Rejection::refused(Input::Document, Flaw::NotACreditMemo));
    }
    match memo.status {
        DocumentStatus::Draft => {
            memo.status = DocumentStatus::Canceled;
            return Ok(None);
        }
        DocumentStatus::Posted => {}
        DocumentStatus::Voided | DocumentStatus::Canceled => {
            return Err(Rejection::DocumentVoided { id: memo.id.to_string() });
        }
    }
    if memo.items.iter().any(|i| i.balance != i.amount) {
        return Err(Rejection::HasApplications { id: memo.id.to_string() });
    }
    let mut postings = Vec::with_capacity(memo.items.len() * 2);
    for item in &memo.items {
        push_signed(&mut postings, Account::CreditMemos, item.balance, |p| {
            p.document_id = Some(memo.id.clone());
            p.item_id = Some(item.id.clone());
        });
        push_signed(
            &mut postings,
            memo.credit_contra(),
            Money::new(-item.balance.minor(), memo.currency),
            |p| p.document_id = Some(memo.id.clone()),
        );
    }
    let txn = JournalTxn::new(
        txn_id,
        memo.customer_id.clone(),
        TxnKind::CreditMemoCanceled,
        effective_date,
        format!("Canceled {}", memo.number),
        Some(memo.id.to_string()),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
    memo.status = DocumentStatus::Canceled;
    Ok(Some(txn))
}

/// Voids a payment that has nothing applied and nothing refunded (`has_applications`
/// otherwise): the receipt is reversed and the payment is `voided`.
pub fn void_payment(
    payment: &mut Payment,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<JournalTxn, Rejection> {
    if payment.status == PaymentStatus::Voided {
        return Err(Rejection::DocumentVoided { id: payment.id.to_string() });
    }
    if payment.unapplied != payment.amount {
        return Err(Rejection::HasApplications { id: payment.id.to_string() });
    }
    let mut postings = Vec::with_capacity(2);
    push_signed(&mut postings, Account::UnappliedPayments, payment.amount, |p| {
        p.payment_id = Some(payment.id.clone())
    });
    push_signed(
        &mut postings,
        Account::Cash,
        Money::new(-payment.amount.minor(), payment.amount.currency()),
        |_| {},
    );
    let txn = JournalTxn::new(
        txn_id,
        payment.customer_id.clone(),
        TxnKind::PaymentVoided,
        effective_date,
        format!("Voided payment {}", payment.id),
        Some(payment.id.to_string()),
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))?;
    payment.status = PaymentStatus::Voided;
    Ok(txn)
}

/// A manual credit into the customer's credit balance (against revenue adjustments), such as a
/// goodwill credit not tied to a document.
pub fn add_credit_balance(
    customer: &Customer,
    amount: Money,
    description: String,
    txn_id: TxnId,
    effective_date: NaiveDate,
) -> Result<JournalTxn, Rejection> {
    if !amount.is_positive() {
        return Err(Rejection::refused(Input::Amount, Flaw::NotPositive));
    }
    let mut postings = Vec::with_capacity(2);
    push_signed(&mut postings, Account::RevenueAdjustments, amount, |_| {});
    push_signed(
        &mut postings,
        Account::CreditBalance,
        Money::new(-amount.minor(), amount.currency()),
        |_| {},
    );
    JournalTxn::new(
        txn_id,
        customer.id.clone(),
        TxnKind::CreditBalanceAdded,
        effective_date,
        description,
        None,
        postings,
    )
    .map_err(|_| Rejection::refused(Input::Amount, Flaw::OutOfRange))
}
