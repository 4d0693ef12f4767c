-- Ready to be sharded by customer on a distributed PostgreSQL (Citus; docs/SCALING.md).
-- No command crosses customers, so every table with per-customer rows now carries
-- (tenant_id, customer_id), and its primary key, unique constraints and foreign keys between
-- per-customer tables all start with them: a distributed engine needs the distribution column
-- in each of them, and then every write of a command lands on one shard.
--
-- 1. customer_id (and tenant_id where missing) is added to the six tables that reached their
--    customer only through a parent, backfilled from the parent, and filled on insert from
--    the parent by a trigger while the shared statements do not name it.
-- 2. Every foreign key between per-customer tables and every primary key and unique
--    constraint of a per-customer table is rebuilt with (tenant_id, customer_id) leading.
-- 3. Each dropped key leaves a plain index on its old columns, so every query that found a
--    row by its id alone keeps its index. Global ids (document_id, payment_id, ...) are
--    generated and unique by construction; uniqueness is now enforced per customer.
--    Document numbers stay unique per tenant because they come from the tenant's sequence
--    (0008); payment link tokens are 256 random bits.
--
-- Cost on a big database: the backfills rewrite six tables, and every new key builds a
-- unique index and validates a foreign key under an exclusive lock; run it in a maintenance
-- window (docs/SCALING.md).

-- 1. The missing columns, backfilled.
alter table document_item add column customer_id text;
update document_item i set customer_id = d.customer_id
    from document d where d.document_id = i.document_id;
alter table document_item alter column customer_id set not null;

alter table application_item add column customer_id text;
update application_item i set customer_id = a.customer_id
    from application a where a.application_id = i.application_id;
alter table application_item alter column customer_id set not null;

alter table subscription_segment add column tenant_id text;
alter table subscription_segment add column customer_id text;
update subscription_segment g set tenant_id = s.tenant_id, customer_id = s.customer_id
    from subscription s where s.subscription_id = g.subscription_id;
alter table subscription_segment alter column tenant_id set not null;
alter table subscription_segment alter column customer_id set not null;
alter table subscription_segment add constraint subscription_segment_tenant_id_fkey
    foreign key (tenant_id) references tenant (tenant_id);

alter table subscription_period add column customer_id text;
update subscription_period p set customer_id = s.customer_id
    from subscription s where s.subscription_id = p.subscription_id;
alter table subscription_period alter column customer_id set not null;

alter table subscription_line add column customer_id text;
update subscription_line l set customer_id = s.customer_id
    from subscription s where s.subscription_id = l.subscription_id;
alter table subscription_line alter column customer_id set not null;

alter table amendment add column customer_id text;
update amendment a set customer_id = s.customer_id
    from subscription s where s.subscription_id = a.subscription_id;
alter table amendment alter column customer_id set not null;

-- Fills the new columns of a row inserted without them, from its parent row. A row that
-- names them is left as it is (and the foreign keys below check them).
create function fill_customer_from_document() returns trigger language plpgsql as $$
begin
    if new.customer_id is null then
        select customer_id into new.customer_id from document where document_id = new.document_id;
    end if;
    return new;
end;
$$;
create function fill_customer_from_application() returns trigger language plpgsql as $$
begin
    if new.customer_id is null then
        select customer_id into new.customer_id from application
            where application_id = new.application_id;
    end if;
    return new;
end;
$$;
create function fill_customer_from_subscription() returns trigger language plpgsql as $$
begin
    if new.customer_id is null or new.tenant_id is null then
        select tenant_id, customer_id into new.tenant_id, new.customer_id from subscription
            where subscription_id = new.subscription_id;
    end if;
    return new;
end;
$$;
create trigger document_item_fill_customer before insert on document_item
    for each row execute function fill_customer_from_document();
create trigger application_item_fill_customer before insert on application_item
    for each row execute function fill_customer_from_application();
create trigger subscription_segment_fill_customer before insert on subscription_segment
    for each row execute function fill_customer_from_subscription();
create trigger subscription_period_fill_customer before insert on subscription_period
    for each row execute function fill_customer_from_subscription();
create trigger subscription_line_fill_customer before insert on subscription_line
    for each row execute function fill_customer_from_subscription();
create trigger amendment_fill_customer before insert on amendment
    for each row execute function fill_customer_from_subscription();

-- 2. Drop every foreign key between per-customer tables and every primary key and unique
--    constraint of a per-customer table (by catalog, so the generated names need not be
--    spelled out); foreign keys to tenant-level tables stay.
do $$
declare
    per_customer text[] := array['customer', 'document', 'document_item', 'payment',
        'application', 'application_item', 'journal_txn', 'posting', 'customer_account',
        'history', 'adjustment', 'refund', 'payment_link', 'subscription',
        'subscription_segment', 'subscription_period', 'subscription_line', 'amendment'];
    r record;
begin
    for r in
        select c.conrelid::regclass as tbl, c.conname
        from pg_constraint c
        where c.contype = 'f'
            and c.conrelid::regclass::text = any (per_customer)
            and c.confrelid::regclass::text = any (per_customer)
    loop
        execute format('alter table %s drop constraint %I', r.tbl, r.conname);
    end loop;
    for r in
        select c.conrelid::regclass as tbl, c.conname
        from pg_constraint c
        where c.contype in ('p', 'u')
            and c.conrelid::regclass::text = any (per_customer)
    loop
        execute format('alter table %s drop constraint %I', r.tbl, r.conname);
    end loop;
end
$$;

-- 3. Plain indexes on the dropped keys' columns, for the lookups by id.
create index customer_by_id on customer (customer_id);
create index document_by_id on document (document_id);
create index document_by_number on document (tenant_id, number);
create index document_item_by_id on document_item (item_id);
create index document_item_by_document on document_item (document_id, idx);
create index payment_by_id on payment (payment_id);
create index application_by_id on application (application_id);
create index application_item_by_application on application_item (application_id, idx);
create index journal_txn_by_id on journal_txn (txn_id);
create index posting_by_txn on posting (txn_id, idx);
create index customer_account_by_customer on customer_account (customer_id, account, currency);
create index history_by_id on history (history_id);
create index adjustment_by_id on adjustment (adjustment_id);
create index refund_by_id on refund (refund_id);
create index payment_link_by_id on payment_link (link_id);
create index payment_link_by_token on payment_link (token_hash);
create index subscription_by_id on subscription (subscription_id);
create index subscription_segment_by_subscription on subscription_segment (subscription_id, idx);
create index subscription_period_by_subscription
    on subscription_period (subscription_id, period_start);
create index subscription_line_by_invoice_item on subscription_line (invoice_item_id);
create index amendment_by_id on amendment (amendment_id);

-- 4. The keys, with (tenant_id, customer_id) leading.
alter table customer add primary key (tenant_id, customer_id);
alter table document add primary key (tenant_id, customer_id, document_id),
    add unique (tenant_id, customer_id, number);
alter table document_item add primary key (tenant_id, customer_id, item_id),
    add unique (tenant_id, customer_id, document_id, idx);
alter table payment add primary key (tenant_id, customer_id, payment_id);
alter table application add primary key (tenant_id, customer_id, application_id);
alter table application_item add primary key (tenant_id, customer_id, application_id, idx);
alter table journal_txn add primary key (tenant_id, customer_id, txn_id);
alter table posting add primary key (tenant_id, customer_id, txn_id, idx);
alter table customer_account add primary key (tenant_id, customer_id, account, currency);
alter table history add primary key (tenant_id, customer_id, history_id);
alter table adjustment add primary key (tenant_id, customer_id, adjustment_id);
alter table refund add primary key (tenant_id, customer_id, refund_id);
alter table payment_link add primary key (tenant_id, customer_id, link_id),
    add unique (tenant_id, customer_id, token_hash);
alter table subscription add primary key (tenant_id, customer_id, subscription_id);
alter table subscription_segment add primary key (tenant_id, customer_id, subscription_id, idx);
alter table subscription_period
    add primary key (tenant_id, customer_id, subscription_id, period_start);
alter table subscription_line add primary key (tenant_id, customer_id, line_seq),
    add unique (tenant_id, customer_id, invoice_item_id);
alter table amendment add primary key (tenant_id, customer_id, amendment_id);

-- 5. The foreign keys between per-customer tables, with (tenant_id, customer_id) leading.
alter table document
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id),
    add foreign key (tenant_id, customer_id, adjusts_invoice_id)
        references document (tenant_id, customer_id, document_id);
alter table document_item
    add foreign key (tenant_id, customer_id, document_id)
        references document (tenant_id, customer_id, document_id),
    add foreign key (tenant_id, customer_id, parent_item_id)
        references document_item (tenant_id, customer_id, item_id),
    add foreign key (tenant_id, customer_id, invoice_item_id)
        references document_item (tenant_id, customer_id, item_id);
alter table payment
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table application
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id),
    add foreign key (tenant_id, customer_id, target_id)
        references document (tenant_id, customer_id, document_id);
alter table application_item
    add foreign key (tenant_id, customer_id, application_id)
        references application (tenant_id, customer_id, application_id),
    add foreign key (tenant_id, customer_id, item_id)
        references document_item (tenant_id, customer_id, item_id),
    add foreign key (tenant_id, customer_id, credit_memo_item_id)
        references document_item (tenant_id, customer_id, item_id);
alter table journal_txn
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table posting
    add foreign key (tenant_id, customer_id, txn_id)
        references journal_txn (tenant_id, customer_id, txn_id),
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table customer_account
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table history
    add foreign key (tenant_id, customer_id, history_id)
        references journal_txn (tenant_id, customer_id, txn_id),
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table adjustment
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id),
    add foreign key (tenant_id, customer_id, document_id)
        references document (tenant_id, customer_id, document_id),
    add foreign key (tenant_id, customer_id, item_id)
        references document_item (tenant_id, customer_id, item_id);
alter table refund
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table payment_link
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table subscription
    add foreign key (tenant_id, customer_id) references customer (tenant_id, customer_id);
alter table subscription_segment
    add foreign key (tenant_id, customer_id, subscription_id)
        references subscription (tenant_id, customer_id, subscription_id);
alter table subscription_period
    add foreign key (tenant_id, customer_id, subscription_id)
        references subscription (tenant_id, customer_id, subscription_id),
    add foreign key (tenant_id, customer_id, document_id)
        references document (tenant_id, customer_id, document_id);
alter table subscription_line
    add foreign key (tenant_id, customer_id, subscription_id)
        references subscription (tenant_id, customer_id, subscription_id),
    add foreign key (tenant_id, customer_id, invoice_item_id)
        references document_item (tenant_id, customer_id, item_id);
alter table amendment
    add foreign key (tenant_id, customer_id, subscription_id)
        references subscription (tenant_id, customer_id, subscription_id),
    add foreign key (tenant_id, customer_id, document_id)
        references document (tenant_id, customer_id, document_id);
