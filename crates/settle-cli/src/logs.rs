//! The log subscriber: `RUST_LOG` picks what is logged (default `info`), `--log-format` how.
//! `settle serve` writes one JSON object per line unless stderr is a terminal, so a log
//! collector reads fields rather than text; the other commands write text for people.

use std::io::IsTerminal as _;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One JSON object per line, with the request span's fields (`request_id`, `tenant`, ...).
    Json,
    /// Text for people reading a terminal.
    Text,
}

impl LogFormat {
    /// Text on a terminal, JSON otherwise.
    pub(crate) fn for_stderr() -> LogFormat {
        if std::io::stderr().is_terminal() { LogFormat::Text } else { LogFormat::Json }
    }
}

/// Installs the subscriber for the whole process, writing to stderr.
pub(crate) fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Text => builder.init(),
    }
}
