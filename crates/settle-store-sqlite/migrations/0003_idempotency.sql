-- Version 3: saved responses of requests made with an Idempotency-Key, kept with the effect
-- they answer (they are written in the same transaction).
create table idempotency_key (
    tenant_id text not null references tenant (tenant_id),
    idempotency_key text not null,
    request_hash text not null,
    status integer not null check (status between 200 and 299),
    body text not null,
    created_at text not null,
    primary key (tenant_id, idempotency_key)
);
