//! Rules of the port that the compiler cannot check by itself.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `adapter::customer_lock` is public only because Rust cannot say "the adapter crates"; this
/// keeps it theirs, so a `CustomerLock` still proves that a store took the database lock.
#[test]
fn only_store_adapters_build_customer_locks() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut offenders = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("the crates folder").flatten() {
        let name = krate.file_name().to_string_lossy().into_owned();
        if name.starts_with("settle-store") {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&krate.path(), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            if text.contains("customer_lock(") || text.contains("settle_store::adapter") {
                offenders.push(file.display().to_string());
            }
        }
    }
    assert!(offenders.is_empty(), "only settle-store-* may build a CustomerLock: {offenders:?}");
}
