-- The customer search's number index (settle-store-sql's `search` module): for every run of
-- four or more ASCII digits in a customer's name or email, each suffix of the run at least
-- four digits long, cut to twelve, with the customer's `seq`. Digits have only 1,000
-- trigrams, each shared by a fixed share of the customers, so the trigram index reads more
-- rows for a number the more customers there are; a search whose text holds such a run reads
-- instead the keys that start with it, a B-tree range as long as the customers that can match.
-- The same LIKE decides. Settle writes the keys with the customer's row; this backfills the
-- customers already stored, with the same keys (a test compares the two): at each position of
-- each text, the digits that lead what follows it. The same as PostgreSQL's 0022.

create table customer_number (
    digits text not null,
    seq integer not null,
    primary key (digits, seq)
) without rowid;

create index customer_number_by_customer on customer_number (seq);

with recursive
    field (seq, t) as (
        select seq, name_lower from customer
        union all
        select seq, email_lower from customer where email_lower is not null
    ),
    place (i) as (
        select 1
        union all
        select i + 1 from place
        where i < (select max(length(t)) from field)
    ),
    run_from (seq, digits) as (
        select seq, substr(t, i, length(t) - i + 1 - length(ltrim(substr(t, i), '0123456789')))
        from field join place on i <= length(t)
    )
insert or ignore into customer_number (digits, seq)
select substr(digits, 1, 12), seq from run_from where length(digits) >= 4;

-- A customer with more keys than Settle keeps (256, `NUMBER_KEYS_MOST`) keeps the one key `-`
-- instead, which every search by a number reads.
insert into customer_number (digits, seq)
select '-', seq from customer_number group by seq having count(*) > 256;

delete from customer_number
where digits <> '-' and seq in (select seq from customer_number where digits = '-');
