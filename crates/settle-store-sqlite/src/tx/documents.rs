//! How SQLite reads documents and the rows that hang off documents and applications, for the
//! shared reads (`settle_store_sql::shared_reads!`).

use std::collections::HashMap;

use settle_core::application::Application;
use settle_core::document::Document;
use settle_core::ids::{DocumentId, TenantId};
use settle_core::money::Currency;
use settle_core::settings::Settings;
use settle_store::StoreResult;
use settle_store_sql::{Row as _, bad};

use super::SqliteTx;

impl SqliteTx<'_> {
    /// A document with its items and its group: three reads, which cost SQLite no round trip.
    pub(super) fn read_document(
        &mut self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> StoreResult<Option<Document>> {
        let statement =
            settle_store_sql::queries::document(tenant_id.as_str(), document_id.as_str());
        let mut rows: Vec<Document> = self
            .fetch(statement, |row| settle_store_sql::document(row))?
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        self.attach_items(tenant_id, &mut rows)?;
        self.attach_groups(&mut rows)?;
        Ok(rows.into_iter().next())
    }

    /// Loads the items of `documents` (all of `_tenant_id`) in one query and attaches them in
    /// order; SQLite finds them by document id.
    pub(super) fn attach_items(
        &self,
        _tenant_id: &TenantId,
        documents: &mut [Document],
    ) -> StoreResult<()> {
        if documents.is_empty() {
            return Ok(());
        }
        let marks = vec!["?"; documents.len()].join(", ");
        let sql = format!(
            "select document_id, item_id, kind, parent_item_id, description, quantity, \
             unit_price, tax_rate, invoice_item_id, amount_minor, balance_minor, credited_minor \
             from document_item where document_id in ({marks}) order by document_id, idx"
        );
        let currencies: HashMap<String, Currency> =
            documents.iter().map(|d| (d.id.to_string(), d.currency)).collect();
        let ids: Vec<String> = documents.iter().map(|d| d.id.to_string()).collect();
        let args: Vec<&dyn rusqlite::ToSql> =
            ids.iter().map(|i| i as &dyn rusqlite::ToSql).collect();
        let rows = self.query_rows(&sql, &args, |row| {
            let document_id = row.text(0)?;
            let currency = *currencies.get(&document_id).ok_or_else(|| bad(0, &document_id))?;
            Ok((document_id, settle_store_sql::item(row, 1, currency)?))
        })?;
        settle_store_sql::attach_items(documents, rows);
        Ok(())
    }

    /// Nothing to forget: SQLite reads no document ahead.
    #[allow(clippy::unused_self)]
    pub(super) fn documents_changed(&mut self) {}

    /// Never any: SQLite's reads cost no round trip, so nothing is read ahead.
    #[allow(clippy::unused_self)]
    pub(super) fn prefetched_settings(&mut self, _tenant_id: &TenantId) -> Option<Settings> {
        None
    }

    /// Reads the invoice group of each invoice in `documents`: its original, then the
    /// adjustment invoices of that original in the order they were made.
    pub(super) fn attach_groups(&self, documents: &mut [Document]) -> StoreResult<()> {
        let roots = settle_store_sql::group_roots(documents);
        if roots.is_empty() {
            return Ok(());
        }
        let marks = vec!["?"; roots.len()].join(", ");
        let sql = format!(
            "select coalesce(adjusts_invoice_id, document_id), document_id from document \
             where document_id in ({marks}) or adjusts_invoice_id in ({marks}) order by seq"
        );
        let args: Vec<&dyn rusqlite::ToSql> =
            roots.iter().chain(roots.iter()).map(|r| r as &dyn rusqlite::ToSql).collect();
        let rows = self
            .query_rows(&sql, &args, |row| Ok((row.text(0)?, row.parsed(1, DocumentId::parse)?)))?;
        settle_store_sql::attach_groups(documents, rows);
        Ok(())
    }

    pub(super) fn attach_application_items(
        &self,
        applications: &mut [Application],
    ) -> StoreResult<()> {
        for application in applications {
            let currency = application.currency;
            application.items = self.query_rows(
                "select item_id, credit_memo_item_id, amount_minor, net_minor \
                 from application_item where application_id = ?1 order by idx",
                &[&application.id.as_str()],
                |row| settle_store_sql::application_item(row, 0, currency),
            )?;
        }
        Ok(())
    }
}
