-- Version 5: the database's backstop for two promises the engine keeps in the write path.
-- 1. No stored balance or total exceeds 10^14 minor units in size (at most 99,999,999,999,999;
--    API.md). The engine checks every running total it folds; these also refuse the totals
--    the store adds up itself (per-customer account totals, invoice group balances).
--    Their messages start with `amount_bound`, which the adapter turns into a refusal (`amount_out_of_range`).
-- 2. A payment's unapplied amount is never negative: a negative payment is applied in full in
--    the request that records it.
-- SQLite cannot add CHECK constraints to existing tables, so these are triggers.

create trigger customer_amount_bound_insert before insert on customer
when max(abs(new.receivable_minor), abs(new.unapplied_payments_minor),
         abs(new.credit_memo_balance_minor), abs(new.credit_balance_minor),
         abs(new.balance_minor)) > 99999999999999
begin select raise(abort, 'amount_bound: a customer balance'); end;

create trigger customer_amount_bound_update before update on customer
when max(abs(new.receivable_minor), abs(new.unapplied_payments_minor),
         abs(new.credit_memo_balance_minor), abs(new.credit_balance_minor),
         abs(new.balance_minor)) > 99999999999999
begin select raise(abort, 'amount_bound: a customer balance'); end;

create trigger document_amount_bound_insert before insert on document
when max(abs(new.total_minor), abs(new.balance_minor), abs(new.group_balance_minor))
     > 99999999999999
begin select raise(abort, 'amount_bound: a document total or balance'); end;

create trigger document_amount_bound_update before update on document
when max(abs(new.total_minor), abs(new.balance_minor), abs(new.group_balance_minor))
     > 99999999999999
begin select raise(abort, 'amount_bound: a document total or balance'); end;

create trigger customer_account_amount_bound_insert before insert on customer_account
when max(new.debit_minor, new.credit_minor) > 99999999999999
begin select raise(abort, 'amount_bound: a customer account total'); end;

create trigger customer_account_amount_bound_update before update on customer_account
when max(new.debit_minor, new.credit_minor) > 99999999999999
begin select raise(abort, 'amount_bound: a customer account total'); end;

create trigger payment_unapplied_not_negative_insert before insert on payment
when new.unapplied_minor < 0
begin select raise(abort, 'payment_unapplied_not_negative'); end;

create trigger payment_unapplied_not_negative_update before update on payment
when new.unapplied_minor < 0
begin select raise(abort, 'payment_unapplied_not_negative'); end;

-- The adjustment invoices of an original, to read an invoice group as one.
create index document_by_adjusted on document (adjusts_invoice_id);
