//! Importing customers and open invoices: exact balances after a small import, nothing twice
//! on a rerun, nothing written from a file with a bad row unless asked, dry runs, and a clean
//! `verify` after each.

use settle_core::customer::Customer;
use settle_store::{CustomerQuery, DocumentQuery, PageRequest};

use super::World;
use crate::{ImportKind, ImportOptions, ImportProgress, ImportReport, RowError};

const CUSTOMERS: &str = "\
external_id,name,email,currency,payment_terms_days
C-1,Acme Corp,billing@acme.example,USD,30
C-2,Globex,ap@globex.example,,14
";

/// A 100.00 line taxed 8.25% and a 50.00 line, 58.25 paid; a 20.00 invoice named by email.
const INVOICES: &str = "\
external_id,customer_external_id,customer_email,number,invoice_date,due_date,description,amount,tax_name,tax_rate,tax_amount,amount_paid,paid_on
A-1,C-1,,2024-0042,2026-01-15,2026-02-14,Consulting,100.00,Sales tax,8.25,,58.25,2026-02-01
A-1,,,,,,Travel,50.00,,,,,
A-2,,AP@globex.example,2024-0043,2026-02-01,,Support,20.00,,,,,
";

fn import(world: &World, kind: ImportKind, file: &str, options: ImportOptions) -> ImportReport {
    world.engine.import(&world.tenant, kind, file.as_bytes(), options, &mut |_| {}).expect("import")
}

fn customer(world: &World, name: &str) -> Customer {
    let page = PageRequest { limit: 100, cursor: None };
    let customers =
        world.engine.customers(&world.tenant, &CustomerQuery::default(), &page).expect("list");
    customers.rows.into_iter().find(|c| c.name == name).expect("the customer")
}

fn document_count(world: &World) -> usize {
    let page = PageRequest { limit: 100, cursor: None };
    world
        .engine
        .documents(&world.tenant, &DocumentQuery::default(), &page)
        .expect("list")
        .rows
        .len()
}

fn err(line: u64, column: &str, reason: &str) -> RowError {
    RowError { line, column: column.to_owned(), reason: reason.to_owned() }
}

fn assert_verify_clean(world: &World) {
    let report = world.engine.verify().expect("verify");
    assert!(report.is_clean(), "{:?}", report.differences);
}

#[test]
fn imported_customers_and_invoices_have_exact_balances() {
    let world = World::new();
    let report = import(&world, ImportKind::Customers, CUSTOMERS, ImportOptions::default());
    assert_eq!(
        report,
        ImportReport { rows: 2, customers_created: 2, written: true, ..ImportReport::default() }
    );
    let mut progress = Vec::new();
    let report = world
        .engine
        .import(
            &world.tenant,
            ImportKind::Invoices,
            INVOICES.as_bytes(),
            ImportOptions::default(),
            &mut |p| progress.push(p),
        )
        .expect("import");
    assert_eq!(
        report,
        ImportReport {
            rows: 3,
            invoices_created: 2,
            payments_created: 1,
            written: true,
            ..ImportReport::default()
        }
    );
    assert_eq!(progress, [ImportProgress { done: 2, total: 2 }]);
    let acme = customer(&world, "Acme Corp");
    // 100.00 + 8.25 tax + 50.00, less 58.25 paid.
    assert_eq!(acme.balances.receivable, 10_000);
    assert_eq!(acme.balances.unapplied_payments, 0);
    assert_eq!(acme.email.as_deref(), Some("billing@acme.example"));
    let globex = customer(&world, "Globex");
    assert_eq!(globex.balances.receivable, 2_000);
    assert_eq!(globex.payment_terms_days, 14);
    assert_verify_clean(&world);
}

#[test]
fn importing_the_same_files_again_creates_nothing() {
    let world = World::new();
    import(&world, ImportKind::Customers, CUSTOMERS, ImportOptions::default());
    import(&world, ImportKind::Invoices, INVOICES, ImportOptions::default());
    let documents = document_count(&world);

    let again = import(&world, ImportKind::Customers, CUSTOMERS, ImportOptions::default());
    assert_eq!(
        again,
        ImportReport { rows: 2, already_imported: 2, written: true, ..ImportReport::default() }
    );
    let again = import(&world, ImportKind::Invoices, INVOICES, ImportOptions::default());
    assert_eq!(again, ImportReport { rows: 3, already_imported: 2, ..ImportReport::default() });
    assert_eq!(document_count(&world), documents);
    assert_eq!(customer(&world, "Acme Corp").balances.receivable, 10_000);
    assert_verify_clean(&world);
}

const BAD_INVOICES: &str = "\
external_id,customer_external_id,invoice_date,description,amount,tax_name,tax_rate,amount_paid
B-1,C-1,2026-01-15,Consulting,100.00,,,
B-2,C-1,2026-13-01,Hosting,12.5x,VAT,,
B-3,C-9,2026-01-20,Support,30.00,,,
B-4,C-2,2026-01-20,Licence,40.00,,,45.00
B-5,C-2,2026-01-21,Training,25.00,,,
";

#[test]
fn a_file_with_bad_rows_writes_nothing_and_names_each_line_and_column() {
    let world = World::new();
    import(&world, ImportKind::Customers, CUSTOMERS, ImportOptions::default());
    let report = import(&world, ImportKind::Invoices, BAD_INVOICES, ImportOptions::default());
    assert_eq!(
        report.errors,
        [
            err(3, "amount", "a decimal amount such as 150.00"),
            err(3, "invoice_date", "a date written YYYY-MM-DD"),
            err(3, "tax_rate", "give tax_rate or tax_amount with tax_name"),
            err(4, "customer_external_id", "no customer was imported with this external id"),
            err(5, "amount_paid", "more than the invoice's total, 40.00"),
        ]
    );
    assert_eq!((report.rows, report.bad_records, report.written), (5, 3, false));
    assert_eq!((report.invoices_created, report.payments_created), (0, 0));
    assert_eq!(document_count(&world), 0);
    assert_eq!(customer(&world, "Acme Corp").balances.receivable, 0);
}

#[test]
fn skip_bad_rows_writes_the_good_rows_and_reports_the_bad() {
    let world = World::new();
    import(&world, ImportKind::Customers, CUSTOMERS, ImportOptions::default());
    let options = ImportOptions { skip_bad_rows: true, ..ImportOptions::default() };
    let report = import(&world, ImportKind::Invoices, BAD_INVOICES, options);
    assert_eq!(report.errors.len(), 5);
    assert_eq!((report.invoices_created, report.bad_records, report.written), (2, 3, true));
    assert_eq!(customer(&world, "Acme Corp").balances.receivable, 10_000);
    assert_eq!(customer(&world, "Globex").balances.receivable, 2_500);
    assert_verify_clean(&world);
}

#[test]
fn a_dry_run_counts_what_would_be_created_and_writes_nothing() {
    let world = World::new();
    let dry = ImportOptions { dry_run: true, ..ImportOptions::default() };
    let report = import(&world, ImportKind::Customers, CUSTOMERS, dry);
    assert_eq!(report, ImportReport { rows: 2, customers_created: 2, ..ImportReport::default() });
    let page = PageRequest { limit: 100, cursor: None };
    let listed = world.engine.customers(&world.tenant, &CustomerQuery::default(), &page);
    // The world's own customer only.
    assert_eq!(listed.expect("list").rows.len(), 1);

    import(&world, ImportKind::Customers, CUSTOMERS, ImportOptions::default());
    let report = import(&world, ImportKind::Invoices, INVOICES, dry);
    assert_eq!(
        report,
        ImportReport {
            rows: 3,
            invoices_created: 2,
            payments_created: 1,
            ..ImportReport::default()
        }
    );
    assert_eq!(document_count(&world), 0);
}

#[test]
fn a_header_without_a_required_column_or_with_an_unknown_one_is_refused() {
    let world = World::new();
    let file = "external_id,nmae\nC-1,Acme\n";
    let report = import(&world, ImportKind::Customers, file, ImportOptions::default());
    assert_eq!(report.errors, [err(1, "name", "missing column"), err(1, "nmae", "unknown column")]);
    let file = "external_id,name\nC-1,Acme\nC-1,Acme again\nC-3\n";
    let report = import(&world, ImportKind::Customers, file, ImportOptions::default());
    assert_eq!(
        report.errors,
        [
            err(3, "external_id", "already given on line 2"),
            err(4, "", "1 fields where the header has 2")
        ]
    );
}

#[test]
fn an_invoice_whose_lines_are_apart_or_disagree_is_refused() {
    let world = World::new();
    import(&world, ImportKind::Customers, CUSTOMERS, ImportOptions::default());
    let file = "\
external_id,customer_external_id,invoice_date,description,amount
D-1,C-1,2026-01-15,One,1.00
D-1,C-2,2026-01-15,Two,2.00
D-2,C-1,2026-01-15,Three,3.00
D-1,C-1,2026-01-15,Four,4.00
";
    let report = import(&world, ImportKind::Invoices, file, ImportOptions::default());
    assert_eq!(
        report.errors,
        [
            err(3, "customer_external_id", "differs from line 2"),
            err(5, "external_id", "lines of one invoice follow one another; first given on line 2"),
        ]
    );
}

/// An import under a key revoked after this process found it live writes nothing: its batches
/// confirm the key before they commit.
#[test]
fn an_import_under_a_revoked_key_writes_nothing() {
    let world = World::new();
    let page = PageRequest { limit: 100, cursor: None };
    let list = || world.engine.customers(&world.tenant, &CustomerQuery::default(), &page);
    let before = list().expect("list").rows;
    let made = world.engine.create_api_key(&world.tenant, settle_store::Role::Clerk, None);
    let made = made.expect("key");
    assert!(world.engine.authenticate(&made.key).expect("authenticate").is_some());
    world.engine.revoke_api_key(&world.tenant, &made.id).expect("revoke");
    let check = world.engine.recall_key(&made.key).expect("still remembered");
    let refused = world.engine.confirming(check).import(
        &world.tenant,
        ImportKind::Customers,
        CUSTOMERS.as_bytes(),
        ImportOptions::default(),
        &mut |_| {},
    );
    assert!(
        matches!(refused, Err(crate::EngineError::Store(settle_store::StoreError::KeyRefused))),
        "{refused:?}"
    );
    assert_eq!(list().expect("list").rows, before);
}
