//! Idempotency keys with Stripe's semantics: the saved response is written in the same database
//! transaction as the effect it answers, so a request either happened with its response saved,
//! or did not happen at all.
//!
//! A saved response is kept for the retention period (by the engine's clock): after it the key
//! is as if never used, and `prune_idempotency` deletes such records in small batches.

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use settle_core::ids::TenantId;
use settle_store::{IdempotencyRecord, StoreTx};

use crate::{Engine, EngineError, EngineResult};

/// How long a saved response is kept by default: 48 hours.
pub const DEFAULT_IDEMPOTENCY_RETENTION: TimeDelta = TimeDelta::hours(48);

/// The shortest retention Settle keeps: 24 hours, as the API promises.
pub const MIN_IDEMPOTENCY_RETENTION: TimeDelta = TimeDelta::hours(24);

/// Renders a command's result as the HTTP status and body to save.
pub type Render = Box<dyn Fn(&dyn Any) -> Option<(u16, String)> + Send + Sync>;

/// The idempotency scope of one request.
pub struct Idempotency {
    /// The client's key.
    pub key: String,
    /// Hex SHA-256 of method, route and body.
    pub request_hash: String,
    /// Turns the command's result into the response to save.
    pub render: Render,
}

impl Engine {
    /// This engine, for one request made with an idempotency key: every write transaction
    /// first looks the key up (answering a replay or a mismatch), and saves the rendered
    /// response before it commits.
    pub fn idempotent(&self, idempotency: Idempotency) -> Engine {
        Engine { idempotency: Some(Arc::new(idempotency)), ..self.clone() }
    }

    /// This engine, keeping saved responses for `retention` (never less than
    /// [`MIN_IDEMPOTENCY_RETENTION`]; a shorter one is raised to it).
    pub fn with_idempotency_retention(&self, retention: TimeDelta) -> Engine {
        Engine { idempotency_retention: retention.max(MIN_IDEMPOTENCY_RETENTION), ..self.clone() }
    }

    /// How long saved responses are kept.
    pub fn idempotency_retention(&self) -> TimeDelta {
        self.idempotency_retention
    }

    /// Records saved at or before this instant have expired.
    fn idempotency_expired_at(&self) -> DateTime<Utc> {
        self.now()
            .checked_sub_signed(self.idempotency_retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The saved response for a key, if any and not expired.
    pub fn idempotency_record(
        &self,
        tenant_id: &TenantId,
        key: &str,
    ) -> EngineResult<Option<IdempotencyRecord>> {
        let expired_at = self.idempotency_expired_at();
        let record = self.read(|tx| Ok(tx.idempotency(tenant_id, key)?))?;
        Ok(record.filter(|r| r.created_at > expired_at))
    }

    /// Deletes at most `batch` expired saved responses (of every tenant) in one short write
    /// transaction and returns how many it deleted; fewer than `batch` means none are left.
    pub fn prune_idempotency(&self, batch: u32) -> EngineResult<usize> {
        let expired_at = self.idempotency_expired_at();
        let mut tx = self.store.begin_write()?;
        let pruned = tx.prune_idempotency(expired_at, batch)?;
        tx.commit()?;
        Ok(pruned)
    }

    /// Inside a write transaction, before any effect: a saved response for the same request is
    /// a replay; for another request, a reused key. An expired one is deleted in this
    /// transaction, so the request is new and its response can be saved under the key.
    pub(crate) fn check_idempotency(
        &self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
    ) -> EngineResult<()> {
        let Some(idempotency) = &self.idempotency else { return Ok(()) };
        let expired_at = self.idempotency_expired_at();
        match tx.idempotency(tenant_id, &idempotency.key)? {
            None => Ok(()),
            Some(record) if record.created_at <= expired_at => {
                // A twin replacing it too waits on this delete, then fails on the unique key
                // when it saves, and answers this request's response.
                tx.remove_expired_idempotency(tenant_id, &idempotency.key, expired_at)?;
                Ok(())
            }
            Some(record) if record.request_hash == idempotency.request_hash => {
                Err(EngineError::Replay(record))
            }
            Some(_) => Err(EngineError::IdempotencyKeyReused),
        }
    }

    /// After a failed write: a conflict may mean another request with the same key committed
    /// first; if so, answer its response (or a reused key) instead of the conflict.
    pub(crate) fn resolve_conflict(&self, tenant_id: &TenantId, err: EngineError) -> EngineError {
        let (Some(idempotency), EngineError::Store(settle_store::StoreError::Conflict { .. })) =
            (&self.idempotency, &err)
        else {
            return err;
        };
        match self.idempotency_record(tenant_id, &idempotency.key) {
            Ok(Some(record)) if record.request_hash == idempotency.request_hash => {
                EngineError::Replay(record)
            }
            Ok(Some(_)) => EngineError::IdempotencyKeyReused,
            Ok(None) | Err(_) => err,
        }
    }

    /// Saves the rendered response of `out` in the transaction, before it commits.
    pub(crate) fn save_idempotency<T: Any>(
        &self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
        out: &T,
    ) -> EngineResult<()> {
        let Some(idempotency) = &self.idempotency else { return Ok(()) };
        let (status, body) = (idempotency.render)(out as &dyn Any)
            .expect("the API renders every result type of an idempotent command");
        tx.insert_idempotency(&IdempotencyRecord {
            tenant_id: tenant_id.clone(),
            key: idempotency.key.clone(),
            request_hash: idempotency.request_hash.clone(),
            status,
            body,
            created_at: self.now(),
        })?;
        Ok(())
    }
}
