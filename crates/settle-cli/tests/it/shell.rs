//! What the binary says about itself: `--version` with the commit it was built from, and the
//! shell completion scripts.

use super::settle;

#[test]
fn version_prints_the_version_and_the_commit_it_was_built_from() {
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    // Outside a git checkout (a source tarball) the binary says "unknown", as does this test.
    let commit = match git {
        Ok(output) if output.status.success() => {
            String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
        }
        _ => "unknown".to_owned(),
    };
    let version = settle().arg("--version").output().expect("run");
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("settle {} (commit {commit})\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands_and_options() {
    for shell in ["bash", "zsh", "fish"] {
        let script = settle().args(["completions", shell]).output().expect("run");
        assert!(script.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&script.stdout);
        for word in ["serve", "verify", "backup", "bill-run", "completions", "database"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    let unknown = settle().args(["completions", "cmd"]).output().expect("run");
    assert!(!unknown.status.success());
}
