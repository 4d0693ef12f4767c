//! Creating, posting, reading and listing invoices, debit memos and credit memos.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use settle_core::document::{
    Document, DocumentKind, DocumentSpec, ItemSpec, Pricing, TaxSpec, draft_document, post_document,
};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, DocumentId, ItemId, TenantId};
use settle_core::money::Currency;
use settle_store::{DocumentQuery, Page, PageRequest};

use super::Amount;
use super::{check_text, parse_amount};
use crate::unit::{Ahead, Touched, Unit};
use crate::{Engine, EngineResult};

/// A request for a new document.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// Invoice, debit memo or credit memo.
    pub kind: DocumentKind,
    /// The customer.
    pub customer_id: CustomerId,
    /// The items.
    pub items: Vec<NewItem>,
    /// Document date (default today).
    pub invoice_date: Option<NaiveDate>,
    /// Due date (default document date + the customer's payment terms).
    pub due_date: Option<NaiveDate>,
    /// For an adjustment invoice, the invoice it adjusts.
    pub adjusts_invoice_id: Option<DocumentId>,
    /// For a credit memo, the reason.
    pub reason: Option<String>,
    /// Post at once.
    pub post: bool,
}

/// A requested item: `amount`, or `quantity` and `unit_price`.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    /// What it is for.
    pub description: String,
    /// Signed amount as decimal text.
    pub amount: Option<Amount>,
    /// Quantity.
    pub quantity: Option<Decimal>,
    /// Unit price.
    pub unit_price: Option<Decimal>,
    /// Taxes on it.
    pub taxes: Vec<NewTax>,
    /// For a credit memo item, the invoice item it credits.
    pub invoice_item_id: Option<ItemId>,
}

/// A requested tax: `rate` (percent) or `amount`.
#[derive(Debug, Clone, Default)]
pub struct NewTax {
    /// Name.
    pub name: String,
    /// Percent.
    pub rate: Option<Decimal>,
    /// Fixed amount as decimal text.
    pub amount: Option<Amount>,
}

/// Most fraction digits of a unit price or a quantity.
const MAX_SCALE: u32 = 12;

pub(crate) fn item_specs(
    items: Vec<NewItem>,
    currency: Currency,
) -> Result<Vec<ItemSpec>, Rejection> {
    items
        .into_iter()
        .enumerate()
        .map(|(idx, item)| {
            let field = |name: &str| format!("items[{idx}].{name}");
            check_text(&field("description"), &item.description, true)?;
            let pricing = match (item.amount, item.quantity, item.unit_price) {
                (Some(amount), None, None) => {
                    Pricing::Amount(parse_amount(&field("amount"), &amount, currency)?)
                }
                (None, Some(quantity), Some(unit_price)) => {
                    if quantity.scale() > MAX_SCALE || unit_price.scale() > MAX_SCALE {
                        return Err(Rejection::invalid(
                            field("unit_price"),
                            format!("at most {MAX_SCALE} decimal places"),
                        ));
                    }
                    Pricing::PerUnit { quantity, unit_price }
                }
                _ => {
                    return Err(Rejection::invalid(
                        field("amount"),
                        "give either amount, or quantity and unit_price",
                    ));
                }
            };
            let taxes = item
                .taxes
                .into_iter()
                .enumerate()
                .map(|(tax_idx, tax)| {
                    let tax_field = |name: &str| format!("items[{idx}].taxes[{tax_idx}].{name}");
                    check_text(&tax_field("name"), &tax.name, true)?;
                    match (tax.rate, tax.amount) {
                        (Some(rate), None) => {
                            if rate.scale() > MAX_SCALE || rate.abs() > Decimal::ONE_HUNDRED {
                                return Err(Rejection::invalid(
                                    tax_field("rate"),
                                    "a percent between -100 and 100",
                                ));
                            }
                            Ok(TaxSpec::Rate { name: tax.name, rate })
                        }
                        (None, Some(amount)) => Ok(TaxSpec::Amount {
                            name: tax.name,
                            amount: parse_amount(&tax_field("amount"), &amount, currency)?,
                        }),
                        _ => {
                            Err(Rejection::invalid(tax_field("rate"), "give either rate or amount"))
                        }
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ItemSpec {
                description: item.description,
                pricing,
                taxes,
                invoice_item_id: item.invoice_item_id,
            })
        })
        .collect()
}

impl Unit<'_> {
    /// Builds a document for the locked customer, posting it if asked, and stores it.
    pub(crate) fn create_document(&mut self, new: NewDocument) -> EngineResult<Document> {
        let currency = self.customer.currency;
        if let Some(reason) = &new.reason {
            check_text("reason", reason, true)?;
        }
        let items = item_specs(new.items, currency)?;
        if let Some(adjusted) = &new.adjusts_invoice_id {
            let original = self.document(adjusted)?;
            if original.kind != DocumentKind::Invoice || new.kind != DocumentKind::Invoice {
                return Err(Rejection::invalid(
                    "adjusts_invoice_id",
                    "an invoice adjusts an invoice",
                )
                .into());
            }
            // A group is one original and its adjustment invoices, so its balance is one sum.
            if let Some(root) = &original.adjusts_invoice_id {
                return Err(Rejection::invalid(
                    "adjusts_invoice_id",
                    format!("{adjusted} is an adjustment invoice of {root}; adjust {root} instead"),
                )
                .into());
            }
        }
        let invoice_date = new.invoice_date.unwrap_or(self.today);
        let due_date = match new.due_date {
            Some(due) => due,
            None => invoice_date
                .checked_add_days(Days::new(u64::from(self.customer.payment_terms_days)))
                .ok_or_else(|| Rejection::invalid("invoice_date", "out of range"))?,
        };
        let spec = DocumentSpec {
            kind: new.kind,
            customer_id: self.customer.id.clone(),
            currency,
            invoice_date,
            due_date,
            adjusts_invoice_id: new.adjusts_invoice_id,
            reason: new.reason,
            items,
        };
        let number = new.kind.number(self.next_number(new.kind)?);
        let id = self.ids.document(new.kind);
        let mut document = draft_document(spec, id, number, &self.ids)?;
        if new.post {
            let date = document.invoice_date;
            let txn = post_document(&mut document, self.ids.txn(), date)?;
            self.record(&txn, Touched { documents: vec![&mut document], ..Touched::default() })?;
        }
        self.tx.insert_document(&self.lock, &document)?;
        Ok(document)
    }
}

impl Engine {
    /// Creates a document (a draft unless `post`).
    pub fn create_document(
        &self,
        tenant_id: &TenantId,
        new: NewDocument,
    ) -> EngineResult<Document> {
        if new.kind == DocumentKind::CreditMemo {
            return Err(Rejection::invalid(
                "kind",
                "credit memos are created with create_credit_memo",
            )
            .into());
        }
        let (customer_id, kind) = (new.customer_id.clone(), new.kind);
        let ahead = Ahead { number: Some(kind), ..Ahead::default() };
        self.write_with(tenant_id, &customer_id, ahead, |unit| {
            let post = new.post;
            let mut document = unit.create_document(new)?;
            let appended = unit.appended;
            if post {
                unit.after_post(&mut document)?;
            }
            if unit.appended == appended && document.adjusts_invoice_id.is_none() {
                // No policy recorded anything after the posting, and the document is in no
                // other invoice's group: it is as written, which is what a read would answer,
                // and a round trip to PostgreSQL cheaper (docs/BENCHMARKS.md).
                if document.kind == DocumentKind::Invoice {
                    document.group = vec![document.id.clone()];
                }
            } else {
                document = unit.document(&document.id)?;
            }
            Ok(document)
        })
    }

    /// Posts a draft document.
    pub fn post_document(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> EngineResult<Document> {
        self.write_for_document(tenant_id, document_id, |unit| {
            // Read again under the lock: the first read only found the customer.
            let mut document = unit.document(document_id)?;
            let date = document.invoice_date;
            let txn = post_document(&mut document, unit.ids.txn(), date)?;
            unit.record(&txn, Touched { documents: vec![&mut document], ..Touched::default() })?;
            unit.tx.update_document(&unit.lock, &document)?;
            if document.kind == DocumentKind::CreditMemo {
                unit.credit_invoice_items(&document, 1)?;
            }
            unit.after_post(&mut document)?;
            unit.document(document_id)
        })
    }

    /// Reads a document.
    pub fn document(
        &self,
        tenant_id: &TenantId,
        document_id: &DocumentId,
    ) -> EngineResult<Document> {
        self.read_flight(|tx| {
            tx.document(tenant_id, document_id)?.ok_or_else(|| {
                Rejection::NotFound { what: "document", id: document_id.to_string() }.into()
            })
        })
    }

    /// What needs a person (Attention): negative and stuck documents, drafts dated before
    /// `drafts_before`, customers with credit left idle while they owe; one store query.
    pub fn attention(
        &self,
        tenant_id: &TenantId,
        drafts_before: chrono::NaiveDate,
    ) -> EngineResult<settle_store::Attention> {
        self.read(|tx| Ok(tx.attention(tenant_id, drafts_before)?))
    }

    /// Lists documents, newest first.
    pub fn documents(
        &self,
        tenant_id: &TenantId,
        query: &DocumentQuery,
        page: &PageRequest,
    ) -> EngineResult<Page<Document>> {
        self.read(|tx| Ok(tx.documents(tenant_id, query, page)?))
    }
}
