//! API keys this process has found live, so that a request presenting one is served without a
//! lookup of its own: its first transaction confirms the key in the same flight as its own
//! first statements ([`settle_store::StoreTx::confirm_api_key`]). A revoked key is refused by
//! the first request after its revocation commits, as when every request looked its key up
//! first (ARCHITECTURE.md, "API keys").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use settle_store::{KeyCheck, StoreTx};

use crate::commands::tenants::key_hash;
use crate::{Engine, EngineResult, Principal};

/// Keys remembered at most; past it the memory starts over (each key is then looked up once
/// more). Only keys found live are remembered, so no caller can fill it with made-up keys.
const KNOWN_KEYS: usize = 10_000;

/// Keys found live, by the SHA-256 of their text.
#[derive(Default)]
pub(crate) struct KnownKeys(Mutex<HashMap<String, Principal>>);

impl KnownKeys {
    fn get(&self, key_hash: &str) -> Option<Principal> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(key_hash).cloned()
    }

    pub(crate) fn remember(&self, key_hash: String, principal: Principal) {
        let mut keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= KNOWN_KEYS {
            keys.clear();
        }
        keys.insert(key_hash, principal);
    }

    pub(crate) fn forget(&self, key_hash: &str) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(key_hash);
    }
}

impl Engine {
    /// A check of `key` as this process last found it live, or `None` when it has not (then
    /// [`Engine::authenticate`] looks it up). The request runs as the check's tenant and role
    /// on an engine [`Engine::confirming`] it, and is answered only once the check is
    /// confirmed ([`Engine::confirm_key`] when no transaction did).
    pub fn recall_key(&self, key: &str) -> Option<Arc<KeyCheck>> {
        let hash = key_hash(key);
        let principal = self.known_keys.get(&hash)?;
        Some(Arc::new(KeyCheck::new(hash, principal.tenant_id, principal.role)))
    }

    /// This engine, confirming `key` in each transaction it begins until one has, so nothing
    /// the request writes commits under a refused key.
    pub fn confirming(&self, key: Arc<KeyCheck>) -> Engine {
        Engine { key_check: Some(key), ..self.clone() }
    }

    /// Confirms `key` with a lookup of its own unless a transaction already has; `false` when
    /// the key is refused, and then it is forgotten.
    pub fn confirm_key(&self, key: &KeyCheck) -> EngineResult<bool> {
        if key.is_confirmed() {
            return Ok(true);
        }
        let record = self.store.api_key_by_hash(&key.key_hash)?;
        let live = key.confirm_with(record.as_ref());
        if !live {
            self.known_keys.forget(&key.key_hash);
        }
        Ok(live)
    }

    /// Asks `tx` to confirm the key this engine is confirming, if it has one not yet confirmed.
    pub(crate) fn confirm_key_in(&self, tx: &mut dyn StoreTx) -> EngineResult<()> {
        match &self.key_check {
            Some(key) if !key.is_confirmed() => Ok(tx.confirm_api_key(key)?),
            _ => Ok(()),
        }
    }
}
