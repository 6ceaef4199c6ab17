//! Console accounts, the use cases behind sign-in and user management (called
//! by the console, and by any other front end that manages users): the first
//! administrator, sign-in (throttled), sessions with idle expiry, and user
//! management by platform administrators. The rules they apply (names,
//! passwords, tokens, when a session ends) are in [`crate::domain::account`].
//!
//! Failed sign-ins are counted per user name and per source address
//! ([`FailureWindow`]); each attempt takes its place before the password hash
//! runs and gives it back only on success, so a burst runs at most the limit's
//! worth of checks, and past the limit every attempt is refused before any
//! hashing, until the window moves. The hash runs under the server's Argon2id
//! bound (`argon2.concurrency`, `argon2.queue`): when that is full the attempt
//! is refused at once ([`AccountError::Busy`]). Every password hash, checked or
//! new (the first administrator's at first start too), runs in a buffer of the
//! server's fixed Argon2id pool, so console passwords add no memory beyond it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::limiter::Limiter;
use super::{Caller, Clock, Hasher, ServiceError, Services};
use crate::domain::ValidationError;
use crate::domain::account::{
    ADMIN, FAILURE_WINDOW, FAILURES_PER_ADDRESS, FAILURES_PER_NAME, csrf_token, idle_span,
    random_token, session_ended, token_hash, validate_password, validate_roles, validate_user_name,
};
use crate::domain::ids::TenantId;
use crate::domain::password;
use crate::domain::secret_value::RandomnessUnavailable;
use crate::domain::throttle::FailureWindow;
use crate::storage::console::NewUser;
use crate::storage::{Storage, StorageError};

pub use crate::storage::console::UserRecord;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("wrong user name or password")]
    WrongCredentials,
    #[error("too many failed sign-ins; try again in {0} seconds")]
    Throttled(u64),
    /// Too many password checks in progress on this server; try again shortly.
    #[error("too many sign-ins in progress; try again shortly")]
    Busy,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    #[error("user not found")]
    NotFound,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ValidationError> for AccountError {
    fn from(e: ValidationError) -> Self {
        Self::Invalid(e.to_string())
    }
}

impl From<RandomnessUnavailable> for AccountError {
    fn from(e: RandomnessUnavailable) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<StorageError> for AccountError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound,
            StorageError::Duplicate => Self::Invalid("a user with this name already exists".into()),
            e => Self::Internal(e.to_string()),
        }
    }
}

/// A signed-in user, as each request finds it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: UserRecord,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    pub token_hash: Vec<u8>,
}

impl SignedIn {
    /// The caller the services check.
    pub fn caller(&self) -> Caller {
        Caller::User {
            name: self.user.name.clone(),
            platform_admin: self.user.platform_admin,
            tenant_roles: self.user.tenant_roles.clone(),
        }
    }
}

/// What a session lookup found.
pub enum SessionState {
    Active(Box<SignedIn>),
    /// It existed but was idle too long (and is now deleted).
    Expired,
    Unknown,
}

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    idle_timeout: Duration,
    /// Failed sign-ins by user name and by source address.
    failures: Limiter<String, IpAddr>,
    hasher: Hasher,
}

impl Accounts {
    /// The encoded hash of a new password, computed in a buffer of the pool.
    async fn hash_password(&self, password: &str) -> Result<String, AccountError> {
        let pw = Zeroizing::new(password.to_owned());
        self.hasher
            .hash_new(move |memory| password::hash(&pw, memory))
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))?
            .map_err(|e| AccountError::Internal(e.to_string()))
    }

    pub fn new(services: &Services, idle_timeout: Duration) -> Self {
        Self {
            store: services.ctx.store.clone(),
            clock: services.ctx.clock.clone(),
            idle_timeout,
            failures: Limiter::new(
                FailureWindow::new(FAILURES_PER_NAME, FAILURE_WINDOW),
                FailureWindow::new(FAILURES_PER_ADDRESS, FAILURE_WINDOW),
            ),
            hasher: services.ctx.hasher.clone(),
        }
    }

    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The idle timeout as a time span.
    fn idle(&self) -> chrono::Duration {
        idle_span(self.idle_timeout)
    }

    /// On first start (no user at all), creates `admin` with `password`, or with a
    /// generated one that is returned so the caller can print it once.
    pub async fn bootstrap(
        &self,
        password: Option<&str>,
    ) -> Result<Option<Zeroizing<String>>, AccountError> {
        if !self.store.list_users().await?.is_empty() {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(p) => {
                validate_password(p)?;
                (Zeroizing::new(p.to_owned()), false)
            }
            None => (
                password::generate().map_err(|e| AccountError::Internal(e.to_string()))?,
                true,
            ),
        };
        let hash = self.hash_password(&password).await?;
        let user = NewUser {
            name: ADMIN.into(),
            password_hash: hash,
            platform_admin: true,
            created_at: self.now(),
        };
        let created = self.store.insert_first_user(&user).await?;
        tracing::info!(user = ADMIN, created, "console administrator bootstrap");
        Ok((created && generated).then_some(password))
    }

    /// Checks the credentials and opens a session; returns its token (the cookie).
    pub async fn sign_in(
        &self,
        name: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<Zeroizing<String>, AccountError> {
        let attempt = self
            .failures
            .reserve(name.to_owned(), address)
            .await
            .map_err(|wait| AccountError::Throttled(wait.as_secs().max(1)))?;
        let user = match self.store.get_user(name).await {
            Ok(user) => user,
            Err(e) => {
                attempt.release();
                return Err(e.into());
            }
        };
        let pw = Zeroizing::new(password.to_owned());
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let checked = self
            .hasher
            .check_presented(move |memory| match hash {
                Some(hash) => password::verify(&pw, &hash, memory),
                None => password::verify_unknown(&pw, memory),
            })
            .await;
        let ok = match checked {
            Ok(ok) => ok,
            // Not judged: the attempt does not count.
            Err(ServiceError::Busy) => {
                attempt.release();
                return Err(AccountError::Busy);
            }
            Err(e) => {
                attempt.release();
                return Err(AccountError::Internal(e.to_string()));
            }
        };
        let user = match (ok, user) {
            (true, Some(user)) => {
                attempt.release();
                user
            }
            _ => {
                attempt.fail();
                tracing::warn!(user.name = %name, "console sign-in failed");
                return Err(AccountError::WrongCredentials);
            }
        };
        let token = random_token()?;
        let now = self.now();
        let idle = self.idle();
        // Sessions abandoned without sign-out go here, at the latest.
        self.store.delete_idle_sessions(now - idle).await?;
        self.store
            .insert_session(&token_hash(&token), &user.name, now)
            .await?;
        tracing::info!(user.name = %user.name, "console sign-in");
        Ok(token)
    }

    /// The user behind a session token, refreshing the session's idle clock.
    pub async fn session(&self, token: &str) -> Result<SessionState, AccountError> {
        let hash = token_hash(token);
        let Some(session) = self.store.get_session(&hash).await? else {
            return Ok(SessionState::Unknown);
        };
        let now = self.now();
        if session_ended(
            session.created_at,
            session.last_seen_at,
            now,
            self.idle_timeout,
        ) {
            self.store.delete_session(&hash).await?;
            // Others that idled out too go now as well (cheap, indexed).
            self.store.delete_idle_sessions(now - self.idle()).await?;
            return Ok(SessionState::Expired);
        }
        let Some(user) = self.store.get_user(&session.user_name).await? else {
            return Ok(SessionState::Unknown);
        };
        self.store.touch_session(&hash, now).await?;
        Ok(SessionState::Active(Box::new(SignedIn {
            user,
            csrf: csrf_token(token),
            token_hash: hash,
        })))
    }

    pub async fn sign_out(&self, signed_in: &SignedIn) -> Result<(), AccountError> {
        self.store.delete_session(&signed_in.token_hash).await?;
        tracing::info!(user.name = %signed_in.user.name, "console sign-out");
        Ok(())
    }

    fn require_platform_admin(by: &SignedIn) -> Result<(), AccountError> {
        if by.user.platform_admin {
            Ok(())
        } else {
            Err(AccountError::Forbidden)
        }
    }

    pub async fn list_users(&self, by: &SignedIn) -> Result<Vec<UserRecord>, AccountError> {
        Self::require_platform_admin(by)?;
        Ok(self.store.list_users().await?)
    }

    pub async fn get_user(&self, by: &SignedIn, name: &str) -> Result<UserRecord, AccountError> {
        Self::require_platform_admin(by)?;
        self.store
            .get_user(name)
            .await?
            .ok_or(AccountError::NotFound)
    }

    pub async fn create_user(
        &self,
        by: &SignedIn,
        name: &str,
        password: &str,
        platform_admin: bool,
    ) -> Result<(), AccountError> {
        Self::require_platform_admin(by)?;
        validate_user_name(name)?;
        validate_password(password)?;
        let hash = self.hash_password(password).await?;
        let user = NewUser {
            name: name.to_owned(),
            password_hash: hash,
            platform_admin,
            created_at: self.now(),
        };
        self.store.insert_user(&user).await?;
        tracing::info!(user.name = %name, by = %by.user.name, "console user created");
        Ok(())
    }

    /// Sets a user's password (when given), platform role and tenant roles.
    pub async fn update_user(
        &self,
        by: &SignedIn,
        name: &str,
        password: Option<&str>,
        platform_admin: bool,
        roles: &[(TenantId, String)],
    ) -> Result<(), AccountError> {
        Self::require_platform_admin(by)?;
        if name == by.user.name && !platform_admin {
            return Err(AccountError::Invalid(
                "You cannot remove your own platform administrator role".into(),
            ));
        }
        validate_roles(roles.iter().map(|(_, r)| r.as_str()))?;
        let hash = match password {
            Some(p) => {
                validate_password(p)?;
                Some(self.hash_password(p).await?)
            }
            None => None,
        };
        self.store
            .update_user(name, hash.as_deref(), Some(platform_admin))
            .await?;
        if hash.is_some() {
            // A new password signs the user out everywhere.
            self.store.delete_user_sessions(name).await?;
        }
        self.store.set_user_roles(name, roles).await?;
        tracing::info!(user.name = %name, by = %by.user.name, "console user updated");
        Ok(())
    }

    /// An operator's reset from the host (`latchkey users reset-password`, which
    /// holds the database, so no signed-in caller): a generated password for
    /// `name`, returned once to be shown; the user's sessions end.
    pub async fn reset_password(&self, name: &str) -> Result<Zeroizing<String>, AccountError> {
        self.store
            .get_user(name)
            .await?
            .ok_or(AccountError::NotFound)?;
        let password = password::generate().map_err(|e| AccountError::Internal(e.to_string()))?;
        validate_password(&password)?;
        let hash = self.hash_password(&password).await?;
        self.store.update_user(name, Some(&hash), None).await?;
        self.store.delete_user_sessions(name).await?;
        tracing::info!(user.name = %name, "console user password reset from the command line");
        Ok(password)
    }

    pub async fn delete_user(&self, by: &SignedIn, name: &str) -> Result<(), AccountError> {
        Self::require_platform_admin(by)?;
        if name == by.user.name {
            return Err(AccountError::Invalid("You cannot delete yourself".into()));
        }
        self.store.delete_user(name).await?;
        tracing::info!(user.name = %name, by = %by.user.name, "console user deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests;
