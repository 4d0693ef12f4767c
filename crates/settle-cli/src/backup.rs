//! `settle backup --to PATH`: a consistent copy of a live SQLite store, made while `settle
//! serve` keeps writing, with a progress bar, then checked by `verify` on the copy.
//!
//! PostgreSQL has its own tool for this, `pg_dump`; the command says so in one line and exits
//! non-zero, so a scheduled job that expected a file notices that none was made.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use settle_engine::Engine;
use settle_store_sqlite::BackupProgress;

use crate::config::{DatabaseArg, StoreUrl, without_password};
use crate::system::{RandomIds, SystemClock};

/// The options of `settle backup`.
#[derive(clap::Args)]
pub(crate) struct BackupArgs {
    /// The new file; refused if it exists, unless --force.
    #[arg(long, value_name = "PATH")]
    to: PathBuf,
    /// Replace PATH (and its -wal and -shm files) if it exists. Never point it at a store a
    /// server is using.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    store: DatabaseArg,
}

/// Copies the store to `--to`, then runs `verify` on the copy and says so; exit 0 only when
/// the copy is made and verifies clean.
#[allow(clippy::print_stdout, reason = "the command line prints its results")]
pub(crate) fn run(args: &BackupArgs) -> anyhow::Result<ExitCode> {
    let from = match StoreUrl::parse(&args.store.database)? {
        StoreUrl::Sqlite(path) => path,
        StoreUrl::Postgres(url) => bail!(
            "settle backup copies SQLite stores; back up PostgreSQL with pg_dump, e.g. \
             pg_dump --format=custom --file={} '{}'",
            args.to.display(),
            without_password(&url)
        ),
    };
    check_destination(&from, &args.to, args.force)?;
    let pages = copy_with_progress(&from, &args.to)?;
    println!("backed up {} to {} ({pages} pages)", from.display(), args.to.display());
    let store = StoreUrl::Sqlite(args.to.clone()).open(false).context("opening the copy")?;
    let engine = Engine::new(store, Arc::new(SystemClock), Arc::new(RandomIds));
    let report = engine.verify().context("verifying the copy")?;
    for difference in &report.differences {
        println!("{difference}");
    }
    if report.is_clean() {
        println!("verify on the copy: {report}");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("verify on the copy FAILED: {report}");
        Ok(ExitCode::FAILURE)
    }
}

/// Refuses an existing destination without `--force`, and the store itself even with it.
fn check_destination(from: &Path, to: &Path, force: bool) -> anyhow::Result<()> {
    if !to.exists() {
        return Ok(());
    }
    if !force {
        bail!("{} already exists; pass --force to replace it", to.display());
    }
    let same = match (from.canonicalize(), to.canonicalize()) {
        (Ok(from), Ok(to)) => from == to,
        _ => false,
    };
    if same {
        bail!("{} is the store being backed up; choose another --to", to.display());
    }
    Ok(())
}

/// Runs the backup with a progress bar on stderr (hidden when stderr is not a terminal);
/// answers the pages copied.
fn copy_with_progress(from: &Path, to: &Path) -> anyhow::Result<u64> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} pages, {eta} left")
            .context("the progress bar's template")?
            .progress_chars("=> "),
    );
    bar.set_message(format!("backing up {}", from.display()));
    let mut pages = 0;
    settle_store_sqlite::backup(from, to, &mut |progress: BackupProgress| {
        bar.set_length(progress.pages_total);
        bar.set_position(progress.pages_done);
        pages = progress.pages_total;
    })
    .with_context(|| format!("backing up {} to {}", from.display(), to.display()))?;
    bar.finish_and_clear();
    Ok(pages)
}
