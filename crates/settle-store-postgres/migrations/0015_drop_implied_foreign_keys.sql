-- Foreign keys that a longer one of the same table already implies go. Every per-customer
-- table keeps a foreign key on NOT NULL columns that starts with (tenant_id, customer_id) and
-- points at `customer` or at another per-customer table that keeps one, and `customer` keeps
-- its key to `tenant`; so a row's tenant and customer still exist by that chain, and the
-- database checks each inserted row once per parent instead of once per parent and again for
-- the tenant and the customer. (PostgreSQL runs each foreign-key check as a query of its own
-- for every row inserted: a quarter of the server's time in a bill run.) tests/it/schema.rs
-- checks the chain from the catalog.

alter table adjustment drop constraint adjustment_tenant_id_customer_id_fkey;
alter table adjustment drop constraint adjustment_tenant_id_fkey;
alter table amendment drop constraint amendment_tenant_id_fkey;
alter table application drop constraint application_tenant_id_customer_id_fkey;
alter table application drop constraint application_tenant_id_fkey;
alter table application_item drop constraint application_item_tenant_id_fkey;
alter table customer_account drop constraint customer_account_tenant_id_fkey;
alter table document drop constraint document_tenant_id_fkey;
alter table document_item drop constraint document_item_tenant_id_fkey;
alter table history drop constraint history_tenant_id_customer_id_fkey;
alter table history drop constraint history_tenant_id_fkey;
alter table journal_txn drop constraint journal_txn_tenant_id_fkey;
alter table payment drop constraint payment_tenant_id_fkey;
alter table payment_link drop constraint payment_link_tenant_id_fkey;
alter table posting drop constraint posting_tenant_id_customer_id_fkey;
alter table posting drop constraint posting_tenant_id_fkey;
alter table refund drop constraint refund_tenant_id_fkey;
alter table subscription drop constraint subscription_tenant_id_fkey;
alter table subscription_line drop constraint subscription_line_tenant_id_fkey;
alter table subscription_period drop constraint subscription_period_tenant_id_fkey;
alter table subscription_segment drop constraint subscription_segment_tenant_id_fkey;
