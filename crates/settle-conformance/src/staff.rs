//! Staff users, their sessions and failed sign-ins, and payment links: the records of the back
//! office, which are not ledger state.

use chrono::TimeDelta;
use settle_core::ids::{PaymentLinkId, TenantId, UserId};
use settle_store::{
    PaymentLinkRecord, Role, StaffSessionRecord, StaffUserRecord, Store, StoreError,
};

use crate::fixture::{customer, id, seed, t0, tenant};

fn user(user_id: &str, tenant_id: &TenantId, email: &str, role: Role) -> StaffUserRecord {
    StaffUserRecord {
        id: id(UserId::parse, user_id),
        tenant_id: tenant_id.clone(),
        email: email.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1${user_id}"),
        role,
        created_at: t0(),
        removed_at: None,
    }
}

/// A user is found by its live email in any tenant and by id in its own tenant only; the
/// tenant's users come by email; a second live user with an email is refused, but once the
/// first is removed (once) the email is free again.
pub fn staff_users_are_found_by_live_email_and_removed_once(store: &dyn Store) {
    let (acme, other) = (tenant(store, "ten_acme"), tenant(store, "ten_other"));
    let mut tx = store.begin_write().expect("begin");
    assert!(!tx.any_staff_user().expect("any"));
    assert_eq!(tx.tenant_name(&acme).expect("name").as_deref(), Some("ten_acme"));
    assert_eq!(tx.tenant_name(&id(TenantId::parse, "ten_none")).expect("name"), None);
    let zed = user("usr_1", &acme, "zed@example.com", Role::Viewer);
    let ana = user("usr_2", &acme, "ana@example.com", Role::Clerk);
    let bob = user("usr_3", &other, "bob@example.com", Role::Admin);
    for record in [&zed, &ana, &bob] {
        tx.insert_staff_user(record).expect("user");
    }
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    let twin = user("usr_4", &other, "ana@example.com", Role::Admin);
    assert!(matches!(tx.insert_staff_user(&twin), Err(StoreError::Conflict { .. })));
    drop(tx);

    let mut tx = store.begin_write().expect("begin");
    assert!(tx.any_staff_user().expect("any"));
    assert_eq!(tx.staff_user_by_email("ana@example.com").expect("read"), Some(ana.clone()));
    assert_eq!(tx.staff_user_by_email("ANA@example.com").expect("read"), None);
    assert_eq!(tx.staff_user(&acme, &ana.id).expect("read"), Some(ana.clone()));
    assert_eq!(tx.staff_user(&other, &ana.id).expect("read"), None);
    assert_eq!(tx.staff_users(&acme).expect("list"), [ana.clone(), zed.clone()]);
    assert_eq!(tx.staff_users(&other).expect("list"), std::slice::from_ref(&bob));
    let removed_at = t0() + TimeDelta::minutes(5);
    assert!(!tx.remove_staff_user(&other, &ana.id, removed_at).expect("remove"));
    assert!(tx.remove_staff_user(&acme, &ana.id, removed_at).expect("remove"));
    assert!(!tx.remove_staff_user(&acme, &ana.id, removed_at + TimeDelta::hours(1)).expect("x"));
    tx.insert_staff_user(&twin).expect("the email is free again");
    tx.commit().expect("commit");

    let mut tx = store.begin_read().expect("read");
    let removed = StaffUserRecord { removed_at: Some(removed_at), ..ana.clone() };
    assert_eq!(tx.staff_user(&acme, &ana.id).expect("read"), Some(removed.clone()));
    assert_eq!(tx.staff_user_by_email("ana@example.com").expect("read"), Some(twin.clone()));
    assert_eq!(tx.staff_users(&acme).expect("list"), [removed, zed]);
    assert_eq!(tx.staff_users(&other).expect("list"), [twin, bob]);
}

/// A session is found by its token hash; touching moves its last-seen time while it is live;
/// ending stamps it once; a second session with the same hash is refused.
pub fn staff_sessions_are_found_by_hash_touched_and_ended_once(store: &dyn Store) {
    let acme = tenant(store, "ten_acme");
    let ana = user("usr_1", &acme, "ana@example.com", Role::Clerk);
    let session = StaffSessionRecord {
        token_hash: "ab".repeat(32),
        user_id: ana.id.clone(),
        tenant_id: acme.clone(),
        created_at: t0(),
        last_seen_at: t0(),
        ended_at: None,
    };
    let mut tx = store.begin_write().expect("begin");
    tx.insert_staff_user(&ana).expect("user");
    tx.insert_staff_session(&session).expect("session");
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    assert!(matches!(tx.insert_staff_session(&session), Err(StoreError::Conflict { .. })));
    drop(tx);

    let mut tx = store.begin_write().expect("begin");
    assert_eq!(tx.staff_session(&session.token_hash).expect("read"), Some(session.clone()));
    assert_eq!(tx.staff_session(&"cd".repeat(32)).expect("read"), None);
    let seen = t0() + TimeDelta::minutes(10);
    assert!(tx.touch_staff_session(&session.token_hash, seen).expect("touch"));
    assert!(!tx.touch_staff_session(&"cd".repeat(32), seen).expect("touch"));
    let ended = seen + TimeDelta::minutes(1);
    assert!(tx.end_staff_session(&session.token_hash, ended).expect("end"));
    assert!(!tx.end_staff_session(&session.token_hash, ended + TimeDelta::hours(1)).expect("x"));
    assert!(!tx.touch_staff_session(&session.token_hash, ended + TimeDelta::hours(1)).expect("x"));
    tx.commit().expect("commit");

    let mut tx = store.begin_read().expect("read");
    let expected =
        StaffSessionRecord { last_seen_at: seen, ended_at: Some(ended), ..session.clone() };
    assert_eq!(tx.staff_session(&session.token_hash).expect("read"), Some(expected));
}

/// Failed sign-ins come back per email after an instant, newest first; clearing forgets one
/// email's, pruning every email's up to an instant.
pub fn sign_in_failures_are_listed_per_email_cleared_and_pruned(store: &dyn Store) {
    let minute = |n: i64| t0() + TimeDelta::minutes(n);
    let mut tx = store.begin_write().expect("begin");
    for n in [3, 1, 2] {
        tx.insert_sign_in_failure("ana@example.com", minute(n)).expect("failure");
    }
    tx.insert_sign_in_failure("bob@example.com", minute(1)).expect("failure");
    tx.insert_sign_in_failure("bob@example.com", minute(4)).expect("failure");
    tx.commit().expect("commit");

    let mut tx = store.begin_write().expect("begin");
    let ana = tx.sign_in_failures("ana@example.com", minute(0)).expect("read");
    assert_eq!(ana, [minute(3), minute(2), minute(1)]);
    assert_eq!(
        tx.sign_in_failures("ana@example.com", minute(1)).expect("read"),
        [minute(3), minute(2)]
    );
    assert!(tx.sign_in_failures("cy@example.com", minute(0)).expect("read").is_empty());
    assert_eq!(tx.prune_sign_in_failures(minute(1)).expect("prune"), 2);
    assert_eq!(tx.clear_sign_in_failures("ana@example.com").expect("clear"), 2);
    assert_eq!(tx.clear_sign_in_failures("ana@example.com").expect("clear"), 0);
    tx.commit().expect("commit");

    let mut tx = store.begin_read().expect("read");
    assert!(tx.sign_in_failures("ana@example.com", minute(0)).expect("read").is_empty());
    assert_eq!(tx.sign_in_failures("bob@example.com", minute(0)).expect("read"), [minute(4)]);
}

/// A payment link is found by its token hash in any tenant; a customer's links come newest
/// first; revoking stamps it once, only in its own tenant; a second link with the same hash
/// is refused.
pub fn payment_links_are_found_by_hash_listed_newest_first_and_revoked_once(store: &dyn Store) {
    let globex = customer("cus_globex", "Globex", 0);
    let initech = customer("cus_initech", "Initech", 0);
    let acme = seed(store, "ten_acme", &[globex.clone(), initech.clone()]);
    let other = tenant(store, "ten_other");
    let link = |link_id: &str, hash: &str, minutes: i64| PaymentLinkRecord {
        id: id(PaymentLinkId::parse, link_id),
        tenant_id: acme.clone(),
        customer_id: globex.id.clone(),
        token_hash: hash.repeat(32),
        created_at: t0() + TimeDelta::minutes(minutes),
        expires_at: None,
        revoked_at: None,
    };
    let old = link("plink_1", "aa", 0);
    let new = PaymentLinkRecord {
        expires_at: Some(t0() + TimeDelta::days(7)),
        ..link("plink_2", "bb", 5)
    };
    let tie = link("plink_3", "cc", 5);
    let theirs = PaymentLinkRecord { customer_id: initech.id.clone(), ..link("plink_4", "dd", 9) };
    let mut tx = store.begin_write().expect("begin");
    for record in [&old, &new, &tie, &theirs] {
        tx.insert_payment_link(record).expect("link");
    }
    tx.commit().expect("commit");
    let mut tx = store.begin_write().expect("begin");
    let twin = link("plink_5", "aa", 1);
    assert!(matches!(tx.insert_payment_link(&twin), Err(StoreError::Conflict { .. })));
    drop(tx);

    let mut tx = store.begin_write().expect("begin");
    assert_eq!(
        tx.payment_links(&acme, &globex.id).expect("list"),
        [tie.clone(), new.clone(), old.clone()]
    );
    assert!(tx.payment_links(&other, &globex.id).expect("list").is_empty());
    assert_eq!(tx.payment_link_by_hash(&new.token_hash).expect("read"), Some(new.clone()));
    assert_eq!(tx.payment_link_by_hash(&"ee".repeat(32)).expect("read"), None);
    let revoked_at = t0() + TimeDelta::hours(1);
    assert!(!tx.revoke_payment_link(&other, &old.id, revoked_at).expect("revoke"));
    assert!(tx.revoke_payment_link(&acme, &old.id, revoked_at).expect("revoke"));
    assert!(!tx.revoke_payment_link(&acme, &old.id, revoked_at + TimeDelta::hours(1)).expect("x"));
    tx.commit().expect("commit");

    let mut tx = store.begin_read().expect("read");
    let revoked = PaymentLinkRecord { revoked_at: Some(revoked_at), ..old.clone() };
    assert_eq!(tx.payment_link_by_hash(&old.token_hash).expect("read"), Some(revoked));
    assert_eq!(tx.payment_links(&acme, &initech.id).expect("list"), [theirs]);
}

/// A live user's role changes in its own tenant only; a removed user's role stays.
pub fn staff_user_roles_change_for_live_users_of_the_tenant(store: &dyn Store) {
    let (acme, other) = (tenant(store, "ten_acme"), tenant(store, "ten_other"));
    let ana = user("usr_1", &acme, "ana@example.com", Role::Viewer);
    let gone = user("usr_2", &acme, "gone@example.com", Role::Clerk);
    let mut tx = store.begin_write().expect("begin");
    tx.insert_staff_user(&ana).expect("user");
    tx.insert_staff_user(&gone).expect("user");
    let removed_at = t0() + TimeDelta::minutes(1);
    assert!(tx.remove_staff_user(&acme, &gone.id, removed_at).expect("remove"));
    assert!(!tx.set_staff_user_role(&other, &ana.id, Role::Admin).expect("role"));
    assert!(!tx.set_staff_user_role(&acme, &gone.id, Role::Admin).expect("role"));
    assert!(!tx.set_staff_user_role(&acme, &id(UserId::parse, "usr_9"), Role::Admin).expect("x"));
    assert!(tx.set_staff_user_role(&acme, &ana.id, Role::Admin).expect("role"));
    tx.commit().expect("commit");
    let mut tx = store.begin_read().expect("read");
    let promoted = StaffUserRecord { role: Role::Admin, ..ana };
    let gone = StaffUserRecord { removed_at: Some(removed_at), ..gone };
    assert_eq!(tx.staff_users(&acme).expect("list"), [promoted.clone(), gone]);
    assert_eq!(tx.staff_user_by_email("ana@example.com").expect("read"), Some(promoted));
}
