//! What `settle serve` looks after in the background while it runs: expired idempotency keys
//! and the customer search index's segments. Each is short write transactions with pauses
//! between them, so a request's write waits for at most one of them.

use std::time::{Duration, Instant};

use settle_engine::{Engine, EngineResult};

/// Rows deleted per pruning transaction: small, so a write waits at most one short delete.
const PRUNE_BATCH: u32 = 500;

/// The pause between two short background writes, which lets waiting writes go first.
const STEP_PAUSE: Duration = Duration::from_millis(10);

/// The pause between two rounds of background work.
const ROUND_PAUSE: Duration = Duration::from_secs(60);

/// More segments than this and the customer search index is merged into one. Each write
/// transaction that adds customers adds a segment and SQLite merges them four at a time as
/// they come, so an index in use sits at a handful; a bulk load leaves dozens.
pub(crate) const SEARCH_SEGMENTS_MERGED_ABOVE: u64 = 4;

/// Pages one merge step writes (4 KiB each): a few milliseconds of writing.
const SEARCH_MERGE_PAGES: u32 = 256;

/// The least time between two merges of the search index. A merge rewrites the whole index
/// (about 4 seconds at a million customers, in steps), so a store that adds customers all the
/// time merges once an hour, not every minute.
const SEARCH_MERGE_AT_MOST_EVERY: Duration = Duration::from_secs(3_600);

/// Deletes expired idempotency keys for as long as the server runs: batch after batch until
/// fewer than a batch are left, then again a minute later.
pub(crate) async fn prune_idempotency_keys(engine: Engine) {
    loop {
        loop {
            let batch = engine.clone();
            match tokio::task::spawn_blocking(move || batch.prune_idempotency(PRUNE_BATCH)).await {
                Ok(Ok(pruned)) if pruned >= PRUNE_BATCH as usize => {
                    tokio::time::sleep(STEP_PAUSE).await;
                }
                Ok(Ok(_)) => break,
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "pruning expired idempotency keys failed");
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "pruning expired idempotency keys panicked");
                    break;
                }
            }
        }
        tokio::time::sleep(ROUND_PAUSE).await;
    }
}

/// Merges the customer search index into one segment when it is in more than
/// [`SEARCH_SEGMENTS_MERGED_ABOVE`], at the start and then at most once an hour, checking
/// every minute, for as long as the server runs.
pub(crate) async fn keep_search_index_merged(engine: Engine) {
    let mut merged_at: Option<Instant> = None;
    loop {
        if merged_at.is_none_or(|at| at.elapsed() >= SEARCH_MERGE_AT_MOST_EVERY) {
            let merging = engine.clone();
            match tokio::task::spawn_blocking(move || merge_search_index(&merging, STEP_PAUSE))
                .await
            {
                Ok(Ok(0)) => {}
                Ok(Ok(steps)) => {
                    tracing::info!(steps, "merged the customer search index into one segment");
                    merged_at = Some(Instant::now());
                }
                Ok(Err(err)) => tracing::warn!(error = %err, "merging the search index failed"),
                Err(err) => tracing::warn!(error = %err, "merging the search index panicked"),
            }
        }
        tokio::time::sleep(ROUND_PAUSE).await;
    }
}

/// Merges the customer search index into one segment, step by step with `pause` after each,
/// when it is in more than [`SEARCH_SEGMENTS_MERGED_ABOVE`] segments; the steps it took (0
/// when it was not).
pub(crate) fn merge_search_index(engine: &Engine, pause: Duration) -> EngineResult<u64> {
    if engine.search_index_segments()? <= SEARCH_SEGMENTS_MERGED_ABOVE {
        return Ok(0);
    }
    let mut steps = 0;
    while engine.merge_search_index(SEARCH_MERGE_PAGES)? {
        steps += 1;
        std::thread::sleep(pause);
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use settle_engine::NewCustomer;
    use settle_store_sqlite::{Durability, SqliteStore};

    use super::*;
    use crate::system::{RandomIds, SystemClock};

    #[test]
    fn the_search_index_is_merged_only_past_a_few_segments() {
        let dir = tempfile::tempdir().expect("dir");
        let store = SqliteStore::open(&dir.path().join("s.db"), Durability::Full).expect("open");
        let engine = Engine::new(Arc::new(store), Arc::new(SystemClock), Arc::new(RandomIds));
        let tenant = engine.create_tenant("Upkeep").expect("tenant").tenant_id;
        let add = |n: u64| {
            let new = NewCustomer { name: format!("Brindle {n}"), ..NewCustomer::default() };
            engine.create_customer(&tenant, new).expect("customer");
        };
        // One customer per write transaction: a segment each.
        for n in 0..SEARCH_SEGMENTS_MERGED_ABOVE {
            add(n);
        }
        let segments = engine.search_index_segments().expect("segments");
        assert_eq!(segments, SEARCH_SEGMENTS_MERGED_ABOVE);
        assert_eq!(merge_search_index(&engine, Duration::ZERO).expect("merge"), 0);
        add(SEARCH_SEGMENTS_MERGED_ABOVE);
        assert!(merge_search_index(&engine, Duration::ZERO).expect("merge") > 0);
        assert_eq!(engine.search_index_segments().expect("segments"), 1);
    }
}
