//! The API key a transaction confirms ([`settle_store::StoreTx::confirm_api_key`]): its check
//! is held back like a write and answered with the transaction's first flight.

use std::sync::Arc;

use settle_store::{KeyCheck, StoreError, StoreResult, StoreTx};

use super::{Held, HeldWrite, PgTx};
use crate::Arg;

/// Whether an API key is live, of a tenant and with a role: a count of 1 or 0, held back with
/// the transaction's first statements ([`PgTx::hold_key_check`]).
const API_KEY_LIVE: &str = "select count(*) from api_key \
     where key_hash = $1 and tenant_id = $2 and role = $3 and revoked_at is null";

/// What the held check of an API key is named in a flight's checks (`sending.rs`).
pub(super) const KEY_CHECKED: &str = "api key";

impl PgTx {
    /// Holds the check back, so it goes with the transaction's first statements and costs no
    /// round trip of its own; a count other than one fails the call that sends it
    /// ([`StoreError::KeyRefused`]), and `commit` sends it before the COMMIT. A batch's
    /// transaction, which counts its held rows by text to send them ahead, and a second key,
    /// are looked up at once.
    pub(super) fn hold_key_check(&mut self, key: &Arc<KeyCheck>) -> StoreResult<()> {
        if self.conn.threaded || self.key.is_some() {
            return key.judge(self.api_key_by_hash(&key.key_hash)?.as_ref());
        }
        let result = self.conn.statement(API_KEY_LIVE);
        let statement = self.checked(result)?;
        let args: Vec<Arg> = vec![
            Box::new(key.key_hash.clone()),
            Box::new(key.tenant_id.as_str().to_owned()),
            Box::new(key.role.name()),
        ];
        let sql = API_KEY_LIVE.to_owned();
        self.held.push(Held::Write(HeldWrite { statement, sql, args, check: Some(KEY_CHECKED) }));
        self.key = Some(Arc::clone(key));
        Ok(())
    }

    /// The held check of the API key was answered: the key is confirmed, or refused and the
    /// transaction fails.
    pub(super) fn key_answered(&mut self, live: bool) -> StoreResult<()> {
        match &self.key {
            Some(key) if live => {
                key.confirm();
                Ok(())
            }
            _ => {
                self.failed = true;
                Err(StoreError::KeyRefused)
            }
        }
    }
}
