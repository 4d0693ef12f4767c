-- Fewer index entries and row moves for every posted transaction (docs/BENCHMARKS.md,
-- "Postings found by their key"). The server's write-ahead log of a bill run, record by
-- record, showed where an invoice's bytes go; these four changes cut the ones no read needs.
--
-- 1. journal_txn_by_id (txn_id), posting_by_txn (txn_id, idx) and document_item_by_document
--    (document_id, idx) go. They served reads that found postings by their transaction, or
--    items by their document, by that id alone; those reads now name the tenant and the
--    customer as well, so the keys (tenant_id, customer_id, txn_id[, idx]) and (tenant_id,
--    customer_id, document_id, idx) serve them, as they must on a database sharded by
--    customer. Four entries per invoice.
-- 2. posting_by_account holds only the accounts read by it: receivable (open documents) and
--    the three that hold a customer's credit (available credit). Revenue, tax, cash and the
--    rest were half its entries and no statement looked them up. It now also carries
--    customer_id, so that the join to the transaction by its key reads no posting row.
-- 3. subscription and customer_balance_key keep half of each page free (fillfactor 50).
--    Both have one row updated by every invoice with an indexed column changing, so the new
--    version cannot be heap-only; without room on its page it went to another page, which
--    first marked the old version locked (a log record of its own) and dirtied two pages.
--    Rows inserted from now on are packed this way; existing pages get room as old versions
--    are vacuumed.
drop index journal_txn_by_id;
drop index posting_by_txn;
drop index document_item_by_document;

drop index posting_by_account;
create index posting_by_account on posting (tenant_id, account, currency, document_id)
    include (customer_id, txn_id, side, amount_minor)
    where account in ('receivable', 'unapplied_payments', 'credit_memos', 'credit_balance');

alter table subscription set (fillfactor = 50);
alter table customer_balance_key set (fillfactor = 50);
