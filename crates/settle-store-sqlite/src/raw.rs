//! The raw limits of a SQLite file on this machine, for `settle bench http` to print beside
//! Settle's rates: bare statements on a bare table, with the same durability and no Settle
//! logic.

use std::path::Path;

use settle_store::StoreResult;

use crate::{Durability, connect, unavailable};

/// Makes the bare table `raw_limit` in the file at `path` if missing.
fn raw_table(path: &Path, durability: Durability) -> StoreResult<rusqlite::Connection> {
    let conn = connect(path, durability)?;
    conn.execute_batch(
        "create table if not exists raw_limit (id integer primary key, v integer not null, \
         payload text not null)",
    )
    .map_err(unavailable)?;
    Ok(conn)
}

/// Runs `count` write transactions of one inserted row each (`BEGIN IMMEDIATE`, insert,
/// commit) on a connection of its own to the file at `path`: the one-row durable transaction.
pub fn raw_one_row_transactions(
    path: &Path,
    durability: Durability,
    count: u64,
) -> StoreResult<()> {
    let conn = raw_table(path, durability)?;
    let payload = "x".repeat(96);
    for v in 0..count {
        conn.execute_batch("begin immediate").map_err(unavailable)?;
        conn.prepare_cached("insert into raw_limit (v, payload) values (?1, ?2)")
            .map_err(unavailable)?
            .execute(rusqlite::params![i64::try_from(v).unwrap_or(i64::MAX), payload])
            .map_err(unavailable)?;
        conn.execute_batch("commit").map_err(unavailable)?;
    }
    Ok(())
}

/// Inserts `rows` rows in one transaction into the file at `path`: the bulk insert.
pub fn raw_bulk_insert(path: &Path, durability: Durability, rows: u64) -> StoreResult<()> {
    let mut conn = raw_table(path, durability)?;
    let payload = "x".repeat(96);
    let tx = conn.transaction().map_err(unavailable)?;
    {
        let mut insert = tx
            .prepare_cached("insert into raw_limit (v, payload) values (?1, ?2)")
            .map_err(unavailable)?;
        for v in 0..rows {
            insert
                .execute(rusqlite::params![i64::try_from(v).unwrap_or(i64::MAX), payload])
                .map_err(unavailable)?;
        }
    }
    tx.commit().map_err(unavailable)
}
