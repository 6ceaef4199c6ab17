//! PostgreSQL implementation of [`super::Storage`], for deployments that run several
//! instances against one database. It owns the PostgreSQL SQL, the pool and the
//! migrations in `migrations/postgres`; record conversions are shared with
//! SQLite through [`super::rows`].
//!
//! Why the limits hold under concurrency: every insert that counts against a
//! limit first runs `UPDATE parent SET count = count + 1 WHERE … AND count < max`.
//! Under READ COMMITTED that `UPDATE` row-locks the parent; a concurrent one
//! waits for the lock, then re-checks its `WHERE` against the committed row, so
//! once the last slot is taken every waiter updates nothing and reports
//! `LimitReached`. The same lock makes `next_secret_id` hand out each id once.
//!
//! Deadlocks are avoided by taking row locks in one order, parent before child
//! (tenant, client, secret), as the cascading deletes do: `delete_client` locks
//! its tenant first and `revoke_secret` its client first.
//!
//! Layout: this file opens the pool and instantiates the `Storage` impl shared
//! by both dialects ([`super::delegate`]), which hands the pool to one file per
//! resource: `tenants`, `clients`, `secrets`, `credentials` (the token endpoint's
//! reads), `lists` (filtered secret lists), `journal` (audit entries and the event
//! outbox); `notify` + `queue` implement [`super::NotifyStore`]; `listen` announces
//! credential changes to the other nodes and listens for theirs (`cached` mode);
//! `failures` counts failed authentications for every node and announces them.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

use super::rows::{self};
use super::{
    ClientCredentials, ClientRecord, Paged, RefusedPresentations, SecretRecord, StorageError,
    TenantRecord,
};
use crate::domain::ids::{ClientId, SecretId, TenantId};
use crate::domain::policy::{ClientPolicy, TenantPolicy};

mod clients;
mod credentials;
mod failures;
mod journal;
mod leaks;
pub mod listen;
mod lists;
mod notify;
mod queue;
mod readers;
mod refusals;
mod secrets;
mod tenants;

pub struct PostgresStorage {
    pub(crate) pool: PgPool,
    /// The token path's own connections (see [`readers`]).
    readers: readers::Readers,
    /// Failed authentications announced by every node (see [`failures`]).
    failures: failures::Feed,
    breaker: super::breaker::Breaker,
}

/// `database NAME on HOST:PORT as USER` (or the socket path): which server a message
/// means, without the password.
fn server_of(options: &PgConnectOptions) -> String {
    let at = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let database = options.get_database().unwrap_or(options.get_username());
    format!("{database:?} on {at} as user {:?}", options.get_username())
}

/// Why the pool could not connect. The pool retries until its timeout and then
/// reports only "timed out", so a refused connection, a failed name lookup or a
/// rejected password is learned from one direct attempt.
async fn cannot_connect(options: &PgConnectOptions, e: sqlx::Error) -> StorageError {
    use sqlx::ConnectOptions;
    let cause = match e {
        sqlx::Error::PoolTimedOut => {
            match tokio::time::timeout(Duration::from_secs(5), options.connect()).await {
                Ok(Err(cause)) => cause.to_string(),
                Ok(Ok(_)) => "no connection within 3 s (the server accepts one now: retry)".into(),
                Err(_) => "the server did not answer within 8 s".into(),
            }
        }
        other => other.to_string(),
    };
    StorageError::CannotOpen(format!(
        "cannot connect to the PostgreSQL database {}: {cause}",
        server_of(options)
    ))
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://…`) and migrates it. A failure
    /// names the server (host and port, never the password) and the cause.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StorageError::CannotOpen(format!("the PostgreSQL URL is not valid: {e}"))
        })?;
        let pool = match PgPoolOptions::new()
            .max_connections(16)
            // Short: a request waits this long for a connection only until the
            // breaker (storage/breaker.rs) learns the database is unreachable.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            Err(e) => return Err(cannot_connect(&options, e).await),
        };
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| {
                StorageError::CannotOpen(format!(
                    "cannot migrate the PostgreSQL database {}: {e}",
                    server_of(&options)
                ))
            })?;
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
            readers: readers::Readers::new(options.clone()),
            failures: failures::Feed::new(options),
            breaker,
        })
    }

    /// The token path's read, on its own connections.
    async fn read_credentials(
        &self,
        tenant: &TenantId,
        client: &ClientId,
    ) -> Result<Option<Arc<ClientCredentials>>, StorageError> {
        self.readers.load_credentials(tenant, client).await
    }

    /// The token path's read with the shared failures of `failure_key`, in one round trip.
    async fn read_credentials_and_failures(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        failure_key: &str,
    ) -> Result<
        (
            Option<Arc<ClientCredentials>>,
            Option<super::failures::KeyFailures>,
        ),
        StorageError,
    > {
        self.readers
            .load_credentials_and_failures(tenant, client, failure_key)
            .await
    }

    /// One failure counted in the table every node shares.
    async fn record_shared_failure(
        &self,
        limits: &[super::failures::FailureLimit],
        window: Duration,
    ) -> Result<Option<super::failures::FailureVerdict>, StorageError> {
        failures::record(&self.pool, limits, window).await.map(Some)
    }

    fn shared_failure_feed(
        &self,
    ) -> Option<tokio::sync::broadcast::Receiver<super::failures::KeyFailures>> {
        Some(self.failures.subscribe())
    }
}

fn tenant_from_row(row: &PgRow) -> Result<TenantRecord, StorageError> {
    Ok(TenantRecord {
        id: TenantId::from(row.try_get::<uuid::Uuid, _>("id")?),
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

fn client_from_row(row: &PgRow) -> Result<ClientRecord, StorageError> {
    let id: &str = row.try_get("id")?;
    Ok(ClientRecord {
        pk: row.try_get("pk")?,
        tenant_id: TenantId::from(row.try_get::<uuid::Uuid, _>("tenant_id")?),
        id: ClientId::parse(id).map_err(|e| StorageError::Corrupt(format!("clients.id: {e}")))?,
        kind: rows::parse_kind(row.try_get("kind")?)?,
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

fn secret_from_row(row: &PgRow) -> Result<SecretRecord, StorageError> {
    Ok(SecretRecord {
        id: SecretId(row.try_get("id")?),
        description: row.try_get("description")?,
        expiration: row.try_get("expiration")?,
        hash: rows::stored_hash(
            row.try_get("hash_kind")?,
            row.try_get("hash")?,
            row.try_get("credential")?,
        )?,
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

fn paged<T>(
    found: &[PgRow],
    total: i64,
    convert: fn(&PgRow) -> Result<T, StorageError>,
) -> Result<Paged<T>, StorageError> {
    Ok(Paged {
        items: found.iter().map(convert).collect::<Result<_, _>>()?,
        total: total.unsigned_abs(),
    })
}

super::delegate::storage_impl!(PostgresStorage);
