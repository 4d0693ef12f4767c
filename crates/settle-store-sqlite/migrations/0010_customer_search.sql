-- An index for the customer search (a case-insensitive substring of name or email): an FTS5
-- table with the trigram tokenizer over the lower-cased columns, kept by triggers. The search
-- asks it for the customers whose name or email holds every trigram of the text in order (a
-- phrase), then applies the same LIKE as before to those rows, so the results are exactly the
-- same; texts shorter than three characters have no trigram and keep the plain LIKE.
-- The same as PostgreSQL's 0009 (pg_trgm).

create virtual table customer_search using fts5 (
    name_lower,
    email_lower,
    tokenize = 'trigram',
    content = 'customer',
    content_rowid = 'seq'
);

insert into customer_search (customer_search) values ('rebuild');

create trigger customer_search_insert after insert on customer begin
    insert into customer_search (rowid, name_lower, email_lower)
    values (new.seq, new.name_lower, new.email_lower);
end;

-- Balances change on every command; only a changed name or email touches the index.
create trigger customer_search_update after update of name_lower, email_lower on customer
when old.name_lower is not new.name_lower or old.email_lower is not new.email_lower begin
    insert into customer_search (customer_search, rowid, name_lower, email_lower)
    values ('delete', old.seq, old.name_lower, old.email_lower);
    insert into customer_search (rowid, name_lower, email_lower)
    values (new.seq, new.name_lower, new.email_lower);
end;

create trigger customer_search_delete after delete on customer begin
    insert into customer_search (customer_search, rowid, name_lower, email_lower)
    values ('delete', old.seq, old.name_lower, old.email_lower);
end;
