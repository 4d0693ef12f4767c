//! Version tokens: a short digest of everything a page shows about a document, a payment or a
//! customer's balances. A form carries the token of the state it was drawn from; a command given
//! a token that no longer matches is refused as [`crate::error::Rejection::Stale`], so a clerk
//! never moves money on numbers that have changed under them.
//!
//! The token is derived from the state itself rather than stored: a state that changes and then
//! changes back has its old token again, which is right, because the page is then accurate
//! again. The digest is FNV-1a over a fixed encoding, the same on every build and platform.

use crate::customer::Customer;
use crate::document::Document;
use crate::payment::Payment;

/// FNV-1a, 64 bits.
struct Digest(u64);

impl Digest {
    fn new() -> Digest {
        Digest(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Digest {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// A field: its bytes and a separator no field contains.
    fn text(&mut self, text: &str) -> &mut Digest {
        self.bytes(text.as_bytes()).bytes(&[0xff])
    }

    fn int(&mut self, n: i64) -> &mut Digest {
        self.bytes(&n.to_le_bytes())
    }

    fn token(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The version of a document: its status, its items' amounts, balances and credited amounts,
/// and its group balance.
pub fn document(document: &Document) -> String {
    let mut d = Digest::new();
    d.text(&document.id.to_string()).text(document.status.name());
    d.int(document.group_balance.minor()).int(document.items.len() as i64);
    for item in &document.items {
        d.text(&item.id.to_string());
        d.int(item.amount.minor()).int(item.balance.minor()).int(item.credited.minor());
    }
    d.token()
}

/// The version of a payment: its status, unapplied and refunded amounts.
pub fn payment(payment: &Payment) -> String {
    let mut d = Digest::new();
    d.text(&payment.id.to_string()).text(payment.status.name());
    d.int(payment.amount.minor()).int(payment.unapplied.minor()).int(payment.refunded.minor());
    d.token()
}

/// The version of a customer's balances (what the Collect screen is drawn from).
pub fn customer(customer: &Customer) -> String {
    let b = customer.balances;
    let mut d = Digest::new();
    d.text(&customer.id.to_string());
    d.int(b.receivable).int(b.unapplied_payments).int(b.credit_memo_balance).int(b.credit_balance);
    d.token()
}
