//! The macros that expand to the port's billing methods in each adapter, over the statements
//! of [`billing`](crate::billing).

/// Expands, inside an adapter's `impl BillingTx`, to every method of the port's billing part;
/// the adapter provides `run`, `fetch` and `write_child` as for
/// [`shared_writes!`](crate::shared_writes), and `write_one_of(&mut self, kept, any, what)`:
/// an update that must change exactly one row, given as `kept` (cheaper, changes no row when
/// the row no longer matches it) and `any` (always applies); each adapter runs the pair its
/// database does best with.
#[macro_export]
macro_rules! shared_billing {
    () => {
        fn insert_product(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            product: &::settle_core::subscription::Product,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::billing::insert_product(tenant_id, product))?;
            Ok(())
        }

        fn product(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            id: &::settle_core::ids::ProductId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::subscription::Product>> {
            let rows = self.fetch($crate::billing::product_by_id(tenant_id, id), |row| {
                $crate::billing::product(row)
            })?;
            $crate::staff::at_most_one(rows, "product")
        }

        fn products(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            page: &::settle_store::PageRequest,
        ) -> ::settle_store::StoreResult<::settle_store::Page<::settle_core::subscription::Product>>
        {
            let rows = self.fetch($crate::billing::products(tenant_id, page), |row| {
                $crate::billing::product(row)
            })?;
            Ok($crate::billing::page_by_id(rows, |p| p.id.to_string(), page))
        }

        fn insert_price(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            price: &::settle_core::subscription::Price,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::billing::insert_price(tenant_id, price))?;
            Ok(())
        }

        fn price(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            id: &::settle_core::ids::PriceId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::subscription::Price>> {
            let rows = self.fetch($crate::billing::price_by_id(tenant_id, id), |row| {
                $crate::billing::price(row)
            })?;
            $crate::staff::at_most_one(rows, "price")
        }

        fn prices(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            product_id: Option<&::settle_core::ids::ProductId>,
            page: &::settle_store::PageRequest,
        ) -> ::settle_store::StoreResult<::settle_store::Page<::settle_core::subscription::Price>> {
            let rows = self.fetch($crate::billing::prices(tenant_id, product_id, page), |row| {
                $crate::billing::price(row)
            })?;
            Ok($crate::billing::page_by_id(rows, |p| p.id.to_string(), page))
        }

        fn archive_price(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            id: &::settle_core::ids::PriceId,
            now: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<bool> {
            let changed = self.run($crate::billing::archive_price(tenant_id, id, now))?;
            Ok($crate::staff::changed(changed) == 1)
        }

        fn insert_subscription(
            &mut self,
            lock: &::settle_store::CustomerLock,
            subscription: &::settle_core::subscription::Subscription,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::billing::insert_subscription(lock.tenant_id(), subscription))?;
            for (idx, segment) in subscription.segments.iter().enumerate() {
                let insert = $crate::billing::insert_segment(&subscription.id, idx, segment);
                self.write_child(lock, insert)?;
            }
            Ok(())
        }

        fn update_subscription(
            &mut self,
            lock: &::settle_store::CustomerLock,
            subscription: &::settle_core::subscription::Subscription,
        ) -> ::settle_store::StoreResult<()> {
            self.update_subscription_billing(lock, subscription)?;
            self.write($crate::billing::delete_segments(&subscription.id))?;
            for (idx, segment) in subscription.segments.iter().enumerate() {
                let insert = $crate::billing::insert_segment(&subscription.id, idx, segment);
                self.write_child(lock, insert)?;
            }
            Ok(())
        }

        fn update_subscription_billing(
            &mut self,
            lock: &::settle_store::CustomerLock,
            subscription: &::settle_core::subscription::Subscription,
        ) -> ::settle_store::StoreResult<()> {
            let tenant_id = lock.tenant_id();
            self.write_one_of(
                $crate::billing::update_subscription_same_status(tenant_id, subscription),
                $crate::billing::update_subscription(tenant_id, subscription),
                "subscription",
            )
        }

        fn subscription(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            id: &::settle_core::ids::SubscriptionId,
        ) -> ::settle_store::StoreResult<Option<::settle_core::subscription::Subscription>> {
            let rows = self.fetch($crate::billing::subscription_by_id(tenant_id, id), |row| {
                $crate::billing::subscription(row)
            })?;
            let mut rows = self.attach_segments(rows)?;
            Ok(rows.pop())
        }

        fn subscriptions(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            query: &::settle_store::SubscriptionQuery,
            page: &::settle_store::PageRequest,
        ) -> ::settle_store::StoreResult<
            ::settle_store::Page<::settle_core::subscription::Subscription>,
        > {
            let statement = $crate::billing::subscriptions(tenant_id, query, page);
            let rows = self.fetch(statement, |row| $crate::billing::subscription(row))?;
            let rows = self.attach_segments(rows)?;
            Ok($crate::billing::page_by_id(rows, |s| s.id.to_string(), page))
        }

        fn customer_subscriptions(
            &mut self,
            lock: &::settle_store::CustomerLock,
        ) -> ::settle_store::StoreResult<Vec<::settle_core::subscription::Subscription>> {
            let statement =
                $crate::billing::customer_subscriptions(lock.tenant_id(), lock.customer_id());
            // The status is checked here, not in the query: given `status = 'active'`, SQLite
            // picks the index by status and scans every active subscription of the tenant.
            let mut rows = self.fetch(statement, |row| $crate::billing::subscription(row))?;
            rows.retain(|s| s.status == ::settle_core::subscription::SubscriptionStatus::Active);
            self.attach_segments(rows)
        }

        fn customers_subscriptions(
            &mut self,
            locks: &[&::settle_store::CustomerLock],
        ) -> ::settle_store::StoreResult<Vec<::settle_core::subscription::Subscription>> {
            let Some(first) = locks.first() else { return Ok(Vec::new()) };
            debug_assert!(locks.iter().all(|lock| lock.tenant_id() == first.tenant_id()));
            let ids: Vec<_> = locks.iter().map(|lock| lock.customer_id()).collect();
            let statement = $crate::billing::subscriptions_of_customers(first.tenant_id(), &ids);
            let mut rows = self.fetch(statement, |row| $crate::billing::subscription(row))?;
            rows.retain(|s| s.status == ::settle_core::subscription::SubscriptionStatus::Active);
            let ids: Vec<_> = rows.iter().map(|s| &s.id).collect();
            if ids.is_empty() {
                return Ok(rows);
            }
            let segments = self.fetch($crate::billing::segments_of(&ids), |row| {
                Ok((row.text(5)?, $crate::billing::segment(row)?))
            })?;
            // Segments come in each subscription's order; hand them to their subscriptions.
            let mut by_id: ::std::collections::HashMap<String, Vec<_>> =
                ::std::collections::HashMap::with_capacity(rows.len());
            for (id, segment) in segments {
                by_id.entry(id).or_default().push(segment);
            }
            for subscription in &mut rows {
                subscription.segments = by_id.remove(subscription.id.as_str()).unwrap_or_default();
            }
            Ok(rows)
        }

        fn insert_billed_period(
            &mut self,
            lock: &::settle_store::CustomerLock,
            subscription_id: &::settle_core::ids::SubscriptionId,
            period_start: ::chrono::NaiveDate,
            document_id: Option<&::settle_core::ids::DocumentId>,
        ) -> ::settle_store::StoreResult<()> {
            let insert = $crate::billing::insert_billed_period(
                lock,
                subscription_id,
                period_start,
                document_id,
            );
            self.write_child(lock, insert)?;
            Ok(())
        }

        fn billed_periods(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            subscription_id: &::settle_core::ids::SubscriptionId,
        ) -> ::settle_store::StoreResult<
            Vec<(::chrono::NaiveDate, Option<::settle_core::ids::DocumentId>)>,
        > {
            let statement = $crate::billing::billed_periods(tenant_id, subscription_id);
            self.fetch(statement, |row| {
                Ok((
                    $crate::Row::date(row, 0)?,
                    $crate::Row::parsed_opt(row, 1, ::settle_core::ids::DocumentId::parse)?,
                ))
            })
        }

        fn insert_billed_line(
            &mut self,
            lock: &::settle_store::CustomerLock,
            line: &::settle_store::BilledLine,
        ) -> ::settle_store::StoreResult<()> {
            self.write_child(lock, $crate::billing::insert_billed_line(lock, line))?;
            Ok(())
        }

        fn billed_lines(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            subscription_id: &::settle_core::ids::SubscriptionId,
            period_start: ::chrono::NaiveDate,
            item_id: &::settle_core::ids::SubscriptionItemId,
            segment_start: ::chrono::NaiveDate,
        ) -> ::settle_store::StoreResult<Vec<::settle_store::BilledLine>> {
            let statement = $crate::billing::billed_lines(
                tenant_id,
                subscription_id,
                period_start,
                item_id,
                segment_start,
            );
            self.fetch(statement, |row| $crate::billing::billed_line(row))
        }

        fn billable_customer_count(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            as_of: ::chrono::NaiveDate,
        ) -> ::settle_store::StoreResult<u64> {
            let statement = $crate::billing::billable_customer_count(tenant_id, as_of);
            let counts = self.fetch(statement, |row| $crate::Row::int(row, 0))?;
            let count = counts.first().copied().unwrap_or(0);
            u64::try_from(count).map_err(|_| {
                ::settle_store::StoreError::Corrupt(format!("a count of {count} customers"))
            })
        }

        fn billable_customers(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            as_of: ::chrono::NaiveDate,
            after: Option<&::settle_core::ids::CustomerId>,
            limit: u32,
        ) -> ::settle_store::StoreResult<Vec<::settle_core::ids::CustomerId>> {
            let statement = $crate::billing::billable_customers(tenant_id, as_of, after, limit);
            self.fetch(statement, |row| {
                $crate::Row::parsed(row, 0, ::settle_core::ids::CustomerId::parse)
            })
        }

        fn insert_amendment(
            &mut self,
            lock: &::settle_store::CustomerLock,
            amendment: &::settle_store::AmendmentRecord,
        ) -> ::settle_store::StoreResult<()> {
            self.write_child(lock, $crate::billing::insert_amendment(lock, amendment))?;
            Ok(())
        }

        fn amendments(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            subscription_id: &::settle_core::ids::SubscriptionId,
        ) -> ::settle_store::StoreResult<Vec<::settle_store::AmendmentRecord>> {
            let statement = $crate::billing::amendments(tenant_id, subscription_id);
            self.fetch(statement, |row| $crate::billing::amendment(row))
        }

        fn insert_bill_run(
            &mut self,
            run: &::settle_store::BillRun,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::billing::insert_bill_run(run))?;
            self.write_bill_run_details(run)
        }

        fn update_bill_run(
            &mut self,
            run: &::settle_store::BillRun,
        ) -> ::settle_store::StoreResult<()> {
            let changed = self.run($crate::billing::update_bill_run(run))?;
            $crate::billing::one_changed($crate::staff::changed(changed), "bill run")?;
            for statement in $crate::billing::delete_bill_run_details(run) {
                self.write(statement)?;
            }
            self.write_bill_run_details(run)
        }

        fn bill_run(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            id: &::settle_core::ids::BillRunId,
        ) -> ::settle_store::StoreResult<Option<::settle_store::BillRun>> {
            let rows = self.fetch($crate::billing::bill_run_by_id(tenant_id, id), |row| {
                $crate::billing::bill_run(row)
            })?;
            let Some(mut run) = $crate::staff::at_most_one(rows, "bill run")? else {
                return Ok(None);
            };
            self.attach_bill_run_details(&mut run)?;
            Ok(Some(run))
        }

        fn bill_runs(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            limit: u32,
        ) -> ::settle_store::StoreResult<Vec<::settle_store::BillRun>> {
            let mut runs = self
                .fetch($crate::billing::recent_bill_runs(tenant_id, limit), |row| {
                    $crate::billing::bill_run(row)
                })?;
            for run in &mut runs {
                self.attach_bill_run_details(run)?;
            }
            Ok(runs)
        }
    };
}

/// Expands, inside an adapter's inherent `impl`, to the helpers [`shared_billing!`] calls.
#[macro_export]
macro_rules! billing_helpers {
    () => {
        fn attach_segments(
            &mut self,
            mut rows: Vec<::settle_core::subscription::Subscription>,
        ) -> ::settle_store::StoreResult<Vec<::settle_core::subscription::Subscription>> {
            for subscription in &mut rows {
                subscription.segments = self
                    .fetch($crate::billing::segments(&subscription.id), |row| {
                        $crate::billing::segment(row)
                    })?;
            }
            Ok(rows)
        }

        fn attach_bill_run_details(
            &mut self,
            run: &mut ::settle_store::BillRun,
        ) -> ::settle_store::StoreResult<()> {
            run.totals = self.fetch($crate::billing::bill_run_totals(&run.id), |row| {
                $crate::billing::bill_run_total(row)
            })?;
            run.failures = self.fetch($crate::billing::bill_run_failures(&run.id), |row| {
                $crate::billing::bill_run_failure(row)
            })?;
            Ok(())
        }

        fn write_bill_run_details(
            &mut self,
            run: &::settle_store::BillRun,
        ) -> ::settle_store::StoreResult<()> {
            for total in &run.totals {
                self.write($crate::billing::insert_bill_run_total(&run.id, *total))?;
            }
            for (customer_id, reason) in &run.failures {
                self.write($crate::billing::insert_bill_run_failure(&run.id, customer_id, reason))?;
            }
            Ok(())
        }
    };
}
