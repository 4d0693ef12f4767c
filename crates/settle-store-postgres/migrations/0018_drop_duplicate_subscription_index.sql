-- subscription_by_customer (0007) indexes (tenant_id, customer_id, subscription_id), the
-- primary key's columns in the primary key's order since 0013: every read it served, the
-- primary key serves the same way. Each invoiced period moves the subscription's next_bill_on,
-- an indexed column, so each update wrote an entry in this index too, for nothing.
--
-- SQLite keeps its subscription_by_customer: there the primary key is subscription_id alone.
drop index subscription_by_customer;
