//! The raw limits of a PostgreSQL database on this machine, for `settle bench http` to print
//! beside Settle's rates: bare statements on bare tables, with no Settle logic.

use postgres::Client;
use settle_store::StoreResult;

use crate::unavailable;

/// Accounts in `raw_account`, the table of the single-row updates (pgbench's scale 1 has
/// 100,000).
pub const RAW_ACCOUNTS: i64 = 100_000;

fn client(url: &str) -> StoreResult<Client> {
    crate::tls::Target::parse(url)?.connect().map_err(unavailable)
}

/// Makes the bare tables in the database at `url`: `raw_limit` for inserts and `raw_account`
/// with [`RAW_ACCOUNTS`] rows for single-row updates. Run once before the timed calls.
pub fn raw_prepare(url: &str) -> StoreResult<()> {
    let mut client = client(url)?;
    client
        .batch_execute(&format!(
            "create table if not exists raw_limit (id bigint generated always as identity \
             primary key, v bigint not null, payload text not null); \
             drop table if exists raw_account; \
             create table raw_account (aid bigint primary key, abalance bigint not null, \
             filler char(84)); \
             insert into raw_account select g, 0, '' from generate_series(1, {RAW_ACCOUNTS}) g;"
        ))
        .map_err(unavailable)?;
    // On its own: VACUUM cannot run inside the implicit transaction of several statements.
    client.batch_execute("vacuum analyze raw_account").map_err(unavailable)
}

/// Brings the planner's statistics up to date (`ANALYZE`), as autovacuum does within about a
/// minute of a bulk load: a benchmark that measures right after loading would otherwise
/// measure plans made for the table as it was before.
pub fn analyze(url: &str) -> StoreResult<()> {
    client(url)?.batch_execute("analyze").map_err(unavailable)
}

/// Runs `count` transactions of one inserted row each (autocommit) on a connection of its own:
/// the one-row durable transaction.
pub fn raw_one_row_transactions(url: &str, count: u64) -> StoreResult<()> {
    let mut client = client(url)?;
    let insert = client
        .prepare("insert into raw_limit (v, payload) values ($1, $2)")
        .map_err(unavailable)?;
    let payload = "x".repeat(96);
    for v in 0..count {
        let v = i64::try_from(v).unwrap_or(i64::MAX);
        client.execute(&insert, &[&v, &payload]).map_err(unavailable)?;
    }
    Ok(())
}

/// Inserts `rows` rows in one statement and one transaction: the bulk insert.
pub fn raw_bulk_insert(url: &str, rows: u64) -> StoreResult<()> {
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    client(url)?
        .execute(
            "insert into raw_limit (v, payload) select g, repeat('x', 96) \
             from generate_series(1, $1::bigint) g",
            &[&rows],
        )
        .map(|_| ())
        .map_err(unavailable)
}

/// Runs `count` single-row updates (autocommit, as pgbench's `-b simple-update` core:
/// `update ... set abalance = abalance + delta where aid = random`) on a connection of its own;
/// `seed` varies the rows between connections.
pub fn raw_single_row_updates(url: &str, count: u64, seed: u64) -> StoreResult<()> {
    let mut client = client(url)?;
    let update = client
        .prepare("update raw_account set abalance = abalance + $1 where aid = $2")
        .map_err(unavailable)?;
    // A linear congruential walk over the accounts: spread like pgbench's random ids, repeatable.
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let accounts = u64::try_from(RAW_ACCOUNTS).unwrap_or(1);
    for _ in 0..count {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let aid = i64::try_from((x >> 33) % accounts + 1).unwrap_or(1);
        let delta = i64::try_from((x >> 20) % 10_001).unwrap_or(0) - 5_000;
        client.execute(&update, &[&delta, &aid]).map_err(unavailable)?;
    }
    Ok(())
}

/// A position in the server's write-ahead log (`pg_current_wal_lsn()`), to measure what the
/// whole server writes from there ([`wal_bytes_since`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalPosition(String);

/// Where the server at `url` is writing its write-ahead log now.
pub fn wal_position(url: &str) -> StoreResult<WalPosition> {
    let row =
        client(url)?.query_one("select pg_current_wal_lsn()::text", &[]).map_err(unavailable)?;
    Ok(WalPosition(row.get(0)))
}

/// Bytes of write-ahead log the server at `url` has written since `from`, every database's.
/// Exact at once, unlike `pg_stat_wal`, which each connection publishes only now and then.
pub fn wal_bytes_since(url: &str, from: &WalPosition) -> StoreResult<i64> {
    let row = client(url)?
        .query_one(
            "select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::bigint",
            &[&from.0],
        )
        .map_err(unavailable)?;
    Ok(row.get(0))
}
