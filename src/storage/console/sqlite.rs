//! [`ConsoleStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{ConsoleStore, NewUser, SessionRecord, UserRecord, group_roles};
use crate::domain::ids::TenantId;
use crate::storage::StorageError;
use crate::storage::rows::on_unique_violation;
use crate::storage::sqlite::SqliteStorage;

const USER_COLUMNS: &str = "id, name, password_hash, platform_admin, created_at";

impl SqliteStorage {
    async fn roles_of(&self, user_id: i64) -> Result<Vec<(TenantId, Vec<String>)>, StorageError> {
        let rows = sqlx::query(
            "SELECT tenant_id, role_id FROM console_user_roles WHERE user_id = ? \
             ORDER BY tenant_id, role_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut pairs = Vec::with_capacity(rows.len());
        for row in rows {
            let tenant: String = row.try_get("tenant_id")?;
            let tenant = TenantId::parse(&tenant).ok_or_else(|| {
                StorageError::Corrupt(format!("console_user_roles.tenant_id: {tenant:?}"))
            })?;
            pairs.push((tenant, row.try_get("role_id")?));
        }
        Ok(group_roles(pairs))
    }

    async fn user_from_row(&self, row: &SqliteRow) -> Result<UserRecord, StorageError> {
        let id: i64 = row.try_get("id")?;
        Ok(UserRecord {
            id,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            platform_admin: row.try_get("platform_admin")?,
            tenant_roles: self.roles_of(id).await?,
            created_at: row.try_get("created_at")?,
        })
    }
}

#[async_trait]
impl ConsoleStore for SqliteStorage {
    async fn insert_user(&self, u: &NewUser) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO console_users (name, password_hash, platform_admin, created_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(&u.name)
        .bind(&u.password_hash)
        .bind(u.platform_admin)
        .bind(u.created_at)
        .execute(&self.pool)
        .await
        .map_err(on_unique_violation)?;
        Ok(())
    }

    async fn insert_first_user(&self, u: &NewUser) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "INSERT INTO console_users (name, password_hash, platform_admin, created_at) \
             SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM console_users) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&u.name)
        .bind(&u.password_hash)
        .bind(u.platform_admin)
        .bind(u.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_user(&self, name: &str) -> Result<Option<UserRecord>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM console_users WHERE name = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.user_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM console_users ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(self.user_from_row(row).await?);
        }
        Ok(users)
    }

    async fn update_user(
        &self,
        name: &str,
        password_hash: Option<&str>,
        platform_admin: Option<bool>,
    ) -> Result<(), StorageError> {
        let done = sqlx::query(
            "UPDATE console_users SET password_hash = COALESCE(?, password_hash), \
             platform_admin = COALESCE(?, platform_admin) WHERE name = ?",
        )
        .bind(password_hash)
        .bind(platform_admin)
        .bind(name)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn set_user_roles(
        &self,
        name: &str,
        roles: &[(TenantId, String)],
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM console_users WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let id = id.ok_or(StorageError::NotFound)?;
        sqlx::query("DELETE FROM console_user_roles WHERE user_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for (tenant, role) in roles {
            sqlx::query(
                "INSERT INTO console_user_roles (user_id, tenant_id, role_id) \
                 SELECT ?, id, ? FROM tenants WHERE id = ? ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(role)
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, name: &str) -> Result<(), StorageError> {
        let done = sqlx::query("DELETE FROM console_users WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn insert_session(
        &self,
        token_hash: &[u8],
        user_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let done = sqlx::query(
            "INSERT INTO console_sessions (token_hash, user_id, created_at, last_seen_at) \
             SELECT ?, id, ?, ? FROM console_users WHERE name = ?",
        )
        .bind(token_hash)
        .bind(now)
        .bind(now)
        .bind(user_name)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn get_session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StorageError> {
        let row = sqlx::query(
            "SELECT u.name, s.created_at, s.last_seen_at FROM console_sessions s \
             JOIN console_users u ON u.id = s.user_id WHERE s.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SessionRecord {
                user_name: row.try_get("name")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
            })
        })
        .transpose()
    }

    async fn touch_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE console_sessions SET last_seen_at = ? WHERE token_hash = ?")
            .bind(now)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user_name: &str) -> Result<(), StorageError> {
        sqlx::query(
            "DELETE FROM console_sessions WHERE user_id IN \
             (SELECT id FROM console_users WHERE name = ?)",
        )
        .bind(user_name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_idle_sessions(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE last_seen_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn insert_reveal(
        &self,
        id: &str,
        session_hash: &[u8],
        sealed: &[u8],
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM console_reveals WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO console_reveals (id, session_hash, sealed, expires_at) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(session_hash)
            .bind(sealed)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(on_missing_session)?;
        Ok(())
    }

    async fn take_reveal(
        &self,
        id: &str,
        session_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        sqlx::query("DELETE FROM console_reveals WHERE expires_at < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        // One statement: the first take wins, and an expired value is never taken.
        let sealed = sqlx::query_scalar(
            "DELETE FROM console_reveals WHERE id = ? AND session_hash = ? \
             AND expires_at >= ? RETURNING sealed",
        )
        .bind(id)
        .bind(session_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(sealed)
    }
}

/// A reveal whose session is gone (foreign key) is `NotFound`.
fn on_missing_session(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StorageError::NotFound,
        _ => e.into(),
    }
}
