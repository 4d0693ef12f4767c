-- The customer search's number index (settle-store-sql's `search` module): for every run of
-- four or more ASCII digits in a customer's name or email, each suffix of the run at least
-- four digits long, cut to twelve. Digits have only 1,000 trigrams, each shared by a fixed
-- share of the customers, so the trigram indexes read more rows for a number the more
-- customers there are; a search whose text holds such a run reads instead the keys that start
-- with it, a B-tree range as long as the customers that can match. The same `like` decides.
-- Settle writes the keys with the customer's search entry; this backfills the customers
-- already stored, with the same keys (a test compares the two). The same as SQLite's 0017.

create table customer_number (
    tenant_id text not null,
    customer_id text not null,
    digits text collate "C" not null,
    primary key (tenant_id, customer_id, digits),
    foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id)
);

insert into customer_number (tenant_id, customer_id, digits)
select distinct s.tenant_id, s.customer_id, left(substr(m.run[1], i), 12)
from customer_search s
cross join lateral regexp_matches(
    s.name_lower || ' ' || coalesce(s.email_lower, ''), '[0123456789]{4,}', 'g') as m(run)
cross join lateral generate_series(1, length(m.run[1]) - 3) as i;

create index customer_number_by_digits on customer_number (tenant_id, digits);
