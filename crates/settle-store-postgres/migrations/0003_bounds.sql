-- Version 3: the database's backstop for two promises the engine keeps in the write path
-- (the same as SQLite's migration 0005).
-- 1. No stored balance or total exceeds 10^14 minor units in size (at most 99,999,999,999,999;
--    API.md). The engine checks every running total it folds; these also refuse the totals
--    the store adds up itself (per-customer account totals, invoice group balances).
--    Their names start with `amount_bound`, which the adapter turns into a refusal (`amount_out_of_range`).
-- 2. A payment's unapplied amount is never negative: a negative payment is applied in full in
--    the request that records it.
-- `not valid`: rows written before this version are not re-read; every new or changed row is
-- checked.

alter table customer add constraint amount_bound_customer check (
    abs(receivable_minor) <= 99999999999999
    and abs(unapplied_payments_minor) <= 99999999999999
    and abs(credit_memo_balance_minor) <= 99999999999999
    and abs(credit_balance_minor) <= 99999999999999
    and abs(balance_minor) <= 99999999999999) not valid;

alter table document add constraint amount_bound_document check (
    abs(total_minor) <= 99999999999999
    and abs(balance_minor) <= 99999999999999
    and abs(group_balance_minor) <= 99999999999999) not valid;

alter table customer_account add constraint amount_bound_customer_account check (
    debit_minor <= 99999999999999 and credit_minor <= 99999999999999) not valid;

alter table payment add constraint payment_unapplied_not_negative check (unapplied_minor >= 0)
    not valid;

-- The adjustment invoices of an original, to read an invoice group as one.
create index document_by_adjusted on document (adjusts_invoice_id);
