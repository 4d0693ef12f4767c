//! `settle import` on the example files of docs/: what it prints, a rerun that creates
//! nothing, a bad file that writes nothing and names the line and column, `--skip-bad-rows`,
//! `--dry-run`, and a clean `settle verify` after it all.

use std::path::{Path, PathBuf};

use super::{create_store, settle};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples").join(name)
}

/// Runs `settle import ARGS --database URL`: (success, stdout).
fn import(url: &str, args: &[&str]) -> (bool, String) {
    let out = settle().arg("import").args(args).args(["--database", url]).output().expect("run");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn import_the_examples_then_again_then_a_bad_file_and_verify_stays_clean() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    create_store(&db);
    let url = format!("sqlite:{}", db.display());
    let (customers, invoices) = (example("customers.csv"), example("invoices.csv"));

    let dry = import(&url, &["customers", path(&customers), "--dry-run"]);
    assert_eq!(
        dry,
        (
            true,
            "dry run: 3 lines; 0 bad, 0 already imported; would create 3 customers\n".to_owned()
        )
    );
    let done = import(&url, &["customers", path(&customers)]);
    assert_eq!(
        done,
        (true, "3 lines; 0 bad, 0 already imported; created 3 customers\n".to_owned())
    );
    let done = import(&url, &["invoices", path(&invoices)]);
    assert_eq!(
        done,
        (
            true,
            "4 lines; 0 bad, 0 already imported; created 3 invoices and 1 payments\n".to_owned()
        )
    );
    let again = import(&url, &["invoices", path(&invoices)]);
    assert_eq!(
        again,
        (
            true,
            "4 lines; 0 bad, 3 already imported; created 0 invoices and 0 payments\n".to_owned()
        )
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "external_id,customer_external_id,invoice_date,description,amount\n\
         X-1,CUST-001,2026-01-01,Fine,1.00\n\
         X-2,CUST-001,2026-01-01,Broken,1.0.0\n",
    )
    .expect("write");
    let refused = import(&url, &["invoices", path(&bad)]);
    assert_eq!(
        refused,
        (
            false,
            "line 3, amount: a decimal amount such as 150.00\n\
             2 lines; 1 bad, 0 already imported; nothing written (fix the bad rows or pass \
             --skip-bad-rows to write the others)\n"
                .to_owned()
        )
    );
    let skipped = import(&url, &["invoices", path(&bad), "--skip-bad-rows"]);
    assert_eq!(
        skipped,
        (
            true,
            "line 3, amount: a decimal amount such as 150.00\n\
             2 lines; 1 bad, 0 already imported; created 1 invoices and 0 payments\n"
                .to_owned()
        )
    );

    let verify = settle().args(["verify", "--database", &url]).output().expect("verify");
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{said}");
    // Four invoices posted, one payment recorded and one application: six transactions.
    assert!(said.starts_with("1 tenants, 6 transactions,"), "{said}");
}
