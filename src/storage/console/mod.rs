//! Storage of the web console: console users, their roles per tenant, and their
//! sign-in sessions. [`ConsoleStore`] is a supertrait of [`super::Storage`], so
//! every database implements it (`sqlite.rs`, `postgres.rs`) and the
//! conformance tests below run on both.
//!
//! Invariants:
//! - user names are unique; deleting a user deletes its roles and sessions;
//!   deleting a tenant deletes the roles held in it;
//! - a session is stored only as the SHA-256 of its token: the token itself
//!   (the cookie) never reaches the database;
//! - a one-time reveal (a value the console shows once after a redirect) is
//!   stored only sealed, belongs to one session (deleted with it), and is
//!   deleted by the one read that returns it, so no two reads both get it;
//! - nothing here decides who may do what, how passwords are hashed or when a
//!   session has been idle too long: the console's accounts module does.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StorageError;
use crate::domain::ids::TenantId;

mod postgres;
mod sqlite;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod conformance;

/// A console user as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    /// The Argon2id hash, in the console's own encoded form.
    pub password_hash: String,
    pub platform_admin: bool,
    /// Role ids per tenant, tenants in a stable order.
    pub tenant_roles: Vec<(TenantId, Vec<String>)>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("platform_admin", &self.platform_admin)
            .field("tenant_roles", &self.tenant_roles)
            .finish_non_exhaustive()
    }
}

/// A user to insert.
#[derive(Clone)]
pub struct NewUser {
    pub name: String,
    pub password_hash: String,
    pub platform_admin: bool,
    pub created_at: DateTime<Utc>,
}

/// A session as stored, with the name of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Users, roles and sessions of the console.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Inserts a user. `Duplicate` when the name is taken.
    async fn insert_user(&self, user: &NewUser) -> Result<(), StorageError>;
    /// Inserts `user` only if there is no user at all (first start); true when it did.
    async fn insert_first_user(&self, user: &NewUser) -> Result<bool, StorageError>;
    /// The user and its roles.
    async fn get_user(&self, name: &str) -> Result<Option<UserRecord>, StorageError>;
    /// Every user with its roles, by name.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StorageError>;
    /// Changes what is `Some`. `NotFound` when the user does not exist.
    async fn update_user(
        &self,
        name: &str,
        password_hash: Option<&str>,
        platform_admin: Option<bool>,
    ) -> Result<(), StorageError>;
    /// Replaces every role of the user. `NotFound` when the user (or a tenant) does not exist.
    async fn set_user_roles(
        &self,
        name: &str,
        roles: &[(TenantId, String)],
    ) -> Result<(), StorageError>;
    /// Deletes the user, its roles and its sessions. `NotFound` when absent.
    async fn delete_user(&self, name: &str) -> Result<(), StorageError>;

    /// Stores a new session of user `user_name` (`NotFound` when the user is gone).
    async fn insert_session(
        &self,
        token_hash: &[u8],
        user_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    async fn get_session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StorageError>;
    /// Marks the session as used at `now`.
    async fn touch_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Ends one session (absent: no error).
    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StorageError>;
    /// Ends every session of the user (after a password change).
    async fn delete_user_sessions(&self, user_name: &str) -> Result<(), StorageError>;
    /// Ends every session last used before `before`; returns how many.
    async fn delete_idle_sessions(&self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// Keeps a one-time reveal `id` of session `session_hash` until
    /// `expires_at`, and deletes every reveal expired at `now`. `NotFound` when
    /// the session is gone.
    async fn insert_reveal(
        &self,
        id: &str,
        session_hash: &[u8],
        sealed: &[u8],
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Deletes every reveal expired at `now`, then reveal `id` of session
    /// `session_hash`, and returns its sealed bytes unless it expired. The take
    /// is one `DELETE … RETURNING`: of two concurrent takes, at most one gets
    /// the bytes.
    async fn take_reveal(
        &self,
        id: &str,
        session_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<u8>>, StorageError>;
}

/// Groups `(tenant, role)` rows (ordered by tenant) into roles per tenant.
fn group_roles(rows: Vec<(TenantId, String)>) -> Vec<(TenantId, Vec<String>)> {
    let mut out: Vec<(TenantId, Vec<String>)> = Vec::new();
    for (tenant, role) in rows {
        match out.last_mut() {
            Some((last, roles)) if *last == tenant => roles.push(role),
            _ => out.push((tenant, vec![role])),
        }
    }
    out
}
