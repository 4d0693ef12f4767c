//! Idempotency keys with Stripe's semantics: the saved response is written in the same database
//! transaction as the effect it answers, so a request either happened with its response saved,
//! or did not happen at all.

use std::any::Any;
use std::sync::Arc;

use settle_core::ids::TenantId;
use settle_store::{IdempotencyRecord, StoreTx};

use crate::{Engine, EngineError, EngineResult};

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

    /// The saved response for a key, if any.
    pub fn idempotency_record(
        &self,
        tenant_id: &TenantId,
        key: &str,
    ) -> EngineResult<Option<IdempotencyRecord>> {
        self.read(|tx| Ok(tx.idempotency(tenant_id, key)?))
    }

    /// Inside a write transaction, before any effect: a saved response for the same request is
    /// a replay; for another request, a reused key.
    pub(crate) fn check_idempotency(
        &self,
        tx: &mut dyn StoreTx,
        tenant_id: &TenantId,
    ) -> EngineResult<()> {
        let Some(idempotency) = &self.idempotency else { return Ok(()) };
        match tx.idempotency(tenant_id, &idempotency.key)? {
            None => Ok(()),
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
