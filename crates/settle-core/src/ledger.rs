//! The double-entry journal: accounts, postings, balanced transactions, and the one fold that
//! turns postings into the balances every projection shows.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::ids::{ApplicationId, CustomerId, DocumentId, ItemId, PaymentId, TxnId};
use crate::money::{Currency, Money};

/// A ledger account. Each posting also names its customer, so each account has per-customer
/// detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// What customers owe (debit-normal); detail per document item.
    Receivable,
    /// Money received or paid out (debit-normal).
    Cash,
    /// Payments received and not yet applied (credit-normal); detail per payment.
    UnappliedPayments,
    /// Posted credit memo value not yet applied (credit-normal); detail per credit memo item.
    CreditMemos,
    /// The customer's credit pool (credit-normal).
    CreditBalance,
    /// Income from charges (credit-normal).
    Revenue,
    /// Reductions of income: credit memos and credit adjustments (debit-normal).
    RevenueAdjustments,
    /// Tax collected for authorities (credit-normal).
    TaxPayable,
    /// Written-off receivables (debit-normal).
    BadDebt,
}

impl Account {
    /// Every account, in chart order.
    pub const ALL: [Account; 9] = [
        Account::Receivable,
        Account::Cash,
        Account::UnappliedPayments,
        Account::CreditMemos,
        Account::CreditBalance,
        Account::Revenue,
        Account::RevenueAdjustments,
        Account::TaxPayable,
        Account::BadDebt,
    ];

    /// The account's name in the API, exports and storage.
    pub fn name(self) -> &'static str {
        match self {
            Account::Receivable => "receivable",
            Account::Cash => "cash",
            Account::UnappliedPayments => "unapplied_payments",
            Account::CreditMemos => "credit_memos",
            Account::CreditBalance => "credit_balance",
            Account::Revenue => "revenue",
            Account::RevenueAdjustments => "revenue_adjustments",
            Account::TaxPayable => "tax_payable",
            Account::BadDebt => "bad_debt",
        }
    }

    /// Reads a name written by [`Account::name`].
    pub fn parse(name: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// The side of a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Left side: raises debit-normal accounts.
    Debit,
    /// Right side: raises credit-normal accounts.
    Credit,
}

impl Side {
    /// `"debit"` or `"credit"`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Debit => "debit",
            Side::Credit => "credit",
        }
    }

    /// Reads a name written by [`Side::name`].
    pub fn parse(name: &str) -> Option<Side> {
        match name {
            "debit" => Some(Side::Debit),
            "credit" => Some(Side::Credit),
            _ => None,
        }
    }
}

/// One line of a journal transaction: a positive amount on one side of one account, with the
/// detail that lets every projection be rebuilt from postings alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// The account.
    pub account: Account,
    /// Debit or credit.
    pub side: Side,
    /// Always above zero.
    pub amount: Money,
    /// The document the posting belongs to, if any.
    pub document_id: Option<DocumentId>,
    /// The document item (receivable and credit memo detail).
    pub item_id: Option<ItemId>,
    /// The payment (unapplied payments detail).
    pub payment_id: Option<PaymentId>,
    /// The application that moved the value, if any.
    pub application_id: Option<ApplicationId>,
}

impl Posting {
    /// A posting of `amount` on `side` with no detail; zero amounts are not postings.
    pub fn new(account: Account, side: Side, amount: Money) -> Posting {
        debug_assert!(amount.is_positive(), "postings carry positive amounts");
        Posting {
            account,
            side,
            amount,
            document_id: None,
            item_id: None,
            payment_id: None,
            application_id: None,
        }
    }

    /// The posting as a signed debit: positive for a debit, negative for a credit.
    pub fn signed_debit(&self) -> i64 {
        match self.side {
            Side::Debit => self.amount.minor(),
            Side::Credit => -self.amount.minor(),
        }
    }
}

/// What a journal transaction records; also the kind of its billing-history line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnKind {
    /// An invoice was posted.
    InvoicePosted,
    /// A debit memo was posted.
    DebitMemoPosted,
    /// A credit memo was posted.
    CreditMemoPosted,
    /// A payment was recorded.
    PaymentReceived,
    /// A credit source was applied to a document.
    Application,
    /// An application was reversed, wholly or partly.
    ApplicationReversal,
    /// A write-off credit memo was posted (against bad debt).
    WriteOff,
    /// A posted credit memo was canceled.
    CreditMemoCanceled,
    /// Negative item balances were offset against positive ones in one document.
    ItemsNetted,
    /// A document's negative balance moved to the customer's credit balance.
    TransferredToCredit,
    /// An invoice item adjustment.
    Adjustment,
    /// Money paid back from a payment, a credit memo or the credit balance.
    Refund,
    /// A receivable document was voided.
    DocumentVoided,
    /// A payment was voided.
    PaymentVoided,
    /// A manual credit entry into the credit balance.
    CreditBalanceAdded,
}

impl TxnKind {
    /// The kind's name in the API and storage.
    pub fn name(self) -> &'static str {
        match self {
            TxnKind::InvoicePosted => "invoice",
            TxnKind::DebitMemoPosted => "debit_memo",
            TxnKind::CreditMemoPosted => "credit_memo",
            TxnKind::PaymentReceived => "payment",
            TxnKind::Application => "application",
            TxnKind::ApplicationReversal => "application_reversal",
            TxnKind::WriteOff => "write_off",
            TxnKind::CreditMemoCanceled => "credit_memo_canceled",
            TxnKind::ItemsNetted => "items_netted",
            TxnKind::TransferredToCredit => "transfer_to_credit",
            TxnKind::Adjustment => "adjustment",
            TxnKind::Refund => "refund",
            TxnKind::DocumentVoided => "void",
            TxnKind::PaymentVoided => "payment_void",
            TxnKind::CreditBalanceAdded => "credit_balance",
        }
    }

    /// Every kind.
    pub const ALL: [TxnKind; 15] = [
        TxnKind::InvoicePosted,
        TxnKind::DebitMemoPosted,
        TxnKind::CreditMemoPosted,
        TxnKind::PaymentReceived,
        TxnKind::Application,
        TxnKind::ApplicationReversal,
        TxnKind::WriteOff,
        TxnKind::CreditMemoCanceled,
        TxnKind::ItemsNetted,
        TxnKind::TransferredToCredit,
        TxnKind::Adjustment,
        TxnKind::Refund,
        TxnKind::DocumentVoided,
        TxnKind::PaymentVoided,
        TxnKind::CreditBalanceAdded,
    ];

    /// Reads a name written by [`TxnKind::name`].
    pub fn parse(name: &str) -> Option<TxnKind> {
        TxnKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A transaction whose debits do not equal its credits in some currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unbalanced journal transaction in {currency}: debits {debit} credits {credit}")]
pub struct UnbalancedEntry {
    /// The currency that does not balance.
    pub currency: Currency,
    /// Sum of debits, minor units.
    pub debit: i128,
    /// Sum of credits, minor units.
    pub credit: i128,
}

/// One immutable, balanced journal transaction of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalTxn {
    id: TxnId,
    customer_id: CustomerId,
    kind: TxnKind,
    effective_date: NaiveDate,
    description: String,
    subject_id: Option<String>,
    postings: Vec<Posting>,
}

impl JournalTxn {
    /// Builds a transaction, refusing one whose debits and credits differ in any currency or
    /// that has a posting of zero or less.
    pub fn new(
        id: TxnId,
        customer_id: CustomerId,
        kind: TxnKind,
        effective_date: NaiveDate,
        description: String,
        subject_id: Option<String>,
        postings: Vec<Posting>,
    ) -> Result<JournalTxn, UnbalancedEntry> {
        let mut sums: BTreeMap<Currency, (i128, i128)> = BTreeMap::new();
        for posting in &postings {
            let entry = sums.entry(posting.amount.currency()).or_default();
            if posting.amount.minor() <= 0 {
                return Err(UnbalancedEntry {
                    currency: posting.amount.currency(),
                    debit: entry.0,
                    credit: entry.1,
                });
            }
            match posting.side {
                Side::Debit => entry.0 += i128::from(posting.amount.minor()),
                Side::Credit => entry.1 += i128::from(posting.amount.minor()),
            }
        }
        if let Some((currency, (debit, credit))) = sums.into_iter().find(|(_, (d, c))| d != c) {
            return Err(UnbalancedEntry { currency, debit, credit });
        }
        Ok(JournalTxn { id, customer_id, kind, effective_date, description, subject_id, postings })
    }

    /// The transaction id.
    pub fn id(&self) -> &TxnId {
        &self.id
    }
    /// The customer whose documents it touches.
    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }
    /// What it records.
    pub fn kind(&self) -> TxnKind {
        self.kind
    }
    /// The accounting date.
    pub fn effective_date(&self) -> NaiveDate {
        self.effective_date
    }
    /// Human description (the history line's text).
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The document, payment or application the transaction is about, if any.
    pub fn subject_id(&self) -> Option<&str> {
        self.subject_id.as_deref()
    }
    /// The postings, in order.
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// What the transaction does to every balance Settle shows.
    pub fn effects(&self) -> Effects {
        let mut effects = Effects::default();
        for posting in &self.postings {
            effects.add(posting);
            if self.kind == TxnKind::Refund
                && posting.account == Account::UnappliedPayments
                && let Some(payment) = &posting.payment_id
            {
                *effects.payments_refunded.entry(payment.clone()).or_default() +=
                    posting.signed_debit();
            }
        }
        effects
    }
}

/// Signed changes to the customer's four balance components, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BalanceDelta {
    /// Change of open receivable (positive: the customer owes more).
    pub receivable: i64,
    /// Change of unapplied payments.
    pub unapplied_payments: i64,
    /// Change of open credit memo balance.
    pub credit_memo_balance: i64,
    /// Change of the credit balance pool.
    pub credit_balance: i64,
}

impl BalanceDelta {
    /// The change of `balance = available credit − receivable`.
    pub fn balance(&self) -> i64 {
        self.unapplied_payments + self.credit_memo_balance + self.credit_balance - self.receivable
    }
}

/// Signed effects of postings on projections. Receivable item deltas are debit-signed (an item
/// owed goes up with a debit); credit memo item deltas are credit-signed (a credit memo item's
/// balance goes up with a credit); payment deltas are credit-signed on unapplied payments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Item balance changes, receivable and credit memo items alike.
    pub items: BTreeMap<ItemId, i64>,
    /// Unapplied amount changes per payment.
    pub payments_unapplied: BTreeMap<PaymentId, i64>,
    /// Refunded amount changes per payment (refund transactions only).
    pub payments_refunded: BTreeMap<PaymentId, i64>,
    /// Per application and item, the signed amount applied (credit-signed on receivable).
    pub applications: BTreeMap<(ApplicationId, ItemId), i64>,
    /// Customer balance component changes.
    pub customer: BalanceDelta,
    /// Debit and credit totals per account and currency.
    pub accounts: BTreeMap<(Account, Currency), (i64, i64)>,
}

impl Effects {
    fn add(&mut self, posting: &Posting) {
        let debit = posting.signed_debit();
        let totals = self.accounts.entry((posting.account, posting.amount.currency())).or_default();
        match posting.side {
            Side::Debit => totals.0 += posting.amount.minor(),
            Side::Credit => totals.1 += posting.amount.minor(),
        }
        match posting.account {
            Account::Receivable => {
                self.customer.receivable += debit;
                if let Some(item) = &posting.item_id {
                    *self.items.entry(item.clone()).or_default() += debit;
                    if let Some(app) = &posting.application_id {
                        let key = (app.clone(), item.clone());
                        *self.applications.entry(key).or_default() -= debit;
                    }
                }
            }
            Account::UnappliedPayments => {
                self.customer.unapplied_payments -= debit;
                if let Some(payment) = &posting.payment_id {
                    *self.payments_unapplied.entry(payment.clone()).or_default() -= debit;
                }
            }
            Account::CreditMemos => {
                self.customer.credit_memo_balance -= debit;
                if let Some(item) = &posting.item_id {
                    *self.items.entry(item.clone()).or_default() -= debit;
                }
            }
            Account::CreditBalance => self.customer.credit_balance -= debit,
            Account::Cash
            | Account::Revenue
            | Account::RevenueAdjustments
            | Account::TaxPayable
            | Account::BadDebt => {}
        }
    }
}

/// Adds a signed posting: a debit when `signed_debit` is above zero, a credit when below,
/// nothing at zero.
pub fn push_signed(
    postings: &mut Vec<Posting>,
    account: Account,
    signed_debit: Money,
    detail: impl FnOnce(&mut Posting),
) {
    if signed_debit.is_zero() {
        return;
    }
    let (side, minor) = if signed_debit.is_positive() {
        (Side::Debit, signed_debit.minor())
    } else {
        (Side::Credit, signed_debit.minor().saturating_neg())
    };
    let mut posting = Posting::new(account, side, Money::new(minor, signed_debit.currency()));
    detail(&mut posting);
    postings.push(posting);
}
