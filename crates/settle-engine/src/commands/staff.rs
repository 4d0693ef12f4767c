//! Staff users of the back office: creating them (and the first admin), signing in with the
//! lock-out, and sessions. None of it is ledger state, so no journal and no customer lock.
//!
//! Passwords are kept as Argon2id hashes (m = 19456 KiB, t = 2, p = 1: OWASP's recommendation);
//! session tokens as hex SHA-256 only. Secrets come from the engine's [`IdGen`], whose real
//! implementation draws from the OS-seeded CSPRNG.
//!
//! [`IdGen`]: settle_core::ids::IdGen

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, TimeDelta, Utc};
use settle_core::error::Rejection;
use settle_core::ids::{TenantId, UserId};
use settle_store::{Role, StaffSessionRecord, StaffUserRecord, StoreError};
use sha2::{Digest, Sha256};

use crate::{Engine, EngineError, EngineResult};

/// How long a session lives without a request: 8 hours unless [`Engine::with_session_idle`].
pub const DEFAULT_SESSION_IDLE: TimeDelta = TimeDelta::hours(8);

/// The fewest characters a password chosen by a person may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The most characters a password may have (Argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Failed sign-ins for one email that lock it ...
pub const LOCKOUT_FAILURES: usize = 10;

/// ... when they fall within this span; the lock lasts as long after the last of them.
pub const LOCKOUT_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// The first admin's email when `SETTLE_ADMIN_EMAIL` names none.
pub const BOOTSTRAP_ADMIN_EMAIL: &str = "admin@settle.local";

/// A session's last-seen time is written at most this often, so that reading pages does not
/// make every request a write.
const TOUCH_INTERVAL: TimeDelta = TimeDelta::minutes(1);

/// A staff user as shown (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    /// The user's id.
    pub id: UserId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Lower-cased email, used to sign in.
    pub email: String,
    /// What the user may do (the same powers as an API key of the role).
    pub role: Role,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was removed, if it was.
    pub removed_at: Option<DateTime<Utc>>,
}

/// A user just made; `password` is `Some` only when Settle generated it (print it once).
#[derive(Debug, Clone)]
pub struct CreatedUser {
    /// The user.
    pub user: StaffUser,
    /// The generated password, if Settle chose it.
    pub password: Option<String>,
}

/// Result of a sign-in attempt.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Signed in: the raw session token (at least 256 random bits, URL-safe text) to put in
    /// the cookie; only its SHA-256 is stored.
    Ok {
        /// The cookie's value.
        token: String,
        /// The session it opens.
        session: StaffSession,
    },
    /// Wrong email or wrong password (the caller must not say which).
    Refused,
    /// Ten failures for this email within 15 minutes: locked until `until`.
    Locked {
        /// When sign-in is possible again.
        until: DateTime<Utc>,
    },
}

/// A live session, as the web layer sees it on each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// The signed-in user.
    pub user_id: UserId,
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// The user's email.
    pub email: String,
    /// The user's role.
    pub role: Role,
    /// The CSRF token bound to this session: hex SHA-256 of ("csrf:" + session token);
    /// the web layer puts it in every form's hidden `csrf` field and compares on POST.
    pub csrf: String,
}

/// Hex SHA-256 of a secret token (sessions, payment links); only this is stored.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token of a session token: hex SHA-256 of `"csrf:" + token`.
pub fn csrf_token(session_token: &str) -> String {
    hex::encode(Sha256::digest(format!("csrf:{session_token}").as_bytes()))
}

/// Argon2id with OWASP's parameters: 19 MiB of memory, two passes, one lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("OWASP's Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` hashed with a salt made from `salt_seed`.
fn hash_password(password: &str, salt_seed: &str) -> String {
    // 16 salt bytes whatever the seed's length (the real seed is a fresh random suffix).
    let digest = Sha256::digest(salt_seed.as_bytes());
    let salt = SaltString::encode_b64(&digest[..16]).expect("16 bytes make a valid salt");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("a password of at most 1024 characters hashes")
        .to_string()
}

/// Whether `password` matches the stored PHC string; a hash that does not parse is corrupt.
fn verify_password(password: &str, stored: &str) -> EngineResult<bool> {
    let parsed = PasswordHash::new(stored)
        .map_err(|e| StoreError::Corrupt(format!("password hash: {e}")))?;
    Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the email is unknown, so the time taken does not tell.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no user has this password", "settle-dummy-salt"))
}

/// Trims and lower-cases an email and checks that it looks like one.
fn normalize_email(email: &str) -> Result<String, Rejection> {
    let email = email.trim().to_lowercase();
    let looks_right = email.len() <= 254
        && email.matches('@').count() == 1
        && !email.starts_with('@')
        && !email.ends_with('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !looks_right {
        return Err(Rejection::invalid("email", "must be an email address"));
    }
    Ok(email)
}

/// Refuses a password shorter than 12 or longer than 1024 characters.
fn check_password(password: &str) -> Result<(), Rejection> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Rejection::invalid("password", "must have at least 12 characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Rejection::invalid("password", "must have at most 1024 characters"));
    }
    Ok(())
}

/// When the email is locked given its failures (newest first): ten failures within the
/// window, the newest less than a window ago.
fn locked_until(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let newest = *failures.first()?;
    let tenth = *failures.get(LOCKOUT_FAILURES - 1)?;
    let until = newest + LOCKOUT_WINDOW;
    (newest - tenth < LOCKOUT_WINDOW && now < until).then_some(until)
}

fn shown(record: StaffUserRecord) -> StaffUser {
    StaffUser {
        id: record.id,
        tenant_id: record.tenant_id,
        email: record.email,
        role: record.role,
        created_at: record.created_at,
        removed_at: record.removed_at,
    }
}

fn email_in_use(err: EngineError) -> EngineError {
    match err {
        EngineError::Store(StoreError::Conflict { .. }) => {
            EngineError::Rejected(Rejection::EmailInUse)
        }
        other => other,
    }
}

impl Engine {
    /// Session idle timeout; default 8 hours ([`DEFAULT_SESSION_IDLE`]).
    pub fn with_session_idle(self, idle: TimeDelta) -> Engine {
        Engine { session_idle: idle, ..self }
    }

    /// Random text of letters and digits, at least `min_chars` long, from the id generator.
    pub(crate) fn secret(&self, min_chars: usize) -> String {
        let mut out = String::new();
        while out.len() < min_chars {
            out.push_str(&self.ids.suffix());
        }
        out
    }

    /// Creates a staff user in `tenant_id`. `password` None → a generated one (returned once).
    /// The email is trimmed and lower-cased, must look like an email (one '@', no spaces) and
    /// be unique across all tenants (`Rejection::EmailInUse`); a given password must have at
    /// least 12 characters (`Rejection::Invalid` on field `password`).
    pub fn create_user(
        &self,
        tenant_id: &TenantId,
        email: &str,
        role: Role,
        password: Option<&str>,
    ) -> EngineResult<CreatedUser> {
        let email = normalize_email(email)?;
        let (record, generated) = self.new_user(tenant_id, email, role, password)?;
        let mut tx = self.begin_outside_unit()?;
        if tx.tenant_name(tenant_id)?.is_none() {
            return Err(Rejection::NotFound { what: "tenant", id: tenant_id.to_string() }.into());
        }
        if tx.staff_user_by_email(&record.email)?.is_some() {
            return Err(Rejection::EmailInUse.into());
        }
        tx.insert_staff_user(&record).map_err(|e| email_in_use(e.into()))?;
        tx.commit()?;
        Ok(CreatedUser { user: shown(record), password: generated })
    }

    /// The record of a new user with its password hashed (slow on purpose, so done before any
    /// transaction opens), and the password when Settle generated it.
    fn new_user(
        &self,
        tenant_id: &TenantId,
        email: String,
        role: Role,
        password: Option<&str>,
    ) -> EngineResult<(StaffUserRecord, Option<String>)> {
        if let Some(password) = password {
            check_password(password)?;
        }
        let generated = password.is_none().then(|| self.secret(20));
        let text = password.or(generated.as_deref()).unwrap_or_default();
        let record = StaffUserRecord {
            id: self.new_ids().user(),
            tenant_id: tenant_id.clone(),
            email,
            password_hash: hash_password(text, &self.ids.suffix()),
            role,
            created_at: self.now(),
            removed_at: None,
        };
        Ok((record, generated))
    }

    /// First admin: when no staff user exists at all, creates an admin in the first tenant
    /// (creating a "Default" tenant if there is none, like `bootstrap`): `email` + `password`
    /// when given, else [`BOOTSTRAP_ADMIN_EMAIL`] with a generated password. `None` when users
    /// exist.
    pub fn bootstrap_admin(
        &self,
        email: Option<&str>,
        password: Option<&str>,
    ) -> EngineResult<Option<CreatedUser>> {
        if self.read(|tx| Ok(tx.any_staff_user()?))? {
            return Ok(None);
        }
        let email = normalize_email(email.unwrap_or(BOOTSTRAP_ADMIN_EMAIL))?;
        let mut tx = self.begin_outside_unit()?;
        let tenant_id = match tx.tenants()?.into_iter().next() {
            Some(tenant_id) => tenant_id,
            None => {
                let tenant_id = self.new_ids().tenant();
                tx.insert_tenant(&tenant_id, "Default", self.now())?;
                tenant_id
            }
        };
        // Hashing inside the transaction holds SQLite's writer for a moment, once per store.
        let (record, generated) = self.new_user(&tenant_id, email, Role::Admin, password)?;
        if tx.any_staff_user()? {
            return Ok(None);
        }
        tx.insert_staff_user(&record).map_err(|e| email_in_use(e.into()))?;
        tx.commit()?;
        Ok(Some(CreatedUser { user: shown(record), password: generated }))
    }

    /// The tenant's users (removed ones included), by email.
    pub fn users(&self, tenant_id: &TenantId) -> EngineResult<Vec<StaffUser>> {
        let records = self.read(|tx| Ok(tx.staff_users(tenant_id)?))?;
        Ok(records.into_iter().map(shown).collect())
    }

    /// Removes a user (sets `removed_at`); their sessions end on the next request. An unknown,
    /// another tenant's or an already removed user is not found.
    pub fn remove_user(&self, tenant_id: &TenantId, user_id: &str) -> EngineResult<()> {
        let not_found = || Rejection::NotFound { what: "user", id: user_id.to_owned() };
        let id = UserId::parse(user_id).ok_or_else(not_found)?;
        let mut tx = self.begin_outside_unit()?;
        if !tx.remove_staff_user(tenant_id, &id, self.now())? {
            return Err(not_found().into());
        }
        tx.commit()?;
        Ok(())
    }
}

impl Engine {
    /// Checks email + password (Argon2id; for an unknown email a dummy verify so the time does
    /// not tell), counts failures per lower-cased email, and locks an email after ten failures
    /// within 15 minutes, for 15 minutes after the last (attempts while locked are not
    /// checked or counted). A success forgets the email's failures. An email over 254 or a
    /// password over 1024 characters is refused at once, without being recorded.
    pub fn sign_in(&self, email: &str, password: &str) -> EngineResult<SignIn> {
        let email = email.trim().to_lowercase();
        if email.len() > 254 || password.chars().count() > MAX_PASSWORD_CHARS {
            // No user has such an email or password; nothing so large is recorded either.
            return Ok(SignIn::Refused);
        }
        let now = self.now();
        // Failures older than two windows can no longer take part in a lock.
        let horizon = now - LOCKOUT_WINDOW * 2;
        let mut tx = self.begin_outside_unit()?;
        tx.prune_sign_in_failures(horizon)?;
        let failures = tx.sign_in_failures(&email, horizon)?;
        let user = tx.staff_user_by_email(&email)?;
        tx.commit()?;
        if let Some(until) = locked_until(&failures, now) {
            return Ok(SignIn::Locked { until });
        }
        let user = match user {
            Some(user) if verify_password(password, &user.password_hash)? => user,
            known => {
                if known.is_none() {
                    verify_password(password, dummy_hash())?;
                }
                let mut tx = self.begin_outside_unit()?;
                tx.insert_sign_in_failure(&email, now)?;
                tx.commit()?;
                return Ok(SignIn::Refused);
            }
        };
        let token = self.secret(44);
        let mut tx = self.begin_outside_unit()?;
        tx.clear_sign_in_failures(&email)?;
        tx.insert_staff_session(&StaffSessionRecord {
            token_hash: token_hash(&token),
            user_id: user.id.clone(),
            tenant_id: user.tenant_id.clone(),
            created_at: now,
            last_seen_at: now,
            ended_at: None,
        })?;
        tx.commit()?;
        let session = StaffSession {
            user_id: user.id,
            tenant_id: user.tenant_id,
            email: user.email,
            role: user.role,
            csrf: csrf_token(&token),
        };
        Ok(SignIn::Ok { token, session })
    }

    /// The session for a raw cookie token: `None` when unknown, ended, idle past the timeout,
    /// or its user removed. Refreshes its last-seen time (at most once a minute).
    pub fn session(&self, token: &str) -> EngineResult<Option<StaffSession>> {
        let hash = token_hash(token);
        let now = self.now();
        let found = self.read(|tx| {
            let Some(session) = tx.staff_session(&hash)? else { return Ok(None) };
            if session.ended_at.is_some() || now - session.last_seen_at >= self.session_idle {
                return Ok(None);
            }
            let user = tx.staff_user(&session.tenant_id, &session.user_id)?;
            Ok(user.filter(|u| u.removed_at.is_none()).map(|u| (session, u)))
        })?;
        let Some((session, user)) = found else { return Ok(None) };
        if now - session.last_seen_at >= TOUCH_INTERVAL {
            let mut tx = self.begin_outside_unit()?;
            if !tx.touch_staff_session(&hash, now)? {
                return Ok(None);
            }
            tx.commit()?;
        }
        Ok(Some(StaffSession {
            user_id: user.id,
            tenant_id: user.tenant_id,
            email: user.email,
            role: user.role,
            csrf: csrf_token(token),
        }))
    }

    /// Ends the session of `token` (sign-out). Unknown tokens are fine (`Ok`).
    pub fn sign_out(&self, token: &str) -> EngineResult<()> {
        let mut tx = self.begin_outside_unit()?;
        tx.end_staff_session(&token_hash(token), self.now())?;
        tx.commit()?;
        Ok(())
    }
}
