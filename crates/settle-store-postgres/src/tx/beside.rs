//! The writes PostgreSQL keeps beside the shared statements (the adapter's hooks of
//! `settle_store_sql::shared_writes!`): the customer search's row, the balance the list by
//! balance walks, and the per-customer account totals' upsert.

use chrono::{DateTime, Utc};
use settle_core::customer::Customer;
use settle_core::ids::TenantId;
use settle_core::ledger::JournalTxn;
use settle_store::{CustomerLock, StoreResult};
use settle_store_sql::search::{SearchEntry, number_substrings};

use super::PgTx;
use crate::rows::micros;

impl PgTx {
    /// Writes the customer's row of `customer_search`, whose trigram indexes serve the search
    /// (migration 0016) and whose `numbers` (every substring of four to twelve digits of the
    /// name's and email's runs of digits, migration 0022) its search by a number, so that an
    /// update of the balances alone leaves them as they are. The upsert replaces a renamed
    /// customer's numbers whole, whichever `_entry` it is.
    pub(super) fn index_customer_search(
        &mut self,
        tenant_id: &TenantId,
        customer: &Customer,
        _entry: SearchEntry,
    ) -> StoreResult<()> {
        self.hold(
            String::from(
                "insert into customer_search (tenant_id, customer_id, name_lower, email_lower, \
                 numbers) values ($1, $2, $3, $4, $5) on conflict (tenant_id, customer_id) \
                 do update set name_lower = excluded.name_lower, \
                 email_lower = excluded.email_lower, numbers = excluded.numbers",
            ),
            vec![
                Box::new(tenant_id.as_str().to_owned()),
                Box::new(customer.id.as_str().to_owned()),
                Box::new(customer.name.to_lowercase()),
                Box::new(customer.email.as_ref().map(|e| e.to_lowercase())),
                Box::new(number_substrings(customer)),
            ],
        )
    }

    /// Stores a new customer's row of `customer_balance_key`, the balance the list by balance
    /// walks (migration 0019).
    pub(super) fn add_customer_balance_key(
        &mut self,
        tenant_id: &TenantId,
        customer: &Customer,
    ) -> StoreResult<()> {
        self.write(settle_store_sql::statements::insert_customer_balance_key(
            tenant_id.as_str(),
            customer,
        ))
    }

    /// Writes the customer's balance to `customer_balance_key`: its index, not the customer's,
    /// takes the new entry, so the customer's row changes in place (migration 0019). Unchecked,
    /// as the customer's own update is: a checked write must be answered before the commit is
    /// sent, a round trip more for every command.
    pub(super) fn update_customer_balance_key(
        &mut self,
        lock: &CustomerLock,
        customer: &Customer,
    ) -> StoreResult<()> {
        self.write(settle_store_sql::statements::update_customer_balance_key(lock, customer))
    }

    /// Adds a journal transaction's effects to the per-customer account totals (an upsert,
    /// whose syntax is the dialect's).
    pub(super) fn add_to_account_totals(
        &mut self,
        lock: &CustomerLock,
        txn: &JournalTxn,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let tenant = lock.tenant_id().as_str();
        let customer = lock.customer_id().as_str();
        for ((account, currency), (debit, credit)) in txn.effects().accounts {
            self.hold(
                String::from(
                    "insert into customer_account (tenant_id, customer_id, account, currency, \
                 debit_minor, credit_minor, created_at) values ($1, $2, $3, $4, $5, $6, $7) \
                 on conflict (tenant_id, customer_id, account, currency) do update set \
                 debit_minor = customer_account.debit_minor + excluded.debit_minor, \
                 credit_minor = customer_account.credit_minor + excluded.credit_minor",
                ),
                vec![
                    Box::new(tenant.to_owned()),
                    Box::new(customer.to_owned()),
                    Box::new(account.name()),
                    Box::new(currency.code().to_owned()),
                    Box::new(debit),
                    Box::new(credit),
                    Box::new(micros(now)),
                ],
            )?;
        }
        Ok(())
    }
}
