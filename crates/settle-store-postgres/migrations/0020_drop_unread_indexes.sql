-- Three indexes that every invoice of a bill run writes and no statement reads. 0013 left a
-- plain index on the columns of each key it rebuilt, "so every query that found a row by its
-- id alone keeps its index"; for these three tables no query does:
--
-- - history_by_id (history_id): history is read by (tenant_id, customer_id) in `seq` order
--   (history_by_customer), and nothing references it; the primary key (tenant_id,
--   customer_id, history_id) keeps the ids unique. One entry per invoice.
-- - customer_account_by_customer (customer_id, account, currency): the account totals are
--   read for a whole tenant (`where tenant_id = $1`) and upserted by the primary key (tenant_id,
--   customer_id, account, currency). Two entries per invoice of a new customer.
-- - subscription_line_by_invoice_item (invoice_item_id): the lines are read by subscription,
--   period, item and segment (subscription_line_by_key); the foreign key from the line to its
--   invoice item is checked, should that item go, through the unique key (tenant_id,
--   customer_id, invoice_item_id). One entry per invoice line.
drop index history_by_id;
drop index customer_account_by_customer;
drop index subscription_line_by_invoice_item;
