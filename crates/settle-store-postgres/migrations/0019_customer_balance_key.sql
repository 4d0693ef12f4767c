-- Lets the customer's row, which every command that moves money updates, change in place.
-- PostgreSQL writes an update as a new version of the row; when no indexed column changes and
-- the row's page has room, the new version stays on that page as a heap-only tuple (HOT) and
-- no index is written. Otherwise every index of the table gets a new entry: on `customer`, six
-- per balance change, because its balance_minor was indexed for the list by balance.
--
-- 1. The list by balance reads a narrow table of its own, `customer_balance_key`, which holds
--    each customer's balance_minor (the value of the customer's own column, written with it
--    by the store) under the index the list walks. A balance change now writes that narrow
--    row and its two index entries, and the customer's row changes in place.
-- 2. `customer` keeps half of each page free for the next versions of its rows
--    (fillfactor 50): within one transaction the old version of a row cannot be pruned yet, so
--    a bill run's batch, which updates every customer of a page once, needs room for a second
--    version of each. Rows inserted from now on are packed this way; existing pages get room
--    as old versions are vacuumed.
--
-- The subscription's update keeps writing an entry in each of its indexes: its next_bill_on is
-- indexed (subscription_by_customer_due) so that a bill run finds the due subscriptions of a
-- page of customers in index order whatever the planner's statistics say (docs/BENCHMARKS.md,
-- "Heap-only updates").
create table customer_balance_key (
    tenant_id text not null,
    customer_id text not null,
    balance_minor bigint not null,
    primary key (tenant_id, customer_id),
    foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id)
);

insert into customer_balance_key (tenant_id, customer_id, balance_minor)
    select tenant_id, customer_id, balance_minor from customer;

create index customer_balance_key_by_balance
    on customer_balance_key (tenant_id, balance_minor, customer_id collate "C");

drop index customer_by_balance;
alter table customer set (fillfactor = 50);
