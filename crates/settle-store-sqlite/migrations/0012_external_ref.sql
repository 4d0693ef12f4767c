-- Imports from another system: each imported customer or invoice keeps the id it had there,
-- unique per tenant and kind, so importing the same file again finds every row and skips it.
-- The row is written in the same transaction as the customer or invoice it names.
create table external_ref (
    tenant_id text not null references tenant (tenant_id),
    kind text not null check (kind in ('customer', 'invoice')),
    external_id text not null,
    object_id text not null,
    source_number text,
    created_at text not null,
    primary key (tenant_id, kind, external_id)
);

-- An invoice file may name its customer by email.
create index customer_by_email on customer (tenant_id, email_lower);
