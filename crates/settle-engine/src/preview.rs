//! Previews (dry runs) and stale-page checks.
//!
//! A preview runs the very command it previews: [`Engine::preview`] calls the command on a copy
//! of the engine in dry-run mode, so the command opens its write transaction, takes the
//! customer's lock, decides with `settle-core`, records its journal transactions (the same fold)
//! and writes every projection, exactly as it would. Then, instead of committing, the unit of
//! work reads back what it wrote and rolls the transaction back. There is no second
//! implementation of the arithmetic to drift from the first; nothing is written and no
//! idempotency record is kept.
//!
//! [`Engine::expecting`] makes a command refuse to run (`stale`) when a document, payment or
//! customer no longer has the version its page was drawn from (see [`settle_core::version`]).

use std::sync::{Arc, Mutex, PoisonError};

use settle_core::customer::Customer;
use settle_core::document::{Document, DocumentKind, DocumentStatus};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId, ItemId, PaymentId, TenantId};
use settle_core::money::Money;
use settle_core::payment::{Payment, PaymentStatus};
use settle_core::version;
use settle_store::StoreTx;

use crate::unit::{Touched, Unit};
use crate::{Engine, EngineResult};

/// What a command would change, computed by running it and rolling it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Each item whose balance would change, in the order its document was first touched.
    pub items: Vec<ItemChange>,
    /// Each document whose balance, status or any item balance would change, in the order the
    /// command first touched them, then each document the command creates.
    pub documents: Vec<DocumentChange>,
    /// Each payment whose unapplied amount or status would change.
    pub payments: Vec<PaymentChange>,
    /// The customer's balance (available credit − receivable, as the API shows it).
    pub customer: BalanceChange,
    /// The customer's credit balance pool.
    pub credit_balance: BalanceChange,
}

/// One item's balance before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemChange {
    /// Its document.
    pub document_id: DocumentId,
    /// The item.
    pub item_id: ItemId,
    /// What it is for.
    pub description: String,
    /// Balance now.
    pub before: Money,
    /// Balance after the command.
    pub after: Money,
}

/// One document's balance (and status) before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentChange {
    /// The document.
    pub document_id: DocumentId,
    /// Its number.
    pub number: String,
    /// Invoice, debit memo or credit memo.
    pub kind: DocumentKind,
    /// Balance now.
    pub before: Money,
    /// Balance after the command.
    pub after: Money,
    /// Status now.
    pub status_before: DocumentStatus,
    /// Status after the command.
    pub status_after: DocumentStatus,
    /// The command creates it (a write-off's credit memo): `before` is zero and `status_before`
    /// the status it is created with. Its id is not the one the committed command gives it
    /// (ids are drawn afresh); its number is.
    pub created: bool,
}

/// One payment's unapplied amount (and status) before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentChange {
    /// The payment.
    pub payment_id: PaymentId,
    /// Unapplied now.
    pub before: Money,
    /// Unapplied after the command.
    pub after: Money,
    /// Status now.
    pub status_before: PaymentStatus,
    /// Status after the command.
    pub status_after: PaymentStatus,
}

/// A balance before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceChange {
    /// Now.
    pub before: Money,
    /// After the command.
    pub after: Money,
}

/// Where a dry-run engine leaves the previews of the units it ran.
pub(crate) type DryRun = Arc<Mutex<Vec<Preview>>>;

/// The state a unit of work started from, kept while it runs in dry-run mode: each document and
/// payment as it was when a journal transaction first touched it, and the customer.
pub(crate) struct Watch {
    customer: Customer,
    /// Each document as first touched, and whether this unit created it.
    documents: Vec<(Document, bool)>,
    payments: Vec<Payment>,
    /// The kind of each document number this preview showed, in order.
    numbers: Vec<DocumentKind>,
}

impl Watch {
    pub(crate) fn new(customer: &Customer) -> Watch {
        Watch {
            customer: customer.clone(),
            documents: Vec::new(),
            payments: Vec::new(),
            numbers: Vec::new(),
        }
    }

    fn has_document(&self, id: &DocumentId) -> bool {
        self.documents.iter().any(|(d, _)| d.id == *id)
    }
}

impl Unit<'_> {
    /// The number of the next document of `kind`: taken, or in a dry run only looked at (after
    /// the ones this preview already showed), since on PostgreSQL a number taken is gone even
    /// when its transaction rolls back; a preview shows the number the command would get.
    pub(crate) fn next_number(&mut self, kind: DocumentKind) -> EngineResult<u64> {
        let tenant_id = self.tenant_id().clone();
        let Some(watch) = self.watch.as_mut() else {
            if let Some((drawn_kind, number)) = self.numbered
                && drawn_kind == kind
            {
                self.numbered = None;
                return Ok(number);
            }
            return match self.drawn.as_deref_mut() {
                Some(drawn) if kind == DocumentKind::Invoice => {
                    drawn.take(&mut *self.tx, &tenant_id, self.now)
                }
                _ => Ok(self.tx.next_number(&tenant_id, kind, self.now)?),
            };
        };
        let shown = watch.numbers.iter().filter(|k| **k == kind).count();
        watch.numbers.push(kind);
        let next = self.tx.peek_number(&tenant_id, kind)?;
        Ok(next + u64::try_from(shown).unwrap_or(u64::MAX))
    }

    /// Keeps each object a journal transaction is about to touch as stored, the first time it
    /// is touched (the unit writes an object only after recording what changes it); a document
    /// not in the store yet is one this unit creates.
    pub(crate) fn watch_touched(&mut self, touched: &Touched<'_>) -> EngineResult<()> {
        let tenant_id = self.tenant_id().clone();
        for document in &touched.documents {
            if self.watch.as_ref().is_some_and(|w| !w.has_document(&document.id)) {
                // As stored, not as in memory: a command may change a document before its
                // first journal transaction (a void sets the status first).
                let stored = self.tx.document(&tenant_id, &document.id)?;
                let created = stored.is_none();
                let before = stored.unwrap_or_else(|| (*document).clone());
                if let Some(watch) = &mut self.watch {
                    watch.documents.push((before, created));
                }
            }
        }
        for payment in &touched.payments {
            if self.watch.as_ref().is_some_and(|w| !w.payments.iter().any(|p| p.id == payment.id)) {
                let stored = self.tx.payment(&tenant_id, &payment.id)?;
                let before = stored.unwrap_or_else(|| (*payment).clone());
                if let Some(watch) = &mut self.watch {
                    watch.payments.push(before);
                }
            }
        }
        Ok(())
    }

    /// What this unit changed: each watched object as it started against what the transaction
    /// now holds (read back from it), and the customer as it will be written.
    pub(crate) fn preview(&mut self, watch: Watch) -> EngineResult<Preview> {
        let tenant_id = self.tenant_id().clone();
        let mut preview = Preview {
            items: Vec::new(),
            documents: Vec::new(),
            payments: Vec::new(),
            customer: BalanceChange {
                before: watch.customer.balance(),
                after: self.customer.balance(),
            },
            credit_balance: BalanceChange {
                before: Money::new(watch.customer.balances.credit_balance, self.customer.currency),
                after: Money::new(self.customer.balances.credit_balance, self.customer.currency),
            },
        };
        // The documents that exist first, in the order first touched; then those it creates.
        let (created, existing): (Vec<_>, Vec<_>) =
            watch.documents.into_iter().partition(|(_, created)| *created);
        for (before, created) in existing.into_iter().chain(created) {
            let after = read_back(self.tx, &tenant_id, &before.id)?;
            document_changes(&before, &after, created, &mut preview);
        }
        for before in watch.payments {
            let after = self.tx.payment(&tenant_id, &before.id)?.ok_or_else(|| {
                Rejection::NotFound { what: "payment", id: before.id.to_string() }
            })?;
            if after.unapplied != before.unapplied || after.status != before.status {
                preview.payments.push(PaymentChange {
                    payment_id: before.id,
                    before: before.unapplied,
                    after: after.unapplied,
                    status_before: before.status,
                    status_after: after.status,
                });
            }
        }
        Ok(preview)
    }

    /// Refuses with `stale` when an object no longer has the version the caller saw.
    pub(crate) fn check_versions(&mut self, expected: &[(String, String)]) -> EngineResult<()> {
        let tenant_id = self.tenant_id().clone();
        for (id, expected) in expected {
            let current = if let Some(document_id) = DocumentId::parse(id) {
                self.tx.document(&tenant_id, &document_id)?.map(|d| version::document(&d))
            } else if let Some(payment_id) = PaymentId::parse(id) {
                self.tx.payment(&tenant_id, &payment_id)?.map(|p| version::payment(&p))
            } else if CustomerId::parse(id).is_some_and(|c| c == self.customer.id) {
                Some(version::customer(&self.customer))
            } else {
                return Err(Rejection::invalid("version", format!("{id} has no version")).into());
            };
            match current {
                None => {
                    return Err(Rejection::NotFound { what: "object", id: id.clone() }.into());
                }
                Some(current) if current != *expected => {
                    return Err(Rejection::Stale { id: id.clone() }.into());
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

fn read_back(
    tx: &mut dyn StoreTx,
    tenant_id: &TenantId,
    id: &DocumentId,
) -> EngineResult<Document> {
    Ok(tx
        .document(tenant_id, id)?
        .ok_or_else(|| Rejection::NotFound { what: "document", id: id.to_string() })?)
}

/// Adds what changed between `before` and `after` of one document to `preview`.
fn document_changes(before: &Document, after: &Document, created: bool, preview: &mut Preview) {
    let mut any_item = false;
    let zero = Money::zero(after.currency);
    for item in &after.items {
        let was = match before.item(&item.id) {
            Some(i) if !created => i.balance,
            _ => zero,
        };
        if was != item.balance {
            any_item = true;
            preview.items.push(ItemChange {
                document_id: after.id.clone(),
                item_id: item.id.clone(),
                description: item.description.clone(),
                before: was,
                after: item.balance,
            });
        }
    }
    let was = if created { zero } else { before.balance() };
    if created || any_item || was != after.balance() || before.status != after.status {
        preview.documents.push(DocumentChange {
            document_id: after.id.clone(),
            number: after.number.clone(),
            kind: after.kind,
            before: was,
            after: after.balance(),
            status_before: before.status,
            status_after: after.status,
            created,
        });
    }
}

impl Engine {
    /// What `command` would change, without changing anything: runs it in dry-run mode (the
    /// same code, the same transaction, the same fold) and rolls its unit of work back. The
    /// command must run exactly one unit of work (every balance-moving command does), e.g.
    /// `engine.preview(|e| e.net_items(&tenant, &id))`. A refusal is the command's own.
    pub fn preview<T>(
        &self,
        command: impl FnOnce(&Engine) -> EngineResult<T>,
    ) -> EngineResult<Preview> {
        let dry_run: DryRun = Arc::default();
        let engine =
            Engine { dry_run: Some(Arc::clone(&dry_run)), idempotency: None, ..self.clone() };
        command(&engine)?;
        let mut previews =
            std::mem::take(&mut *dry_run.lock().unwrap_or_else(PoisonError::into_inner));
        match (previews.pop(), previews.is_empty()) {
            (Some(preview), true) => Ok(preview),
            _ => Err(Rejection::invalid("dry_run", "this request cannot be previewed").into()),
        }
    }

    /// This engine, refusing any command with `stale` unless `object_id` (a document, payment
    /// or customer id) still has `version`, checked under the customer's lock before the
    /// command runs. Chain it for more than one object.
    pub fn expecting(&self, object_id: &str, version: &str) -> Engine {
        let mut engine = self.clone();
        let mut expected = (*engine.expected_versions).clone();
        expected.push((object_id.to_owned(), version.to_owned()));
        engine.expected_versions = Arc::new(expected);
        engine
    }

    /// The version token of a document (what its page carries in its forms).
    pub fn document_version(document: &Document) -> String {
        version::document(document)
    }

    /// The version token of a payment.
    pub fn payment_version(payment: &Payment) -> String {
        version::payment(payment)
    }

    /// The version token of a customer's balances.
    pub fn customer_version(customer: &Customer) -> String {
        version::customer(customer)
    }
}
