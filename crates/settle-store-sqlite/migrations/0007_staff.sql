-- Staff users of the back office, their sessions, failed sign-ins, and customers' payment
-- links. None of it is ledger state: no journal. Only hashes of secrets are kept: Argon2id of
-- passwords, hex SHA-256 of session and link tokens. The same as PostgreSQL's 0005.

create table staff_user (
    user_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    email text not null,
    password_hash text not null,
    role text not null check (role in ('admin', 'clerk', 'viewer')),
    created_at text not null,
    removed_at text
);
-- One live user per email across all tenants: sign-in finds the user by email alone.
create unique index staff_user_live_email on staff_user (email) where removed_at is null;
create index staff_user_by_tenant on staff_user (tenant_id, email);

create table staff_session (
    token_hash text primary key,
    user_id text not null references staff_user (user_id),
    tenant_id text not null references tenant (tenant_id),
    created_at text not null,
    last_seen_at text not null,
    ended_at text
);

-- Failed sign-ins by lower-cased email, for the lock-out (ten within 15 minutes).
create table sign_in_failure (
    email text not null,
    failed_at text not null
);
create index sign_in_failure_by_email on sign_in_failure (email, failed_at);
create index sign_in_failure_by_time on sign_in_failure (failed_at);

create table payment_link (
    link_id text primary key,
    tenant_id text not null references tenant (tenant_id),
    customer_id text not null references customer (customer_id),
    token_hash text not null unique,
    created_at text not null,
    expires_at text,
    revoked_at text
);
create index payment_link_by_customer on payment_link (tenant_id, customer_id, created_at);
