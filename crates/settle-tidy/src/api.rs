//! The layers of `settle-api`: which of its modules may import which, read from the `crate::`
//! paths of each non-test source file.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Lexed, Rule, Violation};

/// The handler modules: `routes` and everything under it.
const HANDLERS: &str = "routes";

/// Modules that hold shapes and errors, below every handler.
const LEAVES: [&str; 3] = ["dto", "error", "schema"];

/// The top-level module of `settle-api` a file belongs to (`routes/keys.rs` is `routes`), or
/// `None` for a file outside the crate's `src`.
pub fn api_module(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("crates/settle-api/src/")?;
    let first = rest.split('/').next()?;
    Some(first.strip_suffix(".rs").unwrap_or(first))
}

/// The crate's top-level modules a file's code names, each with the first line naming it:
/// `crate::x::…` and every first segment inside `crate::{x, y::z}`.
pub fn crate_imports(lexed: &Lexed) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    for (idx, line) in lexed.code.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let names = match rest.strip_prefix('{') {
                Some(group) => top_level_names(group),
                None => vec![leading_ident(rest)],
            };
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                found.entry(name.to_owned()).or_insert(idx + 1);
            }
        }
    }
    found
}

fn leading_ident(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// The first segment of each path at the top level of a `{…}` group (to its closing brace).
fn top_level_names(group: &str) -> Vec<&str> {
    let mut names = vec![leading_ident(group.trim_start())];
    let mut depth = 0_usize;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => names.push(leading_ident(group[at + 1..].trim_start())),
            _ => {}
        }
    }
    names
}

/// The rules of `settle-api`'s layers over its non-test files (`(path, lexed)`): nothing but
/// `lib` imports `router`; handlers never import `openapi`; `dto`, `error` and `schema` import
/// no handler; and the imports between modules make no circle.
pub fn check_api_layers(files: &[(String, Lexed)]) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut edges: BTreeMap<String, BTreeMap<String, (String, usize)>> = BTreeMap::new();
    for (path, lexed) in files {
        let Some(module) = api_module(path) else { continue };
        for (import, line) in crate_imports(lexed) {
            if import == module {
                continue;
            }
            let broken = (import == "router" && module != "lib")
                || (module == HANDLERS && import == "openapi")
                || (LEAVES.contains(&module) && import == HANDLERS);
            if broken {
                found.push(violation(path, line, format!("{module} imports {import}")));
            }
            edges
                .entry(module.to_owned())
                .or_default()
                .entry(import)
                .or_insert_with(|| (path.clone(), line));
        }
    }
    found.extend(circles(&edges));
    found
}

fn violation(path: &str, line: usize, message: String) -> Violation {
    Violation { rule: Rule::ApiLayers, place: path.to_owned(), line, message }
}

/// One violation per import that closes a circle: an edge `a → b` where `b` reaches `a`.
fn circles(edges: &BTreeMap<String, BTreeMap<String, (String, usize)>>) -> Vec<Violation> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(module) = stack.pop() {
            if module == to {
                return true;
            }
            if seen.insert(module.clone()) {
                stack.extend(edges.get(&module).into_iter().flat_map(|next| next.keys().cloned()));
            }
        }
        false
    };
    let mut found = Vec::new();
    for (module, imports) in edges {
        for (import, (path, line)) in imports {
            if reaches(import, module) {
                let message = format!("{module} imports {import}, which imports {module} back");
                found.push(violation(path, *line, message));
            }
        }
    }
    found
}
