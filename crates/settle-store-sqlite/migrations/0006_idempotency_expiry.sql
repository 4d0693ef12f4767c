-- Idempotency keys expire after the retention period: pruning and the check of one key find
-- expired rows by the time they were saved. The same as PostgreSQL's 0004.
create index idempotency_by_created on idempotency_key (created_at);
