//! SQLite implementation of [`super::Storage`]: the embedded default.
//!
//! WAL journal with `synchronous = FULL`, so an acknowledged write survives a
//! power cut; foreign keys on (cascading deletes); a busy timeout so concurrent
//! writers queue instead of failing. A new database file is created 0600 (like
//! the master key file), and SQLite gives its `-wal` and `-shm` files the main
//! file's mode. Every multi-statement change starts with a
//! write, which takes SQLite's single write lock at once, so the conditional
//! counter updates serialise concurrent inserts.
//!
//! Every write runs in a sqlx `Transaction`: it answers only after its COMMIT
//! succeeded, and otherwise is rolled back. SQLite itself rolls a transaction
//! back on some errors (`SQLITE_FULL`, `SQLITE_IOERR`, …), after which sqlx's
//! own ROLLBACK fails and its count of open transactions stays at one: the next
//! `begin` on that connection would issue a SAVEPOINT, and a later failure could
//! leave the connection inside a transaction that never commits (writes
//! acknowledged, then lost; the write lock held). So a connection goes back to
//! the pool only when both sqlx and SQLite say it is outside any transaction
//! ([`outside_transaction`]); otherwise it is closed, which rolls back, and the
//! pool opens a fresh one. Hence the server recovers by itself once the disk has
//! room again (or the file is writable again).
//!
//! One process per database file: [`lock`] holds `PATH.lock` for the life of the
//! process, since the process caches credentials.
//!
//! `LATCHKEY_SQLITE_MAX_PAGE_COUNT` (a test and operations knob, unset by
//! default): `PRAGMA max_page_count` on every connection, i.e. a size cap on the
//! database file, past which writes fail as on a full disk.
//!
//! Layout: this file opens the pool and instantiates the `Storage` impl shared
//! by both dialects ([`super::delegate`]), which hands the pool to one file per
//! resource: `tenants`, `clients`, `secrets`, `credentials` (the token endpoint's
//! reads), `lists` (filtered secret lists), `journal` (audit entries and the event
//! outbox); `notify` + `queue` implement [`super::NotifyStore`].

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, Row, SqlitePool};

use super::rows::{self};
use super::{ClientRecord, RefusedPresentations, SecretRecord, StorageError, TenantRecord};
use crate::domain::ids::{ClientId, SecretId, TenantId};
use crate::domain::policy::{ClientPolicy, TenantPolicy};

mod clients;
pub mod copies;
mod credentials;
mod journal;
mod leaks;
mod lists;
mod lock;
mod notify;
mod queue;
mod refusals;
mod secrets;
mod tenants;

/// SQLite's page cache per connection, in KiB (`PRAGMA cache_size` takes it
/// negative). Each of the pool's connections keeps its own, so SQLite's default
/// (2000 KiB) let a large database add 16 MiB of resident memory; the token path
/// reads credentials from memory, and the other pages are one read away in the
/// operating system's cache.
const PAGE_CACHE_KIB: u32 = 512;

/// The environment variable capping the database size in pages (see the module doc).
pub const MAX_PAGE_COUNT_VAR: &str = "LATCHKEY_SQLITE_MAX_PAGE_COUNT";

pub struct SqliteStorage {
    pub(crate) pool: SqlitePool,
    /// Held while the storage lives: no other process opens this file meanwhile.
    _lock: Option<lock::DatabaseLock>,
    breaker: super::breaker::Breaker,
}

impl SqliteStorage {
    /// The token path's read (behind the credentials cache of `storage/cached`).
    async fn read_credentials(
        &self,
        tenant: &crate::domain::ids::TenantId,
        client: &crate::domain::ids::ClientId,
    ) -> Result<Option<std::sync::Arc<crate::storage::ClientCredentials>>, StorageError> {
        credentials::load_credentials(&self.pool, tenant, client).await
    }

    /// One process owns the database: no shared failures to read.
    async fn read_credentials_and_failures(
        &self,
        tenant: &crate::domain::ids::TenantId,
        client: &crate::domain::ids::ClientId,
        _failure_key: &str,
    ) -> Result<
        (
            Option<std::sync::Arc<crate::storage::ClientCredentials>>,
            Option<crate::storage::failures::KeyFailures>,
        ),
        StorageError,
    > {
        Ok((self.read_credentials(tenant, client).await?, None))
    }

    /// One process owns the database: its own limiter is the whole count.
    #[allow(clippy::unused_async)]
    async fn record_shared_failure(
        &self,
        _limits: &[crate::storage::failures::FailureLimit],
        _window: std::time::Duration,
    ) -> Result<Option<crate::storage::failures::FailureVerdict>, StorageError> {
        Ok(None)
    }

    #[allow(clippy::unused_self)]
    fn shared_failure_feed(
        &self,
    ) -> Option<tokio::sync::broadcast::Receiver<crate::storage::failures::KeyFailures>> {
        None
    }

    /// Opens (creating if missing) the database at `url` (`sqlite://path`) and migrates it.
    /// Refuses a database another process holds (see [`lock`]). Every error names
    /// the database file.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?;
        let path = options.get_filename().to_owned();
        let shown = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        if lock::lock_path(&path).is_some()
            && let Some(dir) = shown.parent()
            && !dir.exists()
        {
            return Err(StorageError::CannotOpen(format!(
                "cannot open the SQLite database {}: the directory {} does not exist \
                 (Latchkey creates the database file, not its directory)",
                shown.display(),
                dir.display()
            )));
        }
        Self::open(url, options).await.map_err(|e| match e {
            // Already names the database (another process holds it).
            StorageError::CannotOpen(m) if m.starts_with("the SQLite database") => {
                StorageError::CannotOpen(m)
            }
            e => StorageError::CannotOpen(format!(
                "cannot open the SQLite database {}: {e}",
                shown.display()
            )),
        })
    }

    async fn open(url: &str, options: SqliteConnectOptions) -> Result<Self, StorageError> {
        let mut options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", format!("-{PAGE_CACHE_KIB}"));
        if let Some(pages) = max_page_count()? {
            options = options.pragma("max_page_count", pages.to_string());
        }
        let lock = lock::acquire(options.get_filename())?;
        create_private(url, options.get_filename())?;
        let pool = pool_options(8).connect_with(options).await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let probe = pool.clone();
        let breaker = super::breaker::Breaker::new(move || {
            let pool = probe.clone();
            async move {
                sqlx::query("SELECT 1").execute(&pool).await?;
                Ok(())
            }
        });
        Ok(Self {
            pool,
            _lock: lock,
            breaker,
        })
    }
}

/// The file of a SQLite URL; `None` for an in-memory database.
pub fn database_file(url: &str) -> Option<std::path::PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    lock::lock_path(options.get_filename())?;
    Some(options.get_filename().to_owned())
}

/// The pool: `size` connections, each back in the pool only outside any transaction.
fn pool_options(size: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(size)
        .after_release(|conn, _| Box::pin(outside_transaction(conn)))
}

/// `LATCHKEY_SQLITE_MAX_PAGE_COUNT`, when set: a positive number of pages.
fn max_page_count() -> Result<Option<u32>, StorageError> {
    let Ok(text) = std::env::var(MAX_PAGE_COUNT_VAR) else {
        return Ok(None);
    };
    match text.trim().parse::<u32>() {
        Ok(pages) if pages > 0 => Ok(Some(pages)),
        _ => Err(StorageError::CannotOpen(format!(
            "{MAX_PAGE_COUNT_VAR}: must be a positive number of pages, got {text:?}"
        ))),
    }
}

/// The pool's `after_release` check: `true` (back to the pool) only when the connection
/// is outside any transaction, as sqlx counts and as SQLite says; `false` closes it.
async fn outside_transaction(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    // Runs what is queued first, such as the ROLLBACK of a dropped `Transaction`.
    conn.ping().await?;
    let clean = !conn.is_in_transaction()
        // BEGIN fails inside a transaction; a deferred BEGIN takes no lock.
        && sqlx::raw_sql("BEGIN DEFERRED; ROLLBACK")
            .execute(&mut *conn)
            .await
            .is_ok();
    if !clean {
        tracing::warn!(
            "a SQLite connection was left inside a transaction (its rollback failed): closed"
        );
    }
    Ok(clean)
}

/// Creates the database file with mode 0600 when it does not exist yet, before
/// SQLite would create it with the process umask (usually 0644). In-memory and
/// read-only databases are left alone.
fn create_private(url: &str, path: &Path) -> Result<(), StorageError> {
    let name = path.to_string_lossy();
    if name.is_empty()
        || name == ":memory:"
        || name.starts_with("file:")
        || url.contains("mode=memory")
        || url.contains("mode=ro")
    {
        return Ok(());
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::Database(sqlx::Error::Io(e))),
    }
}

fn tenant_from_row(row: &SqliteRow) -> Result<TenantRecord, StorageError> {
    let id: String = row.try_get("id")?;
    Ok(TenantRecord {
        id: TenantId::parse(&id)
            .ok_or_else(|| StorageError::Corrupt(format!("tenants.id: {id:?}")))?,
        name: row.try_get("name")?,
        policy: TenantPolicy {
            default: rows::policy_from_columns(
                "tenants.policy",
                row.try_get("policy_unit")?,
                row.try_get("policy_duration")?,
            )?,
            max_lifetime: rows::policy_from_columns(
                "tenants.max_lifetime",
                row.try_get("max_lifetime_unit")?,
                row.try_get("max_lifetime_duration")?,
            )?,
            allow_self_rotation: row.try_get("allow_self_rotation")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

fn client_from_row(row: &SqliteRow) -> Result<ClientRecord, StorageError> {
    let tenant: String = row.try_get("tenant_id")?;
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    Ok(ClientRecord {
        pk: row.try_get("pk")?,
        tenant_id: TenantId::parse(&tenant)
            .ok_or_else(|| StorageError::Corrupt(format!("clients.tenant_id: {tenant:?}")))?,
        id: ClientId::parse(&id).map_err(|e| StorageError::Corrupt(format!("clients.id: {e}")))?,
        kind: rows::parse_kind(&kind)?,
        settings: rows::client_settings(
            row.try_get("name")?,
            row.try_get("enabled")?,
            row.try_get("access_token_lifetime")?,
            row.try_get("tags")?,
            row.try_get("role_ids")?,
            row.try_get("hybrid")?,
            row.try_get("allow_self_rotation")?,
        )?,
        policy: ClientPolicy {
            own: rows::policy_from_columns(
                "clients.policy",
                row.try_get("policy_unit")?,
                row.try_get("policy_duration")?,
            )?,
        },
        argon_salt: row.try_get("argon_salt")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn secret_from_row(row: &SqliteRow) -> Result<SecretRecord, StorageError> {
    let kind: String = row.try_get("hash_kind")?;
    Ok(SecretRecord {
        id: SecretId(row.try_get("id")?),
        description: row.try_get("description")?,
        expiration: row.try_get("expiration")?,
        hash: rows::stored_hash(&kind, row.try_get("hash")?, row.try_get("credential")?)?,
        hint: row.try_get("hint")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        previous_hash: rows::optional_hash(
            row.try_get("previous_hash_kind")?,
            row.try_get("previous_hash")?,
            row.try_get("previous_credential")?,
        )?,
        grace_until: row.try_get("grace_until")?,
        revision: row.try_get("revision")?,
        previous_last_used_at: row.try_get("previous_last_used_at")?,
        refused: RefusedPresentations {
            count: row.try_get("refused_count")?,
            last_at: row.try_get("last_refused_at")?,
            last_from: row.try_get("last_refused_from")?,
        },
    })
}

super::delegate::storage_impl!(SqliteStorage);

#[cfg(test)]
mod tests;

#[cfg(test)]
mod memory_tests;
