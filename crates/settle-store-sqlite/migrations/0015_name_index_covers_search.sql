-- A customer search that the trigram index does not serve (a text under three characters, or
-- one whose trigrams most customers share) reads the customers in the list's order, by name,
-- until a page is full, testing each one's lower-cased name and email. With the name index
-- alone, every customer tested cost a read of its row, scattered through the table: at a
-- million customers a two-character search took six times what it took at ten thousand. The
-- name index now also carries the two columns the search tests, so SQLite decides the LIKE
-- from the index, in the index's order, and reads a row only for a customer that matches.
-- A balance update changes neither column, so it writes this index no more than before.
create index customer_by_name_with_search on customer (
    tenant_id, name, customer_id, name_lower, email_lower
);
drop index customer_by_name;

