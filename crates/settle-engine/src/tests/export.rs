//! The journal export: exact Beancount and CSV text for a small journal on a pinned clock with
//! counting ids, and the mapping of names into Beancount's syntax.

use chrono::NaiveDate;
use settle_core::document::DocumentKind;
use settle_core::ids::CustomerId;
use settle_core::ledger::Account;
use settle_core::payment::PaymentMethod;

use super::World;
use crate::commands::export::{beancount_account, beancount_string, customer_component};
use crate::{
    ApplicationTarget, EntryKind, ExportFormat, NewDocument, NewEntry, NewItem, NewPayment, NewTax,
};

/// A charge entry with a quoted, comma'd description; an invoice with tax, partly paid by an
/// applied payment dated the day before; the rest written off.
fn small_journal() -> World {
    let world = World::new();
    let engine = &world.engine;
    engine
        .add_entry(
            &world.tenant,
            &world.customer,
            NewEntry {
                kind: EntryKind::Charge,
                amount: amount("10.00"),
                description: r#"Rush fee "A\B", late"#.into(),
                payment_method: None,
                notes: None,
                effective_date: None,
            },
        )
        .expect("entry");
    let invoice = engine
        .create_document(
            &world.tenant,
            NewDocument {
                kind: DocumentKind::Invoice,
                customer_id: world.customer.clone(),
                items: vec![NewItem {
                    description: "Consulting".into(),
                    amount: Some(amount("100.00")),
                    taxes: vec![NewTax {
                        name: "Sales tax".into(),
                        rate: Some("8.25".parse().expect("rate")),
                        amount: None,
                    }],
                    ..NewItem::default()
                }],
                invoice_date: None,
                due_date: None,
                adjusts_invoice_id: None,
                reason: None,
                post: true,
            },
        )
        .expect("invoice");
    engine
        .record_payment(
            &world.tenant,
            NewPayment {
                customer_id: world.customer.clone(),
                amount: amount("50.00"),
                method: PaymentMethod::Check,
                reference: None,
                effective_date: NaiveDate::from_ymd_opt(2026, 2, 28),
                applications: vec![ApplicationTarget {
                    target_id: invoice.id.clone(),
                    amount: Some(amount("50.00")),
                    items: None,
                    rule: None,
                }],
                description: None,
            },
        )
        .expect("payment");
    engine.write_off(&world.tenant, &invoice.id, None, None).expect("write-off");
    world
}

fn export(world: &World, format: ExportFormat) -> (usize, String) {
    let mut out = Vec::new();
    let count = world.engine.export_journal(&world.tenant, format, &mut out).expect("export");
    (count, String::from_utf8(out).expect("utf-8"))
}

#[test]
fn the_beancount_export_of_a_small_journal_is_exactly_this_text() {
    let world = small_journal();
    let (count, text) = export(&world, ExportFormat::Beancount);
    assert_eq!(count, 6);
    let expected = r##"; Settle journal export: 6 transactions

option "operating_currency" "USD"

2026-02-28 open Assets:Cash USD
2026-02-28 open Assets:Receivable:Cus-00000005 USD
2026-02-28 open Expenses:BadDebt USD
2026-02-28 open Income:Revenue USD
2026-02-28 open Liabilities:CreditMemos:Cus-00000005 USD
2026-02-28 open Liabilities:TaxPayable USD
2026-02-28 open Liabilities:UnappliedPayments:Cus-00000005 USD

2026-03-01 * "invoice" "Rush fee \"A\\B\", late"
  settle_txn: "txn_00000008"
  settle_customer: "cus_00000005"
  Assets:Receivable:Cus-00000005  10.00 USD
    document_id: "inv_00000006"
    item_id: "item_00000007"
  Income:Revenue  -10.00 USD
    document_id: "inv_00000006"

2026-03-01 * "invoice" "INV-000002"
  settle_txn: "txn_00000012"
  settle_customer: "cus_00000005"
  Assets:Receivable:Cus-00000005  100.00 USD
    document_id: "inv_00000009"
    item_id: "item_00000010"
  Income:Revenue  -100.00 USD
    document_id: "inv_00000009"
  Assets:Receivable:Cus-00000005  8.25 USD
    document_id: "inv_00000009"
    item_id: "item_00000011"
  Liabilities:TaxPayable  -8.25 USD
    document_id: "inv_00000009"

2026-02-28 * "payment" "Payment (check)"
  settle_txn: "txn_00000014"
  settle_customer: "cus_00000005"
  Assets:Cash  50.00 USD
  Liabilities:UnappliedPayments:Cus-00000005  -50.00 USD
    payment_id: "pay_00000013"

2026-02-28 * "application" "Applied payment pay_00000013 to inv_00000009"
  settle_txn: "txn_00000016"
  settle_customer: "cus_00000005"
  Assets:Receivable:Cus-00000005  -50.00 USD
    document_id: "inv_00000009"
    item_id: "item_00000010"
    application_id: "app_00000015"
  Liabilities:UnappliedPayments:Cus-00000005  50.00 USD
    payment_id: "pay_00000013"
    application_id: "app_00000015"

2026-03-01 * "write_off" "Write-off of INV-000002"
  settle_txn: "txn_00000019"
  settle_customer: "cus_00000005"
  Liabilities:CreditMemos:Cus-00000005  -58.25 USD
    document_id: "cm_00000017"
    item_id: "item_00000018"
  Expenses:BadDebt  58.25 USD
    document_id: "cm_00000017"

2026-03-01 * "application" "Applied credit_memo cm_00000017 to inv_00000009"
  settle_txn: "txn_00000021"
  settle_customer: "cus_00000005"
  Assets:Receivable:Cus-00000005  -50.00 USD
    document_id: "inv_00000009"
    item_id: "item_00000010"
    application_id: "app_00000020"
  Liabilities:CreditMemos:Cus-00000005  50.00 USD
    document_id: "cm_00000017"
    item_id: "item_00000018"
    application_id: "app_00000020"
  Assets:Receivable:Cus-00000005  -8.25 USD
    document_id: "inv_00000009"
    item_id: "item_00000011"
    application_id: "app_00000020"
  Liabilities:CreditMemos:Cus-00000005  8.25 USD
    document_id: "cm_00000017"
    item_id: "item_00000018"
    application_id: "app_00000020"
"##;
    assert_eq!(text, expected, "got:\n{text}");
}

#[test]
fn the_csv_export_of_a_small_journal_is_exactly_this_text() {
    let world = small_journal();
    let (count, text) = export(&world, ExportFormat::Csv);
    assert_eq!(count, 6);
    let rows = [
        r#"txn_id,seq,effective_date,customer_id,kind,description,account,side,amount,currency,document_id,item_id,payment_id,application_id"#,
        r#"txn_00000008,1,2026-03-01,cus_00000005,invoice,"Rush fee ""A\B"", late",receivable,debit,10.00,USD,inv_00000006,item_00000007,,"#,
        r#"txn_00000008,1,2026-03-01,cus_00000005,invoice,"Rush fee ""A\B"", late",revenue,credit,10.00,USD,inv_00000006,,,"#,
        r#"txn_00000012,2,2026-03-01,cus_00000005,invoice,INV-000002,receivable,debit,100.00,USD,inv_00000009,item_00000010,,"#,
        r#"txn_00000012,2,2026-03-01,cus_00000005,invoice,INV-000002,revenue,credit,100.00,USD,inv_00000009,,,"#,
        r#"txn_00000012,2,2026-03-01,cus_00000005,invoice,INV-000002,receivable,debit,8.25,USD,inv_00000009,item_00000011,,"#,
        r#"txn_00000012,2,2026-03-01,cus_00000005,invoice,INV-000002,tax_payable,credit,8.25,USD,inv_00000009,,,"#,
        r#"txn_00000014,3,2026-02-28,cus_00000005,payment,Payment (check),cash,debit,50.00,USD,,,,"#,
        r#"txn_00000014,3,2026-02-28,cus_00000005,payment,Payment (check),unapplied_payments,credit,50.00,USD,,,pay_00000013,"#,
        r#"txn_00000016,4,2026-02-28,cus_00000005,application,Applied payment pay_00000013 to inv_00000009,receivable,credit,50.00,USD,inv_00000009,item_00000010,,app_00000015"#,
        r#"txn_00000016,4,2026-02-28,cus_00000005,application,Applied payment pay_00000013 to inv_00000009,unapplied_payments,debit,50.00,USD,,,pay_00000013,app_00000015"#,
        r#"txn_00000019,5,2026-03-01,cus_00000005,write_off,Write-off of INV-000002,credit_memos,credit,58.25,USD,cm_00000017,item_00000018,,"#,
        r#"txn_00000019,5,2026-03-01,cus_00000005,write_off,Write-off of INV-000002,bad_debt,debit,58.25,USD,cm_00000017,,,"#,
        r#"txn_00000021,6,2026-03-01,cus_00000005,application,Applied credit_memo cm_00000017 to inv_00000009,receivable,credit,50.00,USD,inv_00000009,item_00000010,,app_00000020"#,
        r#"txn_00000021,6,2026-03-01,cus_00000005,application,Applied credit_memo cm_00000017 to inv_00000009,credit_memos,debit,50.00,USD,cm_00000017,item_00000018,,app_00000020"#,
        r#"txn_00000021,6,2026-03-01,cus_00000005,application,Applied credit_memo cm_00000017 to inv_00000009,receivable,credit,8.25,USD,inv_00000009,item_00000011,,app_00000020"#,
        r#"txn_00000021,6,2026-03-01,cus_00000005,application,Applied credit_memo cm_00000017 to inv_00000009,credit_memos,debit,8.25,USD,cm_00000017,item_00000018,,app_00000020"#,
    ];
    let expected: String = rows.iter().map(|row| format!("{row}\r\n")).collect();
    assert_eq!(text, expected, "got:\n{text}");
}

#[test]
fn an_empty_journal_exports_a_comment_and_a_csv_header_only() {
    let world = World::new();
    assert_eq!(
        export(&world, ExportFormat::Beancount),
        (0, "; Settle journal export: 0 transactions\n".to_owned())
    );
    let header = format!("{}\r\n", crate::CSV_HEADER.join(","));
    assert_eq!(export(&world, ExportFormat::Csv), (0, header));
}

#[test]
fn customer_ids_map_one_to_one_to_beancount_account_components() {
    let id = |text: &str| CustomerId::parse(text).expect("customer id");
    assert_eq!(customer_component(&id("cus_aB3xYz09")), "Cus-aB3xYz09");
    assert_ne!(customer_component(&id("cus_ab")), customer_component(&id("cus_aB")));
    assert_eq!(
        beancount_account(Account::CreditBalance, &id("cus_00000001")),
        "Liabilities:CreditBalance:Cus-00000001"
    );
    assert_eq!(
        beancount_account(Account::RevenueAdjustments, &id("cus_1")),
        "Income:RevenueAdjustments"
    );
    for account in Account::ALL {
        let name = beancount_account(account, &id("cus_Q1"));
        for component in name.split(':') {
            let first = component.chars().next().expect("non-empty component");
            assert!(first.is_ascii_uppercase() || first.is_ascii_digit(), "{name}");
            assert!(component.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{name}");
        }
    }
}

#[test]
fn beancount_strings_escape_quotes_and_backslashes_and_drop_line_breaks() {
    assert_eq!(beancount_string(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
    assert_eq!(beancount_string("two\nlines\ttab"), r#""two lines tab""#);
    assert_eq!(beancount_string("café ✓"), r#""café ✓""#);
}

#[test]
fn export_formats_read_back_their_names_and_nothing_else() {
    for format in [ExportFormat::Beancount, ExportFormat::Csv] {
        assert_eq!(ExportFormat::parse(format.name()), Some(format));
    }
    assert_eq!(ExportFormat::parse("ledger"), None);
    assert_eq!(ExportFormat::parse("CSV"), None);
}

fn amount(text: &str) -> crate::Amount {
    crate::Amount::parse(text).expect("a decimal amount")
}
