//! Tenants and API keys: bootstrap on an empty store, and authentication.

use settle_core::ids::TenantId;
use settle_store::{ApiKeyRecord, Role};
use sha2::{Digest, Sha256};

use crate::{Engine, EngineResult};

/// Who is calling: the tenant and role of a valid API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's tenant.
    pub tenant_id: TenantId,
    /// What the key may do.
    pub role: Role,
}

/// A key just made; its text is shown only now.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The key's id.
    pub key_id: String,
    /// The key text (prefix `sk_settle_`).
    pub key: String,
}

/// Prefix of every API key, so that leaked keys are easy to recognize.
pub const KEY_PREFIX: &str = "sk_settle_";

/// Hex SHA-256 of a key's text; only this is stored.
pub(crate) fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl Engine {
    /// On an empty store, creates a tenant and an admin key: `admin_key` when given (at least
    /// 16 characters), else a random one that is returned to be printed once. Does nothing
    /// when a tenant exists (but still adds `admin_key` to the first tenant if it is new).
    pub fn bootstrap(&self, admin_key: Option<&str>) -> EngineResult<Option<NewKey>> {
        let mut tx = self.begin_outside_unit()?;
        let tenants = tx.tenants()?;
        let (tenant_id, created) = match tenants.into_iter().next() {
            Some(tenant_id) => (tenant_id, false),
            None => {
                let tenant_id = self.new_ids().tenant();
                tx.insert_tenant(&tenant_id, "Default", self.now())?;
                (tenant_id, true)
            }
        };
        let out = match admin_key {
            Some(key) => {
                if tx.api_key_by_hash(&key_hash(key))?.is_none() {
                    self.insert_key(tx.as_mut(), &tenant_id, key, Role::Admin, Some("bootstrap"))?;
                }
                None
            }
            None if created => {
                let key = self.random_key();
                let key_id =
                    self.insert_key(tx.as_mut(), &tenant_id, &key, Role::Admin, Some("bootstrap"))?;
                Some(NewKey { tenant_id, key_id, key })
            }
            None => None,
        };
        tx.commit()?;
        Ok(out)
    }

    /// Creates a tenant named `name` and an admin key for it.
    pub fn create_tenant(&self, name: &str) -> EngineResult<NewKey> {
        super::check_text("name", name, true)?;
        let mut tx = self.begin_outside_unit()?;
        let tenant_id = self.new_ids().tenant();
        tx.insert_tenant(&tenant_id, name, self.now())?;
        let key = self.random_key();
        let key_id =
            self.insert_key(tx.as_mut(), &tenant_id, &key, Role::Admin, Some("initial"))?;
        tx.commit()?;
        Ok(NewKey { tenant_id, key_id, key })
    }

    /// The tenant and role of `key`, or `None` for an unknown or revoked key.
    pub fn authenticate(&self, key: &str) -> EngineResult<Option<Principal>> {
        // The lookup is by SHA-256 of the key, so comparing hashes for equality in the index
        // leaks nothing about the key text.
        // A key found live is remembered for the next requests that present it (`keys.rs`).
        let hash = key_hash(key);
        let record = self.store.api_key_by_hash(&hash)?;
        let principal = record
            .filter(|r| r.revoked_at.is_none())
            .map(|r| Principal { tenant_id: r.tenant_id, role: r.role });
        match &principal {
            Some(principal) => self.known_keys.remember(hash, principal.clone()),
            None => self.known_keys.forget(&hash),
        }
        Ok(principal)
    }

    fn random_key(&self) -> String {
        // Two suffixes of the id generator: well over 128 random bits.
        format!("{KEY_PREFIX}{}{}", self.ids.suffix(), self.ids.suffix())
    }

    fn insert_key(
        &self,
        tx: &mut dyn settle_store::StoreTx,
        tenant_id: &TenantId,
        key: &str,
        role: Role,
        name: Option<&str>,
    ) -> EngineResult<String> {
        let id = self.new_ids().api_key();
        tx.insert_api_key(&ApiKeyRecord {
            id: id.clone(),
            tenant_id: tenant_id.clone(),
            key_hash: key_hash(key),
            role,
            name: name.map(str::to_owned),
            created_at: self.now(),
            revoked_at: None,
        })?;
        Ok(id.to_string())
    }
}

impl Engine {
    /// Every tenant, oldest first.
    pub fn tenants(&self) -> EngineResult<Vec<TenantId>> {
        self.read(|tx| Ok(tx.tenants()?))
    }
}

impl Engine {
    /// Makes a new key for the caller's tenant; its text is returned only now.
    pub fn create_api_key(
        &self,
        tenant_id: &TenantId,
        role: Role,
        name: Option<String>,
    ) -> EngineResult<CreatedKey> {
        if let Some(name) = &name {
            super::check_text("name", name, true)?;
        }
        let mut tx = self.begin_outside_unit()?;
        self.check_idempotency(tx.as_mut(), tenant_id)?;
        let key = self.random_key();
        let key_id = self.insert_key(tx.as_mut(), tenant_id, &key, role, name.as_deref())?;
        let created = CreatedKey { id: key_id, key, role, name };
        self.save_idempotency(tx.as_mut(), tenant_id, &created)?;
        tx.commit()?;
        Ok(created)
    }

    /// Revokes one of the tenant's keys; effective on the next request. Another tenant's key
    /// (or an unknown or already revoked one) is not found.
    pub fn revoke_api_key(&self, tenant_id: &TenantId, key_id: &str) -> EngineResult<()> {
        let not_found =
            || settle_core::error::Rejection::NotFound { what: "api key", id: key_id.to_owned() };
        let id = settle_core::ids::ApiKeyId::parse(key_id).ok_or_else(not_found)?;
        let mut tx = self.begin_outside_unit()?;
        if !tx.revoke_api_key(tenant_id, &id, self.now())? {
            return Err(not_found().into());
        }
        tx.commit()?;
        Ok(())
    }
}

impl Engine {
    /// The tenant's keys, revoked ones included, oldest first; never their text or hash.
    pub fn api_keys(&self, tenant_id: &TenantId) -> EngineResult<Vec<ApiKey>> {
        let records = self.read(|tx| Ok(tx.api_keys(tenant_id)?))?;
        Ok(records
            .into_iter()
            .map(|r| ApiKey {
                id: r.id.to_string(),
                role: r.role,
                name: r.name,
                created_at: r.created_at,
                revoked_at: r.revoked_at,
            })
            .collect())
    }
}

/// A key as listed: what it is, never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id.
    pub id: String,
    /// Its role.
    pub role: Role,
    /// Its label.
    pub name: Option<String>,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A key as answered when it is made (the only time its text is shown).
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The key's id.
    pub id: String,
    /// The key text.
    pub key: String,
    /// Its role.
    pub role: Role,
    /// Its label.
    pub name: Option<String>,
}
