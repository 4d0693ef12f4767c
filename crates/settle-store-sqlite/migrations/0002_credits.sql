-- Version 2: refunds and adjustments, what has been credited on each invoice item, and what
-- has been refunded from each payment.

-- Credit memo items and adjustments naming an invoice item, in size (a projection).
alter table document_item add column credited_minor integer not null default 0
    check (credited_minor >= 0);

-- Money paid back out of a payment (a projection).
alter table payment add column refunded_minor integer not null default 0
    check (refunded_minor >= 0);

-- Invoice item adjustments.
create table adjustment (
    seq integer primary key,
    adjustment_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    document_id text not null references document (document_id),
    item_id text not null references document_item (item_id),
    type text not null check (type in ('credit', 'charge')),
    amount_minor integer not null check (amount_minor > 0),
    currency text not null,
    reason text not null,
    effective_date text not null,
    created_at text not null
);
create index adjustment_by_document on adjustment (tenant_id, document_id, seq);

-- Refunds: money paid back from a payment, a credit memo or the credit balance.
create table refund (
    seq integer primary key,
    refund_id text not null unique,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    source_type text not null check (source_type in ('payment', 'credit_memo', 'credit_balance')),
    source_id text,
    amount_minor integer not null check (amount_minor > 0),
    currency text not null,
    method text not null check (method in ('cash', 'check', 'card', 'ach', 'other')),
    reference text,
    effective_date text not null,
    created_at text not null
);
create index refund_by_customer on refund (tenant_id, customer_id, seq);
