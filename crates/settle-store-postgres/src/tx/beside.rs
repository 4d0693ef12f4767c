//! The writes PostgreSQL keeps beside the shared statements (the adapter's hooks of
//! `settle_store_sql::shared_writes!`): the customer search's row, the balance the list by
//! balance walks, and the per-customer account totals' upsert.

use chrono::{DateTime, Utc};
use settle_core::customer::Customer;
use settle_core::ids::TenantId;
use settle_core::ledger::JournalTxn;
use settle_store::{CustomerLock, StoreResult};
use settle_store_sql::search::{SearchEntry, number_keys};

use super::PgTx;
use crate::Arg;
use crate::rows::micros;

impl PgTx {
    /// Writes the customer's row of `customer_search`, whose trigram indexes serve the search
    /// (migration 0016), so that an update of the balances alone leaves them as they are; and
    /// its keys of `customer_number`, the number index (migration 0022), after a replaced
    /// entry's old keys are deleted.
    pub(super) fn index_customer_search(
        &mut self,
        tenant_id: &TenantId,
        customer: &Customer,
        entry: SearchEntry,
    ) -> StoreResult<()> {
        self.write(settle_store_sql::statements::upsert_customer_search(
            tenant_id.as_str(),
            customer,
        ))?;
        let ids = || -> Vec<Arg> {
            vec![Box::new(tenant_id.as_str().to_owned()), Box::new(customer.id.as_str().to_owned())]
        };
        if entry == SearchEntry::Replaced {
            self.hold(
                String::from(
                    "delete from customer_number where tenant_id = $1 and customer_id = $2",
                ),
                ids(),
            )?;
        }
        let keys = number_keys(customer);
        if keys.is_empty() {
            return Ok(());
        }
        let mut args = ids();
        args.push(Box::new(keys));
        self.hold(
            String::from(
                "insert into customer_number (tenant_id, customer_id, digits) \
                 select $1, $2, unnest($3::text[])",
            ),
            args,
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
