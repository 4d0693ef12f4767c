-- Indexes for the customer search (a case-insensitive substring of name or email):
-- trigram GIN indexes (pg_trgm, from PostgreSQL's contrib) on the lower-cased columns, which
-- serve the search's unchanged `like '%text%'` conditions. The LIKE is still checked on every
-- row the index finds, so the results are exactly the same; a text shorter than three
-- characters has no trigram, and the planner reads the rows as before.
-- The same as SQLite's 0010 (FTS5 trigram).

create extension if not exists pg_trgm;

create index customer_name_trigram on customer using gin (name_lower gin_trgm_ops);
create index customer_email_trigram on customer using gin (email_lower gin_trgm_ops);
