-- Two indexes that every invoice wrote and few reads need (as SQLite's 0016).
--
-- document_by_adjusted held an entry for every document, though only adjustment invoices
-- have an adjusts_invoice_id: every other invoice wrote a null key. It now holds the
-- adjustments alone; the read by it names the column with `= any($1)`, which excludes null,
-- so the planner uses it as before.
--
-- subscription_due ordered the due subscriptions by date. An invoiced period changes the
-- subscription's next_bill_on, so the update writes a new entry in every index of the table.
-- A bill run pages through subscription_by_customer_due (0010); the one read left on
-- subscription_due, the count of due customers at a run's start, reads that index in one pass
-- instead.
drop index document_by_adjusted;
create index document_by_adjusted on document (adjusts_invoice_id)
    where adjusts_invoice_id is not null;
drop index subscription_due;
