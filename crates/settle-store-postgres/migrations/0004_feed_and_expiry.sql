-- Idempotency keys expire after the retention period: pruning and the check of one key find
-- expired rows by the time they were saved. The same as SQLite's 0006.
create index idempotency_by_created on idempotency_key (created_at);

-- The tenant's journal as a feed that never skips. Customers commit in parallel, so a higher
-- `seq` can be visible before a lower one commits; the feed instead orders by the writing
-- transaction's id and reads only below the snapshot's xmin, under which no transaction is in
-- flight, so nothing new can ever appear behind a reader's cursor. Rows written before this
-- migration all take its transaction's id and keep their `seq` order.
alter table journal_txn add column xid xid8 not null default pg_current_xact_id();
create index journal_feed on journal_txn (tenant_id, xid, seq);
