//! The suite checks itself: every method of the port has a test here, and both adapters run
//! every test.

use std::path::Path;

/// The crate folder of `name`.
fn crate_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of the methods of `trait_name` in the port's source.
fn trait_methods(source: &str, trait_name: &str) -> Vec<String> {
    let start = source
        .find(&format!("pub trait {trait_name}:"))
        .or_else(|| source.find(&format!("pub trait {trait_name} {{")))
        .unwrap_or_else(|| panic!("trait {trait_name} not found"));
    let body = &source[start..];
    let end = body.find("\n}").expect("the trait's end");
    body[..end]
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("fn "))
        .map(|rest| rest.split(['(', '<']).next().expect("a name").to_owned())
        .collect()
}

/// The suite's test functions (`pub fn` taking a store) with their text.
fn suite_functions() -> Vec<(String, String)> {
    let src = crate_dir("settle-conformance").join("src");
    let mut functions = Vec::new();
    for file in [
        "lib.rs",
        "answers.rs",
        "keys.rs",
        "records.rs",
        "lists.rs",
        "writes.rs",
        "ledger.rs",
        "locks.rs",
        "staff.rs",
        "billing.rs",
        "numbers.rs",
        "search.rs",
    ] {
        let text = read(&src.join(file));
        for chunk in text.split("\npub fn ").skip(1) {
            let name = chunk.split('(').next().expect("a name").to_owned();
            let signature = chunk.split('{').next().expect("a signature");
            if signature.contains("Store") {
                functions.push((name, chunk.to_owned()));
            }
        }
    }
    functions
}

#[test]
fn every_port_method_has_a_conformance_test() {
    let port = read(&crate_dir("settle-store").join("src").join("lib.rs"));
    let billing = read(&crate_dir("settle-store").join("src").join("billing.rs"));
    let mut methods = trait_methods(&port, "Store");
    methods.extend(trait_methods(&port, "StoreTx"));
    methods.extend(trait_methods(&billing, "BillingTx"));
    assert!(methods.len() > 40, "the port's methods were not found: {methods:?}");
    let functions = suite_functions();
    let untested: Vec<&String> = methods
        .iter()
        .filter(|m| !functions.iter().any(|(_, body)| body.contains(&format!(".{m}("))))
        .collect();
    assert!(untested.is_empty(), "port methods without a conformance test: {untested:?}");
}

#[test]
fn both_adapters_run_every_conformance_test() {
    let functions = suite_functions();
    assert!(functions.len() > 10, "the suite's tests were not found");
    for adapter in ["settle-store-sqlite", "settle-store-postgres"] {
        let tests = read(&crate_dir(adapter).join("tests").join("it").join("main.rs"));
        let missing: Vec<&String> = functions
            .iter()
            .map(|(name, _)| name)
            .filter(|name| !tests.contains(&format!("conformance::{name}(")))
            .collect();
        assert!(missing.is_empty(), "{adapter} does not run {missing:?}");
    }
}
