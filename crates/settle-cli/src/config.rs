//! Store URLs: `sqlite:PATH` (the embedded default) and `postgres://...` (also
//! `postgresql://...`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use settle_store::Store;
use settle_store_postgres::PostgresStore;
use settle_store_sqlite::{Durability, SqliteStore};

/// Reads a retention period: a whole number of hours (`36h`) or days (`3d`), at least 24
/// hours, as the API promises.
pub(crate) fn parse_retention(text: &str) -> Result<chrono::TimeDelta, String> {
    let unit = text.chars().last();
    let number = &text[..text.len() - unit.map_or(0, char::len_utf8)];
    let hours_per_unit = match unit {
        Some('h') => 1,
        Some('d') => 24,
        _ => return Err("a number of hours or days, as 48h or 3d".to_owned()),
    };
    let hours = number
        .parse::<i64>()
        .ok()
        .filter(|_| number.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.checked_mul(hours_per_unit))
        .filter(|h| *h <= 24 * 365 * 100)
        .ok_or_else(|| "a number of hours or days, as 48h or 3d".to_owned())?;
    let retention = chrono::TimeDelta::hours(hours);
    if retention < settle_engine::MIN_IDEMPOTENCY_RETENTION {
        return Err("idempotency keys are kept at least 24h".to_owned());
    }
    Ok(retention)
}

/// Reads a back-office session idle timeout: a whole number of minutes (`30m`), hours (`8h`)
/// or days (`1d`), from one minute to 30 days.
pub(crate) fn parse_session_idle(text: &str) -> Result<chrono::TimeDelta, String> {
    const SHAPE: &str = "a number of minutes, hours or days, as 30m, 8h or 1d";
    let unit = text.chars().last();
    let number = &text[..text.len() - unit.map_or(0, char::len_utf8)];
    let minutes_per_unit = match unit {
        Some('m') => 1,
        Some('h') => 60,
        Some('d') => 24 * 60,
        _ => return Err(SHAPE.to_owned()),
    };
    let minutes = number
        .parse::<i64>()
        .ok()
        .filter(|_| number.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.checked_mul(minutes_per_unit))
        .ok_or_else(|| SHAPE.to_owned())?;
    if !(1..=30 * 24 * 60).contains(&minutes) {
        return Err("from 1 minute to 30 days".to_owned());
    }
    Ok(chrono::TimeDelta::minutes(minutes))
}

/// Reads the public base URL: `http://` or `https://` and a host, without the trailing `/`.
pub(crate) fn parse_public_url(text: &str) -> Result<String, String> {
    let url = text.trim_end_matches('/');
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match host {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(url.to_owned())
        }
        _ => Err("an http:// or https:// URL, as https://billing.example.com".to_owned()),
    }
}

/// The `--database` option, one definition shared by every subcommand that opens a store
/// (flattened into each), so its name, environment variable, default and help never drift.
#[derive(clap::Args)]
pub(crate) struct DatabaseArg {
    /// Store URL: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE, where PostgreSQL takes
    /// `?pool_size=N` (most connections, 16 by default) and libpq's `sslmode`/`sslrootcert`
    /// (only `serve` creates a store; every other command needs one that exists).
    #[arg(long, env = "SETTLE_DATABASE", default_value = "sqlite:settle.db", value_name = "URL")]
    pub(crate) database: String,
}

/// Where the data lives.
pub(crate) enum StoreUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(String),
}

impl StoreUrl {
    /// Reads `sqlite:PATH` (also `sqlite://PATH`) or `postgres://...` (also `postgresql://...`).
    pub(crate) fn parse(url: &str) -> anyhow::Result<StoreUrl> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                bail!("the SQLite URL names no file: use sqlite:PATH");
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_owned()));
        }
        bail!("unknown store URL {url:?}: use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE")
    }

    /// Opens the store, running migrations and, for SQLite, an integrity check. With `create`
    /// (only `settle serve`), a missing SQLite file or an empty PostgreSQL database becomes a
    /// new store; without it, they are refused and nothing is created.
    pub(crate) fn open(&self, create: bool) -> anyhow::Result<Arc<dyn Store>> {
        match self {
            StoreUrl::Sqlite(path) => {
                let store = if create {
                    SqliteStore::open(path, Durability::Full)
                } else {
                    SqliteStore::open_existing(path, Durability::Full)
                };
                let store = store.with_context(|| format!("opening {}", path.display()))?;
                store.integrity_check().context("SQLite integrity check")?;
                Ok(Arc::new(store))
            }
            StoreUrl::Postgres(url) => {
                let store = if create {
                    PostgresStore::open(url)
                } else {
                    PostgresStore::open_existing(url)
                };
                // The URL may carry a password: the error names the URL without it.
                let store = store.with_context(|| format!("opening {}", without_password(url)))?;
                Ok(Arc::new(store))
            }
        }
    }
}

/// A PostgreSQL URL fit to print: the password of its user part, and any `password=`
/// parameter, left out.
pub(crate) fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let rest_start = scheme_end + 3;
    let authority_end = url[rest_start..].find(['/', '?']).map_or(url.len(), |i| rest_start + i);
    let authority = &url[rest_start..authority_end];
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let tail = &url[authority_end..];
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> =
                query.split('&').filter(|p| !p.to_lowercase().starts_with("password=")).collect();
            if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) }
        }
        None => tail.to_owned(),
    };
    format!("{}{authority}{tail}", &url[..rest_start])
}

#[cfg(test)]
mod tests {
    use super::{parse_public_url, parse_retention, parse_session_idle, without_password};

    #[test]
    fn a_session_idle_timeout_is_minutes_hours_or_days_up_to_30_days() {
        assert_eq!(parse_session_idle("8h"), Ok(chrono::TimeDelta::hours(8)));
        assert_eq!(parse_session_idle("30m"), Ok(chrono::TimeDelta::minutes(30)));
        assert_eq!(parse_session_idle("30d"), Ok(chrono::TimeDelta::days(30)));
        for out_of_range in ["0m", "31d", "721h"] {
            assert_eq!(parse_session_idle(out_of_range), Err("from 1 minute to 30 days".into()));
        }
        for bad in ["", "8", "8s", "-1h", "1.5h", "8 h", "é", "99999999999999999999d"] {
            assert!(parse_session_idle(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_public_url_is_http_or_https_with_a_host_and_loses_its_trailing_slash() {
        assert_eq!(
            parse_public_url("https://billing.example.com/"),
            Ok("https://billing.example.com".into())
        );
        assert_eq!(parse_public_url("http://10.0.0.5:8080"), Ok("http://10.0.0.5:8080".into()));
        assert_eq!(
            parse_public_url("https://example.com/settle"),
            Ok("https://example.com/settle".into())
        );
        for bad in ["", "billing.example.com", "ftp://x", "https://", "https:///x", "http://a b"] {
            assert!(parse_public_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_printed_url_never_carries_the_password() {
        for (url, shown) in [
            ("postgres://settle:s3cret@db:5432/ledger", "postgres://settle@db:5432/ledger"),
            ("postgresql://u:p:q@h/d?sslmode=disable", "postgresql://u@h/d?sslmode=disable"),
            ("postgres://h/d?user=u&password=s3cret", "postgres://h/d?user=u"),
            ("postgres://h/d?password=s3cret", "postgres://h/d"),
            ("postgres://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test"),
            ("postgres://u:p@h", "postgres://u@h"),
        ] {
            assert_eq!(without_password(url), shown, "{url}");
        }
    }

    #[test]
    fn a_retention_is_hours_or_days_and_never_under_24_hours() {
        assert_eq!(parse_retention("48h"), Ok(chrono::TimeDelta::hours(48)));
        assert_eq!(parse_retention("24h"), Ok(chrono::TimeDelta::hours(24)));
        assert_eq!(parse_retention("3d"), Ok(chrono::TimeDelta::hours(72)));
        for short in ["23h", "0d", "0h"] {
            assert_eq!(
                parse_retention(short),
                Err("idempotency keys are kept at least 24h".into())
            );
        }
        for bad in [
            "",
            "h",
            "48",
            "48m",
            "48é",
            "é",
            "-48h",
            "+48h",
            "4 8h",
            "1.5d",
            "99999999999999999999h",
        ] {
            assert!(parse_retention(bad).is_err(), "{bad:?}");
        }
    }
}
