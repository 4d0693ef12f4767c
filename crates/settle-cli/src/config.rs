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
    use super::{parse_retention, without_password};

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
