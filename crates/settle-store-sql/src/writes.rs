//! The write methods of `StoreTx` that both stores run as the same shared statements.

/// Expands, inside an adapter's `impl StoreTx`, to the write methods whose bodies are the same
/// for every SQL store: each runs the shared [`statements`](crate::statements) through the
/// adapter's own `run(&mut self, Statement) -> StoreResult<_>` (an inherent method that binds
/// the parameters for its driver).
///
/// A macro, because Rust allows no generic `impl<T> StoreTx for T` outside `settle-store`, and
/// a wrapper type generic over the driver would have to carry every read as well; the methods
/// with a dialect of their own (locks, upserts, lists, sums) stay written in each adapter.
/// `append_journal` calls the adapter's `add_to_account_totals(&mut self, lock, txn, now)`,
/// the per-customer totals' upsert. `insert_customer` and `update_customer` call its
/// `index_customer_search(&mut self, tenant_id, customer, entry)`, which keeps what the customer
/// search reads: in SQLite the number index's keys ([`search`](crate::search)), after a
/// [`SearchEntry::Replaced`](crate::search::SearchEntry) entry's old ones are deleted (its
/// trigram index follows the customer row by triggers); in PostgreSQL the row of
/// `customer_search`, whose upsert replaces its numbers whole. Those two and `update_customer_balances` also call its
/// `add_customer_balance_key(&mut self, tenant_id, customer)` (on insert) or
/// `update_customer_balance_key(&mut self, lock, customer)`, which keep the balance the list by
/// balance walks: nothing in SQLite, which indexes the customer's own column; the row of
/// `customer_balance_key` in PostgreSQL, so that the customer's row can change in place.
///
/// Rows that belong to a parent row (a document's items, an application's items, and in
/// [`shared_billing!`](crate::shared_billing) a subscription's segments, invoiced periods,
/// lines and amendments) are built as an [`Insert`](crate::statements::Insert) and written by
/// the adapter's `write_child(&mut self, lock, insert) -> StoreResult<()>`, which adds the
/// columns its tables keep for the customer: none in SQLite, where such a row reaches its
/// customer through its parent; `tenant_id` and `customer_id` in PostgreSQL, whose schema is
/// ready to be sharded by customer.
///
/// `update_document` and `insert_document` first call the adapter's
/// `documents_changed(&mut self)`: PostgreSQL then forgets the documents its unit's opening
/// flight read ahead, which nothing but their first read may use; SQLite reads none ahead.
#[macro_export]
macro_rules! shared_writes {
    () => {
        fn update_document(
            &mut self,
            lock: &::settle_store::CustomerLock,
            document: &::settle_core::document::Document,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &document.customer_id);
            self.documents_changed();
            // The group balances move by what the document's balance moved, which the
            // statements compute from the stored balance they replace: no read first (a round
            // trip on PostgreSQL). The original's moves before the member's row changes.
            if let Some(original) = &document.adjusts_invoice_id {
                self.write($crate::statements::move_group_balance(lock, original, document))?;
            }
            self.write($crate::statements::update_document(lock, document))?;
            for item in &document.items {
                self.write($crate::statements::update_item(item))?;
            }
            Ok(())
        }

        fn append_journal(
            &mut self,
            lock: &::settle_store::CustomerLock,
            txn: &::settle_core::ledger::JournalTxn,
            now: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), txn.customer_id());
            self.write($crate::statements::insert_txn(lock, txn, now))?;
            for (idx, posting) in txn.postings().iter().enumerate() {
                self.write($crate::statements::insert_posting(lock, txn, idx, posting, now))?;
            }
            self.add_to_account_totals(lock, txn, now)
        }

        fn update_settings(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            settings: &::settle_core::settings::Settings,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::statements::update_settings(tenant_id.as_str(), settings))?;
            Ok(())
        }

        fn insert_customer(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            customer: &::settle_core::customer::Customer,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::statements::insert_customer(tenant_id.as_str(), customer))?;
            self.index_customer_search(tenant_id, customer, $crate::search::SearchEntry::New)?;
            self.add_customer_balance_key(tenant_id, customer)
        }

        fn update_customer(
            &mut self,
            lock: &::settle_store::CustomerLock,
            customer: &::settle_core::customer::Customer,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &customer.id);
            self.write($crate::statements::update_customer(lock, customer))?;
            self.index_customer_search(
                lock.tenant_id(),
                customer,
                $crate::search::SearchEntry::Replaced,
            )?;
            self.update_customer_balance_key(lock, customer)
        }

        fn update_customer_balances(
            &mut self,
            lock: &::settle_store::CustomerLock,
            customer: &::settle_core::customer::Customer,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &customer.id);
            self.write($crate::statements::update_customer_balances(lock, customer))?;
            self.update_customer_balance_key(lock, customer)
        }

        fn insert_document(
            &mut self,
            lock: &::settle_store::CustomerLock,
            document: &::settle_core::document::Document,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &document.customer_id);
            self.documents_changed();
            self.write($crate::statements::insert_document(lock, document))?;
            for (idx, item) in document.items.iter().enumerate() {
                let insert = $crate::statements::insert_item(lock, document, idx, item);
                self.write_child(lock, insert)?;
            }
            if let Some(original) = &document.adjusts_invoice_id {
                let balance = document.balance().minor();
                self.write($crate::statements::add_group_balance(original.as_str(), balance))?;
            }
            Ok(())
        }

        fn insert_payment(
            &mut self,
            lock: &::settle_store::CustomerLock,
            payment: &::settle_core::payment::Payment,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &payment.customer_id);
            self.write($crate::statements::insert_payment(lock, payment))?;
            Ok(())
        }

        fn update_payment(
            &mut self,
            lock: &::settle_store::CustomerLock,
            payment: &::settle_core::payment::Payment,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &payment.customer_id);
            self.write($crate::statements::update_payment(lock, payment))?;
            Ok(())
        }

        fn insert_application(
            &mut self,
            lock: &::settle_store::CustomerLock,
            application: &::settle_core::application::Application,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &application.customer_id);
            self.write($crate::statements::insert_application(lock, application))?;
            for idx in 0..application.items.len() {
                let insert = $crate::statements::insert_application_item(lock, application, idx);
                self.write_child(lock, insert)?;
            }
            Ok(())
        }

        fn update_application(
            &mut self,
            lock: &::settle_store::CustomerLock,
            application: &::settle_core::application::Application,
        ) -> ::settle_store::StoreResult<()> {
            debug_assert_eq!(lock.customer_id(), &application.customer_id);
            for idx in 0..application.items.len() {
                self.write($crate::statements::update_application_item(application, idx))?;
            }
            Ok(())
        }

        fn insert_adjustment(
            &mut self,
            lock: &::settle_store::CustomerLock,
            adjustment: &::settle_core::adjustment::Adjustment,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::statements::insert_adjustment(lock, adjustment))?;
            Ok(())
        }

        fn insert_refund(
            &mut self,
            lock: &::settle_store::CustomerLock,
            refund: &::settle_core::refund::Refund,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::statements::insert_refund(lock, refund))?;
            Ok(())
        }

        fn append_history(
            &mut self,
            lock: &::settle_store::CustomerLock,
            line: &::settle_core::customer::HistoryLine,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::statements::insert_history(lock, line))?;
            Ok(())
        }
    };
}

/// Expands, inside an adapter's `impl StoreTx`, to the reads whose text is the same for every
/// SQL store: records by id, the document, payment, application and history lists, and Attention. The
/// adapter provides `fetch(&mut self, Statement, map) -> StoreResult<Vec<T>>` (binds and runs
/// a shared statement, mapping each row), `attach_items`, `attach_groups`,
/// `attach_application_items`, `read_document(&mut self, tenant_id, document_id)` (a document
/// with its items and its group: PostgreSQL reads them in one flight) and `prefetched_settings(&mut self, tenant_id) ->
/// Option<Settings>`: the tenant's settings when the adapter already read them in this
/// transaction (PostgreSQL reads them in the flight that locks the customer; SQLite, whose
/// reads cost no round trip, never does).
#[macro_export]
macro_rules! shared_reads {
    () => {
        fn settings(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
        ) -> ::settle_store::StoreResult<::settle_core::settings::Settings> {
            if let Some(settings) = self.prefetched_settings(tenant_id) {
                return Ok(settings);
            }
            let statement = $crate::queries::settings(tenant_id.as_str());
            let rows = self.fetch(statement, |row| $crate::settings(row))?;
            rows.into_iter().next().ok_or_else(|| {
                ::settle_store::StoreError::Corrupt(format!("no tenant {tenant_id}"))
            })
        }

        fn idempotency(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            key: &str,
        ) -> ::settle_store::StoreResult<Option<::settle_store::IdempotencyRecord>> {
            let statement = $crate::queries::idempotency(tenant_id.as_str(), key);
            let rows =
                self.fetch(statement, |row| $crate::idempotency_record(tenant_id, key, row))?;
            Ok(rows.into_iter().next())
        }

        fn customer(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            customer_id: &::settle_core::ids::CustomerId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::customer::Customer>> {
            let statement = $crate::queries::customer(tenant_id.as_str(), customer_id.as_str());
            let rows = self.fetch(statement, |row| $crate::customer(row))?;
            Ok(rows.into_iter().next().map(|(c, _)| c))
        }

        fn document(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            document_id: &::settle_core::ids::DocumentId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::document::Document>> {
            self.read_document(tenant_id, document_id)
        }

        fn item_document(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            item_id: &::settle_core::ids::ItemId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::ids::DocumentId>> {
            let statement = $crate::queries::item_document(tenant_id.as_str(), item_id.as_str());
            let rows = self.fetch(statement, |row| {
                $crate::Row::parsed(row, 0, ::settle_core::ids::DocumentId::parse)
            })?;
            Ok(rows.into_iter().next())
        }

        fn documents(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            query: &::settle_store::DocumentQuery,
            page: &::settle_store::PageRequest,
        ) -> ::settle_store::StoreResult<::settle_store::Page<::settle_core::document::Document>> {
            let statement = $crate::queries::documents(tenant_id.as_str(), query, page)?;
            let rows = self.fetch(statement, |row| {
                $crate::document(row).map(|(d, seq)| (d, seq.to_string()))
            })?;
            let mut page_rows = $crate::paginate(rows, page);
            self.attach_items(tenant_id, &mut page_rows.rows)?;
            self.attach_groups(&mut page_rows.rows)?;
            Ok(page_rows)
        }

        fn payment(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            payment_id: &::settle_core::ids::PaymentId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::payment::Payment>> {
            let statement = $crate::queries::payment(tenant_id.as_str(), payment_id.as_str());
            let rows = self.fetch(statement, |row| $crate::payment(row))?;
            Ok(rows.into_iter().next().map(|(p, _)| p))
        }

        fn payments(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            query: &::settle_store::PaymentQuery,
            page: &::settle_store::PageRequest,
        ) -> ::settle_store::StoreResult<::settle_store::Page<::settle_core::payment::Payment>> {
            let statement = $crate::queries::payments(tenant_id.as_str(), query, page)?;
            let rows = self.fetch(statement, |row| {
                $crate::payment(row).map(|(p, seq)| (p, seq.to_string()))
            })?;
            Ok($crate::paginate(rows, page))
        }

        fn application(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            application_id: &::settle_core::ids::ApplicationId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::application::Application>> {
            let statement =
                $crate::queries::application(tenant_id.as_str(), application_id.as_str());
            let mut rows: Vec<::settle_core::application::Application> = self
                .fetch(statement, |row| $crate::application(row))?
                .into_iter()
                .map(|(a, _)| a)
                .collect();
            self.attach_application_items(&mut rows)?;
            Ok(rows.into_iter().next())
        }

        fn applications(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            query: &::settle_store::ApplicationQuery,
            page: &::settle_store::PageRequest,
        ) -> ::settle_store::StoreResult<
            ::settle_store::Page<::settle_core::application::Application>,
        > {
            let statement = $crate::queries::applications(tenant_id.as_str(), query, page)?;
            let rows = self.fetch(statement, |row| {
                $crate::application(row).map(|(a, seq)| (a, seq.to_string()))
            })?;
            let mut page_rows = $crate::paginate(rows, page);
            self.attach_application_items(&mut page_rows.rows)?;
            Ok(page_rows)
        }

        fn attention(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            drafts_before: ::chrono::NaiveDate,
        ) -> ::settle_store::StoreResult<::settle_store::Attention> {
            use $crate::queries::AttentionList;
            let tenant = tenant_id.as_str();
            let mut lists = Vec::with_capacity(3);
            for list in [
                AttentionList::Negative,
                AttentionList::Stuck,
                AttentionList::OldDrafts(drafts_before),
            ] {
                let statement = $crate::queries::attention_documents(tenant, list);
                let mut rows: Vec<::settle_core::document::Document> = self
                    .fetch(statement, |row| $crate::document(row))?
                    .into_iter()
                    .map(|(d, _)| d)
                    .collect();
                self.attach_items(tenant_id, &mut rows)?;
                self.attach_groups(&mut rows)?;
                lists.push(rows);
            }
            let old_drafts = lists.pop().unwrap_or_default();
            let stuck = lists.pop().unwrap_or_default();
            let negative = lists.pop().unwrap_or_default();
            let idle_credit = self
                .fetch($crate::queries::idle_credit(tenant), |row| $crate::customer(row))?
                .into_iter()
                .map(|(c, _)| c)
                .collect();
            let owing = self.fetch($crate::queries::owing(tenant), |row| {
                $crate::Row::parsed(row, 0, ::settle_core::ids::CustomerId::parse)
            })?;
            Ok(::settle_store::Attention { negative, stuck, old_drafts, idle_credit, owing })
        }

        fn history(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            customer_id: &::settle_core::ids::CustomerId,
            page: &::settle_store::PageRequest,
        ) -> ::settle_store::StoreResult<::settle_store::Page<::settle_core::customer::HistoryLine>>
        {
            let statement =
                $crate::queries::history(tenant_id.as_str(), customer_id.as_str(), page)?;
            let rows = self.fetch(statement, |row| {
                $crate::history_line(row).map(|(line, seq)| (line, seq.to_string()))
            })?;
            Ok($crate::paginate(rows, page))
        }
    };
}
