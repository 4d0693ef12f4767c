-- The customer search's trigram indexes move to a table of their own, `customer_search`, which
-- holds each customer's lower-cased name and email and is written only when they change. A
-- customer's balances change with every command, and an update whose row cannot stay on its
-- page as a heap-only tuple (the balance has an index, so none can) writes a new entry in every
-- index of the row: on `customer`, each balance update wrote a trigram entry for every three
-- letters of the name and of the email (9% of a bill run's server time). The search itself is
-- unchanged: the same `like` on the same lower-cased columns, from these indexes.

create table customer_search (
    tenant_id text not null,
    customer_id text not null,
    name_lower text not null,
    email_lower text,
    primary key (tenant_id, customer_id),
    foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id)
);

insert into customer_search (tenant_id, customer_id, name_lower, email_lower)
    select tenant_id, customer_id, name_lower, email_lower from customer;

create index customer_search_name_trigram on customer_search using gin (name_lower gin_trgm_ops);
create index customer_search_email_trigram on customer_search using gin (email_lower gin_trgm_ops);

drop index customer_name_trigram;
drop index customer_email_trigram;
