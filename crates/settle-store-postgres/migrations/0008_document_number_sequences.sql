-- Document numbers without a tenant-wide hot spot. Until now every document took the lock on
-- its tenant's `counter` row and held it until commit, so the posts of a tenant's customers
-- queued behind each other's commit. Numbers now come from one sequence per tenant and kind:
-- `nextval` never waits for another transaction, and a number once drawn is never drawn again,
-- even when the transaction that drew it rolls back (which leaves a gap: see "Document
-- numbers" in ARCHITECTURE.md).
--
-- The sequence of a tenant and kind is named `document_number_` || md5(tenant_id || '/' ||
-- kind) and made the first time a number of that kind is drawn; `document_number_sequence`
-- lists the sequences made, and its primary key makes two first draws take turns (once per
-- tenant and kind, ever).

create table document_number_sequence (
    tenant_id text not null references tenant (tenant_id),
    kind text not null,
    sequence_name text not null unique,
    created_at timestamptz not null,
    primary key (tenant_id, kind)
);

-- The next number of `p_kind` in `p_tenant` (1, 2, ...), making its sequence on first use.
create function next_document_number(p_tenant text, p_kind text, p_now timestamptz)
returns bigint
language plpgsql
as $$
declare
    seq_name text := 'document_number_' || md5(p_tenant || '/' || p_kind);
    value bigint;
begin
    -- to_regclass is null while the sequence does not exist, and nextval(null) is null.
    value := nextval(to_regclass(seq_name));
    if value is null then
        insert into document_number_sequence (tenant_id, kind, sequence_name, created_at)
        values (p_tenant, p_kind, seq_name, p_now)
        on conflict do nothing;
        if found then
            execute format('create sequence %I as bigint minvalue 1 start with 1', seq_name);
        end if;
        -- Either this transaction made it, or another one did and committed before the insert
        -- above returned.
        value := nextval(seq_name::regclass);
    end if;
    return value;
end
$$;

-- The number the next call of next_document_number would give, without taking it (previews).
create function peek_document_number(p_tenant text, p_kind text)
returns bigint
language plpgsql
as $$
declare
    seq regclass := to_regclass('document_number_' || md5(p_tenant || '/' || p_kind));
    value bigint;
begin
    if seq is null then
        return 1;
    end if;
    execute format('select case when is_called then last_value + 1 else last_value end from %s',
        seq) into value;
    return value;
end
$$;

-- The numbers already handed out carry on where the counters stopped.
do $$
declare
    r record;
    seq_name text;
begin
    for r in select tenant_id, kind, last_value, created_at from counter loop
        seq_name := 'document_number_' || md5(r.tenant_id || '/' || r.kind);
        execute format('create sequence %I as bigint minvalue 1 start with %s',
            seq_name, r.last_value + 1);
        insert into document_number_sequence (tenant_id, kind, sequence_name, created_at)
        values (r.tenant_id, r.kind, seq_name, r.created_at);
    end loop;
end
$$;

drop table counter;
