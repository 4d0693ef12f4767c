-- Every insert into the six tables that 0013 gave a customer_id (document_item,
-- application_item, subscription_segment, subscription_period, subscription_line, amendment)
-- now names tenant_id and customer_id itself, from the customer lock every write holds. The
-- triggers that filled them from the parent row go: on a database sharded by customer an
-- insert must carry the distribution column, and a trigger reading the parent was a lookup on
-- every inserted row. Existing rows were backfilled by 0013; the composite foreign keys still
-- check that a row's customer is its parent's.
drop trigger document_item_fill_customer on document_item;
drop trigger application_item_fill_customer on application_item;
drop trigger subscription_segment_fill_customer on subscription_segment;
drop trigger subscription_period_fill_customer on subscription_period;
drop trigger subscription_line_fill_customer on subscription_line;
drop trigger amendment_fill_customer on amendment;

drop function fill_customer_from_document();
drop function fill_customer_from_application();
drop function fill_customer_from_subscription();
