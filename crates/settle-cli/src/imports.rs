//! `settle import customers|invoices FILE`: imports a CSV file through the engine with a
//! progress bar, and prints the report (what was created, skipped, and every bad field with
//! its line and column).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use settle_engine::{Engine, ImportKind, ImportOptions, ImportReport};

use crate::config::DatabaseArg;

/// The options of `settle import`.
#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    kind: KindArg,
    /// The CSV file (columns: docs/IMPORT.md).
    file: PathBuf,
    /// Check the file and print what would be created; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the good rows of a file that has bad ones (else nothing is written).
    #[arg(long)]
    skip_bad_rows: bool,
    #[command(flatten)]
    store: DatabaseArg,
    /// The tenant (default: the first one created).
    #[arg(long)]
    tenant: Option<String>,
}

/// The kinds of file `settle import` reads.
#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    /// Customers, one per line.
    Customers,
    /// Open invoices, one invoice line per line.
    Invoices,
}

/// Runs the import. Exits 1 when the file has bad rows and nothing was written.
#[allow(clippy::print_stdout, clippy::print_stderr, reason = "the command line prints its results")]
pub(crate) fn run(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let kind = match args.kind {
        KindArg::Customers => ImportKind::Customers,
        KindArg::Invoices => ImportKind::Invoices,
    };
    // The store first: a missing store is said before a missing file, as every command does.
    let engine = crate::engine(&args.store.database, false)?;
    let file =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let tenant_id = crate::users::tenant_or_first(&engine, args.tenant.as_deref())?;
    let options = ImportOptions { dry_run: args.dry_run, skip_bad_rows: args.skip_bad_rows };
    let report = import(&engine, &tenant_id, kind, &file, options)?;
    for error in &report.errors {
        let column =
            if error.column.is_empty() { String::new() } else { format!(", {}", error.column) };
        println!("line {}{column}: {}", error.line, error.reason);
    }
    println!("{}", summary(kind, options, &report));
    let refused = !report.errors.is_empty() && !report.written && !options.dry_run;
    if refused || (options.dry_run && !report.errors.is_empty() && !options.skip_bad_rows) {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports with a progress bar on stderr (records done, rate and time left); when stderr is
/// not a terminal the bar is hidden and each committed batch is one line there instead.
#[allow(clippy::print_stderr, reason = "progress goes to stderr")]
fn import(
    engine: &Engine,
    tenant_id: &settle_core::ids::TenantId,
    kind: ImportKind,
    file: &[u8],
    options: ImportOptions,
) -> anyhow::Result<ImportReport> {
    let bar = ProgressBar::new(0);
    let template =
        format!("{{msg}} [{{bar:40}}] {{pos}}/{{len}} {}, {{per_sec}}, {{eta}} left", kind.name());
    bar.set_style(
        ProgressStyle::with_template(&template)
            .context("the progress bar's template")?
            .progress_chars("=> "),
    );
    bar.set_message(format!("import {}", kind.name()));
    let report = engine
        .import(tenant_id, kind, file, options, &mut |progress| {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
            if bar.is_hidden() {
                eprintln!("import {}: {}/{} committed", kind.name(), progress.done, progress.total);
            }
        })
        .with_context(|| format!("importing {}", kind.name()))?;
    bar.finish();
    Ok(report)
}

/// One line about the import.
fn summary(kind: ImportKind, options: ImportOptions, report: &ImportReport) -> String {
    let created = match kind {
        ImportKind::Customers => format!("{} customers", report.customers_created),
        ImportKind::Invoices => {
            format!("{} invoices and {} payments", report.invoices_created, report.payments_created)
        }
    };
    let counts = format!(
        "{} lines; {} bad, {} already imported",
        report.rows, report.bad_records, report.already_imported
    );
    if options.dry_run {
        let refused = !report.errors.is_empty() && !options.skip_bad_rows;
        let would = if refused { "nothing would be written" } else { "would create" };
        if refused {
            return format!(
                "dry run: {counts}; {would} (fix the bad rows or pass --skip-bad-rows)"
            );
        }
        return format!("dry run: {counts}; {would} {created}");
    }
    if !report.written && !report.errors.is_empty() {
        return format!(
            "{counts}; nothing written (fix the bad rows or pass --skip-bad-rows to write the others)"
        );
    }
    format!("{counts}; created {created}")
}
