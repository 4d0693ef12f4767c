//! Tests of the journal: balanced transactions, the fold of postings into balances, payments,
//! customers' balance projections and the stable codes of rejections.

use chrono::DateTime;
use proptest::prelude::*;

use super::{
    alice, apply_payment, assert_balanced, bob, currency, day, ids, journal, payment,
    seed_003_invoice, usd,
};
use crate::application::{Rule, Spread, reverse};
use crate::customer::{Balances, Customer};
use crate::document::{DocumentKind, post_document};
use crate::error::{Flaw, Input, Rejection};
use crate::fold;
use crate::ids::{CustomerId, PaymentId};
use crate::ledger::{
    Account, BalanceDelta, JournalTxn, Posting, Side, TxnKind, UnbalancedEntry, push_signed,
};
use crate::money::{Currency, Money, MoneyError};
use crate::payment::{PaymentMethod, PaymentRequest, PaymentStatus, record_payment};

fn posting(account: Account, side: Side, amount: Money) -> Posting {
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

fn txn(postings: Vec<Posting>) -> Result<JournalTxn, UnbalancedEntry> {
    JournalTxn::new(
        ids().txn(),
        alice(),
        TxnKind::PaymentReceived,
        day(1),
        "test".to_owned(),
        None,
        postings,
    )
}

fn payment_request(amount: Money) -> PaymentRequest {
    let ids = ids();
    PaymentRequest {
        id: ids.payment(),
        txn_id: ids.txn(),
        customer_id: alice(),
        amount,
        method: PaymentMethod::Ach,
        reference: None,
        effective_date: day(2),
        description: None,
    }
}

fn customer() -> Customer {
    Customer {
        id: alice(),
        name: "Alice".to_owned(),
        email: None,
        currency: Currency::USD,
        payment_terms_days: 30,
        metadata: "{}".to_owned(),
        created_at: DateTime::from_timestamp(1_700_000_000, 0).expect("a time"),
        balances: Balances::default(),
    }
}

// ---- balanced transactions --------------------------------------------------------------

#[test]
fn a_balanced_transaction_is_accepted() {
    let done = txn(vec![
        posting(Account::Cash, Side::Debit, usd("53.13")),
        posting(Account::UnappliedPayments, Side::Credit, usd("50.00")),
        posting(Account::UnappliedPayments, Side::Credit, usd("3.13")),
    ])
    .unwrap();
    assert_eq!(done.postings().len(), 3);
    assert_eq!(done.kind(), TxnKind::PaymentReceived);
    assert_eq!(done.customer_id(), &alice());
    assert_eq!(done.description(), "test");
    assert_eq!(done.subject_id(), None);
}

#[test]
fn an_unbalanced_transaction_is_refused_with_its_sums() {
    let refused = txn(vec![
        posting(Account::Cash, Side::Debit, usd("100.00")),
        posting(Account::UnappliedPayments, Side::Credit, usd("99.99")),
    ]);
    let expected = UnbalancedEntry { currency: Currency::USD, debit: 10_000, credit: 9_999 };
    assert_eq!(refused, Err(expected.clone()));
    assert_eq!(
        expected.to_string(),
        "unbalanced journal transaction in USD: debits 10000 credits 9999"
    );
}

#[test]
fn debits_and_credits_balance_per_currency_not_in_total() {
    let refused = txn(vec![
        posting(Account::Cash, Side::Debit, usd("1.00")),
        posting(Account::UnappliedPayments, Side::Credit, Money::new(100, currency("EUR"))),
    ]);
    assert!(matches!(refused, Err(UnbalancedEntry { .. })), "{refused:?}");
}

#[test]
fn a_posting_of_zero_or_less_is_refused() {
    for minor in [0, -100] {
        let refused = txn(vec![
            posting(Account::Cash, Side::Debit, Money::new(minor, Currency::USD)),
            posting(Account::UnappliedPayments, Side::Credit, Money::new(minor, Currency::USD)),
        ]);
        assert!(matches!(refused, Err(UnbalancedEntry { .. })), "{minor}: {refused:?}");
    }
}

#[test]
fn sums_beyond_64_bits_are_checked_in_wide_integers() {
    let max = Money::new(i64::MAX, Currency::USD);
    let refused = txn(vec![
        posting(Account::Cash, Side::Debit, max),
        posting(Account::Cash, Side::Debit, max),
        posting(Account::UnappliedPayments, Side::Credit, max),
    ]);
    assert_eq!(
        refused,
        Err(UnbalancedEntry {
            currency: Currency::USD,
            debit: 2 * i128::from(i64::MAX),
            credit: i128::from(i64::MAX),
        })
    );
}

#[test]
fn push_signed_turns_signs_into_sides_and_skips_zero() {
    let mut postings = Vec::new();
    push_signed(&mut postings, Account::Receivable, usd("6.26"), |p| {
        p.payment_id = PaymentId::parse("pay_1");
    });
    push_signed(&mut postings, Account::Revenue, usd("-6.26"), |_| {});
    push_signed(&mut postings, Account::Cash, usd("0.00"), |_| {});
    assert_eq!(
        postings,
        [
            Posting {
                payment_id: PaymentId::parse("pay_1"),
                ..posting(Account::Receivable, Side::Debit, usd("6.26"))
            },
            posting(Account::Revenue, Side::Credit, usd("6.26")),
        ]
    );
    assert_eq!(postings[0].signed_debit(), 626);
    assert_eq!(postings[1].signed_debit(), -626);
}

// ---- effects ----------------------------------------------------------------------------

#[test]
fn posting_an_invoice_moves_the_customer_balance_by_minus_its_total() {
    let invoice = seed_003_invoice();
    let mut draft = invoice.clone();
    draft.status = crate::document::DocumentStatus::Draft;
    let posted = post_document(&mut draft, ids().txn(), day(1)).unwrap();
    let effects = posted.effects();
    assert_eq!(effects.customer.balance(), -5313);
    assert_eq!(effects.customer, BalanceDelta { receivable: 5313, ..BalanceDelta::default() });
    assert_eq!(effects.accounts[&(Account::Receivable, Currency::USD)], (10_626, 5_313));
    assert_eq!(effects.accounts[&(Account::Revenue, Currency::USD)], (5_000, 10_000));
    assert_eq!(effects.accounts[&(Account::TaxPayable, Currency::USD)], (313, 626));
    let item_deltas: Vec<i64> = invoice.items.iter().map(|i| effects.items[&i.id]).collect();
    assert_eq!(item_deltas, [10_000, 626, -5_000, -313]);
}

#[test]
fn a_payment_moves_the_customer_balance_by_plus_its_amount() {
    let (pay, txn) = record_payment(payment_request(usd("53.13"))).unwrap();
    let effects = txn.effects();
    assert_eq!(effects.customer.balance(), 5313);
    assert_eq!(
        effects.customer,
        BalanceDelta { unapplied_payments: 5313, ..BalanceDelta::default() }
    );
    assert_eq!(effects.payments_unapplied[&pay.id], 5313);
    assert_eq!(effects.accounts[&(Account::Cash, Currency::USD)], (5313, 0));
}

#[test]
fn an_application_and_its_reversal_leave_the_customer_balance_alone() {
    let invoice = seed_003_invoice();
    let pay = payment("53.13");
    let (application, applied) =
        apply_payment(&pay, &invoice, Spread::Amount(usd("53.13"), Rule::NetFirst)).unwrap();
    let effects = applied.effects();
    assert_eq!(effects.customer.balance(), 0);
    assert_eq!(
        effects.customer,
        BalanceDelta { receivable: -5313, unapplied_payments: -5313, ..BalanceDelta::default() }
    );
    assert_eq!(effects.payments_unapplied[&pay.id], -5313);
    let per_item: Vec<i64> = invoice
        .items
        .iter()
        .map(|i| effects.applications[&(application.id.clone(), i.id.clone())])
        .collect();
    assert_eq!(per_item, [10_000, 626, -5_000, -313], "credit-signed, as applied");
    let reversed = reverse(&application, None, ids().txn(), day(3)).unwrap();
    let undo = reversed.effects();
    assert_eq!(undo.customer.balance(), 0);
    assert_eq!(undo.customer.receivable, 5313);
    assert_eq!(undo.applications[&(application.id.clone(), invoice.items[0].id.clone())], -10_000);
}

// ---- payments ---------------------------------------------------------------------------

#[test]
fn a_payment_debits_cash_and_credits_unapplied_payments() {
    let (pay, txn) = record_payment(payment_request(usd("53.13"))).unwrap();
    assert_balanced(&txn);
    assert_eq!(journal(&txn, &[]), ["debit cash 53.13", "credit unapplied_payments 53.13"]);
    assert_eq!(txn.postings()[1].payment_id, Some(pay.id.clone()));
    assert_eq!(txn.description(), "Payment (ach)");
    assert_eq!(txn.subject_id(), Some(pay.id.as_str()));
    assert_eq!((pay.unapplied, pay.applied()), (usd("53.13"), usd("0.00")));
    assert_eq!(pay.status, PaymentStatus::Posted);
}

#[test]
fn a_negative_payment_pays_money_back() {
    let (pay, txn) = record_payment(payment_request(usd("-20.00"))).unwrap();
    assert_balanced(&txn);
    assert_eq!(journal(&txn, &[]), ["credit cash 20.00", "debit unapplied_payments 20.00"]);
    assert_eq!(pay.unapplied, usd("-20.00"));
    assert_eq!(txn.effects().customer.balance(), -2000);
}

#[test]
fn a_payment_of_zero_is_refused() {
    assert_eq!(
        record_payment(payment_request(usd("0.00"))).map(|(p, _)| p),
        Err(Rejection::refused(Input::Amount, Flaw::Zero))
    );
}

#[test]
fn a_payment_of_the_most_negative_amount_is_out_of_range() {
    let most_negative = Money::new(i64::MIN, Currency::USD);
    assert_eq!(
        record_payment(payment_request(most_negative)).map(|(p, _)| p),
        Err(Rejection::refused(Input::Amount, Flaw::OutOfRange))
    );
}

#[test]
fn a_payment_describes_itself_by_method_and_reference() {
    let mut request = payment_request(usd("1.00"));
    request.method = PaymentMethod::Check;
    request.reference = Some("1042".to_owned());
    assert_eq!(record_payment(request.clone()).unwrap().1.description(), "Payment (check, 1042)");
    request.description = Some("Deposit".to_owned());
    assert_eq!(record_payment(request).unwrap().1.description(), "Deposit");
}

// ---- customers --------------------------------------------------------------------------

#[test]
fn a_customer_history_line_is_written_only_when_the_balance_moves() {
    let mut alice = customer();
    let mut draft = seed_003_invoice();
    draft.status = crate::document::DocumentStatus::Draft;
    let posted = post_document(&mut draft, ids().txn(), day(1)).unwrap();
    let line =
        fold::customer(&mut alice, &posted, &posted.effects()).unwrap().expect("an invoice line");
    assert_eq!(line.amount, usd("-53.13"));
    assert_eq!(line.balance_after, usd("-53.13"));
    assert_eq!(line.kind, "invoice");
    assert_eq!(line.document_id, Some(draft.id.to_string()));

    let (pay, paid) = record_payment(payment_request(usd("60.00"))).unwrap();
    let line = fold::customer(&mut alice, &paid, &paid.effects()).unwrap().expect("a payment line");
    assert_eq!((line.amount, line.balance_after), (usd("60.00"), usd("6.87")));
    assert_eq!(line.kind, "payment");

    let (_, applied) =
        apply_payment(&pay, &draft, Spread::Amount(usd("53.13"), Rule::NetFirst)).unwrap();
    assert_eq!(fold::customer(&mut alice, &applied, &applied.effects()), Ok(None));
    assert_eq!(
        alice.balances,
        Balances {
            receivable: 0,
            unapplied_payments: 687,
            credit_memo_balance: 0,
            credit_balance: 0
        }
    );
    assert_eq!(alice.balances.available_credit(), 687);
    assert_eq!(alice.balance(), usd("6.87"));
}

// ---- names and codes --------------------------------------------------------------------

#[test]
fn accounts_sides_kinds_and_methods_read_back_their_names() {
    for account in Account::ALL {
        assert_eq!(Account::parse(account.name()), Some(account));
    }
    for side in [Side::Debit, Side::Credit] {
        assert_eq!(Side::parse(side.name()), Some(side));
    }
    for kind in TxnKind::ALL {
        assert_eq!(TxnKind::parse(kind.name()), Some(kind));
    }
    for method in PaymentMethod::ALL {
        assert_eq!(PaymentMethod::parse(method.name()), Some(method));
    }
    for status in [PaymentStatus::Posted, PaymentStatus::Voided] {
        assert_eq!(PaymentStatus::parse(status.name()), Some(status));
    }
    assert_eq!(Account::parse("suspense"), None);
    assert_eq!(Side::parse("left"), None);
    assert_eq!(TxnKind::parse("gift"), None);
    assert_eq!(PaymentMethod::parse("bitcoin"), None);
    assert_eq!(PaymentStatus::parse("pending"), None);
}

#[test]
fn ids_carry_their_prefix() {
    assert!(CustomerId::parse("cus_abc123").is_some());
    assert!(CustomerId::parse("cus_").is_none(), "a prefix alone is no id");
    assert!(CustomerId::parse("inv_abc").is_none(), "another kind's prefix");
    assert!(CustomerId::parse("cus_ab-c").is_none(), "letters and digits only");
    assert!(
        CustomerId::parse(&format!("cus_{}", "a".repeat(61))).is_none(),
        "64 characters at most"
    );
    assert!(CustomerId::parse(&format!("cus_{}", "a".repeat(60))).is_some());
    assert_eq!(ids().document(DocumentKind::CreditMemo).as_str().get(..3), Some("cm_"));
    assert_ne!(alice(), bob());
}

#[test]
fn every_rejection_has_a_stable_code() {
    let money = usd("1.00");
    let cases = [
        (Rejection::invalid("f", "m"), "validation_error"),
        (Rejection::NotFound { what: "invoice", id: "inv_1".to_owned() }, "not_found"),
        (
            Rejection::CurrencyMismatch { expected: "USD".to_owned(), got: "EUR".to_owned() },
            "currency_mismatch",
        ),
        (
            Rejection::CustomerMismatch {
                source_id: "pay_1".to_owned(),
                target_id: "inv_1".to_owned(),
            },
            "customer_mismatch",
        ),
        (Rejection::DocumentNotPosted { id: "inv_1".to_owned() }, "document_not_posted"),
        (Rejection::DocumentVoided { id: "inv_1".to_owned() }, "document_voided"),
        (
            Rejection::DocumentNotDraft { id: "inv_1".to_owned(), status: "posted" },
            "document_not_draft",
        ),
        (
            Rejection::OverApplication { id: "inv_1".to_owned(), balance: money, attempted: money },
            "over_application",
        ),
        (
            Rejection::InsufficientUnapplied {
                source_id: "pay_1".to_owned(),
                available: money,
                attempted: money,
            },
            "insufficient_unapplied",
        ),
        (
            Rejection::OverReversal { id: "app_1".to_owned(), remaining: money, attempted: money },
            "over_reversal",
        ),
        (Rejection::out_of_range("amount"), "amount_out_of_range"),
        (Rejection::refused(Input::Amount, Flaw::Zero), "validation_error"),
        (Rejection::refused(Input::Amount, Flaw::OutOfRange), "amount_out_of_range"),
        (Rejection::total_out_of_range("the customer's balance"), "amount_out_of_range"),
        (
            Rejection::NegativePaymentUnapplied {
                id: "pay_1".to_owned(),
                unapplied: money,
                hint: "",
            },
            "negative_payment_unapplied",
        ),
    ];
    for (rejection, code) in cases {
        assert_eq!(rejection.code(), code, "{rejection}");
    }
    assert_eq!(
        Rejection::OverApplication {
            id: "item_1".to_owned(),
            balance: usd("6.26"),
            attempted: usd("6.27"),
        }
        .to_string(),
        "item_1: balance 6.26 cannot take 6.27 without passing zero"
    );
}

#[test]
fn money_errors_become_rejections_of_their_kind() {
    assert_eq!(Rejection::money("amount", MoneyError::Overflow), Rejection::out_of_range("amount"));
    assert_eq!(
        Rejection::money(
            "amount",
            MoneyError::CurrencyMismatch { left: Currency::USD, right: currency("EUR") }
        ),
        Rejection::CurrencyMismatch { expected: "USD".to_owned(), got: "EUR".to_owned() }
    );
    assert_eq!(
        Rejection::money("items[0].amount", MoneyError::NotDecimal),
        Rejection::invalid("items[0].amount", "not a decimal amount")
    );
    assert_eq!(
        Rejection::money("amount", MoneyError::TooPrecise { currency: Currency::USD, exponent: 2 }),
        Rejection::invalid("amount", "USD amounts have at most 2 decimal places")
    );
}

// ---- properties -------------------------------------------------------------------------

fn any_posting() -> impl Strategy<Value = Posting> {
    (
        prop::sample::select(Account::ALL.to_vec()),
        prop::sample::select(vec![Side::Debit, Side::Credit]),
        prop_oneof![1_i64..=1_000, 1_i64..=1_000_000_000_000],
        prop::sample::select(vec!["USD", "EUR", "JPY"]),
    )
        .prop_map(|(account, side, minor, code)| {
            posting(account, side, Money::new(minor, currency(code)))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn a_transaction_is_accepted_exactly_when_it_balances_per_currency(
        postings in prop::collection::vec(any_posting(), 0..8),
        mirror in any::<bool>(),
    ) {
        // Half the time, add the mirror image of every posting so that the result balances.
        let mut postings = postings;
        if mirror {
            let mirrored: Vec<Posting> = postings
                .iter()
                .map(|p| Posting {
                    side: if p.side == Side::Debit { Side::Credit } else { Side::Debit },
                    ..p.clone()
                })
                .collect();
            postings.extend(mirrored);
        }
        let mut sums = std::collections::BTreeMap::<Currency, i128>::new();
        for p in &postings {
            *sums.entry(p.amount.currency()).or_default() +=
                i128::from(p.signed_debit());
        }
        let balanced = sums.values().all(|s| *s == 0);
        let result = txn(postings);
        prop_assert_eq!(result.is_ok(), balanced, "{:?}", result);
        if let Ok(done) = result {
            assert_balanced(&done);
        }
    }

    #[test]
    fn a_payment_moves_the_customer_balance_by_its_amount(minor in prop_oneof![-1_000_000_000_i64..=1_000_000_000, -crate::money::MAX_MINOR..=crate::money::MAX_MINOR]) {
        prop_assume!(minor != 0);
        let (pay, txn) = record_payment(payment_request(Money::new(minor, Currency::USD))).expect("a payment");
        assert_balanced(&txn);
        prop_assert_eq!(txn.effects().customer.balance(), minor);
        prop_assert_eq!(pay.unapplied.minor(), minor);
    }
}
