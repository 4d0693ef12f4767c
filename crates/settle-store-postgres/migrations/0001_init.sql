-- Settle's PostgreSQL schema, version 1: the same tables, columns, constraints and indexes as
-- the SQLite migrations 0001 (init), 0002 (credits) and 0003 (idempotency) taken together.
-- Money is bigint minor units with the currency beside it; dates are `date`, times
-- `timestamptz`. Every tenant-owned row carries tenant_id. The journal (journal_txn, posting) is
-- append-only: triggers refuse UPDATE, DELETE and TRUNCATE. Every *_minor balance column outside
-- the journal is a projection that `settle verify` rebuilds from postings and compares.
-- Text that lists sort on (customer names, ids) is compared with `collate "C"` in the indexes
-- and queries, which orders by bytes as SQLite's BINARY collation does.

-- A tenant is one company's books, with its settings.
create table tenant (
    tenant_id text primary key,
    name text not null,
    default_currency text not null default 'USD',
    time_zone text not null default 'UTC',
    application_rule text not null default 'net_first'
        check (application_rule in ('proration', 'sequential', 'net_first')),
    negative_invoice_policy text not null default 'keep'
        check (negative_invoice_policy in ('keep', 'transfer_to_credit', 'transfer_and_apply')),
    auto_apply_credit boolean not null default false,
    created_at timestamptz not null
);

-- API keys: only the SHA-256 of the key text is kept.
create table api_key (
    api_key_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    key_hash text not null unique,
    role text not null check (role in ('admin', 'clerk', 'viewer')),
    name text,
    created_at timestamptz not null,
    revoked_at timestamptz
);

-- Per-tenant document number sequences.
create table counter (
    tenant_id text not null references tenant (tenant_id),
    kind text not null,
    last_value bigint not null check (last_value > 0),
    created_at timestamptz not null,
    primary key (tenant_id, kind)
);

-- Customers with their balance projections. seq orders by creation. Metadata is kept as the
-- exact JSON text it was given (jsonb would reorder keys and drop whitespace).
create table customer (
    seq bigint generated always as identity primary key,
    customer_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    name text not null,
    name_lower text not null,
    email text,
    email_lower text,
    currency text not null,
    payment_terms_days integer not null check (payment_terms_days >= 0),
    metadata text not null default '{}',
    receivable_minor bigint not null default 0,
    unapplied_payments_minor bigint not null default 0,
    credit_memo_balance_minor bigint not null default 0,
    credit_balance_minor bigint not null default 0 check (credit_balance_minor >= 0),
    balance_minor bigint not null default 0,
    created_at timestamptz not null,
    check (balance_minor = unapplied_payments_minor + credit_memo_balance_minor
        + credit_balance_minor - receivable_minor)
);
create index customer_by_name on customer (tenant_id, name collate "C", customer_id collate "C");
create index customer_by_balance on customer (tenant_id, balance_minor, customer_id collate "C");
create index customer_by_seq on customer (tenant_id, seq);

-- Invoices, debit memos and credit memos. total and balance are sums of the items.
create table document (
    seq bigint generated always as identity primary key,
    document_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    kind text not null check (kind in ('invoice', 'debit_memo', 'credit_memo')),
    number text not null,
    status text not null check (status in ('draft', 'posted', 'voided', 'canceled')),
    currency text not null,
    invoice_date date not null,
    due_date date not null,
    adjusts_invoice_id text references document (document_id),
    reason text,
    total_minor bigint not null,
    balance_minor bigint not null,
    -- balance_minor plus the balances of the adjustment invoices that adjust this one.
    group_balance_minor bigint not null,
    open_item_count integer not null check (open_item_count >= 0),
    created_at timestamptz not null,
    unique (tenant_id, number)
);
create index document_by_tenant on document (tenant_id, kind, seq);
create index document_by_customer on document (tenant_id, customer_id, kind, seq);

-- Document items; balance never passes zero relative to the amount's sign. Quantities, unit
-- prices and tax rates are exact decimals. credited_minor is what credit memo items and
-- adjustments naming this invoice item have credited, in size (a projection).
create table document_item (
    item_id text primary key,
    document_id text not null references document (document_id),
    tenant_id text not null references tenant (tenant_id),
    idx integer not null,
    kind text not null check (kind in ('charge', 'tax')),
    parent_item_id text references document_item (item_id),
    description text not null,
    quantity numeric,
    unit_price numeric,
    tax_rate numeric,
    invoice_item_id text references document_item (item_id),
    amount_minor bigint not null,
    balance_minor bigint not null,
    created_at timestamptz not null,
    credited_minor bigint not null default 0 check (credited_minor >= 0),
    unique (document_id, idx),
    check ((amount_minor >= 0 and balance_minor between 0 and amount_minor)
        or (amount_minor < 0 and balance_minor between amount_minor and 0))
);

-- Payments; unapplied has the sign of the amount. refunded_minor is the money paid back out of
-- the payment (a projection).
create table payment (
    seq bigint generated always as identity primary key,
    payment_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    amount_minor bigint not null check (amount_minor <> 0),
    currency text not null,
    unapplied_minor bigint not null,
    method text not null check (method in ('cash', 'check', 'card', 'ach', 'other')),
    reference text,
    status text not null check (status in ('posted', 'voided')),
    effective_date date not null,
    created_at timestamptz not null,
    refunded_minor bigint not null default 0 check (refunded_minor >= 0),
    check ((amount_minor > 0 and unapplied_minor between 0 and amount_minor)
        or (amount_minor < 0 and unapplied_minor between amount_minor and 0))
);
create index payment_by_tenant on payment (tenant_id, seq);
create index payment_by_customer on payment (tenant_id, customer_id, seq);

-- Applications of a source to a receivable document, and their per-item amounts.
create table application (
    seq bigint generated always as identity primary key,
    application_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    source_type text not null check (source_type in ('payment', 'credit_memo', 'credit_balance')),
    source_id text,
    target_id text not null references document (document_id),
    rule text,
    currency text not null,
    effective_date date not null,
    created_at timestamptz not null
);
create index application_by_tenant on application (tenant_id, seq);
create index application_by_customer on application (tenant_id, customer_id, seq);
create index application_by_source on application (tenant_id, source_id, seq);
create index application_by_target on application (tenant_id, target_id, seq);

create table application_item (
    application_id text not null references application (application_id),
    idx integer not null,
    tenant_id text not null references tenant (tenant_id),
    item_id text not null references document_item (item_id),
    credit_memo_item_id text references document_item (item_id),
    amount_minor bigint not null check (amount_minor <> 0),
    net_minor bigint not null,
    created_at timestamptz not null,
    primary key (application_id, idx),
    check ((amount_minor > 0 and net_minor between 0 and amount_minor)
        or (amount_minor < 0 and net_minor between amount_minor and 0))
);

-- The journal: one row per balanced transaction, postings beside it. Append-only.
create table journal_txn (
    seq bigint generated always as identity primary key,
    txn_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    kind text not null,
    effective_date date not null,
    description text not null,
    subject_id text,
    created_at timestamptz not null
);
create index journal_by_tenant on journal_txn (tenant_id, seq);
create index journal_by_customer on journal_txn (tenant_id, customer_id, seq);

create table posting (
    txn_id text not null references journal_txn (txn_id),
    idx integer not null,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    account text not null,
    side text not null check (side in ('debit', 'credit')),
    amount_minor bigint not null check (amount_minor > 0),
    currency text not null,
    document_id text,
    item_id text,
    payment_id text,
    application_id text,
    created_at timestamptz not null,
    primary key (txn_id, idx)
);

-- Refuses every change to a journal row. The error is in SQLSTATE class 23 (restrict_violation),
-- so the adapter reports it as a conflict, as SQLite's RAISE(ABORT) is.
create function journal_rows_are_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'journal rows are immutable' using errcode = 'restrict_violation';
end;
$$;

create trigger journal_txn_no_update before update on journal_txn
    for each row execute function journal_rows_are_immutable();
create trigger journal_txn_no_delete before delete on journal_txn
    for each row execute function journal_rows_are_immutable();
create trigger journal_txn_no_truncate before truncate on journal_txn
    for each statement execute function journal_rows_are_immutable();
create trigger posting_no_update before update on posting
    for each row execute function journal_rows_are_immutable();
create trigger posting_no_delete before delete on posting
    for each row execute function journal_rows_are_immutable();
create trigger posting_no_truncate before truncate on posting
    for each statement execute function journal_rows_are_immutable();

-- Debit and credit totals per customer, account and currency (the trial balance's source).
create table customer_account (
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    account text not null,
    currency text not null,
    debit_minor bigint not null check (debit_minor >= 0),
    credit_minor bigint not null check (credit_minor >= 0),
    created_at timestamptz not null,
    primary key (customer_id, account, currency)
);

-- Billing history lines: one per journal transaction that changed the customer's balance.
create table history (
    seq bigint generated always as identity primary key,
    history_id text not null unique references journal_txn (txn_id),
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    effective_date date not null,
    kind text not null,
    description text not null,
    amount_minor bigint not null check (amount_minor <> 0),
    balance_after_minor bigint not null,
    currency text not null,
    document_id text,
    created_at timestamptz not null
);
create index history_by_customer on history (tenant_id, customer_id, seq);

-- Invoice item adjustments.
create table adjustment (
    seq bigint generated always as identity primary key,
    adjustment_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    document_id text not null references document (document_id),
    item_id text not null references document_item (item_id),
    type text not null check (type in ('credit', 'charge')),
    amount_minor bigint not null check (amount_minor > 0),
    currency text not null,
    reason text not null,
    effective_date date not null,
    created_at timestamptz not null
);
create index adjustment_by_document on adjustment (tenant_id, document_id, seq);

-- Refunds: money paid back from a payment, a credit memo or the credit balance.
create table refund (
    seq bigint generated always as identity primary key,
    refund_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    source_type text not null check (source_type in ('payment', 'credit_memo', 'credit_balance')),
    source_id text,
    amount_minor bigint not null check (amount_minor > 0),
    currency text not null,
    method text not null check (method in ('cash', 'check', 'card', 'ach', 'other')),
    reference text,
    effective_date date not null,
    created_at timestamptz not null
);
create index refund_by_customer on refund (tenant_id, customer_id, seq);

-- Saved responses of requests made with an Idempotency-Key, kept with the effect they answer
-- (they are written in the same transaction).
create table idempotency_key (
    tenant_id text not null references tenant (tenant_id),
    idempotency_key text not null,
    request_hash text not null,
    status integer not null check (status between 200 and 299),
    body text not null,
    created_at timestamptz not null,
    primary key (tenant_id, idempotency_key)
);
