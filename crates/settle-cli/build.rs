//! Records the git commit Settle is built from, for `settle --version`: `git rev-parse --short
//! HEAD` when the source is a git checkout and git is installed, else "unknown" (a build from
//! a source tarball, or without git).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        println!("cargo:rustc-env=SETTLE_GIT_COMMIT=unknown");
        return;
    };
    let commit = git(&manifest_dir, &["rev-parse", "--short", "HEAD"])
        .filter(|commit| commit.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SETTLE_GIT_COMMIT={commit}");
    // A commit or a checkout moves HEAD and appends to its log; `--git-path` finds both in a
    // worktree too (relative to the folder git ran in). A path that does not exist would rerun
    // this script on every build, so only existing ones are named.
    for name in ["HEAD", "logs/HEAD"] {
        if let Some(path) = git(&manifest_dir, &["rev-parse", "--git-path", name]) {
            let path = manifest_dir.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}

/// The trimmed output of a git command run in `dir`, when it succeeds and says something.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).current_dir(dir).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}
