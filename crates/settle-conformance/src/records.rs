//! Tenants, settings, API keys and document numbers: the records around the ledger.

use chrono::TimeDelta;
use settle_core::application::Rule;
use settle_core::ids::{ApiKeyId, CustomerId, TenantId};
use settle_core::settings::{NegativeInvoicePolicy, Settings};
use std::sync::Arc;

use settle_store::{ApiKeyRecord, KeyCheck, Role, Store, StoreError};

use crate::fixture::{customer, id, seed, t0};
use crate::or_at_commit;

/// Tenants are listed oldest first (ties by id), start with default settings, keep the settings
/// written, and refuse a second tenant of the same id.
pub fn tenants_keep_their_settings_in_creation_order(store: &dyn Store) {
    let (late, early, same) = (
        id(TenantId::parse, "ten_late"),
        id(TenantId::parse, "ten_early"),
        id(TenantId::parse, "ten_same"),
    );
    let mut tx = store.begin_write().expect("begin");
    tx.insert_tenant(&late, "Late", t0() + TimeDelta::hours(1)).expect("tenant");
    tx.insert_tenant(&same, "Same", t0()).expect("tenant");
    tx.insert_tenant(&early, "Early", t0()).expect("tenant");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    assert!(matches!(tx.insert_tenant(&early, "Again", t0()), Err(StoreError::Conflict { .. })));
    drop(tx);

    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.tenants().expect("tenants"), [early.clone(), same.clone(), late.clone()]);
    assert_eq!(tx.settings(&early).expect("settings"), Settings::default());
    let changed = Settings {
        application_rule: Rule::Proration,
        negative_invoice_policy: NegativeInvoicePolicy::TransferAndApply,
        auto_apply_credit: true,
        business_name: "Société Générale de Plomberie".to_owned(),
        ..Settings::default()
    };
    tx.update_settings(&early, &changed).expect("update");
    tx.commit().expect("commit");
    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.settings(&early).expect("settings"), changed);
    assert_eq!(tx.settings(&late).expect("settings"), Settings::default());
}

/// An API key is found by its hash with everything it was stored with; revoking it stamps the
/// instant once, only in its own tenant; a second key with the same hash is refused.
pub fn api_keys_are_found_by_hash_and_revoked_once(store: &dyn Store) {
    let (tenant, other) =
        (crate::fixture::tenant(store, "ten_keyed"), crate::fixture::tenant(store, "ten_other"));
    let key = ApiKeyRecord {
        id: id(ApiKeyId::parse, "key_1"),
        tenant_id: tenant.clone(),
        key_hash: "ab".repeat(32),
        role: Role::Clerk,
        name: Some("billing".to_owned()),
        created_at: t0(),
        revoked_at: None,
    };
    let mut tx = store.begin_write().expect("begin");
    tx.insert_api_key(&key).expect("key");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    let twin = ApiKeyRecord { id: id(ApiKeyId::parse, "key_2"), ..key.clone() };
    assert!(matches!(tx.insert_api_key(&twin), Err(StoreError::Conflict { .. })));
    drop(tx);

    let mut tx = store.begin_write().expect("begin");
    let found = tx.api_key_by_hash(&key.key_hash).expect("read").expect("the key");
    assert_eq!(
        (found.id, found.tenant_id, found.key_hash, found.role, found.name, found.created_at),
        (key.id.clone(), tenant.clone(), key.key_hash.clone(), Role::Clerk, key.name, t0())
    );
    assert_eq!(found.revoked_at, None);
    assert!(tx.api_key_by_hash(&"cd".repeat(32)).expect("read").is_none());
    let revoked_at = t0() + TimeDelta::minutes(5);
    assert!(!tx.revoke_api_key(&other, &key.id, revoked_at).expect("revoke"));
    assert!(!tx.revoke_api_key(&tenant, &id(ApiKeyId::parse, "key_9"), revoked_at).expect("x"));
    assert!(tx.revoke_api_key(&tenant, &key.id, revoked_at).expect("revoke"));
    assert!(!tx.revoke_api_key(&tenant, &key.id, revoked_at + TimeDelta::hours(1)).expect("x"));
    tx.commit().expect("commit");
    let mut tx = store.begin_read().expect("read");
    let found = tx.api_key_by_hash(&key.key_hash).expect("read").expect("the key");
    assert_eq!(found.revoked_at, Some(revoked_at));
    drop(tx);
    // The store's own read, outside any transaction, finds the same record, and nothing for
    // an unknown hash.
    assert_eq!(Store::api_key_by_hash(store, &key.key_hash).expect("read"), Some(found));
    assert_eq!(Store::api_key_by_hash(store, &"cd".repeat(32)).expect("read"), None);
}

/// A transaction confirms a live key of its tenant and role, before or with its first answer;
/// a revoked key, or one presented with another tenant or role, fails the transaction
/// ([`StoreError::KeyRefused`]) at the latest at its commit, which then keeps nothing.
pub fn api_keys_are_confirmed_in_a_transaction(store: &dyn Store) {
    let (tenant, other) =
        (crate::fixture::tenant(store, "ten_confirm"), crate::fixture::tenant(store, "ten_else"));
    let live = |n: &str| ApiKeyRecord {
        id: id(ApiKeyId::parse, &format!("key_{n}")),
        tenant_id: tenant.clone(),
        key_hash: n.repeat(64),
        role: Role::Clerk,
        name: None,
        created_at: t0(),
        revoked_at: None,
    };
    let mut tx = store.begin_write().expect("begin");
    tx.insert_api_key(&live("1")).expect("key");
    tx.insert_api_key(&live("2")).expect("key");
    assert!(tx.revoke_api_key(&tenant, &live("2").id, t0()).expect("revoke"));
    tx.commit().expect("commit");
    let check = |n: &str, tenant: &TenantId, role| {
        Arc::new(KeyCheck::new(n.repeat(64), tenant.clone(), role))
    };

    // Confirmed by the time the transaction has read, or committed.
    let key = check("1", &tenant, Role::Clerk);
    let mut tx = store.begin_read_flight().expect("read");
    tx.confirm_api_key(&key).expect("live");
    assert_eq!(tx.tenant_name(&tenant).expect("read").as_deref(), Some("ten_confirm"));
    assert!(key.is_confirmed());
    drop(tx);
    let key = check("1", &tenant, Role::Clerk);
    let tx = store.begin_write().expect("begin");
    or_at_commit(tx, |tx| {
        tx.confirm_api_key(&key)?;
        tx.insert_tenant(&id(TenantId::parse, "ten_kept"), "Kept", t0())
    })
    .expect("committed");
    assert!(key.is_confirmed());

    // Refused: nothing the transaction wrote is kept, and its reads answer nothing.
    let refused = [
        check("2", &tenant, Role::Clerk),
        check("1", &other, Role::Clerk),
        check("1", &tenant, Role::Admin),
        check("9", &tenant, Role::Clerk),
    ];
    for (n, key) in refused.iter().enumerate() {
        let tx = store.begin_write().expect("begin");
        let made = id(TenantId::parse, &format!("ten_refused{n}"));
        let result = or_at_commit(tx, |tx| {
            tx.confirm_api_key(key)?;
            tx.insert_tenant(&made, "Refused", t0())
        });
        assert!(matches!(result, Err(StoreError::KeyRefused)), "{n}: {result:?}");
        assert!(!key.is_confirmed(), "{n}");
        let mut tx = store.begin_read().expect("read");
        assert_eq!(tx.tenant_name(&made).expect("read"), None, "{n}");
        drop(tx);
        let mut tx = store.begin_read_flight().expect("read");
        let read = tx.confirm_api_key(key).and_then(|()| tx.tenant_name(&tenant));
        assert!(matches!(read, Err(StoreError::KeyRefused)), "{n}: {read:?}");
    }
}

/// A tenant's keys are listed oldest first (ties by id), revoked ones with their instant, and
/// never another tenant's.
pub fn api_keys_are_listed_per_tenant_oldest_first(store: &dyn Store) {
    let (tenant, other) =
        (crate::fixture::tenant(store, "ten_keyed"), crate::fixture::tenant(store, "ten_other"));
    let key = |key_id: &str, tenant_id: &TenantId, minutes: i64, name: Option<&str>| ApiKeyRecord {
        id: id(ApiKeyId::parse, key_id),
        tenant_id: tenant_id.clone(),
        key_hash: format!("{key_id:0>64}"),
        role: Role::Viewer,
        name: name.map(str::to_owned),
        created_at: t0() + TimeDelta::minutes(minutes),
        revoked_at: None,
    };
    let late = key("key_3", &tenant, 10, Some("reports"));
    let early = key("key_9", &tenant, 0, None);
    let twin = key("key_4", &tenant, 10, Some("billing"));
    let foreign = key("key_5", &other, 5, None);
    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.api_keys(&tenant).expect("list"), []);
    for record in [&late, &early, &twin, &foreign] {
        tx.insert_api_key(record).expect("key");
    }
    let revoked_at = t0() + TimeDelta::hours(1);
    assert!(tx.revoke_api_key(&tenant, &late.id, revoked_at).expect("revoke"));
    tx.commit().expect("commit");
    let mut tx = store.begin_read().expect("read");
    let revoked = ApiKeyRecord { revoked_at: Some(revoked_at), ..late };
    assert_eq!(tx.api_keys(&tenant).expect("list"), [early, revoked, twin]);
    assert_eq!(tx.api_keys(&other).expect("list"), [foreign]);
}

/// An imported row's record is found by tenant, kind and external id with everything it was
/// stored with; the same external id twice in a tenant and kind is refused, while another kind
/// or tenant may use it. Customers are found by email without case, in id order.
pub fn external_ids_are_unique_per_tenant_and_kind(store: &dyn Store) {
    use settle_core::ids::CustomerId;
    use settle_store::{ExternalKind, ExternalRef};

    let mut first = crate::fixture::customer("cus_b", "Ada Lovelace", 0);
    first.email = Some("Ada@Example.com".to_owned());
    let mut second = crate::fixture::customer("cus_a", "Ada Twin", 0);
    second.email = Some("ada@example.COM".to_owned());
    let tenant = crate::fixture::seed(store, "ten_imported", &[first, second]);
    let other = crate::fixture::tenant(store, "ten_elsewhere");
    let record = ExternalRef {
        tenant_id: tenant.clone(),
        kind: ExternalKind::Invoice,
        external_id: "A-1001".to_owned(),
        object_id: "inv_1".to_owned(),
        source_number: Some("2024-0042".to_owned()),
        created_at: t0(),
    };
    let mut tx = store.begin_write().expect("begin");
    tx.insert_external_ref(&record).expect("record");
    let as_customer =
        ExternalRef { kind: ExternalKind::Customer, source_number: None, ..record.clone() };
    tx.insert_external_ref(&as_customer).expect("another kind");
    tx.insert_external_ref(&ExternalRef { tenant_id: other.clone(), ..record.clone() })
        .expect("another tenant");
    tx.commit().expect("commit");

    let tx = store.begin_write().expect("begin");
    let again = ExternalRef { object_id: "inv_2".to_owned(), ..record.clone() };
    assert!(matches!(
        crate::or_at_commit(tx, |tx| tx.insert_external_ref(&again)),
        Err(StoreError::Conflict { .. })
    ));

    let mut tx = store.begin_read().expect("read");
    let found = tx.external_ref(&tenant, ExternalKind::Invoice, "A-1001").expect("read");
    assert_eq!(found, Some(record));
    let found = tx.external_ref(&tenant, ExternalKind::Customer, "A-1001").expect("read");
    assert_eq!(found, Some(as_customer));
    assert_eq!(tx.external_ref(&tenant, ExternalKind::Invoice, "a-1001").expect("read"), None);
    let by_email = tx.customers_by_email(&tenant, "ADA@example.com").expect("by email");
    assert_eq!(by_email, [id(CustomerId::parse, "cus_a"), id(CustomerId::parse, "cus_b")]);
    assert_eq!(tx.customers_by_email(&other, "ada@example.com").expect("by email"), []);
}

/// The settings read after a customer's lock are its tenant's as they stand in the
/// transaction: changes committed before it, a change the same transaction made before or
/// after the lock, and another tenant's settings when another tenant is asked for (PostgreSQL
/// reads them in the lock's flight and keeps them for the next call).
pub fn settings_read_after_a_customer_lock_are_the_tenants_as_they_stand(store: &dyn Store) {
    let a = seed(store, "ten_settingsa", &[customer("cus_settingsa", "Settings A", 0)]);
    let b = seed(store, "ten_settingsb", &[]);
    let customer_id = id(CustomerId::parse, "cus_settingsa");
    let named = |name: &str| Settings { business_name: name.to_owned(), ..Settings::default() };
    let mut tx = store.begin_write().expect("begin");
    tx.update_settings(&a, &named("Committed")).expect("update");
    tx.update_settings(&b, &named("Other tenant")).expect("update");
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    tx.lock_customer(&a, &customer_id, t0()).expect("lock").expect("a customer");
    assert_eq!(tx.settings(&b).expect("settings").business_name, "Other tenant");
    assert_eq!(tx.settings(&a).expect("settings").business_name, "Committed");
    drop(tx);

    let mut tx = store.begin_write().expect("begin");
    tx.update_settings(&a, &named("Before the lock")).expect("update");
    tx.lock_customer(&a, &customer_id, t0()).expect("lock").expect("a customer");
    assert_eq!(tx.settings(&a).expect("settings").business_name, "Before the lock");
    drop(tx);

    let mut tx = store.begin_write().expect("begin");
    tx.lock_customer(&a, &customer_id, t0()).expect("lock").expect("a customer");
    tx.update_settings(&a, &named("After the lock")).expect("update");
    assert_eq!(tx.settings(&a).expect("settings").business_name, "After the lock");
    drop(tx);
    let mut tx = store.begin_read().expect("read");
    assert_eq!(tx.settings(&a).expect("settings").business_name, "Committed");
}
