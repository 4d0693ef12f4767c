-- The amount bounds of migration 5 as CHECK constraints instead of triggers.
-- A table with a trigger makes every insert and update a "multi-write" statement for SQLite,
-- which then copies each page the statement first touches into a statement journal and runs
-- the trigger as a sub-program: about a tenth of a bill run's instructions. SQLite cannot add
-- a CHECK to an existing table, but it can add a column with one: each table gets a virtual
-- (never stored) column holding its largest amount, checked against the bound. Adding it
-- checks every existing row. The refusal names the constraint, `amount_bound_<table>`, which
-- the adapter turns into `amount_out_of_range` as before.
drop trigger customer_amount_bound_insert;
drop trigger customer_amount_bound_update;
drop trigger document_amount_bound_insert;
drop trigger document_amount_bound_update;
drop trigger customer_account_amount_bound_insert;
drop trigger customer_account_amount_bound_update;

alter table customer add column largest_amount_minor integer generated always as (
    max(abs(receivable_minor), abs(unapplied_payments_minor), abs(credit_memo_balance_minor),
        abs(credit_balance_minor), abs(balance_minor))
) virtual constraint amount_bound_customer check (largest_amount_minor <= 99999999999999);

alter table document add column largest_amount_minor integer generated always as (
    max(abs(total_minor), abs(balance_minor), abs(group_balance_minor))
) virtual constraint amount_bound_document check (largest_amount_minor <= 99999999999999);

alter table customer_account add column largest_amount_minor integer generated always as (
    max(debit_minor, credit_minor)
) virtual constraint amount_bound_customer_account check (largest_amount_minor <= 99999999999999);
