//! Typed identifiers. Each is an opaque string with a type prefix (`cus_`, `inv_`, ...), so an id
//! names its kind in logs and an id of one kind cannot be passed where another is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, [$($prefix:literal),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks the prefix; `None` for text that cannot be an id of this kind.
            pub fn parse(text: &str) -> Option<$name> {
                let ok = [$($prefix),+].iter().any(|p| {
                    text.len() > p.len()
                        && text.len() <= 64
                        && text.starts_with(p)
                        && text[p.len()..].bytes().all(|b| b.is_ascii_alphanumeric())
                });
                ok.then(|| $name(text.to_owned()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A tenant: one company's books.
    TenantId, ["ten_"]);
id_type!(
    /// A customer.
    CustomerId, ["cus_"]);
id_type!(
    /// A document: an invoice (`inv_`), a debit memo (`dm_`) or a credit memo (`cm_`).
    DocumentId, ["inv_", "dm_", "cm_"]);
id_type!(
    /// An item of a document (charge, tax or credit memo item).
    ItemId, ["item_"]);
id_type!(
    /// A payment.
    PaymentId, ["pay_"]);
id_type!(
    /// An application of a credit source to a receivable document.
    ApplicationId, ["app_"]);
id_type!(
    /// A journal transaction.
    TxnId, ["txn_"]);
id_type!(
    /// An API key.
    ApiKeyId, ["key_"]);
id_type!(
    /// An invoice item adjustment.
    AdjustmentId, ["adj_"]);
id_type!(
    /// A refund.
    RefundId, ["ref_"]);
id_type!(
    /// A staff user of the back office.
    UserId, ["usr_"]);
id_type!(
    /// A customer's payment link.
    PaymentLinkId, ["plink_"]);
id_type!(
    /// A product of the catalog.
    ProductId, ["prod_"]);
id_type!(
    /// A price of a product.
    PriceId, ["price_"]);
id_type!(
    /// A subscription.
    SubscriptionId, ["sub_"]);
id_type!(
    /// An item of a subscription (a price and a quantity); it keeps its id across quantity and
    /// price changes.
    SubscriptionItemId, ["si_"]);
id_type!(
    /// An amendment of a subscription.
    AmendmentId, ["amd_"]);
id_type!(
    /// A bill run.
    BillRunId, ["br_"]);

/// Makes ids. The engine owns the real one; tests use a counter so that outputs are stable.
pub trait IdGen: Send + Sync {
    /// A fresh random suffix of letters and digits, unique with overwhelming probability.
    fn suffix(&self) -> String;
}

/// Builds a new id of each kind from an [`IdGen`].
pub struct NewIds<'a>(pub &'a dyn IdGen);

impl NewIds<'_> {
    /// A new id with `prefix`.
    fn make(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.0.suffix())
    }
    /// A new tenant id.
    pub fn tenant(&self) -> TenantId {
        TenantId(self.make("ten_"))
    }
    /// A new customer id.
    pub fn customer(&self) -> CustomerId {
        CustomerId(self.make("cus_"))
    }
    /// A new document id with the prefix of its kind.
    pub fn document(&self, kind: crate::document::DocumentKind) -> DocumentId {
        DocumentId(self.make(kind.id_prefix()))
    }
    /// A new item id.
    pub fn item(&self) -> ItemId {
        ItemId(self.make("item_"))
    }
    /// A new payment id.
    pub fn payment(&self) -> PaymentId {
        PaymentId(self.make("pay_"))
    }
    /// A new application id.
    pub fn application(&self) -> ApplicationId {
        ApplicationId(self.make("app_"))
    }
    /// A new journal transaction id.
    pub fn txn(&self) -> TxnId {
        TxnId(self.make("txn_"))
    }
    /// A new API key id.
    pub fn api_key(&self) -> ApiKeyId {
        ApiKeyId(self.make("key_"))
    }
    /// A new adjustment id.
    pub fn adjustment(&self) -> AdjustmentId {
        AdjustmentId(self.make("adj_"))
    }
    /// A new refund id.
    pub fn refund(&self) -> RefundId {
        RefundId(self.make("ref_"))
    }
    /// A new staff user id.
    pub fn user(&self) -> UserId {
        UserId(self.make("usr_"))
    }
    /// A new payment link id.
    pub fn payment_link(&self) -> PaymentLinkId {
        PaymentLinkId(self.make("plink_"))
    }
    /// A new product id.
    pub fn product(&self) -> ProductId {
        ProductId(self.make("prod_"))
    }
    /// A new price id.
    pub fn price(&self) -> PriceId {
        PriceId(self.make("price_"))
    }
    /// A new subscription id.
    pub fn subscription(&self) -> SubscriptionId {
        SubscriptionId(self.make("sub_"))
    }
    /// A new subscription item id.
    pub fn subscription_item(&self) -> SubscriptionItemId {
        SubscriptionItemId(self.make("si_"))
    }
    /// A new amendment id.
    pub fn amendment(&self) -> AmendmentId {
        AmendmentId(self.make("amd_"))
    }
    /// A new bill run id.
    pub fn bill_run(&self) -> BillRunId {
        BillRunId(self.make("br_"))
    }
}
