-- The catalog (products and prices), subscriptions with their item segments, the periods
-- and lines each subscription has had invoiced, amendments and bill runs. None of it is
-- ledger state: the invoices are ordinary documents, posted through the journal.
-- The same as SQLite's 0009.

create table product (
    product_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    name text not null,
    description text,
    created_at timestamptz not null
);
create index product_by_tenant on product (tenant_id, product_id);

create table price (
    price_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    product_id text not null references product (product_id),
    currency text not null,
    unit_amount_minor bigint not null check (unit_amount_minor between 0 and 99999999999999),
    recurring_interval text check (recurring_interval in ('month', 'year')),
    interval_count integer check (interval_count between 1 and 36),
    tax_rate numeric,
    archived_at timestamptz,
    created_at timestamptz not null,
    check ((recurring_interval is null) = (interval_count is null))
);
create index price_by_tenant on price (tenant_id, price_id);

create table subscription (
    subscription_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    currency text not null,
    status text not null check (status in ('active', 'canceled')),
    start_date date not null,
    recurring_interval text not null check (recurring_interval in ('month', 'year')),
    interval_count integer not null check (interval_count between 1 and 36),
    ends_on date,
    billed_periods integer not null check (billed_periods >= 0),
    -- The start of the next period to invoice; null once nothing more will be billed. Bill
    -- runs find due customers by it.
    next_bill_on date,
    created_at timestamptz not null
);
create index subscription_by_customer on subscription (tenant_id, customer_id, subscription_id);
create index subscription_by_status on subscription (tenant_id, status, subscription_id);
create index subscription_due on subscription (tenant_id, next_bill_on, customer_id)
    where next_bill_on is not null;

-- Each item's price and quantity over [starts_on, ends_on), in the order they were made.
create table subscription_segment (
    subscription_id text not null references subscription (subscription_id),
    idx integer not null,
    item_id text not null,
    price_id text not null references price (price_id),
    quantity numeric not null,
    starts_on date not null,
    ends_on date,
    primary key (subscription_id, idx)
);

-- Exactly once: one row per invoiced (subscription, period), written in the same database
-- transaction as its invoice, so a rerun or a concurrent run cannot invoice a period twice.
create table subscription_period (
    tenant_id text not null references tenant (tenant_id),
    subscription_id text not null references subscription (subscription_id),
    period_start date not null,
    document_id text references document (document_id),
    created_at timestamptz not null,
    primary key (subscription_id, period_start)
);

-- Which invoice item charged which segment of an item in which period: what a later
-- proration credits. The latest row of a key (highest line_seq) is the live one.
create table subscription_line (
    line_seq bigint generated always as identity primary key,
    tenant_id text not null references tenant (tenant_id),
    subscription_id text not null references subscription (subscription_id),
    period_start date not null,
    item_id text not null,
    segment_start date not null,
    invoice_item_id text not null unique references document_item (item_id),
    created_at timestamptz not null
);
create index subscription_line_by_key
    on subscription_line (subscription_id, period_start, item_id, segment_start);

create table amendment (
    amendment_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    subscription_id text not null references subscription (subscription_id),
    effective_date date not null,
    timing text not null check (timing in ('immediate', 'end_of_period')),
    takes_effect_on date not null,
    changes text not null,
    document_id text references document (document_id),
    created_at timestamptz not null
);
create index amendment_by_subscription on amendment (subscription_id, created_at);

create table bill_run (
    bill_run_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    as_of date not null,
    status text not null check (status in ('running', 'done')),
    customers_total integer not null,
    customers_done integer not null,
    invoices_created integer not null,
    created_at timestamptz not null,
    finished_at timestamptz
);

create table bill_run_total (
    bill_run_id text not null references bill_run (bill_run_id),
    currency text not null,
    total_minor bigint not null,
    primary key (bill_run_id, currency)
);

create table bill_run_failure (
    bill_run_id text not null references bill_run (bill_run_id),
    customer_id text not null,
    reason text not null,
    primary key (bill_run_id, customer_id)
);
