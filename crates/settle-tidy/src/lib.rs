//! Settle's architecture rules as a test. Each rule is a small checker over one input (a
//! crate's dependency list, one source file), unit-tested on fixtures that break it; the
//! `the_workspace_keeps_every_architecture_rule` test runs them all over the workspace, reading
//! `cargo metadata` and every non-test source file under `crates/*/src`.
//!
//! This crate has no runtime role: nothing depends on it.

mod api;
mod source;

use std::fmt;

pub use api::{api_module, check_api_layers, crate_imports};
pub use source::{Lexed, lex};

/// Most lines a non-test function may span without an allow-comment.
pub const MAX_FUNCTION_LINES: usize = 70;

/// Most lines of code (neither blank nor only a comment) a non-test source file may have.
pub const MAX_FILE_CODE_LINES: usize = 800;

/// The allow-comment of a long function, followed by the reason, in the run of comments and
/// attributes directly above its `fn` line: `// tidy: long-function: <reason>`.
pub const LONG_FUNCTION_ALLOW: &str = "// tidy: long-function:";

/// Files exempt from the file-length rule, each with why.
pub const LONG_FILE_EXEMPT: &[(&str, &str)] = &[];

/// Which rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// `settle-core` depends on no workspace crate and on no serde, async or SQL crate.
    CorePure,
    /// `settle-core`, `settle-engine` and `settle-store` depend on neither serde nor axum.
    NoSerdeOrHttpInside,
    /// SQL text appears only in `settle-store*` crates.
    SqlInStores,
    /// A non-test function spans at most [`MAX_FUNCTION_LINES`] lines, or says why not.
    LongFunction,
    /// A non-test source file has at most [`MAX_FILE_CODE_LINES`] lines of code.
    LongFile,
    /// `settle-api`'s modules import top-down, with no circle (see [`check_api_layers`]).
    ApiLayers,
}

/// One broken rule, where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// The crate or file.
    pub place: String,
    /// The line, for a file (0 for a crate or a whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {:?}: {}", self.place, self.line, self.rule, self.message)
    }
}

// ---- crate edges ------------------------------------------------------------------------

/// A workspace crate and the packages it depends on (normal and build dependencies; test-only
/// dependencies do not reach the running crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package name.
    pub name: String,
    /// Its dependencies' package names.
    pub dependencies: Vec<String>,
}

/// Reads the workspace packages out of `cargo metadata --format-version 1 --no-deps`.
pub fn packages(metadata: &serde_json::Value) -> Result<Vec<Package>, String> {
    let list = metadata["packages"].as_array().ok_or("cargo metadata has no packages")?;
    list.iter()
        .map(|package| {
            let name = package["name"].as_str().ok_or("a package without a name")?;
            let deps =
                package["dependencies"].as_array().ok_or("a package without dependencies")?;
            let dependencies = deps
                .iter()
                .filter(|dep| dep["kind"].as_str() != Some("dev"))
                .filter_map(|dep| dep["name"].as_str().map(str::to_owned))
                .collect();
            Ok(Package { name: name.to_owned(), dependencies })
        })
        .collect()
}

/// Crates `settle-core` must not know: serde, async runtimes, HTTP and SQL.
fn impure(name: &str) -> bool {
    name.starts_with("serde")
        || name.starts_with("tokio")
        || name.starts_with("axum")
        || name.starts_with("hyper")
        || ["rusqlite", "postgres", "tokio-postgres", "sqlx", "diesel", "r2d2", "libsqlite3-sys"]
            .contains(&name)
}

/// Checks the crate edges: `settle-core` depends on no workspace crate and nothing impure;
/// `settle-core`, `settle-engine` and `settle-store` depend on neither serde nor axum.
pub fn check_dependencies(packages: &[Package]) -> Vec<Violation> {
    let workspace: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let mut found = Vec::new();
    for package in packages {
        for dep in &package.dependencies {
            let mut broken = |rule, message: String| {
                found.push(Violation { rule, place: package.name.clone(), line: 0, message });
            };
            if package.name == "settle-core" && (workspace.contains(&dep.as_str()) || impure(dep)) {
                broken(Rule::CorePure, format!("settle-core depends on {dep}"));
            }
            let inner = ["settle-core", "settle-engine", "settle-store"];
            if inner.contains(&package.name.as_str())
                && (dep.starts_with("serde") || dep.starts_with("axum"))
            {
                broken(Rule::NoSerdeOrHttpInside, format!("{} depends on {dep}", package.name));
            }
        }
    }
    found
}

// ---- source files -----------------------------------------------------------------------

/// True for a file of a `settle-store*` crate, the only place SQL may be written.
pub fn in_store_crate(path: &str) -> bool {
    path.starts_with("crates/settle-store")
}

/// Whether `literal` reads as SQL: a statement's opening words (`select … from`,
/// `insert into`, `update … set`, `delete from`, `create table`, ...), case-insensitive.
pub fn looks_like_sql(literal: &str) -> bool {
    let words: Vec<String> = literal
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let pair = |first: &str, second: &[&str]| {
        words.windows(2).any(|w| w[0] == first && second.contains(&w[1].as_str()))
    };
    let before = |first: &str, later: &str| {
        words
            .iter()
            .position(|w| w == first)
            .is_some_and(|i| words[i + 1..].iter().any(|w| w == later))
    };
    let update_set = words.windows(3).any(|w| w[0] == "update" && w[2] == "set");
    pair("insert", &["into"])
        || pair("delete", &["from"])
        || pair("create", &["table", "index", "trigger", "database", "view"])
        || pair("drop", &["table", "index", "trigger", "database", "view"])
        || pair("alter", &["table"])
        || update_set
        || (before("select", "from") && literal.to_lowercase().contains("select "))
}

/// SQL in the string literals of `path`, unless it belongs to a store crate.
pub fn check_sql(path: &str, lexed: &Lexed) -> Vec<Violation> {
    if in_store_crate(path) {
        return Vec::new();
    }
    lexed
        .literals
        .iter()
        .filter(|(_, text)| looks_like_sql(text))
        .map(|(line, text)| Violation {
            rule: Rule::SqlInStores,
            place: path.to_owned(),
            line: *line,
            message: format!("SQL outside the store crates: {:?}", text.trim()),
        })
        .collect()
}

/// The name of the function a line of code declares, if it does (`pub(crate) async fn x`).
fn declared_fn(code_line: &str) -> Option<&str> {
    let mut rest = code_line.trim_start();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = after.trim_start();
        if rest.starts_with('(') {
            rest = rest[rest.find(')')? + 1..].trim_start();
        }
    }
    for qualifier in ["const ", "async ", "unsafe ", "extern "] {
        if let Some(after) = rest.strip_prefix(qualifier) {
            rest = after.trim_start();
        }
    }
    let name = rest.strip_prefix("fn ")?.trim_start();
    let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(name.len());
    (end > 0).then(|| &name[..end])
}

/// The line (0-based) where the body that opens after line `start` closes, or `None` for a
/// declaration without a body.
fn body_end(code_lines: &[&str], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut opened = false;
    for (idx, line) in code_lines.iter().enumerate().skip(start) {
        for c in line.chars() {
            match c {
                ';' if !opened && depth == 0 => return None,
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if opened && depth == 0 {
                        return Some(idx);
                    }
                }
                // Parentheses of the signature hold no `;` (closures have no body there).
                _ => {}
            }
        }
    }
    None
}

/// The comments and attributes directly above line `fn_line`, nearest first.
fn preamble<'a>(lines: &[&'a str], fn_line: usize) -> impl Iterator<Item = &'a str> {
    lines[..fn_line].iter().rev().map(|l| l.trim()).take_while(|l| {
        l.starts_with("//") || l.starts_with("#[") || l.starts_with("#![") || l.ends_with(")]")
    })
}

/// Non-test functions of `path` longer than [`MAX_FUNCTION_LINES`] without an allow-comment
/// giving a reason.
pub fn check_functions(path: &str, source: &str, lexed: &Lexed) -> Vec<Violation> {
    let lines: Vec<&str> = source.lines().collect();
    let code_lines: Vec<&str> = lexed.code.lines().collect();
    let mut found = Vec::new();
    for (idx, code) in code_lines.iter().enumerate() {
        let Some(name) = declared_fn(code) else { continue };
        let Some(end) = body_end(&code_lines, idx) else { continue };
        let length = end - idx + 1;
        if length <= MAX_FUNCTION_LINES {
            continue;
        }
        let mut above = preamble(&lines, idx);
        let is_test = preamble(&lines, idx).any(|l| l == "#[test]" || l == "#[cfg(test)]");
        let allowed = above.any(|l| {
            l.strip_prefix(LONG_FUNCTION_ALLOW).is_some_and(|reason| reason.trim().len() >= 10)
        });
        if !is_test && !allowed {
            found.push(Violation {
                rule: Rule::LongFunction,
                place: path.to_owned(),
                line: idx + 1,
                message: format!(
                    "fn {name} is {length} lines (at most {MAX_FUNCTION_LINES}): split it, or say \
                     why not in `{LONG_FUNCTION_ALLOW} <reason>` above it"
                ),
            });
        }
    }
    found
}

/// Lines of code of a lexed file: lines with something besides comments and blanks.
pub fn code_lines(lexed: &Lexed) -> usize {
    lexed.code.lines().filter(|line| !line.trim().is_empty()).count()
}

/// A non-test source file with more than [`MAX_FILE_CODE_LINES`] lines of code, unless it is
/// one of [`LONG_FILE_EXEMPT`]; or an exempt file that no longer needs to be.
pub fn check_file_length(path: &str, lexed: &Lexed) -> Option<Violation> {
    check_file_length_in(path, lexed, LONG_FILE_EXEMPT)
}

/// [`check_file_length`] against the exemptions `exempt` (`(path, reason)` pairs).
pub fn check_file_length_in(
    path: &str,
    lexed: &Lexed,
    exempt: &[(&str, &str)],
) -> Option<Violation> {
    let count = code_lines(lexed);
    let exempt = exempt.iter().any(|(exempt, _)| *exempt == path);
    let message = match (count > MAX_FILE_CODE_LINES, exempt) {
        (true, false) => format!("{count} lines of code (at most {MAX_FILE_CODE_LINES}): split it"),
        (false, true) => format!("{count} lines of code: remove its exemption (LONG_FILE_EXEMPT)"),
        _ => return None,
    };
    Some(Violation { rule: Rule::LongFile, place: path.to_owned(), line: 0, message })
}

/// Exempt files that are gone: their exemption is stale.
pub fn check_exemptions_exist(exists: impl Fn(&str) -> bool) -> Vec<Violation> {
    check_exemptions_exist_in(LONG_FILE_EXEMPT, exists)
}

/// [`check_exemptions_exist`] for the exemptions `exempt`.
pub fn check_exemptions_exist_in(
    exempt: &[(&str, &str)],
    exists: impl Fn(&str) -> bool,
) -> Vec<Violation> {
    exempt
        .iter()
        .filter(|(path, _)| !exists(path))
        .map(|(path, _)| Violation {
            rule: Rule::LongFile,
            place: (*path).to_owned(),
            line: 0,
            message: "exempt but missing: remove its exemption (LONG_FILE_EXEMPT)".to_owned(),
        })
        .collect()
}

/// Every source rule on one non-test file; `path` is relative to the workspace root, with `/`.
pub fn check_source(path: &str, source: &str) -> Vec<Violation> {
    let lexed = lex(source);
    let mut found = check_sql(path, &lexed);
    found.extend(check_functions(path, source, &lexed));
    found.extend(check_file_length(path, &lexed));
    found
}

/// True for a file that holds only tests: `tests.rs`, anything under a `tests` folder, and the
/// store conformance suite, whose every public function is a test scenario the adapters run.
pub fn is_test_file(path: &str) -> bool {
    path.starts_with("crates/settle-conformance/")
        || path.split('/').any(|part| part == "tests" || part == "tests.rs")
}

#[cfg(test)]
mod tests;
