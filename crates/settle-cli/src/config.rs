//! Store URLs: `sqlite:PATH` (the embedded default).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use settle_store::Store;
use settle_store_sqlite::{Durability, SqliteStore};

/// Where the data lives.
pub(crate) enum StoreUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
}

impl StoreUrl {
    /// Reads `sqlite:PATH` (also `sqlite://PATH`).
    pub(crate) fn parse(url: &str) -> anyhow::Result<StoreUrl> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                bail!("the SQLite URL names no file: use sqlite:PATH");
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            bail!("PostgreSQL is not supported by this build yet; use sqlite:PATH");
        }
        bail!("unknown store URL {url:?}: use sqlite:PATH")
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
        }
    }
}
