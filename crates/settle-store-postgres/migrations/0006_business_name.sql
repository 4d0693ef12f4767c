-- The business's name as its customers know it, shown on the payment page; empty means the
-- tenant's name.
alter table tenant add column business_name text not null default ''
    check (char_length(business_name) <= 200);
