-- The customer search by a number (settle-store-sql's `search` module). Digits have only
-- 1,000 trigrams, each shared by a fixed share of the customers, so the trigram indexes read
-- more rows for a number the more customers there are. `customer_search.numbers` holds every
-- substring of four to twelve digits of each run of four or more ASCII digits in the name and
-- email, in a GIN index; a search whose text holds such a run looks up its longest run (cut
-- to twelve digits) as one element: the customers that hold it, however many others there
-- are. The same `like` decides. The array lives in the row Settle writes only when a name or
-- email changes, so balance updates never touch it. Settle writes it with the row; this
-- backfills the customers already stored, with the same keys (a test compares the two).
-- SQLite's 0017 keeps suffixes in a B-tree instead, which finds them by range.

alter table customer_search add column numbers text[] not null default '{}';

update customer_search s set numbers = (
    -- More keys than Settle keeps (256, `NUMBER_KEYS_MOST`): the one key `-` instead, which
    -- every search by a number reads.
    select case when count(*) > 256 then array['-'] else array_agg(k order by k) end
    from (
        select distinct substr(m.run[1], start, len) as k
        from regexp_matches(
            s.name_lower || ' ' || coalesce(s.email_lower, ''), '[0123456789]{4,}', 'g')
            as m(run)
        cross join lateral generate_series(4, least(length(m.run[1]), 12)) as len
        cross join lateral generate_series(1, length(m.run[1]) - len + 1) as start
    ) as keys)
where s.name_lower || ' ' || coalesce(s.email_lower, '') ~ '[0123456789]{4,}';

-- Without a pending list (`fastupdate = off`): each new key goes into the index at once, a
-- little more work per customer written, where a pending list, read whole by every search
-- until vacuum empties it, made a search for one customer take 4-7 ms after a load.
create index customer_search_numbers on customer_search using gin (numbers)
    with (fastupdate = off);
