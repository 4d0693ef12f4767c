//! Each checker fails on a small fixture that breaks its rule and passes the same fixture mended;
//! then every rule runs over the workspace.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

fn package(name: &str, dependencies: &[&str]) -> Package {
    Package {
        name: name.to_owned(),
        dependencies: dependencies.iter().map(|d| (*d).to_owned()).collect(),
    }
}

fn rules(found: &[Violation]) -> Vec<Rule> {
    found.iter().map(|v| v.rule).collect()
}

// ---- crate edges ------------------------------------------------------------------------

#[test]
fn settle_core_depending_on_a_workspace_crate_or_an_impure_crate_fails() {
    let workspace = |core_deps: &[&str]| {
        vec![
            package("settle-core", core_deps),
            package("settle-store", &["settle-core", "chrono"]),
            package("settle-api", &["settle-core", "serde", "axum"]),
        ]
    };
    assert_eq!(check_dependencies(&workspace(&["chrono", "thiserror", "rust_decimal"])), vec![]);
    for dep in ["settle-store", "tokio", "rusqlite", "postgres", "sqlx"] {
        assert_eq!(rules(&check_dependencies(&workspace(&[dep]))), [Rule::CorePure], "{dep}");
    }
    assert_eq!(
        rules(&check_dependencies(&workspace(&["serde_json"]))),
        [Rule::CorePure, Rule::NoSerdeOrHttpInside]
    );
}

#[test]
fn serde_or_axum_in_the_engine_or_the_store_port_fails() {
    for inner in ["settle-engine", "settle-store"] {
        for dep in ["serde", "serde_json", "axum"] {
            let found = check_dependencies(&[package(inner, &["settle-core", dep])]);
            assert_eq!(rules(&found), [Rule::NoSerdeOrHttpInside], "{inner} on {dep}");
            assert_eq!(found[0].message, format!("{inner} depends on {dep}"));
        }
    }
    assert_eq!(check_dependencies(&[package("settle-api", &["serde", "axum"])]), vec![]);
}

#[test]
fn packages_are_read_from_cargo_metadata_without_dev_dependencies() {
    let metadata = serde_json::json!({
        "packages": [{
            "name": "settle-engine",
            "dependencies": [
                { "name": "settle-core", "kind": null },
                { "name": "cc", "kind": "build" },
                { "name": "serde_json", "kind": "dev" },
            ],
        }],
    });
    assert_eq!(packages(&metadata), Ok(vec![package("settle-engine", &["settle-core", "cc"])]));
    assert!(packages(&serde_json::json!({})).is_err());
}

// ---- SQL --------------------------------------------------------------------------------

#[test]
fn sql_in_a_string_literal_outside_the_store_crates_fails() {
    let source = r##"
//! A bench.
// select id from comment is not a literal
fn setup(admin: &mut Client, name: &str) {
    admin.batch_execute(&format!("drop database if exists {name}")).ok();
    let q = r#"SELECT v
               FROM raw_row"#;
    let message = "select a customer from the list"; // English, still reads as SQL
    let note = "update the customer";
    let fine = "settle the invoice";
}
"##;
    let found = check_sql("crates/settle-cli/src/bench.rs", &lex(source));
    assert_eq!(found.iter().map(|v| v.line).collect::<Vec<_>>(), [5, 6, 8]);
    assert!(found.iter().all(|v| v.rule == Rule::SqlInStores));
    assert_eq!(check_sql("crates/settle-store-sqlite/src/tx.rs", &lex(source)), vec![]);
}

#[test]
fn every_kind_of_statement_reads_as_sql_and_prose_does_not() {
    for sql in [
        "insert into customer (id) values (?1)",
        "DELETE FROM idempotency WHERE created_at < $1",
        "update customer set name = ?1",
        "create table if not exists raw_row (id integer)",
        "create index x on y (z)",
        "alter table posting add column seq",
        "drop table raw_row",
        "select count(*) from posting",
    ] {
        assert!(looks_like_sql(sql), "{sql}");
    }
    for prose in ["update the settings", "insert a line", "selected from", "from select", ""] {
        assert!(!looks_like_sql(prose), "{prose}");
    }
}

#[test]
fn the_lexer_keeps_literals_apart_from_code_comments_and_chars() {
    let lexed = lex(
        "let a = '\"'; let b: &'static str = \"x{\\\"y\"; /* \"no\" /* nested */ */ let c = br#\"r\"#;\n",
    );
    let texts: Vec<&str> = lexed.literals.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, ["x{\\\"y", "r"]);
    assert!(!lexed.code.contains('{'), "{}", lexed.code);
    assert!(lexed.code.contains("&'static str"), "{}", lexed.code);
}

// ---- function length --------------------------------------------------------------------

/// A function named `name` of `lines` lines in all, with `above` on the lines before it.
fn function(above: &str, name: &str, lines: usize) -> String {
    let mut text = format!("{above}pub(crate) fn {name}(x: u8) -> u8 {{\n");
    for _ in 0..lines - 2 {
        text.push_str("    let s = \"}\"; // }\n");
    }
    text.push_str("}\n");
    text
}

#[test]
fn a_function_past_seventy_lines_without_a_reason_fails() {
    let path = "crates/settle-engine/src/verify.rs";
    let check = |source: &str| check_functions(path, source, &lex(source));
    assert_eq!(check(&function("", "short", 70)), vec![]);
    let long = function("/// Docs.\n", "long", 71);
    let found = check(&long);
    assert_eq!(rules(&found), [Rule::LongFunction]);
    assert_eq!((found[0].line, found[0].message.starts_with("fn long is 71 lines")), (2, true));

    let allowed =
        function("/// Docs.\n// tidy: long-function: one match over every kind\n", "ok", 90);
    assert_eq!(check(&allowed), vec![]);
    let no_reason = function("// tidy: long-function:\n", "bare", 90);
    assert_eq!(rules(&check(&no_reason)), [Rule::LongFunction]);
    let test = function("#[test]\n", "a_long_test", 90);
    assert_eq!(check(&test), vec![]);
}

#[test]
fn declarations_without_a_body_and_nested_functions_are_measured_right() {
    let mut source = "trait T {\n    fn declared(&self);\n}\n".to_owned();
    source.push_str(&function("", "outer", 80).replacen(
        "    let s",
        "    fn inner() {}\n    let s",
        1,
    ));
    let found = check_functions("crates/x/src/lib.rs", &source, &lex(&source));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.starts_with("fn outer is 81 lines"), "{}", found[0].message);
}

// ---- file length ------------------------------------------------------------------------

#[test]
fn a_file_past_eight_hundred_lines_of_code_fails_unless_exempt() {
    let code = |lines: usize| "let x = 1;\n".repeat(lines);
    let check = |path: &str, source: &str| check_file_length(path, &lex(source));
    assert_eq!(check("crates/settle-api/src/dto.rs", &code(800)), None);
    let found = check("crates/settle-api/src/dto.rs", &code(801)).map(|v| v.rule);
    assert_eq!(found, Some(Rule::LongFile));
    // Comments and blank lines are not code; lines inside a string literal are.
    let commented = format!("{}\n\n/* a\nb */\n{}", "// why\n".repeat(300), code(800));
    assert_eq!(check("crates/settle-api/src/dto.rs", &commented), None);
    let literal = format!("{}let s = \"a\nb\";\n", code(799));
    assert!(check("crates/settle-api/src/dto.rs", &literal).is_some());
    let exempt = [("crates/settle-store-sqlite/src/tx.rs", "a reason")];
    let check_in = |path: &str, source: &str| check_file_length_in(path, &lex(source), &exempt);
    assert_eq!(check_in("crates/settle-store-sqlite/src/tx.rs", &code(1500)), None);
    assert!(check_in("crates/settle-store-sqlite/src/other.rs", &code(1500)).is_some());
}

#[test]
fn an_exemption_no_longer_needed_fails_so_it_is_removed() {
    let exempt = [
        ("crates/settle-store-sqlite/src/tx.rs", "a reason"),
        ("crates/settle-store-postgres/src/tx.rs", "a reason"),
    ];
    let short = check_file_length_in(
        "crates/settle-store-postgres/src/tx.rs",
        &lex("fn f() {}\n"),
        &exempt,
    );
    assert_eq!(short.map(|v| v.rule), Some(Rule::LongFile));
    let missing = check_exemptions_exist_in(&exempt, |path| path.contains("sqlite"));
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].place, "crates/settle-store-postgres/src/tx.rs");
    assert_eq!(check_exemptions_exist_in(&exempt, |_| true), vec![]);
    assert_eq!(check_exemptions_exist(|_| false), vec![], "no file is exempt today");
}

#[test]
fn test_files_are_told_apart_from_sources() {
    assert!(is_test_file("crates/settle-core/src/tests.rs"));
    assert!(is_test_file("crates/settle-core/src/tests/money.rs"));
    assert!(is_test_file("crates/settle-api/tests/it/main.rs"));
    assert!(is_test_file("crates/settle-conformance/src/writes.rs"));
    assert!(!is_test_file("crates/settle-core/src/money.rs"));
}

// ---- the workspace ----------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("a readable folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn the_workspace_keeps_every_architecture_rule() {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let packages = packages(&metadata).expect("packages");
    assert!(packages.iter().any(|p| p.name == "settle-core"), "{packages:?}");
    let mut found = check_dependencies(&packages);
    found.extend(check_exemptions_exist(|path| root.join(path).is_file()));

    let mut files = Vec::new();
    for krate in fs::read_dir(root.join("crates")).expect("crates/") {
        let src = krate.expect("an entry").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 20, "{files:?}");
    let mut api_files = Vec::new();
    for file in files {
        let path = file.strip_prefix(&root).expect("under the root").to_string_lossy();
        let path = path.replace('\\', "/");
        if is_test_file(&path) {
            continue;
        }
        let source = fs::read_to_string(&file).expect("a UTF-8 source file");
        found.extend(check_source(&path, &source));
        if api_module(&path).is_some() {
            api_files.push((path, lex(&source)));
        }
    }
    assert!(api_files.len() > 10, "settle-api's sources are read");
    found.extend(check_api_layers(&api_files));
    let report: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(report.is_empty(), "architecture rules broken:\n{}", report.join("\n"));
}

// ---- settle-api's layers ------------------------------------------------------------------

fn api(files: &[(&str, &str)]) -> Vec<(String, Lexed)> {
    files.iter().map(|(path, source)| ((*path).to_owned(), lex(source))).collect()
}

#[test]
fn crate_paths_are_read_in_every_form_and_not_in_comments_or_strings() {
    let source = r#"
use crate::dto::{AmountIn, DocumentIn};
use crate::{call, error::ApiError, routes::{keys, payments}};
// use crate::router;
let text = "crate::openapi";
fn f() -> crate::state::AppState { my_crate::router() }
"#;
    let found = crate_imports(&lex(source));
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        [
            ("call".to_owned(), 3),
            ("dto".to_owned(), 2),
            ("error".to_owned(), 3),
            ("routes".to_owned(), 3),
            ("state".to_owned(), 6),
        ]
    );
    assert_eq!(api_module("crates/settle-api/src/routes/keys.rs"), Some("routes"));
    assert_eq!(api_module("crates/settle-api/src/dto.rs"), Some("dto"));
    assert_eq!(api_module("crates/settle-engine/src/lib.rs"), None);
}

#[test]
fn an_api_module_importing_upwards_or_in_a_circle_fails() {
    let top_down = [
        ("crates/settle-api/src/lib.rs", "use crate::router;"),
        ("crates/settle-api/src/router.rs", "use crate::{openapi, routes::keys};"),
        ("crates/settle-api/src/routes/keys.rs", "use crate::dto::KeyIn; use crate::error::E;"),
        ("crates/settle-api/src/openapi.rs", "use crate::error::ApiError;"),
        ("crates/settle-api/src/dto.rs", "use crate::schema::amount;"),
    ];
    assert_eq!(check_api_layers(&api(&top_down)), vec![]);
    for (path, source, broken) in [
        ("crates/settle-api/src/routes/keys.rs", "use crate::router::x;", "routes imports router"),
        (
            "crates/settle-api/src/routes/keys.rs",
            "use crate::openapi::y;",
            "routes imports openapi",
        ),
        (
            "crates/settle-api/src/dto.rs",
            "fn f(_: crate::routes::keys::X) {}",
            "dto imports routes",
        ),
        ("crates/settle-api/src/error.rs", "use crate::routes;", "error imports routes"),
    ] {
        let mut files = api(&top_down);
        files.push((path.to_owned(), lex(source)));
        let found = check_api_layers(&files);
        assert!(found.iter().any(|v| v.message == broken), "{broken}: {found:?}");
        assert!(found.iter().all(|v| v.rule == Rule::ApiLayers));
    }
    let mut circle = api(&top_down);
    circle.push(("crates/settle-api/src/schema.rs".to_owned(), lex("use crate::dto::AmountIn;")));
    let found = check_api_layers(&circle);
    assert_eq!(
        found.iter().map(|v| v.message.as_str()).collect::<Vec<_>>(),
        [
            "dto imports schema, which imports dto back",
            "schema imports dto, which imports schema back",
        ]
    );
}
