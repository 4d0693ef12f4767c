-- Two indexes that every invoice wrote and few reads need.
--
-- document_by_adjusted held an entry for every document, though only adjustment invoices
-- have an adjusts_invoice_id: every other invoice wrote a null key. It now holds the
-- adjustments alone; the reads by it name the column with `=` or `in`, which SQLite knows
-- excludes null, so they use it as before.
--
-- subscription_due ordered the due subscriptions by date, and every invoiced period moved the
-- subscription's entry in it as well as in subscription_by_customer_due. A bill run pages
-- through subscription_by_customer_due (0011); the one read left on subscription_due, the
-- count of due customers at a run's start, reads that index in one pass instead.
drop index document_by_adjusted;
create index document_by_adjusted on document (adjusts_invoice_id)
    where adjusts_invoice_id is not null;
drop index subscription_due;
