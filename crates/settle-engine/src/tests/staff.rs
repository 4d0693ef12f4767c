//! Staff users, sign-in with its lock-out, sessions, and payment links, on a clock the tests
//! move by hand and counting ids.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use settle_core::error::Rejection;
use settle_core::ids::{CustomerId, TenantId};
use settle_store_sqlite::{Durability, SqliteStore};
use sha2::{Digest, Sha256};

use super::{CountingIds, HandClock};
use crate::{
    BOOTSTRAP_ADMIN_EMAIL, Clock, Engine, EngineError, EntryKind, NewCustomer, NewEntry, Role,
    SignIn, StaffSession,
};

struct Office {
    engine: Engine,
    clock: Arc<HandClock>,
    tenant: TenantId,
    _dir: tempfile::TempDir,
}

const PASSWORD: &str = "correct horse battery";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("time")
}

impl Office {
    fn new() -> Office {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            SqliteStore::open(&dir.path().join("office.db"), Durability::Normal).expect("open");
        let clock = Arc::new(HandClock(Mutex::new(t0())));
        let engine = Engine::new(Arc::new(store), clock.clone(), Arc::new(CountingIds::default()));
        let tenant = engine.create_tenant("Acme Supplies").expect("tenant").tenant_id;
        Office { engine, clock, tenant, _dir: dir }
    }

    fn advance(&self, by: TimeDelta) {
        *self.clock.0.lock().expect("clock") += by;
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn clerk(&self, email: &str) {
        self.engine.create_user(&self.tenant, email, Role::Clerk, Some(PASSWORD)).expect("user");
    }

    fn sign_in(&self, email: &str, password: &str) -> (String, StaffSession) {
        match self.engine.sign_in(email, password).expect("sign in") {
            SignIn::Ok { token, session } => (token, session),
            other => panic!("not signed in: {other:?}"),
        }
    }

    fn customer(&self, name: &str) -> CustomerId {
        let new = NewCustomer { name: name.into(), ..NewCustomer::default() };
        self.engine.create_customer(&self.tenant, new).expect("customer").id
    }

    fn charge(&self, customer: &CustomerId, amount: &str, description: &str) {
        let entry = NewEntry {
            kind: EntryKind::Charge,
            amount: crate::Amount::parse(amount).expect("a decimal amount"),
            description: description.into(),
            payment_method: None,
            notes: None,
            effective_date: None,
        };
        self.engine.add_entry(&self.tenant, customer, entry).expect("charge");
    }
}

fn rejection(result: Result<impl std::fmt::Debug, EngineError>) -> Rejection {
    match result {
        Err(EngineError::Rejected(rejection)) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_user_signs_in_with_the_right_password_only_and_gets_a_session_bound_csrf_token() {
    let office = Office::new();
    office.clerk("  Ana@Example.COM ");
    let (token, session) = office.sign_in("ana@example.com", PASSWORD);
    assert!(token.len() >= 44 && token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
    assert_eq!((session.email.as_str(), session.role), ("ana@example.com", Role::Clerk));
    assert_eq!(session.tenant_id, office.tenant);
    let csrf = hex::encode(Sha256::digest(format!("csrf:{token}").as_bytes()));
    assert_eq!(session.csrf, csrf);
    assert_eq!(office.engine.session(&token).expect("session"), Some(session.clone()));
    assert!(matches!(
        office.engine.sign_in("ana@example.com", "wrong password!"),
        Ok(SignIn::Refused)
    ));
    assert!(matches!(office.engine.sign_in("bob@example.com", PASSWORD), Ok(SignIn::Refused)));
    assert_eq!(office.engine.session("not-a-token").expect("session"), None);
    // Passwords no user can have are refused without counting towards a lock.
    let huge = "x".repeat(1025);
    for _ in 0..10 {
        assert!(matches!(office.engine.sign_in("ana@example.com", &huge), Ok(SignIn::Refused)));
    }
    office.sign_in("ana@example.com", PASSWORD);
    // A second sign-in is a second session with its own token and CSRF token.
    let (second, other) = office.sign_in("ANA@example.com", PASSWORD);
    assert_ne!((second, other.csrf), (token, session.csrf));
}

#[test]
fn ten_failures_within_fifteen_minutes_lock_the_email_for_fifteen_minutes_after_the_last() {
    let office = Office::new();
    office.clerk("ana@example.com");
    office.clerk("bob@example.com");
    for _ in 0..10 {
        assert!(matches!(office.engine.sign_in("ana@example.com", "bad"), Ok(SignIn::Refused)));
        office.advance(TimeDelta::minutes(1));
    }
    // The tenth failure was at t0 + 9 min.
    let until = t0() + TimeDelta::minutes(24);
    match office.engine.sign_in("Ana@example.com", PASSWORD).expect("attempt") {
        SignIn::Locked { until: at } => assert_eq!(at, until),
        other => panic!("not locked: {other:?}"),
    }
    // Another email is not locked.
    office.sign_in("bob@example.com", PASSWORD);
    office.advance(until - office.now() - TimeDelta::seconds(1));
    assert!(matches!(
        office.engine.sign_in("ana@example.com", PASSWORD),
        Ok(SignIn::Locked { until: at }) if at == until
    ));
    office.advance(TimeDelta::seconds(1));
    office.sign_in("ana@example.com", PASSWORD);
}

#[test]
fn failures_spread_over_more_than_fifteen_minutes_do_not_lock_and_a_success_forgets_them() {
    let office = Office::new();
    office.clerk("ana@example.com");
    for _ in 0..10 {
        assert!(matches!(office.engine.sign_in("ana@example.com", "bad"), Ok(SignIn::Refused)));
        office.advance(TimeDelta::minutes(2));
    }
    // Ten failures over 18 minutes.
    office.sign_in("ana@example.com", PASSWORD);
    for _ in 0..9 {
        assert!(matches!(office.engine.sign_in("ana@example.com", "bad"), Ok(SignIn::Refused)));
    }
    // Nine since the success, which forgot the ten before it.
    office.sign_in("ana@example.com", PASSWORD);
}

#[test]
fn an_unknown_email_locks_too_so_locking_does_not_tell_which_emails_exist() {
    let office = Office::new();
    for _ in 0..10 {
        assert!(matches!(office.engine.sign_in("who@example.com", "bad"), Ok(SignIn::Refused)));
    }
    assert!(matches!(
        office.engine.sign_in("who@example.com", "bad"),
        Ok(SignIn::Locked { until }) if until == t0() + TimeDelta::minutes(15)
    ));
}

#[test]
fn a_session_ends_after_the_idle_timeout_counted_from_its_last_request() {
    let office = Office::new();
    office.clerk("ana@example.com");
    let (token, session) = office.sign_in("ana@example.com", PASSWORD);
    office.advance(TimeDelta::hours(7));
    assert_eq!(office.engine.session(&token).expect("session"), Some(session.clone()));
    // Seven hours later is 14 hours after sign-in but 7 after the last request.
    office.advance(TimeDelta::hours(7));
    assert_eq!(office.engine.session(&token).expect("session"), Some(session));
    office.advance(TimeDelta::hours(8));
    assert_eq!(office.engine.session(&token).expect("session"), None);
}

#[test]
fn the_idle_timeout_is_configurable() {
    let office = Office::new();
    office.clerk("ana@example.com");
    let engine = office.engine.clone().with_session_idle(TimeDelta::minutes(30));
    let (token, _) = office.sign_in("ana@example.com", PASSWORD);
    office.advance(TimeDelta::minutes(29));
    assert!(engine.session(&token).expect("session").is_some());
    office.advance(TimeDelta::minutes(30));
    assert_eq!(engine.session(&token).expect("session"), None);
}

#[test]
fn signing_out_ends_the_session_and_unknown_tokens_sign_out_quietly() {
    let office = Office::new();
    office.clerk("ana@example.com");
    let (token, _) = office.sign_in("ana@example.com", PASSWORD);
    let (other, other_session) = office.sign_in("ana@example.com", PASSWORD);
    office.engine.sign_out(&token).expect("sign out");
    assert_eq!(office.engine.session(&token).expect("session"), None);
    assert_eq!(office.engine.session(&other).expect("session"), Some(other_session));
    office.engine.sign_out(&token).expect("again");
    office.engine.sign_out("never-issued").expect("unknown");
}

#[test]
fn a_removed_user_loses_its_sessions_and_sign_in_and_its_email_can_be_used_again() {
    let office = Office::new();
    office.clerk("ana@example.com");
    let (token, session) = office.sign_in("ana@example.com", PASSWORD);
    let other = office.engine.create_tenant("Other").expect("tenant").tenant_id;
    let id = session.user_id.to_string();
    let missing = rejection(office.engine.remove_user(&other, &id));
    assert_eq!(missing, Rejection::NotFound { what: "user", id: id.clone() });
    office.engine.remove_user(&office.tenant, &id).expect("remove");
    assert_eq!(office.engine.session(&token).expect("session"), None);
    assert!(matches!(office.engine.sign_in("ana@example.com", PASSWORD), Ok(SignIn::Refused)));
    let again = rejection(office.engine.remove_user(&office.tenant, &id));
    assert_eq!(again, Rejection::NotFound { what: "user", id: id.clone() });
    let users = office.engine.users(&office.tenant).expect("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].removed_at, Some(t0()));
    office
        .engine
        .create_user(&other, "ana@example.com", Role::Viewer, Some(PASSWORD))
        .expect("new");
    let (_, session) = office.sign_in("ana@example.com", PASSWORD);
    assert_eq!((session.tenant_id, session.role), (other, Role::Viewer));
}

#[test]
fn new_users_need_an_email_a_long_enough_password_and_an_email_no_one_uses() {
    let office = Office::new();
    let engine = &office.engine;
    let short = rejection(engine.create_user(&office.tenant, "a@b.c", Role::Admin, Some("short")));
    assert_eq!(short, Rejection::invalid("password", "must have at least 12 characters"));
    for email in ["", "ana", "ana@@b", "a b@c.d", "@b.c", "ana@"] {
        let bad = rejection(engine.create_user(&office.tenant, email, Role::Admin, None));
        assert_eq!(bad, Rejection::invalid("email", "must be an email address"), "{email:?}");
    }
    office.clerk("ana@example.com");
    let other = engine.create_tenant("Other").expect("tenant").tenant_id;
    let taken = rejection(engine.create_user(&other, "ANA@example.com", Role::Admin, None));
    assert_eq!(taken, Rejection::EmailInUse);
    let created = engine.create_user(&office.tenant, "bob@example.com", Role::Viewer, None);
    let created = created.expect("user");
    let password = created.password.expect("a generated password");
    assert!(password.chars().count() >= 20, "{password}");
    assert_eq!((created.user.email.as_str(), created.user.role), ("bob@example.com", Role::Viewer));
    office.sign_in("bob@example.com", &password);
    let given = engine.create_user(&office.tenant, "cy@example.com", Role::Clerk, Some(PASSWORD));
    assert_eq!(given.expect("user").password, None);
    let emails: Vec<String> =
        engine.users(&office.tenant).expect("users").into_iter().map(|u| u.email).collect();
    assert_eq!(emails, ["ana@example.com", "bob@example.com", "cy@example.com"]);
}

#[test]
fn the_first_admin_is_made_once_in_the_first_tenant() {
    let office = Office::new();
    let first = office.engine.bootstrap_admin(None, None).expect("bootstrap").expect("admin");
    assert_eq!(
        (first.user.email.as_str(), first.user.role, &first.user.tenant_id),
        (BOOTSTRAP_ADMIN_EMAIL, Role::Admin, &office.tenant)
    );
    office.sign_in(BOOTSTRAP_ADMIN_EMAIL, &first.password.expect("generated"));
    assert!(office.engine.bootstrap_admin(None, None).expect("again").is_none());

    let empty = tempfile::tempdir().expect("dir");
    let store = SqliteStore::open(&empty.path().join("e.db"), Durability::Normal).expect("open");
    let engine = Engine::new(
        Arc::new(store),
        Arc::new(HandClock(Mutex::new(t0()))),
        Arc::new(CountingIds::default()),
    );
    let short = rejection(engine.bootstrap_admin(Some("boss@example.com"), Some("too short")));
    assert_eq!(short, Rejection::invalid("password", "must have at least 12 characters"));
    let made = engine.bootstrap_admin(Some("Boss@Example.com"), Some(PASSWORD)).expect("admin");
    let made = made.expect("made");
    assert_eq!((made.user.email.as_str(), made.password), ("boss@example.com", None));
    assert_eq!(engine.tenants().expect("tenants"), [made.user.tenant_id]);
}

#[test]
fn payment_links_are_made_listed_newest_first_revoked_once_and_expire() {
    let office = Office::new();
    let engine = &office.engine;
    let customer = office.customer("Globex");
    let first = engine.create_payment_link(&office.tenant, customer.as_str(), None).expect("link");
    assert!(first.token.len() >= 44 && first.token.bytes().all(|b| b.is_ascii_alphanumeric()));
    office.advance(TimeDelta::minutes(1));
    let expires = office.now() + TimeDelta::hours(1);
    let second = engine.create_payment_link(&office.tenant, customer.as_str(), Some(expires));
    let second = second.expect("link");
    assert_ne!(first.token, second.token);
    let listed = engine.payment_links(&office.tenant, customer.as_str()).expect("list");
    assert_eq!(listed, [second.link.clone(), first.link.clone()]);
    assert_eq!(listed[0].expires_at, Some(expires));

    assert!(engine.pay_view(&first.token).expect("view").is_some());
    engine.revoke_payment_link(&office.tenant, first.link.id.as_str()).expect("revoke");
    assert!(engine.pay_view(&first.token).expect("view").is_none());
    let again = rejection(engine.revoke_payment_link(&office.tenant, first.link.id.as_str()));
    assert_eq!(again, Rejection::NotFound { what: "payment link", id: first.link.id.to_string() });
    let listed = engine.payment_links(&office.tenant, customer.as_str()).expect("list");
    assert_eq!(listed[1].revoked_at, Some(office.now()));

    office.advance(TimeDelta::minutes(59) + TimeDelta::seconds(59));
    assert!(engine.pay_view(&second.token).expect("view").is_some());
    office.advance(TimeDelta::seconds(1));
    assert!(engine.pay_view(&second.token).expect("view").is_none());
    assert!(engine.pay_view("no-such-token").expect("view").is_none());
    let past = rejection(engine.create_payment_link(
        &office.tenant,
        customer.as_str(),
        Some(office.now()),
    ));
    assert_eq!(past, Rejection::invalid("expires_at", "must be in the future"));
}

#[test]
fn another_tenants_customer_or_link_is_not_found() {
    let office = Office::new();
    let engine = &office.engine;
    let customer = office.customer("Globex");
    let link = engine.create_payment_link(&office.tenant, customer.as_str(), None).expect("link");
    let other = engine.create_tenant("Other").expect("tenant").tenant_id;
    let not_customer = Rejection::NotFound { what: "customer", id: customer.to_string() };
    assert_eq!(
        rejection(engine.create_payment_link(&other, customer.as_str(), None)),
        not_customer
    );
    assert_eq!(rejection(engine.payment_links(&other, customer.as_str())), not_customer);
    let not_link = Rejection::NotFound { what: "payment link", id: link.link.id.to_string() };
    assert_eq!(rejection(engine.revoke_payment_link(&other, link.link.id.as_str())), not_link);
    let bogus = rejection(engine.revoke_payment_link(&office.tenant, "plink_nope!"));
    assert_eq!(bogus, Rejection::NotFound { what: "payment link", id: "plink_nope!".into() });
    assert!(engine.pay_view(&link.token).expect("view").is_some());
}

#[test]
fn the_payment_page_shows_only_its_customer_with_open_documents_oldest_due_first() {
    let office = Office::new();
    let globex = office.customer("Globex");
    let initech = office.customer("Initech");
    office.charge(&globex, "10.00", "Setup");
    office.advance(TimeDelta::days(1));
    office.charge(&globex, "25.50", "Support");
    office.charge(&initech, "99.00", "Other customer's charge");
    let link = office.engine.create_payment_link(&office.tenant, globex.as_str(), None);
    let view = office.engine.pay_view(&link.expect("link").token).expect("view").expect("page");
    assert_eq!(view.business_name, "Acme Supplies");
    assert_eq!(
        (view.customer.id.clone(), view.customer.balance().minor()),
        (globex.clone(), -3550)
    );
    let open: Vec<(String, i64)> = view
        .open_documents
        .iter()
        .map(|d| (d.customer_id.to_string(), d.balance().minor()))
        .collect();
    assert_eq!(open, [(globex.to_string(), 1000), (globex.to_string(), 2550)]);
    let history: Vec<(&str, i64)> =
        view.recent_history.iter().map(|l| (l.description.as_str(), l.amount.minor())).collect();
    assert_eq!(history, [("Support", -2550), ("Setup", -1000)]);
    // With a business name set, the page shows it instead of the tenant's name.
    let name = crate::SettingsPatch {
        business_name: Some("Acme Plumbing Co".into()),
        ..crate::SettingsPatch::default()
    };
    office.engine.update_settings(&office.tenant, name).expect("settings");
    let link = office.engine.create_payment_link(&office.tenant, globex.as_str(), None);
    let view = office.engine.pay_view(&link.expect("link").token).expect("view").expect("page");
    assert_eq!(view.business_name, "Acme Plumbing Co");
}

#[test]
fn a_role_change_takes_effect_on_the_next_request_and_the_last_admin_stays() {
    let office = Office::new();
    let admin = office
        .engine
        .create_user(&office.tenant, "boss@example.com", Role::Admin, Some(PASSWORD))
        .expect("admin")
        .user;
    office.clerk("ana@example.com");
    let (token, session) = office.sign_in("ana@example.com", PASSWORD);
    let ana = session.user_id.to_string();
    let changed = office.engine.change_user_role(&office.tenant, &ana, Role::Viewer).expect("role");
    assert_eq!((changed.email.as_str(), changed.role), ("ana@example.com", Role::Viewer));
    let now = office.engine.session(&token).expect("session").expect("live");
    assert_eq!(now.role, Role::Viewer);

    let boss = admin.id.to_string();
    let last = crate::LAST_ADMIN.to_owned();
    let demote = rejection(office.engine.change_user_role(&office.tenant, &boss, Role::Clerk));
    assert_eq!(demote, Rejection::Invalid { field: "role".into(), message: last.clone() });
    let remove = rejection(office.engine.remove_user(&office.tenant, &boss));
    assert_eq!(remove, Rejection::Invalid { field: "user".into(), message: last });
    office.engine.change_user_role(&office.tenant, &boss, Role::Admin).expect("stays admin");
    office.engine.change_user_role(&office.tenant, &ana, Role::Admin).expect("a second admin");
    office.engine.change_user_role(&office.tenant, &boss, Role::Clerk).expect("now it may go");
    office.engine.remove_user(&office.tenant, &boss).expect("removed");
    let gone = rejection(office.engine.change_user_role(&office.tenant, &boss, Role::Admin));
    assert_eq!(gone, Rejection::NotFound { what: "user", id: boss });
    let other = office.engine.create_tenant("Other").expect("tenant").tenant_id;
    let foreign = rejection(office.engine.change_user_role(&other, &ana, Role::Clerk));
    assert_eq!(foreign, Rejection::NotFound { what: "user", id: ana.clone() });
    let junk = rejection(office.engine.change_user_role(&office.tenant, "not an id", Role::Clerk));
    assert_eq!(junk, Rejection::NotFound { what: "user", id: "not an id".into() });
}

#[test]
fn api_keys_are_listed_without_their_text_and_show_when_they_were_revoked() {
    let office = Office::new();
    let made = office
        .engine
        .create_api_key(&office.tenant, Role::Viewer, Some("reports".into()))
        .expect("key");
    office.advance(TimeDelta::minutes(5));
    office.engine.revoke_api_key(&office.tenant, &made.id).expect("revoke");
    let keys = office.engine.api_keys(&office.tenant).expect("keys");
    // The tenant's own admin key ("initial") first, then the one made here.
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0].name.as_deref(), keys[0].role, keys[0].revoked_at),
        (Some("initial"), Role::Admin, None)
    );
    let listed = &keys[1];
    assert_eq!((listed.id.as_str(), listed.role), (made.id.as_str(), Role::Viewer));
    assert_eq!((listed.created_at, listed.revoked_at), (t0(), Some(t0() + TimeDelta::minutes(5))));
    assert!(!format!("{keys:?}").contains(&made.key), "a listed key shows its text");
    let other = office.engine.create_tenant("Other").expect("tenant").tenant_id;
    assert_eq!(office.engine.api_keys(&other).expect("keys").len(), 1);
}
