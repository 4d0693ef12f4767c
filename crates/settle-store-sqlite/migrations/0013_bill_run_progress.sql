-- When a bill run last committed progress, and when it was stopped by a shutdown.
-- A run whose status is still 'running' is:
--   stopped      when stopped_at is set (the process was asked to stop and ended the run at a
--                customer boundary; a new run for the same date bills the rest);
--   interrupted  when its last progress is older than the engine's staleness limit (the
--                process died, as with kill -9; the engine decides this when it reads the run);
--   running      otherwise.
-- 'done' keeps its meaning. The status column keeps its two values, so no table is rebuilt.
alter table bill_run add column updated_at text;
alter table bill_run add column stopped_at text;
update bill_run set updated_at = coalesce(finished_at, created_at);
