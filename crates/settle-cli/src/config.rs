//! Store URLs: `sqlite:PATH` (the embedded default) and `postgres://...` (also
//! `postgresql://...`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use settle_store::Store;
use settle_store_postgres::PostgresStore;
use settle_store_sqlite::{Durability, SqliteStore};

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

    /// Opens the store, running migrations and, for SQLite, an integrity check.
    pub(crate) fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        match self {
            StoreUrl::Sqlite(path) => {
                let store = SqliteStore::open(path, Durability::Full)
                    .with_context(|| format!("opening {}", path.display()))?;
                store.integrity_check().context("SQLite integrity check")?;
                Ok(Arc::new(store))
            }
            StoreUrl::Postgres(url) => {
                // The URL may carry a password: name only the store kind in the error.
                let store = PostgresStore::open(url).context("opening the PostgreSQL store")?;
                Ok(Arc::new(store))
            }
        }
    }
}
