-- Indexes for reports as of a date (aging, customer balances at the end of a day), which sum
-- the postings of transactions effective on or before the date. The same as SQLite's 0004.

-- A customer's transactions up to a date, with the key that finds their postings.
create index journal_by_customer_date on journal_txn (tenant_id, customer_id, effective_date, txn_id);

-- Receivable postings per document, with every column the aging `group by` reads.
create index posting_by_account on posting (tenant_id, account, currency, document_id)
    include (txn_id, side, amount_minor);
