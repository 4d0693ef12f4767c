//! Imported rows: the record of what each external id became, and the customer lookup by
//! email an invoice file may use; statements and row mapping both stores share, and
//! [`shared_imports!`](crate::shared_imports), which expands to the port's methods for them.

use std::borrow::Cow;

use settle_core::ids::TenantId;
use settle_store::{ExternalKind, ExternalRef, StoreResult};

use crate::row::Row;
use crate::statements::{Statement, Value};

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// Stores what an imported row became.
pub fn insert_external_ref(record: &ExternalRef) -> Statement {
    Statement {
        sql: Cow::Borrowed(
            "insert into external_ref (tenant_id, kind, external_id, object_id, source_number, \
             created_at) values (?1, ?2, ?3, ?4, ?5, ?6)",
        ),
        args: vec![
            text(record.tenant_id.as_str()),
            text(record.kind.name()),
            text(&record.external_id),
            text(&record.object_id),
            Value::OptText(record.source_number.clone()),
            Value::Instant(record.created_at),
        ],
    }
}

/// The record of one external id.
pub fn external_ref(tenant_id: &TenantId, kind: ExternalKind, external_id: &str) -> Statement {
    Statement {
        sql: Cow::Borrowed(
            "select tenant_id, kind, external_id, object_id, source_number, created_at \
             from external_ref where tenant_id = ?1 and kind = ?2 and external_id = ?3",
        ),
        args: vec![text(tenant_id.as_str()), text(kind.name()), text(external_id)],
    }
}

/// The tenant's customers with an email, compared without case.
pub fn customers_by_email(tenant_id: &TenantId, email: &str) -> Statement {
    Statement {
        sql: Cow::Borrowed(
            "select customer_id from customer where tenant_id = ?1 and email_lower = ?2",
        ),
        args: vec![text(tenant_id.as_str()), text(&email.to_lowercase())],
    }
}

/// An `external_ref` row.
pub fn external_ref_row<R: Row + ?Sized>(row: &R) -> StoreResult<ExternalRef> {
    Ok(ExternalRef {
        tenant_id: row.parsed(0, TenantId::parse)?,
        kind: row.parsed(1, ExternalKind::parse)?,
        external_id: row.text(2)?,
        object_id: row.text(3)?,
        source_number: row.text_opt(4)?,
        created_at: row.timestamp(5)?,
    })
}

/// Expands, inside an adapter's `impl StoreTx`, to the methods for imported rows, whose text
/// is the same for both stores. The adapter provides `run` and `fetch` as for
/// [`shared_writes!`](crate::shared_writes).
#[macro_export]
macro_rules! shared_imports {
    () => {
        fn insert_external_ref(
            &mut self,
            record: &::settle_store::ExternalRef,
        ) -> ::settle_store::StoreResult<()> {
            self.write($crate::imports::insert_external_ref(record))?;
            Ok(())
        }

        fn external_ref(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            kind: ::settle_store::ExternalKind,
            external_id: &str,
        ) -> ::settle_store::StoreResult<Option<::settle_store::ExternalRef>> {
            let statement = $crate::imports::external_ref(tenant_id, kind, external_id);
            let rows = self.fetch(statement, |row| $crate::imports::external_ref_row(row))?;
            $crate::staff::at_most_one(rows, "record per external id")
        }

        fn customers_by_email(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            email: &str,
        ) -> ::settle_store::StoreResult<Vec<::settle_core::ids::CustomerId>> {
            let statement = $crate::imports::customers_by_email(tenant_id, email);
            let mut ids = self.fetch(statement, |row| {
                $crate::Row::parsed(row, 0, ::settle_core::ids::CustomerId::parse)
            })?;
            ids.sort();
            Ok(ids)
        }
    };
}
