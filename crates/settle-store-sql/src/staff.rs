//! Staff users, their sessions and failed sign-ins, and customers' payment links: the
//! statements and row mappings both stores share, and [`shared_staff!`](crate::shared_staff),
//! which expands to the port's methods for them.
//!
//! Nothing here is ledger state (no journal, no customer lock). Lists are sorted in Rust after
//! the read, so both stores order emails and ids by bytes without a collation of their own.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use settle_core::ids::{CustomerId, PaymentLinkId, TenantId, UserId};
use settle_store::{
    PaymentLinkRecord, Role, StaffSessionRecord, StaffUserRecord, StoreError, StoreResult,
};

use crate::row::Row;
use crate::statements::{Statement, Value};

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn statement(sql: &'static str, args: Vec<Value>) -> Statement {
    Statement { sql: Cow::Borrowed(sql), args }
}

/// A staff user row.
pub fn staff_user<R: Row + ?Sized>(row: &R) -> StoreResult<StaffUserRecord> {
    Ok(StaffUserRecord {
        id: row.parsed(0, UserId::parse)?,
        tenant_id: row.parsed(1, TenantId::parse)?,
        email: row.text(2)?,
        password_hash: row.text(3)?,
        role: row.parsed(4, Role::parse)?,
        created_at: row.timestamp(5)?,
        removed_at: row.timestamp_opt(6)?,
    })
}

/// A session row.
pub fn staff_session<R: Row + ?Sized>(row: &R) -> StoreResult<StaffSessionRecord> {
    Ok(StaffSessionRecord {
        token_hash: row.text(0)?,
        user_id: row.parsed(1, UserId::parse)?,
        tenant_id: row.parsed(2, TenantId::parse)?,
        created_at: row.timestamp(3)?,
        last_seen_at: row.timestamp(4)?,
        ended_at: row.timestamp_opt(5)?,
    })
}

/// A payment link row.
pub fn payment_link<R: Row + ?Sized>(row: &R) -> StoreResult<PaymentLinkRecord> {
    Ok(PaymentLinkRecord {
        id: row.parsed(0, PaymentLinkId::parse)?,
        tenant_id: row.parsed(1, TenantId::parse)?,
        customer_id: row.parsed(2, CustomerId::parse)?,
        token_hash: row.text(3)?,
        created_at: row.timestamp(4)?,
        expires_at: row.timestamp_opt(5)?,
        revoked_at: row.timestamp_opt(6)?,
    })
}

/// A count of rows a statement changed, whatever integer the driver answers.
pub fn changed(count: impl TryInto<usize>) -> usize {
    count.try_into().unwrap_or(usize::MAX)
}

/// The tenant's name.
pub fn tenant_name(tenant_id: &str) -> Statement {
    statement("select name from tenant where tenant_id = ?1", vec![text(tenant_id)])
}

/// Stores a staff user.
pub fn insert_staff_user(user: &StaffUserRecord) -> Statement {
    statement(
        "insert into staff_user (user_id, tenant_id, email, password_hash, role, created_at, \
         removed_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        vec![
            text(user.id.as_str()),
            text(user.tenant_id.as_str()),
            text(&user.email),
            text(&user.password_hash),
            text(user.role.name()),
            Value::Instant(user.created_at),
            Value::OptInstant(user.removed_at),
        ],
    )
}

/// The live user with an email.
pub fn staff_user_by_email(email: &str) -> Statement {
    statement(
        "select user_id, tenant_id, email, password_hash, role, created_at, removed_at \
         from staff_user where email = ?1 and removed_at is null",
        vec![text(email)],
    )
}

/// A user of a tenant by id.
pub fn staff_user_by_id(tenant_id: &str, user_id: &str) -> Statement {
    statement(
        "select user_id, tenant_id, email, password_hash, role, created_at, removed_at \
         from staff_user where tenant_id = ?1 and user_id = ?2",
        vec![text(tenant_id), text(user_id)],
    )
}

/// The tenant's users.
pub fn staff_users(tenant_id: &str) -> Statement {
    statement(
        "select user_id, tenant_id, email, password_hash, role, created_at, removed_at \
         from staff_user where tenant_id = ?1",
        vec![text(tenant_id)],
    )
}

/// One row if any user exists.
pub fn any_staff_user() -> Statement {
    statement("select user_id from staff_user limit 1", vec![])
}

/// Gives a live user a role.
pub fn set_staff_user_role(tenant_id: &str, user_id: &str, role: Role) -> Statement {
    statement(
        "update staff_user set role = ?3 \
         where tenant_id = ?1 and user_id = ?2 and removed_at is null",
        vec![text(tenant_id), text(user_id), text(role.name())],
    )
}

/// The tenant's API keys (their order is made in Rust).
pub fn api_keys(tenant_id: &str) -> Statement {
    statement(
        "select api_key_id, tenant_id, key_hash, role, name, created_at, revoked_at \
         from api_key where tenant_id = ?1",
        vec![text(tenant_id)],
    )
}

/// Marks a live user removed.
pub fn remove_staff_user(tenant_id: &str, user_id: &str, now: DateTime<Utc>) -> Statement {
    statement(
        "update staff_user set removed_at = ?3 \
         where tenant_id = ?1 and user_id = ?2 and removed_at is null",
        vec![text(tenant_id), text(user_id), Value::Instant(now)],
    )
}

/// Stores a session.
pub fn insert_staff_session(session: &StaffSessionRecord) -> Statement {
    statement(
        "insert into staff_session (token_hash, user_id, tenant_id, created_at, last_seen_at, \
         ended_at) values (?1, ?2, ?3, ?4, ?5, ?6)",
        vec![
            text(&session.token_hash),
            text(session.user_id.as_str()),
            text(session.tenant_id.as_str()),
            Value::Instant(session.created_at),
            Value::Instant(session.last_seen_at),
            Value::OptInstant(session.ended_at),
        ],
    )
}

/// A session by token hash.
pub fn staff_session_by_hash(token_hash: &str) -> Statement {
    statement(
        "select token_hash, user_id, tenant_id, created_at, last_seen_at, ended_at \
         from staff_session where token_hash = ?1",
        vec![text(token_hash)],
    )
}

/// Sets a live session's last-seen time.
pub fn touch_staff_session(token_hash: &str, now: DateTime<Utc>) -> Statement {
    statement(
        "update staff_session set last_seen_at = ?2 where token_hash = ?1 and ended_at is null",
        vec![text(token_hash), Value::Instant(now)],
    )
}

/// Ends a live session.
pub fn end_staff_session(token_hash: &str, now: DateTime<Utc>) -> Statement {
    statement(
        "update staff_session set ended_at = ?2 where token_hash = ?1 and ended_at is null",
        vec![text(token_hash), Value::Instant(now)],
    )
}

/// Records a failed sign-in.
pub fn insert_sign_in_failure(email: &str, failed_at: DateTime<Utc>) -> Statement {
    statement(
        "insert into sign_in_failure (email, failed_at) values (?1, ?2)",
        vec![text(email), Value::Instant(failed_at)],
    )
}

/// An email's failed sign-ins after an instant, newest first.
pub fn sign_in_failures(email: &str, since: DateTime<Utc>) -> Statement {
    statement(
        "select failed_at from sign_in_failure where email = ?1 and failed_at > ?2 \
         order by failed_at desc",
        vec![text(email), Value::Instant(since)],
    )
}

/// Forgets an email's failed sign-ins.
pub fn clear_sign_in_failures(email: &str) -> Statement {
    statement("delete from sign_in_failure where email = ?1", vec![text(email)])
}

/// Forgets every failed sign-in at or before an instant.
pub fn prune_sign_in_failures(before: DateTime<Utc>) -> Statement {
    statement("delete from sign_in_failure where failed_at <= ?1", vec![Value::Instant(before)])
}

/// Stores a payment link.
pub fn insert_payment_link(link: &PaymentLinkRecord) -> Statement {
    statement(
        "insert into payment_link (link_id, tenant_id, customer_id, token_hash, created_at, \
         expires_at, revoked_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        vec![
            text(link.id.as_str()),
            text(link.tenant_id.as_str()),
            text(link.customer_id.as_str()),
            text(&link.token_hash),
            Value::Instant(link.created_at),
            Value::OptInstant(link.expires_at),
            Value::OptInstant(link.revoked_at),
        ],
    )
}

/// A customer's links.
pub fn payment_links(tenant_id: &str, customer_id: &str) -> Statement {
    statement(
        "select link_id, tenant_id, customer_id, token_hash, created_at, expires_at, revoked_at \
         from payment_link where tenant_id = ?1 and customer_id = ?2",
        vec![text(tenant_id), text(customer_id)],
    )
}

/// A link by token hash.
pub fn payment_link_by_hash(token_hash: &str) -> Statement {
    statement(
        "select link_id, tenant_id, customer_id, token_hash, created_at, expires_at, revoked_at \
         from payment_link where token_hash = ?1",
        vec![text(token_hash)],
    )
}

/// Revokes a live link.
pub fn revoke_payment_link(tenant_id: &str, link_id: &str, now: DateTime<Utc>) -> Statement {
    statement(
        "update payment_link set revoked_at = ?3 \
         where tenant_id = ?1 and link_id = ?2 and revoked_at is null",
        vec![text(tenant_id), text(link_id), Value::Instant(now)],
    )
}

/// Refuses a read that found more than one row where the schema allows one.
pub fn at_most_one<T>(rows: Vec<T>, what: &str) -> StoreResult<Option<T>> {
    if rows.len() > 1 {
        return Err(StoreError::Corrupt(format!("more than one {what}")));
    }
    Ok(rows.into_iter().next())
}

/// Expands, inside an adapter's `impl StoreTx`, to the methods for staff users, sessions,
/// failed sign-ins and payment links, whose text is the same for both stores. The adapter
/// provides `run` and `fetch` as for [`shared_writes!`](crate::shared_writes).
#[macro_export]
macro_rules! shared_staff {
    () => {
        fn tenant_name(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
        ) -> ::settle_store::StoreResult<Option<String>> {
            let rows = self.fetch($crate::staff::tenant_name(tenant_id.as_str()), |row| {
                $crate::Row::text(row, 0)
            })?;
            $crate::staff::at_most_one(rows, "tenant")
        }

        fn insert_staff_user(
            &mut self,
            user: &::settle_store::StaffUserRecord,
        ) -> ::settle_store::StoreResult<()> {
            self.run($crate::staff::insert_staff_user(user))?;
            Ok(())
        }

        fn staff_user_by_email(
            &mut self,
            email: &str,
        ) -> ::settle_store::StoreResult<Option<::settle_store::StaffUserRecord>> {
            let rows = self.fetch($crate::staff::staff_user_by_email(email), |row| {
                $crate::staff::staff_user(row)
            })?;
            $crate::staff::at_most_one(rows, "live user per email")
        }

        fn staff_user(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            user_id: &::settle_core::ids::UserId,
        ) -> ::settle_store::StoreResult<Option<::settle_store::StaffUserRecord>> {
            let statement = $crate::staff::staff_user_by_id(tenant_id.as_str(), user_id.as_str());
            let rows = self.fetch(statement, |row| $crate::staff::staff_user(row))?;
            $crate::staff::at_most_one(rows, "user per id")
        }

        fn staff_users(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
        ) -> ::settle_store::StoreResult<Vec<::settle_store::StaffUserRecord>> {
            let mut rows = self.fetch($crate::staff::staff_users(tenant_id.as_str()), |row| {
                $crate::staff::staff_user(row)
            })?;
            rows.sort_by(|a, b| (&a.email, &a.id).cmp(&(&b.email, &b.id)));
            Ok(rows)
        }

        fn any_staff_user(&mut self) -> ::settle_store::StoreResult<bool> {
            let rows = self.fetch($crate::staff::any_staff_user(), |_| Ok(()))?;
            Ok(!rows.is_empty())
        }

        fn remove_staff_user(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            user_id: &::settle_core::ids::UserId,
            now: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<bool> {
            let statement =
                $crate::staff::remove_staff_user(tenant_id.as_str(), user_id.as_str(), now);
            Ok($crate::staff::changed(self.run(statement)?) == 1)
        }

        fn set_staff_user_role(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            user_id: &::settle_core::ids::UserId,
            role: ::settle_store::Role,
        ) -> ::settle_store::StoreResult<bool> {
            let statement =
                $crate::staff::set_staff_user_role(tenant_id.as_str(), user_id.as_str(), role);
            Ok($crate::staff::changed(self.run(statement)?) == 1)
        }

        fn api_keys(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
        ) -> ::settle_store::StoreResult<Vec<::settle_store::ApiKeyRecord>> {
            let mut rows = self
                .fetch($crate::staff::api_keys(tenant_id.as_str()), |row| $crate::api_key(row))?;
            rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            Ok(rows)
        }

        fn insert_staff_session(
            &mut self,
            session: &::settle_store::StaffSessionRecord,
        ) -> ::settle_store::StoreResult<()> {
            self.run($crate::staff::insert_staff_session(session))?;
            Ok(())
        }

        fn staff_session(
            &mut self,
            token_hash: &str,
        ) -> ::settle_store::StoreResult<Option<::settle_store::StaffSessionRecord>> {
            let rows = self.fetch($crate::staff::staff_session_by_hash(token_hash), |row| {
                $crate::staff::staff_session(row)
            })?;
            $crate::staff::at_most_one(rows, "session per token")
        }

        fn touch_staff_session(
            &mut self,
            token_hash: &str,
            now: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<bool> {
            let changed = self.run($crate::staff::touch_staff_session(token_hash, now))?;
            Ok($crate::staff::changed(changed) == 1)
        }

        fn end_staff_session(
            &mut self,
            token_hash: &str,
            now: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<bool> {
            let changed = self.run($crate::staff::end_staff_session(token_hash, now))?;
            Ok($crate::staff::changed(changed) == 1)
        }

        fn insert_sign_in_failure(
            &mut self,
            email: &str,
            failed_at: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<()> {
            self.run($crate::staff::insert_sign_in_failure(email, failed_at))?;
            Ok(())
        }

        fn sign_in_failures(
            &mut self,
            email: &str,
            since: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<Vec<::chrono::DateTime<::chrono::Utc>>> {
            self.fetch($crate::staff::sign_in_failures(email, since), |row| {
                $crate::Row::timestamp(row, 0)
            })
        }

        fn clear_sign_in_failures(&mut self, email: &str) -> ::settle_store::StoreResult<usize> {
            Ok($crate::staff::changed(self.run($crate::staff::clear_sign_in_failures(email))?))
        }

        fn prune_sign_in_failures(
            &mut self,
            before: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<usize> {
            Ok($crate::staff::changed(self.run($crate::staff::prune_sign_in_failures(before))?))
        }

        fn insert_payment_link(
            &mut self,
            link: &::settle_store::PaymentLinkRecord,
        ) -> ::settle_store::StoreResult<()> {
            self.run($crate::staff::insert_payment_link(link))?;
            Ok(())
        }

        fn payment_links(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            customer_id: &::settle_core::ids::CustomerId,
        ) -> ::settle_store::StoreResult<Vec<::settle_store::PaymentLinkRecord>> {
            let statement = $crate::staff::payment_links(tenant_id.as_str(), customer_id.as_str());
            let mut rows = self.fetch(statement, |row| $crate::staff::payment_link(row))?;
            rows.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            Ok(rows)
        }

        fn payment_link_by_hash(
            &mut self,
            token_hash: &str,
        ) -> ::settle_store::StoreResult<Option<::settle_store::PaymentLinkRecord>> {
            let rows = self.fetch($crate::staff::payment_link_by_hash(token_hash), |row| {
                $crate::staff::payment_link(row)
            })?;
            $crate::staff::at_most_one(rows, "link per token")
        }

        fn revoke_payment_link(
            &mut self,
            tenant_id: &::settle_core::ids::TenantId,
            link_id: &::settle_core::ids::PaymentLinkId,
            now: ::chrono::DateTime<::chrono::Utc>,
        ) -> ::settle_store::StoreResult<bool> {
            let statement =
                $crate::staff::revoke_payment_link(tenant_id.as_str(), link_id.as_str(), now);
            Ok($crate::staff::changed(self.run(statement)?) == 1)
        }
    };
}
