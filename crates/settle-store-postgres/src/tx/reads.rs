//! Reads PostgreSQL answers in one flight where the shared reads would take several round
//! trips: a customer's lock with its tenant's settings, and a document with its items and
//! its invoice group.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use settle_core::customer::Customer;
use settle_core::document::{Document, Item};
use settle_core::ids::{CustomerId, DocumentId, TenantId};
use settle_core::money::Currency;
use settle_store::{CustomerLock, OpenedUnit, StoreError, StoreResult, UnitOpening};
use settle_store_sql::{CUSTOMER_COLUMNS, Row as _, bad};

use super::PgTx;
use crate::bind::{bind, params};
use crate::rows::{PgRow, micros};
use crate::{Answer, Param, Sent};

/// The columns [`item_row`] reads, the document's id first.
pub(super) const ITEM_COLUMNS: &str = "document_id, item_id, kind, parent_item_id, description, \
     quantity::text, unit_price::text, tax_rate::text, invoice_item_id, amount_minor, \
     balance_minor, credited_minor";

/// A document's items, found by the document's id through its row (which names the customer
/// that leads the items' key), in order.
fn items_of_one() -> String {
    format!(
        "select {ITEM_COLUMNS} from document_item where tenant_id = $1 and \
         (customer_id, document_id) in (select customer_id, document_id from document \
         where tenant_id = $1 and document_id = $2) order by idx"
    )
}

/// The invoice group of a document that is an invoice: its original (the document itself or
/// the invoice it adjusts), then the original's adjustment invoices in the order they were
/// made; nothing for another kind. The root is found once, then both indexes serve the
/// members.
const GROUP_OF_ONE: &str = "with root as (select coalesce(adjusts_invoice_id, document_id) as id \
     from document where tenant_id = $1 and document_id = $2 and kind = 'invoice') \
     select coalesce(d.adjusts_invoice_id, d.document_id), d.document_id from document d, root \
     where d.document_id = root.id or d.adjusts_invoice_id = root.id order by d.seq";

/// Locks a customer's row and reads it.
fn lock_sql() -> String {
    format!(
        "select {CUSTOMER_COLUMNS} from customer where tenant_id = $1 and customer_id = $2 \
         for update"
    )
}

/// Draws the next number of a kind in the tenant (migration 0008's function), only for a
/// known customer (locked by the statement before it in the flight) and, `keyed`, only when
/// no response is saved under the key: a replay takes no number.
fn number_sql(keyed: bool) -> &'static str {
    if keyed {
        "select next_document_number($1, $2, $3) where exists (select 1 from customer \
         where tenant_id = $1 and customer_id = $4) and not exists (select 1 from \
         idempotency_key where tenant_id = $1 and idempotency_key = $5)"
    } else {
        "select next_document_number($1, $2, $3) where exists (select 1 from customer \
         where tenant_id = $1 and customer_id = $4)"
    }
}

/// Each document's currency by its id, for reading its items' amounts.
pub(super) fn currencies(documents: &[Document]) -> HashMap<String, Currency> {
    documents.iter().map(|d| (d.id.to_string(), d.currency)).collect()
}

/// An item row of [`ITEM_COLUMNS`] as `(document id, item)`, in its document's currency.
pub(super) fn item_row(
    row: &PgRow<'_>,
    currencies: &HashMap<String, Currency>,
) -> StoreResult<(String, Item)> {
    let document_id = row.text(0)?;
    let currency = *currencies.get(&document_id).ok_or_else(|| bad(0, &document_id))?;
    Ok((document_id, settle_store_sql::item(row, 1, currency)?))
}

/// A row of an invoice group as `(original's id, member's id)`.
pub(super) fn group_row(row: &PgRow<'_>) -> StoreResult<(String, DocumentId)> {
    Ok((row.text(0)?, row.parsed(1, DocumentId::parse)?))
}

/// The rows an answer carries; none for an answer without rows.
pub(super) fn rows(answer: Answer) -> Vec<postgres::Row> {
    match answer {
        Answer::Rows(rows) => rows,
        Answer::Count(_) | Answer::Done | Answer::Prepared(_) => Vec::new(),
    }
}

/// The rows of each answer, in order.
fn rows_of(answers: Vec<Answer>) -> impl Iterator<Item = Vec<postgres::Row>> {
    answers.into_iter().map(rows)
}

impl PgTx {
    /// The document the unit's opening flight read, if it did and nothing read or wrote a
    /// document since (`Some(None)`: it read that there is none).
    fn ahead_document(
        &mut self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> Option<Option<Document>> {
        let at = self
            .ahead_documents
            .iter()
            .position(|(tenant, id, _)| tenant == tenant_id && id == document_id)?;
        Some(self.ahead_documents.swap_remove(at).2)
    }

    /// Locks the customer's row and reads its tenant's settings after it, in one flight; the
    /// settings are kept for the unit's `settings` call that follows.
    pub(super) fn lock_with_settings(
        &mut self,
        tenant_id: &TenantId,
        customer_id: &CustomerId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(CustomerLock, Customer)>> {
        let lock_sql = lock_sql();
        let (settings_sql, settings_args) =
            bind(settle_store_sql::queries::settings(tenant_id.as_str()));
        let result = self.conn.statement(&lock_sql);
        let lock = self.checked(result)?;
        let result = self.conn.statement(&settings_sql);
        let settings = self.checked(result)?;
        let lock_args: [Param<'_>; 2] = [&tenant_id.as_str(), &customer_id.as_str()];
        let settings_refs = params(&settings_args);
        let answers = self.send_with(vec![
            Sent::Prepared(&lock, &lock_args),
            Sent::Prepared(&settings, &settings_refs),
        ])?;
        let mut rows = rows_of(answers);
        let (customers, settings) = (rows.next().unwrap_or_default(), rows.next());
        if let Some(row) = settings.unwrap_or_default().first() {
            self.settings = Some((tenant_id.clone(), settle_store_sql::settings(&PgRow(row))?));
        }
        let Some(row) = customers.first() else { return Ok(None) };
        let (customer, _) = settle_store_sql::customer(&PgRow(row))?;
        let lock =
            settle_store::adapter::customer_lock(tenant_id.clone(), customer_id.clone(), now);
        Ok(Some((lock, customer)))
    }

    /// Opens a unit in one flight ([`settle_store::StoreTx::open_unit`]): the key's saved
    /// response, the customer's lock, the tenant's settings, and the number, which the
    /// statement draws only for a known customer and a key with no saved response.
    pub(super) fn open_unit_in_one_flight(
        &mut self,
        opening: &UnitOpening<'_>,
    ) -> StoreResult<OpenedUnit> {
        let (tenant_id, customer_id) = (opening.tenant_id, opening.customer_id);
        let (key_sql, key_args) = bind(settle_store_sql::queries::idempotency(
            tenant_id.as_str(),
            opening.key.unwrap_or_default(),
        ));
        let (settings_sql, settings_args) =
            bind(settle_store_sql::queries::settings(tenant_id.as_str()));
        let lock_sql = lock_sql();
        let number_sql = number_sql(opening.key.is_some());
        let texts = [key_sql.as_str(), lock_sql.as_str(), settings_sql.as_str(), number_sql];
        let [key, lock, settings, number] = texts.map(|sql| self.conn.statement(sql));
        let (key, lock, settings, number) = (
            self.checked(key)?,
            self.checked(lock)?,
            self.checked(settings)?,
            self.checked(number)?,
        );
        let (key_refs, settings_refs) = (params(&key_args), params(&settings_args));
        let (tenant, customer) = (tenant_id.as_str(), customer_id.as_str());
        let lock_args: [Param<'_>; 2] = [&tenant, &customer];
        let kind = opening.number.map(|kind| kind.name());
        let at = micros(opening.now);
        let key_text = opening.key.unwrap_or_default();
        let mut number_args: Vec<Param<'_>> = vec![&tenant, &kind, &at, &customer];
        if opening.key.is_some() {
            number_args.push(&key_text);
        }
        let mut sent = Vec::with_capacity(4);
        if opening.key.is_some() {
            sent.push(Sent::Prepared(&key, &key_refs));
        }
        sent.push(Sent::Prepared(&lock, &lock_args));
        sent.push(Sent::Prepared(&settings, &settings_refs));
        if opening.number.is_some() {
            sent.push(Sent::Prepared(&number, &number_args));
        }
        // The documents the command reads first, after the lock that keeps them as read.
        let [document, items, group] = self.document_statements()?;
        let ids: Vec<&str> = opening.documents.iter().map(DocumentId::as_str).collect();
        let by_ids: Vec<[Param<'_>; 2]> = ids.iter().map(|id| [&tenant as Param<'_>, id]).collect();
        for by_id in &by_ids {
            sent.push(Sent::Prepared(&document, by_id));
            sent.push(Sent::Prepared(&items, by_id));
            sent.push(Sent::Prepared(&group, by_id));
        }
        let answers = self.send_with(sent)?;
        let mut rows = rows_of(answers);
        let opened = opened_unit(opening, &mut rows)?;
        self.ahead_documents.clear();
        for id in opening.documents {
            let read = document_of(&mut rows)?;
            self.ahead_documents.push((tenant_id.clone(), id.clone(), read));
        }
        Ok(opened)
    }

    /// A document with its items and its group, in one flight; or, the first time a unit reads
    /// it, as its opening flight read it ([`PgTx::open_unit_in_one_flight`]).
    pub(super) fn read_document(
        &mut self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> StoreResult<Option<Document>> {
        if let Some(read) = self.ahead_document(tenant_id, document_id) {
            return Ok(read);
        }
        let [document, items, group] = self.document_statements()?;
        let by_id: [Param<'_>; 2] = [&tenant_id.as_str(), &document_id.as_str()];
        let answers = self.send_with(vec![
            Sent::Prepared(&document, &by_id),
            Sent::Prepared(&items, &by_id),
            Sent::Prepared(&group, &by_id),
        ])?;
        let mut rows = rows_of(answers);
        document_of(&mut rows)
    }

    /// The three statements that read a document, its items and its invoice group, each
    /// taking the tenant and the document's id.
    fn document_statements(&mut self) -> StoreResult<[tokio_postgres::Statement; 3]> {
        let (document_sql, _) = bind(settle_store_sql::queries::document("", ""));
        let items_sql = items_of_one();
        let [document, items, group] = [document_sql.as_str(), items_sql.as_str(), GROUP_OF_ONE]
            .map(|sql| self.conn.statement(sql));
        Ok([self.checked(document)?, self.checked(items)?, self.checked(group)?])
    }
}

/// The document the next three answers of `rows` read ([`PgTx::document_statements`]).
fn document_of(
    rows: &mut impl Iterator<Item = Vec<postgres::Row>>,
) -> StoreResult<Option<Document>> {
    let (documents, items, group) = (
        rows.next().unwrap_or_default(),
        rows.next().unwrap_or_default(),
        rows.next().unwrap_or_default(),
    );
    let mut documents: Vec<Document> = documents
        .iter()
        .map(|row| settle_store_sql::document(&PgRow(row)).map(|(d, _)| d))
        .collect::<StoreResult<_>>()?;
    let currencies = currencies(&documents);
    let items = items
        .iter()
        .map(|row| item_row(&PgRow(row), &currencies))
        .collect::<StoreResult<Vec<_>>>()?;
    settle_store_sql::attach_items(&mut documents, items);
    let group = group.iter().map(|row| group_row(&PgRow(row))).collect::<StoreResult<Vec<_>>>()?;
    settle_store_sql::attach_groups(&mut documents, group);
    Ok(documents.into_iter().next())
}

/// What [`PgTx::open_unit_in_one_flight`]'s flight answered: the saved response when a key
/// was looked up, the lock's row, the settings, and the number when one was asked for.
fn opened_unit(
    opening: &UnitOpening<'_>,
    rows: &mut impl Iterator<Item = Vec<postgres::Row>>,
) -> StoreResult<OpenedUnit> {
    let (tenant_id, customer_id) = (opening.tenant_id, opening.customer_id);
    let saved = match opening.key {
        Some(key) => match rows.next().unwrap_or_default().first() {
            Some(row) => Some(settle_store_sql::idempotency_record(tenant_id, key, &PgRow(row))?),
            None => None,
        },
        None => None,
    };
    let locked = match rows.next().unwrap_or_default().first() {
        Some(row) => {
            let (customer, _) = settle_store_sql::customer(&PgRow(row))?;
            let lock = settle_store::adapter::customer_lock(
                tenant_id.clone(),
                customer_id.clone(),
                opening.now,
            );
            Some((lock, customer))
        }
        None => None,
    };
    let settings = match rows.next().unwrap_or_default().first() {
        Some(row) => settle_store_sql::settings(&PgRow(row))?,
        None => return Err(StoreError::Corrupt(format!("no tenant {tenant_id}"))),
    };
    let answered = if opening.number.is_some() { rows.next() } else { None };
    let number = match answered.unwrap_or_default().first() {
        Some(row) => Some(
            u64::try_from(PgRow(row).int(0)?)
                .map_err(|_| StoreError::Corrupt("negative counter".to_owned()))?,
        ),
        None => None,
    };
    Ok(OpenedUnit { saved, locked, settings, number })
}
