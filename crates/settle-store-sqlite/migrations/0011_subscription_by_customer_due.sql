-- A bill run lists the customers due in customer order, 500 at a time, after the last one it
-- billed. Through subscription_due (by date) every batch would scan and sort every due
-- subscription of the tenant; this index walks them in customer order from where the last
-- batch stopped, so listing a tenant's customers costs one pass in all.
create index subscription_by_customer_due on subscription (tenant_id, customer_id, next_bill_on)
    where next_bill_on is not null;
